//! Each error variant: from the real server where it can produce the case,
//! from a scripted server for 429 and 5xx.

use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use platform_auth_client::reqwest::StatusCode;
use platform_auth_client::{Error, PlatformClient};
use serde_json::json;

use crate::support::{AuthServer, Scripted, ScriptedServer, PASSWORD, SECRET};

#[tokio::test]
async fn duplicate_email_is_email_taken() {
    let server = AuthServer::start().await;
    server.register_user().await;
    let client = server.client();

    let error = client
        .register("USER@example.com", PASSWORD, None)
        .await
        .unwrap_err();

    let Error::EmailTaken { detail, code } = &error else {
        panic!("expected EmailTaken, got {error:?}");
    };
    assert_eq!(detail, "An account with this email already exists.");
    assert_eq!(code, "email_taken");
    assert_eq!(error.status(), Some(StatusCode::CONFLICT));
    assert_eq!(client.token(), None);
}

#[tokio::test]
async fn invalid_fields_are_validation() {
    let server = AuthServer::start().await;
    let client = server.client();
    let cases: [(&str, &str, Option<&str>, &[&str]); 2] = [
        ("not-an-email", PASSWORD, None, &["email"]),
        (
            "user@example.com",
            "short",
            Some("   "),
            &["name", "password"],
        ),
    ];

    for (email, password, name, expected_fields) in cases {
        let error = client.register(email, password, name).await.unwrap_err();

        let Error::Validation {
            detail,
            code,
            errors,
        } = &error
        else {
            panic!("expected Validation for {email:?}, got {error:?}");
        };
        assert_eq!(detail, "One or more fields are invalid.");
        assert_eq!(code, "validation_failed");
        let fields: Vec<&str> = errors.iter().map(|error| error.field.as_str()).collect();
        assert_eq!(fields, expected_fields, "{email:?}");
        assert!(
            errors.iter().all(|error| !error.detail.is_empty()),
            "{errors:?}"
        );
    }
}

#[tokio::test]
async fn wrong_password_is_invalid_credentials() {
    let server = AuthServer::start().await;
    server.register_user().await;
    let client = server.client();

    let error = client
        .login("user@example.com", "wrong-password")
        .await
        .unwrap_err();

    let Error::InvalidCredentials { detail, code } = &error else {
        panic!("expected InvalidCredentials, got {error:?}");
    };
    assert_eq!(detail, "Invalid email or password.");
    assert_eq!(code, "invalid_credentials");
    assert_eq!(client.token(), None);
}

#[tokio::test]
async fn token_failures_are_unauthorized() {
    let server = AuthServer::start().await;
    let registered = server.register_user().await;
    let now = Utc::now().timestamp();
    let expired = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &json!({
            "sub": registered.user.id,
            "email": registered.user.email,
            "name": registered.user.name,
            "iat": now - 60,
            "exp": now - 1,
        }),
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    let cases = [
        (
            None,
            "missing_token",
            "Authorization header is missing; send Authorization: Bearer <token>.",
        ),
        (
            Some("not-a-jwt".to_string()),
            "invalid_token",
            "The token is invalid; log in again to get a new one.",
        ),
        (
            Some(expired),
            "token_expired",
            "The token has expired; log in again.",
        ),
    ];

    for (token, expected_code, expected_detail) in cases {
        let client = server.client();
        if let Some(token) = token {
            client.set_token(token);
        }

        let error = client.current_user().await.unwrap_err();

        let Error::Unauthorized { detail, code } = &error else {
            panic!("expected Unauthorized for {expected_code}, got {error:?}");
        };
        assert_eq!(code, expected_code);
        assert_eq!(detail, expected_detail, "{expected_code}");
        assert_eq!(
            error.status(),
            Some(StatusCode::UNAUTHORIZED),
            "{expected_code}"
        );
    }
}

#[tokio::test]
async fn throttled_login_is_rate_limited() {
    let server = ScriptedServer::start(vec![Scripted::error(
        429,
        "Too many failed logins for this account; try again later.",
        "account_locked",
    )
    .with_retry_after("60")]);

    let error = server
        .client(3)
        .login("user@example.com", PASSWORD)
        .await
        .unwrap_err();

    let Error::RateLimited {
        detail,
        code,
        retry_after,
    } = &error
    else {
        panic!("expected RateLimited, got {error:?}");
    };
    assert_eq!(
        detail,
        "Too many failed logins for this account; try again later."
    );
    assert_eq!(code, "account_locked");
    assert_eq!(*retry_after, Some(std::time::Duration::from_secs(60)));
}

#[tokio::test]
async fn internal_error_is_server_error() {
    let server = ScriptedServer::start(vec![Scripted::error(
        500,
        "internal error",
        "internal_error",
    )]);

    let error = server.client(3).current_user().await.unwrap_err();

    let Error::Server {
        status,
        detail,
        code,
        retry_after,
    } = &error
    else {
        panic!("expected Server, got {error:?}");
    };
    assert_eq!(*status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(detail, "internal error");
    assert_eq!(code.as_deref(), Some("internal_error"));
    assert_eq!(*retry_after, None);
    assert_eq!(server.requests().len(), 1, "a 500 is not retried");
}

/// Proxies in front of the server send plain text or an empty body.
#[tokio::test]
async fn non_json_error_gets_readable_detail() {
    let cases = [
        ("upstream is down", "upstream is down"),
        ("", "Bad Gateway"),
    ];

    for (body, expected_detail) in cases {
        let server = ScriptedServer::start(vec![Scripted::text(502, body)]);

        let error = server.client(1).health().await.unwrap_err();

        assert_eq!(error.status(), Some(StatusCode::BAD_GATEWAY), "{body:?}");
        assert_eq!(error.code(), None, "{body:?}");
        assert_eq!(error.detail(), Some(expected_detail), "{body:?}");
    }
}

#[tokio::test]
async fn error_without_code_gets_default() {
    let server = ScriptedServer::start(vec![Scripted::json(
        401,
        json!({ "detail": "Invalid credentials" }),
    )]);

    let error = server
        .client(1)
        .login("user@example.com", PASSWORD)
        .await
        .unwrap_err();

    assert!(
        matches!(error, Error::InvalidCredentials { .. }),
        "{error:?}"
    );
    assert_eq!(error.code(), Some("invalid_credentials"));
    assert_eq!(error.detail(), Some("Invalid credentials"));
}

#[tokio::test]
async fn unexpected_success_body_is_invalid_response() {
    let server = ScriptedServer::start(vec![Scripted::json(200, json!({ "id": 1 }))]);

    let error = server.client(1).current_user().await.unwrap_err();

    assert!(
        matches!(
            error,
            Error::InvalidResponse {
                status: StatusCode::OK,
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn invalid_base_url_is_rejected() {
    for url in [
        "",
        "127.0.0.1:8000",
        "ftp://127.0.0.1",
        "http://127.0.0.1:8000/?x=1",
    ] {
        let result = PlatformClient::new(url);

        assert!(result.is_err(), "{url:?}");
    }
}

#[tokio::test]
async fn base_url_keeps_path_prefix() {
    let server = ScriptedServer::start(vec![Scripted::user()]);
    let client = PlatformClient::new(format!("{}/auth/", server.base_url)).unwrap();

    client.current_user().await.unwrap();

    assert_eq!(server.requests(), ["GET /auth/api/v1/auth/me"]);
}
