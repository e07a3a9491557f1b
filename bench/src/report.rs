//! The Markdown report: the machine, the ceilings, each scenario beside its
//! ceiling, the targets and the criterion micro-benchmarks.

use std::fmt::Write as _;
use std::time::Duration;

use chrono::{DateTime, Utc};
use platform_auth_adapters::Argon2Settings;

use crate::criterion::MicroBenchmark;
use crate::machine::MachineInfo;
use crate::scenarios::{backend_name, BackendRun, Durations, ScenarioKind, ScenarioResult};

/// Memory a server may use beyond its concurrent argon2 buffers in the
/// login burst: the runtime, the pool, buffers of 500 connections.
const RSS_ALLOWANCE_KIB: u64 = 64 * 1024;

/// Everything one run measured.
pub struct Report {
    pub started_at: DateTime<Utc>,
    pub short: bool,
    pub machine: MachineInfo,
    pub argon2: Argon2Settings,
    pub hash_time: Duration,
    /// The number of argon2 computations the server is expected to run at
    /// once, for the memory target.
    pub hash_concurrency: usize,
    pub durations: Durations,
    pub extra_env: Vec<(String, String)>,
    pub backends: Vec<BackendRun>,
    pub micro_benchmarks: Vec<MicroBenchmark>,
    /// The plot's file name, beside the report.
    pub plot_file: Option<String>,
    pub note: Option<String>,
    /// The memory guard's limit, in KiB.
    pub max_server_rss_kib: u64,
}

/// One target, evaluated.
pub struct TargetCheck {
    pub backend: &'static str,
    pub target: String,
    pub measured: String,
    pub met: bool,
}

impl Report {
    /// Hashes per second if every CPU did nothing but hash.
    pub fn hash_ceiling(&self) -> f64 {
        self.machine.cpus as f64 / self.hash_time.as_secs_f64()
    }

    /// Returns the memory bound of the login burst, in KiB.
    pub fn burst_rss_bound_kib(&self) -> u64 {
        u64::from(self.argon2.memory_kib) * self.hash_concurrency as u64 + RSS_ALLOWANCE_KIB
    }

    /// Lists the scenarios and ceilings that failed the harness's own
    /// checks: any error, or no response at all. Timing never fails a run.
    pub fn failures(&self) -> Vec<String> {
        let mut failures = Vec::new();
        for run in &self.backends {
            let name = backend_name(run.backend);
            if run.health.errors() > 0 || run.health.requests == 0 {
                failures.push(format!(
                    "{name} GET /health ceiling: {} requests, {} errors",
                    run.health.requests,
                    run.health.errors()
                ));
            }
            for result in &run.scenarios {
                let answered =
                    result.load.requests > 0 && result.flood.is_none_or(|flood| flood.requests > 0);
                if result.killed_for_memory {
                    failures.push(format!(
                        "{name} {}: the server passed {} resident and was killed",
                        result.kind.title(),
                        mebibytes(result.peak_rss_kib)
                    ));
                } else if result.errors() > 0 || !answered {
                    failures.push(format!(
                        "{name} {}: {} requests, {} errors",
                        result.kind.title(),
                        result.load.requests + result.flood.map_or(0, |flood| flood.requests),
                        result.errors()
                    ));
                }
            }
        }
        failures
    }

    /// Evaluates the performance targets of each backend.
    pub fn targets(&self) -> Vec<TargetCheck> {
        let mut checks = Vec::new();
        for run in &self.backends {
            let backend = backend_name(run.backend);
            let mut check = |target: String, measured: String, met: bool| {
                checks.push(TargetCheck {
                    backend,
                    target,
                    measured,
                    met,
                })
            };

            if let Some(me) = run.scenario(ScenarioKind::Me) {
                let ratio = me.load.requests_per_second() / run.me_ceiling();
                check(
                    "/me throughput ≥ 70% of the lower of its ceilings".to_string(),
                    percent(ratio),
                    ratio >= 0.70,
                );
                check(
                    "/me p99 < 10 ms at 64 connections".to_string(),
                    milliseconds(me.load.p99_us),
                    me.load.p99_us < 10_000,
                );
            }
            if let Some(login) = run.scenario(ScenarioKind::Login) {
                let ratio = login.load.requests_per_second() / self.hash_ceiling();
                check(
                    "login throughput ≥ 85% of the hashing ceiling".to_string(),
                    percent(ratio),
                    ratio >= 0.85,
                );
            }
            if let (Some(idle), Some(flood)) = (
                run.scenario(ScenarioKind::Me),
                run.scenario(ScenarioKind::MeDuringLogin),
            ) {
                let ratio = flood.load.p99_us as f64 / idle.load.p99_us.max(1) as f64;
                check(
                    "/me p99 during the login flood ≤ 3 × idle p99".to_string(),
                    format!(
                        "{:.1} × ({} against {})",
                        ratio,
                        milliseconds(flood.load.p99_us),
                        milliseconds(idle.load.p99_us)
                    ),
                    ratio <= 3.0,
                );
            }
            if let Some(burst) = run.scenario(ScenarioKind::LoginBurst) {
                let bound = self.burst_rss_bound_kib();
                let measured = if burst.killed_for_memory {
                    format!("over {}, killed", mebibytes(burst.peak_rss_kib))
                } else {
                    mebibytes(burst.peak_rss_kib)
                };
                check(
                    format!(
                        "burst peak RSS ≤ {} MiB argon2 memory × {} + 64 MiB = {}",
                        self.argon2.memory_kib / 1024,
                        self.hash_concurrency,
                        mebibytes(bound)
                    ),
                    measured,
                    !burst.killed_for_memory && burst.peak_rss_kib <= bound,
                );
            }
        }
        checks
    }

