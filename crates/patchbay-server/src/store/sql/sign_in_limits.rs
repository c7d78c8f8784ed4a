//! Console sign-in attempts per client address, kept in the database so every
//! server process on it shares one limit: a generic cell rate limit, stored
//! as one "theoretical arrival time" per client and moved forward by one
//! statement, so two processes counting at once cannot both get the last
//! attempt.

use std::time::Duration;

use super::super::backend::args;
use super::super::error::StorageError;
use super::super::time;
use super::Store;

const TABLE: &str = "console_sign_in_limits";

/// How many attempts a client may make: `burst` at once, then one every
/// `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptLimit {
    /// Attempts at once (at least 1).
    pub burst: u32,
    /// Time until one more attempt is allowed.
    pub period: Duration,
}

/// Microseconds, saturating.
fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

impl Store {
    /// Counts one sign-in attempt of `client` against `limit`: `None` when it
    /// may go ahead, else how long the client must wait (and the attempt is
    /// not counted). *System*: not scoped to an environment.
    pub async fn count_sign_in_attempt(
        &self,
        client: &str,
        limit: AttemptLimit,
    ) -> Result<Option<Duration>, StorageError> {
        let now = time::to_micros(time::now());
        let period = micros(limit.period).max(1);
        let tolerance = period.saturating_mul(i64::from(limit.burst.max(1) - 1));
        // A client whose time has passed is as good as absent: forget it.
        self.backend
            .execute(&format!("DELETE FROM {TABLE} WHERE tat < $1"), args![now])
            .await?;
        let later = format!("(CASE WHEN {TABLE}.tat > $2 THEN {TABLE}.tat ELSE $2 END)");
        let counted = self
            .backend
            .execute(
                &format!(
                    "INSERT INTO {TABLE} (client, tat) VALUES ($1, $2 + $3) \
                     ON CONFLICT (client) DO UPDATE SET tat = {later} + $3 \
                     WHERE {later} <= $2 + $4"
                ),
                args![client, now, period, tolerance],
            )
            .await?;
        if counted > 0 {
            return Ok(None);
        }
        let rows = self
            .backend
            .fetch(
                TABLE,
                &format!("SELECT tat FROM {TABLE} WHERE client = $1"),
                args![client],
            )
            .await?;
        let tat = match rows.first() {
            Some(row) => row.int("tat")?,
            None => now,
        };
        let wait = tat.saturating_sub(now).saturating_sub(tolerance).max(1);
        Ok(Some(Duration::from_micros(
            u64::try_from(wait).unwrap_or(1),
        )))
    }
}
