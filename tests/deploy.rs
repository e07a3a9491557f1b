//! The shipped deployment files, exercised: nginx with
//! `deploy/nginx/platform-auth.conf` in front of the real binary, and the
//! systemd unit `deploy/systemd/platform-auth.service` checked by
//! `systemd-analyze` and run the way systemd would run it.

mod support;

use std::fs;
use std::net::{IpAddr, Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{binary, read_listening_url, Server, SECRET};

fn deploy_file(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../deploy")
        .join(relative);
    fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// Replaces `from` with `to`, failing if the shipped file no longer has
/// `from`, so the test and the file cannot drift apart.
fn replace_exact(text: &str, from: &str, to: &str) -> String {
    assert!(
        text.contains(from),
        "the shipped file no longer contains {from:?}"
    );
    text.replace(from, to)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on port {port}");
        thread::sleep(Duration::from_millis(50));
    }
}

/// nginx running the shipped site on loopback ports, stopped on drop.
struct Nginx {
    child: Child,
    https_port: u16,
    http_port: u16,
    _dir: tempfile::TempDir,
}

impl Nginx {
    /// Starts nginx with the shipped site, pointed at `upstream`, with a
    /// fresh self-signed certificate.
    fn start(upstream: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let (https_port, http_port) = (free_port(), free_port());
        let certificate = root.join("cert.pem");
        let key = root.join("key.pem");
        let status = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            ])
            .args(["-subj", "/CN=localhost"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&certificate)
            .stderr(Stdio::null())
            .status()
            .expect("openssl runs");
        assert!(status.success(), "openssl made no certificate");

        let site = deploy_file("nginx/platform-auth.conf");
        let site = replace_exact(
            &site,
            "server 127.0.0.1:8000;",
            &format!("server {upstream};"),
        );
        let site = replace_exact(
            &site,
            "listen 443 ssl;",
            &format!("listen 127.0.0.1:{https_port} ssl;"),
        );
        let site = replace_exact(&site, "listen [::]:443 ssl;", "");
        let site = replace_exact(
            &site,
            "listen 80;",
            &format!("listen 127.0.0.1:{http_port};"),
        );
        let site = replace_exact(&site, "listen [::]:80;", "");
        let site = replace_exact(
            &site,
            "/etc/ssl/certs/auth.example.com.pem",
            &certificate.to_string_lossy(),
        );
        let site = replace_exact(
            &site,
            "/etc/ssl/private/auth.example.com.key",
            &key.to_string_lossy(),
        );
        fs::write(root.join("site.conf"), site).unwrap();

        let main = format!(
            "worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log {root}/access.log;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    include {root}/site.conf;
}}
",
            root = root.display()
        );
        fs::write(root.join("nginx.conf"), main).unwrap();

        let child = Command::new(nginx_binary())
            .arg("-p")
            .arg(root)
            .arg("-c")
            .arg(root.join("nginx.conf"))
            .args(["-g", "daemon off;"])
            .stderr(Stdio::inherit())
            .spawn()
            .expect("nginx starts");
        wait_for_port(https_port);
        Self {
            child,
            https_port,
            http_port,
            _dir: dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{}", self.https_port, path)
    }
}

impl Drop for Nginx {
    /// Stops nginx with SIGTERM, which also stops its workers; SIGKILL
    /// would leave them running.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn nginx_binary() -> PathBuf {
    ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .iter()
        .map(PathBuf::from)
        .find(|path| path.exists())
        .expect("nginx is installed; scripts/ensure-deploy-tools.sh installs it")
}

