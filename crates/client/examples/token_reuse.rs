//! Logs in once, keeps the token, and later uses it from a new client with
//! `set_token` instead of logging in again.
//!
//! ```bash
//! cargo run -p platform-auth-client --example token_reuse
//! ```
//!
//! `PLATFORM_URL` sets the server (default `http://127.0.0.1:8000`). The
//! example registers its user first if the account does not exist yet.

use platform_auth_client::{Error, PlatformClient};

const EMAIL: &str = "reuse@example.com";
const PASSWORD: &str = "mypassword";

/// Runs the flow against the server at `base_url`.
pub async fn run(base_url: &str) -> Result<(), Box<dyn std::error::Error>> {
    let client = PlatformClient::new(base_url)?;
    let login = match client.login(EMAIL, PASSWORD).await {
        Ok(login) => login,
        Err(Error::InvalidCredentials { .. }) => client.register(EMAIL, PASSWORD, None).await?,
        Err(error) => return Err(error.into()),
    };
    // A real program would keep this in a secret store, never in a log.
    let saved_token = login.token;

    let later = PlatformClient::new(base_url)?;
    later.set_token(saved_token);
    let me = later.current_user().await?;
    println!("Authenticated as: {}", me.name);
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base_url =
        std::env::var("PLATFORM_URL").unwrap_or_else(|_| "http://127.0.0.1:8000".to_string());
    run(&base_url).await
}
