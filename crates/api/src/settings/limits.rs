//! The abuse-limit settings: per-client request limits, account lockout,
//! trusted proxies and the hash gate. Each is validated into one line that
//! names the variable and the valid range.

use std::time::Duration;

use config::Config;
use platform_auth_domain::{LockoutPolicy, RateLimit};

use super::{optional_string, required_string, SettingsError};
use crate::client_ip::{ForwardedHeader, ProxySettings};
use crate::hash_gate::HashGateSettings;

const DAY_SECONDS: u64 = 24 * 60 * 60;

/// Every abuse limit of one server process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitSettings {
    pub login_per_client: RateLimit,
    pub register_per_client: RateLimit,
    pub lockout: LockoutPolicy,
    pub proxies: ProxySettings,
    pub hash_gate: HashGateSettings,
}

pub(super) fn limit_settings(raw: &Config) -> Result<LimitSettings, SettingsError> {
    Ok(LimitSettings {
        login_per_client: rate_limit(raw, "login")?,
        register_per_client: rate_limit(raw, "register")?,
        lockout: lockout_policy(raw)?,
        proxies: proxy_settings(raw)?,
        hash_gate: hash_gate_settings(raw)?,
    })
}

/// Reads a whole number of `unit` from `min` to `max` from `key`, whose
/// variable is `PLATFORM_<KEY>`.
fn bounded(raw: &Config, key: &str, unit: &str, min: u64, max: u64) -> Result<u64, SettingsError> {
    let variable = format!("PLATFORM_{}", key.to_ascii_uppercase());
    let value = required_string(raw, key, &variable)?;
    let invalid = || {
        SettingsError::new(format!(
            "{variable} is {value:?}; set it to a whole number of {unit} from {min} to {max}"
        ))
    };

    let number: u64 = value.parse().map_err(|_| invalid())?;
    if !(min..=max).contains(&number) {
        return Err(invalid());
    }
    Ok(number)
}

fn seconds(raw: &Config, key: &str, min: u64, max: u64) -> Result<Duration, SettingsError> {
    bounded(raw, key, "seconds", min, max).map(Duration::from_secs)
}

fn count(raw: &Config, key: &str, min: u64, max: u64) -> Result<u32, SettingsError> {
    let number = bounded(raw, key, "requests", min, max)?;
    Ok(u32::try_from(number).unwrap_or(u32::MAX))
}

/// Reads `<route>_limit_per_client` and `<route>_limit_window_seconds`.
fn rate_limit(raw: &Config, route: &str) -> Result<RateLimit, SettingsError> {
    Ok(RateLimit {
        max_requests: count(raw, &format!("{route}_limit_per_client"), 1, 1_000_000)?,
        window: seconds(
            raw,
            &format!("{route}_limit_window_seconds"),
            1,
            DAY_SECONDS,
        )?,
    })
}

fn lockout_policy(raw: &Config) -> Result<LockoutPolicy, SettingsError> {
    let threshold = bounded(raw, "lockout_threshold", "failed logins", 1, 1000)?;
    let base_lock = seconds(raw, "lockout_base_seconds", 1, DAY_SECONDS)?;
    let max_lock = seconds(raw, "lockout_max_seconds", 1, 7 * DAY_SECONDS)?;
    let forget_after = seconds(raw, "lockout_forget_seconds", 1, 30 * DAY_SECONDS)?;

    if max_lock < base_lock {
        return Err(SettingsError::new(format!(
            "PLATFORM_LOCKOUT_MAX_SECONDS is {} and PLATFORM_LOCKOUT_BASE_SECONDS is {}; set the maximum lock to at least the base lock",
            max_lock.as_secs(),
            base_lock.as_secs()
        )));
    }
    if forget_after < max_lock {
        return Err(SettingsError::new(format!(
            "PLATFORM_LOCKOUT_FORGET_SECONDS is {} and PLATFORM_LOCKOUT_MAX_SECONDS is {}; set the forget time to at least the maximum lock, so failures outlive their lock",
            forget_after.as_secs(),
            max_lock.as_secs()
        )));
    }

    Ok(LockoutPolicy {
        threshold: u32::try_from(threshold).unwrap_or(u32::MAX),
        base_lock,
        max_lock,
        forget_after,
    })
}

fn proxy_settings(raw: &Config) -> Result<ProxySettings, SettingsError> {
    let list = optional_string(raw, "trusted_proxies").unwrap_or_default();
    let trusted = ProxySettings::parse_trusted(&list).map_err(|entry| {
        SettingsError::new(format!(
            "PLATFORM_TRUSTED_PROXIES contains {entry:?}, which is not an IP address or CIDR range; set it to a comma-separated list such as 10.0.0.0/8,192.168.1.10"
        ))
    })?;

    let header_name = required_string(raw, "forwarded_header", "PLATFORM_FORWARDED_HEADER")?;
    let header = ForwardedHeader::parse(&header_name).ok_or_else(|| {
        SettingsError::new(format!(
            "PLATFORM_FORWARDED_HEADER is {header_name:?}; set it to x-forwarded-for or forwarded, whichever header your proxy appends to"
        ))
    })?;

    Ok(ProxySettings { trusted, header })
}

