//! When and how long to wait before sending a request again.

use std::time::Duration;

use rand::Rng;
use reqwest::StatusCode;

/// Exponential backoff with jitter between retries.
///
/// The ceiling of retry `n` (1 for the first retry) is
/// `initial * 2^(n - 1)`, capped at `max`. The wait is half the ceiling plus
/// a uniformly random part of the other half, so clients that failed
/// together do not retry together.
///
/// ```
/// use std::time::Duration;
/// use platform_auth_client::Backoff;
///
/// let backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
/// assert_eq!(backoff.ceiling(1), Duration::from_millis(100));
/// assert_eq!(backoff.ceiling(3), Duration::from_millis(400));
/// assert_eq!(backoff.ceiling(10), Duration::from_secs(1));
///
/// let wait = backoff.delay(3);
/// assert!(wait >= Duration::from_millis(200) && wait <= Duration::from_millis(400));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
}

impl Backoff {
    /// Builds a backoff that starts at `initial` and doubles up to `max`.
    /// A `max` below `initial` is raised to `initial`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use platform_auth_client::Backoff;
    ///
    /// let backoff = Backoff::new(Duration::from_secs(2), Duration::from_secs(1));
    /// assert_eq!(backoff.ceiling(5), Duration::from_secs(2));
    /// ```
    pub fn new(initial: Duration, max: Duration) -> Self {
        Self {
            initial,
            max: max.max(initial),
        }
    }

    /// Returns the longest wait before retry `retry`, counting from 1.
    ///
    /// ```
    /// use std::time::Duration;
    /// use platform_auth_client::Backoff;
    ///
    /// let backoff = Backoff::default();
    /// assert_eq!(backoff.ceiling(2), Duration::from_millis(400));
    /// ```
    pub fn ceiling(&self, retry: u32) -> Duration {
        let doublings = retry.saturating_sub(1).min(31);
        self.initial
            .checked_mul(1 << doublings)
            .map_or(self.max, |ceiling| ceiling.min(self.max))
    }

    /// Returns the wait before retry `retry`, counting from 1. The wait is
    /// between half the [`ceiling`](Self::ceiling) and the whole of it.
    ///
    /// ```
    /// use std::time::Duration;
    /// use platform_auth_client::Backoff;
    ///
    /// let wait = Backoff::default().delay(1);
    /// assert!(wait >= Duration::from_millis(100) && wait <= Duration::from_millis(200));
    /// ```
    pub fn delay(&self, retry: u32) -> Duration {
        let ceiling = self.ceiling(retry);
        let half = ceiling / 2;
        let jitter = rand::thread_rng().gen_range(Duration::ZERO..=ceiling - half);
        half + jitter
    }
}

impl Default for Backoff {
    /// 200 ms, doubling up to 5 s.
    fn default() -> Self {
        Self::new(Duration::from_millis(200), Duration::from_secs(5))
    }
}

/// The retry settings of one client.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RetryPolicy {
    /// Attempts per call, the first one included; at least 1.
    pub max_attempts: u32,
    pub backoff: Backoff,
    /// The longest `Retry-After` the client waits out. A longer one ends the
    /// call with the error at once.
    pub max_retry_after: Duration,
}

/// A failed attempt, as far as the retry decision needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// No connection could be made, so the server never saw the request.
    Connect,
    /// Any other transport error, such as a timeout.
    OtherTransport,
    /// An error response.
    Status {
        status: StatusCode,
        retry_after: Option<Duration>,
    },
}

impl RetryPolicy {
    /// Returns how long to wait before attempt `attempt + 1`, or `None` when
    /// the call ends with this failure. Only idempotent requests are retried,
    /// and only after a connection failure, a 503 or a 429.
    pub fn delay_after(
        &self,
        attempt: u32,
        idempotent: bool,
        failure: Failure,
    ) -> Option<Duration> {
        if !idempotent || attempt >= self.max_attempts {
            return None;
        }

        match failure {
            Failure::Connect => Some(self.backoff.delay(attempt)),
            Failure::Status {
                status: StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS,
                retry_after,
            } => match retry_after {
                Some(wait) if wait > self.max_retry_after => None,
                Some(wait) => Some(wait),
                None => Some(self.backoff.delay(attempt)),
            },
            Failure::Status { .. } | Failure::OtherTransport => None,
        }
    }
}

