//! The diesel [`LimitStore`]: abuse-limit counters in the service's own
//! database, one implementation for PostgreSQL and SQLite.
//!
//! Every counter changes in one `INSERT ... ON CONFLICT DO UPDATE` statement,
//! so concurrent requests on any number of instances never lose an update.
//! Diesel's query builder has no upsert for a `MultiConnection`, so the
//! statements are raw SQL. `$n` placeholders serve both backends: SQLite
//! reads them as named parameters, numbered in order of first use.

use anyhow::Context;
use chrono::{DateTime, DurationRound, NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text, Timestamp};
use platform_auth_domain::{FailureRecord, LimitStore};
use sha2::{Digest, Sha256};

use crate::db::{AnyConnection, ConnectionManager, DbPool};

/// Counts the request unless its window is full. The `WHERE` of the
/// `DO UPDATE` makes a full window a no-op, so one affected row means the
/// request was counted and none means it was rejected. A later window
/// replaces the stored one. An earlier one, from an instance whose clock
/// lags, counts into the stored window.
const TRY_HIT: &str = "
INSERT INTO rate_limit_windows (key_digest, window_start, hits) VALUES ($1, $2, 1)
ON CONFLICT (key_digest) DO UPDATE SET
    hits = CASE WHEN excluded.window_start > rate_limit_windows.window_start THEN 1
                ELSE rate_limit_windows.hits + 1 END,
    window_start = CASE WHEN excluded.window_start > rate_limit_windows.window_start
                        THEN excluded.window_start
                        ELSE rate_limit_windows.window_start END
WHERE excluded.window_start > rate_limit_windows.window_start
   OR rate_limit_windows.hits < $3";

/// Adds one failure, starting again from one when the previous failure is
/// older than the third parameter, and keeps the latest failure time.
const RECORD_FAILURE: &str = "
INSERT INTO login_failures (key_digest, failures, last_failed_at) VALUES ($1, 1, $2)
ON CONFLICT (key_digest) DO UPDATE SET
    failures = CASE WHEN login_failures.last_failed_at < $3 THEN 1
                    ELSE login_failures.failures + 1 END,
    last_failed_at = CASE WHEN excluded.last_failed_at > login_failures.last_failed_at
                          THEN excluded.last_failed_at
                          ELSE login_failures.last_failed_at END";

const SELECT_FAILURES: &str =
    "SELECT failures, last_failed_at FROM login_failures WHERE key_digest = $1";

const DELETE_FAILURES: &str = "DELETE FROM login_failures WHERE key_digest = $1";

const PURGE_WINDOWS: &str = "DELETE FROM rate_limit_windows WHERE window_start < $1";

const PURGE_FAILURES: &str = "DELETE FROM login_failures WHERE last_failed_at < $1";

/// Stores abuse-limit counters through a pooled diesel connection. Every
/// method blocks.
#[derive(Clone)]
pub struct DieselLimitStore {
    pool: DbPool,
}

impl DieselLimitStore {
    pub fn new(pool: DbPool) -> Self {
        Self { pool }
    }

    fn connection(&self) -> anyhow::Result<r2d2::PooledConnection<ConnectionManager>> {
        self.pool
            .get()
            .context("failed to get a database connection from the pool")
    }
}

#[derive(QueryableByName)]
struct FailureRow {
    #[diesel(sql_type = Integer)]
    failures: i32,
    #[diesel(sql_type = Timestamp)]
    last_failed_at: NaiveDateTime,
}

impl LimitStore for DieselLimitStore {
    fn try_hit(&self, key: &str, window_start: DateTime<Utc>, limit: u32) -> anyhow::Result<bool> {
        let mut connection = self.connection()?;

        let counted = diesel::sql_query(TRY_HIT)
            .bind::<Text, _>(key_digest(key))
            .bind::<Timestamp, _>(stored_time(window_start))
            .bind::<Integer, _>(i32::try_from(limit).unwrap_or(i32::MAX))
            .execute(&mut *connection as &mut AnyConnection)
            .context("failed to count a request against its rate limit")?;
        Ok(counted > 0)
    }

    fn failures(&self, key: &str) -> anyhow::Result<Option<FailureRecord>> {
        let mut connection = self.connection()?;

        let row = diesel::sql_query(SELECT_FAILURES)
            .bind::<Text, _>(key_digest(key))
            .get_result::<FailureRow>(&mut *connection as &mut AnyConnection)
            .optional()
            .context("failed to read the failed logins of an account")?;

        Ok(row.map(|row| FailureRecord {
            failures: u32::try_from(row.failures).unwrap_or_default(),
            last_failed_at: row.last_failed_at.and_utc(),
        }))
    }

    fn record_failure(
        &self,
        key: &str,
        at: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let mut connection = self.connection()?;

        diesel::sql_query(RECORD_FAILURE)
            .bind::<Text, _>(key_digest(key))
            .bind::<Timestamp, _>(stored_time(at))
            .bind::<Timestamp, _>(stored_time(forget_before))
            .execute(&mut *connection as &mut AnyConnection)
            .context("failed to record a failed login")?;
        Ok(())
    }

    fn clear_failures(&self, key: &str) -> anyhow::Result<bool> {
        let mut connection = self.connection()?;

        let deleted = diesel::sql_query(DELETE_FAILURES)
            .bind::<Text, _>(key_digest(key))
            .execute(&mut *connection as &mut AnyConnection)
            .context("failed to clear the failed logins of an account")?;
        Ok(deleted > 0)
    }

    fn purge(
        &self,
        windows_before: DateTime<Utc>,
        failures_before: DateTime<Utc>,
    ) -> anyhow::Result<u64> {
        let mut connection = self.connection()?;
        let connection = &mut *connection as &mut AnyConnection;

        let windows = diesel::sql_query(PURGE_WINDOWS)
            .bind::<Timestamp, _>(stored_time(windows_before))
            .execute(connection)
            .context("failed to delete ended rate-limit windows")?;
        let failures = diesel::sql_query(PURGE_FAILURES)
            .bind::<Timestamp, _>(stored_time(failures_before))
            .execute(connection)
            .context("failed to delete forgotten failed logins")?;
        Ok(u64::try_from(windows + failures).unwrap_or(u64::MAX))
    }
}

/// Returns the hex SHA-256 of a key, which gives every key the same width
/// and keeps emails and addresses out of the table.
pub fn key_digest(key: &str) -> String {
    format!("{:x}", Sha256::digest(key.as_bytes()))
}

/// Truncates to whole microseconds, the precision PostgreSQL keeps, so that
/// both backends store and compare the same value.
fn stored_time(time: DateTime<Utc>) -> NaiveDateTime {
    time.duration_trunc(TimeDelta::microseconds(1))
        .unwrap_or(time)
        .naive_utc()
}
