//! Per-client request limits on register and login, and which address
//! counts as the client behind a proxy. The windows are one day long, so a
//! test run almost never spans two of them.

use reqwest::{Response, StatusCode};
use serde_json::json;

use crate::on_both_backends;
use crate::support::{
    retry_after_seconds, spawn_app_with, spawn_instance_of, status_and_json, Backend, TestApp,
    CHEAP_HASHING, PASSWORD,
};

on_both_backends!(login_limit_per_client, register_limit_per_client);

/// Checks that `response` is a client limit's 429 and returns its wait.
async fn assert_rate_limited(response: Response) -> u64 {
    let retry_after = retry_after_seconds(&response);
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        body,
        json!({
            "detail": format!("Too many requests from this client; retry after {retry_after} seconds."),
            "code": "rate_limited",
        })
    );
    retry_after
}

async fn login_limit_per_client(backend: Backend) {
    let mut settings = vec![
        ("PLATFORM_LOGIN_LIMIT_PER_CLIENT", "3"),
        ("PLATFORM_LOGIN_LIMIT_WINDOW_SECONDS", "86400"),
    ];
    settings.extend(CHEAP_HASHING);
    let app = spawn_app_with(backend, &settings).await;
    app.register("user@example.com", PASSWORD, None).await;

    for _ in 0..3 {
        let response = app.login("user@example.com", PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK);
    }

    let retry_after = assert_rate_limited(app.login("user@example.com", PASSWORD).await).await;
    assert!((1..=86400).contains(&retry_after), "{retry_after}");
    let registration = app.register("other@example.com", PASSWORD, None).await;
    assert_eq!(
        registration.status(),
        StatusCode::CREATED,
        "register has its own limit"
    );
}

async fn register_limit_per_client(backend: Backend) {
    let mut settings = vec![
        ("PLATFORM_REGISTER_LIMIT_PER_CLIENT", "2"),
        ("PLATFORM_REGISTER_LIMIT_WINDOW_SECONDS", "86400"),
    ];
    settings.extend(CHEAP_HASHING);
    let app = spawn_app_with(backend, &settings).await;

    let first = app.register("one@example.com", PASSWORD, None).await;
    let taken = app.register("one@example.com", PASSWORD, None).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert_eq!(taken.status(), StatusCode::CONFLICT);

    assert_rate_limited(app.register("two@example.com", PASSWORD, None).await).await;
    let login = app.login("one@example.com", PASSWORD).await;
    assert_eq!(login.status(), StatusCode::OK, "login has its own limit");
}

#[tokio::test]
async fn invalid_bodies_are_not_counted() {
    let app = spawn_app_with(
        Backend::Sqlite,
        &[
            ("PLATFORM_REGISTER_LIMIT_PER_CLIENT", "1"),
            ("PLATFORM_REGISTER_LIMIT_WINDOW_SECONDS", "86400"),
        ],
    )
    .await;

    for _ in 0..3 {
        let response = app.register("not-an-email", PASSWORD, None).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }

    let valid = app.register("user@example.com", PASSWORD, None).await;
    assert_eq!(valid.status(), StatusCode::CREATED);
}

async fn login_forwarded_for(app: &TestApp, forwarded_for: &str) -> StatusCode {
    app.client
        .post(app.url("/api/v1/auth/login"))
        .header("X-Forwarded-For", forwarded_for)
        .json(&json!({ "email": "user@example.com", "password": PASSWORD }))
        .send()
        .await
        .expect("request is sent")
        .status()
}

fn proxy_settings(trusted: &'static str) -> Vec<(&'static str, &'static str)> {
    let mut settings = vec![
        ("PLATFORM_LOGIN_LIMIT_PER_CLIENT", "2"),
        ("PLATFORM_LOGIN_LIMIT_WINDOW_SECONDS", "86400"),
        ("PLATFORM_TRUSTED_PROXIES", trusted),
    ];
    settings.extend(CHEAP_HASHING);
    settings
}

/// The test client connects from 127.0.0.1. Trusted as a proxy, it may name
/// the client, so each forwarded address has its own limit.
#[tokio::test]
async fn trusted_proxy_names_the_client() {
    let app = spawn_app_with(Backend::Sqlite, &proxy_settings("127.0.0.0/8")).await;
    app.register("user@example.com", PASSWORD, None).await;

    assert_eq!(
        login_forwarded_for(&app, "198.51.100.7").await,
        StatusCode::OK
    );
    assert_eq!(
        login_forwarded_for(&app, "198.51.100.7").await,
        StatusCode::OK
    );
    assert_eq!(
        login_forwarded_for(&app, "198.51.100.7").await,
        StatusCode::TOO_MANY_REQUESTS
    );

    assert_eq!(
        login_forwarded_for(&app, "198.51.100.8").await,
        StatusCode::OK
    );
    assert_eq!(
        login_forwarded_for(&app, "203.0.113.1, 198.51.100.7").await,
        StatusCode::TOO_MANY_REQUESTS,
        "the rightmost untrusted hop is the client; the forged first hop is ignored"
    );
}

/// Untrusted, the peer's forwarding header is ignored, so every request
/// counts against 127.0.0.1 whatever address it claims.
#[tokio::test]
async fn untrusted_peer_cannot_name_the_client() {
    let app = spawn_app_with(Backend::Sqlite, &proxy_settings("")).await;
    app.register("user@example.com", PASSWORD, None).await;

    assert_eq!(
        login_forwarded_for(&app, "198.51.100.1").await,
        StatusCode::OK
    );
    assert_eq!(
        login_forwarded_for(&app, "198.51.100.2").await,
        StatusCode::OK
    );
    assert_eq!(
        login_forwarded_for(&app, "198.51.100.3").await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// Two instances on one PostgreSQL database count one client's logins in
/// one window, whichever instance each request reaches.
#[tokio::test]
async fn two_instances_share_client_limit() {
    let settings = proxy_settings("");
    let first = spawn_app_with(Backend::Postgres, &settings).await;
    let second = spawn_instance_of(&first, &settings).await;
    first.register("user@example.com", PASSWORD, None).await;

    assert_eq!(
        first.login("user@example.com", PASSWORD).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        second.login("user@example.com", PASSWORD).await.status(),
        StatusCode::OK
    );

    assert_rate_limited(first.login("user@example.com", PASSWORD).await).await;
    assert_rate_limited(second.login("user@example.com", PASSWORD).await).await;
}
