//! Each example's flow against a fresh server, twice, because the examples
//! must also work when their accounts already exist.

use crate::support::AuthServer;

// The tests call each example's `run` and never its `main`.
#[allow(dead_code)]
#[path = "../../examples/error_handling.rs"]
mod error_handling;
#[allow(dead_code)]
#[path = "../../examples/multi_user.rs"]
mod multi_user;
#[allow(dead_code)]
#[path = "../../examples/register_and_me.rs"]
mod register_and_me;
#[allow(dead_code)]
#[path = "../../examples/session_management.rs"]
mod session_management;
#[allow(dead_code)]
#[path = "../../examples/token_reuse.rs"]
mod token_reuse;

#[tokio::test]
async fn register_and_me_runs() {
    let server = AuthServer::start().await;

    register_and_me::run(&server.base_url).await.unwrap();
}

#[tokio::test]
async fn token_reuse_runs_twice() {
    let server = AuthServer::start().await;

    token_reuse::run(&server.base_url).await.unwrap();
    token_reuse::run(&server.base_url).await.unwrap();
}

#[tokio::test]
async fn multi_user_runs_twice() {
    let server = AuthServer::start().await;

    multi_user::run(&server.base_url).await.unwrap();
    multi_user::run(&server.base_url).await.unwrap();
}

#[tokio::test]
async fn error_handling_runs_twice() {
    let server = AuthServer::start().await;

    error_handling::run(&server.base_url).await.unwrap();
    error_handling::run(&server.base_url).await.unwrap();
}

#[tokio::test]
async fn session_management_runs_twice() {
    let server = AuthServer::start().await;

    session_management::run(&server.base_url).await.unwrap();
    session_management::run(&server.base_url).await.unwrap();
}
