//! The regex-consuming built-ins, on [`JsRegex`]: `$match`, `$contains`, `$split`, the
//! regex path of `$replace`, and calling a regex literal (`/re/(text)`, `text ~> /re/`).
//!
//! Each follows jsonata-js 2.2 (`functions.js`, `evaluateRegex`): matches are found one
//! after the other as a global `RegExp`'s `exec` finds them, each from where the last one
//! ended; there is no next match once one ends the text, and a zero-length next match is
//! error `D1004` (it would never move on). Limits are compared as JavaScript numbers
//! (`count < limit`). Positions are UTF-16 code units.
//!
//! The functions here take a call's arguments as the built-in sees them (after
//! [`explicit_arguments`](super::super::context_args::explicit_arguments)). Calls that do
//! not involve a regex (a substring, a custom matcher function) or whose arguments the
//! built-in's signature refuses are not handled here: the caller hands them to the
//! engine's built-in ([`Handled::Delegate`]).

use std::ops::Range;
use std::time::Instant;

use jsonata_core::evaluator::EvaluatorError;
use jsonata_core::value::JValue;

use super::{Found, JsRegex, RegexError, Regexes};

/// What a regex function made of a call.
pub(crate) enum Handled {
    /// The call's result (or its error).
    Done(Result<JValue, EvaluatorError>),
    /// Not a regex call this module performs: run the engine's built-in.
    Delegate,
}

/// The text being matched: as UTF-16 code units (JavaScript's positions) and as UTF-8
/// (for the linear-time engine), with the mapping between their positions.
pub(crate) struct Subject<'t> {
    text: &'t str,
    units: Vec<u16>,
    /// Whether the text has characters beyond the Basic Multilingual Plane (two units).
    astral: bool,
    /// The byte offset of each code unit (and of the end), built on first use. The second
    /// unit of a pair maps to the next character.
    bytes: std::cell::OnceCell<Vec<usize>>,
}

impl<'t> Subject<'t> {
    pub(crate) fn new(text: &'t str) -> Self {
        let units: Vec<u16> = text.encode_utf16().collect();
        Subject {
            astral: units.len() != text.chars().count(),
            text,
            units,
            bytes: std::cell::OnceCell::new(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.units.len()
    }

    pub(crate) fn units(&self) -> &[u16] {
        &self.units
    }

    pub(crate) fn text(&self) -> &str {
        self.text
    }

    pub(crate) fn has_astral(&self) -> bool {
        self.astral
    }

    fn byte_offsets(&self) -> &[usize] {
        self.bytes.get_or_init(|| {
            let mut offsets = Vec::with_capacity(self.units.len() + 1);
            for (byte, c) in self.text.char_indices() {
                offsets.push(byte);
                if c.len_utf16() == 2 {
                    offsets.push(byte + c.len_utf8());
                }
            }
            offsets.push(self.text.len());
            offsets
        })
    }

    /// The byte offset of the code unit `unit` (at most the text's length).
    pub(crate) fn byte_of(&self, unit: usize) -> usize {
        let offsets = self.byte_offsets();
        offsets[unit.min(offsets.len() - 1)]
    }

    /// The code unit at the byte offset `byte` (a character boundary): the last unit
    /// mapped there (the second unit of a pair maps to the character after it).
    pub(crate) fn unit_of(&self, byte: usize) -> usize {
        self.byte_offsets()
            .partition_point(|&offset| offset <= byte)
            .saturating_sub(1)
    }

    /// Appends the code units `range` to `out` (a lone surrogate becomes U+FFFD).
    pub(crate) fn push(&self, out: &mut String, range: Range<usize>) {
        let units = self.units.get(range).unwrap_or_default();
        out.extend(char::decode_utf16(units.iter().copied()).map(|c| c.unwrap_or('\u{fffd}')));
    }

    pub(crate) fn text_of(&self, range: Range<usize>) -> String {
        let mut out = String::new();
        self.push(&mut out, range);
        out
    }
}

/// What one call may spend.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    /// [`Limits::timeout`](crate::expression::Limits::timeout), checked between matches.
    pub(crate) timeout: std::time::Duration,
    /// [`Limits::max_sequence_length`](crate::expression::Limits::max_sequence_length):
    /// the most items a `$match` or `$split` result may have (`D2015`, as the engine's
    /// own sequences).
    pub(crate) max_items: usize,
}

/// Walks the matches of a regex as jsonata-js's regex closure and its `next()` do.
pub(crate) struct Matcher<'a> {
    regex: &'a JsRegex,
    subject: &'a Subject<'a>,
    started: Instant,
    bounds: Bounds,
}

