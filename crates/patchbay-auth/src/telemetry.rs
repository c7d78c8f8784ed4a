//! What token management reports: metrics through the [`metrics`] facade (nothing is
//! kept unless the host installs a recorder), and a [`TokenRequestReport`] of every token
//! request to the [`TokenRequestObserver`] the manager was given
//! ([`TokenManager::with_observer`](crate::TokenManager::with_observer)), for request logs.

use std::time::{Duration, SystemTime};

/// Counter: token requests sent to a provider's token endpoint, by `grant`
/// (`refresh_token` when a refresh token was used, `request` for a new grant such as
/// client credentials) and `outcome` (`ok`, `rejected` when the provider refused the grant,
/// `failed` for any other error: transport, unreadable answer).
pub const TOKEN_REFRESHES: &str = "patchbay_token_refreshes_total";

/// Registers the descriptions of token management's metrics with the installed recorder.
pub fn describe_metrics() {
    metrics::describe_counter!(
        TOKEN_REFRESHES,
        "Token endpoint requests by grant (refresh_token, request) and outcome (ok, rejected, failed)."
    );
}

/// A token request ended.
pub(crate) fn token_request(grant: &'static str, outcome: &'static str) {
    metrics::counter!(TOKEN_REFRESHES, "grant" => grant, "outcome" => outcome).increment(1);
}

/// Receives a report of every request to a provider's token endpoint.
///
/// Called on the refreshing task once the request has ended; it must be quick and must
/// not block: queue the report and write it elsewhere.
pub trait TokenRequestObserver: Send + Sync + 'static {
    /// One token request has ended.
    fn token_request(&self, report: &TokenRequestReport<'_>);
}

/// One token request. Holds no secret: no token, code, client secret or body.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TokenRequestReport<'a> {
    /// The account whose tokens were requested.
    pub account_id: &'a str,
    /// `refresh_token` (a refresh token was used) or `request` (a new grant, e.g. client
    /// credentials).
    pub grant: &'static str,
    /// Why: `expiring` (before use) or `unauthorized` (after a 401).
    pub reason: &'static str,
    /// When the request started.
    pub started_at: SystemTime,
    /// How long it took.
    pub duration: Duration,
    /// `ok`, `rejected` (the provider refused the grant) or `failed`.
    pub outcome: &'static str,
    /// The provider's HTTP status when it refused the grant.
    pub status: Option<u16>,
    /// Why it failed (`None` when it succeeded).
    pub error: Option<String>,
}
