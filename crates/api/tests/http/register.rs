use chrono::DateTime;
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{error_body, spawn_app, spawn_app_with, status_and_json, Backend, PASSWORD};

on_both_backends!(
    register_returns_token_and_user,
    register_defaults_name_to_local_part,
    register_normalises_email,
    register_rejects_email_in_other_case,
    register_allows_repeated_names,
    concurrent_registrations_create_one_user,
    register_stores_longest_values,
);

async fn register_returns_token_and_user(backend: Backend) {
    let app = spawn_app(backend).await;

    let response = app
        .register("user@example.com", PASSWORD, Some("John Doe"))
        .await;
    let (status, body) = status_and_json(response).await;

    assert_eq!(status, StatusCode::CREATED);
    let token = body["token"].as_str().expect("token is a string");
    assert_eq!(token.split('.').count(), 3, "token is a JWT");
    let user = body["user"].as_object().expect("user is an object");
    let mut keys: Vec<&str> = user.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["created_at", "email", "id", "name"]);
    assert_eq!(user["name"], "John Doe");
    assert_eq!(user["email"], "user@example.com");
    uuid::Uuid::parse_str(user["id"].as_str().unwrap()).expect("id is a UUID");
    let created_at = user["created_at"].as_str().unwrap();
    assert!(created_at.ends_with('Z'), "{created_at} is in UTC");
    DateTime::parse_from_rfc3339(created_at).expect("created_at is RFC 3339");
}

async fn register_defaults_name_to_local_part(backend: Backend) {
    let app = spawn_app(backend).await;

    let (status, body) =
        status_and_json(app.register("jane.doe@example.com", PASSWORD, None).await).await;

    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body["user"]["name"], "jane.doe");
}

async fn register_normalises_email(backend: Backend) {
    let app = spawn_app(backend).await;

    let (status, body) = status_and_json(
        app.register("  Jane@Example.COM ", PASSWORD, Some("Jane"))
            .await,
    )
    .await;

    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body["user"]["email"], "jane@example.com");
}

async fn register_rejects_email_in_other_case(backend: Backend) {
    let app = spawn_app(backend).await;
    app.register("jane@example.com", PASSWORD, None).await;

    let (status, body) =
        status_and_json(app.register("JANE@example.com", PASSWORD, None).await).await;

    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        body,
        error_body("An account with this email already exists.", "email_taken")
    );
}

async fn register_allows_repeated_names(backend: Backend) {
    let app = spawn_app(backend).await;
    app.register("one@example.com", PASSWORD, Some("John Doe"))
        .await;

    let response = app
        .register("two@example.com", PASSWORD, Some("John Doe"))
        .await;

    assert_eq!(response.status(), StatusCode::CREATED);
}

async fn concurrent_registrations_create_one_user(backend: Backend) {
    let app = spawn_app(backend).await;

    let requests = (0..20).map(|_| app.register("race@example.com", PASSWORD, None));
    let statuses: Vec<StatusCode> = join_all(requests)
        .await
        .into_iter()
        .map(|response| response.status())
        .collect();

    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let conflicts = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!(created, 1, "statuses: {statuses:?}");
    assert_eq!(conflicts, 19, "statuses: {statuses:?}");
}

/// An email and a name of the maximum lengths, in two-byte characters, fit
/// the columns of both schemas, which count characters rather than bytes.
async fn register_stores_longest_values(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = format!("{}@{}.com", "é".repeat(64), "b".repeat(185));
    let name = format!("{}e\u{301}", "é".repeat(99));
    assert_eq!(email.chars().count(), 254);

    let (status, body) = status_and_json(app.register(&email, PASSWORD, Some(&name)).await).await;

    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["user"]["email"], email);
    assert_eq!(
        body["user"]["name"],
        "é".repeat(100),
        "name is NFC-normalised"
    );
    let login = app.login(&email.to_uppercase(), PASSWORD).await;
    assert_eq!(login.status(), StatusCode::OK);
}

