//! Record filters of the providers' query languages (SOQL `WHERE`, HubSpot
//! `filterGroups`, JQL, Zendesk search, GitHub `since`, Keka `lastModified`), applied
//! to the deterministic datasets: time bounds on a record's creation and last update,
//! and text conditions on its fields.

use chrono::{DateTime, NaiveDate, NaiveDateTime};

use crate::data::{created_unix, updated_unix};

/// Which of a record's times a bound compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stamp {
    /// When the record was created ([`created_unix`]).
    Created,
    /// When it was last updated ([`updated_unix`]).
    Updated,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Gt,
    Gte,
    Lt,
    Lte,
    Eq,
}

impl Cmp {
    /// `>`, `>=`, `<`, `<=`, `=` (and `:` as Zendesk's equality).
    pub(crate) fn from_symbol(op: &str) -> Option<Self> {
        Some(match op {
            ">" => Cmp::Gt,
            ">=" => Cmp::Gte,
            "<" => Cmp::Lt,
            "<=" => Cmp::Lte,
            "=" | ":" => Cmp::Eq,
            _ => return None,
        })
    }

    fn holds<T: Ord>(self, left: T, right: T) -> bool {
        match self {
            Cmp::Gt => left > right,
            Cmp::Gte => left >= right,
            Cmp::Lt => left < right,
            Cmp::Lte => left <= right,
            Cmp::Eq => left == right,
        }
    }
}

/// How a text condition matches a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pattern {
    /// Case-insensitive substring.
    Contains(String),
    /// Case-insensitive equality.
    Equals(String),
}

impl Pattern {
    /// A SOQL `LIKE` pattern: `%x%` is a substring, anything else (wildcards dropped)
    /// an exact match.
    pub(crate) fn like(pattern: &str) -> Self {
        match pattern.strip_prefix('%').and_then(|p| p.strip_suffix('%')) {
            Some(inner) => Pattern::Contains(inner.to_lowercase()),
            None => Pattern::Equals(pattern.replace('%', "").to_lowercase()),
        }
    }

    fn matches(&self, text: &str) -> bool {
        let text = text.to_lowercase();
        match self {
            Pattern::Contains(needle) => text.contains(needle.as_str()),
            Pattern::Equals(value) => text == *value,
        }
    }
}

/// One condition.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Cond {
    Time(Stamp, Cmp, i64),
    /// A text field (named as the provider names it, lowercase) matching a pattern;
    /// `None` as the field means "any searchable text" (full-text search).
    Text(Option<String>, Pattern),
}

/// Conditions that must all hold (a conjunction).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Filter {
    conds: Vec<Cond>,
}

impl Filter {
    /// Adds `stamp cmp at` (Unix seconds).
    pub(crate) fn time(&mut self, stamp: Stamp, cmp: Cmp, at: i64) {
        self.conds.push(Cond::Time(stamp, cmp, at));
    }

    /// Adds a condition on the text field `field` (case-insensitive name).
    pub(crate) fn field(&mut self, field: &str, pattern: Pattern) {
        self.conds
            .push(Cond::Text(Some(field.to_ascii_lowercase()), pattern));
    }

    /// Adds a full-text search for `needle` (substring of any searchable text).
    pub(crate) fn search(&mut self, needle: &str) {
        self.conds
            .push(Cond::Text(None, Pattern::Contains(needle.to_lowercase())));
    }

    /// Whether no condition was added (every record matches).
    pub(crate) fn is_empty(&self) -> bool {
        self.conds.is_empty()
    }

    /// Whether record `n` matches. `text(Some(field))` gives a field's text (lowercase
    /// name), `text(None)` the record's searchable text; `None` never matches.
    pub(crate) fn matches(&self, n: u64, text: &impl Fn(Option<&str>) -> Option<String>) -> bool {
        self.conds.iter().all(|cond| match cond {
            Cond::Time(Stamp::Created, cmp, at) => cmp.holds(created_unix(n) as i64, *at),
            Cond::Time(Stamp::Updated, cmp, at) => cmp.holds(updated_unix(n) as i64, *at),
            Cond::Text(field, pattern) => {
                text(field.as_deref()).is_some_and(|value| pattern.matches(&value))
            }
        })
    }

