//! The token language of `parts`, `compare_with` and `timestamp.value`.
//!
//! An entry is literal text optionally followed by one token that runs to the end of
//! the entry: `"v0:"`, `"$body"`, `"sha256=$header.x-hub-signature-256"`. Tokens:
//! `$body`, `$header.<name>`, `$query.<name>`, `$url`, `$method`, `$timestamp`,
//! `$form_sorted`. A `$` that does not start a known token is a configuration error,
//! so a typo never silently becomes literal text.

use std::borrow::Cow;

use crate::error::{ConfigError, VerificationError};
use crate::request::InboundRequest;

/// A value taken from the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// The raw body bytes.
    Body,
    /// The first present header among these names (lower case).
    Header(Vec<String>),
    /// A query parameter (decoded).
    Query(String),
    /// The full request URL.
    Url,
    /// The upper-case method.
    Method,
    /// The raw timestamp located by the timestamp check.
    Timestamp,
    /// Form parameters sorted by name, each name followed by its value (Twilio).
    FormSorted,
}

/// Literal text followed by an optional [`Source`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    pub(crate) prefix: String,
    pub(crate) source: Option<Source>,
}

impl Pattern {
    pub(crate) fn literal(text: impl Into<String>) -> Self {
        Self {
            prefix: text.into(),
            source: None,
        }
    }

    pub(crate) fn source(source: Source) -> Self {
        Self {
            prefix: String::new(),
            source: Some(source),
        }
    }

    pub(crate) fn prefixed(prefix: impl Into<String>, source: Source) -> Self {
        Self {
            prefix: prefix.into(),
            source: Some(source),
        }
    }

    /// Parses one entry of `field`.
    pub(crate) fn parse(entry: &str, field: &'static str) -> Result<Self, ConfigError> {
        let invalid = |reason| ConfigError::InvalidToken {
            field,
            entry: entry.to_owned(),
            reason,
        };
        let Some(dollar) = entry.find('$') else {
            return Ok(Self::literal(entry));
        };
        let (prefix, token) = entry.split_at(dollar);
        let source = match token {
            "$body" => Source::Body,
            "$url" => Source::Url,
            "$method" => Source::Method,
            "$timestamp" => Source::Timestamp,
            "$form_sorted" => Source::FormSorted,
            _ => {
                if let Some(name) = token.strip_prefix("$header.") {
                    if name.is_empty() || name.contains(char::is_whitespace) {
                        return Err(invalid("header name is empty or has whitespace"));
                    }
                    Source::Header(vec![name.to_ascii_lowercase()])
                } else if let Some(name) = token.strip_prefix("$query.") {
                    if name.is_empty() {
                        return Err(invalid("query parameter name is empty"));
                    }
                    Source::Query(name.to_owned())
                } else {
                    return Err(invalid(
                        "unknown token (expected $body, $header.<name>, $query.<name>, $url, $method, $timestamp or $form_sorted)",
                    ));
                }
            }
        };
        Ok(Self::prefixed(prefix, source))
    }
}

