//! `platform-auth-bench` load-tests the release `platform-auth` binary on
//! PostgreSQL and on SQLite with wrk, measures the ceilings each figure is
//! compared to, and writes a dated Markdown report with a latency plot.
//!
//! It exits non-zero when a scenario had errors or got no response at all,
//! never because of a timing. `make bench` builds everything and runs it; see
//! `docs/performance.md`.

mod ceilings;
mod command;
mod criterion;
mod machine;
mod plot;
mod report;
mod scenarios;
mod server;
mod wrk;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, UNIX_EPOCH};

use anyhow::{bail, Context};
use chrono::Utc;
use clap::Parser;
use platform_auth_adapters::testing::Backend;
use platform_auth_adapters::Argon2Settings;

use crate::machine::MachineInfo;
use crate::report::Report;
use crate::scenarios::{Durations, RunPlan, ScenarioKind};

#[derive(Parser, Debug)]
#[command(about = "Load-test the platform-auth binary and write a report")]
struct Options {
    /// Run each load for a few seconds, to prove the harness works.
    #[arg(long, env = "BENCH_SHORT")]
    short: bool,

    /// Seconds each load runs, overriding the mode's default (3 short, 20 full).
    #[arg(long, env = "BENCH_DURATION")]
    duration: Option<u64>,

    /// Backends to run, comma-separated: postgres, sqlite.
    #[arg(
        long,
        env = "BENCH_BACKENDS",
        value_delimiter = ',',
        default_value = "postgres,sqlite"
    )]
    backends: Vec<String>,

    /// Scenarios to run, comma-separated: me, login, register, me+flood,
    /// burst [default: all].
    #[arg(long, env = "BENCH_SCENARIOS", value_delimiter = ',')]
    scenarios: Vec<String>,

    /// Extra server environment, as space-separated KEY=VALUE pairs applied
    /// after the harness's own, for example to raise rate limits.
    #[arg(long, env = "BENCH_SERVER_ENV", default_value = "")]
    server_env: String,

    /// Argon2 computations the server runs at once, for the burst's memory
    /// target [default: the CPU count].
    #[arg(long, env = "BENCH_HASH_CONCURRENCY")]
    hash_concurrency: Option<usize>,

    /// Resident memory, in MiB, past which a server is killed and its
    /// scenario fails [default: half the machine's memory].
    #[arg(long, env = "BENCH_MAX_SERVER_RSS_MIB")]
    max_server_rss_mib: Option<u64>,

    /// The server binary.
    #[arg(long, default_value = "target/release/platform-auth")]
    server_binary: PathBuf,

    /// Folder for the report and the plot.
    #[arg(long, default_value = "bench/results")]
    out_dir: PathBuf,

    /// Folder for the servers' logs, in a subfolder per run.
    #[arg(long, default_value = "target/bench")]
    logs_dir: PathBuf,

    /// criterion's output folder, read for the micro-benchmark table.
    #[arg(long, default_value = "target/criterion")]
    criterion_dir: PathBuf,

    /// Only criterion results written at or after this Unix time, in
    /// seconds, go into the report [default: none].
    #[arg(long)]
    criterion_since: Option<u64>,

    /// A line for the report's header, for example which build of the
    /// server `--server-binary` names.
    #[arg(long, env = "BENCH_NOTE")]
    note: Option<String>,

    /// TrueType font for the plot's text.
    #[arg(long, env = "BENCH_FONT", default_value = plot::DEFAULT_FONT)]
    font: PathBuf,
}

