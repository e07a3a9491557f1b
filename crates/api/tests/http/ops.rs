//! Readiness, metrics and request ids.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{error_body, spawn_app, spawn_app_with, status_and_json, Backend, PASSWORD};

#[tokio::test]
async fn ready_when_database_is_migrated() {
    for backend in [Backend::Postgres, Backend::Sqlite] {
        let app = spawn_app(backend).await;

        let response = app.client.get(app.url("/ready")).send().await.unwrap();
        let (status, body) = status_and_json(response).await;

        assert_eq!(status, StatusCode::OK, "{backend:?}");
        assert_eq!(body, json!({ "status": "ready" }));
    }
}

#[tokio::test]
async fn not_ready_with_pending_migrations() {
    let app = spawn_app(Backend::Sqlite).await;
    app.database
        .execute("DELETE FROM __diesel_schema_migrations");

    let response = app.client.get(app.url("/ready")).send().await.unwrap();
    let (status, body) = status_and_json(response).await;

    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        body,
        error_body(
            "Database migrations are pending; run `platform-auth migrate`.",
            "not_ready"
        )
    );
    let health = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(
        health.status(),
        StatusCode::OK,
        "liveness ignores the database"
    );
}

#[tokio::test]
async fn metrics_count_requests_and_logins() {
    let app = spawn_app(Backend::Sqlite).await;
    app.register("user@example.com", PASSWORD, None).await;
    app.login("user@example.com", PASSWORD).await;
    app.login("user@example.com", "wrong-password").await;

    let response = app.client.get(app.url("/metrics")).send().await.unwrap();

    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = response.text().await.unwrap();
    let expected = [
        r#"http_requests_total{method="POST",route="/api/v1/auth/login",status="200"}"#,
        r#"http_requests_total{method="POST",route="/api/v1/auth/login",status="401"}"#,
        r#"http_request_duration_seconds_bucket{method="POST",route="/api/v1/auth/register",status="201",le="0.5"}"#,
        r#"auth_logins_total{outcome="success"}"#,
        r#"auth_logins_total{outcome="invalid_credentials"}"#,
        "db_pool_max_connections 10",
        "db_pool_in_use_connections",
        "db_pool_wait_seconds_count",
        "password_hash_wait_seconds_count",
        "password_hash_queue_depth",
    ];
    for line in expected {
        assert!(text.contains(line), "missing {line} in:\n{text}");
    }
}

#[tokio::test]
async fn metrics_move_to_admin_address() {
    let app = spawn_app_with(Backend::Sqlite, &[("PLATFORM_METRICS_ADDR", "127.0.0.1:0")]).await;
    let admin_url = app.admin_url.clone().expect("admin server runs");

    let on_main = app.client.get(app.url("/metrics")).send().await.unwrap();
    let on_admin = app
        .client
        .get(format!("{admin_url}/metrics"))
        .send()
        .await
        .unwrap();

    assert_eq!(on_main.status(), StatusCode::NOT_FOUND);
    assert_eq!(on_admin.status(), StatusCode::OK);
    assert!(on_admin
        .text()
        .await
        .unwrap()
        .contains("http_requests_total"));
}

#[tokio::test]
async fn request_id_is_kept_or_generated() {
    let app = spawn_app(Backend::Sqlite).await;

    let given = app
        .client
        .get(app.url("/health"))
        .header("X-Request-Id", "abc-123.DEF_4")
        .send()
        .await
        .unwrap();
    let absent = app.client.get(app.url("/nope")).send().await.unwrap();
    let unsafe_id = app
        .client
        .get(app.url("/health"))
        .header("X-Request-Id", "evil id\twith spaces")
        .send()
        .await
        .unwrap();

    assert_eq!(given.headers()["x-request-id"], "abc-123.DEF_4");
    let generated = absent.headers()["x-request-id"].to_str().unwrap();
    uuid::Uuid::parse_str(generated).expect("generated ids are UUIDs");
    let replaced = unsafe_id.headers()["x-request-id"].to_str().unwrap();
    uuid::Uuid::parse_str(replaced).expect("unsafe ids are replaced");
}
