//! Sessions: one per login, each with a rotating refresh token.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use crate::user::UserId;

/// A session's identifier, carried in access tokens as the `sid` claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionId(Uuid);

impl SessionId {
    pub fn new_random() -> Self {
        Self(Uuid::new_v4())
    }
}

impl FromStr for SessionId {
    type Err = uuid::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// The client a session was started or last refreshed from, as the HTTP
/// layer saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

impl ClientInfo {
    /// Matches the width of the `user_agent` column in both schemas.
    pub const MAX_USER_AGENT_CHARS: usize = 256;

    /// Builds client details, cutting an over-long user agent to the stored
    /// width.
    pub fn new(user_agent: Option<&str>, ip: Option<String>) -> Self {
        let user_agent = user_agent
            .map(|agent| {
                agent
                    .chars()
                    .take(Self::MAX_USER_AGENT_CHARS)
                    .collect::<String>()
            })
            .filter(|agent| !agent.is_empty());
        Self { user_agent, ip }
    }
}

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: SessionId,
    pub user_id: UserId,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    /// The absolute end of the session, fixed when it starts.
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub client: ClientInfo,
    /// SHA-256 digest of the refresh token that is current now.
    pub refresh_digest: String,
}

/// A refresh token retired by rotation, kept to detect its reuse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetiredRefreshToken {
    pub session_id: SessionId,
    pub retired_at: DateTime<Utc>,
}

/// Lifetimes of sessions and their refresh tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionPolicy {
    /// How long a session lasts from login, however often it is refreshed.
    pub refresh_ttl: Duration,
    /// A session unused for this long can no longer be refreshed.
    pub idle_timeout: Duration,
    /// How long after a rotation the retired refresh token still returns
    /// the same new pair instead of counting as reuse.
    pub reuse_grace: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            refresh_ttl: Duration::from_secs(30 * 24 * 3600),
            idle_timeout: Duration::from_secs(14 * 24 * 3600),
            reuse_grace: Duration::from_secs(10),
        }
    }
}

impl SessionPolicy {
    pub fn expires_at(&self, started_at: DateTime<Utc>) -> DateTime<Utc> {
        started_at
            .checked_add_signed(delta(self.refresh_ttl))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// Returns whether the session is past its absolute end or idle for too
    /// long.
    pub fn is_expired(&self, session: &Session, now: DateTime<Utc>) -> bool {
        session.expires_at <= now || session.last_used_at <= self.idle_cutoff(now)
    }

    pub fn within_grace(&self, retired_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        now.signed_duration_since(retired_at) <= delta(self.reuse_grace)
    }

    /// Returns the oldest `last_used_at` a live session can have at `now`.
    pub fn idle_cutoff(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now.checked_sub_signed(delta(self.idle_timeout))
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }
}

/// Converts a configured duration. Values beyond chrono's range saturate,
/// which for these settings means "never".
fn delta(duration: Duration) -> TimeDelta {
    TimeDelta::from_std(duration).unwrap_or(TimeDelta::MAX)
}
