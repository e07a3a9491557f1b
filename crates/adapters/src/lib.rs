//! Implementations of the platform-auth ports: a diesel user repository over
//! PostgreSQL or SQLite, an HS256 JWT issuer, and an argon2id password hasher.

pub mod argon2_hasher;
pub mod audit_repo;
pub mod db;
pub mod jwt;
pub mod refresh_tokens;
mod schema;
pub mod session_repo;
#[cfg(feature = "testing")]
pub mod testing;
pub mod user_repo;

pub use argon2_hasher::{Argon2Hasher, Argon2Settings};
pub use audit_repo::DieselAuditLog;
pub use db::{Database, DatabaseKind, DbPool, PoolSettings};
pub use jwt::JwtIssuer;
pub use refresh_tokens::HmacRefreshTokens;
pub use session_repo::DieselSessionRepo;
pub use user_repo::DieselUserRepo;
