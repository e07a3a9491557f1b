//! The ports: what the use cases need from storage, tokens and hashing.
//! Adapters implement them; the `mocks` feature adds `mockall` mocks.

use chrono::{DateTime, Utc};

use crate::secret::Secret;
use crate::user::{User, UserId};
use crate::values::{Email, Password, PasswordHash};

/// A stored user together with the hash of their password.
#[derive(Debug, Clone)]
pub struct UserCredentials {
    pub user: User,
    pub password_hash: PasswordHash,
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

    /// Replaces the stored password hash of the user `id`, for example with
    /// one made at the current hashing cost.
    fn update_password_hash(&self, id: UserId, password_hash: &PasswordHash) -> anyhow::Result<()>;
}

/// A signed access token and when it stops being valid.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: Secret<String>,
    pub expires_at: DateTime<Utc>,
}

/// The claims of a token that passed verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenClaims {
    /// The `sub` claim: the user id as issued, not yet parsed.
    pub subject: String,
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
    fn issue(&self, user: &User) -> anyhow::Result<IssuedToken>;

    /// Checks the signature, algorithm and expiry of `token`.
    ///
    /// # Errors
    /// [`TokenError::Expired`] for a well-signed token past its `exp`, and
    /// [`TokenError::Invalid`] for everything else.
    fn verify(&self, token: &str) -> Result<TokenClaims, TokenError>;
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
