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

/// One live session of the signed-in user, from
/// [`PlatformClient::sessions`](crate::PlatformClient::sessions).
///
/// ```
/// let session: platform_auth_client::Session = serde_json::from_str(
///     r#"{
///         "id": "5d0c1a52-3b8e-4a57-9f0e-1c2d3e4f5a6b",
///         "created_at": "2025-01-01T00:00:00.000000Z",
///         "last_used_at": "2025-01-02T08:30:00.000000Z",
///         "user_agent": "platform-auth-client/0.1.0",
///         "ip": "127.0.0.1",
///         "current": true
///     }"#,
/// ).unwrap();
/// assert!(session.current);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The session id, a UUID on platform-auth, for
    /// [`PlatformClient::end_session`](crate::PlatformClient::end_session).
    pub id: String,
    /// The login time as the server wrote it: RFC 3339 in UTC with
    /// microseconds on platform-auth.
    pub created_at: String,
    /// The time of the login or of the latest refresh, in the same form.
    pub last_used_at: String,
    /// The `User-Agent` of the client that logged in or last refreshed,
    /// when it sent one.
    pub user_agent: Option<String>,
    /// The address of the client that logged in or last refreshed, when the
    /// server recorded one.
    pub ip: Option<String>,
    /// Whether this is the session of the access token that made the call.
    pub current: bool,
}

/// The body of a successful register, login, refresh or password change.
/// `Debug` hides the token.
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

/// The wire form of register, login, refresh and password-change
/// responses. It also reads a `refresh_token`, which servers with sessions
/// send next to the token.
#[derive(Deserialize)]
pub(crate) struct AuthBody {
    #[serde(flatten)]
    pub response: AuthResponse,
    #[serde(default)]
    pub refresh_token: Option<String>,
}

/// The wire form of the session list.
#[derive(Deserialize)]
pub(crate) struct SessionList {
    pub sessions: Vec<Session>,
}
