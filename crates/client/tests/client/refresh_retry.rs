//! The refresh after a 401: against a real server whose access tokens
//! expire after one second, and against scripted servers for the exact
//! sequence of requests.

use std::time::Duration;

use platform_auth_client::Error;

use crate::support::{
    assert_refresh_rejected, AuthServer, RecordingProxy, Scripted, ScriptedServer, EMAIL, PASSWORD,
};

const REFRESH: &str = "POST /api/v1/auth/refresh";
const ME: &str = "GET /api/v1/auth/me";

/// Waits until a token issued before the call has expired. Tokens carry
/// whole seconds, so one with a one-second lifetime expires at most two
/// seconds after it was issued.
async fn outlive_access_token() {
    tokio::time::sleep(Duration::from_millis(2100)).await;
}

async fn short_token_server() -> AuthServer {
    AuthServer::start_with(&[("PLATFORM_JWT_TTL", "1")]).await
}

#[tokio::test]
async fn expired_token_is_refreshed() {
    let server = short_token_server().await;
    let client = server.registered_client().await;
    let expired = client.token().unwrap();
    let retired = client.refresh_token();
    outlive_access_token().await;

    let me = client.current_user().await.unwrap();

    assert_eq!(me.email, EMAIL);
    assert_ne!(client.token().as_deref(), Some(expired.as_str()));
    assert_ne!(client.refresh_token(), retired);
    let check = server.client();
    check.set_token(expired);
    let error = check.current_user().await.unwrap_err();
    assert_eq!(error.code(), Some("token_expired"), "the old token expired");
}

#[tokio::test]
async fn dead_refresh_token_returns_refresh_error() {
    let server = AuthServer::start_with(&[
        ("PLATFORM_JWT_TTL", "1"),
        ("PLATFORM_SESSION_IDLE_TIMEOUT", "1"),
    ])
    .await;
    let proxy = RecordingProxy::start(&server.base_url);
    let client = proxy.client();
    client.register(EMAIL, PASSWORD, None).await.unwrap();
    outlive_access_token().await;

    let error = client.current_user().await.unwrap_err();

    assert_refresh_rejected(&error, "refresh_token_expired");
    assert_eq!(
        error.detail(),
        Some("The session has expired; log in again.")
    );
    assert!(error.requires_login());
    assert_eq!(client.refresh_token(), None, "the dead token is dropped");
    assert!(client.token().is_some(), "the access token stays");
    assert_eq!(proxy.count(REFRESH), 1);

    let again = client.current_user().await.unwrap_err();

    assert!(matches!(again, Error::Unauthorized { .. }), "{again:?}");
    assert_eq!(again.code(), Some("token_expired"));
    assert_eq!(proxy.count(REFRESH), 1, "no refresh without a token");
}

#[tokio::test]
async fn ended_session_returns_refresh_error() {
    let server = AuthServer::start().await;
    let client = server.registered_client().await;
    server.logged_in_client().await.logout_all().await.unwrap();

    let error = client.sessions().await.unwrap_err();

    assert_refresh_rejected(&error, "session_ended");
    assert_eq!(client.refresh_token(), None);
}

