//! Retention: how long finished deliveries are kept (read from the
//! environment) and pruning the older ones in batches.

use std::time::Duration;

use chrono::Utc;

use super::worker::DeliveryWorker;
use crate::store::StorageError;

/// Rows deleted per pruning statement.
pub const PRUNE_BATCH: u32 = 1000;
/// The variable that sets how long delivered rows are kept.
pub const RETENTION_DELIVERED_VAR: &str = "PATCHBAY_OUTBOX_RETENTION_DELIVERED";
/// The variable that sets how long dead rows are kept.
pub const RETENTION_DEAD_VAR: &str = "PATCHBAY_OUTBOX_RETENTION_DEAD";

/// One day, the unit of the default retention periods.
pub(super) const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// A retention variable that is not a duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{variable}=`{value}` is not a retention period: use a duration such as 7d, 12h, 30m or \
     3600s (a bare number is seconds), or `off` to keep those deliveries forever"
)]
pub struct RetentionError {
    /// The variable.
    pub variable: &'static str,
    /// Its value.
    pub value: String,
}

/// `7d`, `12h`, `30m`, `45s` or `3600` as a duration; `off` as `None` (keep
/// forever). `None` for anything else (see [`RetentionError`]).
pub(crate) fn parse_retention(text: &str) -> Option<Option<Duration>> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("off") {
        return Some(None);
    }
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let seconds_per_unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    let count: u64 = number.parse().ok()?;
    count
        .checked_mul(seconds_per_unit)
        .filter(|seconds| *seconds <= 100 * 365 * 86_400)
        .map(|seconds| Some(Duration::from_secs(seconds)))
}

impl DeliveryWorker {
    /// Deletes every finished delivery older than its retention period (see
    /// the [module docs](crate::delivery)), [`PRUNE_BATCH`] rows per statement; answers how many
    /// were deleted. `pending` deliveries are never deleted.
    ///
    /// # Errors
    ///
    /// The store's error; rows deleted by earlier batches stay deleted.
    pub async fn prune(&self) -> Result<u64, StorageError> {
        let mut total = 0;
        loop {
            let deleted = self.prune_batch().await?;
            total += deleted;
            if deleted < u64::from(PRUNE_BATCH) {
                return Ok(total);
            }
        }
    }

    /// When the next prune is due: a prune interval from now (in about a
    /// century for an interval too long to add).
    pub(super) fn after_prune_interval(&self) -> tokio::time::Instant {
        let now = tokio::time::Instant::now();
        now.checked_add(self.inner.options.prune_interval)
            .unwrap_or_else(|| now + 100 * 365 * DAY)
    }

    /// One pruning statement: at most [`PRUNE_BATCH`] rows.
    pub(super) async fn prune_batch(&self) -> Result<u64, StorageError> {
        let options = &self.inner.options;
        let now = Utc::now();
        // A period too long to subtract keeps everything of that status.
        let before = |retention: Option<Duration>| {
            retention.map(|r| {
                chrono::Duration::from_std(r)
                    .ok()
                    .and_then(|r| now.checked_sub_signed(r))
                    .unwrap_or(chrono::DateTime::<Utc>::MIN_UTC)
            })
        };
        self.inner
            .store
            .prune_outbox(
                before(options.retain_delivered),
                before(options.retain_dead),
                PRUNE_BATCH,
            )
            .await
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{DAY, parse_retention};

    #[test]
    fn retention_periods_parse_with_units_or_off() {
        for (text, expected) in [
            ("7d", Some(Some(7 * DAY))),
            ("12h", Some(Some(Duration::from_secs(12 * 3600)))),
            ("30m", Some(Some(Duration::from_secs(1800)))),
            ("45s", Some(Some(Duration::from_secs(45)))),
            ("3600", Some(Some(Duration::from_secs(3600)))),
            (" OFF ", Some(None)),
            ("0", Some(Some(Duration::ZERO))),
            ("7 d", None),
            ("-1d", None),
            ("1w", None),
            ("d", None),
            ("99999999999999999999d", None),
            ("36500000d", None),
        ] {
            assert_eq!(parse_retention(text), expected, "{text}");
        }
    }
}
