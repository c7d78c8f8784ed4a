//! Errors of pagination.

use patchbay_template::expression::ExpressionError;

/// Why a paginated list could not be set up or continued.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PaginationError {
    /// A dotted path in the config is malformed.
    #[error("invalid path `{path}`: {reason}")]
    InvalidPath {
        /// The path as written.
        path: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A JSONata expression of the config did not compile.
    #[error("pagination.config.{field} does not compile: {source}")]
    Compile {
        /// The config field.
        field: &'static str,
        /// The engine's error.
        #[source]
        source: ExpressionError,
    },
    /// A JSONata expression failed at run time.
    #[error("pagination.config.{field} failed on page {page}: {source}")]
    Evaluate {
        /// The config field.
        field: &'static str,
        /// 1-based number of the page whose response was being read (0 = before the first).
        page: u64,
        /// The engine's error.
        #[source]
        source: ExpressionError,
    },
    /// `get_pagination_values_expression` (or the initial one) returned
    /// something other than an object or `null`.
    #[error("pagination.config.{field} must return an object or null, got {found}")]
    DynamicValuesNotObject {
        /// The config field.
        field: &'static str,
        /// JSON type of the result.
        found: &'static str,
    },
    /// A resume cursor could not be decoded (not produced by Patchbay, or corrupted).
    #[error("invalid pagination cursor: {reason}")]
    InvalidCursor {
        /// What is wrong.
        reason: String,
    },
    /// A resume cursor was produced by a different pagination format.
    #[error("pagination cursor is for format `{found}`, but this method uses `{expected}`")]
    CursorFormatMismatch {
        /// This method's format.
        expected: &'static str,
        /// The cursor's format.
        found: String,
    },
    /// The cursor at `cursor_path` is an object or array.
    #[error("cursor at `{path}` is a {found}; expected a string or number")]
    UnsupportedCursorValue {
        /// The cursor path.
        path: String,
        /// JSON type found.
        found: &'static str,
    },
    /// The provider sent a cursor (or link, or pagination values) it had already sent: following it would loop forever.
    #[error(
        "page {page}: the provider repeated a cursor it already sent ({cursor}); stopping to avoid an endless loop"
    )]
    RepeatedCursor {
        /// 1-based page number of the response that repeated it.
        page: u64,
        /// The repeated cursor (truncated).
        cursor: String,
    },
    /// A page without records still pointed to a next page (set `allow_empty_page_cursor` if the provider really does this).
    #[error(
        "page {page} has no records but a next cursor; stopping to avoid an endless loop (set allow_empty_page_cursor to continue)"
    )]
    EmptyPageWithCursor {
        /// 1-based page number.
        page: u64,
    },
    /// The configured bound on pages per list call was reached.
    #[error("stopped after {max} pages (the max_pages bound); resume with next_cursor")]
    MaxPagesReached {
        /// The bound.
        max: u64,
        /// Cursor of the page that was not fetched.
        next_cursor: Option<String>,
    },
    /// A next-page link is not a valid URL or reference.
    #[error("invalid next-page link `{link}`: {reason}")]
    InvalidLink {
        /// The link (truncated).
        link: String,
        /// What is wrong.
        reason: String,
    },
    /// A next-page link points to another origin than the base URL; following it
    /// would send the account's credentials elsewhere.
    #[error("next-page link `{link}` leaves the API origin `{origin}`")]
    ForeignLink {
        /// The link (truncated).
        link: String,
        /// The base URL's origin.
        origin: String,
    },
}

/// A link or URL-shaped cursor as an error message may show it: without user
/// info, query values and fragment (providers sign next-page links with
/// tokens in the query), shortened to `max` characters. Text that is not an
/// absolute URL loses everything from its first `?` or `#`.
pub(crate) fn redact_link(link: &str, max: usize) -> String {
    let shown = match url::Url::parse(link) {
        Ok(mut url) if url.has_host() => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.set_fragment(None);
            let keys: Vec<String> = url.query_pairs().map(|(k, _)| format!("{k}=…")).collect();
            url.set_query(None);
            if keys.is_empty() {
                url.to_string()
            } else {
                format!("{url}?{}", keys.join("&"))
            }
        }
        _ => link.split(['?', '#']).next().unwrap_or_default().to_owned(),
    };
    truncate(&shown, max)
}

/// Shortens `text` to at most `max` characters for error messages.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut short: String = text.chars().take(max).collect();
        short.push('…');
        short
    }
}

/// JSON type name for messages.
pub(crate) fn kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_in_messages_carry_no_query_values_or_user_info() {
        let shown = redact_link(
            "https://user:pw@api.example.com/items?page=2&sig=SECRET#frag",
            200,
        );
        assert_eq!(shown, "https://api.example.com/items?page=…&sig=…");
        assert_eq!(redact_link("/items?token=SECRET", 200), "/items");
        let error = PaginationError::ForeignLink {
            link: redact_link("https://evil.test/steal?access_token=SECRET", 200),
            origin: "https://api.example.com".into(),
        };
        assert!(!error.to_string().contains("SECRET"), "{error}");
    }
}
