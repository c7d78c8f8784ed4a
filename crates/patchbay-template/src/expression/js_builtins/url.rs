//! ECMAScript's `encodeURIComponent`, `encodeURI`, `decodeURIComponent` and `decodeURI`,
//! which jsonata-js's `$encodeUrlComponent`, `$encodeUrl`, `$decodeUrlComponent` and
//! `$decodeUrl` are.
//!
//! Text is UTF-8 (a Rust string cannot hold the lone surrogates for which ECMAScript's
//! encoders fail). Decoding fails with `D3140`, as jsonata-js does, on a `%` not followed
//! by two hex digits, on a byte sequence that is not one UTF-8 encoded code point
//! (overlong forms, surrogates, code points above U+10FFFF included), and on a
//! continuation byte without a lead byte.

/// Characters `encodeURIComponent` leaves alone besides ASCII letters and digits.
const COMPONENT_UNESCAPED: &[u8] = b"-_.!~*'()";
/// Characters `encodeURI` leaves alone besides ASCII letters and digits: the unreserved
/// marks plus the reserved characters and `#`.
const URI_UNESCAPED: &[u8] = b"-_.!~*'();/?:@&=+$,#";
/// Characters `decodeURI` leaves percent-encoded: the reserved characters and `#`.
const URI_RESERVED: &[u8] = b";/?:@&=+$,#";

/// One of the four URL functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UrlFunction {
    /// `$encodeUrlComponent`.
    EncodeComponent,
    /// `$encodeUrl`.
    Encode,
    /// `$decodeUrlComponent`.
    DecodeComponent,
    /// `$decodeUrl`.
    Decode,
}

impl UrlFunction {
    /// The JSONata name, without `$`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::EncodeComponent => "encodeUrlComponent",
            Self::Encode => "encodeUrl",
            Self::DecodeComponent => "decodeUrlComponent",
            Self::Decode => "decodeUrl",
        }
    }

    /// Applies the function to `text`.
    ///
    /// # Errors
    /// [`MalformedUrl`] when decoding meets a malformed escape sequence.
    pub(crate) fn apply(self, text: &str) -> Result<String, MalformedUrl> {
        match self {
            Self::EncodeComponent => Ok(encode(text, COMPONENT_UNESCAPED)),
            Self::Encode => Ok(encode(text, URI_UNESCAPED)),
            Self::DecodeComponent => decode(text, b""),
            Self::Decode => decode(text, URI_RESERVED),
        }
    }
}

/// The message of jsonata-js's `D3140` error for `text` passed to `function`, without the
/// code.
pub(crate) fn malformed_message(function: UrlFunction, text: &str) -> String {
    format!(
        "Malformed URL passed to ${}(): {}",
        function.name(),
        serde_json::Value::String(text.to_owned())
    )
}

/// jsonata-js's code for a malformed URL.
pub(crate) const MALFORMED_CODE: &str = "D3140";

/// A decoding input with a malformed `%` escape sequence (ECMAScript's `URIError`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed URL escape sequence")]
pub(crate) struct MalformedUrl;

/// Percent-encodes every UTF-8 byte of `text` except ASCII letters, digits and `keep`,
/// with upper-case hex digits.
fn encode(text: &str, keep: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(text.len());
    for &byte in text.as_bytes() {
        if byte.is_ascii_alphanumeric() || keep.contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
    out
}

/// Decodes the `%XX` sequences of `text`; a sequence that decodes to an ASCII character in
/// `reserved` is kept as written.
fn decode(text: &str, reserved: &[u8]) -> Result<String, MalformedUrl> {
    let bytes = text.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        if byte != b'%' {
            out.push(byte);
            at += 1;
            continue;
        }
        let lead = escaped_byte(bytes, at)?;
        if lead < 0x80 {
            if reserved.contains(&lead) {
                out.extend_from_slice(&bytes[at..at + 3]);
            } else {
                out.push(lead);
            }
            at += 3;
            continue;
        }
        let length = match lead.leading_ones() {
            2 => 2,
            3 => 3,
            4 => 4,
            _ => return Err(MalformedUrl),
        };
        let mut sequence = [lead, 0, 0, 0];
        for slot in sequence.iter_mut().take(length).skip(1) {
            at += 3;
            let next = escaped_byte(bytes, at)?;
            if next & 0xc0 != 0x80 {
                return Err(MalformedUrl);
            }
            *slot = next;
        }
        // Rejects overlong forms, surrogates and code points above U+10FFFF.
        let decoded = std::str::from_utf8(&sequence[..length]).map_err(|_| MalformedUrl)?;
        out.extend_from_slice(decoded.as_bytes());
        at += 3;
    }
    // Only whole characters of `text` and validated sequences were copied.
    String::from_utf8(out).map_err(|_| MalformedUrl)
}

/// The byte written as `%XX` at `at` of `bytes`.
fn escaped_byte(bytes: &[u8], at: usize) -> Result<u8, MalformedUrl> {
    match bytes.get(at..at + 3) {
        Some([b'%', high, low]) => {
            let digit = |c: u8| char::from(c).to_digit(16);
            match (digit(*high), digit(*low)) {
                // Both digits are below 16.
                (Some(high), Some(low)) => Ok(u8::try_from(high * 16 + low).unwrap_or(0)),
                _ => Err(MalformedUrl),
            }
        }
        _ => Err(MalformedUrl),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values from node's encodeURIComponent/encodeURI/decodeURIComponent/decodeURI.
    #[test]
    fn encodes_as_ecmascript() {
        assert_eq!(
            UrlFunction::EncodeComponent
                .apply("a b&/é😀!~*'()-_.")
                .as_deref(),
            Ok("a%20b%26%2F%C3%A9%F0%9F%98%80!~*'()-_.")
        );
        assert_eq!(
            UrlFunction::Encode
                .apply("/a b?q=[1]&r=%#f;,:@+$")
                .as_deref(),
            Ok("/a%20b?q=%5B1%5D&r=%25#f;,:@+$")
        );
    }

    #[test]
    fn decodes_as_ecmascript() {
        assert_eq!(
            UrlFunction::DecodeComponent
                .apply("%2F%3f%F0%9F%98%80+")
                .as_deref(),
            Ok("/?😀+")
        );
        assert_eq!(
            UrlFunction::Decode.apply("%2f%20%23%C3%A9").as_deref(),
            Ok("%2f %23é")
        );
        for malformed in [
            "%", "%2", "%zz", "a%4", "%C3", "%C3%", "%C3%41", "%80", "%C0%80",
        ] {
            assert_eq!(
                UrlFunction::DecodeComponent.apply(malformed),
                Err(MalformedUrl),
                "{malformed}"
            );
        }
        for malformed in ["%ED%A0%80", "%F4%90%80%80", "%F8%88%80%80%80", "%FF"] {
            assert_eq!(
                UrlFunction::Decode.apply(malformed),
                Err(MalformedUrl),
                "{malformed}"
            );
        }
    }
}
