//! The durable outbox of webhook deliveries.
//!
//! An event becomes one row per subscribed active webhook, written in one
//! statement. Workers lease due rows with [`claim_due`](Store::claim_due):
//! the lease sets `lease_until` and a fresh `claim_token` atomically (Postgres:
//! `FOR UPDATE SKIP LOCKED`; SQLite: a single `UPDATE ... RETURNING`, and SQLite
//! runs one writer at a time), so no row is leased to two workers at once. A
//! worker that crashes loses its lease when `lease_until` passes and the row is
//! due again; `mark_*` with a lost lease change nothing and return `false`.
//! Pick a lease longer than a delivery attempt can take.
//!
//! Finished rows (`delivered`, `dead`) are deleted after a retention period
//! with [`prune_outbox`](Store::prune_outbox), in bounded batches; `pending`
//! rows are never deleted by it.
//!
//! Each row also records the account its event is about ([`event_account`]),
//! so [`account_events`](Store::account_events) lists an account's events.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::super::backend::{Arg, Row, Statement, args};
use super::super::error::StorageError;
use super::super::model::{
    AccountEventRecord, DeliveryStatus, EnqueuedEvent, EventDelivery, OutboxDelivery,
};
use super::super::time;
use super::webhooks::subscribed;
use super::{Store, new_id, require_text};

const TABLE: &str = "outbox";
const MAX_ERROR_LEN: usize = 2000;

fn delivery(row: &Row) -> Result<OutboxDelivery, StorageError> {
    Ok(OutboxDelivery {
        id: row.text("id")?,
        environment_id: row.text("environment_id")?,
        webhook_id: row.text("webhook_id")?,
        event_id: row.text("event_id")?,
        event_type: row.text("event_type")?,
        payload: serde_json::from_str(&row.text("payload")?)
            .map_err(|_| StorageError::corrupt(TABLE, "`payload` is not JSON"))?,
        attempts: u32::try_from(row.int("attempts")?).unwrap_or(u32::MAX),
        created_at: time::column(TABLE, row.int("created_at")?)?,
        claim_token: row.text("claim_token")?,
    })
}

