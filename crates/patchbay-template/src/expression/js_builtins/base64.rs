//! truto-jsonata's `$base64encode(input, urlSafe)` and `$base64decode(text, urlSafe)`,
//! which replace JSONata's built-ins of these names, on text (each backend converts the
//! argument with JavaScript's `String(input)` first).
//!
//! * `$base64encode` encodes the UTF-8 bytes of `String(input)` (`undefined` is `""`,
//!   `null` is `"null"`, `[1, 2]` is `"1,2"`). With a truthy `urlSafe` the result uses
//!   `-` and `_` and has no `=` padding.
//! * `$base64decode` is the browser's `atob` (the WHATWG "forgiving" decoder: ASCII
//!   whitespace is skipped, padding is optional, but a misplaced `=` or any other character
//!   fails) followed by `TextDecoder`: a leading byte-order mark is dropped and bytes that are
//!   not UTF-8 become U+FFFD. With a truthy `urlSafe`, `-` and `_` are read as `+` and `/`
//!   first (and the text must then be a string). `String(undefined)` is `"undefined"`, which
//!   does not decode, so `$base64decode()` fails, as it does in Truto.
//!
//! Both functions are registered without a signature: a context-form call
//! (`name.$base64encode()`) passes no argument, and gives `""`.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

/// The UTF-8 byte-order mark, which `TextDecoder` drops.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// truto-jsonata's `base64encode` of `text` (already `String(input)`): base64 of its UTF-8
/// bytes, with `-`/`_` and without padding when `url_safe`.
pub(crate) fn encode(text: &str, url_safe: bool) -> String {
    if url_safe {
        URL_SAFE_NO_PAD.encode(text.as_bytes())
    } else {
        STANDARD.encode(text.as_bytes())
    }
}

/// truto-jsonata's `base64decode` of `text` (already `String(input)`): with `url_safe`,
/// `-` and `_` are read as `+` and `/`; then [`forgiving_decode`], a leading byte-order mark
/// dropped, and bytes that are not UTF-8 replaced by U+FFFD (`TextDecoder`).
///
/// # Errors
/// [`Base64Error`] when `atob` refuses the text.
pub(crate) fn decode(text: &str, url_safe: bool) -> Result<String, Base64Error> {
    let bytes = if url_safe {
        forgiving_decode(&text.replace('-', "+").replace('_', "/"))?
    } else {
        forgiving_decode(text)?
    };
    let bytes = bytes.strip_prefix(BOM).unwrap_or(&bytes);
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

/// Why `atob` refused its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Base64Error {
    /// A character outside the base64 alphabet, or a misplaced `=`.
    #[error("Invalid character")]
    InvalidCharacter,
    /// A length that leaves a single character in the last group.
    #[error("The string to be decoded is not correctly encoded.")]
    BadLength,
}

/// The WHATWG forgiving-base64 decoder (`atob`): ASCII whitespace is removed, one or two
/// `=` may end a text whose length is a multiple of 4, and the bits of an incomplete last
/// group that do not make a whole byte are dropped.
pub(crate) fn forgiving_decode(text: &str) -> Result<Vec<u8>, Base64Error> {
    let mut data: Vec<u8> = text
        .bytes()
        .filter(|byte| !matches!(byte, b'\t' | b'\n' | b'\x0C' | b'\r' | b' '))
        .collect();
    if data.len().is_multiple_of(4) {
        for _ in 0..2 {
            if data.last() == Some(&b'=') {
                data.pop();
            }
        }
    }
    if data.len() % 4 == 1 {
        return Err(Base64Error::BadLength);
    }
    let mut out = Vec::with_capacity(data.len() / 4 * 3 + 2);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for byte in data {
        let sextet = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return Err(Base64Error::InvalidCharacter),
        };
        buffer = (buffer << 6) | u32::from(sextet);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values from node's `atob`.
    #[test]
    fn decodes_as_atob() {
        assert_eq!(forgiving_decode("YQ"), Ok(b"a".to_vec()));
        assert_eq!(forgiving_decode("YQ=="), Ok(b"a".to_vec()));
        assert_eq!(forgiving_decode(" Y Q\n"), Ok(b"a".to_vec()));
        assert_eq!(forgiving_decode("YR=="), Ok(b"a".to_vec()));
        assert_eq!(forgiving_decode("YWJj"), Ok(b"abc".to_vec()));
        assert_eq!(forgiving_decode(""), Ok(Vec::new()));
        for refused in [
            "YQ=",
            "YQ===",
            "YW=J",
            "Y",
            "undefined",
            "aGVsbG8-Pg",
            "Y\u{a0}WJj",
        ] {
            assert!(forgiving_decode(refused).is_err(), "{refused}");
        }
    }
}
