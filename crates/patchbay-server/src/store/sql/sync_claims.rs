//! Claiming a sync job run under its `mutex_key` and the concurrency limits.
//!
//! A run *executes* while a process holds its live lease (`lease_until` not passed).
//! [`claim_sync_job_run_within`](Store::claim_sync_job_run_within) takes a run's lease
//! only when
//!
//! * no other run of the environment with the same `mutex_key` is older and unfinished,
//!   or executing (runs created with `force` are left out on both sides), and
//! * fewer than the limits' runs of the same account, and of the same integration, are
//!   executing.
//!
//! The checks and the claim run under one lock per environment (the backend's
//! cross-process lock: a Postgres advisory lock, so a count checked by one process
//! cannot be passed by another's concurrent claim whatever the isolation level; on
//! SQLite, the embedded single-process backend, a process-local lock). Every lease is
//! taken under that lock, so the executing runs only change outside it by ending; and a
//! lease that lapsed is revoked under the lock before counting (its holder's next
//! renewal fails and it stops), so a late renewal cannot bring back a run the count
//! left out. A lapsed lease therefore frees its slot.

use chrono::{DateTime, Utc};

use super::super::backend::args;
use super::super::error::StorageResult;
use super::super::sync::{InterruptedRun, RunClaim, RunLimits};
use super::super::time;
use super::Store;
use super::sync_jobs::UNFINISHED;

const TABLE: &str = "sync_job_runs";

/// What the claim needs to know of a run.
struct Candidate {
    environment_id: String,
    account_id: String,
    integration_name: Option<String>,
    mutex_key: Option<String>,
    mutex_forced: bool,
    created_at: i64,
}

impl Store {
    /// *System.* Takes the lease of the unfinished run `id` for `owner` for `lease`
    /// from the moment the environment's lock is held, as
    /// [`claim_sync_job_run`](Self::claim_sync_job_run) does, if its `mutex_key` and
    /// `limits` let it execute now (see the module docs); otherwise answers
    /// [`RunClaim::Waiting`] and changes nothing but lapsed leases (revoked).
    ///
    /// # Errors
    ///
    /// A [`StorageError`](super::super::error::StorageError) of the database or the lock.
    pub async fn claim_sync_job_run_within(
        &self,
        id: &str,
        owner: &str,
        lease: std::time::Duration,
        limits: &RunLimits,
    ) -> StorageResult<RunClaim> {
        let now_micros = time::to_micros(time::now());
        let rows = self
            .backend
            .fetch(
                TABLE,
                &format!(
                    "SELECT environment_id, integrated_account_id, integration_name, mutex_key, \
                     mutex_forced, created_at FROM sync_job_runs WHERE id = $1 \
                     AND status IN {UNFINISHED} AND (lease_until IS NULL OR lease_until < $2)"
                ),
                args![id, now_micros],
            )
            .await?;
        let Some(row) = rows.first() else {
            return Ok(RunClaim::NotClaimed);
        };
        let run = Candidate {
            environment_id: row.text("environment_id")?,
            account_id: row.text("integrated_account_id")?,
            integration_name: row.opt_text("integration_name")?,
            mutex_key: row.opt_text("mutex_key")?,
            mutex_forced: row.boolean("mutex_forced")?,
            created_at: row.int("created_at")?,
        };
        let lock = self
            .backend
            .lock(&format!("sync-job-run-claims:{}", run.environment_id))
            .await?;
        // The clock is read once the lock is held: a long wait for it neither shortens
        // the lease nor revokes leases against a stale time.
        let now = time::now();
        let until = now + chrono::Duration::from_std(lease).unwrap_or_default();
        let claimed = self.claim_locked(id, &run, owner, now, until, limits).await;
        lock.release().await?;
        claimed
    }