fn main() -> ExitCode {
    let options = Options::parse();
    match run(&options) {
        Ok(failures) if failures.is_empty() => ExitCode::SUCCESS,
        Ok(failures) => {
            eprintln!("error: these loads had errors or got no response:");
            for failure in failures {
                eprintln!("  - {failure}");
            }
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs everything and writes the report; returns the harness's failures.
fn run(options: &Options) -> anyhow::Result<Vec<String>> {
    let backends = parse_backends(&options.backends)?;
    let scenarios = parse_scenarios(&options.scenarios)?;
    let extra_env = parse_env_pairs(&options.server_env)?;
    wrk::check_installed()?;
    // Absolute, because each server runs in its own working folder.
    let server_binary = std::fs::canonicalize(&options.server_binary).with_context(|| {
        format!(
            "{} does not exist; build it with `cargo build --release -p platform-auth-api`",
            options.server_binary.display()
        )
    })?;

    let started_at = Utc::now();
    let machine = MachineInfo::read(wrk::version());
    eprintln!(
        "load average at start: {} on {} CPUs",
        machine.load_at_start, machine.cpus
    );

    let argon2 = argon2_settings(&extra_env)?;
    let samples = if options.short { 5 } else { 21 };
    eprintln!("ceiling: hashing time of one argon2id hash, median of {samples}");
    let hash_time = ceilings::hash_time(argon2, samples)?;
    let durations = Durations::new(options.short, options.duration, hash_time, machine.cpus);

    let stem = format!(
        "{}{}",
        started_at.format("%Y-%m-%dT%H%MZ"),
        if options.short { "-short" } else { "" }
    );
    let logs_dir = options.logs_dir.join(&stem);
    eprintln!("server logs go to {}", logs_dir.display());
    let plan = RunPlan {
        server_binary,
        extra_env: extra_env.clone(),
        durations,
        nonce: format!(
            "{}-{}",
            started_at.format("%Y%m%d%H%M%S"),
            std::process::id()
        ),
        logs_dir,
        scenarios,
        max_server_rss_kib: options
            .max_server_rss_mib
            .map_or(machine.memory_kib / 2, |mebibytes| mebibytes * 1024),
    };
    let mut runs = Vec::new();
    for backend in backends {
        runs.push(scenarios::run_backend(backend, &plan)?);
    }

    let micro_benchmarks = match options.criterion_since {
        Some(seconds) => criterion::read_results(
            &options.criterion_dir,
            UNIX_EPOCH + Duration::from_secs(seconds),
        ),
        None => Vec::new(),
    };

    std::fs::create_dir_all(&options.out_dir)
        .with_context(|| format!("failed to create {}", options.out_dir.display()))?;
    let plot_file = format!("{stem}.png");
    let plot_path = options.out_dir.join(&plot_file);
    let plot_file = match plot::draw(&plot_path, &runs, &options.font) {
        Ok(()) => Some(plot_file),
        Err(error) => {
            eprintln!("warning: no plot drawn: {error:#}");
            None
        }
    };

    let report = Report {
        started_at,
        short: options.short,
        machine,
        argon2,
        hash_time,
        hash_concurrency: options.hash_concurrency.unwrap_or_else(machine::cpu_count),
        durations,
        extra_env,
        backends: runs,
        micro_benchmarks,
        plot_file,
        note: options.note.clone(),
        max_server_rss_kib: plan.max_server_rss_kib,
    };
    let markdown = report.to_markdown();
    let report_path = options.out_dir.join(format!("{stem}.md"));
    std::fs::write(&report_path, &markdown)
        .with_context(|| format!("failed to write {}", report_path.display()))?;
    println!("{markdown}");
    eprintln!("report written to {}", report_path.display());
    Ok(report.failures())
}

fn parse_backends(names: &[String]) -> anyhow::Result<Vec<Backend>> {
    names
        .iter()
        .filter(|name| !name.trim().is_empty())
        .map(|name| match name.trim() {
            "postgres" | "postgresql" => Ok(Backend::Postgres),
            "sqlite" => Ok(Backend::Sqlite),
            other => bail!("unknown backend {other:?}; use postgres, sqlite or both"),
        })
        .collect()
}

fn parse_scenarios(names: &[String]) -> anyhow::Result<Vec<ScenarioKind>> {
    let names: Vec<&str> = names
        .iter()
        .map(|name| name.trim())
        .filter(|name| !name.is_empty())
        .collect();
    if names.is_empty() {
        return Ok(ScenarioKind::ALL.to_vec());
    }
    names
        .into_iter()
        .map(|name| {
            ScenarioKind::ALL
                .into_iter()
                .find(|kind| kind.short_label() == name)
                .with_context(|| {
                    format!("unknown scenario {name:?}; use me, login, register, me+flood or burst")
                })
        })
        .collect()
}

/// Parses `KEY=VALUE KEY=VALUE`. Values cannot contain spaces.
fn parse_env_pairs(text: &str) -> anyhow::Result<Vec<(String, String)>> {
    text.split_whitespace()
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
            _ => bail!("BENCH_SERVER_ENV entry {pair:?} is not KEY=VALUE"),
        })
        .collect()
}

/// Returns the argon2 parameters the servers run with: the defaults, unless
/// the extra server environment changes them.
fn argon2_settings(extra_env: &[(String, String)]) -> anyhow::Result<Argon2Settings> {
    let mut settings = Argon2Settings::default();
    for (key, value) in extra_env {
        let field = match key.as_str() {
            "PLATFORM_ARGON2_MEMORY_KIB" => &mut settings.memory_kib,
            "PLATFORM_ARGON2_ITERATIONS" => &mut settings.iterations,
            "PLATFORM_ARGON2_PARALLELISM" => &mut settings.parallelism,
            _ => continue,
        };
        *field = value
            .parse()
            .with_context(|| format!("{key}={value} is not a whole number"))?;
    }
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_pairs_parsed() {
        let pairs = parse_env_pairs(" PLATFORM_HASH_CONCURRENCY=4  RUST_LOG=warn ").unwrap();

        assert_eq!(
            pairs,
            vec![
                ("PLATFORM_HASH_CONCURRENCY".to_string(), "4".to_string()),
                ("RUST_LOG".to_string(), "warn".to_string()),
            ]
        );
    }

    #[test]
    fn env_pair_without_equals_rejected() {
        assert!(parse_env_pairs("PLATFORM_HASH_CONCURRENCY").is_err());
        assert!(parse_env_pairs("=4").is_err());
    }

    #[test]
    fn argon2_settings_follow_server_env() {
        let settings =
            argon2_settings(&[("PLATFORM_ARGON2_MEMORY_KIB".to_string(), "8192".to_string())])
                .unwrap();

        assert_eq!(settings.memory_kib, 8192);
        assert_eq!(settings.iterations, Argon2Settings::default().iterations);
    }

    #[test]
    fn backends_parsed() {
        let backends = parse_backends(&["postgres".to_string(), "sqlite".to_string()]).unwrap();

        assert_eq!(backends, vec![Backend::Postgres, Backend::Sqlite]);
        assert!(parse_backends(&["mysql".to_string()]).is_err());
    }
}
