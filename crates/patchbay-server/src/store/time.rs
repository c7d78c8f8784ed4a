//! Timestamps as stored: microseconds since the Unix epoch (`BIGINT` in both
//! backends, so ordering and comparisons are plain integer ones).

use chrono::{DateTime, TimeZone, Utc};

use super::error::StorageError;

/// Now, truncated to microseconds (what a round trip through the database keeps).
pub(super) fn now() -> DateTime<Utc> {
    from_micros(Utc::now().timestamp_micros()).unwrap_or_else(Utc::now)
}

/// The stored form of `t`.
pub(super) fn to_micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// `t` back from its stored form.
pub(super) fn from_micros(micros: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_micros(micros).single()
}

/// Like [`from_micros`], for reading a column of `table`.
pub(crate) fn column(table: &'static str, micros: i64) -> Result<DateTime<Utc>, StorageError> {
    from_micros(micros).ok_or_else(|| StorageError::corrupt(table, "timestamp out of range"))
}
