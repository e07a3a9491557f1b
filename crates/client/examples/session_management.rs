//! Manages one user's sessions: logs in on a laptop and on a phone, lists
//! the sessions, ends the phone's from the laptop, refreshes, changes the
//! password and logs out everywhere.
//!
//! ```bash
//! cargo run -p platform-auth-client --example session_management
//! ```
//!
//! `PLATFORM_URL` sets the server (default `http://127.0.0.1:8000`). The
//! example registers its user first if the account does not exist yet, and
//! sets the original password again before it logs out, so it can run again.

use platform_auth_client::{Error, PlatformClient};

const EMAIL: &str = "sessions@example.com";
const PASSWORD: &str = "mypassword";
const NEW_PASSWORD: &str = "a-longer-passphrase";

/// Runs the flow against the server at `base_url`.
pub async fn run(base_url: &str) -> Result<(), Box<dyn std::error::Error>> {
    let laptop = PlatformClient::new(base_url)?;
    match laptop.login(EMAIL, PASSWORD).await {
        Ok(_) => {}
        Err(Error::InvalidCredentials { .. }) => {
            laptop.register(EMAIL, PASSWORD, None).await?;
        }
        Err(error) => return Err(error.into()),
    }
    let phone = laptop.new_session();
    phone.login(EMAIL, PASSWORD).await?;

    let sessions = laptop.sessions().await?;
    for session in &sessions {
        let client = session.user_agent.as_deref().unwrap_or("an unknown client");
        let marker = if session.current {
            " (this laptop)"
        } else {
            ""
        };
        println!(
            "Session {} from {client}, last used {}{marker}",
            session.id, session.last_used_at
        );
    }

    // Ends every session but the laptop's, which here is only the phone's.
    for session in sessions.iter().filter(|session| !session.current) {
        laptop.end_session(&session.id).await?;
    }
    match phone.current_user().await {
        Err(error) if error.requires_login() => println!("The phone is logged out: {error}"),
        Err(error) => return Err(error.into()),
        Ok(_) => return Err("the phone's session should have ended".into()),
    }

    laptop.refresh().await?;
    println!("Refreshed the laptop's tokens.");

    laptop.change_password(PASSWORD, NEW_PASSWORD).await?;
    println!("Changed the password; the laptop has a new session.");
    laptop.change_password(NEW_PASSWORD, PASSWORD).await?;

    laptop.logout_all().await?;
    println!("Logged out of every session.");
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base_url =
        std::env::var("PLATFORM_URL").unwrap_or_else(|_| "http://127.0.0.1:8000".to_string());
    run(&base_url).await
}
