//! The diesel [`SessionRepo`], one implementation for PostgreSQL and SQLite.

use anyhow::Context;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use platform_auth_domain::{
    ClientInfo, NewSession, RetiredRefreshToken, Rotation, Session, SessionId, SessionRepo, User,
    UserId,
};

use crate::db::{checkout, AnyConnection, DbPool, PooledConnection};
use crate::schema::{retired_refresh_tokens, sessions, users};
use crate::user_repo::UserRow;

/// Stores sessions through a pooled diesel connection. Every method blocks.
#[derive(Clone)]
pub struct DieselSessionRepo {
    pool: DbPool,
}

impl DieselSessionRepo {
    pub fn new(pool: DbPool) -> Self {
        Self { pool }
    }

    fn connection(&self) -> anyhow::Result<PooledConnection> {
        checkout(&self.pool)
    }
}

#[derive(Insertable)]
#[diesel(table_name = sessions)]
struct NewSessionRow<'a> {
    id: String,
    user_id: String,
    refresh_digest: &'a str,
    created_at: NaiveDateTime,
    last_used_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    user_agent: Option<&'a str>,
    ip: Option<&'a str>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = sessions)]
struct SessionRow {
    id: String,
    user_id: String,
    refresh_digest: String,
    created_at: NaiveDateTime,
    last_used_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    revoked_at: Option<NaiveDateTime>,
    user_agent: Option<String>,
    ip: Option<String>,
}

impl SessionRow {
    fn into_session(self) -> anyhow::Result<Session> {
        Ok(Session {
            id: self
                .id
                .parse()
                .with_context(|| format!("stored session id {:?} is not a UUID", self.id))?,
            user_id: self
                .user_id
                .parse()
                .with_context(|| format!("stored user id {:?} is not a UUID", self.user_id))?,
            created_at: self.created_at.and_utc(),
            last_used_at: self.last_used_at.and_utc(),
            expires_at: self.expires_at.and_utc(),
            revoked_at: self.revoked_at.map(|at| at.and_utc()),
            client: ClientInfo {
                user_agent: self.user_agent,
                ip: self.ip,
            },
            refresh_digest: self.refresh_digest,
        })
    }
}

fn naive(at: DateTime<Utc>) -> NaiveDateTime {
    at.naive_utc()
}

impl SessionRepo for DieselSessionRepo {
    fn create(&self, session: &NewSession) -> anyhow::Result<()> {
        let row = NewSessionRow {
            id: session.id.to_string(),
            user_id: session.user_id.to_string(),
            refresh_digest: &session.refresh_digest,
            created_at: naive(session.started_at),
            last_used_at: naive(session.started_at),
            expires_at: naive(session.expires_at),
            user_agent: session.client.user_agent.as_deref(),
            ip: session.client.ip.as_deref(),
        };
        let mut connection = self.connection()?;

        diesel::insert_into(sessions::table)
            .values(&row)
            .execute(&mut *connection as &mut AnyConnection)
            .context("failed to insert a session")?;
        Ok(())
    }

    fn find(&self, id: SessionId) -> anyhow::Result<Option<Session>> {
        let mut connection = self.connection()?;

        let row = sessions::table
            .find(id.to_string())
            .select(SessionRow::as_select())
            .first(&mut *connection as &mut AnyConnection)
            .optional()
            .context("failed to look a session up by id")?;

        row.map(SessionRow::into_session).transpose()
    }

    fn find_by_refresh_digest(&self, digest: &str) -> anyhow::Result<Option<Session>> {
        let mut connection = self.connection()?;

        let row = sessions::table
            .filter(sessions::refresh_digest.eq(digest))
            .select(SessionRow::as_select())
            .first(&mut *connection as &mut AnyConnection)
            .optional()
            .context("failed to look a session up by refresh token")?;

        row.map(SessionRow::into_session).transpose()
    }

    fn find_retired(&self, digest: &str) -> anyhow::Result<Option<RetiredRefreshToken>> {
        let mut connection = self.connection()?;

        let row: Option<(String, NaiveDateTime)> = retired_refresh_tokens::table
            .find(digest)
            .select((
                retired_refresh_tokens::session_id,
                retired_refresh_tokens::retired_at,
            ))
            .first(&mut *connection as &mut AnyConnection)
            .optional()
            .context("failed to look up a retired refresh token")?;

        row.map(|(session_id, retired_at)| {
            Ok(RetiredRefreshToken {
                session_id: session_id
                    .parse()
                    .with_context(|| format!("stored session id {session_id:?} is not a UUID"))?,
                retired_at: retired_at.and_utc(),
            })
        })
        .transpose()
    }

