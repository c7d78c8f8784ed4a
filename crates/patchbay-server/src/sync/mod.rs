//! Executing sync job runs: [`SyncRuns`] on the job engine ([`SyncEngine`]).
//!
//! A run (`POST /sync-job-run`, or a cron trigger firing) is created by a [`RunOrder`]
//! and handed to the engine's queue ([`SyncRuns::submit`]); a worker of any process
//! sharing the database takes it and executes it with the facade of the run's account
//! as the page source ([`patchbay::sync::Runner`]), its checkpoints in the store
//! ([`StoreRunStore`]) and its events in the webhook outbox ([`OutboxSink`]).
//! A run with a `datastore_id` upserts its records into the datastore's tables first
//! ([`DatastoreSink`]).
//!
//! A process executes a run only while it holds the run's lease (one conditional update
//! in the store), renewed every third of [`SyncOptions::lease`]; every checkpoint is
//! saved only under the lease. If the process dies, the lease expires and the engine
//! hands the run's task to a live process, which claims the run and resumes it from its
//! last checkpoint: no record is lost, the page in flight may be delivered again with
//! the same sequence numbers.
//!
//! Cron triggers (`/sync-job-cron-trigger`, [`cron`]) are fired by the engine's tick in
//! every process; one conditional update per due time makes exactly one process create
//! the run.
//!
//! Receivers pace a run: after a page of records it waits while
//! [`SyncOptions::delivery_window`] of its record deliveries are undelivered
//! ([`OutboxSink`]).
//!
//! A run is claimed only when its `mutex_key` and the concurrency limits
//! ([`SyncOptions::limits`]) let it execute
//! ([`Store::claim_sync_job_run_within`]); otherwise its task ends at once and the run
//! stays `created`: it is queued again when a run of its environment ends
//! ([`SyncRuns::wake_waiting`]), and by the engine's lost-run sweep.

pub mod cron;
mod datastore;
mod durable;
pub mod engine;
mod orders;

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use patchbay::sync::{ErrorHandling, RunError, RunRequest, Runner, RunnerOptions};
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use datastore::{DatastoreSink, record_id};
pub use durable::{OutboxSink, SaveRefused, StoreRunStore};
pub use engine::{EngineError, RunTask, SyncEngine};
pub use orders::RunOrder;

use crate::runtime::Runtimes;
use crate::store::{
    RunClaim, RunHold, RunLimits, Store, SyncJobCronTriggerRecord, SyncJobRunRecord,
};
use engine::RunQueue;

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
    /// How often the engine's tick fires due cron triggers and queues lost runs again
    /// (default 15 s; ticks come at most every 59 s).
    pub sweep_interval: Duration,
    /// How many runs one process executes at once (default 4): the engine's worker
    /// takes no more tasks while that many run.
    pub workers: usize,
    /// How often an idle worker looks for queued runs (default 1 s): a new run starts
    /// within about this long.
    pub poll_interval: Duration,
    /// How many pages of a run's records may wait for delivery to its webhooks before
    /// the run waits for its receivers (default 8; 1: each page only after the previous
    /// one was answered 2xx, in order; 0: never wait). See [`OutboxSink`].
    pub delivery_window: u64,
    /// Page size asked of list requests (`None`: the provider's default).
    pub page_size: Option<u64>,
    /// How long a rate-limited run waits when the provider did not say (default 60 s).
    pub default_rate_limit_wait: Duration,
    /// How many runs may execute at once per integrated account and per integration
    /// of an environment (default: no limit); a run over a limit waits (`created`).
    pub limits: RunLimits,
}

