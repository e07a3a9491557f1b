//! Per-client request limits, and the storage port that they and the account
//! lockout ([`crate::lockout`]) share. The counters live behind
//! [`LimitStore`], so every instance on one store enforces one limit.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::lockout::AccountLockout;

/// The failed logins recorded for one account key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureRecord {
    /// Failed logins in a row, counted from the first one not yet forgotten.
    pub failures: u32,
    pub last_failed_at: DateTime<Utc>,
}

/// Storage of request counters and failed-login counters, shared by every
/// instance of the service.
///
/// Keys are built by the domain and may hold personal data (an email) or
/// attacker-chosen text, so implementations should store a digest of them.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait LimitStore: Send + Sync {
    /// Counts one request against `key` in the fixed window that starts at
    /// `window_start`, unless that window already contains `limit` requests. A
    /// later window replaces the stored one and starts again from one.
    /// Returns whether the request was counted, that is, allowed.
    ///
    /// Implementations must decide and count in one atomic step, so that
    /// concurrent callers on any instance never get more than `limit`
    /// requests through in one window.
    fn try_hit(&self, key: &str, window_start: DateTime<Utc>, limit: u32) -> anyhow::Result<bool>;

    /// Returns the failed logins recorded for `key`, if any.
    fn failures(&self, key: &str) -> anyhow::Result<Option<FailureRecord>>;

    /// Adds one failed login for `key` at `at`. When the previous failure is
    /// older than `forget_before`, counting starts again from one.
    ///
    /// Implementations must increment atomically, so that N concurrent calls
    /// on any instance add exactly N.
    fn record_failure(
        &self,
        key: &str,
        at: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> anyhow::Result<()>;

    /// Deletes the failed logins of `key` and returns whether there were any.
    fn clear_failures(&self, key: &str) -> anyhow::Result<bool>;

    /// Deletes request windows that started before `windows_before` and
    /// failure records whose last failure is before `failures_before`.
    /// Returns the number of rows deleted.
    fn purge(
        &self,
        windows_before: DateTime<Utc>,
        failures_before: DateTime<Utc>,
    ) -> anyhow::Result<u64>;
}

