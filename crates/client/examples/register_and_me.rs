//! Registers a user, which stores the token in the client, and reads the
//! current user back with it.
//!
//! ```bash
//! cargo run -p platform-auth-client --example register_and_me
//! ```
//!
//! `PLATFORM_URL` sets the server (default `http://127.0.0.1:8000`).

use platform_auth_client::PlatformClient;

/// Runs the flow against the server at `base_url`.
pub async fn run(base_url: &str) -> Result<(), Box<dyn std::error::Error>> {
    let client = PlatformClient::new(base_url)?;

    let registered = client
        .register("john@example.com", "mypassword", Some("John Doe"))
        .await?;
    println!("User registered with ID: {}", registered.user.id);

    let me = client.current_user().await?;
    println!("Authenticated as: {} <{}>", me.name, me.email);
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base_url =
        std::env::var("PLATFORM_URL").unwrap_or_else(|_| "http://127.0.0.1:8000".to_string());
    run(&base_url).await
}
