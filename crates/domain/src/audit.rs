//! The audit trail: security-relevant events, kept in storage for
//! operators.

use std::fmt;

use chrono::{DateTime, Utc};

use crate::session::SessionId;
use crate::user::UserId;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditKind {
    Registered,
    LoginSucceeded,
    /// A wrong password for a known user, or any password for an unknown
    /// email (then without a user id).
    LoginFailed,
    /// A login attempt refused because the account is locked or disabled.
    LoginRefused,
    AccountLocked,
    AccountUnlocked,
    PasswordChanged,
    LoggedOut,
    LoggedOutEverywhere,
    SessionEnded,
    /// A retired refresh token was presented again and its session ended.
    RefreshTokenReused,
    UserDisabled,
    UserEnabled,
    UserDeleted,
}

impl AuditKind {
    pub const ALL: [Self; 14] = [
        Self::Registered,
        Self::LoginSucceeded,
        Self::LoginFailed,
        Self::LoginRefused,
        Self::AccountLocked,
        Self::AccountUnlocked,
        Self::PasswordChanged,
        Self::LoggedOut,
        Self::LoggedOutEverywhere,
        Self::SessionEnded,
        Self::RefreshTokenReused,
        Self::UserDisabled,
        Self::UserEnabled,
        Self::UserDeleted,
    ];

    /// Returns the stable name stored in the `event` column.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Registered => "registered",
            Self::LoginSucceeded => "login_succeeded",
            Self::LoginFailed => "login_failed",
            Self::LoginRefused => "login_refused",
            Self::AccountLocked => "account_locked",
            Self::AccountUnlocked => "account_unlocked",
            Self::PasswordChanged => "password_changed",
            Self::LoggedOut => "logged_out",
            Self::LoggedOutEverywhere => "logged_out_everywhere",
            Self::SessionEnded => "session_ended",
            Self::RefreshTokenReused => "refresh_token_reused",
            Self::UserDisabled => "user_disabled",
            Self::UserEnabled => "user_enabled",
            Self::UserDeleted => "user_deleted",
        }
    }

    /// Parses a stored name back.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

impl fmt::Display for AuditKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One audit record. It never contains an email, password or token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub kind: AuditKind,
    pub user_id: Option<UserId>,
    pub session_id: Option<SessionId>,
    pub ip: Option<String>,
    pub at: DateTime<Utc>,
}

/// A stored audit record with its sequence number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub id: i64,
    pub event: AuditEvent,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_round_trip() {
        for kind in AuditKind::ALL {
            assert_eq!(AuditKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(AuditKind::parse("unknown"), None);
    }
}
