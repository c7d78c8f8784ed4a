//! Errors of the facade.

use patchbay_executor::ExecutorError;

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
    /// The config has no action of that name.
    #[error("the integration has no action `{0}`")]
    UnknownAction(String),
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
}
