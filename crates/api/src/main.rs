use std::process::ExitCode;

use platform_auth_api::{telemetry, Application, Settings};

fn main() -> ExitCode {
    let settings = match Settings::load() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("platform-auth: invalid configuration: {error}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(!settings.is_dev());
    for warning in &settings.warnings {
        tracing::warn!("WARNING: {warning}");
    }

    let result = actix_web::rt::System::new().block_on(async {
        let application = Application::build(&settings)?;
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
