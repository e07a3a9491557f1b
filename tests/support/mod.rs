//! The harness of the end-to-end tests: build the real `platform-auth`
//! binary once, start it as a user would, and talk HTTP to it.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::Duration;

use reqwest::blocking::Client;
use reqwest::StatusCode;
use serde_json::Value;

pub const SECRET: &str = "e2e-secret-0123456789abcdef-0123456789";

/// Builds the binary once per test run and returns its path, as cargo
/// reports it.
pub fn binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        let output = Command::new(cargo)
            .args(["build", "--quiet", "--message-format=json"])
            .args(["-p", "platform-auth-api", "--bin", "platform-auth"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stderr(Stdio::inherit())
            .output()
            .expect("cargo runs");
        assert!(output.status.success(), "cargo build failed");

        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter_map(|message| message["executable"].as_str().map(PathBuf::from))
            .find(|path| path.file_name().is_some_and(|name| name == "platform-auth"))
            .expect("cargo reports the platform-auth executable")
    })
}

/// Builds a command that runs the binary in `workdir` on the database file
/// there, with no environment but the settings it needs.
pub fn command(workdir: &Path) -> Command {
    let mut command = Command::new(binary());
    command
        .current_dir(workdir)
        .env_clear()
        .env("PLATFORM_JWT_SECRET", SECRET)
        .env("DATABASE_URL", workdir.join("auth.db"))
        .env("RUST_LOG", "info");
    command
}

/// A running server process, killed on drop.
pub struct Server {
    pub child: Child,
    pub base_url: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts the binary in `workdir` with a database file there, on a
    /// port the kernel picks, and waits for its "listening on" line.
    pub fn start(workdir: &Path) -> Self {
        Self::start_with(workdir, &[], &[])
    }

    /// Starts the binary as [`Server::start`] does, with command-line
    /// arguments and extra environment variables. Every line it logs is
    /// kept.
    pub fn start_with(workdir: &Path, args: &[&str], variables: &[(&str, &str)]) -> Self {
        let mut child = command(workdir)
            .args(args)
            .env("PLATFORM_PORT", "0")
            .envs(variables.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("binary starts");

        let (base_url, log) = read_listening_url(child.stderr.take().unwrap());
        Self {
            child,
            base_url,
            log,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// Returns the lines logged so far.
    pub fn log_lines(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Sends SIGTERM, as a service manager does to stop the server.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads a server's log until its "listening on" line and returns the base
/// URL it names, with every line logged, then and later. JSON logs carry
/// the URL in their `message` field.
pub fn read_listening_url(stderr: ChildStderr) -> (String, Arc<Mutex<Vec<String>>>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let (sender, receiver) = mpsc::channel();
    let lines = Arc::clone(&log);
    thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some((_, rest)) = line.split_once("listening on ") {
                let url: String = rest
                    .chars()
                    .take_while(|c| !c.is_whitespace() && *c != '"')
                    .collect();
                let _ = sender.send(url);
            }
            lines.lock().unwrap().push(line);
        }
    });

    let base_url = receiver
        .recv_timeout(Duration::from_secs(60))
        .expect("server logs its address within a minute");
    (base_url, log)
}

pub fn post(client: &Client, url: &str, body: &Value) -> (StatusCode, Value) {
    let response = client.post(url).json(body).send().unwrap();
    (response.status(), response.json().unwrap())
}

pub fn me(client: &Client, server: &Server, token: &str) -> (StatusCode, Value) {
    let response = client
        .get(server.url("/api/v1/auth/me"))
        .bearer_auth(token)
        .send()
        .unwrap();
    (response.status(), response.json().unwrap())
}
