//! Measures a login flood against the real binary: `make flood`.
//!
//! Starts `platform-auth` (the path in the first argument, by default
//! `target/release/platform-auth`) on 127.0.0.1 with a SQLite file in a
//! temporary folder, registers one user, then sends `FLOOD_LOGINS` (default
//! 500) logins with the right password at once. Meanwhile it samples the
//! server's resident memory from /proc every few milliseconds and times
//! `/me` calls. It prints the figures and stops the server.
//!
//! The per-client login limit is raised for the run, since all requests
//! come from one address and would otherwise meet that limit instead of
//! the hash gate. Every other setting is the default, including the argon2
//! cost and a hash concurrency of one per CPU. Linux only, because it reads
//! /proc.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use futures::future::join_all;
use serde_json::{json, Value};

const PASSWORD: &str = "flood-test-password-7";

fn main() -> anyhow::Result<()> {
    let binary = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/release/platform-auth".to_string());
    // The server runs in a temporary folder, so a relative path must be
    // resolved first.
    let binary = std::fs::canonicalize(&binary).map_err(|error| {
        anyhow::anyhow!("cannot find {binary}: {error}; run `make flood`, which builds it first")
    })?;
    let binary = binary.to_string_lossy().into_owned();
    let logins: usize = std::env::var("FLOOD_LOGINS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(500);

    let workdir = tempfile::tempdir()?;
    let (mut server, base_url) = start_server(&binary, workdir.path())?;
    let runtime = tokio::runtime::Runtime::new()?;
    let result = runtime.block_on(flood(server.id(), &base_url, logins));

    let _ = server.kill();
    let _ = server.wait();
    result
}

/// Starts the binary and returns it with its base URL, read from its
/// "listening on" log line.
fn start_server(binary: &str, workdir: &std::path::Path) -> anyhow::Result<(Child, String)> {
    let mut child = Command::new(binary)
        .current_dir(workdir)
        .env_clear()
        .env("PLATFORM_PORT", "0")
        .env(
            "PLATFORM_JWT_SECRET",
            "flood-secret-0123456789abcdef-0123456789",
        )
        .env("DATABASE_URL", workdir.join("auth.db"))
        .env("PLATFORM_LOGIN_LIMIT_PER_CLIENT", "1000000")
        .env(
            "RUST_LOG",
            "warn,platform_auth=info,platform_auth::http=warn",
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| anyhow::anyhow!("failed to start {binary}: {error}"))?;

    let stderr = child.stderr.take().expect("stderr is piped");
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some((_, rest)) = line.split_once("listening on ") {
                let url = rest.split_whitespace().next().unwrap_or_default();
                let _ = sender.send(url.to_string());
            }
        }
    });
    let base_url = receiver
        .recv_timeout(Duration::from_secs(30))
        .map_err(|_| anyhow::anyhow!("the server did not log its address within 30 s"))?;
    Ok((child, base_url))
}

/// Returns the resident set size of process `pid` in KiB.
fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .unwrap_or(0)
}

async fn flood(pid: u32, base_url: &str, logins: usize) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let login_url = format!("{base_url}/api/v1/auth/login");
    let credentials = json!({ "email": "flood@example.com", "password": PASSWORD });

    let registered: Value = client
        .post(format!("{base_url}/api/v1/auth/register"))
        .json(&credentials)
        .send()
        .await?
        .json()
        .await?;
    let token = registered["token"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("registration failed: {registered}"))?
        .to_string();
    // A few logins first, so the baseline includes one warmed-up hasher.
    for _ in 0..4 {
        client.post(&login_url).json(&credentials).send().await?;
    }
    let baseline = resident_kib(pid);

    let peak = Arc::new(AtomicU64::new(baseline));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (peak, sampling) = (peak.clone(), sampling.clone());
        std::thread::spawn(move || {
            while sampling.load(Ordering::Relaxed) {
                peak.fetch_max(resident_kib(pid), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };

    let started = Instant::now();
    let flood = {
        let (client, credentials) = (client.clone(), credentials.clone());
        tokio::spawn(async move {
            let requests = (0..logins).map(|_| client.post(&login_url).json(&credentials).send());
            join_all(requests).await
        })
    };
    let me_latencies = time_me_calls(&client, base_url, &token, &flood).await;
    let responses = flood.await?;
    let flood_time = started.elapsed();
    sampling.store(false, Ordering::Relaxed);
    let _ = sampler.join();

    let mut statuses = std::collections::BTreeMap::new();
    for response in &responses {
        let key = match response {
            Ok(response) => response.status().as_u16().to_string(),
            Err(_) => "no response".to_string(),
        };
        *statuses.entry(key).or_insert(0) += 1;
    }
    let peak = peak.load(Ordering::Relaxed);

    println!("logins sent at once:      {logins}");
    println!("flood duration:           {} ms", flood_time.as_millis());
    println!("responses by status:      {statuses:?}");
    println!(
        "RSS before the flood:     {:.1} MiB",
        baseline as f64 / 1024.0
    );
    println!("peak RSS during flood:    {:.1} MiB", peak as f64 / 1024.0);
    println!(
        "growth:                   {:.1} MiB",
        peak.saturating_sub(baseline) as f64 / 1024.0
    );
    println!("/me calls mid-flood:      {}", me_latencies.len());
    if let (Some(min), Some(max)) = (me_latencies.first(), me_latencies.last()) {
        let median = me_latencies[me_latencies.len() / 2];
        println!(
            "/me latency mid-flood:    min {} ms, median {} ms, max {} ms",
            min.as_millis(),
            median.as_millis(),
            max.as_millis()
        );
    }
    Ok(())
}

/// Calls `/me` every 50 ms while the flood runs, returning the latencies of
/// the calls that returned 200, sorted.
async fn time_me_calls(
    client: &reqwest::Client,
    base_url: &str,
    token: &str,
    flood: &tokio::task::JoinHandle<Vec<reqwest::Result<reqwest::Response>>>,
) -> Vec<Duration> {
    let mut latencies = Vec::new();
    tokio::time::sleep(Duration::from_millis(20)).await;
    while !flood.is_finished() {
        let started = Instant::now();
        let response = client
            .get(format!("{base_url}/api/v1/auth/me"))
            .bearer_auth(token)
            .send()
            .await;
        if matches!(&response, Ok(response) if response.status().is_success()) {
            latencies.push(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    latencies.sort();
    latencies
}
