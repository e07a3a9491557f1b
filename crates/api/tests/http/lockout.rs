//! Account lockout after failed logins, on one instance and across two.

use futures::future::join_all;
use platform_auth_adapters::DieselLimitStore;
use platform_auth_domain::lockout::account_key;
use platform_auth_domain::LimitStore;
use reqwest::{Response, StatusCode};
use serde_json::Value;

use crate::on_both_backends;
use crate::support::{
    retry_after_seconds, spawn_app_with, spawn_instance_of, status_and_json, Backend, TestApp,
    CHEAP_HASHING, PASSWORD,
};

on_both_backends!(
    failures_lock_account,
    unknown_email_locks_alike,
    success_resets_failures,
    parallel_failures_count_exactly,
);

/// Starts an instance whose accounts lock after three failures, for 60
/// seconds at first.
async fn spawn_locking_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, &locking_settings()).await
}

fn locking_settings() -> Vec<(&'static str, &'static str)> {
    let mut settings = vec![
        ("PLATFORM_LOCKOUT_THRESHOLD", "3"),
        ("PLATFORM_LOCKOUT_BASE_SECONDS", "60"),
    ];
    settings.extend(CHEAP_HASHING);
    settings
}

/// Checks that `response` is the lockout's 429 and returns its wait.
async fn assert_locked(response: Response) -> u64 {
    let retry_after = retry_after_seconds(&response);
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["code"], "account_locked");
    assert_eq!(
        body["detail"],
        format!("Too many failed logins for this account; retry after {retry_after} seconds.")
    );
    retry_after
}

async fn failures_lock_account(backend: Backend) {
    let app = spawn_locking_app(backend).await;
    app.register("user@example.com", PASSWORD, None).await;

    for attempt in 1..=3 {
        let response = app.login("user@example.com", "wrong-password").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{attempt}");
    }

    let retry_after = assert_locked(app.login("user@example.com", PASSWORD).await).await;
    assert!((59..=60).contains(&retry_after), "{retry_after}");
    assert_locked(app.login("USER@example.com ", "wrong-password").await).await;
    let other = app.login("other@example.com", "wrong-password").await;
    assert_eq!(other.status(), StatusCode::UNAUTHORIZED);
}

async fn unknown_email_locks_alike(backend: Backend) {
    let app = spawn_locking_app(backend).await;

    for _ in 0..3 {
        let response = app.login("nobody@example.com", "wrong-password").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let malformed: Vec<Response> =
        join_all((0..3).map(|_| app.login("not an email", "wrong-password"))).await;
    for response in malformed {
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }

    assert_locked(app.login("nobody@example.com", PASSWORD).await).await;
    assert_locked(app.login("NOT AN EMAIL", PASSWORD).await).await;
}

async fn success_resets_failures(backend: Backend) {
    let app = spawn_locking_app(backend).await;
    app.register("user@example.com", PASSWORD, None).await;
    for _ in 0..2 {
        app.login("user@example.com", "wrong-password").await;
    }

    let success = app.login("user@example.com", PASSWORD).await;
    assert_eq!(success.status(), StatusCode::OK);

    for _ in 0..2 {
        let response = app.login("user@example.com", "wrong-password").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let still_open = app.login("user@example.com", PASSWORD).await;
    assert_eq!(still_open.status(), StatusCode::OK);
}

/// Twenty wrong passwords sent at once, with the lock at exactly twenty:
/// each passes the lock check before the twentieth is counted, so every
/// one is verified and counted, and only a lost update leaves the account
/// open.
async fn parallel_failures_count_exactly(backend: Backend) {
    const ATTEMPTS: usize = 20;
    let mut settings = vec![("PLATFORM_LOCKOUT_THRESHOLD", "20")];
    settings.extend(CHEAP_HASHING);
    let app = spawn_app_with(backend, &settings).await;
    app.register("user@example.com", PASSWORD, None).await;

    let responses =
        join_all((0..ATTEMPTS).map(|_| app.login("user@example.com", "wrong-password"))).await;

    let statuses: Vec<StatusCode> = responses.iter().map(Response::status).collect();
    assert!(
        statuses
            .iter()
            .all(|status| *status == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    let store = DieselLimitStore::new(app.database.open_pool());
    let record = store
        .failures(&account_key("user@example.com"))
        .unwrap()
        .expect("failures are recorded");
    assert_eq!(record.failures, ATTEMPTS as u32);
    assert_locked(app.login("user@example.com", PASSWORD).await).await;
}

/// Failures spread over two instances on one PostgreSQL database trip one
/// lock, which both instances then enforce.
#[tokio::test]
async fn two_instances_share_one_lock() {
    let first = spawn_locking_app(Backend::Postgres).await;
    let second = spawn_instance_of(&first, &locking_settings()).await;
    first.register("user@example.com", PASSWORD, None).await;

    for app in [&first, &second, &first] {
        let response = app.login("user@example.com", "wrong-password").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }

    assert_locked(second.login("user@example.com", PASSWORD).await).await;
    assert_locked(first.login("user@example.com", PASSWORD).await).await;
}

#[tokio::test]
async fn failures_past_threshold_double_lock() {
    let app = spawn_locking_app(Backend::Sqlite).await;
    let store = DieselLimitStore::new(app.database.open_pool());
    let key = account_key("user@example.com");
    let long_ago = chrono::Utc::now() - chrono::TimeDelta::seconds(30);
    for _ in 0..4 {
        store
            .record_failure(&key, long_ago, long_ago - chrono::TimeDelta::hours(1))
            .unwrap();
    }

    let response = app.login("user@example.com", PASSWORD).await;

    // Four failures are one past the threshold: 2 × 60 s from 30 s ago.
    let retry_after = assert_locked(response).await;
    assert!((89..=90).contains(&retry_after), "{retry_after}");
}

#[tokio::test]
async fn locked_response_matches_for_known_and_unknown() {
    let app = spawn_locking_app(Backend::Sqlite).await;
    app.register("user@example.com", PASSWORD, None).await;
    for email in ["user@example.com", "nobody@example.com"] {
        for _ in 0..3 {
            app.login(email, "wrong-password").await;
        }
    }

    let known = app.login("user@example.com", PASSWORD).await;
    let unknown = app.login("nobody@example.com", PASSWORD).await;

    let (known_status, known_body): (StatusCode, Value) = status_and_json(known).await;
    let (unknown_status, unknown_body) = status_and_json(unknown).await;
    assert_eq!(known_status, unknown_status);
    assert_eq!(known_body["code"], unknown_body["code"]);
}