/// At most `max_requests` requests per fixed `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub max_requests: u32,
    /// Whole seconds, at least one.
    pub window: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum RateLimitError {
    #[error("too many requests; retry after {} s", retry_after.as_secs())]
    Exceeded { retry_after: Duration },
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Limits the requests of each client to one route, for example logins per
/// client address.
///
/// NOTE: windows are fixed, so a client can get up to twice the limit
/// through in a short burst that spans the end of one window and the start
/// of the next.
#[derive(Clone)]
pub struct RateLimiter {
    store: Arc<dyn LimitStore>,
    /// Prefix of the store keys, so that two limiters count apart.
    scope: &'static str,
    limit: RateLimit,
}

impl RateLimiter {
    pub fn new(store: Arc<dyn LimitStore>, scope: &'static str, limit: RateLimit) -> Self {
        Self {
            store,
            scope,
            limit,
        }
    }

    pub fn limit(&self) -> RateLimit {
        self.limit
    }

    /// Counts one request of `client` and rejects it when the client's
    /// current window is full. Blocks on the store.
    pub fn check(&self, client: &str) -> Result<(), RateLimitError> {
        let now = Utc::now();
        let window_start = window_start(now, self.limit.window);
        let key = format!("{}:{client}", self.scope);

        if self
            .store
            .try_hit(&key, window_start, self.limit.max_requests)?
        {
            return Ok(());
        }

        let window_end = window_start + delta(self.limit.window);
        Err(RateLimitError::Exceeded {
            retry_after: whole_seconds_until(window_end, now),
        })
    }
}

/// Returns the start of the fixed window that contains `now`. Windows are
/// aligned to the Unix epoch, so every instance computes the same ones.
pub fn window_start(now: DateTime<Utc>, window: Duration) -> DateTime<Utc> {
    let length = i64::try_from(window.as_secs()).unwrap_or(i64::MAX).max(1);
    let start = now.timestamp().div_euclid(length) * length;
    DateTime::from_timestamp(start, 0).unwrap_or(now)
}

/// Returns the time from `now` until `then`, rounded up to whole seconds and
/// at least one second, as an HTTP `Retry-After` value needs.
pub fn whole_seconds_until(then: DateTime<Utc>, now: DateTime<Utc>) -> Duration {
    let millis = (then - now).num_milliseconds().max(0);
    let seconds =
        u64::try_from(millis.div_euclid(1000) + i64::from(millis % 1000 != 0)).unwrap_or_default();
    Duration::from_secs(seconds.max(1))
}

/// Converts a configured duration to chrono's type, saturating far beyond
/// any value the settings allow.
pub(crate) fn delta(duration: Duration) -> TimeDelta {
    TimeDelta::from_std(duration).unwrap_or(TimeDelta::MAX)
}

/// Every abuse limit of the service over one store.
#[derive(Clone)]
pub struct AbuseLimits {
    pub login_per_client: RateLimiter,
    pub register_per_client: RateLimiter,
    pub lockout: AccountLockout,
    store: Arc<dyn LimitStore>,
}

impl AbuseLimits {
    pub fn new(
        store: Arc<dyn LimitStore>,
        login_per_client: RateLimit,
        register_per_client: RateLimit,
        lockout: crate::lockout::LockoutPolicy,
    ) -> Self {
        Self {
            login_per_client: RateLimiter::new(store.clone(), "login-client", login_per_client),
            register_per_client: RateLimiter::new(
                store.clone(),
                "register-client",
                register_per_client,
            ),
            lockout: AccountLockout::new(store.clone(), lockout),
            store,
        }
    }

    /// Deletes counters that can no longer limit anything: windows that
    /// have ended and failures that are forgotten. Blocks on the store.
    pub fn purge_expired(&self) -> anyhow::Result<u64> {
        let now = Utc::now();
        let longest_window = self
            .login_per_client
            .limit
            .window
            .max(self.register_per_client.limit.window);

        self.store
            .purge(now - delta(longest_window), self.lockout.forget_before(now))
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use mockall::predicate::{always, eq};

    use super::*;

    fn at(hour: u32, minute: u32, second: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, hour, minute, second)
            .unwrap()
    }

    #[test]
    fn windows_align_to_epoch() {
        let minute = Duration::from_secs(60);

        assert_eq!(window_start(at(10, 5, 0), minute), at(10, 5, 0));
        assert_eq!(window_start(at(10, 5, 59), minute), at(10, 5, 0));
        assert_eq!(
            window_start(at(10, 59, 59), Duration::from_secs(3600)),
            at(10, 0, 0)
        );
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        let now = at(10, 0, 0);

        assert_eq!(
            whole_seconds_until(now + TimeDelta::milliseconds(1500), now),
            Duration::from_secs(2)
        );
        assert_eq!(
            whole_seconds_until(now + TimeDelta::seconds(30), now),
            Duration::from_secs(30)
        );
        assert_eq!(whole_seconds_until(now, now), Duration::from_secs(1));
        assert_eq!(
            whole_seconds_until(now - TimeDelta::seconds(5), now),
            Duration::from_secs(1)
        );
    }

    fn limiter(store: MockLimitStore) -> RateLimiter {
        RateLimiter::new(
            Arc::new(store),
            "login-client",
            RateLimit {
                max_requests: 3,
                window: Duration::from_secs(60),
            },
        )
    }

    #[test]
    fn limiter_allows_counted_request() {
        let mut store = MockLimitStore::new();
        store
            .expect_try_hit()
            .with(eq("login-client:192.0.2.1"), always(), eq(3))
            .times(1)
            .returning(|_, _, _| Ok(true));

        assert!(limiter(store).check("192.0.2.1").is_ok());
    }

    #[test]
    fn limiter_rejects_full_window_until_it_ends() {
        let mut store = MockLimitStore::new();
        store.expect_try_hit().returning(|_, _, _| Ok(false));

        let result = limiter(store).check("192.0.2.1");

        let Err(RateLimitError::Exceeded { retry_after }) = result else {
            panic!("expected Exceeded, got {result:?}");
        };
        assert!(retry_after >= Duration::from_secs(1));
        assert!(retry_after <= Duration::from_secs(60));
    }

    #[test]
    fn limiter_passes_store_failure_on() {
        let mut store = MockLimitStore::new();
        store
            .expect_try_hit()
            .returning(|_, _, _| Err(anyhow::anyhow!("pool timed out")));

        let result = limiter(store).check("192.0.2.1");

        assert!(matches!(result, Err(RateLimitError::Unexpected(_))));
    }
}