    /// Renders the whole report.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        self.write_header(&mut out);
        self.write_ceilings(&mut out);
        for run in &self.backends {
            self.write_scenarios(&mut out, run);
        }
        self.write_targets(&mut out);
        self.write_micro_benchmarks(&mut out);
        out
    }

    fn write_header(&self, out: &mut String) {
        let machine = &self.machine;
        let mode = if self.short { "short" } else { "full" };
        let _ = writeln!(
            out,
            "# platform-auth load test, {}\n",
            self.started_at.format("%Y-%m-%d %H:%M UTC")
        );

        let _ = writeln!(
            out,
            "- Mode: {mode}, {} s per load, {} s for the burst.",
            self.durations.scenario.as_secs(),
            self.durations.burst.as_secs()
        );
        let _ = writeln!(
            out,
            "- Machine: {} CPUs ({}), {:.1} GiB memory, Linux {}.",
            machine.cpus,
            machine.cpu_model,
            machine.memory_kib as f64 / (1024.0 * 1024.0),
            machine.kernel
        );

        let _ = writeln!(
            out,
            "- Load average at start: {}. The server, the load generator and \
             anything else running share these CPUs.",
            machine.load_at_start
        );
        let _ = writeln!(
            out,
            "- Code: commit {}, release build; load generator: {}.",
            machine.commit, machine.wrk
        );

        if let Some(note) = &self.note {
            let _ = writeln!(out, "- Note: {note}");
        }
        let extra = if self.extra_env.is_empty() {
            "none".to_string()
        } else {
            self.extra_env
                .iter()
                .map(|(key, value)| format!("`{key}={value}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            out,
            "- Server: `PLATFORM_ENV=production`, `RUST_LOG=info` (one JSON log line \
             per request, to a file), default settings otherwise; extra settings: {extra}."
        );

        let _ = writeln!(
            out,
            "- Argon2id: m = {} KiB, t = {}, p = {}.\n",
            self.argon2.memory_kib, self.argon2.iterations, self.argon2.parallelism
        );

        if let Some(plot) = &self.plot_file {
            let _ = writeln!(out, "![Latency percentiles per scenario]({plot})\n");
        }
    }

    fn write_ceilings(&self, out: &mut String) {
        let _ = writeln!(out, "## Ceilings\n");
        let mut header = "| Ceiling |".to_string();
        let mut rule = "| --- |".to_string();
        for run in &self.backends {
            let _ = write!(header, " {} |", backend_name(run.backend));
            rule.push_str(" ---: |");
        }
        let _ = writeln!(out, "{header}\n{rule}");

        let row = |label: String, cell: &dyn Fn(&BackendRun) -> String| {
            let cells: Vec<String> = self.backends.iter().map(cell).collect();
            format!("| {label} | {} |", cells.join(" | "))
        };
        let _ = writeln!(
            out,
            "{}",
            row("`GET /health`, 64 connections, requests/s".into(), &|run| {
                rate(run.health.requests_per_second())
            })
        );
        let _ = writeln!(
            out,
            "{}",
            row("Primary-key lookup of one user, per s".into(), &|run| {
                format!("{} ({})", rate(run.lookup.per_second), run.lookup.method)
            })
        );
        if self
            .backends
            .iter()
            .any(|run| run.adapters_lookup.is_some())
        {
            let _ = writeln!(
                out,
                "{}",
                row(
                    "Same lookup through the adapters' pool and diesel, 64 threads, per s (for comparison)"
                        .into(),
                    &|run| run.adapters_lookup.map_or("—".to_string(), rate)
                )
            );
        }
        let hashing = format!(
            "Hashing: {} CPUs ÷ {:.1} ms per hash, hashes/s",
            self.machine.cpus,
            self.hash_time.as_secs_f64() * 1000.0
        );
        let _ = writeln!(out, "{}\n", row(hashing, &|_| rate(self.hash_ceiling())));
    }

    fn write_scenarios(&self, out: &mut String, run: &BackendRun) {
        let _ = writeln!(out, "## {}\n", backend_name(run.backend));
        let _ = writeln!(
            out,
            "| Scenario | Connections | Requests/s | Ceiling/s | Share of ceiling | p50 | p90 | p99 | Errors | Peak RSS |"
        );
        let _ = writeln!(
            out,
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        );
        for result in &run.scenarios {
            let ceiling = match result.kind {
                ScenarioKind::Me | ScenarioKind::MeDuringLogin => run.me_ceiling(),
                ScenarioKind::Login | ScenarioKind::Register | ScenarioKind::LoginBurst => {
                    self.hash_ceiling()
                }
            };
            let _ = writeln!(
                out,
                "{}",
                scenario_row(
                    result.kind.title(),
                    result.kind.connections(),
                    &result.load,
                    ceiling,
                    result.errors(),
                    Some(peak_rss_cell(result))
                )
            );
            if let Some(flood) = &result.flood {
                let _ = writeln!(
                    out,
                    "{}",
                    scenario_row(
                        "↳ the logins of that flood",
                        crate::scenarios::FLOOD_LOGIN_CONNECTIONS,
                        flood,
                        self.hash_ceiling(),
                        flood.errors(),
                        None
                    )
                );
            }
        }
        let _ = writeln!(
            out,
            "\n`/me` rows are compared to the lower of `/health` and the lookup \
             rate; login and register rows to the hashing ceiling. Errors are \
             responses of status 400 or more, socket errors and timeouts \
             (60 s); the errors of the flood row are in its `/me` row too. \
             A server whose RSS passes {} is killed.\n",
            mebibytes(self.max_server_rss_kib)
        );
    }

    fn write_targets(&self, out: &mut String) {
        let _ = writeln!(out, "## Targets\n");
        let _ = writeln!(out, "| Backend | Target | Measured | Met |");
        let _ = writeln!(out, "| --- | --- | --- | --- |");
        for check in self.targets() {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                check.backend,
                check.target,
                check.measured,
                if check.met { "yes" } else { "**no**" }
            );
        }
        let _ = writeln!(
            out,
            "\nThe memory target assumes at most {} argon2 computations at once \
             (`--hash-concurrency`, by default the CPU count).\n",
            self.hash_concurrency
        );
    }

    fn write_micro_benchmarks(&self, out: &mut String) {
        if self.micro_benchmarks.is_empty() {
            return;
        }
        let _ = writeln!(out, "## Micro-benchmarks (criterion, one thread)\n");
        let _ = writeln!(out, "| Benchmark | Mean | 95% interval |");
        let _ = writeln!(out, "| --- | ---: | ---: |");
        for benchmark in &self.micro_benchmarks {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} – {} |",
                benchmark.id,
                duration(benchmark.mean_ns),
                duration(benchmark.lower_ns),
                duration(benchmark.upper_ns)
            );
        }
        out.push('\n');
    }
}