    fn rotate(&self, rotation: &Rotation) -> anyhow::Result<bool> {
        let mut connection = self.connection()?;
        let connection = &mut *connection as &mut AnyConnection;
        let session_id = rotation.session_id.to_string();
        let at = naive(rotation.at);

        connection
            .transaction(|connection| {
                let current = sessions::table
                    .filter(sessions::id.eq(&session_id))
                    .filter(sessions::refresh_digest.eq(&rotation.retired_digest))
                    .filter(sessions::revoked_at.is_null());
                let updated = diesel::update(current)
                    .set((
                        sessions::refresh_digest.eq(&rotation.new_digest),
                        sessions::last_used_at.eq(at),
                        sessions::user_agent.eq(rotation.client.user_agent.as_deref()),
                        sessions::ip.eq(rotation.client.ip.as_deref()),
                    ))
                    .execute(connection)?;
                if updated == 0 {
                    return Ok(false);
                }

                diesel::insert_into(retired_refresh_tokens::table)
                    .values((
                        retired_refresh_tokens::digest.eq(&rotation.retired_digest),
                        retired_refresh_tokens::session_id.eq(&session_id),
                        retired_refresh_tokens::retired_at.eq(at),
                    ))
                    .execute(connection)?;
                Ok(true)
            })
            .map_err(|error: diesel::result::Error| anyhow::Error::new(error))
            .context("failed to rotate a refresh token")
    }

    fn find_session_user(
        &self,
        user_id: UserId,
        session_id: SessionId,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<User>> {
        let mut connection = self.connection()?;

        let live_session_user = users::table
            .inner_join(sessions::table)
            .filter(sessions::id.eq(session_id.to_string()))
            .filter(users::id.eq(user_id.to_string()))
            .filter(users::disabled_at.is_null())
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::expires_at.gt(naive(now)));
        // Every authenticated request runs this query, so it runs on the
        // backend's own connection: through `AnyConnection`, diesel renders
        // the SQL text again on each execution, even of a cached statement.
        let row = match &mut *connection {
            AnyConnection::Postgres(connection) => live_session_user
                .select(UserRow::as_select())
                .first(connection),
            AnyConnection::Sqlite(connection) => live_session_user
                .select(UserRow::as_select())
                .first(connection),
        }
        .optional()
        .context("failed to look up the user of a session")?;

        row.map(UserRow::into_user).transpose()
    }

    fn revoke(
        &self,
        user_id: UserId,
        session_id: SessionId,
        at: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        let mut connection = self.connection()?;

        let live = sessions::table
            .filter(sessions::id.eq(session_id.to_string()))
            .filter(sessions::user_id.eq(user_id.to_string()))
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::expires_at.gt(naive(at)));
        let updated = diesel::update(live)
            .set(sessions::revoked_at.eq(naive(at)))
            .execute(&mut *connection as &mut AnyConnection)
            .context("failed to end a session")?;
        Ok(updated == 1)
    }

    fn revoke_all(&self, user_id: UserId, at: DateTime<Utc>) -> anyhow::Result<()> {
        let mut connection = self.connection()?;
        let connection = &mut *connection as &mut AnyConnection;
        let user_id = user_id.to_string();

        connection
            .transaction(|connection| {
                let live = sessions::table
                    .filter(sessions::user_id.eq(&user_id))
                    .filter(sessions::revoked_at.is_null());
                diesel::update(live)
                    .set(sessions::revoked_at.eq(naive(at)))
                    .execute(connection)?;
                diesel::update(users::table.find(&user_id))
                    .set(users::tokens_valid_after.eq(naive(at)))
                    .execute(connection)?;
                Ok(())
            })
            .map_err(|error: diesel::result::Error| anyhow::Error::new(error))
            .context("failed to end all sessions of a user")
    }

    fn list_live(
        &self,
        user_id: UserId,
        now: DateTime<Utc>,
        idle_cutoff: DateTime<Utc>,
    ) -> anyhow::Result<Vec<Session>> {
        let mut connection = self.connection()?;

        let rows = sessions::table
            .filter(sessions::user_id.eq(user_id.to_string()))
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::expires_at.gt(naive(now)))
            .filter(sessions::last_used_at.gt(naive(idle_cutoff)))
            .order(sessions::created_at.desc())
            .select(SessionRow::as_select())
            .load(&mut *connection as &mut AnyConnection)
            .context("failed to list sessions")?;

        rows.into_iter().map(SessionRow::into_session).collect()
    }

    fn prune(
        &self,
        now: DateTime<Utc>,
        idle_cutoff: DateTime<Utc>,
        revoked_before: DateTime<Utc>,
    ) -> anyhow::Result<usize> {
        let mut connection = self.connection()?;

        let finished = sessions::table.filter(
            sessions::revoked_at
                .lt(naive(revoked_before))
                .or(sessions::expires_at.le(naive(now)))
                .or(sessions::last_used_at.le(naive(idle_cutoff))),
        );
        diesel::delete(finished)
            .execute(&mut *connection as &mut AnyConnection)
            .context("failed to prune sessions")
    }
}
