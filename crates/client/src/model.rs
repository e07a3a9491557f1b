//! The response bodies of the API.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A user as the API returns it.
///
/// ```
/// let user: platform_auth_client::User = serde_json::from_str(
///     r#"{
///         "id": "0b6f7a7e-7c1d-4d0a-9a43-3f2d7f0d6f11",
///         "name": "John Doe",
///         "email": "user@example.com",
///         "created_at": "2025-01-01T00:00:00.000000Z"
///     }"#,
/// ).unwrap();
/// assert_eq!(user.name, "John Doe");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The user id, a UUID on platform-auth.
    pub id: String,
    /// The display name.
    pub name: String,
    /// The normalised email address.
    pub email: String,
    /// The creation time as the server wrote it: RFC 3339 in UTC with
    /// microseconds on platform-auth.
    pub created_at: String,
}

/// The body of a successful register or login. `Debug` hides the token.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct AuthResponse {
    /// The access token, also stored in the client that made the call.
    pub token: String,
    /// The user the token belongs to.
    pub user: User,
}

impl fmt::Debug for AuthResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthResponse")
            .field("token", &"[REDACTED]")
            .field("user", &self.user)
            .finish()
    }
}

/// The wire form of register and login responses. It also reads a
/// `refresh_token`, which servers with sessions send next to the token.
#[derive(Deserialize)]
pub(crate) struct AuthBody {
    #[serde(flatten)]
    pub response: AuthResponse,
    #[serde(default)]
    pub refresh_token: Option<String>,
}
