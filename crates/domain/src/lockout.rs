//! Account lockout: failed logins in a row lock an account for a time that
//! doubles with each further failure, up to a maximum. A successful login
//! or an operator's unlock clears the count.
//!
//! Counters are keyed by the normalised email string as the client sent it,
//! never by user id, so unknown and known emails lock alike and a lock
//! reveals nothing about which accounts exist.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::auth::LoginError;
use crate::limits::{delta, whole_seconds_until, FailureRecord, LimitStore};
use crate::values::Email;

/// When failed logins lock an account, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failed logins in a row that lock the account, at least one.
    pub threshold: u32,
    /// The lock after the `threshold`-th failure. Each further failure
    /// doubles it.
    pub base_lock: Duration,
    /// The maximum lock duration.
    pub max_lock: Duration,
    /// Failures are forgotten once the latest is this old. The settings keep
    /// it at least `max_lock`, so a lock ends before its failures are
    /// forgotten.
    pub forget_after: Duration,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            threshold: 5,
            base_lock: Duration::from_secs(30),
            max_lock: Duration::from_secs(900),
            forget_after: Duration::from_secs(3600),
        }
    }
}

impl LockoutPolicy {
    /// Returns how long `failures` failed logins in a row lock the account:
    /// nothing below the threshold, then `base_lock · 2^(failures −
    /// threshold)`, capped at `max_lock`.
    pub fn lock_duration(&self, failures: u32) -> Option<Duration> {
        let doublings = failures.checked_sub(self.threshold)?;
        let factor = 1u32.checked_shl(doublings).unwrap_or(u32::MAX);
        Some(self.base_lock.saturating_mul(factor).min(self.max_lock))
    }

