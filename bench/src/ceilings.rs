//! The ceilings the scenarios are compared to: the database's primary-key
//! lookup rate and the hashing rate. The third ceiling, `/health`
//! throughput, is a plain wrk run (see `scenarios`).

use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use platform_auth_adapters::{
    db, Argon2Hasher, Argon2Settings, Database, DieselUserRepo, PoolSettings,
};
use platform_auth_domain::{Password, PasswordHasher, UserId, UserRepo};

use crate::command::successful_stdout;

/// Clients of the lookup ceilings, as many as the `/me` scenario's
/// connections.
pub const LOOKUP_CLIENTS: u32 = 64;

/// Times single argon2id hashes at `settings`, on one thread, and returns
/// the median of `samples` runs after one warm-up hash.
pub fn hash_time(settings: Argon2Settings, samples: usize) -> anyhow::Result<Duration> {
    let hasher = Argon2Hasher::new(settings)?;
    let password = Password::new("correct horse battery staple".to_string());
    hasher.hash(&password)?;

    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples.max(1) {
        let started = Instant::now();
        hasher.hash(&password)?;
        times.push(started.elapsed());
    }
    times.sort();
    Ok(times[times.len() / 2])
}

/// Runs pgbench with a one-statement script that selects one `users` row by
/// primary key, as prepared statements from [`LOOKUP_CLIENTS`] clients, and
/// returns its transactions per second.
pub fn pgbench_lookup(
    database_url: &str,
    user_id: &str,
    duration: Duration,
) -> anyhow::Result<f64> {
    let script = tempfile::Builder::new()
        .prefix("platform-auth-bench-")
        .suffix(".sql")
        .tempfile()
        .context("failed to create a pgbench script file")?;
    std::fs::write(
        script.path(),
        "SELECT id, email, name, created_at FROM users WHERE id = :user_id;\n",
    )?;

    let threads = crate::machine::cpu_count().min(LOOKUP_CLIENTS as usize);
    let output = Command::new("pgbench")
        .arg("--no-vacuum")
        .arg("--protocol=prepared")
        .arg(format!("--client={LOOKUP_CLIENTS}"))
        .arg(format!("--jobs={threads}"))
        .arg(format!("--time={}", duration.as_secs().max(1)))
        .arg(format!("--define=user_id={user_id}"))
        .arg("--file")
        .arg(script.path())
        .arg(database_url)
        .output()
        .context("failed to start pgbench; it comes with Debian's postgresql package")?;

    let stdout = successful_stdout("pgbench", &output)?;
    parse_pgbench_tps(&stdout)
        .with_context(|| format!("pgbench printed no tps line; its output was:\n{stdout}"))
}

/// Reads `tps = 12345.678901 (without initial connection time)`.
fn parse_pgbench_tps(output: &str) -> Option<f64> {
    output
        .lines()
        .find_map(|line| line.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
}

/// Looks one user up by primary key in a loop on [`LOOKUP_CLIENTS`] threads
/// through the adapters' pool and repository, the code path the server's
/// requests take, and returns lookups per second.
pub fn adapters_lookup(
    database_url: &str,
    user_id: &str,
    duration: Duration,
) -> anyhow::Result<f64> {
    let database = Database::from_url(database_url)?;
    let pool = db::connect(
        &database,
        &PoolSettings {
            max_size: LOOKUP_CLIENTS,
            ..PoolSettings::default()
        },
    )?;
    let repo = Arc::new(DieselUserRepo::new(pool));
    let user_id: UserId = user_id
        .parse()
        .with_context(|| format!("seed user id {user_id:?} is not a UUID"))?;
    if repo.find_by_id(user_id)?.is_none() {
        bail!("seed user {user_id} is missing from the database");
    }

    let stop = Arc::new(AtomicBool::new(false));
    let lookups = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..LOOKUP_CLIENTS)
        .map(|_| {
            let (repo, stop, lookups) = (repo.clone(), stop.clone(), lookups.clone());
            thread::spawn(move || -> anyhow::Result<()> {
                while !stop.load(Ordering::Relaxed) {
                    repo.find_by_id(user_id)?;
                    lookups.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            })
        })
        .collect();

    thread::sleep(duration);
    stop.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed();
    for worker in workers {
        worker
            .join()
            .map_err(|_| anyhow::anyhow!("a lookup thread panicked"))??;
    }
    Ok(lookups.load(Ordering::Relaxed) as f64 / elapsed.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pgbench_tps_parsed() {
        let output = "number of failed transactions: 0 (0.000%)\n\
                      latency average = 2.100 ms\n\
                      initial connection time = 95.512 ms\n\
                      tps = 30476.190476 (without initial connection time)\n";

        assert_eq!(parse_pgbench_tps(output), Some(30476.190476));
    }

    #[test]
    fn pgbench_tps_missing() {
        assert_eq!(parse_pgbench_tps("pgbench: error: connection failed"), None);
    }
}
