//! The example service, protected by the extractor, against tokens from a
//! real platform-auth server on a random port. Every rejection must match
//! what that server's `/api/v1/auth/me` sends for the same header.

use std::net::TcpListener;

use actix_web::{web, App, HttpServer};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use platform_auth_actix::TokenVerifier;
use platform_auth_adapters::testing::TestDatabase;
use platform_auth_api::testing::{spawn_server, TestServer};
use reqwest::header::{HeaderValue, AUTHORIZATION, WWW_AUTHENTICATE};
use reqwest::StatusCode;
use serde_json::{json, Value};

// The tests mount the example's routes and never call its `main`.
#[allow(dead_code)]
#[path = "../examples/protected_service.rs"]
mod protected_service;

const SECRET: &str = "actix-test-secret-0123456789abcdef-0123";

/// The auth server and the example service, both on random ports.
struct Servers {
    auth_url: String,
    service_url: String,
    client: reqwest::Client,
    _auth: TestServer,
}

impl Servers {
    async fn start() -> Self {
        let auth = spawn_server(TestDatabase::sqlite(), SECRET);
        let service_url = start_service(Some(TokenVerifier::new(SECRET)));
        Self {
            auth_url: auth.base_url.clone(),
            service_url,
            client: reqwest::Client::new(),
            _auth: auth,
        }
    }

    /// Registers a user on the auth server and returns its `{token, user}`.
    async fn register(&self, email: &str, name: &str) -> Value {
        let response = self
            .client
            .post(format!("{}/api/v1/auth/register", self.auth_url))
            .json(&json!({ "email": email, "password": "mypassword", "name": name }))
            .send()
            .await
            .expect("register request is sent");
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.expect("register body is JSON")
    }

    async fn get(&self, url: String, authorization: Option<&HeaderValue>) -> Reply {
        let mut request = self.client.get(url);
        if let Some(value) = authorization {
            request = request.header(AUTHORIZATION, value.clone());
        }
        Reply::read(request.send().await.expect("request is sent")).await
    }

    async fn profile(&self, authorization: Option<&HeaderValue>) -> Reply {
        self.get(format!("{}/profile", self.service_url), authorization)
            .await
    }

    async fn me(&self, authorization: Option<&HeaderValue>) -> Reply {
        self.get(format!("{}/api/v1/auth/me", self.auth_url), authorization)
            .await
    }
}

/// Starts the example's routes with the given verifier, or none, and
/// returns the base URL.
fn start_service(verifier: Option<TokenVerifier>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port is free");
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = HttpServer::new(move || {
        let mut app = App::new();
        if let Some(verifier) = verifier.clone() {
            app = app.app_data(verifier);
        }
        app.configure(protected_service::routes)
    })
    .workers(1)
    .listen(listener)
    .expect("service listens")
    .run();
    tokio::spawn(server);
    url
}

#[derive(Debug, PartialEq)]
struct Reply {
    status: StatusCode,
    challenge: Option<String>,
    body: Value,
}

impl Reply {
    async fn read(response: reqwest::Response) -> Self {
        let status = response.status();
        let challenge = response
            .headers()
            .get(WWW_AUTHENTICATE)
            .map(|value| value.to_str().unwrap().to_string());
        let body = response.json().await.expect("body is JSON");
        Self {
            status,
            challenge,
            body,
        }
    }
}

fn bearer(token: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("Bearer {token}")).unwrap()
}

