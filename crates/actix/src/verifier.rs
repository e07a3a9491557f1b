//! Local verification of access tokens with the platform-auth JWT adapter.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use platform_auth_adapters::JwtIssuer;
use platform_auth_domain::{Secret, TokenError, TokenIssuer};
use serde::Deserialize;
use uuid::Uuid;

use crate::error::AuthError;
use crate::extractor::AuthenticatedUser;

/// The `detail` the server sends for every token that fails verification.
const INVALID_TOKEN: &str = "The token is invalid; log in again to get a new one.";

/// The lifetime handed to [`JwtIssuer::new`]. A verifier never issues
/// tokens, so the value only has to be in range.
const UNUSED_TTL: Duration = Duration::from_secs(60);

/// Verifies access tokens with the secret the platform-auth server signs
/// them with (`PLATFORM_JWT_SECRET`).
///
/// Cloning is cheap and every clone shares one key, so a clone can go into
/// each actix-web worker's app data.
///
/// ```
/// use platform_auth_actix::{AuthError, TokenVerifier};
///
/// let verifier = TokenVerifier::new("a-secret-of-at-least-32-bytes-0123456789");
/// let error = verifier.verify("not-a-token").unwrap_err();
/// assert_eq!(error.code(), "invalid_token");
/// ```
#[derive(Clone)]
pub struct TokenVerifier {
    tokens: Arc<dyn TokenIssuer>,
}

/// The claims the domain's [`TokenClaims`](platform_auth_domain::TokenClaims)
/// leave out, read from a payload whose signature is already verified.
#[derive(Deserialize)]
struct IdentityClaims {
    email: String,
    name: String,
    sid: Option<String>,
}

impl TokenVerifier {
    /// Builds a verifier for HS256 tokens signed with `secret`.
    ///
    /// # Panics
    /// When `secret` is empty, because anyone can sign tokens with an empty
    /// key.
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_web::App;
    /// use platform_auth_actix::TokenVerifier;
    ///
    /// let verifier = TokenVerifier::new("a-secret-of-at-least-32-bytes-0123456789");
    /// let app = App::new().app_data(verifier);
    /// ```
    pub fn new(secret: impl Into<String>) -> Self {
        let secret = Secret::new(secret.into());
        assert!(
            !secret.expose().is_empty(),
            "the token verifier's secret is empty; pass the auth server's PLATFORM_JWT_SECRET"
        );

        let issuer = JwtIssuer::new(&secret, UNUSED_TTL).expect("a one-minute lifetime is valid");
        Self::with_issuer(Arc::new(issuer))
    }

    /// Builds a verifier on any implementation of the domain's
    /// [`TokenIssuer`] port, for example a mock in tests.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use platform_auth_actix::TokenVerifier;
    /// use platform_auth_adapters::JwtIssuer;
    /// use platform_auth_domain::Secret;
    ///
    /// let secret = Secret::new("a-secret-of-at-least-32-bytes-0123456789".to_string());
    /// let issuer = JwtIssuer::new(&secret, Duration::from_secs(900)).unwrap();
    /// let verifier = TokenVerifier::with_issuer(Arc::new(issuer));
    /// ```
    pub fn with_issuer(tokens: Arc<dyn TokenIssuer>) -> Self {
        Self { tokens }
    }

    /// Verifies `token` and returns the user it was issued to.
    ///
    /// # Errors
    /// [`AuthError::TokenExpired`] for a well-signed token past its `exp`,
    /// and [`AuthError::InvalidToken`] for anything else that fails: the
    /// signature, the algorithm, a missing `exp`, or a `sub`, `email` or
    /// `name` claim that is missing or malformed.
    ///
    /// # Examples
    ///
    /// ```
    /// use platform_auth_actix::{AuthError, TokenVerifier};
    ///
    /// let verifier = TokenVerifier::new("a-secret-of-at-least-32-bytes-0123456789");
    /// assert!(matches!(verifier.verify("a.b.c"), Err(AuthError::InvalidToken(_))));
    /// ```
    pub fn verify(&self, token: &str) -> Result<AuthenticatedUser, AuthError> {
        let claims = self.tokens.verify(token).map_err(|error| match error {
            TokenError::Expired => AuthError::TokenExpired,
            TokenError::Invalid => AuthError::InvalidToken(INVALID_TOKEN),
        })?;
        let id =
            Uuid::parse_str(&claims.subject).map_err(|_| AuthError::InvalidToken(INVALID_TOKEN))?;
        let identity = identity_claims(token).ok_or(AuthError::InvalidToken(INVALID_TOKEN))?;

        Ok(AuthenticatedUser {
            id,
            email: identity.email,
            name: identity.name,
            session_id: identity.sid,
            expires_at: claims.expires_at,
        })
    }
}

impl fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenVerifier").finish_non_exhaustive()
    }
}

/// Decodes the payload segment of a compact JWS.
fn identity_claims(token: &str) -> Option<IdentityClaims> {
    let payload = token.split('.').nth(1)?;
    let json = URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice(&json).ok()
}
