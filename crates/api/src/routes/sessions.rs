//! `/api/v1/auth`: refresh, logout, password change and the session list.

use actix_web::{web, HttpRequest, HttpResponse};
use platform_auth_domain::{
    ChangePasswordError, EndSessionError, FieldError, LockoutError, LoginError, LogoutError,
    LogoutScope, Password, RefreshError, Session, SessionId,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::client_ip::ClientAddress;
use crate::error::ApiError;
use crate::extract::{client_info, required_string, BearerToken, OptionalJson};
use crate::limits::{check_client_limit, LimitState};
use crate::routes::{rfc3339, AuthBody, AuthState};
use crate::telemetry::record_user;

#[derive(Deserialize, ToSchema)]
pub struct RefreshRequest {
    #[schema(value_type = String, required = true)]
    refresh_token: Option<Value>,
}

#[derive(Deserialize, ToSchema)]
pub struct LogoutRequest {
    /// `current` (the default) or `all`.
    #[schema(value_type = Option<LogoutScopeName>, example = "all")]
    scope: Option<Value>,
}

/// The values `scope` accepts, for the OpenAPI document.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum LogoutScopeName {
    Current,
    All,
}

#[derive(Deserialize, ToSchema)]
pub struct ChangePasswordRequest {
    #[schema(value_type = String, required = true)]
    current_password: Option<Value>,
    #[schema(value_type = String, required = true, min_length = 8, max_length = 256)]
    new_password: Option<Value>,
}

/// One entry of the session list.
#[derive(Debug, Serialize, ToSchema)]
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

/// The caller's live sessions, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionListBody {
    pub sessions: Vec<SessionBody>,
}

/// Exchanges a refresh token for a new token pair. An access token sent
/// along, even an expired one, must belong to the same user.
#[utoipa::path(
    post, path = "/api/v1/auth/refresh", tag = "sessions",
    request_body = RefreshRequest,
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "A new token pair; the old refresh token is retired.", body = AuthBody),
        (status = 401, description = "Unknown, expired, reused or mismatched refresh token, or an invalid access token sent along.", body = crate::error::ErrorBody),
        (status = 400, description = "The body is not valid JSON.", body = crate::error::ErrorBody),
        (status = 413, description = "The body is over 4 KiB.", body = crate::error::ErrorBody),
        (status = 415, description = "The Content-Type is not JSON.", body = crate::error::ErrorBody),
        (status = 422, description = "Invalid fields, listed in `errors`.", body = crate::error::ErrorBody),
        (status = 500, description = "Unexpected failure; the cause is logged.", body = crate::error::ErrorBody),
    )
)]
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
#[utoipa::path(
    post, path = "/api/v1/auth/logout", tag = "sessions",
    request_body(content = Option<LogoutRequest>, description = "Optional; without it the current session ends."),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The session, or every session, has ended."),
        (status = 400, description = "Invalid JSON, or `current` with a token that has no session.", body = crate::error::ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token, or ended session.", body = crate::error::ErrorBody, headers(("WWW-Authenticate" = String, description = "Bearer challenge"))),
        (status = 413, description = "The body is over 4 KiB.", body = crate::error::ErrorBody),
        (status = 415, description = "The Content-Type is not JSON.", body = crate::error::ErrorBody),
        (status = 422, description = "Invalid fields, listed in `errors`.", body = crate::error::ErrorBody),
        (status = 500, description = "Unexpected failure; the cause is logged.", body = crate::error::ErrorBody),
    )
)]
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
#[utoipa::path(
    post, path = "/api/v1/auth/password", tag = "sessions",
    request_body = ChangePasswordRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Password changed; every other session ended; a new pair.", body = AuthBody),
        (status = 401, description = "Missing, invalid or expired access token, or ended session.", body = crate::error::ErrorBody, headers(("WWW-Authenticate" = String, description = "Bearer challenge"))),
        (status = 403, description = "The current password is wrong.", body = crate::error::ErrorBody),
        (status = 429, description = "Too many attempts from this client, or the account is locked.", body = crate::error::ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
        (status = 503, description = "Too many password hashes in progress.", body = crate::error::ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
        (status = 400, description = "The body is not valid JSON.", body = crate::error::ErrorBody),
        (status = 413, description = "The body is over 4 KiB.", body = crate::error::ErrorBody),
        (status = 415, description = "The Content-Type is not JSON.", body = crate::error::ErrorBody),
        (status = 422, description = "Invalid fields, listed in `errors`.", body = crate::error::ErrorBody),
        (status = 500, description = "Unexpected failure; the cause is logged.", body = crate::error::ErrorBody),
    )
)]
pub async fn change_password(
    state: web::Data<AuthState>,
    limits: web::Data<LimitState>,
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
    // The current password is guessable like a login's, so the same
    // per-client limit and account lockout apply.
    check_client_limit(&limits.limits.login_per_client, ClientAddress::of(&request)).await?;
    let client = client_info(&request);
    let service = state.service.clone();
    let lockout = limits.limits.lockout.clone();

    let authenticated = limits
        .hash_gate
        .run(move || {
            let principal = service.authenticate(token.0.expose())?;
            let email = principal.user.email.as_str().to_string();
            let guarded = lockout.guard(&email, || {
                match service.change_password(&principal, &current, &new, &client) {
                    Err(ChangePasswordError::InvalidCurrentPassword) => {
                        Err(LoginError::InvalidCredentials)
                    }
                    Err(ChangePasswordError::Unexpected(error)) => {
                        Err(LoginError::Unexpected(error))
                    }
                    other => Ok(other),
                }
            });
            match guarded {
                Ok(Ok(authenticated)) => Ok(authenticated),
                Ok(Err(ChangePasswordError::WeakPassword(error))) => {
                    Err(ApiError::Validation(vec![FieldError::new(
                        "new_password",
                        error.code(),
                        error.to_string(),
                    )]))
                }
                Ok(Err(error)) => Err(ApiError::Internal(error.into())),
                Err(LockoutError::Locked { retry_after }) => {
                    Err(ApiError::AccountLocked { retry_after })
                }
                Err(LockoutError::Login(LoginError::InvalidCredentials)) => {
                    Err(ApiError::InvalidCurrentPassword)
                }
                Err(LockoutError::Login(error)) => Err(ApiError::Internal(error.into())),
            }
        })
        .await??;

    record_user(authenticated.user.id);
    tracing::info!(user.id = %authenticated.user.id, "password changed; other sessions ended");
    Ok(HttpResponse::Ok().json(AuthBody::from(authenticated)))
}

/// Lists the caller's live sessions, newest first.
#[utoipa::path(
    get, path = "/api/v1/auth/sessions", tag = "sessions",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's live sessions.", body = SessionListBody),
        (status = 401, description = "Missing, invalid or expired access token, or ended session.", body = crate::error::ErrorBody, headers(("WWW-Authenticate" = String, description = "Bearer challenge"))),
        (status = 500, description = "Unexpected failure; the cause is logged.", body = crate::error::ErrorBody),
    )
)]
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
#[utoipa::path(
    delete, path = "/api/v1/auth/sessions/{id}", tag = "sessions",
    params(("id" = String, Path, description = "A session id from the session list.")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The session has ended."),
        (status = 401, description = "Missing, invalid or expired access token, or ended session.", body = crate::error::ErrorBody, headers(("WWW-Authenticate" = String, description = "Bearer challenge"))),
        (status = 404, description = "No live session with this id belongs to the caller.", body = crate::error::ErrorBody),
        (status = 500, description = "Unexpected failure; the cause is logged.", body = crate::error::ErrorBody),
    )
)]
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
