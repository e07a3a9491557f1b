//! End-to-end: build the real `platform-auth` binary, start it as a user
//! would, and talk HTTP to it.

mod support;

use std::process::Command;
use std::thread;
use std::time::Duration;

use reqwest::blocking::Client;
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{binary, command, me, post, Server, SECRET};

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
    let server = Server::start_with(workdir.path(), &[], &[("PLATFORM_ENV", "production")]);

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
    let mut server =
        Server::start_with(workdir.path(), &[], &[("PLATFORM_ARGON2_ITERATIONS", "60")]);
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
