//! [`ServerConfig`]: where and how the server runs, from the environment.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use patchbay::egress::DestinationPolicy;
use patchbay::ratelimit::{DEFAULT_KEY_PREFIX, PaceConfig, PaceStore, RedisPaceStore};

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
    /// `PATCHBAY_PUBLIC_URL`: the URL browsers and providers reach this
    /// server at (e.g. `https://patchbay.example.com` behind a load balancer).
    /// OAuth callbacks are `{public_url}/connect/{integration}/callback`, so it
    /// must match what the OAuth app registered. Default `http://{addr}`.
    pub public_url: Option<url::Url>,
    /// `PATCHBAY_ALLOWED_DESTINATIONS`: networks outbound requests may reach
    /// besides public addresses, comma-separated (`10.0.0.0/8`, `192.168.1.7`,
    /// `loopback`, `private`, or `any` to turn the check off). Empty: public
    /// addresses only.
    pub destinations: DestinationPolicy,
    /// How sync job runs are executed: `PATCHBAY_SYNC_LEASE_SECS` (default 30),
    /// `PATCHBAY_SYNC_SWEEP_SECS` (default 15), `PATCHBAY_SYNC_PAGE_SIZE` (default: the
    /// provider's), `PATCHBAY_SYNC_RATE_LIMIT_WAIT_SECS` (default 60),
    /// `PATCHBAY_SYNC_MAX_RUNS_PER_ACCOUNT` and `PATCHBAY_SYNC_MAX_RUNS_PER_INTEGRATION`
    /// (default: no limit); see
    /// [`crate::sync::SyncOptions::from_env`].
    pub sync: crate::sync::SyncOptions,
    /// Connection limits: `PATCHBAY_HEADER_READ_TIMEOUT_SECS` (default 10),
    /// `PATCHBAY_BODY_READ_TIMEOUT_SECS` (default 30) and
    /// `PATCHBAY_MAX_CONNECTIONS` (default 10,000); see [`crate::serve`](mod@crate::serve).
    pub serve: crate::ServeOptions,
    /// `PATCHBAY_METRICS_ADDR`: where to serve Prometheus metrics on
    /// `GET /metrics` (e.g. `127.0.0.1:9464`); unset, no metrics are kept or
    /// served. The route needs no token: bind it where only the scraper reaches.
    pub metrics_addr: Option<SocketAddr>,
    /// `PATCHBAY_CORS_ALLOWED_ORIGINS`: origins whose browser scripts may call the
    /// API, comma-separated (`https://app.example.com`), or `*` for any; unset, none.
    /// Browsers then call `/proxy` and `/unified` with integrated-account tokens.
    pub cors_origins: CorsOrigins,
    /// Client-side pacing of provider calls: `PATCHBAY_PACING`, `REDIS_URL`,
    /// `PATCHBAY_PACING_KEY_PREFIX` (see [`PacingConfig`]).
    pub pacing: PacingConfig,
}

/// How provider calls are paced per integrated account.
#[derive(Clone, Default)]
pub struct PacingConfig {
    /// `PATCHBAY_PACING`: the pace of each integrated account's provider calls,
    /// e.g. `10/s` or `600/min,burst=20` (see [`PaceConfig`]'s text form);
    /// unset, calls are not paced (a provider's `Retry-After` still pauses
    /// the account).
    pub pace: Option<PaceConfig>,
    /// `REDIS_URL`: keep the pace in this Redis, so that every server process
    /// using it paces an account together; unset, each process paces alone.
    /// While Redis is unavailable each process paces alone (with a warning),
    /// calls never fail for it. May hold a password, so `Debug` does not show it.
    pub redis_url: Option<String>,
    /// `PATCHBAY_PACING_KEY_PREFIX`: the prefix of the Redis keys (default
    /// `patchbay:pace:`); processes pace together when they share Redis and prefix.
    pub key_prefix: String,
}

impl fmt::Debug for PacingConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PacingConfig")
            .field("pace", &self.pace.map(|p| p.to_string()))
            .field("redis_url", &self.redis_url.as_ref().map(|_| "[REDACTED]"))
            .field("key_prefix", &self.key_prefix)
            .finish()
    }
}

impl PacingConfig {
    /// Reads `PATCHBAY_PACING`, `REDIS_URL` and `PATCHBAY_PACING_KEY_PREFIX`.
    ///
    /// # Errors
    ///
    /// A message naming the variable when its value is not usable (never
    /// repeating `REDIS_URL`, which may hold a password).
    pub fn from_env() -> Result<Self, String> {
        let pace = match std::env::var("PATCHBAY_PACING") {
            Ok(text) if !text.trim().is_empty() => Some(
                text.parse::<PaceConfig>()
                    .map_err(|e| format!("PATCHBAY_PACING: {e}"))?,
            ),
            _ => None,
        };
        let redis_url = std::env::var("REDIS_URL")
            .ok()
            .filter(|v| !v.trim().is_empty());
        if let Some(url) = &redis_url {
            // Parsed (not connected) now, so a typo stops the start.
            RedisPaceStore::new(url).map_err(|e| format!("REDIS_URL: {e}"))?;
        }
        let key_prefix = std::env::var("PATCHBAY_PACING_KEY_PREFIX")
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| DEFAULT_KEY_PREFIX.to_owned());
        Ok(Self {
            pace,
            redis_url,
            key_prefix,
        })
    }

    /// The facades' [`Pacing`](crate::runtime::Pacing): the pace, kept in
    /// Redis when `REDIS_URL` is set (connected on first use).
    ///
    /// # Errors
    ///
    /// A message when `REDIS_URL` is not a Redis URL.
    pub fn pacing(&self) -> Result<crate::runtime::Pacing, String> {
        let store = match (&self.pace, &self.redis_url) {
            (Some(_), Some(url)) => {
                let store = RedisPaceStore::new(url)
                    .map_err(|e| format!("REDIS_URL: {e}"))?
                    .with_key_prefix(self.key_prefix.clone());
                Some(Arc::new(store) as Arc<dyn PaceStore>)
            }
            _ => None,
        };
        Ok(crate::runtime::Pacing {
            pace: self.pace,
            store,
        })
    }
}

