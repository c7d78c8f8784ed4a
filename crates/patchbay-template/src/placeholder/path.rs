//! Looking a placeholder path up in the data object.
//!
//! Paths follow Truto's lookup rules: `a.b.0` walks keys and array indices,
//! negative indices count from the end (`-1` is the last item; indices before
//! the start clamp to the first item, `-0` is past the end), a leading `.` is
//! ignored and `.` alone is the data object itself, numeric tokens index arrays
//! only, the one key an array has is `length` (its item count, as in
//! JavaScript: `{{items.length}}`), keys may contain `-`, and several paths separated by spaces are
//! alternatives (the first that finds a value wins). Only U+0020 separates
//! alternatives, as in wild-wild-path: a tab or newline inside a path is part
//! of a key (`{{missing\tt}}` looks up the key `"missing\tt"`).

use std::borrow::Cow;

use serde_json::Value;

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Key(String),
    /// An array index as written: negative counts from the end.
    Index {
        value: Option<i64>,
        negative: bool,
    },
}

/// A parsed lookup path, possibly with whitespace-separated alternatives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Path {
    alternatives: Vec<Vec<Token>>,
    /// Each alternative as written (a leading `.` removed), for [`Path::sources`].
    sources: Vec<String>,
}

impl Path {
    /// Parses a trimmed, non-empty path expression.
    pub(crate) fn parse(text: &str) -> Self {
        let queries: Vec<&str> = text.split(' ').filter(|query| !query.is_empty()).collect();
        let alternatives = queries.iter().map(|query| parse_query(query)).collect();
        let sources = queries
            .iter()
            .map(|query| query.strip_prefix('.').unwrap_or(query).to_owned())
            .collect();
        Self {
            alternatives,
            sources,
        }
    }

    /// Each alternative path as written, without a leading `.` (`""` is the data object).
    pub(crate) fn sources(&self) -> impl Iterator<Item = &str> {
        self.sources.iter().map(String::as_str)
    }

    /// The value at this path, or `None` when no alternative finds one. Owned
    /// only for an array's `length`, which is not stored in the data.
    pub(crate) fn lookup<'a>(&self, data: &'a Value) -> Option<Cow<'a, Value>> {
        self.alternatives
            .iter()
            .find_map(|tokens| walk(data, tokens))
    }
}

fn parse_query(query: &str) -> Vec<Token> {
    let query = query.strip_prefix('.').unwrap_or(query);
    if query.is_empty() {
        return Vec::new();
    }
    query.split('.').map(parse_token).collect()
}

fn parse_token(token: &str) -> Token {
    let (negative, digits) = match token.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, token),
    };
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return Token::Index {
            value: digits.parse::<i64>().ok(),
            negative,
        };
    }
    Token::Key(token.to_owned())
}

fn walk<'a>(data: &'a Value, tokens: &[Token]) -> Option<Cow<'a, Value>> {
    let mut current = data;
    for (i, token) in tokens.iter().enumerate() {
        current = match (token, current) {
            (Token::Key(key), Value::Object(map)) => map.get(key)?,
            // An array's own `length` property, as wild-wild-path reads it; a
            // number has no children, so it can only be the last token.
            (Token::Key(key), Value::Array(items)) if key == "length" => {
                return (i + 1 == tokens.len()).then(|| Cow::Owned(Value::from(items.len())));
            }
            (Token::Index { value, negative }, Value::Array(items)) => {
                let magnitude = (*value)?;
                let index = if *negative {
                    if magnitude == 0 {
                        return None;
                    }
                    (items.len() as i64 - magnitude).max(0)
                } else {
                    magnitude
                };
                usize::try_from(index).ok().and_then(|i| items.get(i))?
            }
            _ => return None,
        };
    }
    Some(Cow::Borrowed(current))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn get(path: &str, data: &Value) -> Option<Value> {
        Path::parse(path).lookup(data).map(Cow::into_owned)
    }

    #[test]
    fn walks_keys_and_indices() {
        let data = json!({"a": {"b": [1, 2, {"c": 3}]}, "foo-bar": {"x": "y"}, "o": {"0": "zero"}});
        assert_eq!(get("a.b.0", &data), Some(json!(1)));
        assert_eq!(get("a.b.01", &data), Some(json!(2)));
        assert_eq!(get("a.b.-1.c", &data), Some(json!(3)));
        assert_eq!(get("a.b.-9", &data), Some(json!(1)));
        assert_eq!(get("a.b.-0", &data), None);
        assert_eq!(get("a.b.3", &data), None);
        assert_eq!(get("foo-bar.x", &data), Some(json!("y")));
        assert_eq!(get("o.0", &data), None, "numeric tokens index arrays only");
        assert_eq!(
            get("a.b.length", &data),
            Some(json!(3)),
            "an array's own length"
        );
        assert_eq!(get("a.b.length.x", &data), None);
        assert_eq!(
            get("foo-bar.x.length", &data),
            None,
            "strings have no properties"
        );
        assert_eq!(get("o.length", &data), None);
        assert_eq!(get(".a.b.1", &data), Some(json!(2)));
        assert_eq!(get(".", &data), Some(data.clone()));
        assert_eq!(get("a.", &data), None);
        assert_eq!(get("missing a.b.0", &data), Some(json!(1)));
        assert_eq!(
            get("missing\ta.b.0", &data),
            None,
            "only spaces separate alternatives"
        );
    }
}
