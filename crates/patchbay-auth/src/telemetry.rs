//! The metrics token management records, through the [`metrics`] facade (nothing is kept
//! unless the host installs a recorder).

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
