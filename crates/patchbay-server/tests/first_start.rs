//! The first start's API token is created and printed only by a server that holds its
//! address: a start whose bind fails shows no token and uses up nothing, so the next start
//! on the same data directory still prints the token.

mod support;

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use patchbay_server::store::Cipher;

use support::process::{server_command, stderr_log, stdout_log};

/// Starts the server binary on `addr` over an embedded SQLite store in `data`, and stops it
/// once its log says it listens (or it exits by itself). Returns its output.
fn run_until_listening(addr: &str, data: &Path, key: &str) -> (Output, bool) {
    let logs = tempfile::tempdir().expect("temp dir");
    let mut child = server_command(key, logs.path())
        .env("PATCHBAY_ADDR", addr)
        .env("PATCHBAY_DATA_DIR", data)
        .env_remove("DATABASE_URL")
        .spawn()
        .expect("start patchbay-server");
    let deadline = Instant::now() + Duration::from_secs(30);
    let listened = loop {
        let log = std::fs::read_to_string(stderr_log(logs.path())).unwrap_or_default();
        if log.contains("patchbay-server listening") {
            break true;
        }
        if child.try_wait().expect("poll the server").is_some() {
            break false;
        }
        assert!(
            Instant::now() < deadline,
            "the server neither listened nor exited:\n{log}"
        );
        std::thread::sleep(Duration::from_millis(25));
    };
    let _ = child.kill();
    let status = child.wait().expect("wait for the server");
    let output = Output {
        status,
        stdout: std::fs::read(stdout_log(logs.path())).unwrap_or_default(),
        stderr: std::fs::read(stderr_log(logs.path())).unwrap_or_default(),
    };
    (output, listened)
}

fn token_in(stdout: &[u8]) -> Option<String> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(str::trim)
        .find(|line| line.starts_with("pb_"))
        .map(str::to_owned)
}

#[test]
fn a_failed_bind_shows_no_token_and_the_next_start_still_does() {
    let data = tempfile::tempdir().expect("data dir");
    let key = Cipher::generate_key_base64().to_string();

    // Another socket holds the address: the server cannot bind it.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("hold a port");
    let addr = taken.local_addr().expect("address").to_string();
    let (failed, listened) = run_until_listening(&addr, data.path(), &key);
    assert!(!listened, "the server listened on a taken address");
    assert!(!failed.status.success());
    assert!(
        String::from_utf8_lossy(&failed.stderr).contains("cannot listen on"),
        "{}",
        String::from_utf8_lossy(&failed.stderr)
    );
    assert_eq!(
        token_in(&failed.stdout),
        None,
        "a token was printed by a server that never ran"
    );
    drop(taken);

    // The next start on the same data directory is the first real one: it prints the token.
    let (started, listened) = run_until_listening("127.0.0.1:0", data.path(), &key);
    assert!(listened, "{}", String::from_utf8_lossy(&started.stderr));
    let token = token_in(&started.stdout).expect("the first real start prints the token");
    assert!(token.len() > 20, "{token}");

    // And only that once.
    let (again, listened) = run_until_listening("127.0.0.1:0", data.path(), &key);
    assert!(listened);
    assert_eq!(token_in(&again.stdout), None);
}
