//! Protects the routes of another actix-web service with platform-auth
//! access tokens, verified locally with the shared signing secret.
//!
//! Register a [`TokenVerifier`] as app data and take an [`AuthenticatedUser`]
//! as a handler argument. A request without a valid token never reaches the
//! handler: it gets the same JSON 401 body and `WWW-Authenticate` challenge
//! that the platform-auth server sends from `/api/v1/auth/me`.
//!
//! ```no_run
//! use actix_web::{web, App, HttpServer, Responder};
//! use platform_auth_actix::{AuthenticatedUser, TokenVerifier};
//!
//! async fn profile(user: AuthenticatedUser) -> impl Responder {
//!     format!("Hello, {} ({})", user.name, user.id)
//! }
//!
//! #[actix_web::main]
//! async fn main() -> std::io::Result<()> {
//!     let verifier = TokenVerifier::new(std::env::var("PLATFORM_JWT_SECRET").unwrap());
//!     HttpServer::new(move || {
//!         App::new()
//!             .app_data(verifier.clone())
//!             .route("/profile", web::get().to(profile))
//!     })
//!     .bind(("127.0.0.1", 8080))?
//!     .run()
//!     .await
//! }
//! ```
//!
//! # Verification rules
//!
//! Tokens are checked by the platform-auth JWT adapter, so the rules are the
//! server's. Only HS256 is accepted, whatever algorithm the header names.
//! The `exp` and `sub` claims are required, and expiry allows no clock
//! leeway. The extractor also requires a UUID `sub` and the `email`
//! and `name` claims, which every platform-auth token carries. A `sid`
//! (session id) claim is read when present and optional otherwise.
//!
//! # What local verification cannot see
//!
//! The token alone decides. A user deleted on the auth server, or (once the
//! server has sessions) a session revoked by logout or a password change,
//! keeps passing here until the token's `exp`. Keep access tokens
//! short-lived (`PLATFORM_JWT_TTL` on the server) for any service that
//! relies on this crate, or call the server's `/api/v1/auth/me` where a
//! revocation must take effect at once.

#![deny(missing_docs)]
#![warn(rustdoc::broken_intra_doc_links)]

mod error;
mod extractor;
mod verifier;

pub use error::AuthError;
pub use extractor::AuthenticatedUser;
pub use verifier::TokenVerifier;
