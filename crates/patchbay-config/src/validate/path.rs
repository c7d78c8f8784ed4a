//! JSON paths in error messages: `resources.users.list.pagination.config.cursor_path`.

use std::fmt;

/// One step of a [`JsonPath`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSegment {
    /// An object key.
    Key(String),
    /// An array index.
    Index(usize),
}

/// Where in a JSON document something is.
///
/// Displays as dotted keys with `[n]` indices; keys that are not plain
/// identifiers are quoted: `headers["X-Api.Key"]`. The document root displays
/// as `(root)`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JsonPath(Vec<PathSegment>);

impl JsonPath {
    /// The root.
    pub fn root() -> Self {
        Self::default()
    }

    /// The segments, outermost first.
    pub fn segments(&self) -> &[PathSegment] {
        &self.0
    }

    /// This path with a key appended.
    pub fn key(&self, key: &str) -> Self {
        let mut p = self.clone();
        p.0.push(PathSegment::Key(key.to_owned()));
        p
    }

    /// This path with an index appended.
    pub fn index(&self, index: usize) -> Self {
        let mut p = self.clone();
        p.0.push(PathSegment::Index(index));
        p
    }

    pub(crate) fn push_key(&mut self, key: &str) {
        self.0.push(PathSegment::Key(key.to_owned()));
    }

    pub(crate) fn push_index(&mut self, index: usize) {
        self.0.push(PathSegment::Index(index));
    }

    pub(crate) fn pop(&mut self) {
        self.0.pop();
    }
}

fn is_plain_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'$')
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(root)");
        }
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                PathSegment::Key(k) if is_plain_key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                PathSegment::Key(k) => write!(f, "[{}]", serde_json::Value::String(k.clone()))?,
                PathSegment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_like_a_config_author_writes_it() {
        let p = JsonPath::root()
            .key("resources")
            .key("users")
            .key("list")
            .key("headers")
            .key("X-Api.Key");
        assert_eq!(
            p.to_string(),
            r#"resources.users.list.headers["X-Api.Key"]"#
        );
        assert_eq!(
            JsonPath::root()
                .key("fields")
                .index(2)
                .key("name")
                .to_string(),
            "fields[2].name"
        );
        assert_eq!(JsonPath::root().to_string(), "(root)");
    }
}
