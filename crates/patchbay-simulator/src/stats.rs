//! Counters and the request log, plus the public [`Stats`] snapshot.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::HeaderMap;

use super::Provider;
use super::faults::lock;
use super::tokens::TokenSnapshot;

/// Token-endpoint requests of one provider, by grant type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenRequestCounts {
    /// `grant_type=authorization_code`.
    pub authorization_code: u64,
    /// `grant_type=refresh_token`.
    pub refresh_token: u64,
    /// `grant_type=client_credentials`.
    pub client_credentials: u64,
    /// Keka's `grant_type=kekaapi`.
    pub kekaapi: u64,
    /// Any other or missing grant type.
    pub other: u64,
    /// Requests answered with an OAuth error (also counted above by grant type).
    pub rejected: u64,
}

impl TokenRequestCounts {
    /// All token requests.
    pub fn total(&self) -> u64 {
        self.authorization_code
            + self.refresh_token
            + self.client_credentials
            + self.kekaapi
            + self.other
    }
}

/// One request as the simulator saw it, with secrets removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    /// The provider whose route answered.
    pub provider: Provider,
    /// HTTP method.
    pub method: String,
    /// Request path (including the provider prefix).
    pub path: String,
    /// Raw query string; values of secret-looking parameters replaced by `[redacted]`.
    pub query: Option<String>,
    /// Request headers (lower-case names); credentials replaced by `[redacted]`.
    pub headers: Vec<(String, String)>,
    /// Status sent (0 when the connection was reset without a response).
    pub status: u16,
    /// The injected fault, if any (e.g. `status_503`, `connection_reset`).
    pub fault: Option<String>,
}

impl LoggedRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A point-in-time copy of the simulator's counters.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Requests per route, keyed `"{METHOD} {route template}"`, e.g. `"GET /github/user/repos"`.
    pub requests_by_route: BTreeMap<String, u64>,
    /// Token-endpoint requests per provider.
    pub token_requests: BTreeMap<Provider, TokenRequestCounts>,
    /// Access tokens currently known (issued or seeded, not revoked).
    pub tokens: Vec<TokenSnapshot>,
    /// How many requests got an injected fault.
    pub faults_injected: u64,
    /// The most recent requests (bounded, oldest dropped first).
    pub log: Vec<LoggedRequest>,
}

impl Stats {
    /// Requests served by `route` (`"GET /github/user/repos"`), 0 if none.
    pub fn requests(&self, route: &str) -> u64 {
        self.requests_by_route.get(route).copied().unwrap_or(0)
    }

    /// All requests that reached a route.
    pub fn total_requests(&self) -> u64 {
        self.requests_by_route.values().sum()
    }

    /// Token requests of `provider` (zeros if none).
    pub fn token_requests(&self, provider: Provider) -> TokenRequestCounts {
        self.token_requests
            .get(&provider)
            .copied()
            .unwrap_or_default()
    }

    /// Logged requests of one provider.
    pub fn log_for(&self, provider: Provider) -> impl Iterator<Item = &LoggedRequest> {
        self.log.iter().filter(move |r| r.provider == provider)
    }
}

/// Grant type of a token request, for counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GrantKind {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
    Kekaapi,
    Other,
}

impl GrantKind {
    pub(crate) fn parse(grant_type: Option<&str>) -> Self {
        match grant_type {
            Some("authorization_code") => GrantKind::AuthorizationCode,
            Some("refresh_token") => GrantKind::RefreshToken,
            Some("client_credentials") => GrantKind::ClientCredentials,
            Some("kekaapi") => GrantKind::Kekaapi,
            _ => GrantKind::Other,
        }
    }
}

/// The mutable side of [`Stats`].
#[derive(Debug)]
pub(crate) struct Recorder {
    routes: Mutex<BTreeMap<String, u64>>,
    tokens: Mutex<BTreeMap<Provider, TokenRequestCounts>>,
    log: Mutex<VecDeque<LoggedRequest>>,
    log_capacity: usize,
    faults: AtomicU64,
}

impl Recorder {
    pub(crate) fn new(log_capacity: usize) -> Self {
        Recorder {
            routes: Mutex::default(),
            tokens: Mutex::default(),
            log: Mutex::default(),
            log_capacity,
            faults: AtomicU64::new(0),
        }
    }

    pub(crate) fn count_route(&self, key: String) {
        *lock(&self.routes).entry(key).or_insert(0) += 1;
    }

    pub(crate) fn count_fault(&self) {
        self.faults.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_token(&self, provider: Provider, kind: GrantKind, rejected: bool) {
        let mut map = lock(&self.tokens);
        let c = map.entry(provider).or_default();
        match kind {
            GrantKind::AuthorizationCode => c.authorization_code += 1,
            GrantKind::RefreshToken => c.refresh_token += 1,
            GrantKind::ClientCredentials => c.client_credentials += 1,
            GrantKind::Kekaapi => c.kekaapi += 1,
            GrantKind::Other => c.other += 1,
        }
        if rejected {
            c.rejected += 1;
        }
    }

    pub(crate) fn log(&self, entry: LoggedRequest) {
        if self.log_capacity == 0 {
            return;
        }
        let mut log = lock(&self.log);
        if log.len() >= self.log_capacity {
            log.pop_front();
        }
        log.push_back(entry);
    }

    pub(crate) fn snapshot(&self, tokens: Vec<TokenSnapshot>) -> Stats {
        Stats {
            requests_by_route: lock(&self.routes).clone(),
            token_requests: lock(&self.tokens).clone(),
            tokens,
            faults_injected: self.faults.load(Ordering::Relaxed),
            log: lock(&self.log).iter().cloned().collect(),
        }
    }
}

const REDACTED: &str = "[redacted]";

fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "authorization",
        "cookie",
        "token",
        "secret",
        "key",
        "password",
        "code",
        "signature",
    ]
    .iter()
    .any(|s| n.contains(s))
}

/// Header list with credential values replaced.
pub(crate) fn redact_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            let value = if is_secret_name(k.as_str()) {
                REDACTED.to_owned()
            } else {
                String::from_utf8_lossy(v.as_bytes()).into_owned()
            };
            (k.as_str().to_owned(), value)
        })
        .collect()
}

/// Query string with secret-looking parameter values replaced.
pub(crate) fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if is_secret_name(k) => format!("{k}={REDACTED}"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_secrets_only() {
        assert_eq!(
            redact_query("per_page=5&access_token=x&code=y"),
            "per_page=5&access_token=[redacted]&code=[redacted]"
        );
        let mut h = HeaderMap::new();
        h.insert("authorization", "Bearer x".parse().expect("header"));
        h.insert("x-shopify-access-token", "y".parse().expect("header"));
        h.insert("accept", "application/json".parse().expect("header"));
        let r = redact_headers(&h);
        assert!(r.contains(&("authorization".into(), REDACTED.into())));
        assert!(r.contains(&("x-shopify-access-token".into(), REDACTED.into())));
        assert!(r.contains(&("accept".into(), "application/json".into())));
    }
}
