//! Runs wrk, the HTTP load generator from Debian's `wrk` package, and reads
//! the figures that `lua/report.lua` prints at the end of a run.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use anyhow::Context;
use serde::Deserialize;

use crate::command::successful_stdout;

const REPORT_SCRIPT: &str = include_str!("../lua/report.lua");
const LOGIN_SCRIPT: &str = include_str!("../lua/login.lua");
const REGISTER_SCRIPT: &str = include_str!("../lua/register.lua");

/// How long wrk waits for one response before it counts a timeout. Logins
/// under a 500-connection burst take seconds, and a slow response should
/// show in the latency figures rather than vanish as a timeout.
const RESPONSE_TIMEOUT: &str = "60s";

/// The request one wrk run sends.
#[derive(Debug, Clone)]
pub enum Workload {
    /// `GET` a path, with optional extra headers.
    Get {
        path: &'static str,
        headers: Vec<String>,
    },
    /// `POST /api/v1/auth/login` with one account.
    Login { email: String, password: String },
    /// `POST /api/v1/auth/register` with a new email on every request.
    Register { prefix: String, password: String },
}

/// One wrk invocation: what to send, to which server, how hard and how long.
#[derive(Debug, Clone)]
pub struct LoadSpec {
    pub base_url: String,
    pub workload: Workload,
    pub connections: u32,
    pub duration: Duration,
}

/// The figures of one wrk run.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct LoadResult {
    pub requests: u64,
    pub duration_us: u64,
    pub connect_errors: u64,
    pub read_errors: u64,
    pub write_errors: u64,
    /// Responses with a status of 400 or more. No route of the server
    /// responds with 1xx or 3xx, so these are all the non-2xx responses.
    pub status_errors: u64,
    pub timeouts: u64,
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
}

impl LoadResult {
    pub fn requests_per_second(&self) -> f64 {
        if self.duration_us == 0 {
            return 0.0;
        }
        self.requests as f64 / (self.duration_us as f64 / 1e6)
    }

    /// Non-2xx responses plus socket errors and timeouts.
    pub fn errors(&self) -> u64 {
        self.status_errors
            + self.connect_errors
            + self.read_errors
            + self.write_errors
            + self.timeouts
    }
}

/// A wrk process started by [`start`], with the script file it reads.
pub struct RunningLoad {
    child: Child,
    _script: tempfile::NamedTempFile,
    description: String,
}

/// Runs wrk to completion.
pub fn run(spec: &LoadSpec) -> anyhow::Result<LoadResult> {
    start(spec)?.wait()
}

/// Starts wrk in the background, so that two loads can run at once.
pub fn start(spec: &LoadSpec) -> anyhow::Result<RunningLoad> {
    let script = write_script(&spec.workload)?;
    let threads = spec.connections.min(worker_threads());
    let description = describe(spec);

    let mut command = Command::new("wrk");
    command
        .arg(format!("--threads={threads}"))
        .arg(format!("--connections={}", spec.connections))
        .arg(format!("--duration={}s", spec.duration.as_secs().max(1)))
        .arg(format!("--timeout={RESPONSE_TIMEOUT}"))
        .arg("--script")
        .arg(script.path());
    let mut url = spec.base_url.clone();
    let mut script_arguments = Vec::new();
    match &spec.workload {
        Workload::Get { path, headers } => {
            url.push_str(path);
            for header in headers {
                command.arg("--header").arg(header);
            }
        }
        Workload::Login { email, password } => {
            script_arguments = vec![email.clone(), password.clone()];
        }
        Workload::Register { prefix, password } => {
            script_arguments = vec![prefix.clone(), password.clone()];
        }
    }
    command.arg(url);
    if !script_arguments.is_empty() {
        command.arg("--").args(script_arguments);
    }

    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("failed to start wrk; install it with `apt-get install wrk` (make bench does)")?;
    Ok(RunningLoad {
        child,
        _script: script,
        description,
    })
}

impl RunningLoad {
    /// Waits for wrk to finish and parses its result line.
    pub fn wait(self) -> anyhow::Result<LoadResult> {
        let output = self
            .child
            .wait_with_output()
            .with_context(|| format!("failed to wait for wrk ({})", self.description))?;
        parse_output(&output).with_context(|| format!("wrk run failed: {}", self.description))
    }
}

fn parse_output(output: &Output) -> anyhow::Result<LoadResult> {
    let stdout = successful_stdout("wrk", output)?;
    let line = stdout
        .lines()
        .find_map(|line| line.strip_prefix("BENCH_RESULT "))
        .with_context(|| format!("wrk printed no BENCH_RESULT line; its output was:\n{stdout}"))?;
    serde_json::from_str(line).with_context(|| format!("unreadable wrk result line {line:?}"))
}

/// Writes the Lua script for a workload: the result printer plus, for the
/// POST workloads, the request builder.
fn write_script(workload: &Workload) -> anyhow::Result<tempfile::NamedTempFile> {
    let request_part = match workload {
        Workload::Get { .. } => "",
        Workload::Login { .. } => LOGIN_SCRIPT,
        Workload::Register { .. } => REGISTER_SCRIPT,
    };
    let file = tempfile::Builder::new()
        .prefix("platform-auth-bench-")
        .suffix(".lua")
        .tempfile()
        .context("failed to create a wrk script file")?;
    std::fs::write(file.path(), format!("{REPORT_SCRIPT}\n{request_part}"))
        .with_context(|| format!("failed to write {}", file.path().display()))?;
    Ok(file)
}

fn describe(spec: &LoadSpec) -> String {
    let request = match &spec.workload {
        Workload::Get { path, .. } => format!("GET {path}"),
        Workload::Login { .. } => "POST /api/v1/auth/login".to_string(),
        Workload::Register { .. } => "POST /api/v1/auth/register".to_string(),
    };
    format!(
        "{request} on {} with {} connections for {} s",
        spec.base_url,
        spec.connections,
        spec.duration.as_secs()
    )
}

/// Returns one wrk thread per CPU, because wrk runs on the same machine as
/// the server.
fn worker_threads() -> u32 {
    std::thread::available_parallelism().map_or(1, |count| count.get() as u32)
}

/// Returns the first line of `wrk --version`, for the report.
pub fn version() -> String {
    let output = Command::new("wrk").arg("--version").output();
    match output {
        Ok(output) => String::from_utf8_lossy(&output.stdout)
            .lines()
            .chain(String::from_utf8_lossy(&output.stderr).lines())
            .find(|line| line.starts_with("wrk"))
            .map(|line| line.split(" Copyright").next().unwrap_or(line).to_string())
            .unwrap_or_else(|| "wrk (unknown version)".to_string()),
        Err(_) => "wrk (not found)".to_string(),
    }
}

/// Checks that wrk is on the PATH before any server is started.
pub fn check_installed() -> anyhow::Result<PathBuf> {
    let found = std::env::var_os("PATH")
        .map(|paths| {
            std::env::split_paths(&paths)
                .map(|folder| folder.join("wrk"))
                .find(|candidate| Path::is_file(candidate))
        })
        .unwrap_or_default();
    found.context("wrk is not installed; run `apt-get install wrk` (make bench does)")
}
