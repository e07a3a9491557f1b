//! Checks the outcome of the external programs the harness runs.

use std::process::Output;

use anyhow::bail;

/// Returns the standard output of a finished `program`, or an error with
/// its exit status and everything it printed when it failed.
pub fn successful_stdout(program: &str, output: &Output) -> anyhow::Result<String> {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        bail!(
            "{program} exited with {}: {} {}",
            output.status,
            stdout.trim(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(stdout)
}
