//! Holds several users' sessions in one process: each user gets a session
//! of their own from `new_session`, and all of them share one connection
//! pool. The users sign in concurrently.
//!
//! ```bash
//! cargo run -p platform-auth-client --example multi_user
//! ```
//!
//! `PLATFORM_URL` sets the server (default `http://127.0.0.1:8000`).

use std::collections::HashMap;

use platform_auth_client::{Error, PlatformClient};

const USERS: [(&str, &str); 2] = [
    ("admin@example.com", "admin-password"),
    ("member@example.com", "member-password"),
];

/// Signs one user in on a fresh session, registering them on first use.
async fn sign_in(
    base: &PlatformClient,
    email: &str,
    password: &str,
) -> Result<PlatformClient, Error> {
    let session = base.new_session();
    match session.login(email, password).await {
        Ok(_) => {}
        Err(Error::InvalidCredentials { .. }) => {
            session.register(email, password, None).await?;
        }
        Err(error) => return Err(error),
    }
    Ok(session)
}

/// Runs the flow against the server at `base_url`.
pub async fn run(base_url: &str) -> Result<(), Box<dyn std::error::Error>> {
    let base = PlatformClient::new(base_url)?;

    let tasks: Vec<_> = USERS
        .into_iter()
        .map(|(email, password)| {
            let base = base.clone();
            tokio::spawn(async move { (email, sign_in(&base, email, password).await) })
        })
        .collect();
    let mut sessions = HashMap::new();
    for task in tasks {
        let (email, session) = task.await?;
        sessions.insert(email, session?);
    }

    for (email, _) in USERS {
        let user = sessions[email].current_user().await?;
        println!("{email}: signed in as {}", user.name);
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base_url =
        std::env::var("PLATFORM_URL").unwrap_or_else(|_| "http://127.0.0.1:8000".to_string());
    run(&base_url).await
}
