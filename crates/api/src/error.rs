//! The one JSON error envelope of the API:
//! `{"detail": "<sentence>", "code": "<snake_case>"}`, plus `errors` with
//! one entry per invalid field on 422.

use std::time::Duration;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use platform_auth_domain::{CurrentUserError, FieldError};
use serde::Serialize;
use utoipa::ToSchema;

/// The realm named in `WWW-Authenticate` challenges.
const REALM: &str = "platform-auth";

/// Every way a request can fail, with its status code and stable `code`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("One or more fields are invalid.")]
    Validation(Vec<FieldError>),
    #[error("Request body is not valid JSON: {0}")]
    InvalidJson(String),
    #[error("Request body must be a JSON object.")]
    NotAnObject,
    #[error("Content-Type must be application/json.")]
    UnsupportedMediaType,
    #[error("Request body is larger than the {limit}-byte limit.")]
    PayloadTooLarge { limit: usize },
    #[error("Request body could not be read.")]
    UnreadableBody,
    #[error("Invalid email or password.")]
    InvalidCredentials,
    #[error("This account is disabled; contact an administrator.")]
    AccountDisabled,
    #[error("{0}")]
    MissingToken(&'static str),
    #[error("{0}")]
    InvalidToken(&'static str),
    #[error("The token has expired; log in again.")]
    TokenExpired,
    #[error("An account with this email already exists.")]
    EmailTaken,
    #[error("The token's session has ended; log in again.")]
    SessionEnded,
    #[error("The token's user no longer exists or has signed out of all sessions; log in again.")]
    UserGone,
    #[error("The refresh token is not valid; log in again.")]
    InvalidRefreshToken,
    #[error("The session has expired; log in again.")]
    RefreshTokenExpired,
    #[error("The refresh token was already used, so the session has been ended to protect the account; log in again.")]
    RefreshTokenReused,
    #[error("The refresh token's session has ended; log in again.")]
    RefreshSessionEnded,
    #[error("The refresh token belongs to another user than the access token sent with it.")]
    RefreshTokenMismatch,
    #[error("This token belongs to no session; send {{\"scope\": \"all\"}} to end every session.")]
    NoSession,
    #[error("The current password is wrong.")]
    InvalidCurrentPassword,
    #[error("No session with this id exists for the current user.")]
    SessionNotFound,
    #[error("No route matches this path.")]
    NotFound,
    #[error("Method not allowed; this route accepts {0}.")]
    MethodNotAllowed(&'static str),
    #[error("Too many requests from this client; retry after {} seconds.", retry_after.as_secs())]
    RateLimited { retry_after: Duration },
    #[error("Too many failed logins for this account; retry after {} seconds.", retry_after.as_secs())]
    AccountLocked { retry_after: Duration },
    #[error("The server is busy; retry after {} seconds.", retry_after.as_secs())]
    Overloaded { retry_after: Duration },
    /// Logged with its cause chain; the client sees only "internal error".
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation(_) => "validation_failed",
            Self::InvalidJson(_) => "invalid_json",
            Self::NotAnObject => "invalid_body",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::UnreadableBody => "invalid_body",
            Self::InvalidCredentials => "invalid_credentials",
            Self::AccountDisabled => "account_disabled",
            Self::MissingToken(_) => "missing_token",
            Self::InvalidToken(_) => "invalid_token",
            Self::TokenExpired => "token_expired",
            Self::EmailTaken => "email_taken",
            Self::SessionEnded => "session_ended",
            Self::UserGone => "invalid_token",
            Self::InvalidRefreshToken => "invalid_refresh_token",
            Self::RefreshTokenExpired => "refresh_token_expired",
            Self::RefreshTokenReused => "refresh_token_reused",
            Self::RefreshSessionEnded => "session_ended",
            Self::RefreshTokenMismatch => "refresh_token_mismatch",
            Self::NoSession => "no_session",
            Self::InvalidCurrentPassword => "invalid_current_password",
            Self::SessionNotFound => "session_not_found",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed(_) => "method_not_allowed",
            Self::RateLimited { .. } => "rate_limited",
            Self::AccountLocked { .. } => "account_locked",
            Self::Overloaded { .. } => "overloaded",
            Self::Internal(_) => "internal_error",
        }
    }

    /// Builds the `WWW-Authenticate` challenge for token failures (RFC 6750).
    fn challenge(&self) -> Option<String> {
        match self {
            Self::MissingToken(_) => Some(format!("Bearer realm=\"{REALM}\"")),
            Self::InvalidToken(_) | Self::TokenExpired | Self::SessionEnded | Self::UserGone => {
                Some(format!(
                    "Bearer realm=\"{REALM}\", error=\"invalid_token\", error_description=\"{}\"",
                    self.to_string().replace('"', "'")
                ))
            }
            _ => None,
        }
    }

    /// Returns the wait that a `Retry-After` header announces, if any.
    fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after }
            | Self::AccountLocked { retry_after }
            | Self::Overloaded { retry_after } => Some(*retry_after),
            _ => None,
        }
    }
}

