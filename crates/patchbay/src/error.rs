//! Errors of the facade.

use std::sync::Arc;

use patchbay_config::ValidationErrors;
use patchbay_executor::ExecutorError;
use patchbay_unified::{MappedError, UnifiedError};
use patchbay_webhook::{VerificationError, WebhookError};

use crate::store::StoreError;

/// Why a Patchbay call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No integration registered under that name.
    #[error("no integration named `{0}` is registered")]
    UnknownIntegration(String),
    /// No integrated account with that id.
    #[error("no integrated account `{0}`")]
    UnknownAccount(String),
    /// The account belongs to another installed integration.
    #[error("integrated account `{account}` does not belong to integration `{integration}`")]
    WrongIntegration {
        /// The account id.
        account: String,
        /// The integration asked for.
        integration: String,
    },
    /// The installed config has no credential of that name.
    #[error("integration `{integration}` has no credential `{credential}`")]
    UnknownCredential {
        /// The install id.
        integration: String,
        /// The credential asked for.
        credential: String,
    },
    /// The config has no action of that name.
    #[error("the integration has no action `{0}`")]
    UnknownAction(String),
    /// The account's integration has no MCP tool of that name.
    #[error("the integration has no tool `{0}`")]
    UnknownTool(String),
    /// Sandbox accounts refuse writes.
    #[error("integrated account `{0}` is a sandbox account and refuses write operations")]
    SandboxWrite(String),
    /// The integration config does not compile.
    #[error("invalid integration `{name}`: {message}")]
    InvalidIntegration {
        /// The integration name.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// An action step failed.
    #[error("action `{action}` failed at step {step} ({kind}): {message}")]
    Action {
        /// The action name.
        action: String,
        /// 0-based step index.
        step: usize,
        /// The step type.
        kind: &'static str,
        /// What went wrong.
        message: String,
    },
    /// The account has nothing to refresh: an `api_key` account, or an
    /// `oauth2` account without a refresh token.
    #[error("integrated account `{account}` cannot refresh its credentials: {reason}")]
    CannotRefresh {
        /// The account id.
        account: String,
        /// Why not.
        reason: &'static str,
    },
    /// Getting new tokens failed (a rejection has already marked the account
    /// `needs_reauth`).
    #[error(transparent)]
    Auth(patchbay_auth::AuthError),
    /// The host's store failed.
    #[error("account store error: {0}")]
    Store(StoreError),
    /// The request pipeline failed.
    #[error(transparent)]
    Executor(#[from] ExecutorError),
    /// The install's config has no `webhook` key, so it accepts no inbound webhooks.
    #[error(
        "the integration installed as `{0}` has no `webhook` config, so it accepts no inbound webhooks"
    )]
    NoWebhook(String),
    /// The install's `webhook` config does not compile (kept from
    /// [`install`](crate::Patchbay::install): every webhook gets this error).
    #[error("the `webhook` config of `{name}` cannot be used: {source}")]
    InvalidWebhook {
        /// The install.
        name: String,
        /// What is wrong (it names fields, never their values).
        source: Arc<WebhookError>,
    },
    /// An inbound webhook was refused: verification failed
    /// ([`WebhookError::Verification`]), `signature_verification` cannot be used with
    /// the context ([`WebhookError::Config`]), or an expression failed on the request
    /// or returned the wrong shape.
    #[error(transparent)]
    Webhook(WebhookError),
    /// A unified request could not be mapped: a missing required field or a bad `truto_*`
    /// parameter (the caller's, status 400), or a mapping that fails on it (status 500).
    /// [`Error::unified_error`] gives the unified error body, with `truto_error_insight`.
    #[error(transparent)]
    Unified(UnifiedError),
    /// The provider answered a unified call with an error, mapped by the mapping's
    /// `error_mapping` (or the default) into `mapped`; `source` is the pipeline's error,
    /// so [`Error::kind`] and [`Error::provider_response`] are those of the provider call.
    #[error("the provider refused the unified call: {source}")]
    UnifiedProvider {
        /// The unified error: the status to answer and the body.
        mapped: Box<MappedError>,
        /// The pipeline's error.
        source: ExecutorError,
    },
    /// No unified mapping is registered for this install, model, resource and method.
    #[error(
        "the install `{install}` has no unified mapping for {model}/{resource} method `{method}`"
    )]
    UnknownUnifiedMethod {
        /// The install id.
        install: String,
        /// The unified model.
        model: String,
        /// The unified resource.
        resource: String,
        /// The unified method.
        method: String,
    },
    /// A unified mapping (its layers merged) does not compile.
    #[error("invalid unified mapping {model}/{resource} method `{method}`: {source}")]
    InvalidUnifiedMapping {
        /// The unified model.
        model: String,
        /// The unified resource.
        resource: String,
        /// The unified method.
        method: String,
        /// Every problem, with its JSON path.
        source: ValidationErrors,
    },
}

