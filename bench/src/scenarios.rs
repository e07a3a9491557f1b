//! The load scenarios, run against one backend: a fresh database, seed
//! accounts, the `/health` and lookup ceilings, then each scenario on a
//! freshly started server so that its peak RSS is its own.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use platform_auth_adapters::testing::{Backend, TestDatabase};
use platform_auth_client::PlatformClient;

use crate::ceilings;
use crate::server::{MemoryGuard, ServerConfig, ServerProcess};
use crate::wrk::{self, LoadResult, LoadSpec, Workload};

/// Connections of the `/me` scenarios and of the `/health` ceiling.
pub const ME_CONNECTIONS: u32 = 64;
/// Connections of the login and register scenarios: enough to keep every
/// CPU hashing, few enough that queueing does not dominate the latency.
pub const LOGIN_CONNECTIONS: u32 = 16;
pub const REGISTER_CONNECTIONS: u32 = 16;
/// Connections logging in while `/me` is measured.
pub const FLOOD_LOGIN_CONNECTIONS: u32 = 100;
/// Connections of the login burst.
pub const BURST_CONNECTIONS: u32 = 500;

const SEED_PASSWORD: &str = "bench-password-0123";
const ME_EMAIL: &str = "bench-me@example.com";
const LOGIN_EMAIL: &str = "bench-login@example.com";

/// The scenarios, in the order they run and are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScenarioKind {
    Me,
    Login,
    Register,
    MeDuringLogin,
    LoginBurst,
}

impl ScenarioKind {
    pub const ALL: [ScenarioKind; 5] = [
        Self::Me,
        Self::Login,
        Self::Register,
        Self::MeDuringLogin,
        Self::LoginBurst,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Self::Me => "GET /me",
            Self::Login => "POST /login",
            Self::Register => "POST /register",
            Self::MeDuringLogin => "GET /me during 100-connection login flood",
            Self::LoginBurst => "POST /login, 500-connection burst",
        }
    }

    /// Returns a label short enough for the plot's axis.
    pub fn short_label(self) -> &'static str {
        match self {
            Self::Me => "me",
            Self::Login => "login",
            Self::Register => "register",
            Self::MeDuringLogin => "me+flood",
            Self::LoginBurst => "burst",
        }
    }

    pub fn connections(self) -> u32 {
        match self {
            Self::Me | Self::MeDuringLogin => ME_CONNECTIONS,
            Self::Login => LOGIN_CONNECTIONS,
            Self::Register => REGISTER_CONNECTIONS,
            Self::LoginBurst => BURST_CONNECTIONS,
        }
    }
}

/// How long each load runs.
#[derive(Debug, Clone, Copy)]
pub struct Durations {
    pub scenario: Duration,
    pub burst: Duration,
}

impl Durations {
    /// Picks the durations for a short or a full run. The burst must last
    /// long enough for its first wave of logins to get responses: 500 hashes
    /// share the CPUs, so the first responses arrive after about
    /// 500 × one hash's time ÷ CPUs.
    pub fn new(short: bool, override_seconds: Option<u64>, hash: Duration, cpus: usize) -> Self {
        let scenario = Duration::from_secs(override_seconds.unwrap_or(if short { 3 } else { 20 }));
        let wave = hash.mul_f64(f64::from(BURST_CONNECTIONS) / cpus.max(1) as f64);
        let burst = if short {
            scenario.max(wave.mul_f64(1.5) + Duration::from_secs(2))
        } else {
            scenario.max(Duration::from_secs(30)).max(wave * 3)
        };
        Self {
            scenario,
            burst: Duration::from_secs(burst.as_secs_f64().ceil() as u64),
        }
    }
}

/// One scenario's figures.
#[derive(Debug, Clone)]
pub struct ScenarioResult {
    pub kind: ScenarioKind,
    /// The measured load: the `/me` side for [`ScenarioKind::MeDuringLogin`].
    pub load: LoadResult,
    /// The login side of [`ScenarioKind::MeDuringLogin`].
    pub flood: Option<LoadResult>,
    pub peak_rss_kib: u64,
    /// Whether the memory guard killed the server, at `peak_rss_kib`.
    pub killed_for_memory: bool,
}

impl ScenarioResult {
    pub fn errors(&self) -> u64 {
        self.load.errors() + self.flood.map_or(0, |flood| flood.errors())
    }
}

