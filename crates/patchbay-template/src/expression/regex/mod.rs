//! JSONata regular expressions with ECMAScript semantics (jsonata-core backend).
//!
//! jsonata-js compiles a regex literal with JavaScript's `RegExp`, so look-around,
//! back-references and named groups work, `\w`, `\d` and `\b` are ASCII-only, `.` stops at
//! line terminators, and every position is counted in UTF-16 code units. jsonata-core
//! builds its regexes with the Rust `regex` crate instead, and again on every call. This
//! module matches with [`regress`], an ECMAScript regex engine, on the text's UTF-16 code
//! units in JavaScript's non-unicode mode (the mode of a literal without the `u` flag), so
//! syntax, semantics and positions are JavaScript's.
//!
//! * [`JsRegex`] is one compiled regex; [`JsRegex::find_at`] is `RegExp.prototype.exec`
//!   with `lastIndex` set.
//! * [`Regexes`] holds every regex literal of a compiled expression, compiled once when the
//!   expression is compiled and shared by all its evaluations. A literal that does not
//!   compile, or that has a flag other than `i` and `m` (the only ones jsonata-js reads),
//!   makes the expression a compile error, as in jsonata-js.
//! * [`functions`] holds the host functions that replace the regex-consuming built-ins.
//!
//! regress is a backtracking engine and cannot be interrupted: a pattern with catastrophic
//! backtracking (`/(a+)+$/` on a long run of `a`s) would run until it is done, past the
//! time limit, as it does in JavaScript. So every pattern that needs no backtracking (no
//! look-around, no back-reference, no `m` flag: almost all of them) is also translated for
//! the Rust `regex` crate, whose matching time is linear in the text, and matched there
//! (see [`linear`]); only the others run on regress. Between matches the time limit is
//! checked.

pub(crate) mod functions;
mod linear;

use std::ops::Range;

use jsonata_core::ast::AstNode;
use regress::{Flags, Regex};

pub(crate) use self::functions::Subject;
use super::ast_walk::for_each_node;

/// Why a pattern or its flags were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum RegexError {
    /// A flag jsonata-js does not read after a regex literal. It reads `i` and `m` only;
    /// another letter starts a name there, which is a syntax error whose code depends on
    /// where the literal stands (`S0201`, `S0202`, …), so this error has no code.
    #[error("Syntax error: unsupported regular expression flag \"{0}\" (only i and m are)")]
    Flag(char),
    /// `//`.
    #[error("S0301: Empty regular expressions are not allowed")]
    Empty,
    /// Brackets that do not balance: jsonata-js's scanner ends a literal only at a `/`
    /// outside `(…)`, `[…]` and `{…}`, so for it the literal does not end here.
    #[error("S0302: No terminating / in regular expression")]
    Unterminated,
    /// Groups nested deeper than [`MAX_NESTING`]: the regex parser recurses once per level.
    #[error("Invalid regular expression: groups nested more than {MAX_NESTING} levels deep")]
    TooDeep,
    /// The pattern is not a valid ECMAScript regular expression.
    #[error("Invalid regular expression: /{pattern}/: {reason}")]
    Pattern { pattern: String, reason: String },
}

/// One regex, compiled for JavaScript's non-unicode mode.
#[derive(Debug)]
pub(crate) struct JsRegex {
    pattern: String,
    flags: String,
    regex: Regex,
    /// The same regex on the linear-time engine, when the pattern translates.
    linear: Option<Linear>,
}

/// A regex on the `regex` crate, which matches whole characters.
#[derive(Debug)]
struct Linear {
    regex: regex::Regex,
    /// Whether JavaScript could match half of a surrogate pair with it: then texts with
    /// characters beyond the Basic Multilingual Plane go to regress.
    splits_pairs: bool,
}

/// The largest compiled program of the linear engine; bigger ones stay on regress.
const LINEAR_SIZE_LIMIT: usize = 4 << 20;

