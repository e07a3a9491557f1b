//! Handles the errors a sign-in flow meets: a taken email, invalid fields,
//! wrong credentials, throttling, and a missing or expired token.
//!
//! ```bash
//! cargo run -p platform-auth-client --example error_handling
//! ```
//!
//! `PLATFORM_URL` sets the server (default `http://127.0.0.1:8000`).

use platform_auth_client::{Error, PlatformClient};

/// Prints the message an application would show its user for `error`.
fn explain(error: &Error) {
    match error {
        Error::InvalidCredentials { detail, .. } => {
            println!("Login failed: {detail} Check the email and password.");
        }
        Error::EmailTaken { detail, .. } => println!("{detail} Log in instead."),
        Error::Validation { errors, .. } => {
            for field in errors {
                println!("{}: {}", field.field, field.detail);
            }
        }
        Error::RateLimited {
            detail,
            retry_after,
            ..
        } => match retry_after {
            Some(wait) => println!("{detail} Try again in {} s.", wait.as_secs()),
            None => println!("{detail}"),
        },
        Error::Unauthorized { code, detail, .. } if code == "token_expired" => {
            println!("{detail} Sign in again.");
        }
        Error::Unauthorized { detail, .. } => println!("Not signed in: {detail}"),
        Error::Transport(source) if source.is_timeout() => {
            println!("The server did not respond in time; try again.");
        }
        Error::Transport(source) => println!("The server is unreachable: {source}"),
        other => println!("Unexpected error: {other}"),
    }
}

/// Runs the flow against the server at `base_url`.
pub async fn run(base_url: &str) -> Result<(), Box<dyn std::error::Error>> {
    let client = PlatformClient::new(base_url)?;

    if let Err(error) = client.current_user().await {
        explain(&error);
    }
    if let Err(error) = client.register("not-an-email", "short", None).await {
        explain(&error);
    }
    match client
        .register("errors@example.com", "mypassword", None)
        .await
    {
        Ok(_) | Err(Error::EmailTaken { .. }) => {}
        Err(error) => return Err(error.into()),
    }
    if let Err(error) = client
        .register("errors@example.com", "mypassword", None)
        .await
    {
        explain(&error);
    }
    if let Err(error) = client.login("errors@example.com", "wrong-password").await {
        explain(&error);
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base_url =
        std::env::var("PLATFORM_URL").unwrap_or_else(|_| "http://127.0.0.1:8000".to_string());
    run(&base_url).await
}
