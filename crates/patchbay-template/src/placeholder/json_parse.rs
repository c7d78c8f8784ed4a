//! `JSON.parse`, as the `:json` cast of Truto's placeholders runs it.
//!
//! serde_json and JavaScript's `JSON.parse` accept the same grammar, but they disagree on
//! what some accepted texts mean, so `:json` parses with this module instead:
//!
//! * numbers are JavaScript doubles: `12345678901234567890` is `12345678901234567000`,
//!   and a number too large for a double (`1e999`) is `Infinity`, which JSON (and so the
//!   rendered value) holds as `null` (`JSON.stringify` writes it so); serde_json refuses
//!   `1e999` and keeps integers up to 2^64 exactly;
//! * a `\uD800` escape without its pair is a lone surrogate in JavaScript; a Rust string
//!   cannot hold one, so it becomes U+FFFD;
//! * nesting may go [`MAX_DEPTH`] levels deep (serde_json stops at 128). `JSON.parse` has
//!   no limit; a deeper text counts as one it refuses (the placeholder keeps the text),
//!   because every later step on a `serde_json::Value` (clone, drop, serialisation)
//!   recurses once per level and would overflow the stack. The parser itself keeps its
//!   own stack.
//!
//! Duplicate keys keep the last value at the first key's position, as in JavaScript.
//! Whitespace is space, tab, line feed and carriage return only.

use serde_json::{Map, Value};

use super::js::number_value;

/// The deepest nesting of arrays and objects [`json_parse`] accepts.
pub(crate) const MAX_DEPTH: usize = 1000;

/// The value `JSON.parse(text)` returns, or `None` where it throws.
pub(crate) fn json_parse(text: &str) -> Option<Value> {
    let mut parser = Parser {
        bytes: text.as_bytes(),
        text,
        at: 0,
    };
    let value = parser.document()?;
    parser.skip_whitespace();
    (parser.at == parser.bytes.len()).then_some(value)
}

/// A container being filled.
enum Open {
    Array(Vec<Value>),
    /// An object and the key whose value comes next.
    Object(Map<String, Value>, String),
}

