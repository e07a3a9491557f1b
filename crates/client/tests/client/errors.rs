//! Each error variant: from the real server where it can produce the case,
//! from a scripted server for 429 and 5xx.

use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use std::time::Duration;

use platform_auth_client::reqwest::StatusCode;
use platform_auth_client::{Error, PlatformClient, User};
use serde_json::json;

use crate::support::{
    assert_refresh_rejected, AuthServer, Scripted, ScriptedServer, EMAIL, PASSWORD, SECRET,
};

/// Signs an access token for `user` without a session claim, as the Python
/// platform issues them, valid from `iat` to `exp` in Unix seconds.
fn sessionless_token(user: &User, iat: i64, exp: i64) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &json!({
            "sub": user.id,
            "email": user.email,
            "name": user.name,
            "iat": iat,
            "exp": exp,
        }),
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

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
    let expired = sessionless_token(&registered.user, now - 60, now - 1);
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

#[tokio::test]
async fn wrong_current_password_is_forbidden() {
    let server = AuthServer::start().await;
    let client = server.registered_client().await;
    let token = client.token();

    let error = client
        .change_password("wrong-password", "a-longer-passphrase")
        .await
        .unwrap_err();

    let Error::Forbidden { detail, code } = &error else {
        panic!("expected Forbidden, got {error:?}");
    };
    assert_eq!(code, "invalid_current_password");
    assert_eq!(detail, "The current password is wrong.");
    assert_eq!(error.status(), Some(StatusCode::FORBIDDEN));
    assert!(!error.requires_login());
    assert_eq!(client.token(), token, "the session is unchanged");
}

#[tokio::test]
async fn disabled_account_is_forbidden() {
    let server = AuthServer::start().await;
    server.register_user().await;
    server
        .database()
        .execute("UPDATE users SET disabled_at = '2025-01-01 00:00:00'");
    let client = server.client();

    let error = client.login(EMAIL, PASSWORD).await.unwrap_err();

    let Error::Forbidden { detail, code } = &error else {
        panic!("expected Forbidden, got {error:?}");
    };
    assert_eq!(code, "account_disabled");
    assert_eq!(
        detail,
        "This account is disabled; contact an administrator."
    );
    assert_eq!(client.token(), None);
}

#[tokio::test]
async fn unknown_session_is_not_found() {
    let server = AuthServer::start().await;
    let client = server.registered_client().await;

    let error = client
        .end_session("5d0c1a52-3b8e-4a57-9f0e-1c2d3e4f5a6b")
        .await
        .unwrap_err();

    let Error::NotFound { detail, code } = &error else {
        panic!("expected NotFound, got {error:?}");
    };
    assert_eq!(code, "session_not_found");
    assert_eq!(
        detail,
        "No session with this id exists for the current user."
    );
    assert_eq!(error.status(), Some(StatusCode::NOT_FOUND));
}

#[tokio::test]
async fn unknown_route_stays_server_error() {
    let server = AuthServer::start().await;
    let client = PlatformClient::new(format!("{}/wrong-prefix", server.base_url)).unwrap();
    client.set_token("any-token");

    let error = client.sessions().await.unwrap_err();

    assert!(matches!(error, Error::Server { .. }), "{error:?}");
    assert_eq!(error.status(), Some(StatusCode::NOT_FOUND));
    assert_eq!(error.code(), Some("not_found"));
}

#[tokio::test]
async fn unknown_refresh_token_is_rejected() {
    let server = AuthServer::start().await;
    let client = server.client();
    client.set_refresh_token("not-a-refresh-token");

    let error = client.refresh().await.unwrap_err();

    let Error::RefreshTokenRejected { detail, code } = &error else {
        panic!("expected RefreshTokenRejected, got {error:?}");
    };
    assert_eq!(code, "invalid_refresh_token");
    assert_eq!(detail, "The refresh token is not valid; log in again.");
    assert_eq!(error.status(), Some(StatusCode::UNAUTHORIZED));
    assert!(error.requires_login());
    assert_eq!(
        client.refresh_token(),
        None,
        "the rejected token is dropped"
    );
}

#[tokio::test]
async fn reused_refresh_token_is_rejected() {
    let server = AuthServer::start_with(&[("PLATFORM_REFRESH_REUSE_GRACE", "1")]).await;
    let client = server.registered_client().await;
    let retired = client.refresh_token().unwrap();
    client.refresh().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let thief = server.client();
    thief.set_refresh_token(retired);

    let error = thief.refresh().await.unwrap_err();

    assert_refresh_rejected(&error, "refresh_token_reused");
    let owner_error = client.refresh().await.unwrap_err();
    assert_eq!(owner_error.code(), Some("session_ended"), "{owner_error:?}");
}

