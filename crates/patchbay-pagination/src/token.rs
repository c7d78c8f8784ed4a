//! The opaque `next_cursor` token: base64url (no padding) of `{"f": format, "p": position}`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::PaginationError;

/// Where a list continues. Serialized inside tokens, so keep the tags stable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "k", content = "v", rename_all = "snake_case")]
pub(crate) enum Position {
    /// `page`: the page number to request.
    Page(i64),
    /// `offset`: the offset to request.
    Offset(u64),
    /// `cursor`: the provider's cursor value (string or number).
    Cursor(Value),
    /// `cursor` with `is_link`, or `link_header`: the link to request.
    Link(String),
    /// `range`: the first item to request.
    Range(u64),
    /// `dynamic`: the pagination values of the next request.
    Dynamic(Value),
}

#[derive(Serialize, Deserialize)]
struct Token {
    f: String,
    p: Position,
}

const MAX_TOKEN_LEN: usize = 64 * 1024;

pub(crate) fn encode(format: &'static str, position: &Position) -> String {
    let token = Token {
        f: format.to_owned(),
        p: position.clone(),
    };
    // Serializing these plain data types cannot fail.
    let json = serde_json::to_vec(&token).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(json)
}

pub(crate) fn decode(format: &'static str, token: &str) -> Result<Position, PaginationError> {
    let invalid = |reason: String| PaginationError::InvalidCursor { reason };
    if token.len() > MAX_TOKEN_LEN {
        return Err(invalid(format!("longer than {MAX_TOKEN_LEN} bytes")));
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(token.trim().trim_end_matches('='))
        .map_err(|e| invalid(format!("not base64url: {e}")))?;
    let token: Token =
        serde_json::from_slice(&bytes).map_err(|e| invalid(format!("unexpected content: {e}")))?;
    if token.f != format {
        return Err(PaginationError::CursorFormatMismatch {
            expected: format,
            found: crate::error::truncate(&token.f, 40),
        });
    }
    Ok(token.p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trip_is_url_safe() {
        let position = Position::Cursor(json!("a+b/c?d=e&f"));
        let token = encode("cursor", &position);
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(decode("cursor", &token).unwrap(), position);
    }

    #[test]
    fn garbage_and_foreign_tokens() {
        assert!(matches!(
            decode("cursor", "!!!"),
            Err(PaginationError::InvalidCursor { .. })
        ));
        let not_ours = URL_SAFE_NO_PAD.encode(b"{\"after\":\"x\"}");
        assert!(matches!(
            decode("cursor", &not_ours),
            Err(PaginationError::InvalidCursor { .. })
        ));
        let page = encode("page", &Position::Page(3));
        assert!(matches!(
            decode("cursor", &page),
            Err(PaginationError::CursorFormatMismatch {
                expected: "cursor",
                ..
            })
        ));
    }
}
