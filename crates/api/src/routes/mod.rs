//! Route handlers and the response bodies they write.

pub mod auth;
pub mod ops;
pub mod sessions;

use actix_web::{web, HttpResponse};
use chrono::{DateTime, SecondsFormat, Utc};
use platform_auth_domain::{AuthService, Authenticated, User};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;

/// State shared by the handlers.
#[derive(Clone)]
pub struct AuthState {
    pub service: AuthService,
}

/// Formats a time as RFC 3339 in UTC with microseconds, for example
/// `2025-01-01T00:00:00.000000Z`.
pub fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A user as every response shows it: never a password or hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserBody {
    #[schema(format = "uuid", example = "7b0b7f3e-4d7e-4c0c-9a43-2d8f0e6f7a11")]
    pub id: String,
    #[schema(example = "John Doe")]
    pub name: String,
    #[schema(format = Email, example = "user@example.com")]
    pub email: String,
    /// RFC 3339 in UTC.
    #[schema(format = DateTime, example = "2025-01-01T00:00:00.000000Z")]
    pub created_at: String,
}

impl From<&User> for UserBody {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.to_string(),
            name: user.name.as_str().to_string(),
            email: user.email.as_str().to_string(),
            created_at: rfc3339(user.created_at),
        }
    }
}

/// The body of register, login, refresh and password change: the access
/// token under `token`, as older clients read it, plus the refresh token.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthBody {
    /// The access token, an HS256 JWT.
    pub token: String,
    /// An opaque token for `/refresh`.
    pub refresh_token: String,
    #[schema(value_type = String, example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until `token` expires.
    #[schema(example = 900)]
    pub expires_in: u64,
    pub user: UserBody,
}

impl From<Authenticated> for AuthBody {
    fn from(authenticated: Authenticated) -> Self {
        Self {
            user: UserBody::from(&authenticated.user),
            expires_in: authenticated.token.expires_in,
            token: authenticated.token.token.into_inner(),
            refresh_token: authenticated.refresh_token.into_inner(),
            token_type: "Bearer",
        }
    }
}

/// Returns the JSON 404 for any path no route matches.
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}

/// Builds a resource that accepts one method and returns a JSON 405,
/// naming the allowed method, for every other.
pub fn single_method_resource(
    path: &str,
    allowed: &'static str,
    route: actix_web::Route,
) -> actix_web::Resource {
    web::resource(path)
        .route(route)
        .default_service(web::to(move || async move {
            Err::<HttpResponse, _>(ApiError::MethodNotAllowed(allowed))
        }))
}
