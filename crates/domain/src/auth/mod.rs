//! The use cases: register, log in, refresh, log out, change password, and
//! read or end the current user's sessions.

mod credentials;
mod sessions;

pub use sessions::LogoutScope;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

use crate::audit::{AuditEvent, AuditKind};
use crate::ports::{
    AuditLog, IssuedToken, NewSession, PasswordHasher, RefreshTokenMinter, SessionRepo, TokenError,
    TokenIssuer, UserRepo,
};
use crate::secret::Secret;
use crate::session::{ClientInfo, SessionId, SessionPolicy};
use crate::user::{User, UserId};
use crate::values::{PasswordError, PasswordPolicy};

/// A user signed in to a session: an access token and a refresh token.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: User,
    pub session_id: SessionId,
    pub token: IssuedToken,
    pub refresh_token: Secret<String>,
}

/// The user behind a verified access token, and its session if the token
/// names one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user: User,
    pub session_id: Option<SessionId>,
}

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("the email address is already registered")]
    EmailTaken,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown email or wrong password: callers must not tell them apart.
    #[error("invalid email or password")]
    InvalidCredentials,
    /// The password was right, but an operator disabled the account.
    #[error("the account is disabled")]
    Disabled,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum CurrentUserError {
    #[error("the token has expired")]
    TokenExpired,
    #[error("the token is invalid")]
    InvalidToken,
    /// The token verified, but its user has since been deleted, or it has
    /// no session claim and the user has since ended all sessions.
    #[error("the token's user no longer exists or has signed out everywhere")]
    UserNotFound,
    /// The token's session was ended by logout, a password change or
    /// refresh-token reuse, or is past its end.
    #[error("the token's session has ended")]
    SessionEnded,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error("the refresh token is not known")]
    InvalidToken,
    #[error("the session has expired")]
    Expired,
    /// A retired refresh token was presented after the grace window: the
    /// session has been ended because the token may have been stolen.
    #[error("the refresh token was already used; the session has been ended")]
    Reused,
    #[error("the session has ended")]
    SessionEnded,
    /// The request's access token belongs to another user than the refresh
    /// token.
    #[error("the refresh token belongs to another user")]
    UserMismatch,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum LogoutError {
    /// The access token has no session claim, so only `all` can apply.
    #[error("the token belongs to no session")]
    NoSession,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum ChangePasswordError {
    #[error("the current password is wrong")]
    InvalidCurrentPassword,
    #[error("the new password is not acceptable: {0}")]
    WeakPassword(PasswordError),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum EndSessionError {
    /// No live session with this id belongs to the user.
    #[error("session not found")]
    NotFound,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// The ports the use cases run against.
#[derive(Clone)]
pub struct Ports {
    pub users: Arc<dyn UserRepo>,
    pub sessions: Arc<dyn SessionRepo>,
    pub tokens: Arc<dyn TokenIssuer>,
    pub refresh_tokens: Arc<dyn RefreshTokenMinter>,
    pub hasher: Arc<dyn PasswordHasher>,
    pub audit: Arc<dyn AuditLog>,
}

/// The authentication use cases, written against the ports only.
///
/// Every method blocks: it hashes passwords or waits on storage.
#[derive(Clone)]
pub struct AuthService {
    ports: Ports,
    session_policy: SessionPolicy,
    password_policy: PasswordPolicy,
}

impl AuthService {
    pub fn new(
        ports: Ports,
        session_policy: SessionPolicy,
        password_policy: PasswordPolicy,
    ) -> Self {
        Self {
            ports,
            session_policy,
            password_policy,
        }
    }

    pub fn password_policy(&self) -> &PasswordPolicy {
        &self.password_policy
    }

    pub fn session_policy(&self) -> &SessionPolicy {
        &self.session_policy
    }

    /// Verifies a bearer token and loads its user, and its session if the
    /// token names one, from storage: a token of a deleted user or an
    /// ended session stops working at once.
    pub fn authenticate(&self, token: &str) -> Result<Principal, CurrentUserError> {
        let claims = self
            .ports
            .tokens
            .verify(token)
            .map_err(|error| match error {
                TokenError::Expired => CurrentUserError::TokenExpired,
                TokenError::Invalid => CurrentUserError::InvalidToken,
            })?;
        let user_id: UserId = claims
            .subject
            .parse()
            .map_err(|_| CurrentUserError::InvalidToken)?;

        let Some(session) = claims.session_id else {
            let user = self
                .ports
                .users
                .find_for_sessionless_token(user_id, claims.issued_at)?
                .ok_or(CurrentUserError::UserNotFound)?;
            return Ok(Principal {
                user,
                session_id: None,
            });
        };

        let session_id: SessionId = session
            .parse()
            .map_err(|_| CurrentUserError::InvalidToken)?;
        let user = self
            .ports
            .sessions
            .find_session_user(user_id, session_id, now_in_micros())?
            .ok_or(CurrentUserError::SessionEnded)?;
        Ok(Principal {
            user,
            session_id: Some(session_id),
        })
    }

    /// Returns the owner of a correctly signed access token, even an expired
    /// one. Refresh uses it to check that a token sent along belongs to the
    /// refresh token's user.
    pub fn token_owner_ignoring_expiry(&self, token: &str) -> Result<UserId, CurrentUserError> {
        let claims = self
            .ports
            .tokens
            .verify_ignoring_expiry(token)
            .map_err(|_| CurrentUserError::InvalidToken)?;
        claims
            .subject
            .parse()
            .map_err(|_| CurrentUserError::InvalidToken)
    }

    /// Returns the user behind a bearer token; see [`Self::authenticate`].
    pub fn current_user(&self, token: &str) -> Result<User, CurrentUserError> {
        self.authenticate(token).map(|principal| principal.user)
    }

    /// Writes an audit record. A failure to write is logged, not returned:
    /// the request it describes has already happened.
    fn audit(
        &self,
        kind: AuditKind,
        user_id: Option<UserId>,
        session_id: Option<SessionId>,
        client: Option<&ClientInfo>,
    ) {
        let event = AuditEvent {
            kind,
            user_id,
            session_id,
            ip: client.and_then(|client| client.ip.clone()),
            at: now_in_micros(),
        };
        if let Err(error) = self.ports.audit.record(&event) {
            tracing::error!(
                error = format!("{error:#}"),
                audit.event = kind.as_str(),
                "failed to write an audit record"
            );
        }
    }

    /// Starts a session for `user` and issues its first token pair.
    fn start_session(&self, user: User, client: &ClientInfo) -> anyhow::Result<Authenticated> {
        let now = now_in_micros();
        let refresh_token = self.ports.refresh_tokens.generate();
        let session = NewSession {
            id: SessionId::new_random(),
            user_id: user.id,
            refresh_digest: self.ports.refresh_tokens.digest(refresh_token.expose()),
            started_at: now,
            expires_at: self.session_policy.expires_at(now),
            client: client.clone(),
        };
        self.ports.sessions.create(&session)?;

        let token = self.ports.tokens.issue(&user, session.id, now)?;
        Ok(Authenticated {
            user,
            session_id: session.id,
            token,
            refresh_token,
        })
    }
}

/// Returns the current time, truncated to what both databases store.
pub(crate) fn now_in_micros() -> DateTime<Utc> {
    let now = Utc::now();
    now.duration_trunc(TimeDelta::microseconds(1))
        .unwrap_or(now)
}