/// A match: where it is and where its capture groups are, in UTF-16 code units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    pub(crate) span: Range<usize>,
    /// One entry per capture group (named or not, in order); `None` for a group that did
    /// not take part in the match.
    pub(crate) groups: Vec<Option<Range<usize>>>,
}

impl JsRegex {
    /// Compiles `pattern` with `flags` (`i`, `m`, each at most meaningful once).
    ///
    /// # Errors
    /// [`RegexError::Flag`] for any other flag, [`RegexError::Pattern`] for a pattern
    /// JavaScript's `RegExp` would refuse.
    pub(crate) fn new(pattern: &str, flags: &str) -> Result<Self, RegexError> {
        if pattern.is_empty() {
            return Err(RegexError::Empty);
        }
        match nesting(pattern) {
            None => return Err(RegexError::Unterminated),
            Some(depth) if depth > MAX_NESTING => return Err(RegexError::TooDeep),
            Some(_) => {}
        }
        let mut options = Flags::default();
        for flag in flags.chars() {
            match flag {
                'i' => options.icase = true,
                'm' => options.multiline = true,
                other => return Err(RegexError::Flag(other)),
            }
        }
        let units = code_units(pattern);
        let regex = Regex::from_unicode(units.into_iter(), options).map_err(|error| {
            RegexError::Pattern {
                pattern: pattern.to_owned(),
                reason: error.to_string(),
            }
        })?;
        let linear = linear::translate(pattern, flags).and_then(|translated| {
            let regex = regex::RegexBuilder::new(&translated.pattern)
                .size_limit(LINEAR_SIZE_LIMIT)
                .build()
                .ok()?;
            Some(Linear {
                regex,
                splits_pairs: translated.splits_pairs,
            })
        });
        Ok(JsRegex {
            pattern: pattern.to_owned(),
            flags: flags.to_owned(),
            regex,
            linear,
        })
    }

    /// Whether matches of this regex in `subject` run on the linear-time engine.
    fn is_linear_for(&self, subject: &Subject<'_>) -> bool {
        self.linear
            .as_ref()
            .is_some_and(|linear| !linear.splits_pairs || !subject.has_astral())
    }

    /// Whether this is the regex `/pattern/flags`.
    fn is(&self, pattern: &str, flags: &str) -> bool {
        self.pattern == pattern && self.flags == flags
    }

    /// The first match in `subject` starting at or after the UTF-16 index `from`, as
    /// JavaScript's `exec` of a global regex with `lastIndex = from` finds it.
    pub(crate) fn find_at(&self, subject: &Subject<'_>, from: usize) -> Option<Found> {
        if from > subject.len() {
            return None;
        }
        if let (Some(linear), true) = (&self.linear, self.is_linear_for(subject)) {
            let captures = linear
                .regex
                .captures_at(subject.text(), subject.byte_of(from))?;
            let span = captures.get(0)?.range();
            return Some(Found {
                span: subject.unit_of(span.start)..subject.unit_of(span.end),
                groups: captures
                    .iter()
                    .skip(1)
                    .map(|group| {
                        group.map(|group| {
                            subject.unit_of(group.start())..subject.unit_of(group.end())
                        })
                    })
                    .collect(),
            });
        }
        let found = self.regex.find_from_ucs2(subject.units(), from).next()?;
        Some(Found {
            span: found.range,
            groups: found.captures,
        })
    }
}

/// The deepest nesting of brackets a pattern may have. regress parses groups
/// recursively, so a hostile pattern must not nest without bound; JavaScript engines stop
/// at their own (larger) stack limits.
pub(crate) const MAX_NESTING: usize = 200;