/// Reads the hash gate settings. Without `hash_concurrency`, as many hashes
/// run at once as the machine has CPUs, since each one keeps a CPU busy.
fn hash_gate_settings(raw: &Config) -> Result<HashGateSettings, SettingsError> {
    let concurrency = match optional_string(raw, "hash_concurrency") {
        Some(_) => bounded(raw, "hash_concurrency", "hashes", 1, 1024)?,
        None => std::thread::available_parallelism().map_or(1, |cpus| cpus.get() as u64),
    };
    let queue_length = bounded(raw, "hash_queue_length", "requests", 0, 100_000)?;
    let queue_timeout = bounded(raw, "hash_queue_timeout_ms", "milliseconds", 1, 60_000)?;

    Ok(HashGateSettings {
        concurrency: usize::try_from(concurrency).unwrap_or(1),
        queue_length: usize::try_from(queue_length).unwrap_or(0),
        queue_timeout: Duration::from_millis(queue_timeout),
    })
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::super::tests::load;
    use super::*;

    #[test]
    fn defaults_apply() {
        let limits = load(&[]).unwrap().limits;

        assert_eq!(
            limits.login_per_client,
            RateLimit {
                max_requests: 30,
                window: Duration::from_secs(60)
            }
        );
        assert_eq!(
            limits.register_per_client,
            RateLimit {
                max_requests: 20,
                window: Duration::from_secs(3600)
            }
        );
        assert_eq!(limits.lockout, LockoutPolicy::default());
        assert_eq!(limits.proxies, ProxySettings::default());
        assert_eq!(limits.hash_gate.queue_length, 64);
        assert_eq!(limits.hash_gate.queue_timeout, Duration::from_secs(3));
        assert!(limits.hash_gate.concurrency >= 1);
    }

    #[test]
    fn environment_overrides_limits() {
        let limits = load(&[
            ("PLATFORM_LOGIN_LIMIT_PER_CLIENT", "5"),
            ("PLATFORM_REGISTER_LIMIT_WINDOW_SECONDS", "10"),
            ("PLATFORM_LOCKOUT_THRESHOLD", "3"),
            ("PLATFORM_TRUSTED_PROXIES", "127.0.0.0/8, ::1"),
            ("PLATFORM_FORWARDED_HEADER", "Forwarded"),
            ("PLATFORM_HASH_CONCURRENCY", "7"),
            ("PLATFORM_HASH_QUEUE_LENGTH", "0"),
        ])
        .unwrap()
        .limits;

        assert_eq!(limits.login_per_client.max_requests, 5);
        assert_eq!(limits.register_per_client.window, Duration::from_secs(10));
        assert_eq!(limits.lockout.threshold, 3);
        assert!(limits.proxies.trusted[0].contains(&"127.9.9.9".parse::<IpAddr>().unwrap()));
        assert_eq!(limits.proxies.header, ForwardedHeader::Forwarded);
        assert_eq!(limits.hash_gate.concurrency, 7);
        assert_eq!(limits.hash_gate.queue_length, 0);
    }

    #[test]
    fn invalid_values_name_their_variable() {
        let cases = [
            ("PLATFORM_LOGIN_LIMIT_PER_CLIENT", "0"),
            ("PLATFORM_LOGIN_LIMIT_WINDOW_SECONDS", "-1"),
            ("PLATFORM_REGISTER_LIMIT_PER_CLIENT", "many"),
            ("PLATFORM_REGISTER_LIMIT_WINDOW_SECONDS", "86401"),
            ("PLATFORM_LOCKOUT_THRESHOLD", "0"),
            ("PLATFORM_LOCKOUT_BASE_SECONDS", "1.5"),
            ("PLATFORM_TRUSTED_PROXIES", "10.0.0.0/33"),
            ("PLATFORM_FORWARDED_HEADER", "x-real-ip"),
            ("PLATFORM_HASH_CONCURRENCY", "0"),
            ("PLATFORM_HASH_QUEUE_LENGTH", "100001"),
            ("PLATFORM_HASH_QUEUE_TIMEOUT_MS", "0"),
        ];
        for (variable, value) in cases {
            let error = load(&[(variable, value)]).expect_err(variable).to_string();
            assert!(error.starts_with(variable), "{variable}={value}: {error}");
            assert!(!error.contains('\n'), "{error}");
        }
    }

    #[test]
    fn lock_durations_must_be_ordered() {
        let base_over_max = load(&[
            ("PLATFORM_LOCKOUT_BASE_SECONDS", "600"),
            ("PLATFORM_LOCKOUT_MAX_SECONDS", "60"),
        ])
        .unwrap_err()
        .to_string();
        let forget_under_max = load(&[("PLATFORM_LOCKOUT_FORGET_SECONDS", "60")])
            .unwrap_err()
            .to_string();

        assert!(
            base_over_max.starts_with("PLATFORM_LOCKOUT_MAX_SECONDS is 60"),
            "{base_over_max}"
        );
        assert!(
            forget_under_max.starts_with("PLATFORM_LOCKOUT_FORGET_SECONDS is 60"),
            "{forget_under_max}"
        );
    }
}
