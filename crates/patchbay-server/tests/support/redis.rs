//! The Redis server of the tests that need one: its URL and the [`REDIS`]
//! requirement that reports them ignored (or failed, with `CI=true`) when it
//! does not answer `PING`.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use patchbay_testkit::Requirement;

/// Where the tests find Redis unless `PATCHBAY_TEST_REDIS_URL` says otherwise.
pub const DEFAULT_URL: &str = "redis://127.0.0.1:6379";

/// A Redis at [`url`] that answers `PING`; give it to `Test::needs`.
pub static REDIS: Requirement = Requirement::new("Redis", || {
    let url = url();
    ping(&url).map_err(|e| {
        format!(
            "Redis at {url} does not answer PING ({e}); start it with `redis-server --daemonize yes` \
             or point PATCHBAY_TEST_REDIS_URL at another server"
        )
    })
});

/// `PATCHBAY_TEST_REDIS_URL`, or [`DEFAULT_URL`].
pub fn url() -> String {
    std::env::var("PATCHBAY_TEST_REDIS_URL").unwrap_or_else(|_| DEFAULT_URL.into())
}

/// `PING` over plain TCP (a `redis://host:port` URL without password).
fn ping(url: &str) -> Result<(), String> {
    let host = url
        .trim_start_matches("redis://")
        .split('/')
        .next()
        .unwrap_or_default();
    let addr = host
        .to_socket_addrs()
        .map_err(|e| e.to_string())?
        .next()
        .ok_or("no address")?;
    let timeout = Duration::from_secs(2);
    let mut stream = TcpStream::connect_timeout(&addr, timeout).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    stream.write_all(b"PING\r\n").map_err(|e| e.to_string())?;
    let mut answer = [0u8; 7];
    stream.read_exact(&mut answer).map_err(|e| e.to_string())?;
    if &answer == b"+PONG\r\n" {
        Ok(())
    } else {
        Err(format!("answered {:?}", String::from_utf8_lossy(&answer)))
    }
}
