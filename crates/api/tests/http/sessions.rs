//! Refresh tokens, logout, password change and the session list.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{
    error_body, spawn_app, spawn_app_with, spawn_instance_of, status_and_json, Backend, TestApp,
    PASSWORD, SECRET,
};

const REFRESH: &str = "/api/v1/auth/refresh";
const LOGOUT: &str = "/api/v1/auth/logout";
const SESSIONS: &str = "/api/v1/auth/sessions";
const PASSWORD_PATH: &str = "/api/v1/auth/password";

on_both_backends!(
    refresh_rotates_the_pair,
    concurrent_refreshes_share_one_pair,
    logout_ends_access_token_at_once,
    logout_all_ends_every_session,
    password_change_ends_other_sessions,
    session_list_and_delete,
);

/// Logs in and returns the response body.
async fn login_body(app: &TestApp, email: &str, password: &str) -> Value {
    let (status, body) = status_and_json(app.login(email, password).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn refresh(app: &TestApp, refresh_token: &str) -> (StatusCode, Value) {
    let body = json!({ "refresh_token": refresh_token });
    status_and_json(app.post_json(REFRESH, &body).await).await
}

fn token(body: &Value) -> &str {
    body["token"].as_str().unwrap()
}

fn refresh_token(body: &Value) -> &str {
    body["refresh_token"].as_str().unwrap()
}

#[tokio::test]
async fn login_returns_refresh_fields() {
    let app = spawn_app(Backend::Sqlite).await;
    app.register("user@example.com", PASSWORD, None).await;

    let body = login_body(&app, "user@example.com", PASSWORD).await;

    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 2_592_000);
    let refresh = URL_SAFE_NO_PAD.decode(refresh_token(&body)).unwrap();
    assert_eq!(refresh.len(), 32, "refresh token carries 256 bits");
    assert_eq!(token(&body).split('.').count(), 3);
}

async fn refresh_rotates_the_pair(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, registered) =
        status_and_json(app.register("user@example.com", PASSWORD, None).await).await;

    let (status, refreshed) = refresh(&app, refresh_token(&registered)).await;

    assert_eq!(status, StatusCode::OK);
    assert_ne!(refresh_token(&refreshed), refresh_token(&registered));
    assert_eq!(refreshed["user"], registered["user"]);
    assert_eq!(refreshed["token_type"], "Bearer");
    assert_eq!(app.me_status(token(&refreshed)).await, StatusCode::OK);
    let (status, again) = refresh(&app, refresh_token(&refreshed)).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(refresh_token(&again), refresh_token(&refreshed));
}

#[tokio::test]
async fn refresh_reuse_ends_session() {
    let app = spawn_app_with(Backend::Sqlite, &[("PLATFORM_REFRESH_REUSE_GRACE", "1")]).await;
    let (_, registered) =
        status_and_json(app.register("user@example.com", PASSWORD, None).await).await;
    let (_, rotated) = refresh(&app, refresh_token(&registered)).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let (status, body) = refresh(&app, refresh_token(&registered)).await;

    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        error_body(
            "The refresh token was already used, so the session has been ended to protect the account; log in again.",
            "refresh_token_reused"
        )
    );
    let (status, body) = refresh(&app, refresh_token(&rotated)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "session_ended");
    assert_eq!(
        app.me_status(token(&rotated)).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.me_status(token(&registered)).await,
        StatusCode::UNAUTHORIZED
    );
}

async fn concurrent_refreshes_share_one_pair(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, registered) =
        status_and_json(app.register("user@example.com", PASSWORD, None).await).await;
    let old = refresh_token(&registered);

    let ((first_status, first), (second_status, second)) =
        tokio::join!(refresh(&app, old), refresh(&app, old));
    // A retry a moment later is still inside the grace window.
    let (third_status, third) = refresh(&app, old).await;

    assert_eq!(first_status, StatusCode::OK, "{first}");
    assert_eq!(second_status, StatusCode::OK, "{second}");
    assert_eq!(third_status, StatusCode::OK, "{third}");
    assert_eq!(first, second);
    assert_eq!(first, third);
    assert_eq!(app.me_status(token(&first)).await, StatusCode::OK);
    let (status, _) = refresh(&app, refresh_token(&first)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn refresh_after_expiry_is_refused() {
    let cases = [
        ("PLATFORM_REFRESH_TTL", "1"),
        ("PLATFORM_SESSION_IDLE_TIMEOUT", "1"),
    ];
    for (variable, value) in cases {
        let app = spawn_app_with(Backend::Sqlite, &[(variable, value)]).await;
        let (_, registered) =
            status_and_json(app.register("user@example.com", PASSWORD, None).await).await;
        tokio::time::sleep(Duration::from_millis(1200)).await;

        let (status, body) = refresh(&app, refresh_token(&registered)).await;

        assert_eq!(status, StatusCode::UNAUTHORIZED, "{variable}");
        assert_eq!(
            body,
            error_body(
                "The session has expired; log in again.",
                "refresh_token_expired"
            ),
            "{variable}"
        );
    }
}

#[tokio::test]
async fn refresh_with_other_users_token_is_refused() {
    let app = spawn_app(Backend::Sqlite).await;
    let (_, alice) = status_and_json(app.register("alice@example.com", PASSWORD, None).await).await;
    let (_, bob) = status_and_json(app.register("bob@example.com", PASSWORD, None).await).await;

    let response = app
        .with_token(
            Method::POST,
            REFRESH,
            token(&alice),
            Some(&json!({ "refresh_token": refresh_token(&bob) })),
        )
        .await;
    let (status, body) = status_and_json(response).await;

    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        error_body(
            "The refresh token belongs to another user than the access token sent with it.",
            "refresh_token_mismatch"
        )
    );
    let (status, _) = refresh(&app, refresh_token(&bob)).await;
    assert_eq!(status, StatusCode::OK, "bob's token was not rotated");
}

