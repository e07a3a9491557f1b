//! An async Rust client of the platform-auth API: register, log in, read
//! the current user with the stored bearer token, and manage sessions:
//! refresh, log out, change the password, list and end sessions.
//!
//! ```no_run
//! use platform_auth_client::{Error, PlatformClient};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = PlatformClient::new("http://127.0.0.1:8000")?;
//! match client.login("user@example.com", "mypassword").await {
//!     Ok(login) => println!("logged in as {}", login.user.name),
//!     Err(Error::InvalidCredentials { detail, .. }) => eprintln!("{detail}"),
//!     Err(error) => return Err(error.into()),
//! }
//! let me = client.current_user().await?;
//! println!("token belongs to {}", me.email);
//! # Ok(())
//! # }
//! ```
//!
//! The client speaks HTTPS through rustls, with no OpenSSL. Errors are one
//! typed [`Error`] enum, idempotent calls are retried with backoff, and an
//! access token the server rejects is renewed once with the refresh token
//! (see [`PlatformClient`]). Clones share their session while
//! [`PlatformClient::new_session`] starts another one.

#![deny(missing_docs)]
#![warn(rustdoc::broken_intra_doc_links)]

mod client;
mod error;
mod model;
mod retry;

pub use client::{
    PlatformClient, PlatformClientBuilder, DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_RETRY_AFTER,
    DEFAULT_TIMEOUT,
};
pub use error::{BuildError, Error, FieldError};
pub use model::{AuthResponse, Session, User};
/// The HTTP library underneath, for [`PlatformClientBuilder::http_client`]
/// and the [`Error::Transport`] source.
pub use reqwest;
pub use retry::Backoff;
