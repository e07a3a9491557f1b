//! Starts the release `platform-auth` binary, finds its address, reads its
//! peak memory and stops it.

use std::fs::File;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// How long a server may take from start to its "listening on" line. It
/// migrates the database and computes one argon2 hash before it binds.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a server may take to stop after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// Settings of every server that one backend run starts.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub binary: PathBuf,
    pub database_url: String,
    pub jwt_secret: String,
    /// Folder for the server's working directory and log files.
    pub workdir: PathBuf,
    /// Extra variables, applied last so they override the harness's own.
    pub extra_env: Vec<(String, String)>,
}

/// A running server, killed on drop if it was not stopped.
pub struct ServerProcess {
    child: Option<Child>,
    base_url: String,
    log_path: PathBuf,
}

impl ServerProcess {
    /// Starts a server on a free loopback port and waits until it listens.
    /// Its log goes to `<workdir>/<log_name>.log`.
    pub fn start(config: &ServerConfig, log_name: &str) -> anyhow::Result<Self> {
        let log_path = config.workdir.join(format!("{log_name}.log"));
        let log = File::create(&log_path)
            .with_context(|| format!("failed to create {}", log_path.display()))?;

        let mut command = Command::new(&config.binary);
        command
            .current_dir(&config.workdir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("PLATFORM_ENV", "production")
            .env("PLATFORM_HOST", "127.0.0.1")
            .env("PLATFORM_PORT", "0")
            .env("PLATFORM_JWT_SECRET", &config.jwt_secret)
            .env("DATABASE_URL", &config.database_url)
            .env("RUST_LOG", "info")
            .envs(config.extra_env.iter().map(|(key, value)| (key, value)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        let child = command.spawn().with_context(|| {
            format!(
                "failed to start {}; build it with `cargo build --release -p platform-auth-api`",
                config.binary.display()
            )
        })?;

        let mut server = Self {
            child: Some(child),
            base_url: String::new(),
            log_path,
        };
        server.base_url = server.wait_until_listening()?;
        Ok(server)
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Returns the most memory the process has had resident since it
    /// started (`VmHWM` in `/proc/<pid>/status`), in KiB.
    pub fn peak_rss_kib(&mut self) -> anyhow::Result<u64> {
        self.check_running()?;
        let path = format!("/proc/{}/status", self.pid());
        let status =
            std::fs::read_to_string(&path).with_context(|| format!("failed to read {path}"))?;
        status_field_kib(&status, "VmHWM").with_context(|| format!("{path} has no VmHWM line"))
    }

    /// Fails if the server has exited, for example killed for lack of memory.
    pub fn check_running(&mut self) -> anyhow::Result<()> {
        let child = self
            .child
            .as_mut()
            .context("the server was already stopped")?;
        if let Some(status) = child.try_wait()? {
            bail!(
                "the server exited with {status} during the run; see {}",
                self.log_path.display()
            );
        }
        Ok(())
    }

    /// Sends SIGTERM and waits for the graceful stop, killing the process
    /// if it takes longer than the stop timeout.
    pub fn stop(mut self) -> anyhow::Result<()> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let pid = Pid::from_raw(i32::try_from(child.id()).context("pid out of range")?);
        if child.try_wait()?.is_none() {
            kill(pid, Signal::SIGTERM).context("failed to send SIGTERM to the server")?;
        }

        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if child.try_wait()?.is_some() {
                return Ok(());
            }
            thread::sleep(Duration::from_millis(50));
        }
        child.kill().context("failed to kill the server")?;
        child.wait()?;
        bail!(
            "the server did not stop within {} s of SIGTERM and was killed; see {}",
            STOP_TIMEOUT.as_secs(),
            self.log_path.display()
        )
    }

    /// Polls the log for the "listening on http://ADDR" line.
    fn wait_until_listening(&mut self) -> anyhow::Result<String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let log = std::fs::read_to_string(&self.log_path).unwrap_or_default();
            if let Some(address) = listening_address(&log) {
                return Ok(address);
            }
            self.check_running()?;
            if Instant::now() > deadline {
                bail!(
                    "the server logged no \"listening on\" line within {} s; see {}",
                    START_TIMEOUT.as_secs(),
                    self.log_path.display()
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Watches a server's resident memory and kills the server once it passes
/// a limit, so that a load test cannot take the memory other work on the
/// machine needs.
pub struct MemoryGuard {
    stop: Arc<AtomicBool>,
    /// The resident memory, in KiB, at which the server was killed; 0 while
    /// it was not.
    killed_at_kib: Arc<AtomicU64>,
    watcher: Option<thread::JoinHandle<()>>,
}

impl MemoryGuard {
    /// How often `VmRSS` is read.
    const INTERVAL: Duration = Duration::from_millis(50);

    pub fn start(server: &ServerProcess, limit_kib: u64) -> Self {
        let pid = server.pid();
        let stop = Arc::new(AtomicBool::new(false));
        let killed_at_kib = Arc::new(AtomicU64::new(0));
        let watcher = {
            let (stop, killed_at_kib) = (stop.clone(), killed_at_kib.clone());
            thread::spawn(move || {
                let path = format!("/proc/{pid}/status");
                while !stop.load(Ordering::Relaxed) {
                    let resident = std::fs::read_to_string(&path)
                        .ok()
                        .and_then(|status| status_field_kib(&status, "VmRSS"));
                    if let Some(resident) = resident.filter(|&kib| kib > limit_kib) {
                        // The pid is still this server's: the harness reaps
                        // its child only in `stop` or on drop.
                        if let Ok(raw) = i32::try_from(pid) {
                            let _ = kill(Pid::from_raw(raw), Signal::SIGKILL);
                        }
                        killed_at_kib.store(resident, Ordering::Relaxed);
                        return;
                    }
                    thread::sleep(Self::INTERVAL);
                }
            })
        };
        Self {
            stop,
            killed_at_kib,
            watcher: Some(watcher),
        }
    }

    /// Stops watching; returns the resident memory in KiB at which the
    /// server was killed, if it was.
    pub fn finish(mut self) -> Option<u64> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(watcher) = self.watcher.take() {
            let _ = watcher.join();
        }
        Some(self.killed_at_kib.load(Ordering::Relaxed)).filter(|&kib| kib > 0)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Finds `http://ADDR` after "listening on" in the server's log, which is
/// JSON outside `PLATFORM_ENV=dev`, so the address ends at a quote.
fn listening_address(log: &str) -> Option<String> {
    let (_, rest) = log.split_once("listening on ")?;
    let end = rest.find(['"', '\n', ' ']).unwrap_or(rest.len());
    let address = &rest[..end];
    address.starts_with("http://").then(|| address.to_string())
}

/// Reads a `Name:   123 kB` line of a `/proc/<pid>/status` file.
fn status_field_kib(status: &str, name: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
        .and_then(|value| value.split_whitespace().next())
        .and_then(|number| number.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_found_in_json_log() {
        let log = r#"{"level":"INFO","message":"listening on http://127.0.0.1:40123","env":"production"}"#;

        assert_eq!(
            listening_address(log).as_deref(),
            Some("http://127.0.0.1:40123")
        );
    }

    #[test]
    fn address_found_in_text_log() {
        let log = "2026-12-04 INFO listening on http://127.0.0.1:8000\n";

        assert_eq!(
            listening_address(log).as_deref(),
            Some("http://127.0.0.1:8000")
        );
    }

    #[test]
    fn address_missing_before_start() {
        assert_eq!(listening_address("database schema is up to date"), None);
    }

    #[test]
    fn status_field_parsed_in_kib() {
        let status = "Name:\tplatform-auth\nVmPeak:\t  900000 kB\nVmHWM:\t   23456 kB\n";

        assert_eq!(status_field_kib(status, "VmHWM"), Some(23456));
        assert_eq!(status_field_kib(status, "VmRSS"), None);
    }
}
