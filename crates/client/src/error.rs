//! The errors of [`PlatformClient`](crate::PlatformClient) calls, one
//! variant per case a caller handles differently.

use std::time::Duration;

use reqwest::StatusCode;
use serde::Deserialize;

/// A failed call.
///
/// Every variant built from an error response keeps the server's `detail`
/// sentence and its snake_case `code`, and `Display` prints the detail.
///
/// ```
/// use std::time::Duration;
/// use platform_auth_client::Error;
///
/// fn advice(error: &Error) -> String {
///     match error {
///         Error::InvalidCredentials { .. } => "Check the email and password.".into(),
///         Error::EmailTaken { .. } => "Log in instead.".into(),
///         Error::Validation { errors, .. } => {
///             let fields: Vec<&str> = errors.iter().map(|error| error.field.as_str()).collect();
///             format!("Fix these fields: {}", fields.join(", "))
///         }
///         Error::RateLimited { retry_after, .. } => {
///             format!("Wait {} s.", retry_after.unwrap_or_default().as_secs())
///         }
///         Error::Unauthorized { code, .. } if code == "token_expired" => "Log in again.".into(),
///         Error::Forbidden { detail, .. } => detail.clone(),
///         other if other.requires_login() => "Log in again.".into(),
///         other => other.to_string(),
///     }
/// }
///
/// let error = Error::RateLimited {
///     detail: "Too many attempts; try again later.".into(),
///     code: "rate_limited".into(),
///     retry_after: Some(Duration::from_secs(30)),
/// };
/// assert_eq!(advice(&error), "Wait 30 s.");
/// assert_eq!(error.code(), Some("rate_limited"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// 401 from login: the email is unknown or the password is wrong.
    #[error("{detail}")]
    InvalidCredentials {
        /// The server's sentence.
        detail: String,
        /// `invalid_credentials`.
        code: String,
    },

    /// 409 from register: an account with this email exists.
    #[error("{detail}")]
    EmailTaken {
        /// The server's sentence.
        detail: String,
        /// `email_taken`.
        code: String,
    },

    /// 422: the request had invalid fields.
    #[error("{detail}")]
    Validation {
        /// The server's sentence.
        detail: String,
        /// `validation_failed`, or `invalid_body` for a body that is not a
        /// JSON object.
        code: String,
        /// One entry per invalid field, in the server's order.
        errors: Vec<FieldError>,
    },

    /// 429: too many requests, or too many failed logins for one account.
    #[error("{detail}")]
    RateLimited {
        /// The server's sentence.
        detail: String,
        /// `rate_limited` or `account_locked`.
        code: String,
        /// The `Retry-After` header, when the server sent it in seconds.
        retry_after: Option<Duration>,
    },

    /// 401 from a call that sends the access token: it was missing,
    /// invalid or expired, or its session has ended.
    #[error("{detail}")]
    Unauthorized {
        /// The server's sentence.
        detail: String,
        /// `missing_token`, `invalid_token`, `token_expired` or
        /// `session_ended`.
        code: String,
    },

    /// 401 from a refresh: the server no longer exchanges the refresh
    /// token, so only a new login gives this session tokens again. The
    /// client drops the refresh token from the session when it gets this
    /// error.
    #[error("{detail}")]
    RefreshTokenRejected {
        /// The server's sentence.
        detail: String,
        /// `invalid_refresh_token` (unknown token),
        /// `refresh_token_expired` (past the session's lifetime or idle
        /// timeout), `refresh_token_reused` (a retired token was presented,
        /// so the server ended the session), `session_ended` (the session
        /// was logged out or ended) or `refresh_token_mismatch` (the access
        /// token sent along belongs to another user).
        code: String,
    },

    /// A refresh was requested, but the session has no refresh token:
    /// nothing has logged in, the session logged out, or the server
    /// rejected the last one. No request was sent.
    #[error(
        "no refresh token is stored in this session; log in, or restore one with set_refresh_token"
    )]
    NoRefreshToken,

    /// 403: the server rejected the request for this account.
    #[error("{detail}")]
    Forbidden {
        /// The server's sentence.
        detail: String,
        /// `invalid_current_password` from a password change, or
        /// `account_disabled` from a login.
        code: String,
    },

    /// 404 for something the call names that does not exist for the caller,
    /// such as the id given to
    /// [`end_session`](crate::PlatformClient::end_session). A 404 for an
    /// unknown route, as a wrong base URL gets, is [`Error::Server`].
    #[error("{detail}")]
    NotFound {
        /// The server's sentence.
        detail: String,
        /// `session_not_found`.
        code: String,
    },

    /// Any other error response, such as a 500, a 503 after the last retry
    /// (`overloaded` when password hashing is saturated), a 400
    /// `no_session` from [`logout`](crate::PlatformClient::logout), or a 404
    /// from a wrong base URL.
    #[error("server returned {status}: {detail}")]
    Server {
        /// The response status.
        status: StatusCode,
        /// The server's sentence, or the status's reason phrase when the
        /// body had none.
        detail: String,
        /// The server's `code`, when the body had one.
        code: Option<String>,
        /// The `Retry-After` header, when the server sent it in seconds.
        retry_after: Option<Duration>,
    },

    /// The request got no response: the connection failed or timed out.
    #[error("request failed: {0}")]
    Transport(#[source] reqwest::Error),

    /// A success response whose body is not the JSON the API documents.
    #[error("response with status {status} has an unexpected body: {source}")]
    InvalidResponse {
        /// The response status.
        status: StatusCode,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
}

/// One invalid field of a 422 response.
///
/// ```
/// let error: platform_auth_client::FieldError = serde_json::from_str(
///     r#"{"field": "email", "code": "invalid_email", "detail": "Enter a valid email address."}"#,
/// ).unwrap();
/// assert_eq!(error.field, "email");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FieldError {
    /// The request field, for example `email`.
    pub field: String,
    /// The stable reason, for example `required`.
    pub code: String,
    /// The sentence to show next to the field.
    pub detail: String,
}

