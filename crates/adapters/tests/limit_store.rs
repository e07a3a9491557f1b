//! The diesel abuse-limit store against real PostgreSQL and SQLite
//! databases. Every test body runs once on each backend.

use std::sync::{Arc, Barrier};
use std::thread;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use platform_auth_adapters::testing::{Backend, TestDatabase};
use platform_auth_adapters::{on_both_backends, DieselLimitStore};
use platform_auth_domain::{FailureRecord, LimitStore};

on_both_backends!(
    window_allows_limit_then_rejects,
    later_window_starts_again,
    lagging_window_counts_into_current,
    keys_count_apart,
    concurrent_hits_never_exceed_limit,
    failures_count_and_read_back,
    concurrent_failures_count_exactly,
    old_failures_are_forgotten,
    clearing_failures_reports_whether_any,
    purge_deletes_only_expired_rows,
);

fn store(database: &TestDatabase) -> DieselLimitStore {
    DieselLimitStore::new(database.open_pool())
}

fn at(minute: u32, second: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, minute, second)
        .unwrap()
}

fn window_allows_limit_then_rejects(backend: Backend) {
    let database = TestDatabase::create(backend);
    let store = store(&database);

    let results: Vec<bool> = (0..5)
        .map(|_| {
            store
                .try_hit("login-client:192.0.2.1", at(0, 0), 3)
                .unwrap()
        })
        .collect();

    assert_eq!(results, [true, true, true, false, false]);
}

fn later_window_starts_again(backend: Backend) {
    let database = TestDatabase::create(backend);
    let store = store(&database);
    for _ in 0..3 {
        store.try_hit("key", at(0, 0), 3).unwrap();
    }

    let next_window: Vec<bool> = (0..4)
        .map(|_| store.try_hit("key", at(1, 0), 3).unwrap())
        .collect();

    assert_eq!(next_window, [true, true, true, false]);
}

fn lagging_window_counts_into_current(backend: Backend) {
    let database = TestDatabase::create(backend);
    let store = store(&database);
    store.try_hit("key", at(1, 0), 2).unwrap();

    let lagging = store.try_hit("key", at(0, 0), 2).unwrap();
    let current = store.try_hit("key", at(1, 0), 2).unwrap();

    assert!(lagging, "the second hit of the current window is allowed");
    assert!(!current, "the lagging hit counted into the current window");
}

fn keys_count_apart(backend: Backend) {
    let database = TestDatabase::create(backend);
    let store = store(&database);

    assert!(store
        .try_hit("login-client:192.0.2.1", at(0, 0), 1)
        .unwrap());
    assert!(store
        .try_hit("login-client:192.0.2.2", at(0, 0), 1)
        .unwrap());
    assert!(store
        .try_hit("register-client:192.0.2.1", at(0, 0), 1)
        .unwrap());
    assert!(!store
        .try_hit("login-client:192.0.2.1", at(0, 0), 1)
        .unwrap());
}

/// Runs `count` calls of `call` at once, each on its own thread and pooled
/// connection, and returns their results.
fn all_at_once<T: Send + 'static>(
    count: usize,
    call: impl Fn() -> T + Send + Sync + 'static,
) -> Vec<T> {
    let call = Arc::new(call);
    let barrier = Arc::new(Barrier::new(count));
    let threads: Vec<_> = (0..count)
        .map(|_| {
            let call = call.clone();
            let barrier = barrier.clone();
            thread::spawn(move || {
                barrier.wait();
                call()
            })
        })
        .collect();
    threads
        .into_iter()
        .map(|thread| thread.join().unwrap())
        .collect()
}

fn concurrent_hits_never_exceed_limit(backend: Backend) {
    let database = TestDatabase::create(backend);
    let store = store(&database);

    let results = all_at_once(20, move || store.try_hit("key", at(0, 0), 7).unwrap());

    let allowed = results.iter().filter(|allowed| **allowed).count();
    assert_eq!(allowed, 7, "{results:?}");
}

fn failures_count_and_read_back(backend: Backend) {
    let database = TestDatabase::create(backend);
    let store = store(&database);
    let forget_before = at(0, 0) - TimeDelta::hours(1);

    store
        .record_failure("account", at(0, 0), forget_before)
        .unwrap();
    let last = at(0, 30) + TimeDelta::microseconds(123_456);
    store
        .record_failure("account", last, forget_before)
        .unwrap();

    assert_eq!(
        store.failures("account").unwrap(),
        Some(FailureRecord {
            failures: 2,
            last_failed_at: last,
        })
    );
    assert_eq!(store.failures("other").unwrap(), None);
}

fn concurrent_failures_count_exactly(backend: Backend) {
    let database = TestDatabase::create(backend);
    let store = store(&database);
    let reader = store.clone();

    all_at_once(25, move || {
        let now = Utc::now();
        store
            .record_failure("account", now, now - TimeDelta::hours(1))
            .unwrap()
    });

    let record = reader.failures("account").unwrap().expect("failures exist");
    assert_eq!(record.failures, 25);
}

fn old_failures_are_forgotten(backend: Backend) {
    let database = TestDatabase::create(backend);
    let store = store(&database);
    store.record_failure("account", at(0, 0), at(0, 0)).unwrap();
    store.record_failure("account", at(0, 1), at(0, 0)).unwrap();

    store
        .record_failure("account", at(30, 0), at(20, 0))
        .unwrap();

    let record = store.failures("account").unwrap().unwrap();
    assert_eq!(record.failures, 1);
    assert_eq!(record.last_failed_at, at(30, 0));
}

fn clearing_failures_reports_whether_any(backend: Backend) {
    let database = TestDatabase::create(backend);
    let store = store(&database);
    store.record_failure("account", at(0, 0), at(0, 0)).unwrap();

    assert!(store.clear_failures("account").unwrap());
    assert!(!store.clear_failures("account").unwrap());
    assert_eq!(store.failures("account").unwrap(), None);
}

fn purge_deletes_only_expired_rows(backend: Backend) {
    let database = TestDatabase::create(backend);
    let store = store(&database);
    store.try_hit("ended", at(0, 0), 5).unwrap();
    store.try_hit("current", at(10, 0), 5).unwrap();
    store
        .record_failure("forgotten", at(0, 0), at(0, 0))
        .unwrap();
    store.record_failure("recent", at(10, 0), at(0, 0)).unwrap();

    let deleted = store.purge(at(5, 0), at(5, 0)).unwrap();

    assert_eq!(deleted, 2);
    assert_eq!(store.failures("forgotten").unwrap(), None);
    assert!(store.failures("recent").unwrap().is_some());
    assert!(
        store.try_hit("ended", at(0, 0), 1).unwrap(),
        "the ended window was deleted"
    );
    assert!(
        !store.try_hit("current", at(10, 0), 1).unwrap(),
        "the current window was kept"
    );
}

/// Two instances are two processes with their own pools; here, two pools on
/// one database stand in for them.
#[test]
fn two_pools_on_postgres_share_counters() {
    let database = TestDatabase::create(Backend::Postgres);
    let first = store(&database);
    let second = store(&database);

    assert!(first.try_hit("key", at(0, 0), 2).unwrap());
    assert!(second.try_hit("key", at(0, 0), 2).unwrap());
    assert!(!first.try_hit("key", at(0, 0), 2).unwrap());

    first.record_failure("account", at(0, 0), at(0, 0)).unwrap();
    second
        .record_failure("account", at(0, 1), at(0, 0))
        .unwrap();
    assert_eq!(second.failures("account").unwrap().unwrap().failures, 2);
}