impl From<CurrentUserError> for ApiError {
    fn from(error: CurrentUserError) -> Self {
        match error {
            CurrentUserError::TokenExpired => Self::TokenExpired,
            CurrentUserError::InvalidToken => {
                Self::InvalidToken("The token is invalid; log in again to get a new one.")
            }
            CurrentUserError::UserNotFound => Self::UserGone,
            CurrentUserError::SessionEnded => Self::SessionEnded,
            CurrentUserError::Unexpected(error) => Self::Internal(error),
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(error: actix_web::error::BlockingError) -> Self {
        Self::Internal(anyhow::anyhow!("blocking task failed: {error}"))
    }
}

/// The body of every error response.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody<'a> {
    /// A sentence for people: what failed and what to do next.
    #[schema(example = "Invalid email or password.")]
    pub detail: String,
    /// A stable snake_case code for programs.
    #[schema(value_type = String, example = "invalid_credentials")]
    pub code: &'a str,
    /// One entry per invalid field, on 422 `validation_failed` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<FieldErrorBody>>)]
    pub errors: Option<Vec<FieldErrorBody<'a>>>,
}

/// One invalid request field.
#[derive(Serialize, ToSchema)]
pub struct FieldErrorBody<'a> {
    #[schema(value_type = String, example = "password")]
    pub field: &'a str,
    #[schema(value_type = String, example = "too_short")]
    pub code: &'a str,
    #[schema(value_type = String, example = "Password must be at least 8 characters.")]
    pub detail: &'a str,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation(_) | Self::NotAnObject => StatusCode::UNPROCESSABLE_ENTITY,
            Self::InvalidJson(_) | Self::UnreadableBody => StatusCode::BAD_REQUEST,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::InvalidCredentials
            | Self::MissingToken(_)
            | Self::InvalidToken(_)
            | Self::TokenExpired
            | Self::SessionEnded
            | Self::UserGone
            | Self::InvalidRefreshToken
            | Self::RefreshTokenExpired
            | Self::RefreshTokenReused
            | Self::RefreshSessionEnded
            | Self::RefreshTokenMismatch => StatusCode::UNAUTHORIZED,
            Self::NoSession => StatusCode::BAD_REQUEST,
            Self::InvalidCurrentPassword | Self::AccountDisabled => StatusCode::FORBIDDEN,
            Self::SessionNotFound => StatusCode::NOT_FOUND,
            Self::EmailTaken => StatusCode::CONFLICT,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::RateLimited { .. } | Self::AccountLocked { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Overloaded { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(cause) = self {
            // The one place an unexpected error is logged, with its chain.
            tracing::error!(error = format!("{cause:#}"), "request failed");
        }

        let errors = match self {
            Self::Validation(fields) => Some(
                fields
                    .iter()
                    .map(|field| FieldErrorBody {
                        field: field.field,
                        code: field.code,
                        detail: &field.message,
                    })
                    .collect(),
            ),
            _ => None,
        };
        let body = ErrorBody {
            detail: self.to_string(),
            code: self.code(),
            errors,
        };

        let mut response = HttpResponse::build(self.status_code());
        if let Some(challenge) = self.challenge() {
            if let Ok(value) = HeaderValue::from_str(&challenge) {
                response.insert_header((header::WWW_AUTHENTICATE, value));
            }
        }
        if let Self::MethodNotAllowed(allowed) = self {
            response.insert_header((header::ALLOW, *allowed));
        }
        if let Some(retry_after) = self.retry_after() {
            response.insert_header((header::RETRY_AFTER, retry_after.as_secs().max(1)));
        }
        response.json(body)
    }
}
