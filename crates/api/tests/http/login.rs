use platform_auth_adapters::DieselUserRepo;
use platform_auth_domain::{Email, UserRepo};
use reqwest::StatusCode;
use serde_json::json;

use crate::on_both_backends;
use crate::support::{
    error_body, spawn_app, spawn_app_with, spawn_instance_of, status_and_json, Backend,
    CHEAP_HASHING, PASSWORD,
};

on_both_backends!(
    login_returns_token_and_user,
    login_accepts_email_in_other_case,
    login_rejects_wrong_password,
    login_rejects_unknown_email_alike,
    login_upgrades_weaker_hash,
);

async fn login_returns_token_and_user(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, registered) = status_and_json(
        app.register("user@example.com", PASSWORD, Some("John Doe"))
            .await,
    )
    .await;

    let (status, body) = status_and_json(app.login("user@example.com", PASSWORD).await).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["user"], registered["user"]);
    assert_eq!(body["token"].as_str().unwrap().split('.').count(), 3);
}

async fn login_accepts_email_in_other_case(backend: Backend) {
    let app = spawn_app(backend).await;
    app.register("user@example.com", PASSWORD, None).await;

    let response = app.login("  USER@Example.com", PASSWORD).await;

    assert_eq!(response.status(), StatusCode::OK);
}

async fn login_rejects_wrong_password(backend: Backend) {
    let app = spawn_app(backend).await;
    app.register("user@example.com", PASSWORD, None).await;

    let (status, body) =
        status_and_json(app.login("user@example.com", "wrong-password").await).await;

    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        error_body("Invalid email or password.", "invalid_credentials")
    );
}

async fn login_rejects_unknown_email_alike(backend: Backend) {
    let app = spawn_app(backend).await;
    app.register("user@example.com", PASSWORD, None).await;

    let wrong_password = app.login("user@example.com", "wrong-password").await;
    let unknown = app.login("nobody@example.com", PASSWORD).await;
    let malformed = app.login("not an email", PASSWORD).await;

    let wrong_headers = wrong_password.headers().clone();
    let (_, wrong_body) = status_and_json(wrong_password).await;
    for response in [unknown, malformed] {
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.headers().get("www-authenticate"),
            wrong_headers.get("www-authenticate")
        );
        let (_, body) = status_and_json(response).await;
        assert_eq!(body, wrong_body);
    }
}

/// Registers an account on an instance with a cheap argon2 cost and logs in
/// on one with the default cost, which must store a new hash at its cost.
async fn login_upgrades_weaker_hash(backend: Backend) {
    let cheap = spawn_app_with(backend, &CHEAP_HASHING).await;
    let current = spawn_instance_of(&cheap, &[]).await;
    cheap.register("user@example.com", PASSWORD, None).await;
    let users = DieselUserRepo::new(cheap.database.open_pool());
    let email = Email::parse("user@example.com").unwrap();
    let stored_hash = || {
        users
            .find_credentials_by_email(&email)
            .unwrap()
            .expect("user exists")
            .password_hash
            .expose()
            .to_string()
    };
    assert!(stored_hash().contains("$m=1024,t=1,p=1$"));

    let response = current.login("user@example.com", PASSWORD).await;

    assert_eq!(response.status(), StatusCode::OK);
    assert!(stored_hash().contains("$m=19456,t=2,p=1$"));
    let again = cheap.login("user@example.com", PASSWORD).await;
    assert_eq!(again.status(), StatusCode::OK, "the new hash verifies");
}

#[tokio::test]
async fn login_reports_missing_fields() {
    let app = spawn_app(Backend::Sqlite).await;

    let (status, body) = status_and_json(
        app.post_json(
            "/api/v1/auth/login",
            &json!({ "email": "user@example.com" }),
        )
        .await,
    )
    .await;

    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body["errors"],
        json!([{ "field": "password", "code": "required", "detail": "This field is required." }])
    );
}

#[tokio::test]
async fn login_rejects_overlong_password_unhashed() {
    let app = spawn_app(Backend::Sqlite).await;

    let (status, body) =
        status_and_json(app.login("user@example.com", &"p".repeat(257)).await).await;

    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["code"], "too_long");
}

#[tokio::test]
async fn disabled_user_cannot_log_in() {
    let app = spawn_app(Backend::Sqlite).await;
    let token = app.registered_token("user@example.com").await;
    app.database
        .execute("UPDATE users SET disabled_at = '2026-01-01 00:00:00'");

    let wrong = app.login("user@example.com", "wrong-password").await;
    let right = app.login("user@example.com", PASSWORD).await;

    assert_eq!(
        wrong.status(),
        StatusCode::UNAUTHORIZED,
        "no hint without the password"
    );
    let (status, body) = status_and_json(right).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body,
        error_body(
            "This account is disabled; contact an administrator.",
            "account_disabled"
        )
    );
    assert_eq!(app.me_status(&token).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn logins_are_audited() {
    let app = spawn_app(Backend::Sqlite).await;
    app.register("user@example.com", PASSWORD, None).await;
    app.login("user@example.com", PASSWORD).await;
    app.login("user@example.com", "wrong-password").await;
    app.login("nobody@example.com", PASSWORD).await;

    assert_eq!(app.database.count_rows("audit_events"), 4);
}
