//! The retry policy: which calls are retried, how often and how long the
//! client waits, against a scripted server on 127.0.0.1.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use platform_auth_client::reqwest::StatusCode;
use platform_auth_client::{Backoff, Error, PlatformClient};

use crate::support::{Scripted, ScriptedServer, PASSWORD};

#[tokio::test]
async fn get_succeeds_after_two_503s() {
    let server = ScriptedServer::start(vec![
        Scripted::overloaded(),
        Scripted::overloaded(),
        Scripted::user(),
    ]);

    let user = server.client(3).current_user().await.unwrap();

    assert_eq!(user.name, "John Doe");
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn health_is_retried() {
    let server = ScriptedServer::start(vec![
        Scripted::overloaded(),
        Scripted::json(200, serde_json::json!({ "status": "ok" })),
    ]);

    server.client(3).health().await.unwrap();

    assert_eq!(server.requests(), ["GET /health", "GET /health"]);
}

#[tokio::test]
async fn attempts_are_bounded() {
    let server = ScriptedServer::start(vec![Scripted::overloaded()]);

    let error = server.client(4).current_user().await.unwrap_err();

    assert_eq!(server.requests().len(), 4);
    assert_eq!(error.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(error.code(), Some("overloaded"));
    assert_eq!(
        error.detail(),
        Some("The server is overloaded; try again later.")
    );
}

#[tokio::test]
async fn one_attempt_disables_retries() {
    let server = ScriptedServer::start(vec![Scripted::overloaded()]);

    let error = server.client(0).current_user().await.unwrap_err();

    assert_eq!(server.requests().len(), 1);
    assert!(matches!(error, Error::Server { .. }), "{error:?}");
}

#[tokio::test]
async fn post_is_never_retried() {
    let server = ScriptedServer::start(vec![Scripted::overloaded()]);
    let client = server.client(5);

    let login = client
        .login("user@example.com", PASSWORD)
        .await
        .unwrap_err();
    let register = client
        .register("user@example.com", PASSWORD, None)
        .await
        .unwrap_err();

    assert_eq!(
        server.requests(),
        ["POST /api/v1/auth/login", "POST /api/v1/auth/register"]
    );
    assert_eq!(login.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(login.retry_after(), Some(Duration::ZERO));
    assert_eq!(register.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
}

#[tokio::test]
async fn rate_limited_post_is_not_retried() {
    let server = ScriptedServer::start(vec![Scripted::error(
        429,
        "Too many requests; try again later.",
        "rate_limited",
    )
    .with_retry_after("0")]);

    let error = server
        .client(5)
        .register("user@example.com", PASSWORD, None)
        .await
        .unwrap_err();

    assert_eq!(server.requests().len(), 1);
    assert!(matches!(error, Error::RateLimited { .. }), "{error:?}");
}

#[tokio::test]
async fn retry_after_is_waited_out() {
    let server = ScriptedServer::start(vec![
        Scripted::error(429, "Too many requests; try again later.", "rate_limited")
            .with_retry_after("1"),
        Scripted::user(),
    ]);
    let started = Instant::now();

    server.client(3).current_user().await.unwrap();

    let elapsed = started.elapsed();
    assert_eq!(server.requests().len(), 2);
    assert!(elapsed >= Duration::from_secs(1), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}

#[tokio::test]
async fn long_retry_after_ends_the_call() {
    let server = ScriptedServer::start(vec![Scripted::error(
        429,
        "Too many requests; try again later.",
        "rate_limited",
    )
    .with_retry_after("120")]);
    let client = PlatformClient::builder(&server.base_url)
        .max_retry_after(Duration::from_secs(5))
        .build()
        .unwrap();
    let started = Instant::now();

    let error = client.current_user().await.unwrap_err();

    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(server.requests().len(), 1);
    let Error::RateLimited { retry_after, .. } = error else {
        panic!("expected RateLimited, got {error:?}");
    };
    assert_eq!(retry_after, Some(Duration::from_secs(120)));
}

#[tokio::test]
async fn slow_response_times_out() {
    let server = ScriptedServer::start(vec![Scripted::user().with_delay(Duration::from_secs(3))]);
    let client = PlatformClient::builder(&server.base_url)
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let started = Instant::now();

    let error = client.current_user().await.unwrap_err();

    let elapsed = started.elapsed();
    assert!(error.is_timeout(), "{error:?}");
    assert!(matches!(error, Error::Transport(_)), "{error:?}");
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    assert_eq!(server.requests().len(), 1, "a timeout is not retried");
}

#[tokio::test]
async fn refused_connection_is_transport_error() {
    let port = free_port();
    let client = PlatformClient::builder(format!("http://127.0.0.1:{port}"))
        .max_attempts(3)
        .backoff(Backoff::new(
            Duration::from_millis(100),
            Duration::from_millis(100),
        ))
        .build()
        .unwrap();
    let started = Instant::now();

    let error = client.current_user().await.unwrap_err();

    let Error::Transport(source) = &error else {
        panic!("expected Transport, got {error:?}");
    };
    assert!(source.is_connect(), "{source:?}");
    // Two waits of at least half the 100 ms ceiling show two retries.
    assert!(started.elapsed() >= Duration::from_millis(100));
}

#[tokio::test]
async fn connection_failure_is_retried() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let client = PlatformClient::builder(format!("http://{address}"))
        .max_attempts(20)
        .backoff(Backoff::new(
            Duration::from_millis(100),
            Duration::from_millis(100),
        ))
        .build()
        .unwrap();

    // The server comes up while the client is retrying.
    let server = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let listener = TcpListener::bind(address).expect("the port is still free");
        ScriptedServer::start_on(listener, vec![Scripted::user()])
    });
    let user = client.current_user().await.unwrap();

    assert_eq!(user.email, "user@example.com");
    assert_eq!(server.await.unwrap().requests().len(), 1);
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}
