//! Database selection, the connection pool and the embedded migrations.
//!
//! One [`AnyConnection`] type serves PostgreSQL and SQLite, so the repository
//! is written once for both.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use diesel::connection::SimpleConnection;
use diesel::r2d2::R2D2Connection;
use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use platform_auth_domain::Secret;

const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// Serialises migration runs of several instances starting at once on one
/// PostgreSQL database. The value is arbitrary but fixed.
const MIGRATION_LOCK_KEY: i64 = 0x706c_6174_6175_7468;

/// Applied to every SQLite connection. WAL lets readers run beside the one
/// writer, and the busy timeout makes concurrent writers wait for the lock
/// instead of failing with "database is locked".
/// The busy timeout comes first so that the switch to WAL, which needs a
/// moment of exclusive access, waits for connections opened beside it.
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 5000;
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA foreign_keys = ON;";

/// A connection to either supported database.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

pub type DbPool = r2d2::Pool<ConnectionManager>;
pub type PooledConnection = r2d2::PooledConnection<ConnectionManager>;

/// Takes a connection from the pool, waiting at most the pool's connection
/// timeout.
pub(crate) fn checkout(pool: &DbPool) -> anyhow::Result<PooledConnection> {
    let started = std::time::Instant::now();
    let connection = pool.get();
    metrics::histogram!("db_pool_wait_seconds").record(started.elapsed().as_secs_f64());
    connection.context("failed to get a database connection from the pool")
}

/// The reason the database is not ready to serve requests.
#[derive(Debug, thiserror::Error)]
pub enum NotReady {
    #[error("the database is unreachable")]
    Unreachable(#[source] anyhow::Error),
    #[error("database migrations are pending")]
    MigrationsPending,
}

/// Checks that the database runs a query within `timeout` and that
/// every embedded migration has been applied.
pub fn check_ready(pool: &DbPool, timeout: Duration) -> Result<(), NotReady> {
    let mut connection = pool
        .get_timeout(timeout)
        .map_err(|error| NotReady::Unreachable(error.into()))?;
    connection
        .batch_execute("SELECT 1")
        .map_err(|error| NotReady::Unreachable(error.into()))?;

    let pending = match &mut *connection {
        AnyConnection::Postgres(connection) => {
            connection.has_pending_migration(POSTGRES_MIGRATIONS)
        }
        AnyConnection::Sqlite(connection) => connection.has_pending_migration(SQLITE_MIGRATIONS),
    }
    .map_err(|error| NotReady::Unreachable(anyhow::anyhow!(error)))?;
    if pending {
        return Err(NotReady::MigrationsPending);
    }
    Ok(())
}

/// Publishes the pool's size and use as gauges: open, idle, in-use and
/// maximum connections.
pub fn record_pool_state(pool: &DbPool) {
    let state = pool.state();
    metrics::gauge!("db_pool_connections").set(f64::from(state.connections));
    metrics::gauge!("db_pool_idle_connections").set(f64::from(state.idle_connections));
    metrics::gauge!("db_pool_in_use_connections")
        .set(f64::from(state.connections - state.idle_connections));
    metrics::gauge!("db_pool_max_connections").set(f64::from(pool.max_size()));
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    Postgres,
    Sqlite,
}

/// The database location, parsed from a `DATABASE_URL` value.
#[derive(Debug, Clone)]
pub struct Database {
    kind: DatabaseKind,
    /// A PostgreSQL URL, which may carry a password, or a SQLite file path.
    target: Secret<String>,
}

/// The reason a `DATABASE_URL` value was rejected.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseUrlError {
    #[error("DATABASE_URL is empty; set it to postgres://... or a SQLite file path")]
    Empty,
    #[error(
        "DATABASE_URL uses the unsupported scheme `{0}`; use postgres://, sqlite:// or a file path"
    )]
    UnsupportedScheme(String),
    #[error("DATABASE_URL names an in-memory SQLite database, which each pooled connection would see empty; use a file path")]
    InMemory,
}

impl Database {
    /// Parses `postgres://` or `postgresql://` URLs as PostgreSQL, and
    /// `sqlite://PATH` or a bare path as a SQLite file.
    pub fn from_url(url: &str) -> Result<Self, DatabaseUrlError> {
        let url = url.trim();
        if url.is_empty() {
            return Err(DatabaseUrlError::Empty);
        }

        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self {
                kind: DatabaseKind::Postgres,
                target: Secret::new(url.to_string()),
            });
        }

        let path = match url.split_once("://") {
            Some(("sqlite", path)) => path,
            Some((scheme, _)) => return Err(DatabaseUrlError::UnsupportedScheme(scheme.into())),
            None => url,
        };
        if path.is_empty() || path == ":memory:" || path.contains("mode=memory") {
            return Err(DatabaseUrlError::InMemory);
        }
        Ok(Self {
            kind: DatabaseKind::Sqlite,
            target: Secret::new(path.to_string()),
        })
    }

    pub fn kind(&self) -> DatabaseKind {
        self.kind
    }

    /// Connects and applies pending migrations: the server's start-up step.
    pub fn open(&self, settings: &PoolSettings) -> anyhow::Result<DbPool> {
        let pool = connect(self, settings)?;
        run_migrations(&pool)?;
        Ok(pool)
    }

    /// Returns a form safe to log: the SQLite path, or the PostgreSQL URL
    /// with any password replaced.
    pub fn redacted(&self) -> String {
        match self.kind {
            DatabaseKind::Sqlite => self.target.expose().clone(),
            DatabaseKind::Postgres => redact_url_password(self.target.expose()),
        }
    }

    fn sqlite_path(&self) -> Option<PathBuf> {
        (self.kind == DatabaseKind::Sqlite).then(|| PathBuf::from(self.target.expose()))
    }
}

