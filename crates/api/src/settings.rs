//! Configuration: the built-in `config/default.toml`, then the files
//! `config/default.toml` and `config/<env>.toml` on disk if present, then
//! environment variables (`PLATFORM_<KEY>` and `DATABASE_URL`).
//!
//! Every problem is reported as one line that names the setting and the fix.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use config::{Config, Environment, File, FileFormat};
use platform_auth_adapters::{Argon2Settings, Database, PoolSettings};
use platform_auth_domain::{PasswordPolicy, Secret, SessionPolicy};

mod limits;

pub use limits::LimitSettings;

const BUILT_IN_DEFAULTS: &str = include_str!("../../../config/default.toml");

/// The development environment name, where an insecure secret is tolerated.
pub const DEV_ENV: &str = "dev";

/// The signing secret used when none is set, in `dev` only.
pub const DEV_JWT_SECRET: &str = "dev-secret-change-me";

/// The shortest signing secret accepted outside `dev`: 256 bits, the HS256
/// key size RFC 7518 requires.
pub const MIN_SECRET_BYTES: usize = 32;

/// The maximum access-token lifetime: 365 days.
pub const MAX_JWT_TTL_SECONDS: u64 = 365 * 24 * 60 * 60;

/// The maximum session lifetime and idle timeout: 365 days.
pub const MAX_REFRESH_TTL_SECONDS: u64 = 365 * 24 * 60 * 60;

/// The effective configuration of one server process.
#[derive(Debug, Clone)]
pub struct Settings {
    pub env: String,
    pub host: String,
    pub port: u16,
    pub database: Database,
    pub jwt_secret: Secret<String>,
    pub jwt_ttl: Duration,
    pub sessions: SessionPolicy,
    /// How often ended, expired and idle sessions are deleted.
    pub session_prune_interval: Duration,
    /// A separate address for `/metrics`, for example `127.0.0.1:9100`.
    /// Unset, `/metrics` is served on the main address.
    pub metrics_addr: Option<String>,
    /// How long in-flight requests may run after SIGTERM or SIGINT.
    pub shutdown_timeout: Duration,
    pub pool: PoolSettings,
    pub argon2: Argon2Settings,
    pub password_policy: PasswordPolicy,
    pub limits: LimitSettings,
    /// Warnings to log once logging is up, for example about the
    /// development secret.
    pub warnings: Vec<String>,
}

/// A configuration problem, written as one line for the operator.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SettingsError(String);

