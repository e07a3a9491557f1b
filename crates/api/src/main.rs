use std::process::ExitCode;

use clap::Parser;
use platform_auth_api::cli::{self, Cli, Command, UsersCommand};
use platform_auth_api::{telemetry, Application, Settings};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::GenSecret = command {
        println!("{}", cli::generate_secret());
        return ExitCode::SUCCESS;
    }

    let settings = match Settings::load() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("platform-auth: invalid configuration: {error}");
            return ExitCode::from(2);
        }
    };
    // Commands other than the server print results on stdout; their logs
    // stay quiet unless something goes wrong.
    let default_level = if matches!(command, Command::Serve) {
        "info"
    } else {
        "warn"
    };
    telemetry::init(!settings.is_dev(), default_level);

    match command {
        Command::Serve => serve(&settings),
        Command::CheckConfig { json } => {
            let view = cli::redacted_settings(&settings);
            if json {
                println!("{view:#}");
            } else {
                println!("{}", cli::settings_text(&view));
            }
            ExitCode::SUCCESS
        }
        Command::Migrate => report(cli::migrate(&settings).map(|applied| {
            format!("Applied {applied} migration(s); the database schema is up to date.")
        })),
        Command::Unlock { email }
        | Command::Users {
            command: UsersCommand::Unlock { email },
        } => report(cli::unlock_output(&settings, &email)),
        Command::Users { command } => report(
            cli::user_admin(&settings).and_then(|admin| cli::run_users_command(&admin, &command)),
        ),
        Command::Audit { user, limit, json } => {
            report(cli::user_admin(&settings).and_then(|admin| {
                let records = admin.audit_trail(user.as_deref(), limit)?;
                Ok(cli::audit_output(&records, json))
            }))
        }
        Command::GenSecret => unreachable!("handled before the settings are loaded"),
    }
}

/// Prints a command's output, or its error as one line with exit code 1.
fn report(result: anyhow::Result<String>) -> ExitCode {
    match result {
        Ok(output) => {
            println!("{output}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("platform-auth: {error:#}");
            ExitCode::FAILURE
        }
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
        if let Some(address) = application.admin_addr() {
            tracing::info!("serving metrics on http://{address}/metrics");
        }
        application.run_until_stopped().await?;
        tracing::info!("platform-auth stopped");
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
