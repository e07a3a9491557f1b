//! Implementations of the platform-auth ports: diesel repositories and the
//! abuse-limit store over PostgreSQL or SQLite, an HS256 JWT issuer, a
//! refresh-token minter and an argon2id password hasher.
//!
//! Only the JWT issuer and the refresh-token minter are always built. The
//! database adapters are behind the `db` feature and the hasher behind
//! `argon2`, both on by default.

#[cfg(feature = "argon2")]
pub mod argon2_hasher;
#[cfg(feature = "db")]
pub mod audit_repo;
#[cfg(feature = "db")]
pub mod db;
pub mod jwt;
#[cfg(feature = "db")]
pub mod limit_store;
pub mod refresh_tokens;
#[cfg(feature = "db")]
mod schema;
#[cfg(feature = "db")]
pub mod session_repo;
#[cfg(feature = "testing")]
pub mod testing;
#[cfg(feature = "db")]
pub mod user_repo;

#[cfg(feature = "argon2")]
pub use argon2_hasher::{Argon2Hasher, Argon2Settings};
#[cfg(feature = "db")]
pub use audit_repo::DieselAuditLog;
#[cfg(feature = "db")]
pub use db::{Database, DatabaseKind, DbPool, PoolSettings};
pub use jwt::JwtIssuer;
#[cfg(feature = "db")]
pub use limit_store::DieselLimitStore;
pub use refresh_tokens::HmacRefreshTokens;
#[cfg(feature = "db")]
pub use session_repo::DieselSessionRepo;
#[cfg(feature = "db")]
pub use user_repo::DieselUserRepo;