    /// The numbers of the records of `1..=total` that match, in order.
    pub(crate) fn select(
        &self,
        total: u64,
        text: &impl Fn(u64, Option<&str>) -> Option<String>,
    ) -> Selection {
        if self.is_empty() {
            return Selection::All(total);
        }
        Selection::Some(
            (1..=total)
                .filter(|n| self.matches(*n, &|field| text(*n, field)))
                .collect(),
        )
    }
}

/// The records a filter selected, to page through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Selection {
    /// Every record `1..=total` (no filter: computed in O(page)).
    All(u64),
    /// These record numbers.
    Some(Vec<u64>),
}

impl Selection {
    /// How many records were selected.
    pub(crate) fn len(&self) -> u64 {
        match self {
            Selection::All(total) => *total,
            Selection::Some(numbers) => numbers.len() as u64,
        }
    }

    /// The record numbers at positions `skip..skip + limit`, and whether more follow.
    pub(crate) fn page(&self, skip: u64, limit: u64) -> (Vec<u64>, bool) {
        let end = skip.saturating_add(limit).min(self.len());
        let numbers = match self {
            Selection::All(_) => (skip.saturating_add(1)..=end).collect(),
            Selection::Some(numbers) => numbers
                .get(skip.min(end) as usize..end as usize)
                .unwrap_or_default()
                .to_vec(),
        };
        (numbers, end < self.len())
    }
}

/// Parses a timestamp as the providers' query languages write them: RFC 3339
/// (`2024-01-01T00:00:00Z`, `...00.000+00:00`), Salesforce's `...00.000+0000`, JQL's
/// `2024-01-01 05:00` / `2024/01/01 05:00` (UTC) and a bare date (midnight UTC).
/// Returns Unix seconds.
pub(crate) fn parse_time(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.timestamp());
    }
    if let Ok(at) = DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Some(at.timestamp());
    }
    for format in ["%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(at) = NaiveDateTime::parse_from_str(text, format) {
            return Some(at.and_utc().timestamp());
        }
    }
    for format in ["%Y-%m-%d", "%Y/%m/%d"] {
        if let Ok(day) = NaiveDate::parse_from_str(text, format) {
            return day.and_hms_opt(0, 0, 0).map(|at| at.and_utc().timestamp());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_in_every_dialect() {
        let midnight = 1_704_067_200;
        for text in [
            "2024-01-01T00:00:00Z",
            "2024-01-01T00:00:00.000Z",
            "2024-01-01T00:00:00.000+0000",
            "2024-01-01T01:00:00+01:00",
            "2024-01-01 00:00",
            "2024/01/01 00:00",
            "2024-01-01",
        ] {
            assert_eq!(parse_time(text), Some(midnight), "{text}");
        }
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn filters_select_and_page() {
        let mut filter = Filter::default();
        filter.time(Stamp::Created, Cmp::Gte, created_unix(3) as i64);
        filter.time(Stamp::Updated, Cmp::Lt, updated_unix(8) as i64);
        let text = |n: u64, _: Option<&str>| Some(format!("Record {n}"));
        let selection = filter.select(100, &text);
        assert_eq!(selection, Selection::Some(vec![3, 4, 5, 6, 7]));
        assert_eq!(selection.page(0, 2), (vec![3, 4], true));
        assert_eq!(selection.page(4, 2), (vec![7], false));
        assert_eq!(selection.page(9, 2), (vec![], false));

        let mut search = Filter::default();
        search.search("RECORD 1");
        assert_eq!(search.select(12, &text).len(), 4); // 1, 10, 11, 12
        let mut named = Filter::default();
        named.field("Name", Pattern::like("record 2"));
        assert_eq!(named.select(30, &text), Selection::Some(vec![2]));
        assert_eq!(
            Filter::default().select(5, &text).page(3, 5),
            (vec![4, 5], false)
        );
    }
}
