//! A linear-time engine for the regexes that do not need backtracking.
//!
//! regress backtracks, as JavaScript engines do, so a pattern such as `/(a+)+$/` takes
//! exponential time on a hostile text and cannot be interrupted. Most patterns in
//! integration configs (`/\D/`, `/^[a-z0-9_]+$/i`, `/\s+/`) use nothing that needs
//! backtracking, and those run on the Rust `regex` crate instead, whose matching time is
//! linear in the text: [`translate`] rewrites the JavaScript pattern (non-unicode mode) into
//! that crate's syntax with JavaScript's meaning:
//!
//! * `\d`, `\w` and `\b` are ASCII; `\s` is JavaScript's white space and line terminators;
//!   `.` stops at `\n`, `\r`, U+2028 and U+2029;
//! * `{` that does not start a quantifier, `}` and `]` are literal; `[` inside a class is
//!   literal; `\xHH`, `\uHHHH`, `\cX`, `\0`, `\v` are the characters they name.
//!
//! Anything the translation does not cover returns `None`, and the pattern stays on
//! regress: look-around, back-references, the `m` flag (JavaScript's line terminators for
//! `^`/`$` are not the crate's), surrogate escapes, characters outside the Basic
//! Multilingual Plane, `[^]`, `[]`, identity escapes of letters and class escapes that
//! negate inside a class (`[\W]`).
//!
//! One difference remains, in capture groups inside a repeated group: JavaScript clears a
//! group's capture at each repetition (`/((a)|b)+/` on `ab` leaves group 2 undefined), the
//! crate keeps the last one that matched.

/// JavaScript's `\s`: white space and line terminators.
const JS_SPACE: &str = r"\t\n\x0B\x0C\r \x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}\x{FEFF}";
const DIGIT: &str = "0-9";
const WORD: &str = "0-9A-Za-z_";

/// The pattern in the `regex` crate's syntax, and whether it can match half of a
/// surrogate pair in JavaScript (`.`, a negated class or escape), which the crate, matching
/// whole characters, cannot: such a pattern must stay on regress for texts with characters
/// outside the Basic Multilingual Plane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Translated {
    pub(crate) pattern: String,
    pub(crate) splits_pairs: bool,
}

/// `pattern` with `flags` in the `regex` crate's syntax, or `None` when it needs regress
/// (see the module docs).
pub(crate) fn translate(pattern: &str, flags: &str) -> Option<Translated> {
    if flags.contains('m') {
        return None;
    }
    let mut out = String::with_capacity(pattern.len() + 8);
    if flags.contains('i') {
        out.push_str("(?i)");
    }
    let chars: Vec<char> = pattern.chars().collect();
    let mut splits_pairs = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if u32::from(c) > 0xFFFF {
            return None;
        }
        match c {
            '\\' => {
                let (text, used, splits) = escape_outside(&chars[i + 1..])?;
                out.push_str(&text);
                splits_pairs |= splits;
                i += 1 + used;
                continue;
            }
            '[' => {
                let (text, used, splits) = class(&chars[i..])?;
                out.push_str(&text);
                splits_pairs |= splits;
                i += used;
                continue;
            }
            '(' => {
                let rest: String = chars[i + 1..].iter().take(3).collect();
                if rest.starts_with('?') {
                    if rest.starts_with("?:") {
                        out.push_str("(?:");
                        i += 3;
                    } else if rest.starts_with("?<")
                        && !rest.starts_with("?<=")
                        && !rest.starts_with("?<!")
                    {
                        out.push_str("(?P<");
                        i += 3;
                    } else {
                        // Look-ahead, look-behind or something JavaScript refuses.
                        return None;
                    }
                    continue;
                }
                out.push('(');
            }
            '.' => {
                out.push_str(r"[^\n\r\x{2028}\x{2029}]");
                splits_pairs = true;
            }
            '{' => match quantifier_length(&chars[i..]) {
                Some(length) => {
                    out.extend(&chars[i..i + length]);
                    i += length;
                    continue;
                }
                None => out.push_str(r"\{"),
            },
            '}' => out.push_str(r"\}"),
            ']' => out.push_str(r"\]"),
            // The crate's verbose-mode and class-set characters are plain outside classes,
            // as in JavaScript; everything else means the same in both.
            other => out.push(other),
        }
        i += 1;
    }
    Some(Translated {
        pattern: out,
        splits_pairs,
    })
}

