//! The operator commands of the real binary: configuration, migrations,
//! user administration and the audit trail.

mod support;

use std::path::Path;
use std::process::Output;

use reqwest::blocking::Client;
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{command, me, post, Server, SECRET};

/// Runs the binary with `args` in `workdir` and returns its output.
fn run(workdir: &Path, args: &[&str]) -> Output {
    command(workdir)
        .env_remove("RUST_LOG")
        .args(args)
        .output()
        .expect("binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn json_output(output: &Output) -> Value {
    assert_eq!(output.status.code(), Some(0), "{}", stderr(output));
    serde_json::from_slice(&output.stdout).expect("stdout is JSON")
}

#[test]
fn gen_secret_prints_256_bits_of_hex() {
    let workdir = tempfile::tempdir().unwrap();

    let first = run(workdir.path(), &["gen-secret"]);
    let second = run(workdir.path(), &["gen-secret"]);

    assert_eq!(first.status.code(), Some(0));
    let secret = stdout(&first);
    assert_eq!(secret.trim_end().len(), 64);
    assert!(secret
        .trim_end()
        .bytes()
        .all(|byte| byte.is_ascii_hexdigit()));
    assert_ne!(secret, stdout(&second));
}

#[test]
fn check_config_redacts_secrets() {
    let workdir = tempfile::tempdir().unwrap();

    let text = run(workdir.path(), &["check-config"]);
    let json = json_output(&run(workdir.path(), &["check-config", "--json"]));

    assert_eq!(text.status.code(), Some(0));
    let text = stdout(&text);
    assert!(!text.contains(SECRET), "{text}");
    assert!(
        text.contains("jwt_secret = \"[REDACTED, 38 bytes]\""),
        "{text}"
    );
    assert!(text.contains("jwt_ttl = 2592000"), "{text}");
    assert_eq!(json["jwt_secret"], "[REDACTED, 38 bytes]");
    assert_eq!(json["env"], "dev");
    assert_eq!(json["lockout_threshold"], 5);
}

#[test]
fn check_config_fails_on_a_problem() {
    let workdir = tempfile::tempdir().unwrap();

    let output = command(workdir.path())
        .env("PLATFORM_JWT_TTL", "soon")
        .arg("check-config")
        .output()
        .unwrap();

    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "platform-auth: invalid configuration: PLATFORM_JWT_TTL is \"soon\"; set it to a whole number of seconds from 1 to 31536000\n"
    );
}

#[test]
fn migrate_applies_pending_migrations_once() {
    let workdir = tempfile::tempdir().unwrap();

    let first = run(workdir.path(), &["migrate"]);
    let second = run(workdir.path(), &["migrate"]);

    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert!(
        stdout(&first).starts_with("Applied 4 migration(s)"),
        "{}",
        stdout(&first)
    );
    assert_eq!(
        stdout(&second),
        "Applied 0 migration(s); the database schema is up to date.\n"
    );
}

/// Registers a user over HTTP and returns the response body.
fn register(client: &Client, server: &Server, email: &str) -> Value {
    let (status, body) = post(
        client,
        &server.url("/api/v1/auth/register"),
        &json!({ "email": email, "password": "mypassword" }),
    );
    assert_eq!(status, StatusCode::CREATED);
    body
}

fn login_status(client: &Client, server: &Server, email: &str) -> StatusCode {
    post(
        client,
        &server.url("/api/v1/auth/login"),
        &json!({ "email": email, "password": "mypassword" }),
    )
    .0
}

#[test]
fn users_can_be_listed_disabled_and_deleted() {
    let workdir = tempfile::tempdir().unwrap();
    let dir = workdir.path();
    let client = Client::new();
    let server = Server::start(dir);
    let alice = register(&client, &server, "alice@example.com");
    register(&client, &server, "bob@example.com");
    let alice_id = alice["user"]["id"].as_str().unwrap();

    let listed = json_output(&run(dir, &["users", "list", "--json"]));
    let shown = json_output(&run(dir, &["users", "show", "ALICE@example.com", "--json"]));
    let disabled = run(dir, &["users", "disable", alice_id]);

    let emails: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|user| user["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["alice@example.com", "bob@example.com"]);
    assert_eq!(shown["id"], alice_id);
    assert_eq!(shown["live_sessions"], 1);
    assert_eq!(shown["disabled_at"], Value::Null);
    assert_eq!(disabled.status.code(), Some(0), "{}", stderr(&disabled));
    assert_eq!(
        stdout(&disabled),
        format!("Disabled {alice_id} (alice@example.com); their sessions have ended.\n")
    );
    assert_eq!(
        login_status(&client, &server, "alice@example.com"),
        StatusCode::FORBIDDEN
    );
    let (status, _) = me(&client, &server, alice["token"].as_str().unwrap());
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let enabled = json_output(&run(
        dir,
        &["users", "enable", "alice@example.com", "--json"],
    ));
    assert_eq!(enabled["disabled_at"], Value::Null);
    assert_eq!(
        login_status(&client, &server, "alice@example.com"),
        StatusCode::OK
    );

    let unconfirmed = run(dir, &["users", "delete", "bob@example.com"]);
    assert_eq!(unconfirmed.status.code(), Some(1));
    assert_eq!(
        stderr(&unconfirmed),
        "platform-auth: deleting bob@example.com cannot be undone; run again with --yes to delete the user\n"
    );
    let deleted = run(dir, &["users", "delete", "bob@example.com", "--yes"]);
    assert_eq!(deleted.status.code(), Some(0), "{}", stderr(&deleted));
    assert_eq!(
        login_status(&client, &server, "bob@example.com"),
        StatusCode::UNAUTHORIZED
    );
    let remaining = json_output(&run(dir, &["users", "list", "--json"]));
    assert_eq!(remaining.as_array().unwrap().len(), 1);
}

#[test]
fn unknown_user_is_reported() {
    let workdir = tempfile::tempdir().unwrap();

    let output = run(workdir.path(), &["users", "show", "nobody@example.com"]);

    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        "platform-auth: no user matches \"nobody@example.com\"; give a user id or an email address\n"
    );
}

#[test]
fn audit_lists_security_events() {
    let workdir = tempfile::tempdir().unwrap();
    let dir = workdir.path();
    let client = Client::new();
    let server = Server::start(dir);
    let alice = register(&client, &server, "alice@example.com");
    register(&client, &server, "bob@example.com");
    post(
        &client,
        &server.url("/api/v1/auth/login"),
        &json!({ "email": "alice@example.com", "password": "wrong-password" }),
    );
    run(dir, &["users", "disable", "alice@example.com"]);

    let all = json_output(&run(dir, &["audit", "--json"]));
    let alices = json_output(&run(
        dir,
        &["audit", "--user", "alice@example.com", "--json"],
    ));
    let text = run(dir, &["audit", "--limit", "1"]);

    let events: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        ["user_disabled", "login_failed", "registered", "registered"]
    );
    let alice_id = alice["user"]["id"].as_str().unwrap();
    assert_eq!(alices.as_array().unwrap().len(), 3);
    assert!(alices
        .as_array()
        .unwrap()
        .iter()
        .all(|event| event["user_id"] == alice_id));
    assert_eq!(alices[1]["ip"], "127.0.0.1");
    let text = stdout(&text);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.contains("user_disabled"), "{text}");
    assert!(
        !text.contains("alice@example.com"),
        "no email in the audit trail"
    );
}