/// The stable classification of an [`Error`]: what a host answers its own caller, without
/// matching the pipeline's error variants (which grow as the pipeline does).
///
/// ```
/// use patchbay::{Error, ErrorKind};
///
/// let error = Error::UnknownAccount("acct-1".into());
/// assert_eq!(error.kind(), ErrorKind::NotFound);
/// assert!(error.provider_response().is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The integration, account, action, resource or method does not exist.
    NotFound,
    /// The call cannot be made as asked: a bad input (id, query, body, an inbound
    /// webhook that fails verification) or an operation the account refuses (a write
    /// on a sandbox account, a refresh without a refresh token).
    Caller,
    /// The integration config cannot run as written.
    Config,
    /// Credentials could not be obtained, or the provider refused them after a refresh:
    /// the account needs re-authorization.
    Auth,
    /// The provider answered with an error, or with a response Patchbay could not use
    /// ([`Error::provider_response`] has the answer when there was one).
    Provider,
    /// The provider rate limited the account beyond what the retry policy waits, or the
    /// account is paused or has too many calls in flight.
    RateLimited,
    /// No complete answer arrived (connection, timeout, a refused destination).
    Transport,
    /// The caller cancelled the call.
    Cancelled,
    /// The host's account store failed.
    Storage,
}

impl Error {
    /// The stable classification of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::UnknownIntegration(_)
            | Error::UnknownAccount(_)
            | Error::WrongIntegration { .. }
            | Error::UnknownCredential { .. }
            | Error::UnknownAction(_)
            | Error::UnknownTool(_) => ErrorKind::NotFound,
            Error::SandboxWrite(_) | Error::CannotRefresh { .. } => ErrorKind::Caller,
            Error::InvalidIntegration { .. } => ErrorKind::Config,
            Error::Action { .. } => ErrorKind::Provider,
            Error::Auth(_) => ErrorKind::Auth,
            Error::Store(_) => ErrorKind::Storage,
            Error::Executor(error) => executor_kind(error),
            Error::NoWebhook(_) => ErrorKind::NotFound,
            Error::InvalidWebhook { .. } => ErrorKind::Config,
            Error::Webhook(error) => webhook_kind(error),
            Error::Unified(error) if error.status() < 500 => ErrorKind::Caller,
            Error::Unified(_) | Error::InvalidUnifiedMapping { .. } => ErrorKind::Config,
            Error::UnifiedProvider { source, .. } => executor_kind(source),
            Error::UnknownUnifiedMethod { .. } => ErrorKind::NotFound,
        }
    }

    /// The provider's error answer (status, headers, body, message) when the call failed
    /// with one: an error status, an `error_expression` fault, or the last rate-limited
    /// answer.
    pub fn provider_response(&self) -> Option<&patchbay_ratelimit::ProviderError> {
        match self {
            Error::Executor(error) | Error::UnifiedProvider { source: error, .. } => {
                error.provider_error()
            }
            _ => None,
        }
    }

    /// The unified error answer of a failed unified call (`Patchbay::unified`): the mapped
    /// provider error of [`Error::UnifiedProvider`], or for [`Error::Unified`] its status
    /// and `{message, truto_error_insight?}`. `None` for other errors (the host answers
    /// them as for any call, by [`kind`](Self::kind)).
    ///
    /// ```
    /// use patchbay::Error;
    /// use patchbay::unified::UnifiedError;
    ///
    /// let error = Error::Unified(UnifiedError::MissingRequired { query: vec![], body: vec!["email".into()] });
    /// let answer = error.unified_error().unwrap();
    /// assert_eq!(answer.status, 400);
    /// assert_eq!(answer.body["truto_error_insight"]["missing_required_body_fields"]["value"][0], "email");
    /// ```
    pub fn unified_error(&self) -> Option<MappedError> {
        match self {
            Error::UnifiedProvider { mapped, .. } => Some((**mapped).clone()),
            Error::Unified(error) => {
                let mut body = serde_json::Map::new();
                body.insert("message".into(), error.to_string().into());
                if let Some(insight) = error.insight() {
                    body.insert("truto_error_insight".into(), insight);
                }
                Some(MappedError {
                    status: error.status(),
                    body: body.into(),
                })
            }
            _ => None,
        }
    }

    /// Whether [`kind`](Self::kind) is [`ErrorKind::NotFound`].
    pub fn is_not_found(&self) -> bool {
        self.kind() == ErrorKind::NotFound
    }

    /// Whether [`kind`](Self::kind) is [`ErrorKind::RateLimited`].
    pub fn is_rate_limited(&self) -> bool {
        self.kind() == ErrorKind::RateLimited
    }

    /// Whether [`kind`](Self::kind) is [`ErrorKind::Auth`].
    pub fn is_auth(&self) -> bool {
        self.kind() == ErrorKind::Auth
    }
}

