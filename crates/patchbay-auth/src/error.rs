//! Errors of token requests, token handling and request authorization.
//!
//! Every message is safe to log: it names what failed (an endpoint's status, a
//! provider's error code, a missing context key) but never contains an access
//! token, refresh token, authorization code, client secret or code verifier.

use std::error::Error as StdError;

/// The error type of a host's [`CredentialStore`](crate::CredentialStore).
pub type StoreError = Box<dyn StdError + Send + Sync + 'static>;

/// Why authentication failed.
///
/// The variants separate failures that mean "the user must reconnect"
/// ([`AuthError::requires_reauth`]) from failures worth retrying later
/// (network errors, 5xx, rate limits) and from configuration mistakes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The provider refused the grant or the credentials: an RFC 6749 error
    /// response (`400 {"error": "invalid_grant"}`), a 401/403 from the token
    /// endpoint, a `200` body carrying an `error` instead of a token (Slack's
    /// `{"ok": false, "error": "invalid_refresh_token"}`), or a 401 from the API
    /// for an account that has no way to get a new token. The account needs
    /// reauthorization.
    #[error("{}", rejected_message(*status, error.as_deref(), description.as_deref()))]
    Rejected {
        /// HTTP status of the response that refused the request.
        status: u16,
        /// The OAuth error code (`invalid_grant`, `invalid_client`, ...), when given.
        error: Option<String>,
        /// The provider's `error_description`, when given.
        description: Option<String>,
    },
    /// The token endpoint failed with a 5xx status: retry later, the account is fine.
    #[error("token endpoint unavailable (HTTP {status})")]
    ProviderUnavailable {
        /// The 5xx (or 408) status.
        status: u16,
    },
    /// The token endpoint answered 429: retry later, the account is fine.
    #[error("token endpoint rate limited the request (HTTP 429)")]
    RateLimited {
        /// Seconds to wait, from `Retry-After` when it holds a number.
        retry_after: Option<u64>,
    },
    /// The destination check refused the token, refresh or revoke URL; nothing
    /// was sent. The account is fine; the config or the policy must change.
    #[error("token endpoint not contacted: {0}")]
    Refused(String),
    /// The token endpoint could not be reached (DNS, connect, TLS, timeout, reset).
    #[error("token endpoint unreachable: {0}")]
    Transport(#[source] reqwest::Error),
    /// The token endpoint answered 2xx but the body is not a usable token
    /// response (not JSON or form data, or no `access_token`).
    #[error("invalid token response (HTTP {status}): {reason}")]
    InvalidResponse {
        /// HTTP status of the response.
        status: u16,
        /// What was wrong, without the body's contents.
        reason: String,
    },
    /// A value the flow needs is absent: a context key a placeholder reads, the
    /// stored token, the refresh token, the client id.
    #[error("missing credential: {what}")]
    MissingCredential {
        /// What is missing, e.g. `oauth.token.refresh_token` or `{{api_key}}`.
        what: String,
    },
    /// The credential or authorization config cannot be used (bad template,
    /// invalid URL, JSONata that fails, a header name that is not valid).
    #[error("auth config error: {0}")]
    Config(String),
    /// The host's credential store did not save refreshed tokens; the new
    /// tokens were not handed out (they are kept in memory and the save is
    /// retried on the next call).
    #[error("saving refreshed tokens failed: {0}")]
    Store(#[source] StoreError),
}

fn rejected_message(status: u16, error: Option<&str>, description: Option<&str>) -> String {
    let mut message = format!("provider rejected the credentials (HTTP {status}");
    if let Some(error) = error {
        message.push_str(", ");
        message.push_str(error);
    }
    message.push(')');
    if let Some(description) = description {
        message.push_str(": ");
        message.push_str(description);
    }
    message
}

impl AuthError {
    /// Whether the account must be reauthorized: true only for
    /// [`AuthError::Rejected`]. Network errors, 5xx, 429, malformed responses,
    /// config errors and store failures leave the account as it is.
    ///
    /// ```
    /// use patchbay_auth::AuthError;
    /// let revoked = AuthError::Rejected { status: 400, error: Some("invalid_grant".into()), description: None };
    /// assert!(revoked.requires_reauth());
    /// assert!(!AuthError::ProviderUnavailable { status: 503 }.requires_reauth());
    /// ```
    pub fn requires_reauth(&self) -> bool {
        matches!(self, Self::Rejected { .. })
    }

    /// Whether retrying the same call later may succeed (transport errors,
    /// 5xx, 429, and store failures).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::ProviderUnavailable { .. }
                | Self::RateLimited { .. }
                | Self::Transport(_)
                | Self::Store(_)
        )
    }

    pub(crate) fn missing(what: impl Into<String>) -> Self {
        Self::MissingCredential { what: what.into() }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self::Config(message.into())
    }
}

/// The request URL is dropped from the error: token URLs are rendered from
/// account context, and the context is not for logs.
impl From<reqwest::Error> for AuthError {
    fn from(error: reqwest::Error) -> Self {
        Self::Transport(error.without_url())
    }
}
