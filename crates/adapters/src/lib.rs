//! Implementations of the platform-auth ports: a diesel user repository and
//! abuse-limit store over PostgreSQL or SQLite, an HS256 JWT issuer, and an
//! argon2id password hasher.

pub mod argon2_hasher;
pub mod db;
pub mod jwt;
pub mod limit_store;
mod schema;
#[cfg(feature = "testing")]
pub mod testing;
pub mod user_repo;

pub use argon2_hasher::{Argon2Hasher, Argon2Settings};
pub use db::{Database, DatabaseKind, DbPool, PoolSettings};
pub use jwt::JwtIssuer;
pub use limit_store::DieselLimitStore;
pub use user_repo::DieselUserRepo;