    /// Returns the end of the lock that `record` imposes, if any.
    pub fn locked_until(&self, record: &FailureRecord) -> Option<DateTime<Utc>> {
        self.lock_duration(record.failures)
            .map(|lock| record.last_failed_at + delta(lock))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockoutError {
    /// Too many failed logins: no password is checked until the lock ends.
    #[error("the account is locked; retry after {} s", retry_after.as_secs())]
    Locked { retry_after: Duration },
    #[error(transparent)]
    Login(LoginError),
}

/// Applies a [`LockoutPolicy`] to logins, with the counters in a
/// [`LimitStore`].
#[derive(Clone)]
pub struct AccountLockout {
    store: Arc<dyn LimitStore>,
    policy: LockoutPolicy,
}

impl AccountLockout {
    pub fn new(store: Arc<dyn LimitStore>, policy: LockoutPolicy) -> Self {
        Self { store, policy }
    }

    pub fn policy(&self) -> LockoutPolicy {
        self.policy
    }

    /// Runs `login` for the account `email` unless it is locked, then
    /// records the outcome: wrong credentials count one failure, and a
    /// success clears the count. Blocks on the store.
    ///
    /// The lock is checked just before `login`, so concurrent attempts that
    /// pass the check together are each verified and each counted.
    pub fn guard<T>(
        &self,
        email: &str,
        login: impl FnOnce() -> Result<T, LoginError>,
    ) -> Result<T, LockoutError> {
        let key = account_key(email);
        let unexpected = |error: anyhow::Error| LockoutError::Login(LoginError::Unexpected(error));

        let record = self.store.failures(&key).map_err(unexpected)?;
        if let Some(retry_after) = self.remaining_lock(record.as_ref(), Utc::now()) {
            return Err(LockoutError::Locked { retry_after });
        }

        match login() {
            Ok(value) => {
                // With no failures at the check there is nothing to clear. A
                // failure recorded concurrently since then stays counted.
                if record.is_some() {
                    self.clear_after_success(&key);
                }
                Ok(value)
            }
            Err(LoginError::InvalidCredentials) => {
                let now = Utc::now();
                self.store
                    .record_failure(&key, now, self.forget_before(now))
                    .map_err(unexpected)?;
                Err(LockoutError::Login(LoginError::InvalidCredentials))
            }
            Err(error) => Err(LockoutError::Login(error)),
        }
    }

    /// Clears the failed logins of `email`, which lifts any lock. Returns
    /// whether any were recorded. Blocks on the store.
    pub fn unlock(&self, email: &str) -> anyhow::Result<bool> {
        self.store.clear_failures(&account_key(email))
    }

    /// Returns the time before which failures no longer count.
    pub fn forget_before(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - delta(self.policy.forget_after)
    }

    fn remaining_lock(
        &self,
        record: Option<&FailureRecord>,
        now: DateTime<Utc>,
    ) -> Option<Duration> {
        let record = record?;
        if record.last_failed_at < self.forget_before(now) {
            return None;
        }
        let until = self.policy.locked_until(record)?;
        (until > now).then(|| whole_seconds_until(until, now))
    }

    /// Clears the count after a successful login. A count left behind only
    /// brings the next lock closer, so a store failure here is logged
    /// rather than failing a correct login.
    fn clear_after_success(&self, key: &str) {
        if let Err(error) = self.store.clear_failures(key) {
            tracing::warn!(
                error = format!("{error:#}"),
                "failed to clear failed logins after a successful login"
            );
        }
    }
}

/// Builds the counter key of the account that `email` names, from the email
/// in its normalised form whether or not it is a valid address.
pub fn account_key(email: &str) -> String {
    format!("login-account:{}", Email::normalise(email))
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;
    use mockall::predicate::eq;

    use super::*;
    use crate::limits::MockLimitStore;

    fn policy() -> LockoutPolicy {
        LockoutPolicy {
            threshold: 3,
            base_lock: Duration::from_secs(10),
            max_lock: Duration::from_secs(60),
            forget_after: Duration::from_secs(600),
        }
    }

    fn lockout(store: MockLimitStore) -> AccountLockout {
        AccountLockout::new(Arc::new(store), policy())
    }

    fn record(failures: u32, seconds_ago: i64) -> FailureRecord {
        FailureRecord {
            failures,
            last_failed_at: Utc::now() - TimeDelta::seconds(seconds_ago),
        }
    }

    #[test]
    fn lock_doubles_from_threshold_up_to_cap() {
        let policy = policy();
        let seconds = |failures| policy.lock_duration(failures).map(|d| d.as_secs());

        assert_eq!(seconds(0), None);
        assert_eq!(seconds(2), None);
        assert_eq!(seconds(3), Some(10));
        assert_eq!(seconds(4), Some(20));
        assert_eq!(seconds(5), Some(40));
        assert_eq!(seconds(6), Some(60));
        assert_eq!(seconds(40), Some(60));
        assert_eq!(seconds(u32::MAX), Some(60));
    }

    #[test]
    fn key_is_normalised_email() {
        assert_eq!(
            account_key(" User@Example.COM "),
            "login-account:user@example.com"
        );
        assert_eq!(account_key("not an email"), "login-account:not an email");
    }

    #[test]
    fn locked_account_skips_login() {
        let mut store = MockLimitStore::new();
        store
            .expect_failures()
            .with(eq("login-account:user@example.com"))
            .returning(|_| Ok(Some(record(3, 2))));

        let result = lockout(store).guard("User@example.com", || -> Result<(), _> {
            panic!("login must not run while the account is locked")
        });

        let Err(LockoutError::Locked { retry_after }) = result else {
            panic!("expected Locked, got {result:?}");
        };
        assert!((7..=8).contains(&retry_after.as_secs()), "{retry_after:?}");
    }

    #[test]
    fn expired_lock_lets_login_run() {
        let mut store = MockLimitStore::new();
        store
            .expect_failures()
            .returning(|_| Ok(Some(record(3, 11))));
        store
            .expect_clear_failures()
            .times(1)
            .returning(|_| Ok(true));

        let result = lockout(store).guard("user@example.com", || Ok(42));

        assert_eq!(result.unwrap(), 42);
    }

    #[test]
    fn forgotten_failures_do_not_lock() {
        let mut store = MockLimitStore::new();
        store
            .expect_failures()
            .returning(|_| Ok(Some(record(50, 601))));
        store.expect_clear_failures().returning(|_| Ok(true));

        assert!(lockout(store).guard("user@example.com", || Ok(())).is_ok());
    }

    #[test]
    fn wrong_password_records_failure() {
        let mut store = MockLimitStore::new();
        store.expect_failures().returning(|_| Ok(None));
        store
            .expect_record_failure()
            .withf(|key, at, forget_before| {
                key == "login-account:user@example.com"
                    && *at - *forget_before == TimeDelta::seconds(600)
            })
            .times(1)
            .returning(|_, _, _| Ok(()));

        let result = lockout(store).guard("user@example.com", || -> Result<(), _> {
            Err(LoginError::InvalidCredentials)
        });

        assert!(matches!(
            result,
            Err(LockoutError::Login(LoginError::InvalidCredentials))
        ));
    }

    #[test]
    fn first_success_skips_clearing() {
        let mut store = MockLimitStore::new();
        store.expect_failures().returning(|_| Ok(None));
        store.expect_clear_failures().never();

        assert!(lockout(store).guard("user@example.com", || Ok(())).is_ok());
    }

    #[test]
    fn success_survives_failed_clear() {
        let mut store = MockLimitStore::new();
        store
            .expect_failures()
            .returning(|_| Ok(Some(record(1, 5))));
        store
            .expect_clear_failures()
            .returning(|_| Err(anyhow::anyhow!("connection reset")));

        assert!(lockout(store).guard("user@example.com", || Ok(())).is_ok());
    }

    #[test]
    fn unexpected_login_error_is_not_counted() {
        let mut store = MockLimitStore::new();
        store.expect_failures().returning(|_| Ok(None));
        store.expect_record_failure().never();

        let result = lockout(store).guard("user@example.com", || -> Result<(), _> {
            Err(LoginError::Unexpected(anyhow::anyhow!("pool timed out")))
        });

        assert!(matches!(
            result,
            Err(LockoutError::Login(LoginError::Unexpected(_)))
        ));
    }

    #[test]
    fn unlock_clears_normalised_key() {
        let mut store = MockLimitStore::new();
        store
            .expect_clear_failures()
            .with(eq("login-account:user@example.com"))
            .returning(|_| Ok(true));

        assert!(lockout(store).unlock("USER@example.com").unwrap());
    }
}
