//! Why a run could not be carried out (as opposed to a run that failed: that is a
//! [`RunState`](crate::RunState) with status `failed`).

use patchbay_config::ValidationErrors;

use crate::sink::SinkError;
use crate::store::RunStoreError;

/// Why [`Runner::run`](crate::Runner::run) returned without finishing the run. Except
/// for the argument errors (nothing was started), the run stays where its last
/// checkpoint left it and a later `run` with the same run id resumes it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The run's `args` do not match the job's `args_schema` (every problem, with paths
    /// under `args`).
    #[error("invalid run arguments: {0}")]
    InvalidArgs(ValidationErrors),
    /// The job's `args_validation` refused the arguments.
    #[error("the job's args_validation refused the arguments: {0}")]
    ArgsRefused(String),
    /// The integrated account could not be read.
    #[error("integrated account `{account}` cannot be used: {reason}")]
    Account {
        /// The account id.
        account: String,
        /// Why.
        reason: String,
    },
    /// The saved run belongs to another job or account than the request names.
    #[error("run `{run_id}` belongs to job `{job}` and account `{account}`, not to this request")]
    RunMismatch {
        /// The run id.
        run_id: String,
        /// The job of the saved run.
        job: String,
        /// The account of the saved run.
        account: String,
    },
    /// The saved checkpoint does not fit the job (the job's resources changed since the
    /// run started).
    #[error("the checkpoint of run `{run_id}` does not fit the job: {detail}")]
    CheckpointMismatch {
        /// The run id.
        run_id: String,
        /// What does not fit.
        detail: String,
    },
    /// The run store failed.
    #[error(transparent)]
    Store(#[from] RunStoreError),
    /// The sink could not take an event.
    #[error(transparent)]
    Sink(SinkError),
    /// The runner's cancellation token was cancelled.
    #[error("the run was cancelled; it resumes from its last checkpoint when run again")]
    Cancelled,
}
