//! The [`AuthenticatedUser`] extractor and its reading of the
//! `Authorization` header, which follows the platform-auth server's rules.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::AuthError;
use crate::verifier::TokenVerifier;

/// The user of a request that carried a valid access token.
///
/// As a handler argument it rejects every other request before the handler
/// runs. The verifier is looked up as `TokenVerifier` app data and then as
/// `web::Data<TokenVerifier>`. Take `Option<AuthenticatedUser>` for routes
/// that also serve anonymous requests.
///
/// ```
/// use actix_web::Responder;
/// use platform_auth_actix::AuthenticatedUser;
///
/// async fn whoami(user: AuthenticatedUser) -> impl Responder {
///     format!("{} <{}>", user.name, user.email)
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedUser {
    /// The user id, from the `sub` claim.
    pub id: Uuid,
    /// The normalised email address, from the `email` claim.
    pub email: String,
    /// The display name, from the `name` claim.
    pub name: String,
    /// The server-side session, from the `sid` claim of tokens that have one.
    pub session_id: Option<String>,
    /// When the token stops being valid, from the `exp` claim.
    pub expires_at: DateTime<Utc>,
}

impl FromRequest for AuthenticatedUser {
    type Error = AuthError;
    type Future = Ready<Result<Self, AuthError>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(authenticate(request))
    }
}

fn authenticate(request: &HttpRequest) -> Result<AuthenticatedUser, AuthError> {
    let verifier = request
        .app_data::<TokenVerifier>()
        .or_else(|| {
            request
                .app_data::<web::Data<TokenVerifier>>()
                .map(|data| data.get_ref())
        })
        .ok_or(AuthError::VerifierNotConfigured)?;

    let token = bearer_token(request)?;
    verifier.verify(token)
}

/// Reads the token of an `Authorization: Bearer <token>` header, matching
/// the scheme case-insensitively.
fn bearer_token(request: &HttpRequest) -> Result<&str, AuthError> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or(AuthError::MissingToken(
            "Authorization header is missing; send Authorization: Bearer <token>.",
        ))?
        .to_str()
        .map_err(|_| {
            AuthError::InvalidToken(
                "Authorization header contains characters that are not visible ASCII.",
            )
        })?
        .trim();

    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::MissingToken(
            "Authorization header must use the Bearer scheme.",
        ));
    }

    let token = token.trim();
    if token.is_empty() || token.contains(char::is_whitespace) {
        return Err(AuthError::InvalidToken(
            "Authorization header must be Bearer followed by one token.",
        ));
    }
    Ok(token)
}
