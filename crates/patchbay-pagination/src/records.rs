//! Extracting the records of a list page with `response_path`.

use serde_json::Value;

use crate::path::DottedPath;

/// The records of one response, borrowed from the body.
///
/// The rule (shared with the executor): the value at `response_path` (the whole
/// body without one) is
/// * an array → its elements are the records;
/// * `null` or missing → no records;
/// * anything else (usually an object) → one record.
///
/// ```
/// use patchbay_pagination::{DottedPath, Records};
/// use serde_json::json;
///
/// let body = json!({"results": [{"id": 1}, {"id": 2}], "paging": {}});
/// let path = DottedPath::parse("results")?;
/// assert_eq!(Records::of(&body, Some(&path)).len(), 2);
/// assert_eq!(Records::of(&json!({"id": 7}), None).len(), 1);
/// assert!(Records::of(&body, Some(&DottedPath::parse("nope")?)).is_empty());
/// # Ok::<(), patchbay_pagination::PaginationError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Records<'a> {
    /// The path held an array.
    Many(&'a [Value]),
    /// The path held a single record.
    One(&'a Value),
    /// The path was missing or `null`.
    None,
}

impl<'a> Records<'a> {
    /// The records of `body` at `response_path`.
    pub fn of(body: &'a Value, response_path: Option<&DottedPath>) -> Self {
        let found = match response_path {
            Some(path) => path.get(body),
            None => Some(body),
        };
        match found {
            None | Some(Value::Null) => Records::None,
            Some(Value::Array(items)) => Records::Many(items),
            Some(other) => Records::One(other),
        }
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        match self {
            Records::Many(items) => items.len(),
            Records::One(_) => 1,
            Records::None => 0,
        }
    }

    /// Whether there are no records.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Iterates over the records.
    pub fn iter(&self) -> impl Iterator<Item = &'a Value> + use<'a> {
        let slice: &'a [Value] = match *self {
            Records::Many(items) => items,
            Records::One(one) => std::slice::from_ref(one),
            Records::None => &[],
        };
        slice.iter()
    }
}

/// Moves the records out of `body` (same rule as [`Records::of`]) without cloning
/// them; the body is left with `null` at `response_path`.
///
/// ```
/// use patchbay_pagination::{take_records, DottedPath};
/// use serde_json::json;
///
/// let mut body = json!({"data": [{"id": "cus_1"}], "has_more": false});
/// let records = take_records(&mut body, Some(&DottedPath::parse("data")?));
/// assert_eq!(records, vec![json!({"id": "cus_1"})]);
/// assert_eq!(body["has_more"], json!(false));
/// # Ok::<(), patchbay_pagination::PaginationError>(())
/// ```
pub fn take_records(body: &mut Value, response_path: Option<&DottedPath>) -> Vec<Value> {
    let found = match response_path {
        Some(path) => path.get_mut(body),
        None => Some(body),
    };
    match found.map(Value::take) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items,
        Some(other) => vec![other],
    }
}