impl SyncOptions {
    /// The defaults, with what the environment sets: `PATCHBAY_SYNC_LEASE_SECS` (at least
    /// 3, so the lease is renewed at least every second), `PATCHBAY_SYNC_SWEEP_SECS`,
    /// `PATCHBAY_SYNC_PAGE_SIZE`, `PATCHBAY_SYNC_RATE_LIMIT_WAIT_SECS`,
    /// `PATCHBAY_SYNC_WORKERS`, `PATCHBAY_SYNC_MAX_RUNS_PER_ACCOUNT` and
    /// `PATCHBAY_SYNC_MAX_RUNS_PER_INTEGRATION`, each a positive whole number (the sweep
    /// at most 59), and `PATCHBAY_SYNC_DELIVERY_WINDOW`, a whole number.
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
        let sweep_interval = match number("PATCHBAY_SYNC_SWEEP_SECS")? {
            Some(seconds) if seconds > 59 => {
                return Err(format!(
                    "PATCHBAY_SYNC_SWEEP_SECS=`{seconds}` must be at most 59 (the engine ticks within each minute)"
                ));
            }
            Some(seconds) => Duration::from_secs(seconds),
            None => defaults.sweep_interval,
        };
        Ok(Self {
            lease,
            sweep_interval,
            workers: number("PATCHBAY_SYNC_WORKERS")?.map_or(defaults.workers, |n| {
                usize::try_from(n).unwrap_or(usize::MAX)
            }),
            poll_interval: defaults.poll_interval,
            delivery_window: match var("PATCHBAY_SYNC_DELIVERY_WINDOW").filter(|v| !v.trim().is_empty()) {
                Some(text) => text.trim().parse().map_err(|_| {
                    format!("PATCHBAY_SYNC_DELIVERY_WINDOW=`{text}` must be a whole number (0: runs never wait for their receivers)")
                })?,
                None => defaults.delivery_window,
            },
            page_size: number("PATCHBAY_SYNC_PAGE_SIZE")?.or(defaults.page_size),
            default_rate_limit_wait: number("PATCHBAY_SYNC_RATE_LIMIT_WAIT_SECS")?
                .map_or(defaults.default_rate_limit_wait, Duration::from_secs),
            limits: RunLimits {
                per_account: number("PATCHBAY_SYNC_MAX_RUNS_PER_ACCOUNT")?
                    .or(defaults.limits.per_account),
                per_integration: number("PATCHBAY_SYNC_MAX_RUNS_PER_INTEGRATION")?
                    .or(defaults.limits.per_integration),
            },
        })
    }
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(30),
            sweep_interval: Duration::from_secs(15),
            workers: 4,
            poll_interval: Duration::from_secs(1),
            delivery_window: 8,
            page_size: None,
            default_rate_limit_wait: Duration::from_secs(60),
            limits: RunLimits::default(),
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
    queue: OnceLock<RunQueue>,
    stopping: AtomicBool,
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
    /// The run waits for its `mutex_key` or a concurrency limit (why): nothing was done,
    /// it stays `created` (or where it was) and must be executed again later (the
    /// sweeper does, and [`SyncRuns::wake_waiting`] when a run ends).
    Waiting(String),
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
            queue: OnceLock::new(),
            stopping: AtomicBool::new(false),
        }
    }

    /// How runs are executed.
    pub fn options(&self) -> &SyncOptions {
        &self.options
    }

    /// The store runs live in.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Sends submitted runs to `queue` (by [`SyncEngine::start`]; the first queue stays).
    pub(crate) fn attach(&self, queue: RunQueue) {
        let _ = self.queue.set(queue);
    }

    /// Hands the run `run_id` (created by a [`RunOrder`]) to the engine's queue, to be
    /// executed by whichever process's worker takes it. When the queue cannot take it
    /// (or no engine was started in this process), the run stays `created` and the tick
    /// of any process running the engine queues it again later.
    pub async fn submit(&self, environment_id: &str, run_id: &str) {
        self.queue_run(environment_id, run_id, Utc::now()).await;
    }

    /// Queues the run for `at`, noting it in the store (so the lost-run sweep leaves it).
    async fn queue_run(&self, environment_id: &str, run_id: &str, at: DateTime<Utc>) {
        let Some(queue) = self.queue.get() else {
            tracing::warn!(run = %run_id, "no sync-job engine runs in this process; the run waits for one");
            return;
        };
        let task = RunTask {
            environment_id: environment_id.to_owned(),
            run_id: run_id.to_owned(),
        };
        if let Err(e) = queue.push(task, at).await {
            tracing::warn!(run = %run_id, error = %e, "cannot queue a sync job run; it is queued again by the next sweep");
            return;
        }
        if let Err(e) = self.store.note_sync_job_run_queued(run_id, at).await {
            tracing::warn!(run = %run_id, error = %e, "cannot note a queued sync job run");
        }
    }

    /// Executes the run of an engine task (the engine's worker calls it). A run another
    /// process holds is left to it (if that process died, its task comes back once the
    /// lease expired); a run that could not go on is queued again.
    pub async fn execute_task(self: &Arc<Self>, task: &RunTask) {
        let (environment_id, run_id) = (&task.environment_id, &task.run_id);
        match self.execute(environment_id, run_id).await {
            Ended::Finished => {}
            // Queued again when the run it waits for ends (`wake_waiting`).
            Ended::Waiting(reason) => {
                tracing::debug!(run = %run_id, %reason, "sync job run waits");
            }
            Ended::NotClaimed => match self.store.sync_job_run_hold(run_id, Utc::now()).await {
                Ok(RunHold::Done | RunHold::HeldUntil(_)) => {}
                Ok(RunHold::Free) => {
                    self.queue_run(
                        environment_id,
                        run_id,
                        Utc::now() + chrono::Duration::seconds(1),
                    )
                    .await;
                }
                Err(e) => {
                    tracing::warn!(run = %run_id, error = %e, "cannot read a sync job run; the sweep queues it again");
                }
            },
            Ended::Interrupted(reason) => {
                let retry = if self.stopping.load(Ordering::SeqCst) {
                    chrono::Duration::zero()
                } else {
                    chrono::Duration::seconds(5)
                };
                tracing::warn!(run = %run_id, %reason, "sync job run interrupted; it resumes from its last checkpoint");
                self.queue_run(environment_id, run_id, Utc::now() + retry)
                    .await;
            }
        }
    }

    /// Queues again the unfinished runs nobody holds whose task was lost (the queue was
    /// unavailable when they were created, or their last task is long overdue).
    pub async fn requeue_lost_runs(&self) {
        let now = Utc::now();
        let stale = now - chrono::Duration::from_std(self.options.lease * 4).unwrap_or_default();
        match self.store.lost_sync_job_runs(now, stale, 100).await {
            Ok(runs) => {
                for run in runs {
                    self.queue_run(&run.environment_id, &run.id, now).await;
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot look for lost sync job runs"),
        }
    }

    /// Fires every due cron trigger once: takes the due time (one conditional update, so
    /// one process among those sharing the database does), creates the run and queues
    /// it. A trigger whose run cannot be created (its job or account changed) records
    /// why and queues `sync_job_cron_trigger:failed`; it stays scheduled.
    pub async fn fire_due_triggers(&self) {
        let now = Utc::now();
        let due = match self.store.due_sync_job_cron_triggers(now, 100).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "cannot look for due sync job cron triggers");
                return;
            }
        };
        for trigger in due {
            self.fire(trigger, now).await;
        }
    }

    async fn fire(&self, trigger: SyncJobCronTriggerRecord, now: DateTime<Utc>) {
        let Some(due) = trigger.next_fire_at else {
            return;
        };
        let next = match cron::next_time(&trigger.trigger.cron_expression, now) {
            Ok(next) => next,
            Err(_) => {
                // A stored expression always parses and always has a next time; should one
                // not, the trigger is unscheduled rather than fired in a loop.
                let _ = self
                    .store
                    .schedule_sync_job_cron_trigger(&trigger.environment_id, &trigger.id, None)
                    .await;
                return;
            }
        };
        match self
            .store
            .claim_sync_job_cron_fire(&trigger.id, due, next)
            .await
        {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                tracing::warn!(trigger = %trigger.id, error = %e, "cannot fire a sync job cron trigger");
                return;
            }
        }
        let order = RunOrder {
            sync_job_id: trigger.trigger.sync_job_id.clone(),
            integrated_account_id: trigger.trigger.integrated_account_id.clone(),
            args: trigger.trigger.args.clone(),
            error_handling: trigger.trigger.error_handling.clone(),
            ignore_previous_run: trigger.trigger.ignore_previous_run,
            sync_job_cron_trigger_id: Some(trigger.id.clone()),
            force: false,
            datastore_id: None,
        };
        let outcome = match order.create(&self.store, &trigger.environment_id).await {
            Ok(run) => {
                self.submit(&trigger.environment_id, &run.id).await;
                Ok(run.id)
            }
            Err(e) => Err(e.to_string()),
        };
        if let Err(error) = &outcome {
            tracing::warn!(trigger = %trigger.id, %error, "a sync job cron trigger created no run");
            let payload = json!({
                "sync_job_cron_trigger_id": trigger.id,
                "sync_job_id": trigger.trigger.sync_job_id,
                "integrated_account_id": trigger.trigger.integrated_account_id,
                "error": error,
            });
            if let Err(e) = self
                .store
                .enqueue_event(
                    &trigger.environment_id,
                    "sync_job_cron_trigger:failed",
                    &payload,
                )
                .await
            {
                tracing::warn!(trigger = %trigger.id, error = %e, "cannot queue sync_job_cron_trigger:failed");
            }
        }
        if let Err(e) = self
            .store
            .record_sync_job_cron_fire(&trigger.id, outcome.as_deref().map_err(String::as_str))
            .await
        {
            tracing::warn!(trigger = %trigger.id, error = %e, "cannot record a sync job cron trigger's firing");
        }
    }

    /// The name this instance holds leases under.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Executes the run `run_id` of `environment_id` in a background task of this
    /// process, without the engine's queue, unless another process (or task) holds it. The task ends when the run completes, fails, is
    /// stopped, or cannot go on (it then stays resumable).
    pub fn start(self: &Arc<Self>, environment_id: &str, run_id: &str) -> JoinHandle<()> {
        let this = self.clone();
        let (environment_id, run_id) = (environment_id.to_owned(), run_id.to_owned());
        tokio::spawn(async move {
            match this.execute(&environment_id, &run_id).await {
                Ended::Finished | Ended::NotClaimed => {}
                Ended::Waiting(reason) => {
                    tracing::debug!(run = %run_id, %reason, "sync job run waits");
                }
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
    /// wait, releases its lease and is queued again for another process (or this one's
    /// next start); no run is claimed here afterwards.
    pub fn cancel_all(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        for token in self.lock().values() {
            token.cancel();
        }
    }

    /// Starts here, without the engine's queue, every unfinished run that nobody holds
    /// (never started, or its process died and its lease expired); answers how many were
    /// found. (The engine does this by itself; this is for hosts and tests that execute
    /// runs directly with [`start`](Self::start).)
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

    /// Queues on the engine the unclaimed unfinished runs of `environment_id` (at most
    /// 100, oldest first): called when a run ends or is stopped, so the runs waiting for
    /// its mutex or its concurrency slot go on at once. A run that still has to wait
    /// ends its task at once and waits for the next wake. Without
    /// an engine in this process ([`SyncEngine::start`] not called) they are started
    /// here ([`start`](Self::start)).
    pub fn wake_waiting(self: &Arc<Self>, environment_id: &str) {
        let this = self.clone();
        let environment_id = environment_id.to_owned();
        tokio::spawn(async move {
            match this.store.waiting_sync_job_runs(&environment_id, 100).await {
                Ok(runs) => {
                    for run in runs {
                        if this.queue.get().is_some() {
                            this.queue_run(&run.environment_id, &run.id, Utc::now())
                                .await;
                        } else {
                            // No engine in this process: runs are executed here directly.
                            this.start(&run.environment_id, &run.id);
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot look for waiting sync job runs"),
            }
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, CancellationToken>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lease_until(&self) -> chrono::DateTime<Utc> {
        Utc::now() + chrono::Duration::from_std(self.options.lease).unwrap_or_default()
    }

    async fn execute(self: &Arc<Self>, environment_id: &str, run_id: &str) -> Ended {
        if self.stopping.load(Ordering::SeqCst) {
            return Ended::Interrupted("this process is stopping".into());
        }
        match self
            .store
            .claim_sync_job_run_within(
                run_id,
                &self.owner,
                self.options.lease,
                &self.options.limits,
            )
            .await
        {
            Ok(RunClaim::Claimed) => {}
            Ok(RunClaim::NotClaimed) => return Ended::NotClaimed,
            Ok(RunClaim::Waiting(reason)) => return Ended::Waiting(reason),
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
        if let Ended::Finished = &ended {
            self.wake_waiting(environment_id);
        }
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
                Arc::new(
                    OutboxSink::new(self.store.clone(), environment_id)
                        .with_window(self.options.delivery_window, self.options.poll_interval),
                ),
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
    use crate::store::RunLimits;

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
                ("PATCHBAY_SYNC_WORKERS", "2"),
                ("PATCHBAY_SYNC_DELIVERY_WINDOW", "0"),
                ("PATCHBAY_SYNC_MAX_RUNS_PER_ACCOUNT", "2"),
                ("PATCHBAY_SYNC_MAX_RUNS_PER_INTEGRATION", "10"),
            ]),
            Ok(SyncOptions {
                lease: Duration::from_secs(90),
                sweep_interval: Duration::from_secs(5),
                workers: 2,
                poll_interval: Duration::from_secs(1),
                delivery_window: 0,
                page_size: Some(250),
                default_rate_limit_wait: Duration::from_secs(120),
                limits: RunLimits {
                    per_account: Some(2),
                    per_integration: Some(10),
                },
            })
        );
        assert_eq!(
            options(&[("PATCHBAY_SYNC_SWEEP_SECS", "")]),
            Ok(SyncOptions::default()),
            "an empty variable is unset"
        );
        for (name, value, expected) in [
            ("PATCHBAY_SYNC_LEASE_SECS", "2", "must be at least 3"),
            ("PATCHBAY_SYNC_SWEEP_SECS", "60", "must be at most 59"),
            (
                "PATCHBAY_SYNC_WORKERS",
                "0",
                "must be a positive whole number",
            ),
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
            (
                "PATCHBAY_SYNC_MAX_RUNS_PER_ACCOUNT",
                "0",
                "must be a positive whole number",
            ),
            (
                "PATCHBAY_SYNC_MAX_RUNS_PER_INTEGRATION",
                "many",
                "must be a positive whole number",
            ),
        ] {
            let error = options(&[(name, value)]).expect_err(name);
            assert!(error.starts_with(&format!("{name}=`{value}`")), "{error}");
            assert!(error.contains(expected), "{error}");
        }
    }
}