#[tokio::test]
async fn refresh_rejects_unknown_and_missing_tokens() {
    let app = spawn_app(Backend::Sqlite).await;

    let (status, body) = refresh(&app, "not-a-refresh-token").await;
    let (missing_status, missing) = status_and_json(app.post_json(REFRESH, &json!({})).await).await;

    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        error_body(
            "The refresh token is not valid; log in again.",
            "invalid_refresh_token"
        )
    );
    assert_eq!(missing_status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(missing["errors"][0]["field"], "refresh_token");
}

async fn logout_ends_access_token_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, first) = status_and_json(app.register("user@example.com", PASSWORD, None).await).await;
    let second = login_body(&app, "user@example.com", PASSWORD).await;

    let response = app
        .with_token(Method::POST, LOGOUT, token(&first), None)
        .await;

    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = app
        .me_with_header(Some(&format!("Bearer {}", token(&first))))
        .await;
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        error_body(
            "The token's session has ended; log in again.",
            "session_ended"
        )
    );
    let (status, body) = refresh(&app, refresh_token(&first)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "session_ended");
    assert_eq!(app.me_status(token(&second)).await, StatusCode::OK);
}

/// Signs a token the way the Python platform does: no session claim.
fn sessionless_token(user_id: &str, issued_seconds_ago: i64) -> String {
    let iat = Utc::now().timestamp() - issued_seconds_ago;
    let claims = json!({ "sub": user_id, "email": "user@example.com", "name": "user", "iat": iat, "exp": iat + 3600 });
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

async fn logout_all_ends_every_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, first) = status_and_json(app.register("user@example.com", PASSWORD, None).await).await;
    let second = login_body(&app, "user@example.com", PASSWORD).await;
    let legacy = sessionless_token(first["user"]["id"].as_str().unwrap(), 5);
    assert_eq!(
        app.me_status(&legacy).await,
        StatusCode::OK,
        "sessionless tokens work"
    );

    let response = app
        .with_token(
            Method::POST,
            LOGOUT,
            token(&second),
            Some(&json!({ "scope": "all" })),
        )
        .await;

    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.me_status(token(&first)).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.me_status(token(&second)).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.me_status(&legacy).await, StatusCode::UNAUTHORIZED);
    let (status, _) = refresh(&app, refresh_token(&first)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let fresh = login_body(&app, "user@example.com", PASSWORD).await;
    assert_eq!(app.me_status(token(&fresh)).await, StatusCode::OK);
}

#[tokio::test]
async fn logout_body_is_validated() {
    let app = spawn_app(Backend::Sqlite).await;
    let (_, user) = status_and_json(app.register("user@example.com", PASSWORD, None).await).await;
    let legacy = sessionless_token(user["user"]["id"].as_str().unwrap(), 5);

    let bad_scope = app
        .with_token(
            Method::POST,
            LOGOUT,
            token(&user),
            Some(&json!({ "scope": "everything" })),
        )
        .await;
    let legacy_current = app.with_token(Method::POST, LOGOUT, &legacy, None).await;
    let unauthenticated = app.post_json(LOGOUT, &json!({})).await;

    let (status, body) = status_and_json(bad_scope).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["code"], "invalid_choice");
    let (status, body) = status_and_json(legacy_current).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "no_session");
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.me_status(token(&user)).await, StatusCode::OK);
}

