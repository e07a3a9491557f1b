//! The OpenAPI document and the documentation page.

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{spawn_app, Backend};

#[tokio::test]
async fn spec_covers_every_route() {
    let app = spawn_app(Backend::Sqlite).await;

    let response = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::OK);
    let spec: Value = response.json().await.unwrap();
    assert_eq!(spec["openapi"], "3.1.0");
    let expected = [
        ("/api/v1/auth/register", "post"),
        ("/api/v1/auth/login", "post"),
        ("/api/v1/auth/me", "get"),
        ("/api/v1/auth/refresh", "post"),
        ("/api/v1/auth/logout", "post"),
        ("/api/v1/auth/password", "post"),
        ("/api/v1/auth/sessions", "get"),
        ("/api/v1/auth/sessions/{id}", "delete"),
        ("/health", "get"),
        ("/ready", "get"),
        ("/metrics", "get"),
    ];
    let paths = spec["paths"].as_object().unwrap();
    assert_eq!(paths.len(), expected.len());
    for (path, method) in expected {
        let operation = &spec["paths"][path][method];
        assert!(operation.is_object(), "{method} {path} is documented");
        assert!(!operation["responses"].as_object().unwrap().is_empty());
    }
    let login_errors = &spec["paths"]["/api/v1/auth/login"]["post"]["responses"];
    for status in ["200", "400", "401", "403", "413", "415", "422", "500"] {
        assert!(login_errors[status].is_object(), "login documents {status}");
    }
    let schemas = spec["components"]["schemas"].as_object().unwrap();
    for schema in [
        "AuthBody",
        "UserBody",
        "ErrorBody",
        "FieldErrorBody",
        "SessionListBody",
    ] {
        assert!(schemas.contains_key(schema), "{schema} is a component");
    }
    assert_eq!(
        spec["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

#[tokio::test]
async fn docs_page_works_offline() {
    let app = spawn_app(Backend::Sqlite).await;

    let page = app
        .client
        .get(app.url("/api/v1/docs/"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    let config = app
        .client
        .get(app.url("/api/v1/docs/swagger-initializer.js"))
        .send()
        .await
        .unwrap();
    let bundle = app
        .client
        .get(app.url("/api/v1/docs/swagger-ui-bundle.js"))
        .send()
        .await
        .unwrap();

    assert!(html.contains("swagger-ui"), "{html}");
    assert!(
        !html.contains("https://"),
        "the page loads nothing from the internet"
    );
    assert_eq!(config.status(), StatusCode::OK);
    assert!(config
        .text()
        .await
        .unwrap()
        .contains("/api/v1/openapi.json"));
    assert_eq!(bundle.status(), StatusCode::OK);
}