fn sign(algorithm: Algorithm, secret: &str, claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(algorithm),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// Builds the claims of a platform-auth token for `user`, expiring
/// `exp_offset_seconds` from now.
fn claims_for(user: &Value, exp_offset_seconds: i64) -> Value {
    let now = Utc::now().timestamp();
    json!({
        "sub": user["id"],
        "email": user["email"],
        "name": user["name"],
        "iat": now,
        "exp": now + exp_offset_seconds,
    })
}

#[tokio::test]
async fn profile_accepts_server_token() {
    let servers = Servers::start().await;
    let registered = servers.register("user@example.com", "John Doe").await;
    let token = registered["token"].as_str().unwrap();

    let reply = servers.profile(Some(&bearer(token))).await;

    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["id"], registered["user"]["id"]);
    assert_eq!(reply.body["email"], "user@example.com");
    assert_eq!(reply.body["name"], "John Doe");
    let payload: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert!(
        payload["sid"].is_string(),
        "server tokens name their session"
    );
    assert_eq!(reply.body["session_id"], payload["sid"]);
    let expires_at =
        chrono::DateTime::parse_from_rfc3339(reply.body["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!(expires_at.timestamp(), payload["exp"].as_i64().unwrap());
}

#[tokio::test]
async fn profile_reads_session_id() {
    let servers = Servers::start().await;
    let registered = servers.register("user@example.com", "John Doe").await;
    let mut claims = claims_for(&registered["user"], 600);
    claims["sid"] = json!("4f9c1d6e-8a57-4b8e-9d0c-2f3a1b6c7d8e");

    let reply = servers
        .profile(Some(&bearer(&sign(Algorithm::HS256, SECRET, &claims))))
        .await;

    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.body["session_id"],
        "4f9c1d6e-8a57-4b8e-9d0c-2f3a1b6c7d8e"
    );
}

/// Each header the server rejects gets the identical status, body and
/// challenge from the extractor.
#[tokio::test]
async fn rejections_match_auth_server() {
    let servers = Servers::start().await;
    let registered = servers.register("user@example.com", "John Doe").await;
    let user = &registered["user"];
    let token = registered["token"].as_str().unwrap();
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let unsigned = format!(
        "{header}.{}.",
        URL_SAFE_NO_PAD.encode(claims_for(user, 600).to_string())
    );
    let mut without_exp = claims_for(user, 600);
    without_exp.as_object_mut().unwrap().remove("exp");
    let mut foreign_subject = claims_for(user, 600);
    foreign_subject["sub"] = json!("abc123");

    let cases: Vec<(&str, Option<HeaderValue>)> = vec![
        ("no header", None),
        (
            "basic scheme",
            Some(HeaderValue::from_str(&format!("Basic {token}")).unwrap()),
        ),
        ("bare token", Some(HeaderValue::from_str(token).unwrap())),
        ("scheme only", Some(HeaderValue::from_static("Bearer"))),
        ("two tokens", Some(bearer(&format!("{token} extra")))),
        (
            "not ascii",
            Some(HeaderValue::from_bytes(b"Bearer \xe9t\xe9").unwrap()),
        ),
        ("not a jwt", Some(bearer("not-a-jwt"))),
        (
            "expired",
            Some(bearer(&sign(
                Algorithm::HS256,
                SECRET,
                &claims_for(user, -1),
            ))),
        ),
        (
            "other secret",
            Some(bearer(&sign(
                Algorithm::HS256,
                "another-secret-0123456789abcdef0123",
                &claims_for(user, 600),
            ))),
        ),
        (
            "hs512",
            Some(bearer(&sign(
                Algorithm::HS512,
                SECRET,
                &claims_for(user, 600),
            ))),
        ),
        ("alg none", Some(bearer(&unsigned))),
        (
            "no exp",
            Some(bearer(&sign(Algorithm::HS256, SECRET, &without_exp))),
        ),
        (
            "subject not a uuid",
            Some(bearer(&sign(Algorithm::HS256, SECRET, &foreign_subject))),
        ),
    ];

    for (case, authorization) in &cases {
        let from_service = servers.profile(authorization.as_ref()).await;
        let from_server = servers.me(authorization.as_ref()).await;

        assert_eq!(from_service.status, StatusCode::UNAUTHORIZED, "{case}");
        assert!(from_service.challenge.is_some(), "{case}");
        assert_eq!(from_service, from_server, "{case}");
    }
}

#[tokio::test]
async fn expired_token_body_is_exact() {
    let servers = Servers::start().await;
    let registered = servers.register("user@example.com", "John Doe").await;
    let token = sign(
        Algorithm::HS256,
        SECRET,
        &claims_for(&registered["user"], -1),
    );

    let reply = servers.profile(Some(&bearer(&token))).await;

    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        reply.body,
        json!({ "detail": "The token has expired; log in again.", "code": "token_expired" })
    );
    assert_eq!(
        reply.challenge.as_deref(),
        Some(
            "Bearer realm=\"platform-auth\", error=\"invalid_token\", \
             error_description=\"The token has expired; log in again.\""
        )
    );
}

/// The server reads the user from its database and so needs only `sub`.
/// The extractor has no database, so it rejects a token without `email`
/// or `name`.
#[tokio::test]
async fn token_without_identity_is_rejected() {
    let servers = Servers::start().await;
    let registered = servers.register("user@example.com", "John Doe").await;

    for claim in ["email", "name"] {
        let mut claims = claims_for(&registered["user"], 600);
        claims.as_object_mut().unwrap().remove(claim);

        let reply = servers
            .profile(Some(&bearer(&sign(Algorithm::HS256, SECRET, &claims))))
            .await;

        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{claim}");
        assert_eq!(
            reply.body,
            json!({
                "detail": "The token is invalid; log in again to get a new one.",
                "code": "invalid_token",
            }),
            "{claim}"
        );
    }
}

#[tokio::test]
async fn optional_user_allows_anonymous() {
    let servers = Servers::start().await;
    let registered = servers.register("user@example.com", "John Doe").await;
    let greeting = format!("{}/greeting", servers.service_url);

    let anonymous = servers.get(greeting.clone(), None).await;
    let bad_token = servers
        .get(greeting.clone(), Some(&bearer("not-a-jwt")))
        .await;
    let signed_in = servers
        .get(
            greeting,
            Some(&bearer(registered["token"].as_str().unwrap())),
        )
        .await;

    assert_eq!(anonymous.body, json!({ "greeting": "Hello, guest!" }));
    assert_eq!(bad_token.body, json!({ "greeting": "Hello, guest!" }));
    assert_eq!(signed_in.body, json!({ "greeting": "Hello, John Doe!" }));
}

#[tokio::test]
async fn missing_verifier_is_internal_error() {
    let service_url = start_service(None);
    let client = reqwest::Client::new();

    let response = client
        .get(format!("{service_url}/profile"))
        .bearer_auth("any-token")
        .send()
        .await
        .expect("request is sent");
    let reply = Reply::read(response).await;

    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        reply.body,
        json!({ "detail": "internal error", "code": "internal_error" })
    );
}

#[tokio::test]
async fn verifier_in_web_data_is_found() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/profile", listener.local_addr().unwrap());
    let verifier = web::Data::new(TokenVerifier::new(SECRET));
    let server = HttpServer::new(move || {
        App::new()
            .app_data(verifier.clone())
            .configure(protected_service::routes)
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    let now = Utc::now().timestamp();
    let token = sign(
        Algorithm::HS256,
        SECRET,
        &json!({
            "sub": "4f9c1d6e-8a57-4b8e-9d0c-2f3a1b6c7d8e",
            "email": "user@example.com",
            "name": "user",
            "iat": now,
            "exp": now + 600,
        }),
    );

    let response = reqwest::Client::new()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::OK);
}

#[test]
#[should_panic(expected = "the token verifier's secret is empty")]
fn empty_secret_is_rejected() {
    TokenVerifier::new("");
}
