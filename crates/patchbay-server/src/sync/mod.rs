//! Executing sync job runs in the server process: [`SyncRuns`].
//!
//! A run (`POST /sync-job-run`) is executed by a background task of the process that
//! created it, with the facade of the run's account as the page source
//! ([`patchbay::sync::Runner`]), its checkpoints in the store ([`StoreRunStore`]) and its
//! events in the webhook outbox ([`OutboxSink`]); a run with a `datastore_id` upserts its
//! records into the datastore's tables first ([`DatastoreSink`]).
//!
//! A process executes a run only while it holds the run's lease (one conditional update
//! in the store), renewed every third of [`SyncOptions::lease`]; every checkpoint is
//! saved only under the lease. If the process dies, the lease expires and
//! [`SyncRuns::resume_interrupted`] (run every [`SyncOptions::sweep_interval`] by
//! [`SyncRuns::spawn_sweeper`], in any process sharing the database) claims the run and
//! resumes it from its last checkpoint: no record is lost, the page in flight may be
//! delivered again with the same sequence numbers.
//!
//! Not here yet (see `docs/sync-jobs.md`): cron triggers and a job engine (scheduling
//! across processes beyond the lease, `mutex_key`, per-account limits), and backpressure
//! from webhook receivers (an event is taken once it is queued).

mod datastore;
mod durable;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use patchbay::sync::{ErrorHandling, RunError, RunRequest, Runner, RunnerOptions};
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use datastore::{DatastoreSink, record_id};
pub use durable::{OutboxSink, SaveRefused, StoreRunStore};

use crate::runtime::Runtimes;
use crate::store::{Store, SyncJobRunRecord};

/// The `sync_job_run:*` events a webhook may subscribe to, as Truto names them.
pub const RUN_EVENTS: [&str; 7] = [
    "sync_job_run:created",
    "sync_job_run:started",
    "sync_job_run:record",
    "sync_job_run:record_error",
    "sync_job_run:rate_limited",
    "sync_job_run:completed",
    "sync_job_run:failed",
];

/// How runs are executed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncOptions {
    /// How long a lease lasts without renewal: a run whose process died is resumed this
    /// long after its last renewal, at the earliest (default 30 s).
    pub lease: Duration,
    /// How often [`SyncRuns::spawn_sweeper`] looks for interrupted runs (default 15 s).
    pub sweep_interval: Duration,
    /// Page size asked of list requests (`None`: the provider's default).
    pub page_size: Option<u64>,
    /// How long a rate-limited run waits when the provider did not say (default 60 s).
    pub default_rate_limit_wait: Duration,
}

impl SyncOptions {
    /// The defaults, with what the environment sets: `PATCHBAY_SYNC_LEASE_SECS` (at least
    /// 3, so the lease is renewed at least every second), `PATCHBAY_SYNC_SWEEP_SECS`,
    /// `PATCHBAY_SYNC_PAGE_SIZE` and `PATCHBAY_SYNC_RATE_LIMIT_WAIT_SECS`, each a positive
    /// whole number.
    ///
    /// # Errors
    ///
    /// A message naming the variable when its value is not usable.
    pub fn from_env() -> Result<Self, String> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// As [`from_env`](Self::from_env), reading the variables through `var`.
    ///
    /// # Errors
    ///
    /// As [`from_env`](Self::from_env).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let number = |name: &str| crate::serve::positive_number(name, var(name));
        let defaults = Self::default();
        let lease = match number("PATCHBAY_SYNC_LEASE_SECS")? {
            Some(seconds) if seconds < 3 => {
                return Err(format!(
                    "PATCHBAY_SYNC_LEASE_SECS=`{seconds}` must be at least 3 (the lease is renewed every third of it)"
                ));
            }
            Some(seconds) => Duration::from_secs(seconds),
            None => defaults.lease,
        };
        Ok(Self {
            lease,
            sweep_interval: number("PATCHBAY_SYNC_SWEEP_SECS")?
                .map_or(defaults.sweep_interval, Duration::from_secs),
            page_size: number("PATCHBAY_SYNC_PAGE_SIZE")?.or(defaults.page_size),
            default_rate_limit_wait: number("PATCHBAY_SYNC_RATE_LIMIT_WAIT_SECS")?
                .map_or(defaults.default_rate_limit_wait, Duration::from_secs),
        })
    }
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(30),
            sweep_interval: Duration::from_secs(15),
            page_size: None,
            default_rate_limit_wait: Duration::from_secs(60),
        }
    }
}

/// Executes sync job runs in this process (see the module docs).
pub struct SyncRuns {
    store: Arc<Store>,
    runtimes: Arc<Runtimes>,
    owner: String,
    options: SyncOptions,
    running: Mutex<HashMap<String, CancellationToken>>,
}

impl fmt::Debug for SyncRuns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SyncRuns")
            .field("owner", &self.owner)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// How one execution ended.
enum Ended {
    /// The run completed or failed (saved by the runner or here).
    Finished,
    /// Another process holds the run, or it is finished or stopped: nothing was done.
    NotClaimed,
    /// The run stopped where it is (store or outbox unavailable, lease lost, stopped,
    /// cancelled): it stays resumable unless it was stopped.
    Interrupted(String),
}

