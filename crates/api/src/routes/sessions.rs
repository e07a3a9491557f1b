//! `/api/v1/auth`: refresh, logout, password change and the session list.

use actix_web::{web, HttpRequest, HttpResponse};
use platform_auth_domain::{
    ChangePasswordError, EndSessionError, FieldError, LogoutError, LogoutScope, Password,
    RefreshError, Session, SessionId,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ApiError;
use crate::extract::{client_info, required_string, BearerToken, OptionalJson};
use crate::routes::{rfc3339, AuthBody, AuthState};
use crate::telemetry::record_user;

#[derive(Deserialize)]
pub struct RefreshRequest {
    refresh_token: Option<Value>,
}

#[derive(Deserialize)]
pub struct LogoutRequest {
    scope: Option<Value>,
}

#[derive(Deserialize)]
pub struct ChangePasswordRequest {
    current_password: Option<Value>,
    new_password: Option<Value>,
}

/// One entry of the session list.
#[derive(Debug, Serialize)]
pub struct SessionBody {
    pub id: String,
    pub created_at: String,
    pub last_used_at: String,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    /// Whether this is the session of the access token used for the call.
    pub current: bool,
}

impl SessionBody {
    fn new(session: Session, current: Option<SessionId>) -> Self {
        Self {
            id: session.id.to_string(),
            created_at: rfc3339(session.created_at),
            last_used_at: rfc3339(session.last_used_at),
            user_agent: session.client.user_agent,
            ip: session.client.ip,
            current: current == Some(session.id),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct SessionListBody {
    pub sessions: Vec<SessionBody>,
}

/// Exchanges a refresh token for a new token pair. An access token sent
/// along, even an expired one, must belong to the same user.
pub async fn refresh(
    state: web::Data<AuthState>,
    request: HttpRequest,
    body: web::Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let mut errors = Vec::new();
    let Some(refresh_token) =
        required_string(&body.refresh_token, "refresh_token", &mut errors).map(str::to_string)
    else {
        return Err(ApiError::Validation(errors));
    };
    let access_token = BearerToken::optional(&request)?;
    let client = client_info(&request);
    let service = state.service.clone();

    let result = web::block(move || {
        let presented_user = access_token
            .map(|token| service.token_owner_ignoring_expiry(token.0.expose()))
            .transpose()?;
        service
            .refresh(&refresh_token, presented_user, &client)
            .map_err(refresh_error)
    })
    .await?;

    let authenticated = result?;
    Ok(HttpResponse::Ok().json(AuthBody::from(authenticated)))
}

fn refresh_error(error: RefreshError) -> ApiError {
    match error {
        RefreshError::InvalidToken => ApiError::InvalidRefreshToken,
        RefreshError::Expired => ApiError::RefreshTokenExpired,
        RefreshError::Reused => {
            tracing::warn!("refresh token reused after its rotation; session ended");
            ApiError::RefreshTokenReused
        }
        RefreshError::SessionEnded => ApiError::RefreshSessionEnded,
        RefreshError::UserMismatch => ApiError::RefreshTokenMismatch,
        RefreshError::Unexpected(error) => ApiError::Internal(error),
    }
}

/// Ends the current session, or every session with `{"scope": "all"}`.
pub async fn logout(
    state: web::Data<AuthState>,
    request: HttpRequest,
    token: BearerToken,
    body: OptionalJson<LogoutRequest>,
) -> Result<HttpResponse, ApiError> {
    let scope = logout_scope(body.0)?;
    let client = client_info(&request);
    let service = state.service.clone();

    let principal = web::block(move || {
        let principal = service.authenticate(token.0.expose())?;
        service
            .logout(&principal, scope, &client)
            .map_err(|error| match error {
                LogoutError::NoSession => ApiError::NoSession,
                LogoutError::Unexpected(error) => ApiError::Internal(error),
            })?;
        Ok::<_, ApiError>(principal)
    })
    .await??;

    record_user(principal.user.id);
    tracing::info!(user.id = %principal.user.id, scope = ?scope, "user logged out");
    Ok(HttpResponse::NoContent().finish())
}

fn logout_scope(body: Option<LogoutRequest>) -> Result<LogoutScope, ApiError> {
    let scope = body.and_then(|body| body.scope);
    match scope {
        None | Some(Value::Null) => Ok(LogoutScope::Current),
        Some(Value::String(scope)) if scope == "current" => Ok(LogoutScope::Current),
        Some(Value::String(scope)) if scope == "all" => Ok(LogoutScope::All),
        Some(_) => Err(ApiError::Validation(vec![FieldError::new(
            "scope",
            "invalid_choice",
            "Scope must be \"current\" or \"all\".",
        )])),
    }
}

/// Replaces the password, ends every session and returns a new token pair.
pub async fn change_password(
    state: web::Data<AuthState>,
    request: HttpRequest,
    token: BearerToken,
    body: web::Json<ChangePasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let mut errors = Vec::new();
    let current = required_string(&body.current_password, "current_password", &mut errors);
    let new = required_string(&body.new_password, "new_password", &mut errors);
    let (Some(current), Some(new)) = (current, new) else {
        return Err(ApiError::Validation(errors));
    };
    let current = Password::new(current.to_string());
    let new = Password::new(new.to_string());
    if let Err(error) = state.service.password_policy().check_length(&current) {
        return Err(ApiError::Validation(vec![FieldError::new(
            "current_password",
            error.code(),
            error.to_string(),
        )]));
    }
    let client = client_info(&request);
    let service = state.service.clone();

    let authenticated = web::block(move || {
        let principal = service.authenticate(token.0.expose())?;
        service
            .change_password(&principal, &current, &new, &client)
            .map_err(|error| match error {
                ChangePasswordError::InvalidCurrentPassword => ApiError::InvalidCurrentPassword,
                ChangePasswordError::WeakPassword(error) => {
                    ApiError::Validation(vec![FieldError::new(
                        "new_password",
                        error.code(),
                        error.to_string(),
                    )])
                }
                ChangePasswordError::Unexpected(error) => ApiError::Internal(error),
            })
    })
    .await??;

    record_user(authenticated.user.id);
    tracing::info!(user.id = %authenticated.user.id, "password changed; other sessions ended");
    Ok(HttpResponse::Ok().json(AuthBody::from(authenticated)))
}

/// Lists the caller's live sessions, newest first.
pub async fn list_sessions(
    state: web::Data<AuthState>,
    token: BearerToken,
) -> Result<HttpResponse, ApiError> {
    let service = state.service.clone();

    let (sessions, current) = web::block(move || {
        let principal = service.authenticate(token.0.expose())?;
        let sessions = service
            .list_sessions(&principal)
            .map_err(ApiError::Internal)?;
        Ok::<_, ApiError>((sessions, principal.session_id))
    })
    .await??;

    let sessions = sessions
        .into_iter()
        .map(|session| SessionBody::new(session, current))
        .collect();
    Ok(HttpResponse::Ok().json(SessionListBody { sessions }))
}

/// Ends one of the caller's sessions. Ids of other users' sessions get the
/// same 404 as ids that do not exist.
pub async fn end_session(
    state: web::Data<AuthState>,
    request: HttpRequest,
    token: BearerToken,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let session_id: Option<SessionId> = path.into_inner().parse().ok();
    let client = client_info(&request);
    let service = state.service.clone();

    web::block(move || {
        let principal = service.authenticate(token.0.expose())?;
        let session_id = session_id.ok_or(ApiError::SessionNotFound)?;
        service
            .end_session(&principal, session_id, &client)
            .map_err(|error| match error {
                EndSessionError::NotFound => ApiError::SessionNotFound,
                EndSessionError::Unexpected(error) => ApiError::Internal(error),
            })
    })
    .await??;

    Ok(HttpResponse::NoContent().finish())
}