/// Parses a `Retry-After` value in seconds. The HTTP-date form is not read,
/// because platform-auth sends seconds; such a value counts as absent.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(max_attempts: u32) -> RetryPolicy {
        RetryPolicy {
            max_attempts,
            backoff: Backoff::new(Duration::from_millis(100), Duration::from_secs(1)),
            max_retry_after: Duration::from_secs(30),
        }
    }

    fn status(status: StatusCode, retry_after: Option<u64>) -> Failure {
        Failure::Status {
            status,
            retry_after: retry_after.map(Duration::from_secs),
        }
    }

    #[test]
    fn ceiling_doubles_up_to_max() {
        let backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(500));

        let ceilings: Vec<u128> = (1..=5)
            .map(|retry| backoff.ceiling(retry).as_millis())
            .collect();

        assert_eq!(ceilings, [100, 200, 400, 500, 500]);
    }

    #[test]
    fn ceiling_survives_huge_retry_counts() {
        let backoff = Backoff::new(Duration::from_secs(3600), Duration::from_secs(7200));

        assert_eq!(backoff.ceiling(u32::MAX), Duration::from_secs(7200));
    }

    #[test]
    fn delay_stays_within_jitter_bounds() {
        let backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));

        for retry in 1..=6 {
            let ceiling = backoff.ceiling(retry);
            for _ in 0..100 {
                let delay = backoff.delay(retry);
                assert!(delay >= ceiling / 2, "retry {retry}: {delay:?}");
                assert!(delay <= ceiling, "retry {retry}: {delay:?}");
            }
        }
    }

    #[test]
    fn max_below_initial_is_raised() {
        let backoff = Backoff::new(Duration::from_secs(2), Duration::from_secs(1));

        assert_eq!(backoff.ceiling(4), Duration::from_secs(2));
    }

    #[test]
    fn retryable_failures_get_a_delay() {
        let policy = policy(3);

        for failure in [
            Failure::Connect,
            status(StatusCode::SERVICE_UNAVAILABLE, None),
            status(StatusCode::TOO_MANY_REQUESTS, None),
        ] {
            assert!(
                policy.delay_after(1, true, failure).is_some(),
                "{failure:?}"
            );
        }
    }

    #[test]
    fn other_failures_end_the_call() {
        let policy = policy(3);

        for failure in [
            Failure::OtherTransport,
            status(StatusCode::INTERNAL_SERVER_ERROR, None),
            status(StatusCode::BAD_GATEWAY, Some(1)),
            status(StatusCode::UNAUTHORIZED, None),
        ] {
            assert_eq!(policy.delay_after(1, true, failure), None, "{failure:?}");
        }
    }

    #[test]
    fn non_idempotent_requests_are_not_retried() {
        let policy = policy(3);

        assert_eq!(policy.delay_after(1, false, Failure::Connect), None);
        assert_eq!(
            policy.delay_after(1, false, status(StatusCode::SERVICE_UNAVAILABLE, Some(1))),
            None
        );
    }

    #[test]
    fn last_attempt_is_not_retried() {
        let policy = policy(3);

        assert!(policy.delay_after(2, true, Failure::Connect).is_some());
        assert_eq!(policy.delay_after(3, true, Failure::Connect), None);
    }

    #[test]
    fn retry_after_replaces_backoff() {
        let policy = policy(3);

        let delay = policy.delay_after(1, true, status(StatusCode::TOO_MANY_REQUESTS, Some(7)));

        assert_eq!(delay, Some(Duration::from_secs(7)));
    }

    #[test]
    fn retry_after_above_limit_ends_the_call() {
        let policy = policy(3);

        let delay = policy.delay_after(1, true, status(StatusCode::SERVICE_UNAVAILABLE, Some(31)));

        assert_eq!(delay, None);
    }

    #[test]
    fn retry_after_reads_seconds_only() {
        assert_eq!(parse_retry_after("30"), Some(Duration::from_secs(30)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
    }
}
