//! A method's `response_path` applied to a single (non-list) answer.

use patchbay_pagination::{DottedPath, take_records};
use serde_json::Value;

/// The part of `body` at `response_path`: the one record there, or an array when the
/// path holds several (or none); the whole body without a path.
///
/// # Errors
///
/// The path's parse error, as text.
pub(crate) fn at_response_path(
    mut body: Value,
    response_path: Option<&str>,
) -> Result<Value, String> {
    let Some(path) = response_path else {
        return Ok(body);
    };
    let path = DottedPath::parse(path).map_err(|e| e.to_string())?;
    let mut records = take_records(&mut body, Some(&path));
    Ok(if records.len() == 1 {
        records.remove(0)
    } else {
        Value::Array(records)
    })
}