async fn password_change_ends_other_sessions(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, first) = status_and_json(app.register("user@example.com", PASSWORD, None).await).await;
    let second = login_body(&app, "user@example.com", PASSWORD).await;
    let change = json!({ "current_password": PASSWORD, "new_password": "a-new-passphrase" });

    let response = app
        .with_token(Method::POST, PASSWORD_PATH, token(&first), Some(&change))
        .await;
    let (status, changed) = status_and_json(response).await;

    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(app.me_status(token(&changed)).await, StatusCode::OK);
    assert_eq!(app.me_status(token(&first)).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.me_status(token(&second)).await,
        StatusCode::UNAUTHORIZED
    );
    let (status, _) = refresh(&app, refresh_token(&second)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.login("user@example.com", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login("user@example.com", "a-new-passphrase")
            .await
            .status(),
        StatusCode::OK
    );
    let (status, _) = refresh(&app, refresh_token(&changed)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn password_change_checks_input() {
    let app = spawn_app(Backend::Sqlite).await;
    let (_, user) = status_and_json(app.register("user@example.com", PASSWORD, None).await).await;
    let cases = [
        (
            json!({ "current_password": "wrong-password", "new_password": "a-new-passphrase" }),
            StatusCode::FORBIDDEN,
            "invalid_current_password",
        ),
        (
            json!({ "current_password": PASSWORD, "new_password": "short" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            json!({ "current_password": PASSWORD }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
    ];

    for (body, expected_status, code) in cases {
        let response = app
            .with_token(Method::POST, PASSWORD_PATH, token(&user), Some(&body))
            .await;
        let (status, response) = status_and_json(response).await;
        assert_eq!(status, expected_status, "{body}");
        assert_eq!(response["code"], code, "{body}");
    }
    assert_eq!(
        app.me_status(token(&user)).await,
        StatusCode::OK,
        "session survives"
    );
    assert_eq!(
        app.login("user@example.com", PASSWORD).await.status(),
        StatusCode::OK
    );
}

async fn session_list_and_delete(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, first) = status_and_json(app.register("user@example.com", PASSWORD, None).await).await;
    let second = login_body(&app, "user@example.com", PASSWORD).await;
    let (_, other) = status_and_json(app.register("other@example.com", PASSWORD, None).await).await;

    let response = app
        .with_token(Method::GET, SESSIONS, token(&first), None)
        .await;
    let (status, listed) = status_and_json(response).await;

    assert_eq!(status, StatusCode::OK);
    let sessions = listed["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(
        sessions[0]["current"], false,
        "newest first: the second login"
    );
    assert_eq!(sessions[1]["current"], true);
    assert_eq!(sessions[1]["ip"], "127.0.0.1");
    let second_id = sessions[0]["id"].as_str().unwrap().to_string();
    let other_listed = app
        .with_token(Method::GET, SESSIONS, token(&other), None)
        .await;
    let (_, other_listed) = status_and_json(other_listed).await;
    let other_id = other_listed["sessions"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let foreign = app
        .with_token(
            Method::DELETE,
            &format!("{SESSIONS}/{other_id}"),
            token(&first),
            None,
        )
        .await;
    let (status, body) = status_and_json(foreign).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        error_body(
            "No session with this id exists for the current user.",
            "session_not_found"
        )
    );
    assert_eq!(app.me_status(token(&other)).await, StatusCode::OK);
    let garbage = app
        .with_token(
            Method::DELETE,
            &format!("{SESSIONS}/not-a-uuid"),
            token(&first),
            None,
        )
        .await;
    assert_eq!(garbage.status(), StatusCode::NOT_FOUND);

    let deleted = app
        .with_token(
            Method::DELETE,
            &format!("{SESSIONS}/{second_id}"),
            token(&first),
            None,
        )
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.me_status(token(&second)).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.me_status(token(&first)).await, StatusCode::OK);
    let again = app
        .with_token(
            Method::DELETE,
            &format!("{SESSIONS}/{second_id}"),
            token(&first),
            None,
        )
        .await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    let (_, listed) = status_and_json(
        app.with_token(Method::GET, SESSIONS, token(&first), None)
            .await,
    )
    .await;
    assert_eq!(listed["sessions"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn sessionless_token_works_until_password_change() {
    let app = spawn_app(Backend::Sqlite).await;
    let (_, user) = status_and_json(app.register("user@example.com", PASSWORD, None).await).await;
    let legacy = sessionless_token(user["user"]["id"].as_str().unwrap(), 5);
    assert_eq!(app.me_status(&legacy).await, StatusCode::OK);
    let change = json!({ "current_password": PASSWORD, "new_password": "a-new-passphrase" });

    let response = app
        .with_token(Method::POST, PASSWORD_PATH, &legacy, Some(&change))
        .await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(app.me_status(&legacy).await, StatusCode::UNAUTHORIZED);
}

/// Revocation through one instance is seen by another on the same
/// PostgreSQL database at its next request.
#[tokio::test]
async fn revocation_crosses_instances() {
    let app = spawn_app(Backend::Postgres).await;
    let second_instance = spawn_instance_of(&app, &[]).await.base_url;
    let (_, user) = status_and_json(app.register("user@example.com", PASSWORD, None).await).await;
    let me_on_second = || {
        app.client
            .get(format!("{second_instance}/api/v1/auth/me"))
            .bearer_auth(token(&user))
            .send()
    };
    assert_eq!(me_on_second().await.unwrap().status(), StatusCode::OK);

    let response = app
        .with_token(Method::POST, LOGOUT, token(&user), None)
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    assert_eq!(
        me_on_second().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn finished_sessions_are_pruned() {
    let app = spawn_app_with(
        Backend::Sqlite,
        &[
            ("PLATFORM_SESSION_PRUNE_INTERVAL", "1"),
            ("PLATFORM_REFRESH_TTL", "1"),
        ],
    )
    .await;
    app.register("user@example.com", PASSWORD, None).await;
    assert_eq!(app.database.count_rows("sessions"), 1);

    let mut remaining = 1;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        remaining = app.database.count_rows("sessions");
        if remaining == 0 {
            break;
        }
    }

    assert_eq!(remaining, 0);
}