impl SyncRuns {
    /// Executes runs of `store` with the facades of `runtimes`; this process's lease
    /// holder name is unique per instance.
    pub fn new(store: Arc<Store>, runtimes: Arc<Runtimes>, options: SyncOptions) -> Self {
        Self {
            store,
            runtimes,
            owner: format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple()),
            options,
            running: Mutex::new(HashMap::new()),
        }
    }

    /// The name this instance holds leases under.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Executes the run `run_id` of `environment_id` in a background task, unless another
    /// process (or task) holds it. The task ends when the run completes, fails, is
    /// stopped, or cannot go on (it then stays resumable).
    pub fn start(self: &Arc<Self>, environment_id: &str, run_id: &str) -> JoinHandle<()> {
        let this = self.clone();
        let (environment_id, run_id) = (environment_id.to_owned(), run_id.to_owned());
        tokio::spawn(async move {
            match this.execute(&environment_id, &run_id).await {
                Ended::Finished | Ended::NotClaimed => {}
                Ended::Interrupted(reason) => {
                    tracing::warn!(run = %run_id, %reason, "sync job run interrupted; it resumes from its last checkpoint");
                }
            }
        })
    }

    /// Stops the local execution of `run_id`, if this process runs it (the caller marks
    /// the run stopped in the store; other processes notice at their next lease renewal).
    pub fn cancel(&self, run_id: &str) {
        if let Some(token) = self.lock().get(run_id) {
            token.cancel();
        }
    }

    /// Stops every local execution (at shutdown): each run stops at its next request or
    /// wait and releases its lease, to be resumed by [`resume_interrupted`](Self::resume_interrupted).
    pub fn cancel_all(&self) {
        for token in self.lock().values() {
            token.cancel();
        }
    }

    /// Starts every unfinished run that nobody holds (never started, or its process died
    /// and its lease expired); answers how many were found.
    pub async fn resume_interrupted(self: &Arc<Self>) -> usize {
        match self.store.interrupted_sync_job_runs(Utc::now(), 100).await {
            Ok(runs) => {
                for run in &runs {
                    self.start(&run.environment_id, &run.id);
                }
                runs.len()
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot look for interrupted sync job runs");
                0
            }
        }
    }

    /// Calls [`resume_interrupted`](Self::resume_interrupted) now and every
    /// [`SyncOptions::sweep_interval`] until the task is aborted.
    pub fn spawn_sweeper(self: &Arc<Self>) -> JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(this.options.sweep_interval);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                this.resume_interrupted().await;
            }
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, CancellationToken>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lease_until(&self) -> chrono::DateTime<Utc> {
        Utc::now() + chrono::Duration::from_std(self.options.lease).unwrap_or_default()
    }

    async fn execute(self: &Arc<Self>, environment_id: &str, run_id: &str) -> Ended {
        match self
            .store
            .claim_sync_job_run(run_id, &self.owner, Utc::now(), self.lease_until())
            .await
        {
            Ok(true) => {}
            Ok(false) => return Ended::NotClaimed,
            Err(e) => return Ended::Interrupted(format!("cannot claim the run: {e}")),
        }
        let cancel = CancellationToken::new();
        self.lock().insert(run_id.to_owned(), cancel.clone());
        let ended = tokio::select! {
            ended = self.run(environment_id, run_id, cancel.clone()) => ended,
            reason = self.keep_lease(run_id) => {
                cancel.cancel();
                Ended::Interrupted(reason)
            }
        };
        self.lock().remove(run_id);
        if let Ended::Interrupted(_) = &ended
            && let Err(e) = self.store.release_sync_job_run(run_id, &self.owner).await
        {
            tracing::warn!(run = %run_id, error = %e, "cannot release a sync job run");
        }
        ended
    }

    /// Renews the lease every third of its length; returns when it cannot.
    async fn keep_lease(&self, run_id: &str) -> String {
        let every = self.options.lease / 3;
        loop {
            tokio::time::sleep(every).await;
            match self
                .store
                .renew_sync_job_run_lease(run_id, &self.owner, self.lease_until())
                .await
            {
                Ok(true) => {}
                Ok(false) => return "the run was stopped or is held by another process".into(),
                Err(e) => return format!("cannot renew the lease: {e}"),
            }
        }
    }

    async fn run(&self, environment_id: &str, run_id: &str, cancel: CancellationToken) -> Ended {
        let record = match self.store.get_sync_job_run(environment_id, run_id).await {
            Ok(record) => record,
            Err(e) => return Ended::Interrupted(format!("cannot read the run: {e}")),
        };
        let plan = match self
            .store
            .get_sync_job(environment_id, &record.sync_job_id)
            .await
        {
            Ok(job) => match patchbay::sync::validate_sync_job(&job.job_json()) {
                Ok(plan) => plan,
                Err(errors) => {
                    return self
                        .fail(&record, format!("the stored sync job is invalid: {errors}"))
                        .await;
                }
            },
            Err(e) => return Ended::Interrupted(format!("cannot read the sync job: {e}")),
        };
        let source = match self
            .runtimes
            .for_account(environment_id, &record.integrated_account_id)
            .await
        {
            Ok(patchbay) => patchbay,
            Err(e) => {
                return self
                    .fail(&record, format!("the account cannot be used: {e}"))
                    .await;
            }
        };
        let runner = Runner::new(
            source,
            Arc::new(StoreRunStore::new(self.store.clone(), self.owner.clone())),
            datastore::run_sink(
                &self.store,
                &record,
                Arc::new(OutboxSink::new(self.store.clone(), environment_id)),
            ),
        )
        .options(RunnerOptions {
            page_size: self.options.page_size,
            default_rate_limit_wait: self.options.default_rate_limit_wait,
            ..RunnerOptions::default()
        })
        .cancel_token(cancel);
        let request = RunRequest {
            sync_job_id: Some(record.sync_job_id.clone()),
            ..RunRequest::new(&record.id, &record.integrated_account_id)
                .args(Value::Object(record.args.clone()))
                .ignore_previous_run(record.ignore_previous_run)
                .error_handling(error_handling(&record.error_handling))
        };
        match runner.run(&plan, &request).await {
            Ok(_) => Ended::Finished,
            Err(
                e @ (RunError::InvalidArgs(_)
                | RunError::ArgsRefused(_)
                | RunError::Account { .. }
                | RunError::RunMismatch { .. }
                | RunError::CheckpointMismatch { .. }),
            ) => self.fail(&record, e.to_string()).await,
            Err(e) => Ended::Interrupted(e.to_string()),
        }
    }

    /// Marks a run the runner could not carry out as failed and queues
    /// `sync_job_run:failed`.
    async fn fail(&self, record: &SyncJobRunRecord, error: String) -> Ended {
        tracing::warn!(run = %record.id, %error, "sync job run failed");
        match self
            .store
            .fail_sync_job_run(&record.id, &self.owner, &error)
            .await
        {
            Ok(true) => {
                let payload = json!({
                    "sync_job_run_id": record.id,
                    "sync_job_id": record.sync_job_id,
                    "integrated_account_id": record.integrated_account_id,
                    "status": "failed",
                    "error": error,
                });
                if let Err(e) = self
                    .store
                    .enqueue_event(&record.environment_id, "sync_job_run:failed", &payload)
                    .await
                {
                    tracing::warn!(run = %record.id, error = %e, "cannot queue sync_job_run:failed");
                }
                Ended::Finished
            }
            Ok(false) => Ended::Interrupted("the run was stopped or is held elsewhere".into()),
            Err(e) => Ended::Interrupted(format!("cannot mark the run failed: {e}")),
        }
    }
}

