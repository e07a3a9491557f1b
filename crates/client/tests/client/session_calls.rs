//! The session calls against a real server: refresh, logout, password
//! change, and listing and ending sessions.

use std::time::Duration;

use platform_auth_client::Error;

use crate::support::{
    assert_refresh_rejected, AuthServer, Scripted, ScriptedServer, EMAIL, PASSWORD,
};

const NEW_PASSWORD: &str = "a-longer-passphrase";

#[tokio::test]
async fn register_stores_refresh_token() {
    let server = AuthServer::start().await;

    let client = server.registered_client().await;

    let refresh_token = client.refresh_token().expect("a refresh token is stored");
    assert!(!refresh_token.is_empty());
}

#[tokio::test]
async fn refresh_rotates_refresh_token() {
    let server = AuthServer::start().await;
    let client = server.registered_client().await;
    let before = client.refresh_token();

    let pair = client.refresh().await.unwrap();

    assert_eq!(client.token().as_deref(), Some(pair.token.as_str()));
    assert!(client.refresh_token().is_some());
    assert_ne!(client.refresh_token(), before);
    assert_eq!(pair.user.email, EMAIL);
    assert_eq!(client.current_user().await.unwrap(), pair.user);
}

#[tokio::test]
async fn refresh_without_refresh_token_sends_nothing() {
    let server = ScriptedServer::start(vec![Scripted::pair("token", "refresh")]);
    let client = server.client(3);
    client.set_token("saved-token");

    let error = client.refresh().await.unwrap_err();

    assert!(matches!(error, Error::NoRefreshToken), "{error:?}");
    assert!(error.requires_login());
    assert_eq!(error.status(), None);
    assert_eq!(error.code(), None);
    assert!(server.requests().is_empty(), "{:?}", server.requests());
}

