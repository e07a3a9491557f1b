use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{error_body, spawn_app, status_and_json, Backend};

#[tokio::test]
async fn health_reports_ok() {
    let app = spawn_app(Backend::Sqlite).await;

    let (status, body) =
        status_and_json(app.client.get(app.url("/health")).send().await.unwrap()).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({ "status": "ok" }));
}

#[tokio::test]
async fn unknown_route_is_json_not_found() {
    let app = spawn_app(Backend::Sqlite).await;

    for path in [
        "/",
        "/api/v1/auth",
        "/api/v1/auth/unknown",
        "/api/v2/auth/me",
    ] {
        let (status, body) =
            status_and_json(app.client.get(app.url(path)).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            body,
            error_body("No route matches this path.", "not_found"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn wrong_method_is_json_not_allowed() {
    let app = spawn_app(Backend::Sqlite).await;
    let cases = [
        (Method::GET, "/api/v1/auth/register", "POST"),
        (Method::PUT, "/api/v1/auth/login", "POST"),
        (Method::POST, "/api/v1/auth/me", "GET"),
        (Method::DELETE, "/health", "GET"),
    ];

    for (method, path, allowed) in cases {
        let response = app
            .client
            .request(method.clone(), app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert_eq!(response.headers()["allow"], allowed);
        let (_, body) = status_and_json(response).await;
        assert_eq!(
            body,
            error_body(
                &format!("Method not allowed; this route accepts {allowed}."),
                "method_not_allowed"
            )
        );
    }
}