/// The database ceiling of one backend.
#[derive(Debug, Clone)]
pub struct LookupCeiling {
    pub per_second: f64,
    pub method: &'static str,
}

/// Everything measured on one backend.
#[derive(Debug, Clone)]
pub struct BackendRun {
    pub backend: Backend,
    pub health: LoadResult,
    pub lookup: LookupCeiling,
    /// The same lookup through the adapters' pool and diesel, measured on
    /// PostgreSQL beside pgbench's figure to show what that layer costs.
    pub adapters_lookup: Option<f64>,
    pub scenarios: Vec<ScenarioResult>,
}

impl BackendRun {
    pub fn scenario(&self, kind: ScenarioKind) -> Option<&ScenarioResult> {
        self.scenarios.iter().find(|result| result.kind == kind)
    }

    /// Returns the lower of the `/me` ceilings: `/health` and the lookup
    /// rate.
    pub fn me_ceiling(&self) -> f64 {
        self.health
            .requests_per_second()
            .min(self.lookup.per_second)
    }
}

/// Settings that every backend run shares.
pub struct RunPlan {
    pub server_binary: PathBuf,
    pub extra_env: Vec<(String, String)>,
    pub durations: Durations,
    /// Unique to this run, so register emails never repeat across runs.
    pub nonce: String,
    /// Folder for the servers' working folders and logs, one per backend.
    pub logs_dir: PathBuf,
    pub scenarios: Vec<ScenarioKind>,
    /// Resident memory, in KiB, past which a server is killed.
    pub max_server_rss_kib: u64,
}

pub fn backend_name(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => "PostgreSQL",
        Backend::Sqlite => "SQLite",
    }
}

fn backend_slug(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => "postgres",
        Backend::Sqlite => "sqlite",
    }
}

/// The seed accounts: one whose token `/me` sends, one that logs in.
struct Seed {
    me_token: String,
    me_user_id: String,
}

/// Runs the ceilings and every scenario on a fresh database of `backend`,
/// which is dropped afterwards.
pub fn run_backend(backend: Backend, plan: &RunPlan) -> anyhow::Result<BackendRun> {
    let name = backend_name(backend);
    let database = TestDatabase::create(backend);
    let workdir = plan.logs_dir.join(backend_slug(backend));
    std::fs::create_dir_all(&workdir)
        .with_context(|| format!("failed to create {}", workdir.display()))?;
    let config = ServerConfig {
        binary: plan.server_binary.clone(),
        database_url: database.url().to_string(),
        jwt_secret: random_secret(),
        workdir,
        extra_env: plan.extra_env.clone(),
    };
    let duration = plan.durations.scenario;

    eprintln!("[{name}] seeding accounts");
    let server = ServerProcess::start(&config, "seed")?;
    let seed = seed_accounts(server.base_url())?;

    eprintln!("[{name}] ceiling: GET /health, {ME_CONNECTIONS} connections");
    let health = wrk::run(&LoadSpec {
        base_url: server.base_url().to_string(),
        workload: Workload::Get {
            path: "/health",
            headers: Vec::new(),
        },
        connections: ME_CONNECTIONS,
        duration,
    })?;
    server.stop()?;

    eprintln!("[{name}] ceiling: primary-key lookups");
    let (lookup, adapters_lookup) = match backend {
        Backend::Postgres => {
            let pgbench = ceilings::pgbench_lookup(database.url(), &seed.me_user_id, duration)?;
            let adapters = ceilings::adapters_lookup(database.url(), &seed.me_user_id, duration)?;
            let ceiling = LookupCeiling {
                per_second: pgbench,
                method: "pgbench, prepared statement, 64 clients",
            };
            (ceiling, Some(adapters))
        }
        Backend::Sqlite => {
            let adapters = ceilings::adapters_lookup(database.url(), &seed.me_user_id, duration)?;
            let ceiling = LookupCeiling {
                per_second: adapters,
                method: "adapters' pool and diesel, 64 threads",
            };
            (ceiling, None)
        }
    };

    let mut scenarios = Vec::new();
    for &kind in &plan.scenarios {
        eprintln!(
            "[{name}] scenario: {}, {} connections",
            kind.title(),
            kind.connections()
        );
        scenarios.push(run_scenario(kind, &config, &seed, plan)?);
    }

    Ok(BackendRun {
        backend,
        health,
        lookup,
        adapters_lookup,
        scenarios,
    })
}

