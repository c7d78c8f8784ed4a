//! [`ServerConfig`]: where and how the server runs, from the environment.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use patchbay::egress::DestinationPolicy;

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
    /// Connection limits: `PATCHBAY_HEADER_READ_TIMEOUT_SECS` (default 10),
    /// `PATCHBAY_BODY_READ_TIMEOUT_SECS` (default 30) and
    /// `PATCHBAY_MAX_CONNECTIONS` (default 10,000); see [`crate::serve`](mod@crate::serve).
    pub serve: crate::ServeOptions,
    /// `PATCHBAY_METRICS_ADDR`: where to serve Prometheus metrics on
    /// `GET /metrics` (e.g. `127.0.0.1:9464`); unset, no metrics are kept or
    /// served. The route needs no token: bind it where only the scraper reaches.
    pub metrics_addr: Option<SocketAddr>,
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
            .finish()
    }
}

impl ServerConfig {
    /// Reads `PATCHBAY_ADDR`, `PATCHBAY_DATA_DIR`, `DATABASE_URL`,
    /// `PATCHBAY_PUBLIC_URL`, `PATCHBAY_ALLOWED_DESTINATIONS`,
    /// `PATCHBAY_METRICS_ADDR` and the
    /// connection limits ([`crate::ServeOptions::from_env`]).
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
        Ok(Self {
            metrics_addr,
            addr,
            data_dir,
            database_url,
            public_url,
            destinations,
            serve: crate::ServeOptions::from_env()?,
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
