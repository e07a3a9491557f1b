//! Throwaway databases for tests: a fresh PostgreSQL database or a SQLite
//! file in a temporary folder, removed again on drop.

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, RunQueryDsl};

use crate::db::{Database, DbPool, PoolSettings};

/// The PostgreSQL server tests create their databases on. Override it with
/// `PLATFORM_AUTH_TEST_POSTGRES_URL`.
pub const DEFAULT_POSTGRES_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Generates a `postgres` and a `sqlite` test that each call the named
/// function with their [`Backend`].
#[macro_export]
macro_rules! on_both_backends {
    ($($body:ident),* $(,)?) => {
        $(
            mod $body {
                #[test]
                fn postgres() {
                    super::$body($crate::testing::Backend::Postgres);
                }

                #[test]
                fn sqlite() {
                    super::$body($crate::testing::Backend::Sqlite);
                }
            }
        )*
    };
}

/// The two backends, for running one test body on each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// A database that exists for one test.
pub struct TestDatabase {
    url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Postgres { admin_url: String, name: String },
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
}

impl TestDatabase {
    pub fn create(backend: Backend) -> Self {
        match backend {
            Backend::Postgres => Self::postgres(),
            Backend::Sqlite => Self::sqlite(),
        }
    }

    /// Creates an empty database with a random name on the test server.
    ///
    /// # Panics
    /// When the server cannot be reached: the PostgreSQL tests need it.
    pub fn postgres() -> Self {
        let admin_url = std::env::var("PLATFORM_AUTH_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| DEFAULT_POSTGRES_ADMIN_URL.to_string());
        let name = format!("platform_auth_test_{}", uuid::Uuid::new_v4().simple());

        let mut admin = PgConnection::establish(&admin_url).unwrap_or_else(|error| {
            panic!("PostgreSQL for tests is not reachable at {admin_url}: {error}")
        });
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("failed to create a test database");

        let (server, _) = admin_url
            .rsplit_once('/')
            .expect("the admin URL names a database");
        // Without TLS, libpq leaves OpenSSL alone. With it, OpenSSL's
        // clean-up at process exit races with pool threads of servers that
        // tests leave running, which intermittently crashed the test binary
        // after every test had passed.
        Self {
            url: format!("{server}/{name}?sslmode=disable"),
            cleanup: Cleanup::Postgres { admin_url, name },
        }
    }

    /// Names a SQLite file in a fresh temporary folder; the file itself is
    /// created on first connection.
    pub fn sqlite() -> Self {
        let folder = tempfile::tempdir().expect("failed to create a temporary folder");
        let path = folder.path().join("platform-auth.db");
        Self {
            url: path.to_string_lossy().into_owned(),
            cleanup: Cleanup::Sqlite(folder),
        }
    }

    /// Returns the `DATABASE_URL` value for this database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Runs SQL statements on this database, for example to delete a user
    /// behind the service's back.
    pub fn execute(&self, sql: &str) {
        let pool = self.open_pool();
        let mut connection = pool.get().expect("failed to get a test connection");
        connection.batch_execute(sql).expect("test SQL failed");
    }

    /// Counts the rows of a table.
    pub fn count_rows(&self, table: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            count: i64,
        }

        let pool = self.open_pool();
        let mut connection = pool.get().expect("failed to get a test connection");
        let count: Count = diesel::sql_query(format!("SELECT COUNT(*) AS count FROM {table}"))
            .get_result(&mut *connection)
            .expect("count query failed");
        count.count
    }

    /// Connects and migrates, as the server does at start-up.
    pub fn open_pool(&self) -> DbPool {
        Database::from_url(&self.url)
            .expect("test database URL is valid")
            .open(&PoolSettings::default())
            .expect("failed to open the test database")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup {
            // Best effort: a database left behind only costs disk space.
            if let Ok(mut admin) = PgConnection::establish(admin_url) {
                let _ =
                    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}
