//! Implementations of the platform-auth ports: a diesel user repository over
//! PostgreSQL or SQLite, an HS256 JWT issuer, and an argon2id password hasher.
//!
//! Only the JWT issuer is always built. The database adapters are behind the
//! `db` feature and the hasher behind `argon2`, both on by default.

#[cfg(feature = "argon2")]
pub mod argon2_hasher;
#[cfg(feature = "db")]
pub mod db;
pub mod jwt;
#[cfg(feature = "db")]
mod schema;
#[cfg(feature = "testing")]
pub mod testing;
#[cfg(feature = "db")]
pub mod user_repo;

#[cfg(feature = "argon2")]
pub use argon2_hasher::{Argon2Hasher, Argon2Settings};
#[cfg(feature = "db")]
pub use db::{Database, DatabaseKind, DbPool, PoolSettings};
pub use jwt::JwtIssuer;
#[cfg(feature = "db")]
pub use user_repo::DieselUserRepo;