impl Error {
    /// Returns the server's `code`, when the error came from a response
    /// that had one.
    ///
    /// ```
    /// let error = platform_auth_client::Error::EmailTaken {
    ///     detail: "An account with this email already exists.".into(),
    ///     code: "email_taken".into(),
    /// };
    /// assert_eq!(error.code(), Some("email_taken"));
    /// ```
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::InvalidCredentials { code, .. }
            | Self::EmailTaken { code, .. }
            | Self::Validation { code, .. }
            | Self::RateLimited { code, .. }
            | Self::Unauthorized { code, .. }
            | Self::RefreshTokenRejected { code, .. }
            | Self::Forbidden { code, .. }
            | Self::NotFound { code, .. } => Some(code),
            Self::Server { code, .. } => code.as_deref(),
            Self::NoRefreshToken | Self::Transport(_) | Self::InvalidResponse { .. } => None,
        }
    }

    /// Returns the server's `detail` sentence, when the error came from an
    /// error response.
    ///
    /// ```
    /// let error = platform_auth_client::Error::InvalidCredentials {
    ///     detail: "Invalid email or password.".into(),
    ///     code: "invalid_credentials".into(),
    /// };
    /// assert_eq!(error.detail(), Some("Invalid email or password."));
    /// ```
    pub fn detail(&self) -> Option<&str> {
        match self {
            Self::InvalidCredentials { detail, .. }
            | Self::EmailTaken { detail, .. }
            | Self::Validation { detail, .. }
            | Self::RateLimited { detail, .. }
            | Self::Unauthorized { detail, .. }
            | Self::RefreshTokenRejected { detail, .. }
            | Self::Forbidden { detail, .. }
            | Self::NotFound { detail, .. }
            | Self::Server { detail, .. } => Some(detail),
            Self::NoRefreshToken | Self::Transport(_) | Self::InvalidResponse { .. } => None,
        }
    }

    /// Returns the response status, when there was a response.
    ///
    /// ```
    /// use platform_auth_client::{reqwest::StatusCode, Error};
    ///
    /// let error = Error::Unauthorized {
    ///     detail: "The token has expired; log in again.".into(),
    ///     code: "token_expired".into(),
    /// };
    /// assert_eq!(error.status(), Some(StatusCode::UNAUTHORIZED));
    /// ```
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::InvalidCredentials { .. }
            | Self::Unauthorized { .. }
            | Self::RefreshTokenRejected { .. } => Some(StatusCode::UNAUTHORIZED),
            Self::Forbidden { .. } => Some(StatusCode::FORBIDDEN),
            Self::NotFound { .. } => Some(StatusCode::NOT_FOUND),
            Self::EmailTaken { .. } => Some(StatusCode::CONFLICT),
            Self::Validation { .. } => Some(StatusCode::UNPROCESSABLE_ENTITY),
            Self::RateLimited { .. } => Some(StatusCode::TOO_MANY_REQUESTS),
            Self::Server { status, .. } | Self::InvalidResponse { status, .. } => Some(*status),
            Self::NoRefreshToken | Self::Transport(_) => None,
        }
    }

    /// Returns the wait the server asked for in `Retry-After`, when it
    /// sent one in seconds.
    ///
    /// ```
    /// use std::time::Duration;
    /// use platform_auth_client::{reqwest::StatusCode, Error};
    ///
    /// let error = Error::Server {
    ///     status: StatusCode::SERVICE_UNAVAILABLE,
    ///     detail: "The server is overloaded; try again later.".into(),
    ///     code: Some("overloaded".into()),
    ///     retry_after: Some(Duration::from_secs(2)),
    /// };
    /// assert_eq!(error.retry_after(), Some(Duration::from_secs(2)));
    /// ```
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } | Self::Server { retry_after, .. } => {
                *retry_after
            }
            _ => None,
        }
    }

    /// Returns whether only a new login can give the session working
    /// tokens again: the access token was rejected and no refresh could
    /// replace it ([`Error::Unauthorized`]), the refresh token was rejected
    /// ([`Error::RefreshTokenRejected`]), or there was none to send
    /// ([`Error::NoRefreshToken`]).
    ///
    /// ```
    /// let error = platform_auth_client::Error::RefreshTokenRejected {
    ///     detail: "The session has expired; log in again.".into(),
    ///     code: "refresh_token_expired".into(),
    /// };
    /// assert!(error.requires_login());
    /// assert!(!platform_auth_client::Error::Forbidden {
    ///     detail: "The current password is wrong.".into(),
    ///     code: "invalid_current_password".into(),
    /// }
    /// .requires_login());
    /// ```
    pub fn requires_login(&self) -> bool {
        matches!(
            self,
            Self::Unauthorized { .. } | Self::RefreshTokenRejected { .. } | Self::NoRefreshToken
        )
    }

    /// Returns whether the request timed out.
    ///
    /// ```
    /// let error = platform_auth_client::Error::EmailTaken {
    ///     detail: "An account with this email already exists.".into(),
    ///     code: "email_taken".into(),
    /// };
    /// assert!(!error.is_timeout());
    /// ```
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Transport(error) if error.is_timeout())
    }
}

/// A [`PlatformClientBuilder::build`](crate::PlatformClientBuilder::build)
/// failure.
///
/// ```
/// use platform_auth_client::{BuildError, PlatformClient};
///
/// let error = PlatformClient::new("localhost:8000").unwrap_err();
/// assert!(matches!(error, BuildError::InvalidBaseUrl { .. }));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The base URL does not parse or is not `http` or `https`.
    #[error("invalid base URL {url:?}: {reason}; use a URL such as http://127.0.0.1:8000")]
    InvalidBaseUrl {
        /// The URL as given.
        url: String,
        /// The problem with the URL.
        reason: String,
    },

    /// The HTTP client could not be created, for example because the TLS
    /// backend failed to load.
    #[error("failed to create the HTTP client: {0}")]
    Http(#[source] reqwest::Error),
}