impl<'a> Matcher<'a> {
    pub(crate) fn new(regex: &'a JsRegex, subject: &'a Subject<'a>, bounds: Bounds) -> Self {
        Matcher {
            regex,
            subject,
            started: Instant::now(),
            bounds,
        }
    }

    /// `D2015` once a result would have more than [`Bounds::max_items`] items.
    fn check_items(&self, items: usize) -> Result<(), EvaluatorError> {
        if items >= self.bounds.max_items {
            return Err(too_many(self.bounds.max_items));
        }
        Ok(())
    }

    /// The first match.
    pub(crate) fn first(&self) -> Option<Found> {
        self.regex.find_at(self.subject, 0)
    }

    /// The match after `current`: none once `current` ends the text, `D1004` for a
    /// zero-length one, `D1012` once the time limit has passed.
    pub(crate) fn next(&self, current: &Found) -> Result<Option<Found>, EvaluatorError> {
        if self.started.elapsed() > self.bounds.timeout {
            return Err(EvaluatorError::EvaluationError(format!(
                "D1012: Evaluation timeout after {} milliseconds. Check for infinite loop",
                self.bounds.timeout.as_millis()
            )));
        }
        if current.span.end >= self.subject.len() {
            return Ok(None);
        }
        match self.regex.find_at(self.subject, current.span.end) {
            Some(found) if found.span.is_empty() => Err(EvaluatorError::EvaluationError(
                "D1004: Regular expression matches zero length string".to_owned(),
            )),
            next => Ok(next),
        }
    }

    /// A capture group's text, or `None` (JavaScript's `undefined`).
    pub(crate) fn group(&self, found: &Found, index: usize) -> Option<String> {
        found
            .groups
            .get(index)
            .cloned()
            .flatten()
            .map(|range| self.subject.text_of(range))
    }

    /// `groups` of a match object: the capture groups' texts, `undefined` for a group that
    /// did not take part.
    fn groups(&self, found: &Found) -> JValue {
        JValue::array(
            (0..found.groups.len())
                .map(|i| {
                    self.group(found, i)
                        .map_or(JValue::Undefined, JValue::string)
                })
                .collect(),
        )
    }

    /// The object jsonata-js's regex closure returns: `{match, start, end, groups}` (its
    /// `next` function is left out; see the module docs of [`super`]).
    pub(crate) fn closure_result(&self, found: &Found) -> JValue {
        JValue::object(
            [
                (
                    "match",
                    JValue::string(self.subject.text_of(found.span.clone())),
                ),
                ("start", number(found.span.start)),
                ("end", number(found.span.end)),
                ("groups", self.groups(found)),
            ]
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value))
            .collect(),
        )
    }

    /// An item of `$match`'s result: `{match, index, groups}`.
    fn match_item(&self, found: &Found) -> JValue {
        JValue::object(
            [
                (
                    "match",
                    JValue::string(self.subject.text_of(found.span.clone())),
                ),
                ("index", number(found.span.start)),
                ("groups", self.groups(found)),
            ]
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value))
            .collect(),
        )
    }
}

/// `D2015`: a result with more than `max` items.
fn too_many(max: usize) -> EvaluatorError {
    EvaluatorError::EvaluationError(format!(
        "D2015: The maximum sequence length of {max} was exceeded."
    ))
}

