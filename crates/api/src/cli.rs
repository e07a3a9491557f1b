//! The command line: `serve` (the default), `migrate`, `check-config`,
//! `gen-secret`, user administration and the audit trail. Results go to
//! standard output, as text or, with `--json`, as JSON; logs and errors go
//! to standard error.

use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, SecondsFormat, Utc};
use clap::{Parser, Subcommand};
use platform_auth_adapters::db::{connect, run_migrations};
use platform_auth_adapters::{DieselAuditLog, DieselSessionRepo, DieselUserRepo};
use platform_auth_domain::{AuditRecord, UserAdmin, UserDetails, UserRecord};
use rand::rngs::OsRng;
use rand::RngCore;
use serde_json::{json, Value};

use crate::client_ip::ForwardedHeader;
use crate::settings::Settings;

/// A JWT authentication service. Settings come from config/default.toml,
/// config/<PLATFORM_ENV>.toml and environment variables; see the README.
#[derive(Debug, Parser)]
#[command(name = "platform-auth", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the HTTP server (the default without a command).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the effective settings with secrets redacted; exit 2 on a problem.
    CheckConfig {
        /// Print JSON instead of `key = value` lines.
        #[arg(long)]
        json: bool,
    },
    /// Print a new random 256-bit signing secret, hex-encoded.
    GenSecret,
    /// Clear the failed logins of an account, which lifts its lock at once
    /// (the same as `users unlock`).
    Unlock {
        /// The account's email address, in any case.
        email: String,
    },
    /// Manage users.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Read the audit trail, newest first.
    Audit {
        /// Only the events of this user (id or email).
        #[arg(long)]
        user: Option<String>,
        /// How many events to print at most.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(i64).range(1..=10_000))]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// List users, oldest first.
    List {
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(i64).range(1..=10_000))]
        limit: i64,
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(i64).range(0..))]
        offset: i64,
        #[arg(long)]
        json: bool,
    },
    /// Show one user (by id or email) with their number of live sessions.
    Show {
        user: String,
        #[arg(long)]
        json: bool,
    },
    /// Stop a user from logging in and end all their sessions at once.
    Disable {
        user: String,
        #[arg(long)]
        json: bool,
    },
    /// Let a disabled user log in again.
    Enable {
        user: String,
        #[arg(long)]
        json: bool,
    },
    /// Clear the failed logins of an account, which lifts its lock at once.
    Unlock {
        /// The account's email address, in any case.
        email: String,
    },
    /// Delete a user and their sessions; their audit events stay.
    Delete {
        user: String,
        /// Confirm the deletion; without it nothing is deleted.
        #[arg(long)]
        yes: bool,
        #[arg(long)]
        json: bool,
    },
}

/// Returns a new signing secret: 32 random bytes as 64 hex digits.
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Connects and applies pending migrations; returns how many were applied.
pub fn migrate(settings: &Settings) -> anyhow::Result<usize> {
    let pool = connect(&settings.database, &settings.pool)?;
    run_migrations(&pool)
}

/// Builds the operator use cases on the configured database, migrating it
/// first like the server does.
pub fn user_admin(settings: &Settings) -> anyhow::Result<UserAdmin> {
    let pool = settings.database.open(&settings.pool)?;
    Ok(UserAdmin::new(
        Arc::new(DieselUserRepo::new(pool.clone())),
        Arc::new(DieselSessionRepo::new(pool.clone())),
        Arc::new(DieselAuditLog::new(pool)),
        settings.sessions.clone(),
    ))
}

/// Runs a `users` command and returns what to print.
pub fn run_users_command(admin: &UserAdmin, command: &UsersCommand) -> anyhow::Result<String> {
    let output = match command {
        UsersCommand::List {
            limit,
            offset,
            json,
        } => {
            let users = admin.list(*limit, *offset)?;
            if *json {
                pretty(&Value::Array(users.iter().map(record_json).collect()))
            } else if users.is_empty() {
                "No users.".to_string()
            } else {
                users.iter().map(record_line).collect::<Vec<_>>().join("\n")
            }
        }
        UsersCommand::Show { user, json } => {
            let details = admin.show(user)?;
            if *json {
                pretty(&details_json(&details))
            } else {
                details_text(&details)
            }
        }
        UsersCommand::Disable { user, json } => {
            let record = admin.disable(user)?;
            changed(&record, *json, "Disabled", "; their sessions have ended.")
        }
        UsersCommand::Enable { user, json } => {
            let record = admin.enable(user)?;
            changed(&record, *json, "Enabled", ".")
        }
        UsersCommand::Unlock { .. } => {
            anyhow::bail!("users unlock runs through unlock_output, not the user admin")
        }
        UsersCommand::Delete { user, yes, json } => {
            anyhow::ensure!(
                *yes,
                "deleting {user} cannot be undone; run again with --yes to delete the user"
            );
            let record = admin.delete(user)?;
            changed(&record, *json, "Deleted", " and their sessions.")
        }
    };
    Ok(output)
}

/// Clears the failed logins of `email` and returns what to print.
pub fn unlock_output(settings: &Settings, email: &str) -> anyhow::Result<String> {
    let cleared = crate::limits::unlock_account(settings, email)?;
    Ok(if cleared {
        format!("Cleared the failed logins of {email}; it can log in again.")
    } else {
        format!("No failed logins are recorded for {email}; nothing to clear.")
    })
}

