//! The platform-auth domain: the [`User`] entity, validated value types,
//! sessions, the ports that storage, token and hashing adapters implement,
//! and the use cases written against those ports.
//!
//! Nothing here depends on HTTP or SQL, so another service can depend on
//! this crate alone. The ports carry `mockall` mocks behind the `mocks`
//! feature.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod common_passwords;
pub mod limits;
pub mod lockout;
pub mod ports;
pub mod secret;
pub mod session;
pub mod user;
pub mod values;

pub use admin::{AdminError, UserAdmin, UserDetails};
pub use audit::{AuditEvent, AuditKind, AuditRecord};
pub use auth::{
    AuthService, Authenticated, ChangePasswordError, CurrentUserError, EndSessionError, LoginError,
    LogoutError, LogoutScope, Ports, Principal, RefreshError, RegisterError,
};
pub use limits::{AbuseLimits, FailureRecord, LimitStore, RateLimit, RateLimitError, RateLimiter};
pub use lockout::{AccountLockout, LockoutError, LockoutPolicy};
pub use ports::{
    AuditLog, InsertUserError, IssuedToken, NewSession, PasswordHasher, RefreshTokenMinter,
    Rotation, SessionRepo, TokenClaims, TokenError, TokenIssuer, UserCredentials, UserRecord,
    UserRepo,
};
pub use secret::Secret;
pub use session::{ClientInfo, RetiredRefreshToken, Session, SessionId, SessionPolicy};
pub use user::{User, UserId};
pub use values::{
    DisplayName, Email, FieldError, Password, PasswordError, PasswordHash, PasswordPolicy,
};
