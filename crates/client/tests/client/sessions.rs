//! Every client method against a real server, and how sessions are kept.

use platform_auth_client::PlatformClient;

use crate::support::{AuthServer, PASSWORD};

#[tokio::test]
async fn register_stores_token() {
    let server = AuthServer::start().await;
    let client = server.client();

    let registered = client
        .register("User@Example.com", PASSWORD, Some("John Doe"))
        .await
        .unwrap();

    assert_eq!(client.token().as_deref(), Some(registered.token.as_str()));
    assert_eq!(registered.user.email, "user@example.com");
    assert_eq!(registered.user.name, "John Doe");
    assert_eq!(registered.user.id.len(), 36, "{}", registered.user.id);
    assert!(registered.user.created_at.ends_with('Z'));
}

#[tokio::test]
async fn register_without_name_uses_email() {
    let server = AuthServer::start().await;
    let client = server.client();

    let registered = client
        .register("jane@example.com", PASSWORD, None)
        .await
        .unwrap();

    assert_eq!(registered.user.name, "jane");
}

#[tokio::test]
async fn current_user_after_register() {
    let server = AuthServer::start().await;
    let client = server.client();
    let registered = client
        .register("user@example.com", PASSWORD, Some("John Doe"))
        .await
        .unwrap();

    let me = client.current_user().await.unwrap();

    assert_eq!(me, registered.user);
}

#[tokio::test]
async fn login_stores_new_token() {
    let server = AuthServer::start().await;
    server.register_user().await;
    let client = server.client();
    assert_eq!(client.token(), None);

    let logged_in = client.login("user@example.com", PASSWORD).await.unwrap();

    assert_eq!(client.token().as_deref(), Some(logged_in.token.as_str()));
    assert_eq!(client.current_user().await.unwrap(), logged_in.user);
}

#[tokio::test]
async fn set_token_reuses_saved_token() {
    let server = AuthServer::start().await;
    let saved = server.register_user().await;

    let client = server.client();
    client.set_token(saved.token.clone());

    assert_eq!(client.token(), Some(saved.token));
    assert_eq!(client.current_user().await.unwrap(), saved.user);
}

#[tokio::test]
async fn health_succeeds() {
    let server = AuthServer::start().await;

    server.client().health().await.unwrap();
}

#[tokio::test]
async fn clones_share_session() {
    let server = AuthServer::start().await;
    let client = server.client();
    let clone = client.clone();

    let registered = client
        .register("user@example.com", PASSWORD, None)
        .await
        .unwrap();

    assert_eq!(clone.token(), Some(registered.token));
    assert_eq!(clone.current_user().await.unwrap(), registered.user);
}

#[tokio::test]
async fn new_session_starts_empty() {
    let server = AuthServer::start().await;
    let client = server.client();
    client
        .register("user@example.com", PASSWORD, None)
        .await
        .unwrap();

    let other = client.new_session();

    assert_eq!(other.token(), None);
    assert_eq!(other.base_url(), client.base_url());
    assert!(client.token().is_some());
}

/// Each user registers from a task of their own, all at once, over one
/// shared connection pool.
#[tokio::test]
async fn many_users_at_once() {
    let server = AuthServer::start().await;
    let base = server.client();
    let emails = ["ada@example.com", "grace@example.com", "linus@example.com"];

    let tasks: Vec<_> = emails
        .into_iter()
        .map(|email| {
            let client = base.new_session();
            tokio::spawn(async move {
                client.register(email, PASSWORD, None).await.unwrap();
                client
            })
        })
        .collect();
    let mut sessions: Vec<PlatformClient> = Vec::new();
    for task in tasks {
        sessions.push(task.await.unwrap());
    }

    for (client, email) in sessions.iter().zip(emails) {
        assert_eq!(client.current_user().await.unwrap().email, email);
    }
    assert_eq!(base.token(), None);
}

#[tokio::test]
async fn debug_output_hides_tokens() {
    let server = AuthServer::start().await;
    let client = server.client();
    let registered = client
        .register("user@example.com", PASSWORD, None)
        .await
        .unwrap();

    let printed = format!("{client:?} {registered:?}");

    assert!(!printed.contains(&registered.token), "{printed}");
    assert!(printed.contains("has_token: true"), "{printed}");
}
