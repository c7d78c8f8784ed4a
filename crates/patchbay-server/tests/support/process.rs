//! Running the server binary itself, as an operator starts it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Where [`server_command`] sends the server's standard output.
pub fn stdout_log(logs: &Path) -> PathBuf {
    logs.join("stdout.log")
}

/// Where [`server_command`] sends the server's standard error (its log).
pub fn stderr_log(logs: &Path) -> PathBuf {
    logs.join("stderr.log")
}

/// The `patchbay-server` binary with `key` as its encryption key, logging at
/// `info` without colours, its output in [`stdout_log`] and [`stderr_log`]
/// under `logs`, and no public URL, previous keys or pacing from the
/// environment. The caller adds the address and the store.
pub fn server_command(key: &str, logs: &Path) -> Command {
    let stdout = std::fs::File::create(stdout_log(logs)).expect("stdout file");
    let stderr = std::fs::File::create(stderr_log(logs)).expect("stderr file");
    let mut command = Command::new(env!("CARGO_BIN_EXE_patchbay-server"));
    command
        .env("PATCHBAY_ENCRYPTION_KEY", key)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .env_remove("PATCHBAY_PUBLIC_URL")
        .env_remove("PATCHBAY_PREVIOUS_ENCRYPTION_KEYS")
        .env_remove("PATCHBAY_PACING")
        .env_remove("REDIS_URL")
        .env_remove("PATCHBAY_PACING_KEY_PREFIX")
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr);
    command
}