/// How deep the brackets of `pattern` nest, or `None` when they do not balance as
/// jsonata-js's regex scanner counts them: `(`, `[` and `{` open and `)`, `]` and `}`
/// close unless the character before is a backslash, and the closing `/` counts only
/// when all are closed.
fn nesting(pattern: &str) -> Option<usize> {
    let mut depth = 0i64;
    let mut deepest = 0i64;
    let mut previous = None;
    for c in pattern.chars() {
        if previous != Some('\\') {
            match c {
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => depth -= 1,
                _ => {}
            }
            deepest = deepest.max(depth);
        }
        previous = Some(c);
    }
    (depth == 0).then(|| usize::try_from(deepest).unwrap_or(0))
}

/// `pattern` as JavaScript's non-unicode mode reads it: UTF-16 code units. A character
/// outside the Basic Multilingual Plane is two units, and so is a `\uD83D\uDE00` escape
/// pair (regress would join the pair into one code point, which never matches the units
/// of the text), and a `\u` without four hex digits is the letter `u` (Annex B); every
/// other escape is left for regress to read.
fn code_units(pattern: &str) -> Vec<u32> {
    let mut units = Vec::with_capacity(pattern.len());
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            let rest: String = chars.clone().take(5).collect();
            if let Some(hex) = rest.strip_prefix('u') {
                let unit = Some(hex)
                    .filter(|hex| hex.len() == 4 && hex.chars().all(|h| h.is_ascii_hexdigit()))
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok());
                match unit {
                    Some(unit) if (0xD800..=0xDFFF).contains(&unit) => {
                        units.push(unit);
                        chars.nth(4);
                        continue;
                    }
                    Some(_) => {}
                    // Not `\uXXXX`: in non-unicode mode an identity escape, the letter `u`
                    // (regress would read `\u{3}` as a code point escape).
                    None => {
                        units.push(u32::from('u'));
                        chars.next();
                        continue;
                    }
                }
            }
            units.push(u32::from(c));
            if let Some(escaped) = chars.next() {
                push_utf16(&mut units, escaped);
            }
            continue;
        }
        push_utf16(&mut units, c);
    }
    units
}

fn push_utf16(units: &mut Vec<u32>, c: char) {
    let mut buffer = [0u16; 2];
    units.extend(
        c.encode_utf16(&mut buffer)
            .iter()
            .map(|&unit| u32::from(unit)),
    );
}

/// The regexes of one compiled expression, compiled once.
#[derive(Debug, Default)]
pub(crate) struct Regexes {
    literals: Vec<JsRegex>,
}

impl Regexes {
    /// Compiles every regex literal in `ast`.
    ///
    /// # Errors
    /// The first literal that does not compile (see [`JsRegex::new`]).
    pub(crate) fn of(ast: &AstNode) -> Result<Self, RegexError> {
        let mut literals: Vec<JsRegex> = Vec::new();
        let mut failed = None;
        for_each_node(ast, |node| {
            if let AstNode::Regex { pattern, flags } = node
                && failed.is_none()
                && !literals.iter().any(|regex| regex.is(pattern, flags))
            {
                match JsRegex::new(pattern, flags) {
                    Ok(regex) => literals.push(regex),
                    Err(error) => failed = Some(error),
                }
            }
        });
        match failed {
            Some(error) => Err(error),
            None => Ok(Regexes { literals }),
        }
    }