struct Parser<'a> {
    bytes: &'a [u8],
    text: &'a str,
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        self.skip_whitespace();
        if self.peek() == Some(byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// One value, containers included, without recursion.
    fn document(&mut self) -> Option<Value> {
        let mut stack: Vec<Open> = Vec::new();
        loop {
            // Read a value, or open a container and go on with its first member.
            self.skip_whitespace();
            let mut value = match self.peek()? {
                b'[' | b'{' if stack.len() >= MAX_DEPTH => return None,
                b'[' => {
                    self.at += 1;
                    if self.eat(b']') {
                        Value::Array(Vec::new())
                    } else {
                        stack.push(Open::Array(Vec::new()));
                        continue;
                    }
                }
                b'{' => {
                    self.at += 1;
                    if self.eat(b'}') {
                        Value::Object(Map::new())
                    } else {
                        let key = self.key()?;
                        stack.push(Open::Object(Map::new(), key));
                        continue;
                    }
                }
                _ => self.scalar()?,
            };
            // Put the value into its container; close the containers that end here.
            loop {
                match stack.last_mut() {
                    None => return Some(value),
                    Some(Open::Array(items)) => {
                        items.push(value);
                        if self.eat(b',') {
                            break;
                        }
                        if !self.eat(b']') {
                            return None;
                        }
                        let Some(Open::Array(items)) = stack.pop() else {
                            return None;
                        };
                        value = Value::Array(items);
                    }
                    Some(Open::Object(map, key)) => {
                        map.insert(std::mem::take(key), value);
                        if self.eat(b',') {
                            *key = self.key()?;
                            break;
                        }
                        if !self.eat(b'}') {
                            return None;
                        }
                        let Some(Open::Object(map, _)) = stack.pop() else {
                            return None;
                        };
                        value = Value::Object(map);
                    }
                }
            }
        }
    }

    /// `"key" :`
    fn key(&mut self) -> Option<String> {
        self.skip_whitespace();
        if self.peek() != Some(b'"') {
            return None;
        }
        let key = self.string()?;
        self.eat(b':').then_some(key)
    }

    fn scalar(&mut self) -> Option<Value> {
        match self.peek()? {
            b'"' => self.string().map(Value::String),
            b't' => self.literal("true", Value::Bool(true)),
            b'f' => self.literal("false", Value::Bool(false)),
            b'n' => self.literal("null", Value::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn literal(&mut self, word: &str, value: Value) -> Option<Value> {
        if self.bytes[self.at..].starts_with(word.as_bytes()) {
            self.at += word.len();
            Some(value)
        } else {
            None
        }
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?` as a double.
    fn number(&mut self) -> Option<Value> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek()? {
            b'0' => self.at += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return None;
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return None;
            }
            self.digits();
        }
        let number: f64 = self.text[start..self.at].parse().ok()?;
        Some(number_value(number))
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
    }

    /// A string literal; `self.at` is at its opening quote.
    fn string(&mut self) -> Option<String> {
        self.at += 1;
        let mut out = String::new();
        loop {
            let run = self.at;
            while matches!(self.peek(), Some(byte) if byte != b'"' && byte != b'\\' && byte >= 0x20)
            {
                self.at += 1;
            }
            out.push_str(&self.text[run..self.at]);
            match self.peek()? {
                b'"' => {
                    self.at += 1;
                    return Some(out);
                }
                b'\\' => {
                    self.at += 1;
                    let escaped = self.peek()?;
                    self.at += 1;
                    match escaped {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => self.unicode_escape(&mut out)?,
                        _ => return None,
                    }
                }
                // A raw control character.
                _ => return None,
            }
        }
    }

    /// The four hex digits after `\u` (and a low surrogate's escape after a high one).
    fn unicode_escape(&mut self, out: &mut String) -> Option<()> {
        let unit = self.hex4()?;
        if (0xD800..0xDC00).contains(&unit) && self.bytes[self.at..].starts_with(b"\\u") {
            let saved = self.at;
            self.at += 2;
            let low = self.hex4()?;
            if (0xDC00..0xE000).contains(&low) {
                let code = 0x10000 + ((u32::from(unit) - 0xD800) << 10) + (u32::from(low) - 0xDC00);
                out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                return Some(());
            }
            // Not a pair: the high surrogate stands alone, the next escape is read anew.
            self.at = saved;
        }
        out.push(char::from_u32(u32::from(unit)).unwrap_or('\u{fffd}'));
        Some(())
    }

    fn hex4(&mut self) -> Option<u16> {
        let digits = self.text.get(self.at..self.at + 4)?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.at += 4;
        u16::from_str_radix(digits, 16).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // Expected values from `JSON.parse` in node 20 (then `JSON.stringify`).
    #[test]
    fn parses_what_json_parse_parses() {
        assert_eq!(
            json_parse(" {\"a\": [1, 2.5, true, null, \"x\"]} "),
            Some(json!({"a": [1, 2.5, true, null, "x"]}))
        );
        assert_eq!(json_parse("{\"a\":1,\"a\":2}"), Some(json!({"a": 2})));
        assert_eq!(
            json_parse("\"\\u0000\\ud83d\\ude00\""),
            Some(json!("\u{0}😀"))
        );
        assert_eq!(json_parse("\"\\ud800x\""), Some(json!("\u{fffd}x")));
        assert_eq!(
            json_parse("[1e999, -1e999, 1e-999]"),
            Some(json!([null, null, 0]))
        );
        assert_eq!(
            json_parse("12345678901234567890"),
            Some(json!(12_345_678_901_234_567_000.0_f64))
        );
        let deep = |levels: usize| format!("{}{}", "[".repeat(levels), "]".repeat(levels));
        assert!(json_parse(&deep(MAX_DEPTH)).is_some());
        assert!(json_parse(&deep(MAX_DEPTH + 1)).is_none());
    }

    #[test]
    fn refuses_what_json_parse_refuses() {
        for text in [
            "",
            " ",
            "01",
            "1.",
            ".5",
            "+1",
            "-",
            "[1,]",
            "{\"a\":1,}",
            "{a:1}",
            "'a'",
            "\"\t\"",
            "\"\\x\"",
            "\"\\u12\"",
            "[1] 2",
            "\u{a0}1",
            "\u{c}1",
            "tru",
            "nul",
            "[",
            "{\"a\"",
            "NaN",
            "Infinity",
        ] {
            assert_eq!(json_parse(text), None, "{text:?}");
        }
    }
}