/// The runner's setting named `text` in a run's `error_handling` (`ignore` or
/// `fail_fast`); `None` for any other name.
pub fn error_handling_named(text: &str) -> Option<ErrorHandling> {
    match text {
        "fail_fast" => Some(ErrorHandling::FailFast),
        "ignore" => Some(ErrorHandling::Ignore),
        _ => None,
    }
}

/// The runner's setting for a stored `error_handling` (checked by
/// [`error_handling_named`] when the run was created).
fn error_handling(text: &str) -> ErrorHandling {
    error_handling_named(text).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::time::Duration;

    use super::SyncOptions;

    fn options(vars: &[(&str, &str)]) -> Result<SyncOptions, String> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        SyncOptions::from_vars(|name| vars.get(name).cloned())
    }

    #[test]
    fn the_environment_sets_each_option_and_bad_values_name_their_variable() {
        assert_eq!(options(&[]), Ok(SyncOptions::default()));
        assert_eq!(
            options(&[
                ("PATCHBAY_SYNC_LEASE_SECS", "90"),
                ("PATCHBAY_SYNC_SWEEP_SECS", " 5 "),
                ("PATCHBAY_SYNC_PAGE_SIZE", "250"),
                ("PATCHBAY_SYNC_RATE_LIMIT_WAIT_SECS", "120"),
            ]),
            Ok(SyncOptions {
                lease: Duration::from_secs(90),
                sweep_interval: Duration::from_secs(5),
                page_size: Some(250),
                default_rate_limit_wait: Duration::from_secs(120),
            })
        );
        assert_eq!(
            options(&[("PATCHBAY_SYNC_SWEEP_SECS", "")]),
            Ok(SyncOptions::default()),
            "an empty variable is unset"
        );
        for (name, value, expected) in [
            ("PATCHBAY_SYNC_LEASE_SECS", "2", "must be at least 3"),
            (
                "PATCHBAY_SYNC_SWEEP_SECS",
                "0",
                "must be a positive whole number",
            ),
            (
                "PATCHBAY_SYNC_PAGE_SIZE",
                "-1",
                "must be a positive whole number",
            ),
            (
                "PATCHBAY_SYNC_RATE_LIMIT_WAIT_SECS",
                "1m",
                "must be a positive whole number",
            ),
        ] {
            let error = options(&[(name, value)]).expect_err(name);
            assert!(error.starts_with(&format!("{name}=`{value}`")), "{error}");
            assert!(error.contains(expected), "{error}");
        }
    }
}