/// A request that fails verification is the caller's; a config or an expression that
/// cannot handle it is the config's.
fn webhook_kind(error: &WebhookError) -> ErrorKind {
    match error {
        WebhookError::Verification(VerificationError::Config(_)) => ErrorKind::Config,
        WebhookError::Verification(_) => ErrorKind::Caller,
        _ => ErrorKind::Config,
    }
}

fn executor_kind(error: &ExecutorError) -> ErrorKind {
    if error.is_rate_limited() {
        return ErrorKind::RateLimited;
    }
    match error {
        ExecutorError::UnknownMethod { .. } => ErrorKind::NotFound,
        ExecutorError::Template(_)
        | ExecutorError::Url(_)
        | ExecutorError::Body(_)
        | ExecutorError::Pagination(_) => ErrorKind::Caller,
        ExecutorError::Config(_) => ErrorKind::Config,
        ExecutorError::Auth(_) => ErrorKind::Auth,
        ExecutorError::Transport { .. } => ErrorKind::Transport,
        ExecutorError::Cancelled => ErrorKind::Cancelled,
        // An error answer, a body its format cannot parse, an expression failing on the
        // answer: all about what the provider sent.
        _ => ErrorKind::Provider,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn kinds_of_pipeline_errors() {
        let cases = [
            (
                ExecutorError::UnknownMethod {
                    resource: "a".into(),
                    method: "b".into(),
                },
                ErrorKind::NotFound,
            ),
            (ExecutorError::Config("x".into()), ErrorKind::Config),
            (ExecutorError::Body("x".into()), ErrorKind::Caller),
            (ExecutorError::Cancelled, ErrorKind::Cancelled),
            (
                ExecutorError::AccountPaused {
                    required: Duration::from_secs(9),
                    max: Duration::from_secs(1),
                },
                ErrorKind::RateLimited,
            ),
            (
                ExecutorError::TooManyInFlight {
                    limit: 1,
                    waited: Duration::from_secs(1),
                },
                ErrorKind::RateLimited,
            ),
        ];
        for (error, kind) in cases {
            let error = Error::from(error);
            assert_eq!(error.kind(), kind, "{error}");
        }
        assert_eq!(Error::SandboxWrite("acct".into()).kind(), ErrorKind::Caller);
        assert!(Error::UnknownIntegration("x".into()).is_not_found());
    }
}
