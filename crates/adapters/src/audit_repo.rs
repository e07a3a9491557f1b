//! The diesel [`AuditLog`], one implementation for PostgreSQL and SQLite.

use anyhow::Context;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use platform_auth_domain::{AuditEvent, AuditKind, AuditLog, AuditRecord, UserId};

use crate::db::{checkout, AnyConnection, DbPool};
use crate::schema::audit_events;

/// Appends audit records to the `audit_events` table. Every method blocks.
#[derive(Clone)]
pub struct DieselAuditLog {
    pool: DbPool,
}

impl DieselAuditLog {
    pub fn new(pool: DbPool) -> Self {
        Self { pool }
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_events)]
struct AuditRow {
    id: i64,
    occurred_at: NaiveDateTime,
    event: String,
    user_id: Option<String>,
    session_id: Option<String>,
    ip: Option<String>,
}

impl AuditRow {
    fn into_record(self) -> anyhow::Result<AuditRecord> {
        let kind = AuditKind::parse(&self.event)
            .with_context(|| format!("stored audit event {:?} is unknown", self.event))?;
        let user_id = self
            .user_id
            .map(|id| id.parse().context("stored audit user id is not a UUID"))
            .transpose()?;
        let session_id = self
            .session_id
            .map(|id| id.parse().context("stored audit session id is not a UUID"))
            .transpose()?;
        Ok(AuditRecord {
            id: self.id,
            event: AuditEvent {
                kind,
                user_id,
                session_id,
                ip: self.ip,
                at: self.occurred_at.and_utc(),
            },
        })
    }
}

impl AuditLog for DieselAuditLog {
    fn record(&self, event: &AuditEvent) -> anyhow::Result<()> {
        let mut connection = checkout(&self.pool)?;

        diesel::insert_into(audit_events::table)
            .values((
                audit_events::occurred_at.eq(event.at.naive_utc()),
                audit_events::event.eq(event.kind.as_str()),
                audit_events::user_id.eq(event.user_id.map(|id| id.to_string())),
                audit_events::session_id.eq(event.session_id.map(|id| id.to_string())),
                audit_events::ip.eq(event.ip.as_deref()),
            ))
            .execute(&mut *connection as &mut AnyConnection)
            .context("failed to write an audit record")?;
        Ok(())
    }

    fn recent(&self, user_id: Option<UserId>, limit: i64) -> anyhow::Result<Vec<AuditRecord>> {
        let mut connection = checkout(&self.pool)?;
        let newest = audit_events::table
            .order(audit_events::id.desc())
            .limit(limit)
            .select(AuditRow::as_select());

        let rows = match user_id {
            Some(user_id) => newest
                .filter(audit_events::user_id.eq(user_id.to_string()))
                .load(&mut *connection as &mut AnyConnection),
            None => newest.load(&mut *connection as &mut AnyConnection),
        }
        .context("failed to read audit records")?;

        rows.into_iter().map(AuditRow::into_record).collect()
    }
}
