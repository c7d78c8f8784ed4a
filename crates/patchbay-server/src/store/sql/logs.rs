//! Request logs: written in batches by the log writer, listed newest first by
//! `GET /log`, pruned after the retention period.

use super::super::backend::{Arg, Row, Statement, args};
use super::super::cursor::{self, Cursor};
use super::super::error::{StorageError, StorageResult};
use super::super::model::{LogQuery, NewRequestLog, Page, PageRequest, RequestLog};
use super::super::time;
use super::Store;
use chrono::{DateTime, Utc};

const TABLE: &str = "request_logs";
const COLUMNS: &str = "id, log_type, created_at, metadata";
/// The row counts one `INSERT` statement writes, largest first: a batch is cut into
/// statements of these sizes only, so every batch reuses the same few prepared statements
/// (a statement of any other size would be parsed and prepared anew, which costs far more
/// than writing its rows).
const INSERT_SHAPES: [usize; 3] = [50, 10, 1];
/// The columns an inserted row sets, in the order of its parameters.
const INSERT_COLUMNS: &str = "id, environment_id, log_type, created_at, request_type, \
                              integrated_account_id, integration, webhook_id, metadata";
const INSERT_PARAMETERS: usize = 9;

/// `INSERT INTO request_logs (…) VALUES ($1, …), …` for `rows` rows.
fn insert_sql(rows: usize) -> String {
    let mut sql = format!("INSERT INTO request_logs ({INSERT_COLUMNS}) VALUES ");
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..INSERT_PARAMETERS {
            if column > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", row * INSERT_PARAMETERS + column + 1));
        }
        sql.push(')');
    }
    sql
}

/// A log's id: a version 7 UUID (RFC 9562) of the time the logged request started, so
/// ids grow with time and each insert lands at the end of the primary key's index
/// rather than on a random page of it.
fn log_id(created_at: DateTime<Utc>) -> String {
    let millis = u64::try_from(created_at.timestamp_millis()).unwrap_or(0);
    let mut random = [0u8; 10];
    rand::fill(&mut random[..]);
    uuid::Builder::from_unix_timestamp_millis(millis, &random)
        .into_uuid()
        .to_string()
}

/// The parameters of one row, in [`INSERT_COLUMNS`] order.
fn insert_args(log: &NewRequestLog) -> Vec<Arg> {
    args![
        log_id(log.created_at),
        &log.environment_id,
        log.log_type.as_str(),
        time::to_micros(log.created_at),
        log.request_type.clone(),
        log.integrated_account_id.clone(),
        log.integration.clone(),
        log.webhook_id.clone(),
        &log.metadata
    ]
}

fn request_log(row: &Row) -> StorageResult<RequestLog> {
    let metadata = row.text("metadata")?;
    Ok(RequestLog {
        id: row.text("id")?,
        log_type: row.text("log_type")?,
        created_at: time::column(TABLE, row.int("created_at")?)?,
        metadata: serde_json::from_str(&metadata)
            .map_err(|e| StorageError::corrupt(TABLE, format!("metadata is not JSON: {e}")))?,
    })
}

impl Store {
    /// *System.* Stores `logs` in one transaction: a batch is written whole or not at
    /// all. Rows go in statements of a few fixed sizes (50, 10 and 1 rows), so the backend prepares
    /// each shape once per connection and reuses it.
    pub async fn insert_request_logs(&self, logs: &[NewRequestLog]) -> StorageResult<()> {
        if logs.is_empty() {
            return Ok(());
        }
        let mut statements = Vec::new();
        let mut rest = logs;
        for shape in INSERT_SHAPES {
            while rest.len() >= shape {
                let (chunk, after) = rest.split_at(shape);
                let values = chunk.iter().flat_map(insert_args).collect();
                statements.push(Statement::new(insert_sql(shape), values));
                rest = after;
            }
        }
        self.backend.execute_atomically(statements).await?;
        Ok(())
    }

    /// A page of the environment's logs matching `query`, newest first.
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](StorageError::InvalidInput) for a bad cursor or limit.
    pub async fn list_request_logs(
        &self,
        environment_id: &str,
        query: &LogQuery,
        page: &PageRequest,
    ) -> StorageResult<Page<RequestLog>> {
        let (limit, before) = cursor::parse(page)?;
        let mut sql = format!(
            "SELECT {COLUMNS} FROM request_logs WHERE environment_id = $1 AND log_type = $2"
        );
        let mut values = args![environment_id, query.log_type.as_str()];
        let mut filter = |sql: &mut String, condition: &str, value: Arg| {
            values.push(value);
            sql.push_str(&condition.replace('?', &format!("${}", values.len())));
        };
        if let Some(after) = query.created_after {
            filter(
                &mut sql,
                " AND created_at > ?",
                time::to_micros(after).into(),
            );
        }
        if let Some(until) = query.created_before {
            filter(
                &mut sql,
                " AND created_at < ?",
                time::to_micros(until).into(),
            );
        }
        for (column, value) in [
            ("request_type", &query.request_type),
            ("integrated_account_id", &query.integrated_account_id),
            ("integration", &query.integration),
            ("webhook_id", &query.webhook_id),
        ] {
            if let Some(value) = value {
                filter(&mut sql, &format!(" AND {column} = ?"), value.into());
            }
        }
        if let Some(before) = before {
            let n = values.len();
            sql.push_str(&format!(
                " AND (created_at < ${a} OR (created_at = ${a} AND id < ${b}))",
                a = n + 1,
                b = n + 2
            ));
            values.extend(args![before.created_at, before.id]);
        }
        sql.push_str(&format!(
            " ORDER BY created_at DESC, id DESC LIMIT ${}",
            values.len() + 1
        ));
        values.push(i64::from(limit + 1).into());
        let mut rows = self.backend.fetch(TABLE, &sql, values).await?;
        let next_cursor = if rows.len() > limit as usize {
            rows.truncate(limit as usize);
            let last = rows
                .last()
                .ok_or_else(|| StorageError::corrupt(TABLE, "empty page"))?;
            Some(
                Cursor {
                    created_at: last.int("created_at")?,
                    id: last.text("id")?,
                }
                .encode(),
            )
        } else {
            None
        };
        Ok(Page {
            result: rows.iter().map(request_log).collect::<Result<_, _>>()?,
            next_cursor,
        })
    }

    /// *System.* Deletes up to `limit` logs written before `before`; how many it deleted
    /// (call again while it answers `limit`).
    pub async fn prune_request_logs(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> StorageResult<u64> {
        self.backend
            .execute(
                "DELETE FROM request_logs WHERE id IN (SELECT id FROM request_logs \
                 WHERE created_at < $1 LIMIT $2)",
                args![time::to_micros(before), i64::from(limit)],
            )
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::log_id;
    use chrono::{Duration, TimeZone, Utc};

    #[test]
    fn log_ids_are_version_7_and_follow_time() {
        let earlier = Utc.with_ymd_and_hms(2026, 11, 29, 12, 0, 0).unwrap();
        let later = earlier + Duration::milliseconds(1);
        let (a, b) = (log_id(earlier), log_id(later));
        let parsed = uuid::Uuid::parse_str(&a).unwrap();
        assert_eq!(parsed.get_version_num(), 7, "{a}");
        assert_eq!(
            parsed.get_timestamp().map(|t| t.to_unix()),
            Some((earlier.timestamp() as u64, 0))
        );
        assert!(a < b, "{a} sorts after {b}");
        assert_ne!(log_id(earlier), log_id(earlier), "random bits differ");
    }
}
