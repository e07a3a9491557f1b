//! The ports: what the use cases need from storage, tokens and hashing.
//! Adapters implement them; the `mocks` feature adds `mockall` mocks.

use chrono::{DateTime, Utc};

use crate::audit::{AuditEvent, AuditRecord};
use crate::secret::Secret;
use crate::session::{ClientInfo, RetiredRefreshToken, Session, SessionId};
use crate::user::{User, UserId};
use crate::values::{Email, Password, PasswordHash};

/// A stored user together with the hash of their password.
#[derive(Debug, Clone)]
pub struct UserCredentials {
    pub user: User,
    pub password_hash: PasswordHash,
    /// When an operator disabled the account, if they did.
    pub disabled_at: Option<DateTime<Utc>>,
}

/// A user as operators see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub user: User,
    pub disabled_at: Option<DateTime<Utc>>,
}

/// Why [`UserRepo::insert`] failed.
#[derive(Debug, thiserror::Error)]
pub enum InsertUserError {
    /// Another user has this email, compared case-insensitively.
    #[error("the email address is already registered")]
    EmailTaken,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Persistent storage of users.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait UserRepo: Send + Sync {
    /// Stores a new user.
    ///
    /// # Errors
    /// Implementations must return [`InsertUserError::EmailTaken`] when the
    /// database's unique constraint on the email rejects the row, so that
    /// concurrent registrations of one address yield exactly one account.
    fn insert(&self, user: &User, password_hash: &PasswordHash) -> Result<(), InsertUserError>;

    /// Looks a user up by normalised email, with their password hash.
    fn find_credentials_by_email(&self, email: &Email) -> anyhow::Result<Option<UserCredentials>>;

    fn find_by_id(&self, id: UserId) -> anyhow::Result<Option<User>>;

    fn find_credentials_by_id(&self, id: UserId) -> anyhow::Result<Option<UserCredentials>>;

    /// Looks a user up for an access token without a session claim: the
    /// user is returned only if they have not ended all their sessions or
    /// changed their password since `issued_at`. A token without `iat` is
    /// accepted only while neither has ever happened.
    fn find_for_sessionless_token(
        &self,
        id: UserId,
        issued_at: Option<DateTime<Utc>>,
    ) -> anyhow::Result<Option<User>>;

    fn update_password_hash(&self, id: UserId, password_hash: &PasswordHash) -> anyhow::Result<()>;

    /// Lists users by creation time, oldest first.
    fn list(&self, limit: i64, offset: i64) -> anyhow::Result<Vec<UserRecord>>;

    fn find_record(&self, id: UserId) -> anyhow::Result<Option<UserRecord>>;

    fn find_record_by_email(&self, email: &Email) -> anyhow::Result<Option<UserRecord>>;

    /// Sets or clears `disabled_at`. Returns `false` if the user does not
    /// exist.
    fn set_disabled(&self, id: UserId, disabled_at: Option<DateTime<Utc>>) -> anyhow::Result<bool>;

    /// Deletes a user and, with them, their sessions. Returns `false` if the
    /// user does not exist.
    fn delete(&self, id: UserId) -> anyhow::Result<bool>;
}

/// The audit trail's storage.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait AuditLog: Send + Sync {
    fn record(&self, event: &AuditEvent) -> anyhow::Result<()>;

    /// Returns the newest `limit` records, of one user if `user_id` is set,
    /// newest first.
    fn recent(&self, user_id: Option<UserId>, limit: i64) -> anyhow::Result<Vec<AuditRecord>>;
}

/// A session as it is started.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: SessionId,
    pub user_id: UserId,
    pub refresh_digest: String,
    pub started_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub client: ClientInfo,
}

/// One refresh-token rotation: the compare-and-swap of the session's
/// current digest, with the retired digest kept for reuse detection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    pub session_id: SessionId,
    pub retired_digest: String,
    pub new_digest: String,
    pub at: DateTime<Utc>,
    pub client: ClientInfo,
}