/// The length of the quantifier `{n}`, `{n,}` or `{n,m}` at the start of `chars`.
fn quantifier_length(chars: &[char]) -> Option<usize> {
    let close = chars.iter().position(|&c| c == '}')?;
    let inner: String = chars[1..close].iter().collect();
    let (low, high) = match inner.split_once(',') {
        Some((low, high)) => (low, Some(high)),
        None => (inner.as_str(), None),
    };
    let digits = |text: &str| !text.is_empty() && text.chars().all(|c| c.is_ascii_digit());
    let valid = digits(low) && high.is_none_or(|high| high.is_empty() || digits(high));
    valid.then_some(close + 1)
}

/// A character in the crate's syntax, escaped when it could mean something else.
fn literal(c: char) -> String {
    if c.is_ascii_alphanumeric() || c == '_' || c == ' ' {
        c.to_string()
    } else {
        format!(r"\x{{{:X}}}", u32::from(c))
    }
}

/// The character a character escape names (`\t`, `\xHH`, `\uHHHH`, `\cX`, `\0`, escaped
/// punctuation), with the number of characters it used after the backslash.
fn character_escape(rest: &[char]) -> Option<(char, usize)> {
    let first = *rest.first()?;
    let hex = |count: usize| -> Option<char> {
        let digits: String = rest.get(1..=count)?.iter().collect();
        if digits.len() != count || !digits.chars().all(|d| d.is_ascii_hexdigit()) {
            return None;
        }
        let value = u32::from_str_radix(&digits, 16).ok()?;
        // A surrogate matches half of a pair: regress territory.
        char::from_u32(value)
    };
    Some(match first {
        't' => ('\t', 1),
        'n' => ('\n', 1),
        'r' => ('\r', 1),
        'v' => ('\u{0B}', 1),
        'f' => ('\u{0C}', 1),
        '0' if !rest.get(1).is_some_and(char::is_ascii_digit) => ('\0', 1),
        'x' => (hex(2)?, 3),
        'u' => (hex(4)?, 5),
        'c' => {
            let letter = *rest.get(1)?;
            if !letter.is_ascii_alphabetic() {
                return None;
            }
            (char::from(u8::try_from(u32::from(letter) % 32).ok()?), 2)
        }
        // Identity escapes of punctuation (`\.`, `\/`, `\-`): the character itself.
        c if c.is_ascii_punctuation() => (c, 1),
        // Back-references, identity escapes of letters, characters beyond the BMP.
        _ => return None,
    })
}

/// An escape outside a class: its translation, the characters it used after the
/// backslash, and whether it can split a surrogate pair.
fn escape_outside(rest: &[char]) -> Option<(String, usize, bool)> {
    let first = *rest.first()?;
    Some(match first {
        'd' => (format!("[{DIGIT}]"), 1, false),
        'D' => (format!("[^{DIGIT}]"), 1, true),
        'w' => (format!("[{WORD}]"), 1, false),
        'W' => (format!("[^{WORD}]"), 1, true),
        's' => (format!("[{JS_SPACE}]"), 1, false),
        'S' => (format!("[^{JS_SPACE}]"), 1, true),
        'b' => (r"(?-u:\b)".to_owned(), 1, false),
        'B' => (r"(?-u:\B)".to_owned(), 1, false),
        _ => {
            let (c, used) = character_escape(rest)?;
            (literal(c), used, false)
        }
    })
}