    async fn claim_locked(
        &self,
        id: &str,
        run: &Candidate,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limits: &RunLimits,
    ) -> StorageResult<RunClaim> {
        let now_micros = time::to_micros(now);
        let env = run.environment_id.as_str();
        self.backend
            .execute(
                &format!(
                    "UPDATE sync_job_runs SET lease_owner = NULL, lease_until = NULL \
                     WHERE environment_id = $1 AND status IN {UNFINISHED} AND lease_until < $2"
                ),
                args![env, now_micros],
            )
            .await?;
        if let Some(key) = run.mutex_key.as_deref().filter(|_| !run.mutex_forced) {
            let ahead = self
                .backend
                .fetch(
                    TABLE,
                    &format!(
                        "SELECT id FROM sync_job_runs WHERE environment_id = $1 AND mutex_key = $2 \
                         AND id <> $3 AND status IN {UNFINISHED} AND NOT mutex_forced \
                         AND (lease_until IS NOT NULL OR created_at < $4 \
                              OR (created_at = $4 AND id < $3)) \
                         ORDER BY created_at, id LIMIT 1"
                    ),
                    args![env, key, id, run.created_at],
                )
                .await?;
            if let Some(first) = ahead.first() {
                return Ok(RunClaim::Waiting(format!(
                    "run `{}` has the same mutex_key and goes first",
                    first.text("id")?
                )));
            }
        }
        if let Some(limit) = limits.per_account {
            let executing = self
                .executing(env, "integrated_account_id", &run.account_id, id)
                .await?;
            if executing >= limit {
                return Ok(RunClaim::Waiting(format!(
                    "{executing} run(s) of the account are executing, the most \
                     PATCHBAY_SYNC_MAX_RUNS_PER_ACCOUNT allows"
                )));
            }
        }
        if let (Some(limit), Some(integration)) = (limits.per_integration, &run.integration_name) {
            let executing = self
                .executing(env, "integration_name", integration, id)
                .await?;
            if executing >= limit {
                return Ok(RunClaim::Waiting(format!(
                    "{executing} run(s) of the integration `{integration}` are executing, the \
                     most PATCHBAY_SYNC_MAX_RUNS_PER_INTEGRATION allows"
                )));
            }
        }
        Ok(if self.claim_sync_job_run(id, owner, now, until).await? {
            RunClaim::Claimed
        } else {
            RunClaim::NotClaimed
        })
    }

    /// How many runs of the environment other than `id` with `column = value` hold a
    /// lease (lapsed ones were revoked just before).
    async fn executing(
        &self,
        environment_id: &str,
        column: &str,
        value: &str,
        id: &str,
    ) -> StorageResult<u64> {
        let rows = self
            .backend
            .fetch(
                TABLE,
                &format!(
                    "SELECT COUNT(*) AS executing FROM sync_job_runs WHERE environment_id = $1 \
                     AND {column} = $2 AND id <> $3 AND status IN {UNFINISHED} \
                     AND lease_until IS NOT NULL"
                ),
                args![environment_id, value, id],
            )
            .await?;
        let count = rows.first().map(|r| r.int("executing")).transpose()?;
        Ok(count.map_or(0, |n| u64::try_from(n).unwrap_or(0)))
    }

    /// *System.* Unfinished runs of the environment that nobody holds (waiting for their
    /// mutex or a limit, or interrupted), oldest first, at most `limit`.
    ///
    /// # Errors
    ///
    /// A [`StorageError`](super::super::error::StorageError) of the database.
    pub async fn waiting_sync_job_runs(
        &self,
        environment_id: &str,
        limit: u32,
    ) -> StorageResult<Vec<InterruptedRun>> {
        self.fetch_map(
            TABLE,
            &format!(
                "SELECT id, environment_id FROM sync_job_runs WHERE environment_id = $1 \
                 AND status IN {UNFINISHED} AND lease_until IS NULL \
                 ORDER BY created_at, id LIMIT $2"
            ),
            args![environment_id, i64::from(limit)],
            |row| {
                Ok(InterruptedRun {
                    environment_id: row.text("environment_id")?,
                    id: row.text("id")?,
                })
            },
        )
        .await
    }
}