/// The account an event is about: the payload's `id` for the
/// `integrated_account:*` events (their payload is the account), its
/// `integrated_account_id` for the others (records and inbound events); none
/// when that is not a string.
pub(crate) fn event_account(event_type: &str, payload: &Value) -> Option<String> {
    let key = if event_type.starts_with("integrated_account:") {
        "id"
    } else {
        "integrated_account_id"
    };
    payload.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// The sync job run a `sync_job_run:*` event is about: its payload's `sync_job_run_id`.
fn event_sync_job_run(event_type: &str, payload: &Value) -> Option<String> {
    event_type
        .starts_with("sync_job_run:")
        .then(|| payload.get("sync_job_run_id").and_then(Value::as_str))
        .flatten()
        .map(str::to_owned)
}

impl Store {
    /// *System.* How many `sync_job_run:record` deliveries of the run `run_id` are not
    /// delivered yet (waiting, or being retried): what a run's receiver backpressure
    /// waits on.
    pub async fn undelivered_sync_job_run_records(
        &self,
        run_id: &str,
    ) -> Result<u64, StorageError> {
        let rows = self
            .backend
            .fetch(
                "outbox",
                "SELECT COUNT(*) AS undelivered FROM outbox WHERE sync_job_run_id = $1 \
                 AND event_type = 'sync_job_run:record' AND status = 'pending'",
                args![run_id],
            )
            .await?;
        let count = rows
            .first()
            .map(|r| r.int("undelivered"))
            .transpose()?
            .unwrap_or(0);
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// Stores one delivery per active webhook of the environment subscribed to
    /// `event_type`, in one statement (all or none).
    pub async fn enqueue_event(
        &self,
        environment_id: &str,
        event_type: &str,
        payload: &Value,
    ) -> Result<EnqueuedEvent, StorageError> {
        let (statement, event) = self
            .event_statement(environment_id, event_type, payload)
            .await?;
        if let Some(statement) = statement {
            self.backend.execute(&statement.sql, statement.args).await?;
        }
        Ok(event)
    }

    /// The statement that queues `event_type` for every active webhook of the
    /// environment subscribed to it (`None` when none is), for callers that
    /// write it in one transaction with the change the event reports.
    pub(crate) async fn event_statement(
        &self,
        environment_id: &str,
        event_type: &str,
        payload: &Value,
    ) -> Result<(Option<Statement>, EnqueuedEvent), StorageError> {
        require_text("event_type", event_type)?;
        let event_id = new_id();
        let hooks: Vec<_> = self
            .active_webhooks(environment_id)
            .await?
            .into_iter()
            .filter(|h| subscribed(&h.event_types, event_type))
            .collect();
        if hooks.is_empty() {
            return Ok((
                None,
                EnqueuedEvent {
                    event_id,
                    deliveries: 0,
                },
            ));
        }
        let now = time::to_micros(time::now());
        let account = event_account(event_type, payload);
        let run = event_sync_job_run(event_type, payload);
        let payload = payload.to_string();
        let mut sql = String::from(
            "INSERT INTO outbox (id, environment_id, webhook_id, event_id, event_type, payload, status, \
             attempts, next_attempt_at, lease_until, claim_token, last_error, created_at, delivered_at, \
             integrated_account_id, sync_job_run_id) VALUES ",
        );
        let mut values: Vec<Arg> = Vec::new();
        for (i, hook) in hooks.iter().enumerate() {
            let n = values.len();
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, 'pending', 0, ${}, NULL, NULL, NULL, ${}, NULL, ${}, ${})",
                n + 1,
                n + 2,
                n + 3,
                n + 4,
                n + 5,
                n + 6,
                n + 7,
                n + 8,
                n + 9,
                n + 10
            ));
            values.extend(args![
                new_id(),
                environment_id,
                &hook.id,
                &event_id,
                event_type,
                &payload,
                now,
                now,
                account.clone(),
                run.clone()
            ]);
        }
        Ok((
            Some(Statement::new(sql, values)),
            EnqueuedEvent {
                event_id,
                deliveries: hooks.len(),
            },
        ))
    }

    /// Stores one delivery of `event_type` to the webhook `webhook_id` only,
    /// whatever events it subscribes to and whether or not it is active (for
    /// `POST /webhook/test`). [`NotFound`](StorageError::NotFound) when the
    /// environment has no such webhook (checked in the same statement, so a
    /// concurrent delete cannot leave an orphan row).
    pub async fn enqueue_for_webhook(
        &self,
        environment_id: &str,
        webhook_id: &str,
        event_type: &str,
        payload: &Value,
    ) -> Result<EnqueuedEvent, StorageError> {
        require_text("event_type", event_type)?;
        let event_id = new_id();
        let now = time::to_micros(time::now());
        let inserted = self
            .backend
            .execute(
                "INSERT INTO outbox (id, environment_id, webhook_id, event_id, event_type, payload, status, \
                 attempts, next_attempt_at, created_at, integrated_account_id) \
                 SELECT $1, environment_id, id, $2, $3, $4, 'pending', 0, $5, $6, $9 FROM webhooks \
                 WHERE id = $7 AND environment_id = $8",
                args![
                    new_id(),
                    &event_id,
                    event_type,
                    payload.to_string(),
                    now,
                    now,
                    webhook_id,
                    environment_id,
                    event_account(event_type, payload)
                ],
            )
            .await?;
        if inserted == 0 {
            return Err(StorageError::not_found("webhook", webhook_id));
        }
        Ok(EnqueuedEvent {
            event_id,
            deliveries: 1,
        })
    }

    /// The latest `limit` events about the account `account_id` of
    /// `environment_id` (see `event_account`), newest first, each with its
    /// deliveries. Only events some webhook was queued for are kept (an event
    /// no webhook subscribes to is not stored), and only until
    /// [`prune_outbox`](Self::prune_outbox) removes their finished deliveries.
    pub async fn account_events(
        &self,
        environment_id: &str,
        account_id: &str,
        limit: u32,
    ) -> Result<Vec<AccountEventRecord>, StorageError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let rows = self
            .backend
            .fetch(
                TABLE,
                ACCOUNT_EVENTS,
                args![environment_id, account_id, i64::from(limit)],
            )
            .await?;
        let mut events: Vec<AccountEventRecord> = Vec::new();
        for row in &rows {
            let event_id = row.text("event_id")?;
            let delivery = EventDelivery {
                webhook_id: row.text("webhook_id")?,
                status: DeliveryStatus::parse(&row.text("status")?)
                    .ok_or_else(|| StorageError::corrupt(TABLE, "unknown `status`"))?,
                attempts: u32::try_from(row.int("attempts")?).unwrap_or(u32::MAX),
                last_error: row.opt_text("last_error")?,
                delivered_at: row
                    .opt_int("delivered_at")?
                    .map(|at| time::column(TABLE, at))
                    .transpose()?,
            };
            match events.last_mut() {
                Some(event) if event.event_id == event_id => event.deliveries.push(delivery),
                _ => events.push(AccountEventRecord {
                    event_id,
                    event_type: row.text("event_type")?,
                    created_at: time::column(TABLE, row.int("created_at")?)?,
                    deliveries: vec![delivery],
                }),
            }
        }
        Ok(events)
    }

    /// *System.* Leases up to `limit` due deliveries for `lease`. A row is never
    /// leased to two callers at once; an expired lease (crashed worker) makes it
    /// due again.
    pub async fn claim_due(
        &self,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<OutboxDelivery>, StorageError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let lease = chrono::Duration::from_std(lease)
            .map_err(|_| StorageError::InvalidInput("the lease is too long".into()))?;
        let now = time::now();
        let rows = self
            .backend
            .fetch(
                TABLE,
                self.backend.claim_sql(),
                args![
                    time::to_micros(now),
                    time::to_micros(now + lease),
                    new_id(),
                    i64::from(limit)
                ],
            )
            .await?;
        let mut claimed = rows.iter().map(delivery).collect::<Result<Vec<_>, _>>()?;
        claimed.sort_by(|a, b| {
            a.created_at
                .cmp(&b.created_at)
                .then_with(|| a.id.cmp(&b.id))
        });
        Ok(claimed)
    }

    /// *System.* Marks a leased delivery done; `false` if the lease was lost.
    pub async fn mark_delivered(&self, delivery: &OutboxDelivery) -> Result<bool, StorageError> {
        self.settle(
            delivery,
            "status = 'delivered', delivered_at = $1, last_error = NULL",
            args![time::to_micros(time::now())],
        )
        .await
    }

    /// *System.* Records a failed attempt; retried at `retry_at`, or never again
    /// when `None`. `false` if the lease was lost.
    pub async fn mark_failed(
        &self,
        delivery: &OutboxDelivery,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<bool, StorageError> {
        let error: String = error.chars().take(MAX_ERROR_LEN).collect();
        let (status, next) = match retry_at {
            Some(at) => ("pending", time::to_micros(at)),
            None => ("dead", time::to_micros(time::now())),
        };
        self.settle(
            delivery,
            "status = $1, next_attempt_at = $2, claim_token = NULL, last_error = $3",
            args![status, next, error],
        )
        .await
    }

    /// Applies `set` (the assignments of an `UPDATE outbox`, with the
    /// parameters `values`) to the leased `delivery` and ends its lease, only
    /// while the lease is still held; whether it was.
    async fn settle(
        &self,
        delivery: &OutboxDelivery,
        set: &str,
        mut values: Vec<Arg>,
    ) -> Result<bool, StorageError> {
        let n = values.len();
        let sql = format!(
            "UPDATE outbox SET {set}, lease_until = NULL \
             WHERE id = ${} AND claim_token = ${} AND status = 'pending'",
            n + 1,
            n + 2
        );
        values.extend(args![&delivery.id, &delivery.claim_token]);
        Ok(self.backend.execute(&sql, values).await? == 1)
    }

    /// *System.* Deletes up to `limit` finished deliveries: `delivered` ones
    /// delivered before `delivered_before`, and `dead` ones given up before
    /// `dead_before` (`None` keeps every row of that status). `pending`
    /// deliveries are never deleted. Answers how many rows were deleted; call
    /// again while it answers `limit`.
    pub async fn prune_outbox(
        &self,
        delivered_before: Option<DateTime<Utc>>,
        dead_before: Option<DateTime<Utc>>,
        limit: u32,
    ) -> Result<u64, StorageError> {
        if limit == 0 || (delivered_before.is_none() && dead_before.is_none()) {
            return Ok(0);
        }
        // `None` keeps every row of that status: no timestamp is below i64::MIN.
        let cutoff = |before: Option<DateTime<Utc>>| before.map_or(i64::MIN, time::to_micros);
        self.backend
            .execute(
                PRUNE,
                args![
                    cutoff(delivered_before),
                    cutoff(dead_before),
                    i64::from(limit)
                ],
            )
            .await
    }

    /// *System.* How many deliveries wait to be delivered or retried (the outbox depth).
    pub async fn outbox_pending(&self) -> Result<u64, StorageError> {
        let rows = self.backend.fetch(TABLE, PENDING, args![]).await?;
        let pending = rows.first().map(|row| row.int("pending")).transpose()?;
        Ok(pending.map_or(0, |n| u64::try_from(n).unwrap_or(0)))
    }
}