/// Returns the audit trail as text lines or JSON.
pub fn audit_output(records: &[AuditRecord], json: bool) -> String {
    if json {
        return pretty(&Value::Array(records.iter().map(audit_json).collect()));
    }
    if records.is_empty() {
        return "No audit events.".to_string();
    }
    records
        .iter()
        .map(|record| {
            let event = &record.event;
            format!(
                "{} {:<22} user={} session={} ip={}",
                timestamp(event.at),
                event.kind.as_str(),
                dash(event.user_id.map(|id| id.to_string())),
                dash(event.session_id.map(|id| id.to_string())),
                dash(event.ip.clone()),
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Returns the effective settings with every secret redacted.
pub fn redacted_settings(settings: &Settings) -> Value {
    json!({
        "env": settings.env,
        "host": settings.host,
        "port": settings.port,
        "database_url": settings.database.redacted(),
        "jwt_secret": format!("[REDACTED, {} bytes]", settings.jwt_secret.expose().len()),
        "jwt_ttl": settings.jwt_ttl.as_secs(),
        "refresh_ttl": settings.sessions.refresh_ttl.as_secs(),
        "session_idle_timeout": settings.sessions.idle_timeout.as_secs(),
        "refresh_reuse_grace": settings.sessions.reuse_grace.as_secs(),
        "session_prune_interval": settings.session_prune_interval.as_secs(),
        "metrics_addr": settings.metrics_addr,
        "shutdown_timeout": settings.shutdown_timeout.as_secs(),
        "db_pool_size": settings.pool.max_size,
        "argon2_memory_kib": settings.argon2.memory_kib,
        "argon2_iterations": settings.argon2.iterations,
        "argon2_parallelism": settings.argon2.parallelism,
        "password_min_length": settings.password_policy.min_chars,
        "password_max_length": settings.password_policy.max_chars,
        "login_limit_per_client": settings.limits.login_per_client.max_requests,
        "login_limit_window_seconds": settings.limits.login_per_client.window.as_secs(),
        "register_limit_per_client": settings.limits.register_per_client.max_requests,
        "register_limit_window_seconds": settings.limits.register_per_client.window.as_secs(),
        "lockout_threshold": settings.limits.lockout.threshold,
        "lockout_base_seconds": settings.limits.lockout.base_lock.as_secs(),
        "lockout_max_seconds": settings.limits.lockout.max_lock.as_secs(),
        "lockout_forget_seconds": settings.limits.lockout.forget_after.as_secs(),
        "trusted_proxies": settings
            .limits
            .proxies
            .trusted
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        "forwarded_header": match settings.limits.proxies.header {
            ForwardedHeader::XForwardedFor => "x-forwarded-for",
            ForwardedHeader::Forwarded => "forwarded",
        },
        "hash_concurrency": settings.limits.hash_gate.concurrency,
        "hash_queue_length": settings.limits.hash_gate.queue_length,
        "hash_queue_timeout_ms": settings.limits.hash_gate.queue_timeout.as_millis() as u64,
        "warnings": settings.warnings,
    })
}

/// Formats the redacted settings as `key = value` lines.
pub fn settings_text(settings: &Value) -> String {
    settings
        .as_object()
        .map(|fields| {
            fields
                .iter()
                .map(|(key, value)| format!("{key} = {value}"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

fn changed(record: &UserRecord, json: bool, verb: &str, tail: &str) -> String {
    if json {
        pretty(&record_json(record))
    } else {
        format!(
            "{verb} {} ({}){tail}",
            record.user.id,
            record.user.email.as_str()
        )
    }
}

fn record_json(record: &UserRecord) -> Value {
    json!({
        "id": record.user.id.to_string(),
        "email": record.user.email.as_str(),
        "name": record.user.name.as_str(),
        "created_at": timestamp(record.user.created_at),
        "disabled_at": record.disabled_at.map(timestamp),
    })
}

fn record_line(record: &UserRecord) -> String {
    let state = if record.disabled_at.is_some() {
        "disabled"
    } else {
        "active"
    };
    format!(
        "{}  {:<8}  {}  {}  {}",
        record.user.id,
        state,
        timestamp(record.user.created_at),
        record.user.email.as_str(),
        record.user.name.as_str(),
    )
}

fn details_json(details: &UserDetails) -> Value {
    let mut value = record_json(&details.record);
    value["live_sessions"] = json!(details.live_sessions);
    value
}

fn details_text(details: &UserDetails) -> String {
    let record = &details.record;
    [
        format!("id:            {}", record.user.id),
        format!("email:         {}", record.user.email.as_str()),
        format!("name:          {}", record.user.name.as_str()),
        format!("created_at:    {}", timestamp(record.user.created_at)),
        format!("disabled_at:   {}", dash(record.disabled_at.map(timestamp))),
        format!("live_sessions: {}", details.live_sessions),
    ]
    .join("\n")
}

fn audit_json(record: &AuditRecord) -> Value {
    let event = &record.event;
    json!({
        "id": record.id,
        "at": timestamp(event.at),
        "event": event.kind.as_str(),
        "user_id": event.user_id.map(|id| id.to_string()),
        "session_id": event.session_id.map(|id| id.to_string()),
        "ip": event.ip,
    })
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn dash(value: Option<String>) -> String {
    value.unwrap_or_else(|| "-".to_string())
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value)
        .context("JSON output")
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secret_is_256_bits_of_hex() {
        let first = generate_secret();
        let second = generate_secret();

        assert_eq!(first.len(), 64);
        assert!(first.bytes().all(|byte| byte.is_ascii_hexdigit()));
        assert_ne!(first, second);
    }
}
