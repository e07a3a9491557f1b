//! Bounds the argon2 computations running at once.
//!
//! Each hash uses its argon2 memory (19 MiB at the default cost) for its
//! whole run, so without a bound a login flood grows the process until it
//! runs out of memory. Requests over the bound wait in a queue of bounded
//! length for a bounded time, as futures rather than blocking threads, then
//! fail with 503.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;

/// Limits of the hash gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashGateSettings {
    /// Hash computations that may run at once.
    pub concurrency: usize,
    /// Requests that may wait for a free slot. Further requests are rejected
    /// at once.
    pub queue_length: usize,
    /// How long a request waits for a free slot before it is rejected.
    pub queue_timeout: Duration,
}

/// The reason the gate rejected a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GateError {
    #[error("the hash queue is full")]
    QueueFull,
    #[error("timed out waiting in the hash queue")]
    TimedOut,
}

/// A semaphore with one permit per concurrent hash, and a count of the
/// requests waiting for one.
pub struct HashGate {
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    settings: HashGateSettings,
}

impl HashGate {
    pub fn new(settings: HashGateSettings) -> Self {
        record_queue_depth(0);
        Self {
            permits: Arc::new(Semaphore::new(settings.concurrency)),
            waiting: AtomicUsize::new(0),
            settings,
        }
    }

    /// Waits for a hash slot, or fails at once when the queue is full and
    /// after the queue timeout otherwise. The slot is free again when the
    /// permit drops.
    pub async fn enter(&self) -> Result<OwnedSemaphorePermit, GateError> {
        // The semaphore hands released permits to queued waiters first, so
        // this never overtakes a waiting request.
        if let Ok(permit) = self.permits.clone().try_acquire_owned() {
            metrics::histogram!("password_hash_wait_seconds").record(0.0);
            return Ok(permit);
        }
        let started = std::time::Instant::now();

        let _place = QueuePlace::take(&self.waiting, self.settings.queue_length)
            .ok_or(GateError::QueueFull)?;
        let acquired = tokio::time::timeout(
            self.settings.queue_timeout,
            self.permits.clone().acquire_owned(),
        )
        .await;
        metrics::histogram!("password_hash_wait_seconds").record(started.elapsed().as_secs_f64());
        match acquired {
            Ok(Ok(permit)) => Ok(permit),
            // The semaphore is never closed, so this arm only guards
            // against a future change that closes it.
            Ok(Err(_closed)) => Err(GateError::QueueFull),
            Err(_elapsed) => Err(GateError::TimedOut),
        }
    }

    /// Runs `work` on a blocking thread once a hash slot is free. The slot
    /// stays taken until `work` returns, even when the client disconnects
    /// and the request's future is dropped first.
    pub async fn run<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let permit = self.enter().await.map_err(|error| {
            tracing::debug!(reason = %error, "request rejected by the hash gate");
            ApiError::Overloaded {
                retry_after: self.retry_after(),
            }
        })?;

        let result = web::block(move || {
            let _permit = permit;
            work()
        })
        .await?;
        Ok(result)
    }

    /// Returns the `Retry-After` hint of a rejection: the queue timeout in
    /// whole seconds, at least one.
    fn retry_after(&self) -> Duration {
        let seconds = self.settings.queue_timeout.as_millis().div_ceil(1000);
        Duration::from_secs(u64::try_from(seconds).unwrap_or(u64::MAX).max(1))
    }

    /// Returns the number of requests waiting for a slot.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }
}

/// One place in the queue, given back on drop, which also covers a request
/// whose future is dropped while it waits.
struct QueuePlace<'a>(&'a AtomicUsize);

impl<'a> QueuePlace<'a> {
    fn take(waiting: &'a AtomicUsize, queue_length: usize) -> Option<Self> {
        let before = waiting.fetch_add(1, Ordering::SeqCst);
        if before >= queue_length {
            waiting.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        record_queue_depth(before + 1);
        Some(Self(waiting))
    }
}

impl Drop for QueuePlace<'_> {
    fn drop(&mut self) {
        let before = self.0.fetch_sub(1, Ordering::SeqCst);
        record_queue_depth(before.saturating_sub(1));
    }
}

/// Publishes the number of requests waiting for a hash slot.
fn record_queue_depth(waiting: usize) {
    metrics::gauge!("password_hash_queue_depth").set(waiting as f64);
}

#[cfg(test)]
mod tests {
    use tokio::task::JoinHandle;

    use super::*;

    fn gate(concurrency: usize, queue_length: usize, timeout_ms: u64) -> Arc<HashGate> {
        Arc::new(HashGate::new(HashGateSettings {
            concurrency,
            queue_length,
            queue_timeout: Duration::from_millis(timeout_ms),
        }))
    }

    /// Yields until `condition` is true, so a spawned task reaches its wait.
    async fn until(condition: impl Fn() -> bool) {
        for _ in 0..1000 {
            if condition() {
                return;
            }
            tokio::task::yield_now().await;
        }
        panic!("condition not reached");
    }

    /// Spawns a task that waits in the gate's queue, and returns once it
    /// waits there.
    async fn spawn_waiter(gate: &Arc<HashGate>) -> JoinHandle<Result<(), GateError>> {
        let waiting_before = gate.waiting();
        let waiter = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.enter().await.map(drop) })
        };
        until(|| gate.waiting() == waiting_before + 1).await;
        waiter
    }

    #[tokio::test]
    async fn free_slot_is_taken_at_once() {
        let gate = gate(2, 0, 10);

        let first = gate.enter().await;
        let second = gate.enter().await;

        assert!(first.is_ok());
        assert!(second.is_ok());
    }

    #[tokio::test]
    async fn full_queue_rejects_at_once() {
        let gate = gate(1, 1, 60_000);
        let _running = gate.enter().await.unwrap();
        let queued = spawn_waiter(&gate).await;

        let rejected = gate.enter().await;

        assert_eq!(rejected.err(), Some(GateError::QueueFull));
        queued.abort();
    }

    #[tokio::test]
    async fn waiter_times_out() {
        let gate = gate(1, 4, 20);
        let _running = gate.enter().await.unwrap();

        let result = gate.enter().await;

        assert_eq!(result.err(), Some(GateError::TimedOut));
        assert_eq!(gate.waiting(), 0);
    }

    #[tokio::test]
    async fn released_slot_goes_to_waiter() {
        let gate = gate(1, 4, 60_000);
        let running = gate.enter().await.unwrap();
        let queued = spawn_waiter(&gate).await;

        drop(running);

        assert_eq!(queued.await.unwrap(), Ok(()));
        assert_eq!(gate.waiting(), 0);
    }

    #[tokio::test]
    async fn dropped_waiter_frees_its_place() {
        let gate = gate(1, 1, 60_000);
        let _running = gate.enter().await.unwrap();
        let queued = spawn_waiter(&gate).await;

        queued.abort();
        let _ = queued.await;

        assert_eq!(gate.waiting(), 0);
    }

    #[test]
    fn retry_after_rounds_timeout_up() {
        assert_eq!(gate(1, 1, 2500).retry_after(), Duration::from_secs(3));
        assert_eq!(gate(1, 1, 20).retry_after(), Duration::from_secs(1));
    }
}