/// Five clones of one session whose token expired call at once. The first
/// to get a 401 refreshes; the others wait for it and resend with the token
/// it stored.
#[tokio::test]
async fn concurrent_calls_refresh_once() {
    let server = short_token_server().await;
    let proxy = RecordingProxy::start(&server.base_url);
    let client = proxy.client();
    client.register(EMAIL, PASSWORD, None).await.unwrap();
    let retired = client.refresh_token();
    outlive_access_token().await;

    let tasks: Vec<_> = (0..5)
        .map(|_| {
            let clone = client.clone();
            tokio::spawn(async move { clone.current_user().await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap().email, EMAIL);
    }

    assert_eq!(proxy.count(REFRESH), 1, "{:?}", proxy.requests());
    assert!(proxy.count(ME) >= 6, "{:?}", proxy.requests());
    assert!(proxy.count(ME) <= 10, "{:?}", proxy.requests());
    assert_ne!(client.refresh_token(), retired);
    assert_eq!(client.sessions().await.unwrap().len(), 1);
}

/// A `POST` is sent a second time only after the 401 and the refresh, and
/// a `DELETE` likewise.
#[tokio::test]
async fn post_and_delete_resent_once_after_refresh() {
    let server = short_token_server().await;
    let proxy = RecordingProxy::start(&server.base_url);
    let laptop = proxy.client();
    laptop.register(EMAIL, PASSWORD, None).await.unwrap();
    let phone = server.logged_in_client().await;
    let phone_session = phone.sessions().await.unwrap()[0].id.clone();
    outlive_access_token().await;

    laptop.end_session(&phone_session).await.unwrap();
    outlive_access_token().await;
    laptop
        .change_password(PASSWORD, "a-longer-passphrase")
        .await
        .unwrap();
    outlive_access_token().await;
    laptop.logout().await.unwrap();

    let delete = format!("DELETE /api/v1/auth/sessions/{phone_session}");
    assert_eq!(
        proxy.requests()[1..],
        [
            delete.as_str(),
            REFRESH,
            delete.as_str(),
            "POST /api/v1/auth/password",
            REFRESH,
            "POST /api/v1/auth/password",
            "POST /api/v1/auth/logout",
            REFRESH,
            "POST /api/v1/auth/logout",
        ]
    );
}

#[tokio::test]
async fn resend_follows_refresh() {
    let server = ScriptedServer::start(vec![
        Scripted::token_expired(),
        Scripted::pair("new-token", "new-refresh-token"),
        Scripted::user(),
    ]);
    let client = server.signed_in_client();

    let user = client.current_user().await.unwrap();

    assert_eq!(user.name, "John Doe");
    assert_eq!(server.requests(), [ME, REFRESH, ME]);
    assert_eq!(client.token().as_deref(), Some("new-token"));
    assert_eq!(client.refresh_token().as_deref(), Some("new-refresh-token"));
}

#[tokio::test]
async fn second_401_is_returned() {
    let server = ScriptedServer::start(vec![
        Scripted::token_expired(),
        Scripted::pair("new-token", "new-refresh-token"),
        Scripted::token_expired(),
    ]);
    let client = server.signed_in_client();

    let error = client.current_user().await.unwrap_err();

    assert!(matches!(error, Error::Unauthorized { .. }), "{error:?}");
    assert_eq!(error.code(), Some("token_expired"));
    assert_eq!(server.requests(), [ME, REFRESH, ME]);
}

/// A refresh that fails without a verdict on the refresh token keeps it,
/// and is not retried, because the server may have rotated it.
#[tokio::test]
async fn failed_refresh_returns_its_error() {
    let server = ScriptedServer::start(vec![Scripted::token_expired(), Scripted::overloaded()]);
    let client = server.signed_in_client();

    let error = client.current_user().await.unwrap_err();

    let Error::Server { status, code, .. } = &error else {
        panic!("expected Server, got {error:?}");
    };
    assert_eq!(status.as_u16(), 503);
    assert_eq!(code.as_deref(), Some("overloaded"));
    assert!(!error.requires_login());
    assert_eq!(server.requests(), [ME, REFRESH]);
    assert_eq!(client.refresh_token().as_deref(), Some("old-refresh-token"));
    assert_eq!(client.token().as_deref(), Some("old-token"));
}

#[tokio::test]
async fn no_refresh_without_refresh_token() {
    let server = ScriptedServer::start(vec![Scripted::token_expired()]);
    let client = server.client(3);
    client.set_token("old-token");

    let error = client.current_user().await.unwrap_err();

    assert!(matches!(error, Error::Unauthorized { .. }), "{error:?}");
    assert!(error.requires_login());
    assert_eq!(server.requests(), [ME]);
}

#[tokio::test]
async fn unauthenticated_calls_never_refresh() {
    let server = ScriptedServer::start(vec![Scripted::error(
        401,
        "Invalid email or password.",
        "invalid_credentials",
    )]);
    let client = server.client(3);
    client.set_refresh_token("saved-refresh-token");

    let error = client.login(EMAIL, "wrong-password").await.unwrap_err();

    assert!(
        matches!(error, Error::InvalidCredentials { .. }),
        "{error:?}"
    );
    assert_eq!(server.requests(), ["POST /api/v1/auth/login"]);
}
