//! The 401 responses of the extractor, written exactly as the platform-auth
//! server writes them: `{"detail": "<sentence>", "code": "<code>"}` with a
//! `WWW-Authenticate` challenge (RFC 6750).

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

/// The realm the platform-auth server names in its challenges.
const REALM: &str = "platform-auth";

/// The reason a request was not authenticated.
///
/// The `Display` text is the `detail` sentence the client reads, and
/// [`AuthError::code`] is the stable `code`.
///
/// ```
/// use platform_auth_actix::AuthError;
///
/// assert_eq!(AuthError::TokenExpired.code(), "token_expired");
/// assert_eq!(AuthError::TokenExpired.to_string(), "The token has expired; log in again.");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization` header, or one with a scheme other than Bearer.
    #[error("{0}")]
    MissingToken(&'static str),
    /// A malformed header, or a token that failed verification.
    #[error("{0}")]
    InvalidToken(&'static str),
    /// A well-signed token past its `exp`.
    #[error("The token has expired; log in again.")]
    TokenExpired,
    /// No [`TokenVerifier`](crate::TokenVerifier) is registered as app data.
    /// This is a mistake in the service, so the response is a 500.
    #[error("internal error")]
    VerifierNotConfigured,
}

impl AuthError {
    /// Returns the stable snake_case `code` of the error body.
    ///
    /// ```
    /// let error = platform_auth_actix::AuthError::MissingToken("Authorization header is missing.");
    /// assert_eq!(error.code(), "missing_token");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingToken(_) => "missing_token",
            Self::InvalidToken(_) => "invalid_token",
            Self::TokenExpired => "token_expired",
            Self::VerifierNotConfigured => "internal_error",
        }
    }

    fn challenge(&self) -> Option<String> {
        match self {
            Self::MissingToken(_) => Some(format!("Bearer realm=\"{REALM}\"")),
            Self::InvalidToken(_) | Self::TokenExpired => Some(format!(
                "Bearer realm=\"{REALM}\", error=\"invalid_token\", error_description=\"{}\"",
                self.to_string().replace('"', "'")
            )),
            Self::VerifierNotConfigured => None,
        }
    }
}

#[derive(Serialize)]
struct ErrorBody {
    detail: String,
    code: &'static str,
}

impl ResponseError for AuthError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::VerifierNotConfigured => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::VerifierNotConfigured = self {
            tracing::error!(
                "no TokenVerifier in app data; register one with App::app_data(TokenVerifier::new(secret))"
            );
        }

        let mut response = HttpResponse::build(self.status_code());
        if let Some(challenge) = self.challenge() {
            if let Ok(value) = HeaderValue::from_str(&challenge) {
                response.insert_header((header::WWW_AUTHENTICATE, value));
            }
        }
        response.json(ErrorBody {
            detail: self.to_string(),
            code: self.code(),
        })
    }
}