impl SettingsError {
    fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl Settings {
    /// Loads the settings of this process: files under `PLATFORM_CONFIG_DIR`
    /// (default `config`) and the process environment.
    pub fn load() -> Result<Self, SettingsError> {
        let variables: HashMap<String, String> = std::env::vars().collect();
        Self::load_from(&variables)
    }

    /// Loads settings from the given environment variables instead of the
    /// process's own, which lets tests vary them freely.
    pub fn load_from(variables: &HashMap<String, String>) -> Result<Self, SettingsError> {
        let env = variables
            .get("PLATFORM_ENV")
            .map(|value| value.trim().to_string())
            .filter(|value| !value.is_empty())
            .unwrap_or_else(|| DEV_ENV.to_string());
        let config_dir = variables
            .get("PLATFORM_CONFIG_DIR")
            .map_or_else(|| PathBuf::from("config"), PathBuf::from);

        let raw = layered_config(&config_dir, &env, variables)?;
        Self::from_config(env, &raw)
    }

    fn from_config(env: String, raw: &Config) -> Result<Self, SettingsError> {
        let mut warnings = Vec::new();

        let host = required_string(raw, "host", "PLATFORM_HOST")?;
        let port = parse_number::<u16>(raw, "port", "PLATFORM_PORT", "a port from 0 to 65535")?;
        let database_url = required_string(raw, "database_url", "DATABASE_URL")?;
        let database = Database::from_url(&database_url)
            .map_err(|error| SettingsError::new(error.to_string()))?;

        let jwt_secret = jwt_secret(raw, &env, &mut warnings)?;
        let jwt_ttl = jwt_ttl(raw)?;
        let sessions = SessionPolicy {
            refresh_ttl: seconds(
                raw,
                "refresh_ttl",
                "PLATFORM_REFRESH_TTL",
                MAX_REFRESH_TTL_SECONDS,
            )?,
            idle_timeout: seconds(
                raw,
                "session_idle_timeout",
                "PLATFORM_SESSION_IDLE_TIMEOUT",
                MAX_REFRESH_TTL_SECONDS,
            )?,
            reuse_grace: seconds(
                raw,
                "refresh_reuse_grace",
                "PLATFORM_REFRESH_REUSE_GRACE",
                300,
            )?,
        };
        let session_prune_interval = seconds(
            raw,
            "session_prune_interval",
            "PLATFORM_SESSION_PRUNE_INTERVAL",
            24 * 3600,
        )?;

        let pool_size = parse_number::<u32>(
            raw,
            "db_pool_size",
            "PLATFORM_DB_POOL_SIZE",
            "a whole number from 1 to 1000",
        )?;
        if !(1..=1000).contains(&pool_size) {
            return Err(SettingsError::new(format!(
                "PLATFORM_DB_POOL_SIZE is {pool_size}; set it to a whole number from 1 to 1000"
            )));
        }

        let argon2 = argon2_settings(raw)?;
        let password_policy = password_policy(raw, &env)?;
        let limits = limits::limit_settings(raw)?;
        let metrics_addr = optional_string(raw, "metrics_addr");
        if let Some(address) = &metrics_addr {
            address.parse::<std::net::SocketAddr>().map_err(|_| {
                SettingsError::new(format!(
                    "PLATFORM_METRICS_ADDR is {address:?}; set it to an IP address and port such as 127.0.0.1:9100, or leave it unset"
                ))
            })?;
        }
        let shutdown_timeout = seconds(raw, "shutdown_timeout", "PLATFORM_SHUTDOWN_TIMEOUT", 3600)?;

        Ok(Self {
            env,
            host,
            port,
            database,
            jwt_secret,
            jwt_ttl,
            sessions,
            session_prune_interval,
            metrics_addr,
            shutdown_timeout,
            pool: PoolSettings {
                max_size: pool_size,
                ..PoolSettings::default()
            },
            argon2,
            password_policy,
            limits,
            warnings,
        })
    }

    pub fn is_dev(&self) -> bool {
        self.env == DEV_ENV
    }
}

fn layered_config(
    config_dir: &Path,
    env: &str,
    variables: &HashMap<String, String>,
) -> Result<Config, SettingsError> {
    let environment = Environment::with_prefix("PLATFORM")
        .prefix_separator("_")
        .source(Some(prefixed_variables(variables)));

    Config::builder()
        .add_source(File::from_str(BUILT_IN_DEFAULTS, FileFormat::Toml))
        .add_source(File::from(config_dir.join("default.toml")).required(false))
        .add_source(File::from(config_dir.join(format!("{env}.toml"))).required(false))
        .add_source(environment)
        .set_override_option("database_url", variables.get("DATABASE_URL").cloned())
        .and_then(|builder| builder.build())
        .map_err(|error| SettingsError::new(format!("failed to read the configuration: {error}")))
}

/// Selects the `PLATFORM_*` variables, minus the two that choose the files
/// rather than being settings themselves.
fn prefixed_variables(variables: &HashMap<String, String>) -> HashMap<String, String> {
    variables
        .iter()
        .filter(|(key, _)| key.starts_with("PLATFORM_"))
        .filter(|(key, _)| !matches!(key.as_str(), "PLATFORM_ENV" | "PLATFORM_CONFIG_DIR"))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

fn optional_string(raw: &Config, key: &str) -> Option<String> {
    raw.get_string(key)
        .ok()
        .map(|value| value.trim().to_string())
        .filter(|value| !value.is_empty())
}

fn required_string(raw: &Config, key: &str, variable: &str) -> Result<String, SettingsError> {
    optional_string(raw, key).ok_or_else(|| {
        SettingsError::new(format!(
            "{variable} is empty; set it or remove it to use the default"
        ))
    })
}

fn parse_number<T: std::str::FromStr>(
    raw: &Config,
    key: &str,
    variable: &str,
    expected: &str,
) -> Result<T, SettingsError> {
    let value = required_string(raw, key, variable)?;
    value
        .parse()
        .map_err(|_| SettingsError::new(format!("{variable} is {value:?}; set it to {expected}")))
}

fn jwt_secret(
    raw: &Config,
    env: &str,
    warnings: &mut Vec<String>,
) -> Result<Secret<String>, SettingsError> {
    // Read untrimmed: surrounding spaces are part of a secret.
    let secret = raw
        .get_string("jwt_secret")
        .ok()
        .filter(|value| !value.is_empty());

    if env == DEV_ENV {
        let secret = secret.unwrap_or_else(|| DEV_JWT_SECRET.to_string());
        if secret == DEV_JWT_SECRET {
            warnings.push(format!(
                "PLATFORM_JWT_SECRET is the public development default {DEV_JWT_SECRET:?}: anyone can forge tokens for this server. Set PLATFORM_JWT_SECRET and PLATFORM_ENV before exposing it."
            ));
        } else if secret.len() < MIN_SECRET_BYTES {
            warnings.push(format!(
                "PLATFORM_JWT_SECRET is shorter than {MIN_SECRET_BYTES} bytes, which is refused outside PLATFORM_ENV=dev"
            ));
        }
        return Ok(Secret::new(secret));
    }

    let fix = format!(
        "set PLATFORM_JWT_SECRET to a random value of at least {MIN_SECRET_BYTES} bytes, for example the output of `openssl rand -hex 32`"
    );
    match secret {
        None => Err(SettingsError::new(format!(
            "PLATFORM_JWT_SECRET is not set and PLATFORM_ENV is {env:?}; {fix}"
        ))),
        Some(secret) if secret == DEV_JWT_SECRET => Err(SettingsError::new(format!(
            "PLATFORM_JWT_SECRET is the public development default and PLATFORM_ENV is {env:?}; {fix}"
        ))),
        Some(secret) if secret.len() < MIN_SECRET_BYTES => Err(SettingsError::new(format!(
            "PLATFORM_JWT_SECRET is {} bytes long and PLATFORM_ENV is {env:?}; {fix}",
            secret.len()
        ))),
        Some(secret) => Ok(Secret::new(secret)),
    }
}

fn jwt_ttl(raw: &Config) -> Result<Duration, SettingsError> {
    seconds(raw, "jwt_ttl", "PLATFORM_JWT_TTL", MAX_JWT_TTL_SECONDS)
}

/// Reads a whole number of seconds from 1 to `max`.
fn seconds(raw: &Config, key: &str, variable: &str, max: u64) -> Result<Duration, SettingsError> {
    let expected = format!("a whole number of seconds from 1 to {max}");
    let value = required_string(raw, key, variable)?;
    let seconds: i128 = value.parse().map_err(|_| {
        SettingsError::new(format!("{variable} is {value:?}; set it to {expected}"))
    })?;

    if seconds < 1 || seconds > i128::from(max) {
        return Err(SettingsError::new(format!(
            "{variable} is {seconds}; set it to {expected}"
        )));
    }
    Ok(Duration::from_secs(seconds as u64))
}

fn argon2_settings(raw: &Config) -> Result<Argon2Settings, SettingsError> {
    let memory_kib = parse_number(
        raw,
        "argon2_memory_kib",
        "PLATFORM_ARGON2_MEMORY_KIB",
        "a whole number of KiB",
    )?;
    let iterations = parse_number(
        raw,
        "argon2_iterations",
        "PLATFORM_ARGON2_ITERATIONS",
        "a whole number",
    )?;
    let parallelism = parse_number(
        raw,
        "argon2_parallelism",
        "PLATFORM_ARGON2_PARALLELISM",
        "a whole number",
    )?;
    let settings = Argon2Settings {
        memory_kib,
        iterations,
        parallelism,
    };

    settings.validate().map_err(|error| {
        SettingsError::new(format!(
            "PLATFORM_ARGON2_MEMORY_KIB, PLATFORM_ARGON2_ITERATIONS and PLATFORM_ARGON2_PARALLELISM are not valid argon2 parameters ({error}); memory must be at least 8 KiB per lane and iterations at least 1"
        ))
    })?;
    Ok(settings)
}

/// Builds the password rules. Common passwords are rejected everywhere but
/// in `dev`, where short memorable test passwords are convenient.
fn password_policy(raw: &Config, env: &str) -> Result<PasswordPolicy, SettingsError> {
    let min_chars: usize = parse_number(
        raw,
        "password_min_length",
        "PLATFORM_PASSWORD_MIN_LENGTH",
        "a whole number of characters",
    )?;
    let max_chars: usize = parse_number(
        raw,
        "password_max_length",
        "PLATFORM_PASSWORD_MAX_LENGTH",
        "a whole number of characters",
    )?;

    if min_chars < 1 || max_chars < min_chars || max_chars > 1024 {
        return Err(SettingsError::new(format!(
            "PLATFORM_PASSWORD_MIN_LENGTH is {min_chars} and PLATFORM_PASSWORD_MAX_LENGTH is {max_chars}; set the minimum to at least 1 and the maximum between the minimum and 1024"
        )));
    }
    Ok(PasswordPolicy {
        min_chars,
        max_chars,
        reject_common: env != DEV_ENV,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn load(pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let mut variables: HashMap<String, String> = pairs
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect();
        // Keep files in the working folder out of these tests.
        variables
            .entry("PLATFORM_CONFIG_DIR".into())
            .or_insert_with(|| "/nonexistent-platform-auth-config".into());
        Settings::load_from(&variables)
    }

    pub(super) const STRONG: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn defaults_apply_in_dev() {
        let settings = load(&[]).unwrap();

        assert_eq!(settings.env, "dev");
        assert_eq!(settings.host, "127.0.0.1");
        assert_eq!(settings.port, 8000);
        assert_eq!(settings.jwt_ttl, Duration::from_secs(2_592_000));
        assert_eq!(settings.jwt_secret.expose(), DEV_JWT_SECRET);
        assert_eq!(settings.database.redacted(), "data/platform-auth.db");
        assert_eq!(settings.warnings.len(), 1);
    }

    #[test]
    fn environment_overrides_defaults() {
        let settings = load(&[
            ("PLATFORM_HOST", "0.0.0.0"),
            ("PLATFORM_PORT", "9000"),
            ("PLATFORM_JWT_TTL", "900"),
            ("PLATFORM_JWT_SECRET", STRONG),
            ("DATABASE_URL", "postgres://postgres@127.0.0.1/auth"),
        ])
        .unwrap();

        assert_eq!(settings.host, "0.0.0.0");
        assert_eq!(settings.port, 9000);
        assert_eq!(settings.jwt_ttl, Duration::from_secs(900));
        assert_eq!(settings.jwt_secret.expose(), STRONG);
        assert!(settings.warnings.is_empty());
    }

    #[test]
    fn production_requires_strong_secret() {
        let cases: [&[(&str, &str)]; 3] = [
            &[("PLATFORM_ENV", "production")],
            &[
                ("PLATFORM_ENV", "production"),
                ("PLATFORM_JWT_SECRET", DEV_JWT_SECRET),
            ],
            &[
                ("PLATFORM_ENV", "staging"),
                ("PLATFORM_JWT_SECRET", "short-secret"),
            ],
        ];
        for pairs in cases {
            let error = load(pairs).unwrap_err().to_string();
            assert!(error.starts_with("PLATFORM_JWT_SECRET"), "{error}");
            assert!(!error.contains('\n'), "{error}");
        }
    }

    #[test]
    fn production_accepts_strong_secret() {
        let settings = load(&[
            ("PLATFORM_ENV", "production"),
            ("PLATFORM_JWT_SECRET", STRONG),
        ]);

        assert!(settings.is_ok());
    }

    #[test]
    fn invalid_ttls_are_refused() {
        for ttl in [
            "0",
            "-5",
            "abc",
            "1.5",
            "",
            "31536001",
            "99999999999999999999999",
        ] {
            let result = load(&[("PLATFORM_JWT_TTL", ttl)]);
            let error = result.expect_err(ttl).to_string();
            assert!(error.starts_with("PLATFORM_JWT_TTL"), "{ttl}: {error}");
        }
    }

    #[test]
    fn session_settings_have_defaults() {
        let settings = load(&[]).unwrap();

        assert_eq!(settings.sessions, SessionPolicy::default());
        assert_eq!(settings.session_prune_interval, Duration::from_secs(300));
    }

    #[test]
    fn invalid_session_settings_are_refused() {
        let cases = [
            ("PLATFORM_REFRESH_TTL", "0"),
            ("PLATFORM_SESSION_IDLE_TIMEOUT", "soon"),
            ("PLATFORM_REFRESH_REUSE_GRACE", "301"),
            ("PLATFORM_SESSION_PRUNE_INTERVAL", "-1"),
        ];
        for (variable, value) in cases {
            let error = load(&[(variable, value)]).unwrap_err().to_string();
            assert!(error.starts_with(variable), "{error}");
        }
    }

    #[test]
    fn metrics_address_must_be_socket_address() {
        let error = load(&[("PLATFORM_METRICS_ADDR", "localhost")])
            .unwrap_err()
            .to_string();
        let valid = load(&[("PLATFORM_METRICS_ADDR", "127.0.0.1:9100")]).unwrap();

        assert!(error.starts_with("PLATFORM_METRICS_ADDR"), "{error}");
        assert_eq!(valid.metrics_addr.as_deref(), Some("127.0.0.1:9100"));
    }

    #[test]
    fn invalid_port_is_refused() {
        let error = load(&[("PLATFORM_PORT", "70000")]).unwrap_err().to_string();

        assert_eq!(
            error,
            "PLATFORM_PORT is \"70000\"; set it to a port from 0 to 65535"
        );
    }

    #[test]
    fn unsupported_database_is_refused() {
        let error = load(&[("DATABASE_URL", "mysql://localhost/auth")])
            .unwrap_err()
            .to_string();

        assert!(error.contains("mysql"), "{error}");
    }

    #[test]
    fn environment_file_overrides_defaults() {
        let folder = tempfile::tempdir().unwrap();
        std::fs::write(folder.path().join("staging.toml"), "port = 8123\n").unwrap();
        let dir = folder.path().to_string_lossy().into_owned();

        let settings = load(&[
            ("PLATFORM_CONFIG_DIR", dir.as_str()),
            ("PLATFORM_ENV", "staging"),
            ("PLATFORM_JWT_SECRET", STRONG),
        ])
        .unwrap();

        assert_eq!(settings.port, 8123);
    }

    #[test]
    fn common_passwords_are_rejected_outside_dev() {
        let dev = load(&[]).unwrap();
        let production = load(&[
            ("PLATFORM_ENV", "production"),
            ("PLATFORM_JWT_SECRET", STRONG),
        ])
        .unwrap();

        assert!(!dev.password_policy.reject_common);
        assert!(production.password_policy.reject_common);
    }

    #[test]
    fn secret_never_appears_in_debug_output() {
        let settings = load(&[("PLATFORM_JWT_SECRET", STRONG)]).unwrap();

        assert!(!format!("{settings:?}").contains(STRONG));
    }
}
