//! End-to-end: build the real `platform-auth` binary, start it as a user
//! would, and talk HTTP to it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::thread;
use std::time::Duration;

use reqwest::blocking::Client;
use reqwest::StatusCode;
use serde_json::{json, Value};

const SECRET: &str = "e2e-secret-0123456789abcdef-0123456789";

/// Builds the binary once per test run and returns its path, as cargo
/// reports it.
fn binary() -> &'static Path {
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

/// A running server process, killed on drop.
struct Server {
    child: Child,
    base_url: String,
}

impl Server {
    /// Starts the binary in `workdir` with a database file there, on a
    /// port the kernel picks, and waits for its "listening on" line.
    fn start(workdir: &Path) -> Self {
        Self::start_with(workdir, &[], &[])
    }

    /// Starts the binary as [`Server::start`] does, with command-line
    /// arguments and extra environment variables.
    fn start_with(workdir: &Path, args: &[&str], variables: &[(&str, &str)]) -> Self {
        let mut child = command(workdir)
            .args(args)
            .envs(variables.iter().copied())
            .env("PLATFORM_PORT", "0")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("binary starts");

        let stderr = child.stderr.take().unwrap();
        let (sender, receiver) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some((_, rest)) = line.split_once("listening on ") {
                    let url = rest.split_whitespace().next().unwrap_or_default();
                    let _ = sender.send(url.to_string());
                }
            }
        });

        let base_url = receiver
            .recv_timeout(Duration::from_secs(60))
            .expect("server logs its address within a minute");
        Self { child, base_url }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }
}

/// Builds a command that runs the binary in `workdir` on the database file
/// there, with no environment but the settings it needs.
fn command(workdir: &Path) -> Command {
    let mut command = Command::new(binary());
    command
        .current_dir(workdir)
        .env_clear()
        .env("PLATFORM_JWT_SECRET", SECRET)
        .env("DATABASE_URL", workdir.join("auth.db"))
        .env("RUST_LOG", "info");
    command
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn post(client: &Client, url: &str, body: &Value) -> (StatusCode, Value) {
    let response = client.post(url).json(body).send().unwrap();
    (response.status(), response.json().unwrap())
}

fn me(client: &Client, server: &Server, token: &str) -> (StatusCode, Value) {
    let response = client
        .get(server.url("/api/v1/auth/me"))
        .bearer_auth(token)
        .send()
        .unwrap();
    (response.status(), response.json().unwrap())
}

#[test]
fn data_survives_restart() {
    let workdir = tempfile::tempdir().unwrap();
    let client = Client::new();
    let credentials = json!({ "email": "user@example.com", "password": "mypassword" });

    let server = Server::start(workdir.path());
    let (status, registered) = post(
        &client,
        &server.url("/api/v1/auth/register"),
        &json!({ "email": "user@example.com", "password": "mypassword", "name": "John Doe" }),
    );
    assert_eq!(status, StatusCode::CREATED);
    let (status, logged_in) = post(&client, &server.url("/api/v1/auth/login"), &credentials);
    assert_eq!(status, StatusCode::OK);
    let (status, user) = me(&client, &server, logged_in["token"].as_str().unwrap());
    assert_eq!(status, StatusCode::OK);
    assert_eq!(user, registered["user"]);
    drop(server);

    let restarted = Server::start(workdir.path());
    let (status, again) = post(&client, &restarted.url("/api/v1/auth/login"), &credentials);
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["user"], registered["user"]);
    let (status, user) = me(&client, &restarted, again["token"].as_str().unwrap());
    assert_eq!(status, StatusCode::OK);
    assert_eq!(user, registered["user"]);
}

#[test]
fn production_without_secret_refuses_to_start() {
    let workdir = tempfile::tempdir().unwrap();

    let output = Command::new(binary())
        .current_dir(workdir.path())
        .env_clear()
        .env("PLATFORM_ENV", "production")
        .env("PLATFORM_PORT", "0")
        .output()
        .expect("binary runs");

    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("platform-auth: invalid configuration: PLATFORM_JWT_SECRET is not set"),
        "{stderr}"
    );
    assert!(!workdir.path().join("data").exists(), "nothing was created");
}

#[test]
fn serve_command_starts_server() {
    let workdir = tempfile::tempdir().unwrap();

    let server = Server::start_with(workdir.path(), &["serve"], &[]);

    let response = Client::new().get(server.url("/health")).send().unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[test]
fn unlock_command_lifts_lock() {
    let workdir = tempfile::tempdir().unwrap();
    let client = Client::new();
    let server = Server::start_with(workdir.path(), &[], &[("PLATFORM_LOCKOUT_THRESHOLD", "2")]);
    let login_url = server.url("/api/v1/auth/login");
    let credentials = json!({ "email": "user@example.com", "password": "mypassword" });
    let wrong = json!({ "email": "user@example.com", "password": "wrong-password" });
    post(&client, &server.url("/api/v1/auth/register"), &credentials);
    for _ in 0..2 {
        assert_eq!(
            post(&client, &login_url, &wrong).0,
            StatusCode::UNAUTHORIZED
        );
    }
    let (status, body) = post(&client, &login_url, &credentials);
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["code"], "account_locked");

    let unlocked = command(workdir.path())
        .args(["unlock", "User@Example.com"])
        .output()
        .expect("binary runs");
    let again = command(workdir.path())
        .args(["unlock", "user@example.com"])
        .output()
        .expect("binary runs");

    assert_eq!(unlocked.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&unlocked.stdout),
        "Cleared the failed logins of User@Example.com; it can log in again.\n"
    );
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&again.stdout),
        "No failed logins are recorded for user@example.com; nothing to clear.\n"
    );
    assert_eq!(post(&client, &login_url, &credentials).0, StatusCode::OK);
}

#[test]
fn unlock_command_requires_email() {
    let workdir = tempfile::tempdir().unwrap();

    let output = command(workdir.path())
        .arg("unlock")
        .output()
        .expect("binary runs");

    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("<EMAIL>"), "{stderr}");
}
