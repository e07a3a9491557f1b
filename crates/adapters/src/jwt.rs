//! HS256 access tokens with the claims the Python PraisonAI platform uses,
//! `sub`, `email`, `name`, `iat` and `exp`, so tokens signed with the same
//! secret verify in both services. Tokens also carry `sid`, the session id,
//! which the Python platform ignores.

use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, TimeDelta, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use platform_auth_domain::{
    IssuedToken, Secret, SessionId, TokenClaims, TokenError, TokenIssuer, User,
};
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
struct IssuedClaims<'a> {
    sub: String,
    email: &'a str,
    name: &'a str,
    sid: String,
    iat: i64,
    exp: i64,
}

/// The claims verification reads. `email` and `name` are ignored because
/// the current user is always read from the database.
#[derive(Deserialize)]
struct ReceivedClaims {
    sub: String,
    sid: Option<String>,
    iat: Option<i64>,
    exp: i64,
}

/// Signs and verifies HS256 JWTs with one shared secret.
pub struct JwtIssuer {
    encoding_key: EncodingKey,
    decoding_key: DecodingKey,
    validation: Validation,
    /// The same rules without the expiry check.
    validation_ignoring_expiry: Validation,
    ttl: TimeDelta,
}

impl JwtIssuer {
    /// Builds an issuer whose tokens live for `ttl`.
    pub fn new(secret: &Secret<String>, ttl: Duration) -> anyhow::Result<Self> {
        let ttl = TimeDelta::from_std(ttl).context("token lifetime is out of range")?;
        let key = secret.expose().as_bytes();

        // Only HS256 is accepted, whatever algorithm the token's header
        // names, and expiry is checked to the second with no leeway.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "sub"]);

        let mut validation_ignoring_expiry = validation.clone();
        validation_ignoring_expiry.validate_exp = false;

        Ok(Self {
            encoding_key: EncodingKey::from_secret(key),
            decoding_key: DecodingKey::from_secret(key),
            validation,
            validation_ignoring_expiry,
            ttl,
        })
    }
}

impl JwtIssuer {
    fn decode(&self, token: &str, validation: &Validation) -> Result<TokenClaims, TokenError> {
        let data = jsonwebtoken::decode::<ReceivedClaims>(token, &self.decoding_key, validation)
            .map_err(|error| match error.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })?;
        let claims = data.claims;

        let expires_at = DateTime::from_timestamp(claims.exp, 0).ok_or(TokenError::Invalid)?;
        Ok(TokenClaims {
            subject: claims.sub,
            session_id: claims.sid,
            issued_at: claims.iat.and_then(|iat| DateTime::from_timestamp(iat, 0)),
            expires_at,
        })
    }
}

impl TokenIssuer for JwtIssuer {
    fn issue(
        &self,
        user: &User,
        session_id: SessionId,
        issued_at: DateTime<Utc>,
    ) -> anyhow::Result<IssuedToken> {
        let iat = issued_at.timestamp();
        let exp = iat + self.ttl.num_seconds();
        let claims = IssuedClaims {
            sub: user.id.to_string(),
            email: user.email.as_str(),
            name: user.name.as_str(),
            sid: session_id.to_string(),
            iat,
            exp,
        };

        let token =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding_key)
                .context("failed to sign an access token")?;
        Ok(IssuedToken {
            token: Secret::new(token),
            expires_at: DateTime::from_timestamp(exp, 0).context("token expiry is out of range")?,
            expires_in: self.ttl.num_seconds().unsigned_abs(),
        })
    }

    fn verify(&self, token: &str) -> Result<TokenClaims, TokenError> {
        self.decode(token, &self.validation)
    }

    fn verify_ignoring_expiry(&self, token: &str) -> Result<TokenClaims, TokenError> {
        self.decode(token, &self.validation_ignoring_expiry)
    }
}
