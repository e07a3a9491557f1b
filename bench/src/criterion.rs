//! Reads the results criterion wrote under `target/criterion`: for each
//! benchmark, `new/benchmark.json` names it and `new/estimates.json` contains
//! its mean with a confidence interval, in nanoseconds.

use std::path::Path;
use std::time::SystemTime;

use serde::Deserialize;

/// The mean time of one criterion benchmark.
#[derive(Debug, Clone)]
pub struct MicroBenchmark {
    pub id: String,
    pub mean_ns: f64,
    pub lower_ns: f64,
    pub upper_ns: f64,
}

#[derive(Deserialize)]
struct BenchmarkFile {
    full_id: String,
}

#[derive(Deserialize)]
struct EstimatesFile {
    mean: Estimate,
}

#[derive(Deserialize)]
struct Estimate {
    point_estimate: f64,
    confidence_interval: Interval,
}

#[derive(Deserialize)]
struct Interval {
    lower_bound: f64,
    upper_bound: f64,
}

/// Collects every benchmark under `folder` whose estimates were written at
/// or after `since`, so results of earlier runs are left out. Unreadable
/// entries are skipped with a warning.
pub fn read_results(folder: &Path, since: SystemTime) -> Vec<MicroBenchmark> {
    let mut results = Vec::new();
    visit(folder, since, &mut results);
    results.sort_by(|a, b| a.id.cmp(&b.id));
    results
}

fn visit(folder: &Path, since: SystemTime, results: &mut Vec<MicroBenchmark>) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        if path.file_name().is_some_and(|name| name == "new") {
            match read_one(&path, since) {
                Ok(Some(result)) => results.push(result),
                Ok(None) => {}
                Err(error) => eprintln!(
                    "warning: skipped the criterion results in {}: {error:#}",
                    path.display()
                ),
            }
        } else {
            visit(&path, since, results);
        }
    }
}

fn read_one(folder: &Path, since: SystemTime) -> anyhow::Result<Option<MicroBenchmark>> {
    let estimates_path = folder.join("estimates.json");
    let written = std::fs::metadata(&estimates_path)?.modified()?;
    if written < since {
        return Ok(None);
    }
    let benchmark: BenchmarkFile =
        serde_json::from_slice(&std::fs::read(folder.join("benchmark.json"))?)?;
    let estimates: EstimatesFile = serde_json::from_slice(&std::fs::read(&estimates_path)?)?;
    Ok(Some(MicroBenchmark {
        id: benchmark.full_id,
        mean_ns: estimates.mean.point_estimate,
        lower_ns: estimates.mean.confidence_interval.lower_bound,
        upper_ns: estimates.mean.confidence_interval.upper_bound,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_benchmark(root: &Path, name: &str) {
        let folder = root.join(name).join("new");
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(
            folder.join("benchmark.json"),
            format!(r#"{{"group_id":"g","function_id":"{name}","full_id":"g/{name}"}}"#),
        )
        .unwrap();
        std::fs::write(
            folder.join("estimates.json"),
            r#"{"mean":{"point_estimate":1500.0,"standard_error":1.0,
               "confidence_interval":{"confidence_level":0.95,"lower_bound":1400.0,"upper_bound":1600.0}}}"#,
        )
        .unwrap();
    }

    #[test]
    fn results_read_from_nested_folders() {
        let root = tempfile::tempdir().unwrap();
        write_benchmark(root.path(), "verify");
        write_benchmark(root.path(), "issue");

        let results = read_results(root.path(), SystemTime::UNIX_EPOCH);

        assert_eq!(results.len(), 2);
        assert_eq!(results[0].id, "g/issue");
        assert_eq!(results[0].mean_ns, 1500.0);
        assert_eq!(results[0].lower_ns, 1400.0);
        assert_eq!(results[0].upper_ns, 1600.0);
    }

    #[test]
    fn results_older_than_run_skipped() {
        let root = tempfile::tempdir().unwrap();
        write_benchmark(root.path(), "issue");
        let later = SystemTime::now() + std::time::Duration::from_secs(3600);

        assert!(read_results(root.path(), later).is_empty());
    }
}
