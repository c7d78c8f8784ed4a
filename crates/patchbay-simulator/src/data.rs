//! Deterministic generated datasets. Record `n` (1-based) is a pure function of `n`,
//! so any page of a dataset of any size is computed on demand in O(page size).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// First names cycled through by [`person`].
const FIRST: [&str; 8] = [
    "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken",
];
/// Last names cycled through by [`person`].
const LAST: [&str; 8] = [
    "Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson",
];

/// A deterministic person for record `n`: (first name, last name, email `user{n}@example.com`).
pub(crate) fn person(n: u64) -> (&'static str, &'static str, String) {
    let i = (n % 8) as usize;
    let j = ((n / 8) % 8) as usize;
    (FIRST[i], LAST[j], format!("user{n}@example.com"))
}

/// Unix time of record `n`'s creation: one minute apart from 2024-01-01T00:00:00Z.
pub(crate) fn created_unix(n: u64) -> u64 {
    1_704_067_200 + n * 60
}

/// Unix time of record `n`'s last update: 30 minutes after its creation (so created and
/// updated filters select different records).
pub(crate) fn updated_unix(n: u64) -> u64 {
    created_unix(n) + 30 * 60
}

/// `updated_unix(n)` as RFC 3339.
pub(crate) fn updated_iso(n: u64) -> String {
    iso8601(updated_unix(n))
}

/// `created_unix(n)` as RFC 3339 (`2024-01-01T00:01:00Z`).
pub(crate) fn created_iso(n: u64) -> String {
    iso8601(created_unix(n))
}

/// Formats Unix seconds as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian, civil-from-days).
pub(crate) fn iso8601(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// A deterministic UUID-shaped id for record `n` in namespace `ns`; reversible by [`uuid_number`].
pub(crate) fn uuid_for(ns: u32, n: u64) -> String {
    format!("{ns:08x}-0000-4000-8000-{n:012x}")
}

/// Inverse of [`uuid_for`] for the same namespace.
pub(crate) fn uuid_number(ns: u32, id: &str) -> Option<u64> {
    let rest = id.strip_prefix(&format!("{ns:08x}-0000-4000-8000-"))?;
    if rest.len() != 12 {
        return None;
    }
    u64::from_str_radix(rest, 16).ok()
}

/// An opaque cursor meaning "continue at record `n`", tagged so cursors of one
/// provider are not accepted by another.
pub(crate) fn cursor(tag: &str, n: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{tag}:{n}"))
}

/// Inverse of [`cursor`]; `None` for anything we did not issue.
pub(crate) fn uncursor(tag: &str, raw: &str) -> Option<u64> {
    let bytes = URL_SAFE_NO_PAD.decode(raw.trim_end_matches('=')).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.strip_prefix(tag)?.strip_prefix(':')?.parse().ok()
}

/// A page of the dataset `1..=total`: records `first..=last` (empty when `first > last`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    pub first: u64,
    pub last: u64,
    pub total: u64,
}

impl Window {
    /// The page starting after `skip` records, with at most `limit` records.
    pub(crate) fn new(total: u64, skip: u64, limit: u64) -> Self {
        let first = skip.saturating_add(1);
        let last = skip.saturating_add(limit).min(total);
        Window { first, last, total }
    }

    /// Record numbers on this page.
    pub(crate) fn numbers(&self) -> std::ops::RangeInclusive<u64> {
        self.first..=self.last
    }

    /// Whether records follow this page.
    pub(crate) fn has_more(&self) -> bool {
        self.last < self.total && self.first <= self.last
    }

    /// Number of the first record of the next page.
    pub(crate) fn next(&self) -> u64 {
        self.last + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(1_704_067_200), "2024-01-01T00:00:00Z");
        assert_eq!(iso8601(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn ids_and_cursors_round_trip() {
        assert_eq!(uuid_number(7, &uuid_for(7, 999_999)), Some(999_999));
        assert_eq!(uuid_number(8, &uuid_for(7, 1)), None);
        assert_eq!(uncursor("slack", &cursor("slack", 42)), Some(42));
        assert_eq!(uncursor("zendesk", &cursor("slack", 42)), None);
        assert_eq!(uncursor("slack", "%%%"), None);
    }

    #[test]
    fn windows() {
        let w = Window::new(10, 8, 5);
        assert_eq!((w.first, w.last, w.has_more()), (9, 10, false));
        let w = Window::new(10, 0, 5);
        assert!(w.has_more());
        assert_eq!(w.next(), 6);
        let w = Window::new(10, 20, 5);
        assert_eq!(w.numbers().count(), 0);
    }
}
