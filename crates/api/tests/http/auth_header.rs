//! The `Authorization` header's variants at `/me`.

use reqwest::StatusCode;

use crate::support::{error_body, spawn_app, status_and_json, Backend};

const MISSING_CHALLENGE: &str = "Bearer realm=\"platform-auth\"";

#[tokio::test]
async fn scheme_is_case_insensitive() {
    let app = spawn_app(Backend::Sqlite).await;
    let token = app.registered_token("user@example.com").await;

    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let response = app.me_with_header(Some(&format!("{scheme} {token}"))).await;
        assert_eq!(response.status(), StatusCode::OK, "scheme {scheme}");
    }
}

#[tokio::test]
async fn missing_header_is_challenged() {
    let app = spawn_app(Backend::Sqlite).await;

    let response = app.me_with_header(None).await;

    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["www-authenticate"], MISSING_CHALLENGE);
    let (_, body) = status_and_json(response).await;
    assert_eq!(
        body,
        error_body(
            "Authorization header is missing; send Authorization: Bearer <token>.",
            "missing_token"
        )
    );
}

#[tokio::test]
async fn other_schemes_are_challenged() {
    let app = spawn_app(Backend::Sqlite).await;
    let token = app.registered_token("user@example.com").await;

    for value in [
        format!("Basic {token}"),
        format!("Token {token}"),
        token.clone(),
    ] {
        let response = app.me_with_header(Some(&value)).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{value}");
        assert_eq!(response.headers()["www-authenticate"], MISSING_CHALLENGE);
        let (_, body) = status_and_json(response).await;
        assert_eq!(
            body,
            error_body(
                "Authorization header must use the Bearer scheme.",
                "missing_token"
            )
        );
    }
}

#[tokio::test]
async fn malformed_bearer_values_are_invalid() {
    let app = spawn_app(Backend::Sqlite).await;
    let token = app.registered_token("user@example.com").await;

    for value in ["Bearer", "Bearer ", &format!("Bearer {token} extra")] {
        let response = app.me_with_header(Some(value)).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{value:?}");
        let challenge = response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
        let (_, body) = status_and_json(response).await;
        assert_eq!(
            body,
            error_body(
                "Authorization header must be Bearer followed by one token.",
                "invalid_token"
            )
        );
    }
}