    /// Runs `with` on the regex `/pattern/flags`: the compiled literal, or (for a regex
    /// built at run time, by `$eval`) one compiled for this call.
    ///
    /// # Errors
    /// A run-time regex that does not compile.
    pub(crate) fn with<T>(
        &self,
        pattern: &str,
        flags: &str,
        with: impl FnOnce(&JsRegex) -> T,
    ) -> Result<T, RegexError> {
        match self.literals.iter().find(|regex| regex.is(pattern, flags)) {
            Some(regex) => Ok(with(regex)),
            None => Ok(with(&JsRegex::new(pattern, flags)?)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(text: &str) -> Subject<'_> {
        Subject::new(text)
    }

    #[test]
    fn positions_are_utf16_code_units() {
        let regex = JsRegex::new("a", "").expect("compiles");
        let found = regex.find_at(&utf16("é😀a"), 0).expect("matches");
        assert_eq!(found.span, 3..4);
    }

    #[test]
    fn look_around_and_back_references_work() {
        let regex = JsRegex::new(r"(?<=a)(b)\1", "").expect("compiles");
        let found = regex.find_at(&utf16("bbabb"), 0).expect("matches");
        assert_eq!(found.span, 3..5);
        assert_eq!(found.groups, vec![Some(3..4)]);
    }

    #[test]
    fn astral_characters_are_two_code_units() {
        let text = utf16("a😀b");
        for pattern in ["😀", r"\ud83d\ude00", r"[\ud83d][\ude00]", "."] {
            let regex = JsRegex::new(pattern, "").expect("compiles");
            let found = regex.find_at(&text, 1).expect(pattern);
            let expected = if pattern == "." { 1..2 } else { 1..3 };
            assert_eq!(found.span, expected, "{pattern}");
        }
        // An escaped backslash before `u` is no escape sequence.
        let regex = JsRegex::new(r"\\ud83d", "").expect("compiles");
        assert!(regex.find_at(&utf16(r"x\ud83d"), 0).is_some());
    }

    #[test]
    fn only_i_and_m_are_flags() {
        assert_eq!(JsRegex::new("a", "s").unwrap_err(), RegexError::Flag('s'));
        assert_eq!(JsRegex::new("", "").unwrap_err(), RegexError::Empty);
        assert_eq!(JsRegex::new("]", "").unwrap_err(), RegexError::Unterminated);
        assert!(JsRegex::new(r"\]", "").is_ok());
        let deep = |levels: usize| format!("{}a{}", "(".repeat(levels), ")".repeat(levels));
        assert!(JsRegex::new(&deep(MAX_NESTING), "").is_ok());
        assert_eq!(
            JsRegex::new(&deep(100_000), "").unwrap_err(),
            RegexError::TooDeep
        );
        assert!(JsRegex::new("a", "im").is_ok());
        assert!(matches!(
            JsRegex::new("(?<n>a)(?<n>b)", "").unwrap_err(),
            RegexError::Pattern { .. }
        ));
    }

    #[test]
    fn patterns_without_backtracking_run_on_the_linear_engine() {
        let linear = JsRegex::new(r"(\w+)@(\w+)", "").expect("compiles");
        let subject = utf16("é😀 ab@cd");
        assert!(linear.is_linear_for(&subject));
        let found = linear.find_at(&subject, 0).expect("matches");
        assert_eq!(found.span, 4..9);
        assert_eq!(found.groups, vec![Some(4..6), Some(7..9)]);
        // `.` can split a pair in JavaScript: texts with one go to regress.
        let dot = JsRegex::new("a.", "").expect("compiles");
        assert!(dot.is_linear_for(&utf16("ab")));
        assert!(!dot.is_linear_for(&utf16("a😀")));
        assert!(
            !JsRegex::new(r"(?<=a)b", "")
                .expect("compiles")
                .is_linear_for(&utf16("ab"))
        );
    }

    #[test]
    fn catastrophic_patterns_without_backtracking_features_finish_at_once() {
        // 2^40 steps for a backtracking engine; linear here.
        let regex = JsRegex::new("(a+)+$", "").expect("compiles");
        let text = format!("{}b", "a".repeat(40));
        let subject = utf16(&text);
        assert!(regex.is_linear_for(&subject));
        let started = std::time::Instant::now();
        assert!(regex.find_at(&subject, 0).is_none());
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn a_start_past_the_end_finds_nothing() {
        let regex = JsRegex::new("x*", "").expect("compiles");
        assert!(regex.find_at(&utf16("ab"), 2).is_some());
        assert!(regex.find_at(&utf16("ab"), 3).is_none());
    }
}