fn redact_url_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let Some((user_info, host)) = authority.rsplit_once('@') else {
        return url.to_string();
    };
    let user = user_info.split(':').next().unwrap_or_default();
    if user_info.contains(':') {
        format!("{scheme}://{user}:[REDACTED]@{host}{tail}")
    } else {
        url.to_string()
    }
}

/// Pool sizing.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_size: u32,
    /// How long a request waits for a free connection before it fails.
    pub connection_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_size: 10,
            connection_timeout: Duration::from_secs(5),
        }
    }
}

/// Opens connections of the configured kind. Diesel's own r2d2 manager would
/// try each backend in turn, so a PostgreSQL URL whose server is down could
/// end up opened as a SQLite file path.
#[derive(Debug)]
pub struct ConnectionManager {
    database: Database,
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = AnyConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<AnyConnection, Self::Error> {
        let target = self.database.target.expose();
        match self.database.kind {
            DatabaseKind::Postgres => PgConnection::establish(target)
                .map(AnyConnection::Postgres)
                .map_err(diesel::r2d2::Error::ConnectionError),
            DatabaseKind::Sqlite => {
                let mut connection = SqliteConnection::establish(target)
                    .map_err(diesel::r2d2::Error::ConnectionError)?;
                connection
                    .batch_execute(SQLITE_PRAGMAS)
                    .map_err(diesel::r2d2::Error::QueryError)?;
                Ok(AnyConnection::Sqlite(connection))
            }
        }
    }

    /// Runs as each connection leaves the pool, so it sends no query: a
    /// ping would add a database round trip to every request. libpq marks a
    /// PostgreSQL connection bad once a read or write on it fails, so a lost
    /// connection fails the one request that finds it lost and is then
    /// dropped by `has_broken`. A SQLite connection has no server to lose
    /// and is not checked.
    fn is_valid(&self, connection: &mut AnyConnection) -> Result<(), Self::Error> {
        match connection {
            AnyConnection::Postgres(connection) => connection
                .version()
                .map(|_| ())
                .map_err(diesel::r2d2::Error::QueryError),
            AnyConnection::Sqlite(_) => Ok(()),
        }
    }

    fn has_broken(&self, connection: &mut AnyConnection) -> bool {
        connection.is_broken() || self.is_valid(connection).is_err()
    }
}

/// Builds the pool, creating the SQLite file and its folder if needed. Fails
/// when no connection can be opened within the connection timeout.
pub fn connect(database: &Database, settings: &PoolSettings) -> anyhow::Result<DbPool> {
    if let Some(path) = database.sqlite_path() {
        create_parent_dir(&path)?;
    }

    let manager = ConnectionManager {
        database: database.clone(),
    };
    r2d2::Pool::builder()
        .max_size(settings.max_size)
        .connection_timeout(settings.connection_timeout)
        .build(manager)
        .with_context(|| {
            format!(
                "failed to connect to the database at {}",
                database.redacted()
            )
        })
}

fn create_parent_dir(path: &Path) -> anyhow::Result<()> {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => std::fs::create_dir_all(parent)
            .with_context(|| format!("failed to create the folder {}", parent.display())),
        _ => Ok(()),
    }
}

/// Applies every pending migration of the pool's backend and returns how
/// many were applied.
pub fn run_migrations(pool: &DbPool) -> anyhow::Result<usize> {
    let mut connection = pool
        .get()
        .context("failed to get a connection for migrations")?;
    let applied = match &mut *connection {
        AnyConnection::Postgres(connection) => {
            connection.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))?;
            let applied = connection
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|versions| versions.len());
            connection
                .batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))?;
            applied.map_err(|error| anyhow::anyhow!(error))?
        }
        AnyConnection::Sqlite(connection) => connection
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map_err(|error| anyhow::anyhow!(error))?
            .len(),
    };
    tracing::info!(
        migrations.applied = applied,
        "database schema is up to date"
    );
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_selects_backend() {
        let cases = [
            ("postgres://u@localhost/db", DatabaseKind::Postgres),
            ("postgresql://localhost/db", DatabaseKind::Postgres),
            ("sqlite://data/app.db", DatabaseKind::Sqlite),
            ("data/app.db", DatabaseKind::Sqlite),
            ("/var/lib/auth.db", DatabaseKind::Sqlite),
        ];
        for (url, kind) in cases {
            assert_eq!(Database::from_url(url).unwrap().kind(), kind, "{url}");
        }
    }

    #[test]
    fn url_rejects_unusable_values() {
        assert!(matches!(
            Database::from_url(""),
            Err(DatabaseUrlError::Empty)
        ));
        assert!(matches!(
            Database::from_url("mysql://localhost/db"),
            Err(DatabaseUrlError::UnsupportedScheme(scheme)) if scheme == "mysql"
        ));
        assert!(matches!(
            Database::from_url(":memory:"),
            Err(DatabaseUrlError::InMemory)
        ));
    }

    #[test]
    fn redacted_url_hides_password() {
        let database = Database::from_url("postgres://app:s3cret@db:5432/auth").unwrap();

        assert_eq!(
            database.redacted(),
            "postgres://app:[REDACTED]@db:5432/auth"
        );
        assert!(!format!("{database:?}").contains("s3cret"));
    }

    #[test]
    fn redacted_url_keeps_passwordless_url() {
        let database = Database::from_url("postgres://postgres@127.0.0.1/auth").unwrap();

        assert_eq!(database.redacted(), "postgres://postgres@127.0.0.1/auth");
    }
}
