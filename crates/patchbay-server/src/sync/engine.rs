//! The job engine under sync jobs: [apalis](https://docs.rs/apalis) with its storage in
//! the store's own database (see `docs/sync-jobs-engine.md` for why apalis and how).
//!
//! - **Runs** are apalis tasks ([`RunTask`]) in one queue per database: `POST
//!   /sync-job-run` and firing cron triggers push a task; every process started with
//!   [`SyncEngine::start`] runs an apalis worker that takes tasks from the queue (one
//!   claim per task: `FOR UPDATE SKIP LOCKED` on Postgres, a single `UPDATE … RETURNING`
//!   on SQLite) and executes the run ([`SyncRuns`]), up to [`SyncOptions::workers`] at
//!   once. The engine's heartbeats find the tasks of a process that died and hand them
//!   to a live one; the run's lease (taken before anything is executed, renewed while it
//!   runs) makes sure a run executes in one place at a time even if a task is handed out
//!   twice, and its checkpoints let the next process resume where the dead one stopped.
//! - **Cron triggers** and **lost runs**: an apalis-cron worker ticks every
//!   [`SyncOptions::sweep_interval`] in every process; each tick fires the due triggers
//!   (one conditional update per due time, so exactly one process creates each run,
//!   [`SyncRuns::fire_due_triggers`]) and queues again any unfinished run whose task was
//!   lost (never queued because the queue was unavailable when it was created).
//!
//! The queue's tables live beside Patchbay's: `Jobs`/`Workers` in the SQLite file (their
//! migrations recorded in `_apalis_migrations`, so they never mix with ours; apalis's
//! `setup`, which would turn `synchronous` off, is never called), the `apalis` schema on
//! Postgres. The queue is named after the store's schema (`patchbay-sync:<schema>`), so
//! stores in different schemas of one Postgres database never take each other's runs.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use apalis::prelude::{
    BackendExt, BoxDynError, Data, TaskBuilder, TaskSink, WorkerBuilder, WorkerBuilderExt,
};
use apalis_cron::{CronScheduler, Tick};
use apalis_postgres::PostgresStorage;
use apalis_sqlite::SqliteStorage;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{SyncOptions, SyncRuns};
use crate::store::DatabasePool;

/// One run to execute: what the engine's queue holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunTask {
    /// The run's environment.
    pub environment_id: String,
    /// The run.
    pub run_id: String,
}

/// Why the engine cannot start or take a run.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The engine's tables could not be created or updated.
    #[error("cannot prepare the sync-job queue's tables: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// The database refused a query.
    #[error("the sync-job queue's database failed: {0}")]
    Database(#[from] sqlx::Error),
    /// A task could not be queued.
    #[error("cannot queue the sync job run: {0}")]
    Push(String),
    /// The tick interval cannot be written as a cron schedule.
    #[error("the sync sweep interval cannot be scheduled: {0}")]
    Schedule(String),
}

/// The queue runs are pushed to, on the store's database.
#[derive(Clone)]
pub(crate) enum RunQueue {
    Sqlite(SqliteStorage<RunTask>),
    Postgres(PostgresStorage<RunTask>),
}

impl fmt::Debug for RunQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sqlite(_) => "RunQueue::Sqlite",
            Self::Postgres(_) => "RunQueue::Postgres",
        })
    }
}

impl RunQueue {
    /// Queues `task` to be executed from `at` on (now if `at` is past).
    pub(crate) async fn push(&self, task: RunTask, at: DateTime<Utc>) -> Result<(), EngineError> {
        let at = SystemTime::from(at).max(SystemTime::now());
        let task = TaskBuilder::new(task).run_at_time(at).build();
        let pushed = match self {
            Self::Sqlite(storage) => storage
                .clone()
                .push_task(task)
                .await
                .map_err(|e| e.to_string()),
            Self::Postgres(storage) => storage
                .clone()
                .push_task(task)
                .await
                .map_err(|e| e.to_string()),
        };
        pushed.map_err(EngineError::Push)
    }
}

/// The engine's workers in this process; [`stop`](Self::stop) them at shutdown.
#[derive(Debug)]
pub struct SyncEngine {
    shutdown: CancellationToken,
    workers: Vec<JoinHandle<()>>,
}

impl SyncEngine {
    /// Prepares the queue's tables in the store's database, attaches the queue to `runs`
    /// (so [`SyncRuns::submit`] queues runs) and starts this process's workers: one
    /// executing runs, one ticking for cron triggers and lost runs. Call it once per
    /// process (every process sharing a database may).
    ///
    /// # Errors
    ///
    /// [`EngineError`] when the queue's tables cannot be prepared (on Postgres the
    /// `apalis` schema and the `pgcrypto`/`hstore` extensions must be creatable).
    pub async fn start(runs: &Arc<SyncRuns>) -> Result<Self, EngineError> {
        let options = runs.options().clone();
        let tick = tick_schedule(options.sweep_interval)?;
        let queue = open_queue(&runs.store().database_pool(), &options).await?;
        runs.attach(queue.clone());
        let shutdown = CancellationToken::new();
        let name = format!("patchbay-sync-{}", runs.owner());
        let run_worker = {
            let (runs, shutdown) = (runs.clone(), shutdown.clone());
            let workers = options.workers;
            match queue {
                RunQueue::Sqlite(storage) => {
                    let worker = WorkerBuilder::new(name.clone())
                        .backend(storage.poll_with_interval(options.poll_interval))
                        .concurrency(workers)
                        .data(runs)
                        .build(execute_task);
                    tokio::spawn(until_shutdown(worker.run_with_ctx(stop_on(shutdown))))
                }
                RunQueue::Postgres(storage) => {
                    let worker = WorkerBuilder::new(name.clone())
                        .backend(storage.poll_with_interval(options.poll_interval))
                        .concurrency(workers)
                        .data(runs)
                        .build(execute_task);
                    tokio::spawn(until_shutdown(worker.run_with_ctx(stop_on(shutdown))))
                }
            }
        };
        let tick_worker = {
            let worker = WorkerBuilder::new(format!("{name}-tick"))
                .backend(CronScheduler::new(tick))
                .concurrency(1)
                .data(runs.clone())
                .build(on_tick);
            tokio::spawn(until_shutdown(
                worker.run_with_ctx(stop_on(shutdown.clone())),
            ))
        };
        Ok(Self {
            shutdown,
            workers: vec![run_worker, tick_worker],
        })
    }

