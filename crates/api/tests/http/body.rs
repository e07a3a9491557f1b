//! Request bodies that are not what the routes accept.

use reqwest::StatusCode;

use crate::support::{error_body, spawn_app, status_and_json, Backend};

const JSON: Option<&str> = Some("application/json");
const CREDENTIALS: &str = r#"{"email":"user@example.com","password":"mypassword"}"#;

#[tokio::test]
async fn unparseable_json_is_bad_request() {
    let app = spawn_app(Backend::Sqlite).await;

    for raw in ["{\"email\":", "not json", "{'email': 'x'}", ""] {
        let response = app.post_raw("/api/v1/auth/login", JSON, raw).await;
        let (status, body) = status_and_json(response).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{raw:?}");
        assert_eq!(body["code"], "invalid_json", "{raw:?}");
        let detail = body["detail"].as_str().unwrap();
        assert!(
            detail.starts_with("Request body is not valid JSON"),
            "{detail}"
        );
    }
}

#[tokio::test]
async fn body_that_is_not_an_object_is_unprocessable() {
    let app = spawn_app(Backend::Sqlite).await;

    for raw in ["[]", "\"user@example.com\"", "42", "null"] {
        let response = app.post_raw("/api/v1/auth/register", JSON, raw).await;
        let (status, body) = status_and_json(response).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{raw:?}");
        assert_eq!(
            body,
            error_body("Request body must be a JSON object.", "invalid_body")
        );
    }
}

#[tokio::test]
async fn non_json_content_type_is_unsupported() {
    let app = spawn_app(Backend::Sqlite).await;

    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let response = app
            .post_raw("/api/v1/auth/login", content_type, CREDENTIALS)
            .await;
        let (status, body) = status_and_json(response).await;
        assert_eq!(
            status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type:?}"
        );
        assert_eq!(
            body,
            error_body(
                "Content-Type must be application/json.",
                "unsupported_media_type"
            )
        );
    }
}

#[tokio::test]
async fn json_content_type_variants_are_accepted() {
    let app = spawn_app(Backend::Sqlite).await;
    let variants = [
        ("application/json; charset=utf-8", StatusCode::CREATED),
        // The email is now taken: a 409 proves the body was read as JSON.
        ("application/merge-patch+json", StatusCode::CONFLICT),
    ];

    for (content_type, expected) in variants {
        let response = app
            .post_raw("/api/v1/auth/register", Some(content_type), CREDENTIALS)
            .await;
        assert_eq!(response.status(), expected, "{content_type}");
    }
}

#[tokio::test]
async fn oversized_body_is_rejected() {
    let app = spawn_app(Backend::Sqlite).await;
    let padding = "x".repeat(5000);
    let raw = format!(r#"{{"email":"user@example.com","password":"{padding}"}}"#);

    let response = app.post_raw("/api/v1/auth/register", JSON, &raw).await;
    let (status, body) = status_and_json(response).await;

    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        body,
        error_body(
            "Request body is larger than the 4096-byte limit.",
            "payload_too_large"
        )
    );
}
