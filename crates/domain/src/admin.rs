//! Operator use cases: list, show, disable, enable and delete users, and
//! read the audit trail.

use std::sync::Arc;

use crate::audit::{AuditEvent, AuditKind, AuditRecord};
use crate::auth::now_in_micros;
use crate::ports::{AuditLog, SessionRepo, UserRecord, UserRepo};
use crate::session::SessionPolicy;
use crate::user::UserId;
use crate::values::Email;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("no user matches {0:?}; give a user id or an email address")]
    UserNotFound(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// A user with the number of their live sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDetails {
    pub record: UserRecord,
    pub live_sessions: usize,
}

/// The operator's view of the users.
#[derive(Clone)]
pub struct UserAdmin {
    users: Arc<dyn UserRepo>,
    sessions: Arc<dyn SessionRepo>,
    audit: Arc<dyn AuditLog>,
    session_policy: SessionPolicy,
}

impl UserAdmin {
    pub fn new(
        users: Arc<dyn UserRepo>,
        sessions: Arc<dyn SessionRepo>,
        audit: Arc<dyn AuditLog>,
        session_policy: SessionPolicy,
    ) -> Self {
        Self {
            users,
            sessions,
            audit,
            session_policy,
        }
    }

    pub fn list(&self, limit: i64, offset: i64) -> Result<Vec<UserRecord>, AdminError> {
        Ok(self.users.list(limit, offset)?)
    }

    /// Finds a user by id or, failing that, by email.
    pub fn find(&self, identifier: &str) -> Result<UserRecord, AdminError> {
        let record = match identifier.parse::<UserId>() {
            Ok(id) => self.users.find_record(id)?,
            Err(_) => match Email::parse(identifier) {
                Ok(email) => self.users.find_record_by_email(&email)?,
                Err(_) => None,
            },
        };
        record.ok_or_else(|| AdminError::UserNotFound(identifier.to_string()))
    }

    pub fn show(&self, identifier: &str) -> Result<UserDetails, AdminError> {
        let record = self.find(identifier)?;
        let now = now_in_micros();
        let live_sessions = self
            .sessions
            .list_live(record.user.id, now, self.session_policy.idle_cutoff(now))?
            .len();
        Ok(UserDetails {
            record,
            live_sessions,
        })
    }

    /// Disables a user: they can no longer log in, and every session and
    /// token of theirs is refused from now on.
    pub fn disable(&self, identifier: &str) -> Result<UserRecord, AdminError> {
        let record = self.find(identifier)?;
        let now = now_in_micros();
        self.users.set_disabled(record.user.id, Some(now))?;
        self.sessions.revoke_all(record.user.id, now)?;
        self.record(AuditKind::UserDisabled, record.user.id)?;
        self.find(identifier)
    }

    /// Lets a disabled user log in again. Their old sessions stay ended.
    pub fn enable(&self, identifier: &str) -> Result<UserRecord, AdminError> {
        let record = self.find(identifier)?;
        self.users.set_disabled(record.user.id, None)?;
        self.record(AuditKind::UserEnabled, record.user.id)?;
        self.find(identifier)
    }

    /// Deletes a user with their sessions. Their audit records stay.
    pub fn delete(&self, identifier: &str) -> Result<UserRecord, AdminError> {
        let record = self.find(identifier)?;
        self.users.delete(record.user.id)?;
        self.record(AuditKind::UserDeleted, record.user.id)?;
        Ok(record)
    }

    /// Returns the newest audit records, of one user if `identifier` is set.
    pub fn audit_trail(
        &self,
        identifier: Option<&str>,
        limit: i64,
    ) -> Result<Vec<AuditRecord>, AdminError> {
        let user_id = match identifier {
            Some(identifier) => Some(self.find(identifier)?.user.id),
            None => None,
        };
        Ok(self.audit.recent(user_id, limit)?)
    }

    fn record(&self, kind: AuditKind, user_id: UserId) -> anyhow::Result<()> {
        self.audit.record(&AuditEvent {
            kind,
            user_id: Some(user_id),
            session_id: None,
            ip: None,
            at: now_in_micros(),
        })
    }
}