/// The class starting at `chars[0] == '['`: its translation, its length, and whether it
/// can split a surrogate pair (a negated class).
fn class(chars: &[char]) -> Option<(String, usize, bool)> {
    let mut out = String::from("[");
    let mut i = 1;
    let negated = chars.get(1) == Some(&'^');
    if negated {
        out.push('^');
        i += 1;
    }
    // `[]` matches nothing and `[^]` everything in JavaScript; the crate has no such class.
    if chars.get(i) == Some(&']') {
        return None;
    }
    // The members, as single characters or class escapes, for range handling.
    enum Member {
        /// A character; `escaped` ones never act as the range operator `-`.
        Char {
            c: char,
            escaped: bool,
        },
        Set(&'static str),
    }
    let mut members: Vec<Member> = Vec::new();
    loop {
        let c = *chars.get(i)?;
        if c == ']' {
            i += 1;
            break;
        }
        if u32::from(c) > 0xFFFF {
            return None;
        }
        if c == '\\' {
            let rest = &chars[i + 1..];
            match rest.first()? {
                'd' => {
                    members.push(Member::Set(DIGIT));
                    i += 2;
                }
                'w' => {
                    members.push(Member::Set(WORD));
                    i += 2;
                }
                's' => {
                    members.push(Member::Set(JS_SPACE));
                    i += 2;
                }
                'b' => {
                    members.push(Member::Char {
                        c: '\u{08}',
                        escaped: true,
                    });
                    i += 2;
                }
                // Negated escapes inside a class, `\B` and back-references: not translated.
                'D' | 'W' | 'S' | 'B' => return None,
                _ => {
                    let (c, used) = character_escape(rest)?;
                    members.push(Member::Char { c, escaped: true });
                    i += 1 + used;
                }
            }
            continue;
        }
        members.push(Member::Char { c, escaped: false });
        i += 1;
    }
    // Ranges: an unescaped `-` between two characters; any other `-` is literal (Annex B).
    let is_range_operator = |member: Option<&Member>| {
        matches!(
            member,
            Some(Member::Char {
                c: '-',
                escaped: false
            })
        )
    };
    let mut index = 0;
    while index < members.len() {
        match (&members[index], members.get(index + 2)) {
            (Member::Char { c: low, .. }, Some(Member::Char { c: high, .. }))
                if is_range_operator(members.get(index + 1)) =>
            {
                if low > high {
                    // JavaScript: "Range out of order in character class" (a SyntaxError).
                    return None;
                }
                out.push_str(&literal(*low));
                out.push('-');
                out.push_str(&literal(*high));
                index += 3;
            }
            (Member::Char { c, .. }, _) => {
                out.push_str(&literal(*c));
                index += 1;
            }
            (Member::Set(set), _) => {
                out.push_str(set);
                index += 1;
            }
        }
    }
    out.push(']');
    Some((out, i, negated))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn linear(pattern: &str) -> regex::Regex {
        let translated = translate(pattern, "").expect("translates");
        regex::Regex::new(&translated.pattern).expect("compiles")
    }

    #[test]
    fn class_escapes_are_ascii_as_in_javascript() {
        assert!(!linear(r"\d").is_match("٣"));
        assert!(!linear(r"\w").is_match("é"));
        assert!(linear(r"\s").is_match("\u{FEFF}"));
        assert!(!linear(r"^\bé").is_match("é"));
        assert!(!linear(".").is_match("\r"));
        assert!(linear(r"a{").is_match("a{"));
        assert!(linear(r"a{2}").is_match("aa"));
        assert!(linear(r"[a-]").is_match("-"));
        assert!(linear(r"[\d-z]").is_match("-"));
        assert!(linear(r"[[]").is_match("["));
        assert!(!linear(r"^[a\-z]$").is_match("m"));
        assert!(linear(r"^[\x41-\x5A]$").is_match("M"));
        assert!(linear(r"\x41\u0042\cJ").is_match("AB\n"));
        assert!(linear(r"(?<year>\d{4})").is_match("2024"));
    }

    #[test]
    fn what_needs_backtracking_stays_on_regress() {
        for pattern in [
            r"(?=a)", r"(?!a)", r"(?<=a)b", r"(?<!a)b", r"(a)\1", r"\k<n>", "[]", "[^]", r"\ud83d",
            "😀", r"[\W]", r"\a",
        ] {
            assert_eq!(translate(pattern, ""), None, "{pattern}");
        }
        assert_eq!(translate("^a$", "m"), None);
        assert!(translate("a", "i").is_some_and(|t| t.pattern == "(?i)a"));
    }

    #[test]
    fn patterns_that_can_split_a_surrogate_pair_say_so() {
        for (pattern, splits) in [
            (".", true),
            ("[^a]", true),
            (r"\D", true),
            ("[a]", false),
            (r"\d+", false),
        ] {
            assert_eq!(
                translate(pattern, "").expect(pattern).splits_pairs,
                splits,
                "{pattern}"
            );
        }
    }
}