/// Builds a client that trusts the test's self-signed certificate and
/// connects from `source`, a loopback address of its own.
fn client_from(source: Ipv4Addr) -> Client {
    Client::builder()
        .danger_accept_invalid_certs(true)
        .local_address(IpAddr::V4(source))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn upstream(server: &Server) -> String {
    server.base_url.trim_start_matches("http://").to_string()
}

#[test]
fn requests_pass_through_nginx() {
    let workdir = tempfile::tempdir().unwrap();
    let server = Server::start_with(
        workdir.path(),
        &[],
        &[("PLATFORM_TRUSTED_PROXIES", "127.0.0.1/32")],
    );
    let nginx = Nginx::start(&upstream(&server));
    let client = client_from(Ipv4Addr::LOCALHOST);
    let credentials = json!({ "email": "user@example.com", "password": "mypassword" });

    let registered = client
        .post(nginx.url("/api/v1/auth/register"))
        .json(&credentials)
        .send()
        .unwrap();
    assert_eq!(registered.status(), StatusCode::CREATED);
    let login = client
        .post(nginx.url("/api/v1/auth/login"))
        .json(&credentials)
        .send()
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let body: Value = login.json().unwrap();
    let me = client
        .get(nginx.url("/api/v1/auth/me"))
        .bearer_auth(body["token"].as_str().unwrap())
        .send()
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    assert_eq!(me.json::<Value>().unwrap()["email"], "user@example.com");

    let plain = client
        .get(format!("http://127.0.0.1:{}/health", nginx.http_port))
        .send()
        .unwrap();
    assert_eq!(plain.status(), StatusCode::MOVED_PERMANENTLY);
    let location = plain.headers()["location"].to_str().unwrap();
    assert!(location.starts_with("https://"), "{location}");
}

#[test]
fn request_id_survives_the_hop() {
    let workdir = tempfile::tempdir().unwrap();
    let server = Server::start(workdir.path());
    let nginx = Nginx::start(&upstream(&server));
    let client = client_from(Ipv4Addr::LOCALHOST);

    let given = client
        .get(nginx.url("/health"))
        .header("X-Request-Id", "e2e-hop-42")
        .send()
        .unwrap();
    let generated = client.get(nginx.url("/ready")).send().unwrap();
    thread::sleep(Duration::from_millis(200));

    assert_eq!(given.headers()["x-request-id"], "e2e-hop-42");
    let made_by_nginx = generated.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(
        made_by_nginx.len(),
        32,
        "nginx's $request_id is 32 hex digits"
    );
    let log = server.log_lines().join("\n");
    assert!(
        log.contains("e2e-hop-42"),
        "the server logs the client's id"
    );
    assert!(log.contains(&made_by_nginx), "the server logs nginx's id");
}

/// Logs in through nginx from two client addresses with a per-client
/// limit of two, and returns the status of the second client's first
/// login: counted apart only if the server trusts nginx's forwarded
/// address.
fn second_client_status(trusted_proxies: &str) -> StatusCode {
    let workdir = tempfile::tempdir().unwrap();
    let server = Server::start_with(
        workdir.path(),
        &[],
        &[
            ("PLATFORM_TRUSTED_PROXIES", trusted_proxies),
            ("PLATFORM_LOGIN_LIMIT_PER_CLIENT", "2"),
        ],
    );
    let nginx = Nginx::start(&upstream(&server));
    let wrong = json!({ "email": "user@example.com", "password": "wrong-password" });
    let first = client_from(Ipv4Addr::new(127, 0, 0, 5));
    let second = client_from(Ipv4Addr::new(127, 0, 0, 6));

    for expected in [
        StatusCode::UNAUTHORIZED,
        StatusCode::UNAUTHORIZED,
        StatusCode::TOO_MANY_REQUESTS,
    ] {
        let response = first
            .post(nginx.url("/api/v1/auth/login"))
            .json(&wrong)
            .send()
            .unwrap();
        assert_eq!(response.status(), expected);
    }
    second
        .post(nginx.url("/api/v1/auth/login"))
        .json(&wrong)
        .send()
        .unwrap()
        .status()
}

#[test]
fn forwarded_address_needs_trusted_proxy() {
    let trusted = second_client_status("127.0.0.1/32");
    let untrusted = second_client_status("");

    assert_eq!(
        trusted,
        StatusCode::UNAUTHORIZED,
        "each client has its own limit"
    );
    assert_eq!(
        untrusted,
        StatusCode::TOO_MANY_REQUESTS,
        "without trust both clients are nginx's one address"
    );
}

/// Renders the shipped unit for this machine: the built binary and a
/// temporary environment file and working folder.
fn rendered_unit(root: &Path, environment_file: &Path) -> String {
    let unit = deploy_file("systemd/platform-auth.service");
    let unit = replace_exact(
        &unit,
        "/usr/local/bin/platform-auth",
        &binary().to_string_lossy(),
    );
    let unit = replace_exact(
        &unit,
        "EnvironmentFile=/etc/platform-auth/env",
        &format!("EnvironmentFile={}", environment_file.display()),
    );
    replace_exact(
        &unit,
        "WorkingDirectory=/var/lib/platform-auth",
        &format!("WorkingDirectory={}", root.display()),
    )
}

/// Returns the value of the first `key=` line of a unit.
fn unit_value<'a>(unit: &'a str, key: &str) -> &'a str {
    unit.lines()
        .find_map(|line| line.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("the unit has no {key}="))
}

#[test]
fn systemd_unit_is_valid_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let environment_file = root.join("env");
    fs::write(
        &environment_file,
        format!(
            "PLATFORM_ENV=production\nPLATFORM_JWT_SECRET={SECRET}\nDATABASE_URL={}\nPLATFORM_PORT=0\n",
            root.join("auth.db").display()
        ),
    )
    .unwrap();
    let unit = rendered_unit(root, &environment_file);
    let unit_path = root.join("platform-auth.service");
    fs::write(&unit_path, &unit).unwrap();

    let verify = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&unit_path)
        .output()
        .expect("systemd-analyze runs; scripts/ensure-deploy-tools.sh installs it");
    assert!(
        verify.status.success(),
        "systemd-analyze rejects the unit: {}",
        String::from_utf8_lossy(&verify.stderr)
    );

    // Run ExecStartPre and ExecStart as systemd would: in the working
    // folder, with only the environment file's variables.
    let variables: Vec<(String, String)> = fs::read_to_string(&environment_file)
        .unwrap()
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect();
    let run = |line: &str| {
        let mut words = line.split_whitespace();
        let mut command = Command::new(words.next().unwrap());
        command
            .args(words)
            .current_dir(root)
            .env_clear()
            .envs(variables.iter().map(|(key, value)| (key, value)));
        command
    };

    let migrate = run(unit_value(&unit, "ExecStartPre")).output().unwrap();
    assert!(
        migrate.status.success(),
        "{}",
        String::from_utf8_lossy(&migrate.stderr)
    );

    let mut serve = run(unit_value(&unit, "ExecStart"))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (base_url, _log) = read_listening_url(serve.stderr.take().unwrap());
    let health = Client::new()
        .get(format!("{base_url}/health"))
        .send()
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);

    assert_eq!(unit_value(&unit, "KillSignal"), "SIGTERM");
    let stop_timeout: u64 = unit_value(&unit, "TimeoutStopSec").parse().unwrap();
    let status = Command::new("kill")
        .args(["-TERM", &serve.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(stop_timeout);
    let exit = loop {
        if let Some(exit) = serve.try_wait().unwrap() {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "the service outlived TimeoutStopSec"
        );
        thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(exit.code(), Some(0));
}