#[tokio::test]
async fn ended_session_refresh_is_rejected() {
    let server = AuthServer::start().await;
    let client = server.registered_client().await;
    server.logged_in_client().await.logout_all().await.unwrap();

    let error = client.refresh().await.unwrap_err();

    let Error::RefreshTokenRejected { detail, code } = &error else {
        panic!("expected RefreshTokenRejected, got {error:?}");
    };
    assert_eq!(code, "session_ended");
    assert_eq!(
        detail,
        "The refresh token's session has ended; log in again."
    );
}

#[tokio::test]
async fn refresh_of_other_user_is_rejected() {
    let server = AuthServer::start().await;
    let user = server.registered_client().await;
    let other = server.client();
    other
        .register("other@example.com", PASSWORD, None)
        .await
        .unwrap();
    let client = server.client();
    client.set_token(user.token().unwrap());
    client.set_refresh_token(other.refresh_token().unwrap());

    let error = client.refresh().await.unwrap_err();

    assert_refresh_rejected(&error, "refresh_token_mismatch");
}

/// The access token goes along with a refresh. When the server rejects that
/// token, the refresh token is not at fault, so the client keeps it.
#[tokio::test]
async fn refresh_with_invalid_access_token_is_unauthorized() {
    let server = AuthServer::start().await;
    let saved = server.registered_client().await;
    let client = server.client();
    client.set_token("not-a-jwt");
    client.set_refresh_token(saved.refresh_token().unwrap());

    let error = client.refresh().await.unwrap_err();

    assert!(matches!(error, Error::Unauthorized { .. }), "{error:?}");
    assert_eq!(error.code(), Some("invalid_token"));
    assert_eq!(client.refresh_token(), saved.refresh_token());
}

#[tokio::test]
async fn weak_new_password_is_validation() {
    let server = AuthServer::start().await;
    let client = server.registered_client().await;

    let error = client.change_password(PASSWORD, "short").await.unwrap_err();

    let Error::Validation { code, errors, .. } = &error else {
        panic!("expected Validation, got {error:?}");
    };
    assert_eq!(code, "validation_failed");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].field, "new_password");
    assert_eq!(errors[0].code, "too_short");
}

#[tokio::test]
async fn locked_password_change_is_rate_limited() {
    let server = AuthServer::start_with(&[("PLATFORM_LOCKOUT_THRESHOLD", "1")]).await;
    let client = server.registered_client().await;
    let first = client
        .change_password("wrong-password", "a-longer-passphrase")
        .await
        .unwrap_err();
    assert!(matches!(first, Error::Forbidden { .. }), "{first:?}");

    let error = client
        .change_password(PASSWORD, "a-longer-passphrase")
        .await
        .unwrap_err();

    let Error::RateLimited {
        code, retry_after, ..
    } = &error
    else {
        panic!("expected RateLimited, got {error:?}");
    };
    assert_eq!(code, "account_locked");
    assert!(retry_after.is_some_and(|wait| wait >= Duration::from_secs(1)));
}

#[tokio::test]
async fn logout_without_session_is_no_session() {
    let server = AuthServer::start().await;
    let registered = server.register_user().await;
    let now = Utc::now().timestamp();
    let client = server.client();
    client.set_token(sessionless_token(&registered.user, now, now + 600));

    let error = client.logout().await.unwrap_err();

    let Error::Server {
        status,
        code,
        detail,
        ..
    } = &error
    else {
        panic!("expected Server, got {error:?}");
    };
    assert_eq!(*status, StatusCode::BAD_REQUEST);
    assert_eq!(code.as_deref(), Some("no_session"));
    assert!(detail.contains("\"all\""), "{detail}");
    assert!(client.token().is_some(), "the token stays after an error");
    client.logout_all().await.unwrap();
}

#[tokio::test]
async fn overloaded_password_change_is_not_retried() {
    let server = ScriptedServer::start(vec![Scripted::overloaded()]);
    let client = server.client(3);
    client.set_token("token");

    let error = client
        .change_password(PASSWORD, "a-longer-passphrase")
        .await
        .unwrap_err();

    assert_eq!(error.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(error.code(), Some("overloaded"));
    assert_eq!(error.retry_after(), Some(Duration::ZERO));
    assert_eq!(server.requests(), ["POST /api/v1/auth/password"]);
}
