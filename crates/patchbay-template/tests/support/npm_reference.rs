//! Installs a pinned npm package set for a differential test, once per target directory.
//!
//! A differential test keeps a `package.json` and `package-lock.json` in a folder under
//! `tests/differential/`. [`prepare`] copies both into `$CARGO_TARGET_TMPDIR/<name>/` and
//! runs `npm ci` there, unless the same lock file is already installed. Without `node` or
//! `npm`, or when the install fails, it says why; the test binary's `patchbay-testkit`
//! requirement turns that into an ignored test (a failure when `CI=true`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A pinned package set: where its `package.json`/lock live and how to tell it is installed.
pub struct Reference<'a> {
    /// What the test compares against, for messages (`"@truto/truto-jsonata 3.0.6"`).
    pub label: &'a str,
    /// The folder holding `package.json` and `package-lock.json`.
    pub source: PathBuf,
    /// The install folder's name under `CARGO_TARGET_TMPDIR`.
    pub install_name: &'a str,
    /// A file that exists once the install is complete, relative to `node_modules`.
    pub marker: &'a str,
}

/// What to do about a missing reference.
const HELP: &str = "install Node.js 18+ and npm (Debian/Ubuntu: `apt-get install nodejs npm`) \
                    and make sure the npm registry is reachable";

fn tool_works(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Installs the package set (once) and returns the install directory.
///
/// # Errors
/// Why the reference cannot be used (a missing tool, a failed install), with what to do.
pub fn prepare(reference: &Reference<'_>, target_tmp: &Path) -> Result<PathBuf, String> {
    let unavailable = |reason: String| -> Result<PathBuf, String> {
        Err(format!("{} cannot run: {reason}; {HELP}", reference.label))
    };
    for tool in ["node", "npm"] {
        if !tool_works(tool) {
            return unavailable(format!("`{tool}` is not on PATH"));
        }
    }
    let dir = target_tmp.join(reference.install_name);
    let lock = std::fs::read(reference.source.join("package-lock.json"))
        .expect("the differential test's package-lock.json is committed");
    let marker = dir.join("node_modules").join(reference.marker);
    let up_to_date =
        std::fs::read(dir.join("package-lock.json")).is_ok_and(|l| l == lock) && marker.is_file();
    if up_to_date {
        return Ok(dir);
    }
    if let Err(e) = std::fs::create_dir_all(&dir) {
        return unavailable(format!("cannot create {}: {e}", dir.display()));
    }
    for file in ["package.json", "package-lock.json"] {
        if let Err(e) = std::fs::copy(reference.source.join(file), dir.join(file)) {
            return unavailable(format!("cannot copy {file} to {}: {e}", dir.display()));
        }
    }
    eprintln!(
        "installing {} into {} (npm ci)",
        reference.label,
        dir.display()
    );
    let output = Command::new("npm")
        .args([
            "ci",
            // Peer dependencies are not installed: the packages do not need them at run
            // time, and npm cannot reproduce a lock with optional platform peers.
            "--legacy-peer-deps",
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
        ])
        .current_dir(&dir)
        .output();
    match output {
        Ok(out) if out.status.success() && marker.is_file() => Ok(dir),
        Ok(out) => {
            // Leave no half-installed lock behind, so the next run retries.
            let _ = std::fs::remove_file(dir.join("package-lock.json"));
            unavailable(format!(
                "`npm ci` failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .take(3)
                    .collect::<Vec<_>>()
                    .join(" / ")
            ))
        }
        Err(e) => unavailable(format!("cannot run `npm ci`: {e}")),
    }
}

/// Runs `node <driver> <install dir>` with `request` as JSON on stdin (and `TZ=UTC`), and
/// returns the JSON array it answers with, which must hold `expected` results.
///
/// # Panics
/// When node cannot run the driver, fails, or answers something else.
pub fn run_driver(
    driver: &Path,
    install_dir: &Path,
    request: &serde_json::Value,
    expected: usize,
) -> Vec<serde_json::Value> {
    use std::io::Write as _;
    let mut child = Command::new("node")
        .arg(driver)
        .arg(install_dir)
        .env("TZ", "UTC")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn node");
    // The drivers read all of stdin before writing anything, so this cannot deadlock.
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(request.to_string().as_bytes())
        .expect("write the cases to node");
    let output = child.wait_with_output().expect("wait for node");
    assert!(
        output.status.success(),
        "the node driver {} failed: {}",
        driver.display(),
        output.status
    );
    let results: Vec<serde_json::Value> =
        serde_json::from_slice(&output.stdout).expect("the driver answers JSON");
    assert_eq!(results.len(), expected, "one result per case");
    results
}