    /// Stops taking tasks and ticking, and waits at most `grace` for the workers to end
    /// (call [`SyncRuns::cancel_all`] first so the runs being executed stop at their next
    /// request; they are resumed by the next process to take them). Workers still busy
    /// after `grace` are aborted: their tasks are handed to another process by the
    /// engine's heartbeats, and their runs' leases expire.
    pub async fn stop(self, grace: Duration) {
        self.shutdown.cancel();
        let deadline = tokio::time::Instant::now() + grace;
        for mut worker in self.workers {
            match tokio::time::timeout_at(deadline, &mut worker).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "a sync-job engine worker ended abnormally");
                }
                Err(_) => {
                    tracing::warn!(
                        ?grace,
                        "a sync-job engine worker did not stop in time; aborted"
                    );
                    worker.abort();
                }
            }
        }
    }
}

/// Prepares the queue's tables and opens the queue on `pool`.
async fn open_queue(pool: &DatabasePool, options: &SyncOptions) -> Result<RunQueue, EngineError> {
    // A process whose heartbeats stopped for longer than its runs' lease is dead: its
    // tasks are handed to a live process once their lease has expired too.
    let heartbeat = (options.lease / 3).max(Duration::from_secs(1));
    let missed = 5;
    match pool {
        DatabasePool::Sqlite(pool) => {
            let mut migrator = SqliteStorage::<()>::migrations();
            migrator.dangerous_set_table_name("_apalis_migrations");
            migrator.run(pool).await?;
            let config = apalis_sqlite::Config::default()
                .queue("patchbay-sync:main")
                .batch_size(1)
                .heartbeat_interval(heartbeat)
                .missed_heartbeats(missed);
            Ok(RunQueue::Sqlite(
                SqliteStorage::new(pool).with_config(config),
            ))
        }
        DatabasePool::Postgres(pool) => {
            PostgresStorage::<()>::migrations().run(pool).await?;
            let schema: String = sqlx::query_scalar("SELECT current_schema()")
                .fetch_one(pool)
                .await?;
            let config = apalis_postgres::Config::default()
                .queue(format!("patchbay-sync:{schema}"))
                .batch_size(1)
                .heartbeat_interval(heartbeat)
                .missed_heartbeats(missed);
            Ok(RunQueue::Postgres(
                PostgresStorage::new(pool).with_config(config),
            ))
        }
    }
}

/// The cron schedule ticking every `interval` (whole seconds, 1 to 59).
fn tick_schedule(interval: Duration) -> Result<cron::Schedule, EngineError> {
    let seconds = interval.as_secs().clamp(1, 59);
    cron::Schedule::from_str(&format!("0/{seconds} * * * * *"))
        .map_err(|e| EngineError::Schedule(e.to_string()))
}

/// A `run_with_ctx` callback stopping the worker once `shutdown` is cancelled.
fn stop_on(
    shutdown: CancellationToken,
) -> impl FnMut(
    apalis::prelude::WorkerContext,
) -> std::pin::Pin<
    Box<dyn Future<Output = Result<(), apalis::prelude::WorkerError>> + Send>,
> + Send
+ 'static {
    move |context| {
        let shutdown = shutdown.clone();
        Box::pin(async move {
            shutdown.cancelled().await;
            context.stop()
        })
    }
}

/// Runs a worker to its end, logging how it ended abnormally.
async fn until_shutdown(worker: impl Future<Output = Result<(), apalis::prelude::WorkerError>>) {
    if let Err(e) = worker.await {
        tracing::error!(error = %e, "a sync-job engine worker stopped");
    }
}

/// The run worker's handler: executes the run; a run that cannot go on now is queued
/// again by [`SyncRuns::execute_task`].
async fn execute_task(task: RunTask, runs: Data<Arc<SyncRuns>>) -> Result<(), BoxDynError> {
    runs.execute_task(&task).await;
    Ok(())
}

/// The tick worker's handler.
async fn on_tick(_tick: Tick, runs: Data<Arc<SyncRuns>>) -> Result<(), BoxDynError> {
    runs.fire_due_triggers().await;
    runs.requeue_lost_runs().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::tick_schedule;

    #[test]
    fn the_tick_fires_every_interval() {
        let schedule = tick_schedule(Duration::from_secs(15)).unwrap();
        let ticks: Vec<_> = schedule.upcoming(chrono::Utc).take(3).collect();
        assert_eq!((ticks[1] - ticks[0]).num_seconds(), 15);
        assert_eq!((ticks[2] - ticks[1]).num_seconds(), 15);
        assert!(
            tick_schedule(Duration::from_secs(600)).is_ok(),
            "clamped to 59 s"
        );
    }
}