/// Which origins' browser scripts may call the API (CORS).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CorsOrigins {
    /// None: no CORS headers are sent.
    #[default]
    None,
    /// Any origin (`*`). Safe here because the API authenticates with bearer tokens,
    /// never with cookies, and credentials mode is never allowed.
    Any,
    /// These origins (`scheme://host[:port]`).
    List(Vec<String>),
}

impl CorsOrigins {
    /// Parses `PATCHBAY_CORS_ALLOWED_ORIGINS`.
    ///
    /// # Errors
    ///
    /// A message naming the value that is not an origin.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(Self::None);
        }
        if text == "*" {
            return Ok(Self::Any);
        }
        let mut origins = Vec::new();
        for origin in text.split(',').map(str::trim).filter(|o| !o.is_empty()) {
            let url = url::Url::parse(origin).map_err(|e| {
                format!("PATCHBAY_CORS_ALLOWED_ORIGINS: `{origin}` is not an origin like https://app.example.com: {e}")
            })?;
            let serialized = url.origin().ascii_serialization();
            if !crate::web_url::is_web_url(&url) || serialized != origin.trim_end_matches('/') {
                return Err(format!(
                    "PATCHBAY_CORS_ALLOWED_ORIGINS: `{origin}` is not an origin (scheme://host[:port], no path)"
                ));
            }
            origins.push(serialized);
        }
        Ok(Self::List(origins))
    }
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
            .field(
                "public_url",
                &self.public_url.as_ref().map(url::Url::as_str),
            )
            .field("destinations", &self.destinations)
            .field("serve", &self.serve)
            .field("metrics_addr", &self.metrics_addr)
            .field("cors_origins", &self.cors_origins)
            .field("pacing", &self.pacing)
            .field("sync", &self.sync)
            .finish()
    }
}

impl ServerConfig {
    /// Reads `PATCHBAY_ADDR`, `PATCHBAY_DATA_DIR`, `DATABASE_URL`,
    /// `PATCHBAY_PUBLIC_URL`, `PATCHBAY_ALLOWED_DESTINATIONS`,
    /// `PATCHBAY_METRICS_ADDR`, `PATCHBAY_CORS_ALLOWED_ORIGINS`, the pacing
    /// ([`PacingConfig::from_env`]), the connection limits
    /// ([`crate::ServeOptions::from_env`]) and the sync job options
    /// ([`crate::sync::SyncOptions::from_env`]).
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
        let public_url = match std::env::var("PATCHBAY_PUBLIC_URL") {
            Ok(text) if !text.trim().is_empty() => Some(parse_public_url(&text)?),
            _ => None,
        };
        let destinations = match std::env::var("PATCHBAY_ALLOWED_DESTINATIONS") {
            Ok(text) => DestinationPolicy::from_allow_list(&text)
                .map_err(|e| format!("PATCHBAY_ALLOWED_DESTINATIONS: {e}"))?,
            Err(_) => DestinationPolicy::public_only(),
        };
        let metrics_addr = match std::env::var("PATCHBAY_METRICS_ADDR") {
            Ok(text) if !text.trim().is_empty() => Some(text.trim().parse().map_err(|e| {
                format!("PATCHBAY_METRICS_ADDR=`{text}` is not an address like 127.0.0.1:9464: {e}")
            })?),
            _ => None,
        };
        let cors_origins = match std::env::var("PATCHBAY_CORS_ALLOWED_ORIGINS") {
            Ok(text) => CorsOrigins::parse(&text)?,
            Err(_) => CorsOrigins::None,
        };
        Ok(Self {
            cors_origins,
            metrics_addr,
            addr,
            data_dir,
            database_url,
            public_url,
            destinations,
            serve: crate::ServeOptions::from_env()?,
            pacing: PacingConfig::from_env()?,
            sync: crate::sync::SyncOptions::from_env()?,
        })
    }
}

/// An absolute `http`/`https` URL without query or fragment.
fn parse_public_url(text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text.trim())
        .map_err(|e| format!("PATCHBAY_PUBLIC_URL=`{text}` is not an absolute URL: {e}"))?;
    if !crate::web_url::is_web_url(&url) {
        return Err(format!(
            "PATCHBAY_PUBLIC_URL=`{text}` must be an http or https URL with a host"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "PATCHBAY_PUBLIC_URL=`{text}` must not have a query or fragment"
        ));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_url_must_be_a_plain_http_url() {
        assert_eq!(
            parse_public_url("https://pb.example.com/base")
                .unwrap()
                .as_str(),
            "https://pb.example.com/base"
        );
        for bad in [
            "pb.example.com",
            "ftp://pb.example.com",
            "https://pb.example.com/?a=1",
        ] {
            let message = parse_public_url(bad).unwrap_err();
            assert!(message.contains("PATCHBAY_PUBLIC_URL"), "{message}");
        }
    }
}