fn run_scenario(
    kind: ScenarioKind,
    config: &ServerConfig,
    seed: &Seed,
    plan: &RunPlan,
) -> anyhow::Result<ScenarioResult> {
    let mut server = ServerProcess::start(config, kind.short_label())?;
    let guard = MemoryGuard::start(&server, plan.max_server_rss_kib);
    let base_url = server.base_url().to_string();
    let duration = plan.durations.scenario;
    let me = |connections| LoadSpec {
        base_url: base_url.clone(),
        workload: Workload::Get {
            path: "/api/v1/auth/me",
            headers: vec![format!("Authorization: Bearer {}", seed.me_token)],
        },
        connections,
        duration,
    };
    let login = |connections, duration| LoadSpec {
        base_url: base_url.clone(),
        workload: Workload::Login {
            email: LOGIN_EMAIL.to_string(),
            password: SEED_PASSWORD.to_string(),
        },
        connections,
        duration,
    };

    let (load, flood) = match kind {
        ScenarioKind::Me => (wrk::run(&me(ME_CONNECTIONS))?, None),
        ScenarioKind::Login => (wrk::run(&login(LOGIN_CONNECTIONS, duration))?, None),
        ScenarioKind::Register => {
            let spec = LoadSpec {
                base_url: base_url.clone(),
                workload: Workload::Register {
                    prefix: format!("bench-{}", plan.nonce),
                    password: SEED_PASSWORD.to_string(),
                },
                connections: REGISTER_CONNECTIONS,
                duration,
            };
            (wrk::run(&spec)?, None)
        }
        ScenarioKind::MeDuringLogin => {
            let flood = wrk::start(&login(FLOOD_LOGIN_CONNECTIONS, duration))?;
            let me_result = wrk::run(&me(ME_CONNECTIONS));
            let flood_result = flood.wait()?;
            (me_result?, Some(flood_result))
        }
        ScenarioKind::LoginBurst => (
            wrk::run(&login(BURST_CONNECTIONS, plan.durations.burst))?,
            None,
        ),
    };

    if let Some(killed_at_kib) = guard.finish() {
        drop(server);
        return Ok(ScenarioResult {
            kind,
            load,
            flood,
            peak_rss_kib: killed_at_kib,
            killed_for_memory: true,
        });
    }
    let peak_rss_kib = server.peak_rss_kib()?;
    server.stop()?;
    Ok(ScenarioResult {
        kind,
        load,
        flood,
        peak_rss_kib,
        killed_for_memory: false,
    })
}

/// Registers the seed accounts through the API, as a client would.
fn seed_accounts(base_url: &str) -> anyhow::Result<Seed> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("failed to start an async runtime for the seed requests")?;
    runtime.block_on(async {
        let client = PlatformClient::new(base_url)?;
        let me = client
            .register(ME_EMAIL, SEED_PASSWORD, Some("Bench Me"))
            .await
            .context("failed to register the /me account")?;
        client
            .new_session()
            .register(LOGIN_EMAIL, SEED_PASSWORD, Some("Bench Login"))
            .await
            .context("failed to register the login account")?;
        anyhow::Ok(Seed {
            me_token: me.token,
            me_user_id: me.user.id,
        })
    })
}

/// Generates a 256-bit random hex secret, as strong as production requires.
fn random_secret() -> String {
    use rand::RngCore;

    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_burst_outlasts_first_wave() {
        let durations = Durations::new(true, None, Duration::from_millis(30), 2);

        // 500 hashes of 30 ms on 2 CPUs take 7.5 s.
        assert_eq!(durations.scenario, Duration::from_secs(3));
        assert!(durations.burst >= Duration::from_secs(12));
    }

    #[test]
    fn full_run_uses_longer_loads() {
        let durations = Durations::new(false, None, Duration::from_millis(30), 2);

        assert_eq!(durations.scenario, Duration::from_secs(20));
        assert!(durations.burst >= Duration::from_secs(30));
    }

    #[test]
    fn duration_override_applies_to_scenarios() {
        let durations = Durations::new(true, Some(7), Duration::from_millis(1), 2);

        assert_eq!(durations.scenario, Duration::from_secs(7));
        assert_eq!(durations.burst, Duration::from_secs(7));
    }
}
