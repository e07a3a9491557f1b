//! The abuse limits as the handlers use them: per-client request limits,
//! the account lockout and the hash gate, plus the periodic deletion of
//! counters that have expired.

use std::time::Duration;

use std::sync::Arc;

use actix_web::web;
use platform_auth_adapters::{DbPool, DieselLimitStore};
use platform_auth_domain::{AbuseLimits, RateLimitError, RateLimiter};

use crate::client_ip::ClientAddress;
use crate::error::ApiError;
use crate::hash_gate::HashGate;
use crate::settings::LimitSettings;

/// How often each instance deletes expired counters. Expired rows limit
/// nothing, so this only bounds the tables' size.
const PURGE_INTERVAL: Duration = Duration::from_secs(300);

/// State shared by the handlers that hash passwords.
pub struct LimitState {
    pub limits: AbuseLimits,
    pub hash_gate: HashGate,
}

impl LimitState {
    pub fn new(settings: &LimitSettings, pool: DbPool) -> Self {
        Self {
            limits: abuse_limits(settings, pool),
            hash_gate: HashGate::new(settings.hash_gate),
        }
    }
}

/// Builds the limits over counters in the database behind `pool`.
pub fn abuse_limits(settings: &LimitSettings, pool: DbPool) -> AbuseLimits {
    AbuseLimits::new(
        Arc::new(DieselLimitStore::new(pool)),
        settings.login_per_client,
        settings.register_per_client,
        settings.lockout,
    )
}

/// Counts one request of `client` against `limiter`, on a blocking thread
/// because the counter lives in the database.
pub async fn check_client_limit(
    limiter: &RateLimiter,
    client: ClientAddress,
) -> Result<(), ApiError> {
    let limiter = limiter.clone();
    let key = client.limit_key();

    match web::block(move || limiter.check(&key)).await? {
        Ok(()) => Ok(()),
        Err(RateLimitError::Exceeded { retry_after }) => {
            tracing::debug!(client = %client.0, "request rejected: client rate limit reached");
            Err(ApiError::RateLimited { retry_after })
        }
        Err(RateLimitError::Unexpected(error)) => Err(ApiError::Internal(error)),
    }
}

/// Deletes expired counters every [`PURGE_INTERVAL`], forever. A failure is
/// logged and retried at the next interval.
pub async fn purge_expired_counters(limits: AbuseLimits) {
    let mut interval = tokio::time::interval(PURGE_INTERVAL);
    loop {
        interval.tick().await;

        let limits = limits.clone();
        match web::block(move || limits.purge_expired()).await {
            Ok(Ok(deleted)) => {
                tracing::debug!(rows.deleted = deleted, "expired limit counters deleted")
            }
            Ok(Err(error)) => tracing::warn!(
                error = format!("{error:#}"),
                "failed to delete expired limit counters"
            ),
            Err(error) => tracing::warn!(
                error = %error,
                "failed to delete expired limit counters"
            ),
        }
    }
}

/// Clears the failed logins of the account `email` in the configured
/// database, lifting any lock, and returns whether there were any. This is
/// the `unlock` command. Blocks while it connects and migrates.
pub fn unlock_account(settings: &crate::Settings, email: &str) -> anyhow::Result<bool> {
    let pool = settings.database.open(&settings.pool)?;
    abuse_limits(&settings.limits, pool).lockout.unlock(email)
}
