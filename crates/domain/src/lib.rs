//! The platform-auth domain: the [`User`] entity, validated value types, the
//! ports that storage, token and hashing adapters implement, and the use cases
//! written against those ports.
//!
//! Nothing here depends on HTTP or SQL, so another service can depend on this
//! crate alone. The ports carry `mockall` mocks behind the `mocks` feature.

pub mod auth;
pub mod common_passwords;
pub mod limits;
pub mod lockout;
pub mod ports;
pub mod secret;
pub mod user;
pub mod values;

pub use auth::{AuthService, Authenticated, CurrentUserError, LoginError, RegisterError};
pub use limits::{AbuseLimits, FailureRecord, LimitStore, RateLimit, RateLimitError, RateLimiter};
pub use lockout::{AccountLockout, LockoutError, LockoutPolicy};
pub use ports::{
    InsertUserError, IssuedToken, PasswordHasher, TokenClaims, TokenError, TokenIssuer,
    UserCredentials, UserRepo,
};
pub use secret::Secret;
pub use user::{User, UserId};
pub use values::{DisplayName, Email, FieldError, Password, PasswordHash, PasswordPolicy};
