//! End-to-end: build the real `platform-auth` binary, start it as a user
//! would, and talk HTTP to it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
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
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts the binary in `workdir` with a database file there, on a
    /// port the kernel picks, and waits for its "listening on" line.
    fn start(workdir: &Path) -> Self {
        Self::start_with(workdir, &[])
    }

    /// Starts the binary with extra environment variables. Every line it
    /// logs is kept in `log`.
    fn start_with(workdir: &Path, extra: &[(&str, &str)]) -> Self {
        let mut command = Command::new(binary());
        command
            .current_dir(workdir)
            .env_clear()
            .env("PLATFORM_PORT", "0")
            .env("PLATFORM_JWT_SECRET", SECRET)
            .env("DATABASE_URL", workdir.join("auth.db"))
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (key, value) in extra {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("binary starts");

        let stderr = child.stderr.take().unwrap();
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
        Self {
            child,
            base_url,
            log,
        }
    }

    /// Returns the lines logged so far.
    fn log_lines(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Sends SIGTERM, as a service manager does to stop the server.
    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }
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

/// Runs a full register, login, me, bad login, refresh and logout
/// sequence with production (JSON) logging and checks that the logs name
/// each request but contain no secret or personal data.
#[test]
fn logs_carry_no_secrets() {
    let workdir = tempfile::tempdir().unwrap();
    let client = Client::new();
    let email = "log.secret.check@example.com";
    let password = "correct horse battery staple";
    let server = Server::start_with(workdir.path(), &[("PLATFORM_ENV", "production")]);

    let (_, registered) = post(
        &client,
        &server.url("/api/v1/auth/register"),
        &json!({ "email": email, "password": password }),
    );
    let (_, logged_in) = post(
        &client,
        &server.url("/api/v1/auth/login"),
        &json!({ "email": email, "password": password }),
    );
    let (status, _) = me(&client, &server, logged_in["token"].as_str().unwrap());
    assert_eq!(status, StatusCode::OK);
    let (status, _) = post(
        &client,
        &server.url("/api/v1/auth/login"),
        &json!({ "email": email, "password": "a wrong password guess" }),
    );
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, refreshed) = post(
        &client,
        &server.url("/api/v1/auth/refresh"),
        &json!({ "refresh_token": logged_in["refresh_token"] }),
    );
    let logout = client
        .post(server.url("/api/v1/auth/logout"))
        .bearer_auth(refreshed["token"].as_str().unwrap())
        .send()
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    thread::sleep(Duration::from_millis(200));

    let lines = server.log_lines();
    let forbidden = [
        email.to_string(),
        password.to_string(),
        "a wrong password guess".to_string(),
        "$argon2".to_string(),
        registered["token"].as_str().unwrap().to_string(),
        registered["refresh_token"].as_str().unwrap().to_string(),
        logged_in["token"].as_str().unwrap().to_string(),
        logged_in["refresh_token"].as_str().unwrap().to_string(),
        refreshed["token"].as_str().unwrap().to_string(),
        refreshed["refresh_token"].as_str().unwrap().to_string(),
        SECRET.to_string(),
    ];
    for line in &lines {
        for secret in &forbidden {
            assert!(
                !line.contains(secret.as_str()),
                "a log line leaks {secret:?}: {line}"
            );
        }
    }

    let requests: Vec<Value> = lines
        .iter()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|entry| entry["message"] == "request completed")
        .collect();
    assert_eq!(requests.len(), 6, "one line per request: {lines:#?}");
    let user_id = registered["user"]["id"].as_str().unwrap();
    let me_line = requests
        .iter()
        .find(|entry| entry["span"]["http.route"] == "/api/v1/auth/me")
        .expect("the /me request is logged");
    assert_eq!(me_line["span"]["user.id"], user_id);
    assert_eq!(me_line["http.status"], 200);
    assert!(me_line["span"]["request.id"].is_string());
}

/// SIGTERM in the middle of a slow login lets the login finish, then the
/// process exits 0.
#[test]
fn sigterm_lets_inflight_login_finish() {
    let workdir = tempfile::tempdir().unwrap();
    // Enough argon2 passes that one login takes around a second.
    let mut server = Server::start_with(workdir.path(), &[("PLATFORM_ARGON2_ITERATIONS", "60")]);
    let client = Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let credentials = json!({ "email": "slow@example.com", "password": "mypassword" });
    let (status, _) = post(&client, &server.url("/api/v1/auth/register"), &credentials);
    assert_eq!(status, StatusCode::CREATED);

    let login_url = server.url("/api/v1/auth/login");
    let login = thread::spawn(move || post(&client, &login_url, &credentials));
    thread::sleep(Duration::from_millis(300));
    server.terminate();
    let (status, body) = login.join().unwrap();

    assert_eq!(status, StatusCode::OK, "{body}");
    let exit = server.child.wait().unwrap();
    assert_eq!(exit.code(), Some(0));
}
