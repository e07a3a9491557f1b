//! `/me` with valid, tampered, expired and foreign tokens.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{error_body, spawn_app, status_and_json, Backend, TestApp, PASSWORD, SECRET};

const INVALID_TOKEN: &str = "The token is invalid; log in again to get a new one.";

on_both_backends!(me_returns_current_user, me_rejects_token_of_deleted_user);

async fn me_returns_current_user(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, registered) = status_and_json(
        app.register("user@example.com", PASSWORD, Some("John Doe"))
            .await,
    )
    .await;
    let token = registered["token"].as_str().unwrap();

    let (status, body) =
        status_and_json(app.me_with_header(Some(&format!("Bearer {token}"))).await).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, registered["user"]);
}

async fn me_rejects_token_of_deleted_user(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.registered_token("user@example.com").await;
    let user_id = token_subject(&token);
    let sessionless = sign(Algorithm::HS256, SECRET, &claims(&user_id, 600));
    app.database.execute("DELETE FROM users");

    let with_session = app.me_with_header(Some(&format!("Bearer {token}"))).await;
    let without_session = app
        .me_with_header(Some(&format!("Bearer {sessionless}")))
        .await;

    assert_eq!(with_session.status(), StatusCode::UNAUTHORIZED);
    assert!(with_session.headers().contains_key("www-authenticate"));
    let (_, body) = status_and_json(with_session).await;
    assert_eq!(
        body,
        error_body(
            "The token's session has ended; log in again.",
            "session_ended"
        )
    );
    assert_eq!(without_session.status(), StatusCode::UNAUTHORIZED);
    let (_, body) = status_and_json(without_session).await;
    assert_eq!(
        body,
        error_body(
            "The token's user no longer exists or has signed out of all sessions; log in again.",
            "invalid_token"
        )
    );
}

fn token_subject(token: &str) -> String {
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["sub"].as_str().unwrap().to_string()
}

/// Registers a user and returns their id.
async fn registered_user_id(app: &TestApp) -> String {
    let (_, body) = status_and_json(app.register("user@example.com", PASSWORD, None).await).await;
    body["user"]["id"].as_str().unwrap().to_string()
}

fn sign(algorithm: Algorithm, secret: &str, claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(algorithm),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn claims(user_id: &str, exp_offset_seconds: i64) -> Value {
    let now = Utc::now().timestamp();
    json!({
        "sub": user_id,
        "email": "user@example.com",
        "name": "user",
        "iat": now,
        "exp": now + exp_offset_seconds,
    })
}

async fn assert_refused(app: &TestApp, token: &str, detail: &str, code: &str) {
    let response = app.me_with_header(Some(&format!("Bearer {token}"))).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{token}");
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        challenge.starts_with("Bearer realm=\"platform-auth\", error=\"invalid_token\""),
        "{challenge}"
    );
    let (_, body) = status_and_json(response).await;
    assert_eq!(body, error_body(detail, code), "{token}");
}

#[tokio::test]
async fn expired_token_is_refused() {
    let app = spawn_app(Backend::Sqlite).await;
    let user_id = registered_user_id(&app).await;

    let token = sign(Algorithm::HS256, SECRET, &claims(&user_id, -1));

    assert_refused(
        &app,
        &token,
        "The token has expired; log in again.",
        "token_expired",
    )
    .await;
}

#[tokio::test]
async fn token_with_other_secret_is_refused() {
    let app = spawn_app(Backend::Sqlite).await;
    let user_id = registered_user_id(&app).await;

    let token = sign(
        Algorithm::HS256,
        "another-secret-0123456789abcdef0123",
        &claims(&user_id, 600),
    );

    assert_refused(&app, &token, INVALID_TOKEN, "invalid_token").await;
}

#[tokio::test]
async fn tampered_token_is_refused() {
    let app = spawn_app(Backend::Sqlite).await;
    let token = app.registered_token("user@example.com").await;
    let parts: Vec<&str> = token.split('.').collect();

    // Re-encode the payload with another subject, keeping the signature.
    let mut payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    payload["sub"] = json!(uuid::Uuid::new_v4().to_string());
    let forged_payload = URL_SAFE_NO_PAD.encode(payload.to_string());
    let forged = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
    let mut flipped_signature = parts[2].to_string();
    let last = flipped_signature.pop().unwrap();
    flipped_signature.push(if last == 'A' { 'B' } else { 'A' });
    let bad_signature = format!("{}.{}.{}", parts[0], parts[1], flipped_signature);

    for token in [
        forged,
        bad_signature,
        "not-a-jwt".to_string(),
        "a.b.c".to_string(),
    ] {
        assert_refused(&app, &token, INVALID_TOKEN, "invalid_token").await;
    }
}

#[tokio::test]
async fn algorithm_switch_is_refused() {
    let app = spawn_app(Backend::Sqlite).await;
    let user_id = registered_user_id(&app).await;

    for algorithm in [Algorithm::HS384, Algorithm::HS512] {
        let token = sign(algorithm, SECRET, &claims(&user_id, 600));
        assert_refused(&app, &token, INVALID_TOKEN, "invalid_token").await;
    }
}

#[tokio::test]
async fn unsigned_alg_none_token_is_refused() {
    let app = spawn_app(Backend::Sqlite).await;
    let user_id = registered_user_id(&app).await;

    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims(&user_id, 600).to_string());
    for token in [
        format!("{header}.{payload}."),
        format!("{header}.{payload}"),
    ] {
        assert_refused(&app, &token, INVALID_TOKEN, "invalid_token").await;
    }
}

#[tokio::test]
async fn token_without_exp_is_refused() {
    let app = spawn_app(Backend::Sqlite).await;
    let user_id = registered_user_id(&app).await;

    let token = sign(
        Algorithm::HS256,
        SECRET,
        &json!({ "sub": user_id, "iat": Utc::now().timestamp() }),
    );

    assert_refused(&app, &token, INVALID_TOKEN, "invalid_token").await;
}

/// A token as the Python PraisonAI platform's PyJWT call writes it, with the
/// same secret and claims, is accepted.
#[tokio::test]
async fn python_platform_token_is_accepted() {
    let app = spawn_app(Backend::Sqlite).await;
    let user_id = registered_user_id(&app).await;

    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims(&user_id, 600).to_string());
    let signing_input = format!("{header}.{payload}");
    let signature = jsonwebtoken::crypto::sign(
        signing_input.as_bytes(),
        &EncodingKey::from_secret(SECRET.as_bytes()),
        Algorithm::HS256,
    )
    .unwrap();
    let token = format!("{signing_input}.{signature}");

    let (status, body) =
        status_and_json(app.me_with_header(Some(&format!("Bearer {token}"))).await).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["id"], user_id);
}

/// Our tokens carry exactly the claims the Python platform reads.
#[tokio::test]
async fn issued_token_has_platform_claims() {
    let app = spawn_app(Backend::Sqlite).await;
    let (_, body) = status_and_json(
        app.register("user@example.com", PASSWORD, Some("John Doe"))
            .await,
    )
    .await;
    let token = body["token"].as_str().unwrap();
    let parts: Vec<&str> = token.split('.').collect();

    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();

    assert_eq!(header["alg"], "HS256");
    assert_eq!(claims["sub"], body["user"]["id"]);
    assert_eq!(claims["email"], "user@example.com");
    assert_eq!(claims["name"], "John Doe");
    uuid::Uuid::parse_str(claims["sid"].as_str().unwrap()).expect("sid is a session UUID");
    let iat = claims["iat"].as_i64().unwrap();
    let exp = claims["exp"].as_i64().unwrap();
    assert_eq!(exp - iat, 2_592_000);
}
