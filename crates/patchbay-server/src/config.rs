//! [`ServerConfig`]: where and how the server runs, from the environment.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The default data directory.
pub const DEFAULT_DATA_DIR: &str = "./.patchbay-data";

/// Where and how the server runs.
#[derive(Clone)]
pub struct ServerConfig {
    /// The address to listen on (`PATCHBAY_ADDR`, default `127.0.0.1:8080`).
    pub addr: SocketAddr,
    /// The data directory (`PATCHBAY_DATA_DIR`, default `./.patchbay-data`):
    /// the SQLite database and the encryption key file, created on first start.
    pub data_dir: PathBuf,
    /// `DATABASE_URL`: `postgres://` or `postgresql://` selects Postgres;
    /// anything else, or none, SQLite in the data directory. May hold a
    /// password, so `Debug` does not show it.
    pub database_url: Option<String>,
}

impl fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerConfig")
            .field("addr", &self.addr)
            .field("data_dir", &self.data_dir)
            .field(
                "database_url",
                &self.database_url.as_ref().map(|_| "[REDACTED]"),
            )
            .finish()
    }
}

impl ServerConfig {
    /// Reads `PATCHBAY_ADDR`, `PATCHBAY_DATA_DIR` and `DATABASE_URL`.
    ///
    /// # Errors
    ///
    /// A message naming the variable when its value is not usable.
    pub fn from_env() -> Result<Self, String> {
        let addr = match std::env::var("PATCHBAY_ADDR") {
            Ok(text) => text.parse().map_err(|e| {
                format!("PATCHBAY_ADDR=`{text}` is not an address like 127.0.0.1:8080: {e}")
            })?,
            Err(_) => SocketAddr::from(([127, 0, 0, 1], 8080)),
        };
        let data_dir = std::env::var_os("PATCHBAY_DATA_DIR")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let database_url = std::env::var("DATABASE_URL")
            .ok()
            .filter(|v| !v.trim().is_empty());
        Ok(Self {
            addr,
            data_dir,
            database_url,
        })
    }
}