/// Every delivery of the latest `$3` events about the account `$2` of the
/// environment `$1`, newest event first, an event's deliveries together.
const ACCOUNT_EVENTS: &str = "SELECT event_id, event_type, webhook_id, status, attempts, last_error, \
     created_at, delivered_at FROM outbox WHERE environment_id = $1 AND integrated_account_id = $2 \
     AND event_id IN (SELECT event_id FROM outbox WHERE environment_id = $1 \
     AND integrated_account_id = $2 GROUP BY event_id ORDER BY MAX(created_at) DESC, event_id DESC \
     LIMIT $3) ORDER BY created_at DESC, event_id DESC, webhook_id";

/// Counts the deliveries not yet delivered nor given up.
const PENDING: &str = "SELECT COUNT(*) AS pending FROM outbox WHERE status = 'pending'";

/// Deletes up to `$3` finished rows: delivered before `$1` or given up before
/// `$2`. A delivered row was due (`next_attempt_at`) before it was delivered,
/// so the first condition can use the `(status, next_attempt_at)` index; a
/// dead row's `next_attempt_at` is when it was given up. Pending rows never
/// match.
const PRUNE: &str = "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox \
     WHERE (status = 'delivered' AND next_attempt_at < $1 AND delivered_at < $1) \
     OR (status = 'dead' AND next_attempt_at < $2) LIMIT $3)";

/// The claim statement of SQLite (the whole statement holds the write lock).
pub(crate) const SQLITE_CLAIM: &str = "UPDATE outbox SET lease_until = $2, claim_token = $3, attempts = attempts + 1 \
     WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1 \
     AND (lease_until IS NULL OR lease_until <= $1) ORDER BY next_attempt_at, id LIMIT $4) \
     RETURNING id, environment_id, webhook_id, event_id, event_type, payload, attempts, created_at, claim_token";

/// The claim statement of Postgres: concurrent claimers skip each other's rows.
pub(crate) const POSTGRES_CLAIM: &str = "UPDATE outbox SET lease_until = $2, claim_token = $3, attempts = attempts + 1 \
     WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1 \
     AND (lease_until IS NULL OR lease_until <= $1) ORDER BY next_attempt_at, id LIMIT $4 \
     FOR UPDATE SKIP LOCKED) \
     RETURNING id, environment_id, webhook_id, event_id, event_type, payload, attempts, created_at, claim_token";