#[allow(clippy::cast_precision_loss)]
fn number(n: usize) -> JValue {
    JValue::Number(n as f64)
}

/// Whether `count` items stay within `limit` (JavaScript's `count < limit`; no limit is
/// no bound).
#[allow(clippy::cast_precision_loss)]
pub(crate) fn within(count: usize, limit: Option<f64>) -> bool {
    limit.is_none_or(|limit| (count as f64) < limit)
}

/// An optional limit argument: absent/`undefined`, or a non-negative number. Anything else
/// (a negative number, another type) is for the built-in to refuse.
fn limit(value: Option<&JValue>) -> Option<Option<f64>> {
    match value {
        None | Some(JValue::Undefined) => Some(None),
        Some(JValue::Number(n)) if *n >= 0.0 => Some(Some(*n)),
        Some(_) => None,
    }
}

fn regex_error(error: RegexError) -> EvaluatorError {
    EvaluatorError::EvaluationError(error.to_string())
}

/// `$match(text, regex[, limit])`.
pub(crate) fn match_(args: &[JValue], regexes: &Regexes, bounds: Bounds) -> Handled {
    let (Some(text), Some(JValue::Regex { pattern, flags })) = (args.first(), args.get(1)) else {
        return Handled::Delegate;
    };
    let (Some(limit), true) = (limit(args.get(2)), args.len() <= 3) else {
        return Handled::Delegate;
    };
    let text = match text {
        JValue::String(text) => text,
        JValue::Undefined => return Handled::Done(Ok(JValue::Undefined)),
        _ => return Handled::Delegate,
    };
    let subject = Subject::new(text);
    let result = regexes.with(pattern, flags, |regex| {
        let matcher = Matcher::new(regex, &subject, bounds);
        let mut items = Vec::new();
        if limit.is_none_or(|limit| limit > 0.0) {
            let mut current = matcher.first();
            while let Some(found) = current.take() {
                if !within(items.len(), limit) {
                    break;
                }
                matcher.check_items(items.len())?;
                items.push(matcher.match_item(&found));
                current = matcher.next(&found)?;
            }
        }
        Ok(JValue::sequence(items))
    });
    Handled::Done(result.map_err(regex_error).and_then(|result| result))
}

/// `$contains(text, pattern)`: a substring or a regex.
pub(crate) fn contains(args: &[JValue], regexes: &Regexes) -> Handled {
    let [text, pattern] = args else {
        return Handled::Delegate;
    };
    let text = match (text, pattern) {
        (JValue::Undefined, JValue::String(_) | JValue::Regex { .. }) => {
            return Handled::Done(Ok(JValue::Undefined));
        }
        (JValue::String(text), _) => text,
        _ => return Handled::Delegate,
    };
    let result = match pattern {
        JValue::String(pattern) => Ok(text.contains(&**pattern)),
        JValue::Regex { pattern, flags } => regexes
            .with(pattern, flags, |regex| {
                regex.find_at(&Subject::new(text), 0).is_some()
            })
            .map_err(regex_error),
        _ => return Handled::Delegate,
    };
    Handled::Done(result.map(JValue::Bool))
}