/// A refresh returns its pair but leaves the tokens that a clone stored
/// while the refresh was in flight.
#[tokio::test]
async fn refresh_keeps_newer_tokens() {
    let server = ScriptedServer::start(vec![
        Scripted::pair("new-token", "new-refresh-token").with_delay(Duration::from_millis(300))
    ]);
    let client = server.signed_in_client();
    let clone = client.clone();

    let refresh = tokio::spawn(async move { clone.refresh().await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    client.set_token("newer-token");
    let pair = refresh.await.unwrap().unwrap();

    assert_eq!(pair.token, "new-token");
    assert_eq!(client.token().as_deref(), Some("newer-token"));
    assert_eq!(client.refresh_token(), None);
}

#[tokio::test]
async fn saved_pair_restores_session() {
    let server = AuthServer::start().await;
    let saved = server.registered_client().await;

    let client = server.client();
    client.set_token(saved.token().unwrap());
    client.set_refresh_token(saved.refresh_token().unwrap());
    let pair = client.refresh().await.unwrap();

    assert_eq!(pair.user.email, EMAIL);
    assert_ne!(client.refresh_token(), saved.refresh_token());
}

#[tokio::test]
async fn set_token_drops_refresh_token() {
    let server = AuthServer::start().await;
    let client = server.registered_client().await;

    client.set_token("another-token");

    assert_eq!(client.refresh_token(), None);
}

#[tokio::test]
async fn clones_share_refresh_token() {
    let server = AuthServer::start().await;
    let client = server.registered_client().await;
    let clone = client.clone();

    client.refresh().await.unwrap();

    assert_eq!(clone.refresh_token(), client.refresh_token());
    assert_eq!(clone.token(), client.token());
    assert_eq!(client.new_session().refresh_token(), None);
}

#[tokio::test]
async fn logout_clears_tokens_and_ends_session() {
    let server = AuthServer::start().await;
    let client = server.registered_client().await;
    let saved_token = client.token().unwrap();

    client.logout().await.unwrap();

    assert_eq!(client.token(), None);
    assert_eq!(client.refresh_token(), None);
    let later = server.client();
    later.set_token(saved_token);
    let error = later.current_user().await.unwrap_err();
    assert_eq!(error.code(), Some("session_ended"), "{error:?}");
}

#[tokio::test]
async fn logout_keeps_other_sessions() {
    let server = AuthServer::start().await;
    let laptop = server.registered_client().await;
    let phone = server.logged_in_client().await;

    laptop.logout().await.unwrap();

    assert_eq!(phone.current_user().await.unwrap().email, EMAIL);
    assert_eq!(phone.sessions().await.unwrap().len(), 1);
}

#[tokio::test]
async fn logout_all_ends_every_session() {
    let server = AuthServer::start().await;
    let laptop = server.registered_client().await;
    let phone = server.logged_in_client().await;

    laptop.logout_all().await.unwrap();

    assert_eq!(laptop.token(), None);
    assert_eq!(laptop.refresh_token(), None);
    let error = phone.current_user().await.unwrap_err();
    assert_refresh_rejected(&error, "session_ended");
}

#[tokio::test]
async fn change_password_stores_new_pair() {
    let server = AuthServer::start().await;
    let client = server.registered_client().await;
    let old_refresh_token = client.refresh_token();

    let pair = client
        .change_password(PASSWORD, NEW_PASSWORD)
        .await
        .unwrap();

    assert_eq!(client.token().as_deref(), Some(pair.token.as_str()));
    assert!(client.refresh_token().is_some());
    assert_ne!(client.refresh_token(), old_refresh_token);
    assert_eq!(client.current_user().await.unwrap().email, EMAIL);
    assert_eq!(client.sessions().await.unwrap().len(), 1);
}

#[tokio::test]
async fn change_password_replaces_login_password() {
    let server = AuthServer::start().await;
    let client = server.registered_client().await;

    client
        .change_password(PASSWORD, NEW_PASSWORD)
        .await
        .unwrap();

    let other = server.client();
    let old = other.login(EMAIL, PASSWORD).await.unwrap_err();
    assert!(matches!(old, Error::InvalidCredentials { .. }), "{old:?}");
    other.login(EMAIL, NEW_PASSWORD).await.unwrap();
}

#[tokio::test]
async fn change_password_ends_other_sessions() {
    let server = AuthServer::start().await;
    let laptop = server.registered_client().await;
    let phone = server.logged_in_client().await;

    laptop
        .change_password(PASSWORD, NEW_PASSWORD)
        .await
        .unwrap();

    let error = phone.current_user().await.unwrap_err();
    assert_eq!(error.code(), Some("session_ended"), "{error:?}");
    assert!(error.requires_login());
}

#[tokio::test]
async fn sessions_lists_live_sessions() {
    let server = AuthServer::start().await;
    let laptop = server.registered_client().await;
    let phone = server.logged_in_client().await;

    let sessions = laptop.sessions().await.unwrap();

    assert_eq!(sessions.len(), 2, "{sessions:?}");
    let current: Vec<bool> = sessions.iter().map(|session| session.current).collect();
    assert_eq!(
        current,
        [false, true],
        "the phone's newer session comes first"
    );
    for session in &sessions {
        assert_eq!(session.id.len(), 36, "{session:?}");
        assert!(session.created_at.ends_with('Z'), "{session:?}");
        assert!(session.last_used_at.ends_with('Z'), "{session:?}");
        assert_eq!(session.ip.as_deref(), Some("127.0.0.1"), "{session:?}");
        let user_agent = session.user_agent.as_deref().unwrap_or_default();
        assert!(
            user_agent.starts_with("platform-auth-client/"),
            "{session:?}"
        );
    }
    let from_phone = phone.sessions().await.unwrap();
    assert_eq!(from_phone[0].id, sessions[0].id);
    assert!(from_phone[0].current);
}

#[tokio::test]
async fn end_session_ends_other_session() {
    let server = AuthServer::start().await;
    let laptop = server.registered_client().await;
    let phone = server.logged_in_client().await;
    let phone_session = phone
        .sessions()
        .await
        .unwrap()
        .into_iter()
        .find(|session| session.current)
        .unwrap();

    laptop.end_session(&phone_session.id).await.unwrap();

    let remaining = laptop.sessions().await.unwrap();
    assert_eq!(remaining.len(), 1);
    assert!(remaining[0].current);
    let error = phone.current_user().await.unwrap_err();
    assert_eq!(error.code(), Some("session_ended"), "{error:?}");
}

/// A `/`, `?`, `#` or `%` in the id stays inside the one path segment, so
/// the server looks the whole string up as an id.
#[tokio::test]
async fn end_session_encodes_id() {
    let server = AuthServer::start().await;
    let client = server.registered_client().await;

    for id in ["a/b", "a?b", "a#b", "%2F"] {
        let error = client.end_session(id).await.unwrap_err();

        assert!(matches!(error, Error::NotFound { .. }), "{id:?}: {error:?}");
    }
    assert_eq!(client.sessions().await.unwrap().len(), 1);
}
