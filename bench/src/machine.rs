//! The facts the report records about the machine and the measured code.

use std::process::Command;

/// The machine and the commit a run measured.
#[derive(Debug, Clone)]
pub struct MachineInfo {
    pub cpus: usize,
    pub cpu_model: String,
    pub memory_kib: u64,
    pub kernel: String,
    /// The 1-, 5- and 15-minute load averages when the run started: other
    /// work on the machine takes CPU from the server and the load generator.
    /// A load average read later would count the run's own threads.
    pub load_at_start: String,
    pub commit: String,
    pub wrk: String,
}

impl MachineInfo {
    pub fn read(wrk_version: String) -> Self {
        Self {
            cpus: cpu_count(),
            cpu_model: proc_value("/proc/cpuinfo", "model name")
                .unwrap_or_else(|| "unknown".to_string()),
            memory_kib: proc_value("/proc/meminfo", "MemTotal")
                .and_then(|value| value.split_whitespace().next()?.parse().ok())
                .unwrap_or(0),
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|text| text.trim().to_string())
                .unwrap_or_else(|_| "unknown".to_string()),
            load_at_start: load_average(),
            commit: git_commit(),
            wrk: wrk_version,
        }
    }
}

pub fn cpu_count() -> usize {
    std::thread::available_parallelism().map_or(1, |count| count.get())
}

/// Returns the 1-, 5- and 15-minute load averages from `/proc/loadavg`.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".to_string())
}

/// Reads the first `key: value` line of a `/proc` file such as
/// `/proc/cpuinfo`.
fn proc_value(path: &str, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        (name.trim() == key).then(|| value.trim().to_string())
    })
}

/// Returns the short commit hash, marked when the work tree has changes.
fn git_commit() -> String {
    let run = |arguments: &[&str]| {
        Command::new("git")
            .args(arguments)
            .output()
            .ok()
            .filter(|output| output.status.success())
            .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string())
    };
    let Some(commit) = run(&["rev-parse", "--short", "HEAD"]) else {
        return "unknown".to_string();
    };
    match run(&["status", "--porcelain", "--untracked-files=no"]) {
        Some(changes) if !changes.is_empty() => format!("{commit} with uncommitted changes"),
        _ => commit,
    }
}
