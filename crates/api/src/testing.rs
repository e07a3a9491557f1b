//! The application on a random loopback port over a throwaway database, for
//! the tests of crates that talk to a real server.

use std::collections::HashMap;

use platform_auth_adapters::testing::TestDatabase;

use crate::{Application, Settings};

/// A running server and the database it owns. The database is removed on
/// drop, and the server stops with the test's runtime.
pub struct TestServer {
    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub base_url: String,
    /// The server's database, for example to change rows behind its back.
    pub database: TestDatabase,
}

/// Starts the application over `database`, signing tokens with
/// `jwt_secret`, on the current Tokio runtime.
///
/// # Panics
/// When the settings are invalid or the server cannot start.
pub fn spawn_server(database: TestDatabase, jwt_secret: &str) -> TestServer {
    spawn_server_with(database, jwt_secret, &[])
}

/// Starts the application as [`spawn_server`] does, with `overrides` set
/// over the test settings, for example `[("PLATFORM_JWT_TTL", "1")]`.
///
/// # Panics
/// When the settings are invalid or the server cannot start.
pub fn spawn_server_with(
    database: TestDatabase,
    jwt_secret: &str,
    overrides: &[(&str, &str)],
) -> TestServer {
    let defaults = [
        ("PLATFORM_CONFIG_DIR", "/nonexistent-platform-auth-config"),
        ("PLATFORM_HOST", "127.0.0.1"),
        ("PLATFORM_PORT", "0"),
        ("PLATFORM_JWT_SECRET", jwt_secret),
        ("DATABASE_URL", database.url()),
    ];
    let variables: HashMap<String, String> = defaults
        .iter()
        .chain(overrides)
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect();

    let settings = Settings::load_from(&variables).expect("test settings are valid");
    let application = Application::build(&settings).expect("test server starts");
    let base_url = format!("http://{}", application.local_addr());
    tokio::spawn(application.run_until_stopped());

    TestServer { base_url, database }
}