fn scenario_row(
    title: &str,
    connections: u32,
    load: &crate::wrk::LoadResult,
    ceiling: f64,
    errors: u64,
    peak_rss: Option<String>,
) -> String {
    let throughput = load.requests_per_second();
    format!(
        "| {title} | {connections} | {} | {} | {} | {} | {} | {} | {errors} | {} |",
        rate(throughput),
        rate(ceiling),
        percent(throughput / ceiling),
        milliseconds(load.p50_us),
        milliseconds(load.p90_us),
        milliseconds(load.p99_us),
        peak_rss.unwrap_or_else(|| "—".to_string())
    )
}

/// Formats the peak RSS, or the RSS at which the memory guard killed the
/// server.
fn peak_rss_cell(result: &ScenarioResult) -> String {
    if result.killed_for_memory {
        format!("over {} (killed)", mebibytes(result.peak_rss_kib))
    } else {
        mebibytes(result.peak_rss_kib)
    }
}

/// Formats a rate with a precision that suits its size.
pub fn rate(per_second: f64) -> String {
    if per_second >= 100.0 {
        format!("{per_second:.0}")
    } else {
        format!("{per_second:.1}")
    }
}

fn percent(ratio: f64) -> String {
    if ratio.is_finite() {
        format!("{:.0}%", ratio * 100.0)
    } else {
        "—".to_string()
    }
}

pub fn milliseconds(microseconds: u64) -> String {
    let ms = microseconds as f64 / 1000.0;
    if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else if ms >= 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

fn mebibytes(kib: u64) -> String {
    format!("{:.0} MiB", kib as f64 / 1024.0)
}

fn duration(nanoseconds: f64) -> String {
    if nanoseconds >= 1e6 {
        format!("{:.2} ms", nanoseconds / 1e6)
    } else if nanoseconds >= 1e3 {
        format!("{:.2} µs", nanoseconds / 1e3)
    } else {
        format!("{nanoseconds:.0} ns")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds_precision_follows_size() {
        assert_eq!(milliseconds(1_234), "1.23 ms");
        assert_eq!(milliseconds(12_345), "12.3 ms");
        assert_eq!(milliseconds(1_234_567), "1235 ms");
    }

    #[test]
    fn rate_precision_follows_size() {
        assert_eq!(rate(63.27), "63.3");
        assert_eq!(rate(15234.6), "15235");
    }

    #[test]
    fn percent_of_zero_ceiling_is_dash() {
        assert_eq!(percent(f64::INFINITY), "—");
        assert_eq!(percent(0.734), "73%");
    }
}