#[tokio::test]
async fn register_rejects_common_password_outside_dev() {
    let app = spawn_app_with(Backend::Sqlite, &[("PLATFORM_ENV", "production")]).await;

    for password in ["password1", "Password1", "QWERTY123"] {
        let (status, body) =
            status_and_json(app.register("user@example.com", password, None).await).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{password}");
        assert_eq!(
            body["errors"],
            json!([{
                "field": "password",
                "code": "common_password",
                "detail": "Password is on a list of commonly used passwords; choose a less common one."
            }]),
            "{password}"
        );
    }
    let uncommon = app
        .register("user@example.com", "violet-harbour-1729", None)
        .await;
    assert_eq!(uncommon.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn register_allows_common_password_in_dev() {
    let app = spawn_app(Backend::Sqlite).await;

    let response = app.register("user@example.com", "password1", None).await;

    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn register_lists_every_invalid_field() {
    let app = spawn_app(Backend::Sqlite).await;

    let body = json!({ "email": "not-an-email", "password": "short", "name": 42 });
    let (status, body) = status_and_json(app.post_json("/api/v1/auth/register", &body).await).await;

    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body,
        json!({
            "detail": "One or more fields are invalid.",
            "code": "validation_failed",
            "errors": [
                { "field": "email", "code": "invalid_email", "detail": "Email must look like name@example.com." },
                { "field": "name", "code": "invalid_type", "detail": "This field must be a string." }
            ]
        })
    );
}

#[tokio::test]
async fn register_reports_missing_fields() {
    let app = spawn_app(Backend::Sqlite).await;

    let (status, body) =
        status_and_json(app.post_json("/api/v1/auth/register", &json!({})).await).await;

    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body["errors"],
        json!([
            { "field": "email", "code": "required", "detail": "This field is required." },
            { "field": "password", "code": "required", "detail": "This field is required." }
        ])
    );
}

/// Each case is one invalid field of an otherwise valid body.
#[tokio::test]
async fn register_rejects_invalid_values() {
    let app = spawn_app(Backend::Sqlite).await;
    let long_name = "n".repeat(101);
    let long_password = "p".repeat(257);
    let long_email = format!("{}@example.com", "a".repeat(250));
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({ "email": "user@example.com", "password": "seven77" }),
            "password",
            "too_short",
        ),
        (
            json!({ "email": "user@example.com", "password": long_password }),
            "password",
            "too_long",
        ),
        (
            json!({ "email": "user@example.com", "password": "user@example.com!" }),
            "password",
            "contains_email",
        ),
        (
            json!({ "email": long_email, "password": PASSWORD }),
            "email",
            "too_long",
        ),
        (
            json!({ "email": "us\u{0}er@example.com", "password": PASSWORD }),
            "email",
            "forbidden_character",
        ),
        (
            json!({ "email": "", "password": PASSWORD }),
            "email",
            "required",
        ),
        (
            json!({ "email": null, "password": PASSWORD }),
            "email",
            "required",
        ),
        (
            json!({ "email": ["user@example.com"], "password": PASSWORD }),
            "email",
            "invalid_type",
        ),
        (
            json!({ "email": "user@example.com", "password": 12345678 }),
            "password",
            "invalid_type",
        ),
        (
            json!({ "email": "user@example.com", "password": PASSWORD, "name": long_name }),
            "name",
            "too_long",
        ),
        (
            json!({ "email": "user@example.com", "password": PASSWORD, "name": "   " }),
            "name",
            "required",
        ),
        (
            json!({ "email": "user@example.com", "password": PASSWORD, "name": "a\u{7}b" }),
            "name",
            "forbidden_character",
        ),
    ];

    for (body, field, code) in cases {
        let (status, response) =
            status_and_json(app.post_json("/api/v1/auth/register", &body).await).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(response["code"], "validation_failed", "{body}");
        assert_eq!(response["errors"][0]["field"], field, "{body}");
        assert_eq!(response["errors"][0]["code"], code, "{body}");
        assert_eq!(response["errors"].as_array().unwrap().len(), 1, "{body}");
    }
}

#[tokio::test]
async fn register_keeps_password_untrimmed() {
    let app = spawn_app(Backend::Sqlite).await;
    app.register("user@example.com", "  spaced password  ", None)
        .await;

    let trimmed = app.login("user@example.com", "spaced password").await;
    let exact = app.login("user@example.com", "  spaced password  ").await;

    assert_eq!(trimmed.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(exact.status(), StatusCode::OK);
}
