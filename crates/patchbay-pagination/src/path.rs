//! Dotted paths (`paging.next.after`, `@odata\.nextLink`, `data.-1.id`) into JSON values.

use serde_json::Value;

use crate::PaginationError;

/// A parsed dotted path. Segments are split on `.`; write `\.` for a dot that is
/// part of a key (`@odata\.nextLink`) and `\\` for a backslash. A segment that is
/// an integer also indexes arrays (negative counts from the end). The empty path
/// addresses the value itself.
///
/// ```
/// use patchbay_pagination::DottedPath;
/// use serde_json::json;
///
/// let body = json!({"@odata.nextLink": "https://graph.microsoft.com/v1.0/users?$skiptoken=x",
///                   "data": [{"id": "a"}, {"id": "b"}]});
/// let link = DottedPath::parse(r"@odata\.nextLink")?;
/// assert_eq!(link.get(&body), Some(&json!("https://graph.microsoft.com/v1.0/users?$skiptoken=x")));
/// assert_eq!(DottedPath::parse("data.-1.id")?.get(&body), Some(&json!("b")));
/// assert_eq!(DottedPath::parse("missing.key")?.get(&body), None);
/// # Ok::<(), patchbay_pagination::PaginationError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DottedPath {
    source: String,
    segments: Vec<String>,
}

impl DottedPath {
    /// Parses `source`.
    ///
    /// # Errors
    /// [`PaginationError::InvalidPath`] for an empty segment (`a..b`, a trailing `.`)
    /// or a dangling `\`.
    pub fn parse(source: &str) -> Result<Self, PaginationError> {
        let invalid = |reason: &'static str| PaginationError::InvalidPath {
            path: source.to_owned(),
            reason,
        };
        let trimmed = source.trim();
        if trimmed.is_empty() {
            return Ok(Self {
                source: String::new(),
                segments: Vec::new(),
            });
        }
        let mut segments = Vec::new();
        let mut current = String::new();
        let mut chars = trimmed.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some(escaped) => current.push(escaped),
                    None => return Err(invalid("dangling `\\` at the end")),
                },
                '.' => {
                    if current.is_empty() {
                        return Err(invalid("empty segment"));
                    }
                    segments.push(std::mem::take(&mut current));
                }
                other => current.push(other),
            }
        }
        if current.is_empty() {
            return Err(invalid("empty segment"));
        }
        segments.push(current);
        Ok(Self {
            source: trimmed.to_owned(),
            segments,
        })
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether this is the empty path (the value itself).
    pub fn is_root(&self) -> bool {
        self.segments.is_empty()
    }

    /// The value at this path, or `None` when any segment is missing.
    pub fn get<'v>(&self, value: &'v Value) -> Option<&'v Value> {
        self.segments
            .iter()
            .try_fold(value, |current, segment| step(current, segment))
    }

    /// Mutable access to the value at this path.
    pub fn get_mut<'v>(&self, value: &'v mut Value) -> Option<&'v mut Value> {
        let mut current = value;
        for segment in &self.segments {
            current = match current {
                Value::Object(map) => map.get_mut(segment.as_str())?,
                Value::Array(items) => {
                    let index = array_index(segment, items.len())?;
                    items.get_mut(index)?
                }
                _ => return None,
            };
        }
        Some(current)
    }
}

fn step<'v>(value: &'v Value, segment: &str) -> Option<&'v Value> {
    match value {
        Value::Object(map) => map.get(segment),
        Value::Array(items) => items.get(array_index(segment, items.len())?),
        _ => None,
    }
}

fn array_index(segment: &str, len: usize) -> Option<usize> {
    let index: i64 = segment.parse().ok()?;
    if index >= 0 {
        usize::try_from(index).ok()
    } else {
        len.checked_sub(usize::try_from(index.unsigned_abs()).ok()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn escapes_and_errors() {
        let path = DottedPath::parse(r"a\.b.c\\d").unwrap();
        assert_eq!(path.get(&json!({"a.b": {"c\\d": 1}})), Some(&json!(1)));
        assert!(DottedPath::parse("a..b").is_err());
        assert!(DottedPath::parse("a.").is_err());
        assert!(DottedPath::parse("a\\").is_err());
        assert!(DottedPath::parse("").unwrap().is_root());
    }

    #[test]
    fn array_indices() {
        let v = json!({"xs": [1, 2, 3]});
        assert_eq!(DottedPath::parse("xs.0").unwrap().get(&v), Some(&json!(1)));
        assert_eq!(DottedPath::parse("xs.-1").unwrap().get(&v), Some(&json!(3)));
        assert_eq!(DottedPath::parse("xs.-4").unwrap().get(&v), None);
        assert_eq!(DottedPath::parse("xs.3").unwrap().get(&v), None);
        assert_eq!(DottedPath::parse("xs.x").unwrap().get(&v), None);
    }
}