/// `$split(text, separator[, limit])`: a substring (not empty) or a regex.
pub(crate) fn split(args: &[JValue], regexes: &Regexes, bounds: Bounds) -> Handled {
    let (Some(text), Some(separator)) = (args.first(), args.get(1)) else {
        return Handled::Delegate;
    };
    let (Some(limit), true) = (limit(args.get(2)), args.len() <= 3) else {
        return Handled::Delegate;
    };
    let text = match (text, separator) {
        (JValue::Undefined, JValue::String(_) | JValue::Regex { .. }) => {
            return Handled::Done(Ok(JValue::Undefined));
        }
        (JValue::String(text), _) => text,
        _ => return Handled::Delegate,
    };
    let strings =
        |parts: Vec<String>| JValue::array(parts.into_iter().map(JValue::string).collect());
    match separator {
        // `String.prototype.split(separator, limit)`: the limit is `ToUint32`.
        JValue::String(separator) if !separator.is_empty() => {
            let limit = limit.map_or(u32::MAX, to_uint32) as usize;
            let parts = text
                .split(&**separator)
                .take(limit.min(bounds.max_items + 1));
            let parts: Vec<String> = parts.map(str::to_owned).collect();
            if parts.len() > bounds.max_items {
                return Handled::Done(Err(too_many(bounds.max_items)));
            }
            Handled::Done(Ok(strings(parts)))
        }
        JValue::Regex { pattern, flags } => {
            let subject = Subject::new(text);
            let result = regexes.with(pattern, flags, |regex| {
                let matcher = Matcher::new(regex, &subject, bounds);
                let mut parts = Vec::new();
                if limit.is_none_or(|limit| limit > 0.0) {
                    let Some(first) = matcher.first() else {
                        return Ok(strings(vec![text.to_string()]));
                    };
                    let mut start = 0;
                    let mut current = Some(first);
                    while let Some(found) = current.take() {
                        if !within(parts.len(), limit) {
                            break;
                        }
                        matcher.check_items(parts.len())?;
                        parts.push(subject.text_of(start..found.span.start));
                        start = found.span.end;
                        current = matcher.next(&found)?;
                    }
                    if within(parts.len(), limit) {
                        matcher.check_items(parts.len())?;
                        parts.push(subject.text_of(start..subject.len()));
                    }
                }
                Ok(strings(parts))
            });
            Handled::Done(result.map_err(regex_error).and_then(|result| result))
        }
        _ => Handled::Delegate,
    }
}

/// JavaScript's `ToUint32` of a finite, non-negative number.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn to_uint32(n: f64) -> u32 {
    if n.is_finite() {
        (n.trunc() % 4_294_967_296.0) as u32
    } else {
        0
    }
}

/// Calling a regex: `/re/(text[, from])` and `text ~> /re/`. The result is the regex
/// closure's `{match, start, end, groups}` for the first match at or after `from`, or
/// `undefined`. `text` is converted as JavaScript's `String()` does.
pub(crate) fn call(args: &[JValue], regexes: &Regexes) -> Result<JValue, EvaluatorError> {
    let Some(JValue::Regex { pattern, flags }) = args.first() else {
        return Err(EvaluatorError::TypeError(
            "T1006: Attempted to invoke a non-function".to_owned(),
        ));
    };
    let text = js_string(args.get(1).unwrap_or(&JValue::Undefined));
    let from = args.get(2).map_or(0, from_index);
    let subject = Subject::new(&text);
    regexes
        .with(pattern, flags, |regex| {
            let unbounded = Bounds {
                timeout: std::time::Duration::MAX,
                max_items: usize::MAX,
            };
            let matcher = Matcher::new(regex, &subject, unbounded);
            regex
                .find_at(&subject, from)
                .map_or(JValue::Undefined, |found| matcher.closure_result(&found))
        })
        .map_err(regex_error)
}

/// JavaScript's `String(value)` for the values a regex may be called with.
fn js_string(value: &JValue) -> String {
    match value {
        JValue::String(text) => text.to_string(),
        JValue::Number(n) => JValue::Number(*n).to_json_string().unwrap_or_default(),
        JValue::Bool(flag) => flag.to_string(),
        JValue::Null => "null".to_owned(),
        JValue::Undefined => "undefined".to_owned(),
        JValue::Array(items) => items
            .iter()
            .map(|item| match item {
                JValue::Null | JValue::Undefined => String::new(),
                item => js_string(item),
            })
            .collect::<Vec<_>>()
            .join(","),
        JValue::Object(_) => "[object Object]".to_owned(),
        _ => String::new(),
    }
}

/// `lastIndex = fromIndex || 0`, read as a whole, non-negative number.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn from_index(value: &JValue) -> usize {
    match value {
        JValue::Number(n) if n.is_finite() && *n > 0.0 => n.trunc() as usize,
        JValue::Bool(true) => 1,
        _ => 0,
    }
}