/// Persistent storage of sessions and retired refresh tokens.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait SessionRepo: Send + Sync {
    fn create(&self, session: &NewSession) -> anyhow::Result<()>;

    fn find(&self, id: SessionId) -> anyhow::Result<Option<Session>>;

    /// Finds the session whose current refresh token has this digest.
    fn find_by_refresh_digest(&self, digest: &str) -> anyhow::Result<Option<Session>>;

    fn find_retired(&self, digest: &str) -> anyhow::Result<Option<RetiredRefreshToken>>;

    /// Replaces the session's refresh digest if it is still
    /// `rotation.retired_digest`, in one transaction with recording the
    /// retired digest and the use. Returns `false`, changing nothing, when
    /// another request rotated it first.
    fn rotate(&self, rotation: &Rotation) -> anyhow::Result<bool>;

    /// Returns the user of a live session: not revoked, not past its end,
    /// and belonging to `user_id`. One indexed query, run on every
    /// authenticated request.
    fn find_session_user(
        &self,
        user_id: UserId,
        session_id: SessionId,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<User>>;

    /// Ends one session. Returns `false` if it does not exist, belongs to
    /// another user or has already ended.
    fn revoke(
        &self,
        user_id: UserId,
        session_id: SessionId,
        at: DateTime<Utc>,
    ) -> anyhow::Result<bool>;

    /// Ends every session of the user and refuses, from now on, access
    /// tokens without a session claim issued before `at`.
    fn revoke_all(&self, user_id: UserId, at: DateTime<Utc>) -> anyhow::Result<()>;

    /// Lists sessions not revoked, not past their end and used since
    /// `idle_cutoff`, newest first.
    fn list_live(
        &self,
        user_id: UserId,
        now: DateTime<Utc>,
        idle_cutoff: DateTime<Utc>,
    ) -> anyhow::Result<Vec<Session>>;

    /// Deletes sessions that ended before `revoked_before`, are past their
    /// end, or were idle since before `idle_cutoff`, with their retired
    /// tokens. Returns how many sessions were deleted.
    fn prune(
        &self,
        now: DateTime<Utc>,
        idle_cutoff: DateTime<Utc>,
        revoked_before: DateTime<Utc>,
    ) -> anyhow::Result<usize>;
}

/// Makes and digests opaque refresh tokens.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait RefreshTokenMinter: Send + Sync {
    /// Returns a new random token of at least 256 bits.
    fn generate(&self) -> Secret<String>;

    /// Derives the token that replaces `token` at its rotation. The same
    /// input always gives the same output, so a retried refresh within the
    /// grace window can return the same new token without it being stored.
    fn successor(&self, token: &str) -> Secret<String>;

    /// Returns the digest under which a token is stored and looked up.
    fn digest(&self, token: &str) -> String;
}

/// A signed access token and when it stops being valid.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: Secret<String>,
    pub expires_at: DateTime<Utc>,
    /// The token's lifetime in seconds, as clients read `expires_in`.
    pub expires_in: u64,
}

/// The claims of a token that passed verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenClaims {
    /// The `sub` claim: the user id as issued, not yet parsed.
    pub subject: String,
    /// The `sid` claim, absent from tokens issued without sessions, for
    /// example by the Python platform.
    pub session_id: Option<String>,
    pub issued_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
}

/// The reason a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token has expired")]
    Expired,
    /// Bad signature, wrong algorithm, missing claims or not a token at all.
    #[error("the token is invalid")]
    Invalid,
}

/// Issues and verifies signed access tokens.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait TokenIssuer: Send + Sync {
    /// Signs an access token for a user's session. The same inputs give
    /// the same token.
    fn issue(
        &self,
        user: &User,
        session_id: SessionId,
        issued_at: DateTime<Utc>,
    ) -> anyhow::Result<IssuedToken>;

    /// Checks the signature, algorithm and expiry of `token`.
    ///
    /// # Errors
    /// [`TokenError::Expired`] for a well-signed token past its `exp`, and
    /// [`TokenError::Invalid`] for everything else.
    fn verify(&self, token: &str) -> Result<TokenClaims, TokenError>;

    /// Checks the signature and algorithm of `token` but accepts it past its
    /// `exp`, for telling whose token an expired one was.
    fn verify_ignoring_expiry(&self, token: &str) -> Result<TokenClaims, TokenError>;
}

/// Hashes and verifies passwords. Every method is CPU-heavy on purpose, so
/// callers on an async runtime run them on a blocking thread.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait PasswordHasher: Send + Sync {
    fn hash(&self, password: &Password) -> anyhow::Result<PasswordHash>;

    /// Returns whether `password` matches `hash`, comparing in constant time.
    fn verify(&self, password: &Password, hash: &PasswordHash) -> anyhow::Result<bool>;

    /// Spends the time of one [`PasswordHasher::verify`] call against a hash
    /// that matches no password, so that a login for an unknown email takes
    /// as long as one with a wrong password.
    fn verify_dummy(&self, password: &Password);

    /// Returns whether `hash` was made with another algorithm or weaker
    /// parameters than new hashes get, so that it should be replaced. Cheap:
    /// it only parses the hash.
    fn needs_rehash(&self, hash: &PasswordHash) -> bool;
}