impl Source {
    /// Where this source is, for error messages ("header `x-signature`").
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Body => "the body".into(),
            Self::Header(names) => format!(
                "header `{}`",
                names.first().map(String::as_str).unwrap_or("")
            ),
            Self::Query(name) => format!("query parameter `{name}`"),
            Self::Url => "the URL".into(),
            Self::Method => "the method".into(),
            Self::Timestamp => "the timestamp".into(),
            Self::FormSorted => "the form parameters".into(),
        }
    }

    /// The bytes of this source in `req`. `timestamp` is the raw timestamp, when one
    /// was located.
    ///
    /// # Errors
    /// [`VerificationError::MissingHeader`] / [`VerificationError::MissingQueryParameter`]
    /// when absent; a `$timestamp` without a timestamp check is a config conflict.
    pub(crate) fn resolve<'r>(
        &self,
        req: &'r InboundRequest,
        timestamp: Option<&'r str>,
    ) -> Result<Cow<'r, [u8]>, VerificationError> {
        Ok(match self {
            Self::Body => Cow::Borrowed(req.body()),
            Self::Header(names) => {
                let value = names.iter().find_map(|n| req.header(n)).ok_or_else(|| {
                    VerificationError::MissingHeader {
                        name: names.first().cloned().unwrap_or_default(),
                    }
                })?;
                Cow::Borrowed(value.as_bytes())
            }
            Self::Query(name) => {
                let value = req.query_param(name).ok_or_else(|| {
                    VerificationError::MissingQueryParameter { name: name.clone() }
                })?;
                Cow::Owned(value.into_owned().into_bytes())
            }
            Self::Url => Cow::Borrowed(req.url().as_bytes()),
            Self::Method => Cow::Borrowed(req.method().as_bytes()),
            Self::Timestamp => match timestamp {
                Some(ts) => Cow::Borrowed(ts.as_bytes()),
                None => {
                    return Err(ConfigError::Conflict {
                        reason: "`$timestamp` is used but no `timestamp` check is configured",
                    }
                    .into());
                }
            },
            Self::FormSorted => {
                let mut pairs = req.form_pairs();
                // Stable sort: repeated names keep their order, as Twilio signs them.
                pairs.sort_by(|a, b| a.0.cmp(&b.0));
                let mut out = Vec::new();
                for (name, value) in pairs {
                    out.extend_from_slice(name.as_bytes());
                    out.extend_from_slice(value.as_bytes());
                }
                Cow::Owned(out)
            }
        })
    }

    /// Like [`resolve`](Self::resolve) but as text (lossy for non-UTF-8 bodies).
    pub(crate) fn resolve_text<'r>(
        &self,
        req: &'r InboundRequest,
        timestamp: Option<&'r str>,
    ) -> Result<Cow<'r, str>, VerificationError> {
        Ok(match self.resolve(req, timestamp)? {
            Cow::Borrowed(bytes) => String::from_utf8_lossy(bytes),
            Cow::Owned(bytes) => Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()),
        })
    }
}

/// The items of a located value that carry `prefix`, with the prefix removed.
///
/// Without a separator the whole (trimmed) value must start with the prefix; with one,
/// the value is split, items are trimmed, and items without the prefix are skipped.
pub(crate) fn prefixed_items<'v>(
    value: &'v str,
    prefix: &str,
    separator: Option<&str>,
) -> Vec<&'v str> {
    match separator {
        None => value.trim().strip_prefix(prefix).into_iter().collect(),
        Some(sep) => value
            .split(sep)
            .map(str::trim)
            .filter_map(|item| item.strip_prefix(prefix))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_entries() {
        assert_eq!(Pattern::parse("v0:", "parts"), Ok(Pattern::literal("v0:")));
        assert_eq!(
            Pattern::parse("sha256=$header.X-Hub-Signature-256", "compare_with"),
            Ok(Pattern::prefixed(
                "sha256=",
                Source::Header(vec!["x-hub-signature-256".into()])
            ))
        );
        assert_eq!(
            Pattern::parse("$query.sig", "parts"),
            Ok(Pattern::source(Source::Query("sig".into())))
        );
        assert!(Pattern::parse("$bdy", "parts").is_err());
        assert!(Pattern::parse("$header.", "parts").is_err());
        assert!(Pattern::parse("$body.x", "parts").is_err());
    }

    #[test]
    fn items() {
        assert_eq!(
            prefixed_items("t=1,v1=a, v1=b,v0=c", "v1=", Some(",")),
            vec!["a", "b"]
        );
        assert_eq!(prefixed_items("v1,x v2,y", "v1,", Some(" ")), vec!["x"]);
        assert_eq!(prefixed_items("sha256=ab", "sha256=", None), vec!["ab"]);
        assert!(prefixed_items("sha1=ab", "sha256=", None).is_empty());
    }

    #[test]
    fn form_sorted() {
        let req =
            InboundRequest::new("POST", "https://x").with_body(b"b=2&a=1&a=0&c=%2B1".to_vec());
        let out = Source::FormSorted.resolve(&req, None).expect("resolves");
        assert_eq!(&*out, b"a1a0b2c+1");
    }
}
