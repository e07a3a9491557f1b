use std::process::ExitCode;

use clap::{Parser, Subcommand};
use platform_auth_api::limits::unlock_account;
use platform_auth_api::{telemetry, Application, Settings};

/// A JWT authentication service. Settings come from config/default.toml,
/// config/<PLATFORM_ENV>.toml and PLATFORM_* environment variables.
#[derive(Parser)]
#[command(name = "platform-auth", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Start the HTTP server (the default without a command).
    Serve,
    /// Clear the failed logins of an account, which lifts its lock at once.
    Unlock {
        /// The account's email address, in any case.
        email: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("platform-auth: invalid configuration: {error}");
            return ExitCode::from(2);
        }
    };
    telemetry::init();

    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(&settings),
        Command::Unlock { email } => unlock(&settings, &email),
    }
}

fn serve(settings: &Settings) -> ExitCode {
    for warning in &settings.warnings {
        tracing::warn!("WARNING: {warning}");
    }

    let result = actix_web::rt::System::new().block_on(async {
        let application = Application::build(settings)?;
        tracing::info!(
            env = %settings.env,
            database = %settings.database.redacted(),
            "listening on http://{}",
            application.local_addr()
        );
        application.run_until_stopped().await?;
        anyhow::Ok(())
    });

    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "platform-auth stopped");
            eprintln!("platform-auth: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn unlock(settings: &Settings, email: &str) -> ExitCode {
    match unlock_account(settings, email) {
        Ok(true) => {
            println!("Cleared the failed logins of {email}; it can log in again.");
            ExitCode::SUCCESS
        }
        Ok(false) => {
            println!("No failed logins are recorded for {email}; nothing to clear.");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("platform-auth: failed to unlock {email}: {error:#}");
            ExitCode::FAILURE
        }
    }
}
