//! Luxon's `DateTime.fromFormat`: format tokens, macro tokens and the backtracking match
//! of a text against them.

use std::collections::HashSet;

use super::super::{Args, ExtensionError};
use super::calendar::{
    MONTHS_LONG, MONTHS_SHORT, WEEKDAYS_LONG, WEEKDAYS_SHORT, civil_from_days, parse_millis,
    untruncate_year, weekday,
};
use super::{Fields, now_millis};

/// One element of a Luxon format: a field token or literal text.
#[derive(Debug, Clone)]
pub(super) enum Part {
    /// Digits (`min..=max` of them) stored in `field`.
    Number {
        field: char,
        min: usize,
        max: usize,
        two_digit_year: bool,
    },
    /// `u`: a fraction of a second (up to `max` digits), read as Luxon's `parseMillis`.
    Fraction {
        max: usize,
    },
    /// `z`: an IANA zone name (`[a-z_+-/]`, as short as the rest allows).
    ZoneName,
    /// A white-space token from a macro: one space or tab.
    Space,
    /// One of `names` (case-insensitive), stored as its index + `first` in `field`.
    Name {
        field: char,
        names: &'static [&'static str],
        first: i64,
    },
    /// A UTC offset `±h[h]` and then `:mm` (`colon`) or `mm`, the minutes optional.
    Offset {
        colon: bool,
    },
    Literal(String),
}

/// Luxon's macro tokens, expanded as Luxon does for the `en-US` locale (a `" "` is a
/// white-space token, which matches any one space or tab).
pub(super) fn expand_macro(token: &str) -> Option<&'static [&'static str]> {
    Some(match token {
        "D" => &["M", "'/", "d", "'/", "yyyyy"],
        "DD" => &["MMM", " ", "d", "', ", "yyyyy"],
        "DDD" => &["MMMM", " ", "d", "', ", "yyyyy"],
        "DDDD" => &["EEEE", "', ", "MMMM", " ", "d", "', ", "yyyyy"],
        "t" => &["h", "':", "m", " ", "a"],
        "tt" => &["h", "':", "m", "':", "s", " ", "a"],
        "T" => &["H", "':", "m"],
        "TT" => &["H", "':", "m", "':", "s"],
        "f" => &[
            "M", "'/", "d", "'/", "yyyyy", "', ", "h", "':", "m", " ", "a",
        ],
        "ff" => &[
            "MMM", " ", "d", "', ", "yyyyy", "', ", "h", "':", "m", " ", "a",
        ],
        "F" => &[
            "M", "'/", "d", "'/", "yyyyy", "', ", "h", "':", "m", "':", "s", " ", "a",
        ],
        "FF" => &[
            "MMM", " ", "d", "', ", "yyyyy", "', ", "h", "':", "m", "':", "s", " ", "a",
        ],
        _ => return None,
    })
}

/// Splits a Luxon format into `(literal, text)` tokens as Luxon's `parseFormat` does: runs
/// of one character are tokens, `'…'` is literal text, white space is literal.
pub(super) fn split_format(format: &str) -> Vec<(bool, String)> {
    let mut tokens: Vec<(bool, String)> = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let flush = |current: &mut String, quoted: bool, tokens: &mut Vec<(bool, String)>| {
        if !current.is_empty() {
            let literal = quoted || current.chars().all(char::is_whitespace);
            tokens.push((literal, std::mem::take(current)));
        }
    };
    for c in format.chars() {
        if c == '\'' {
            flush(&mut current, quoted, &mut tokens);
            quoted = !quoted;
        } else if quoted || current.starts_with(c) {
            current.push(c);
        } else {
            flush(&mut current, quoted, &mut tokens);
            current.push(c);
        }
    }
    flush(&mut current, quoted, &mut tokens);
    tokens
}

/// The part a (non-literal) Luxon token reads; `None` for text Luxon matches literally.
pub(super) fn token_part(token: &str) -> Option<Part> {
    let number = |field: char, min: usize, max: usize| Part::Number {
        field,
        min,
        max,
        two_digit_year: false,
    };
    let name = |field: char, names: &'static [&'static str], first: i64| Part::Name {
        field,
        names,
        first,
    };
    Some(match token {
        "G" => name('G', &["BC", "AD"], 0),
        "GG" => name('G', &["Before Christ", "Anno Domini"], 0),
        "y" => number('y', 1, 6),
        "yy" | "kk" => Part::Number {
            field: if token == "yy" { 'y' } else { 'k' },
            min: 2,
            max: 4,
            two_digit_year: true,
        },
        "yyyy" => number('y', 4, 4),
        "yyyyy" => number('y', 4, 6),
        "yyyyyy" => number('y', 6, 6),
        "kkkk" => number('k', 4, 4),
        "M" | "L" => number('M', 1, 2),
        "MM" | "LL" => number('M', 2, 2),
        "MMM" | "LLL" => name('M', &MONTHS_SHORT, 1),
        "MMMM" | "LLLL" => name('M', &MONTHS_LONG, 1),
        "q" => number('q', 1, 2),
        "qq" => number('q', 2, 2),
        "W" => number('W', 1, 2),
        "WW" => number('W', 2, 2),
        "d" => number('d', 1, 2),
        "dd" => number('d', 2, 2),
        "o" => number('o', 1, 3),
        "ooo" => number('o', 3, 3),
        "H" | "h" => number('H', 1, 2),
        "HH" | "hh" => number('H', 2, 2),
        "m" => number('m', 1, 2),
        "mm" => number('m', 2, 2),
        "s" => number('s', 1, 2),
        "ss" => number('s', 2, 2),
        "S" => number('S', 1, 3),
        "SSS" => number('S', 3, 3),
        "u" => Part::Fraction { max: 9 },
        "uu" => Part::Fraction { max: 2 },
        "uuu" => Part::Fraction { max: 1 },
        "a" => name('a', &["AM", "PM"], 0),
        "E" | "c" => number('E', 1, 1),
        "EEE" | "ccc" => name('E', &WEEKDAYS_SHORT, 1),
        "EEEE" | "cccc" => name('E', &WEEKDAYS_LONG, 1),
        "Z" | "ZZ" => Part::Offset { colon: true },
        "ZZZ" => Part::Offset { colon: false },
        "z" => Part::ZoneName,
        " " => Part::Space,
        _ => return None,
    })
}

/// Splits a Luxon format into parts.
pub(super) fn parse_format(args: &Args<'_>, format: &str) -> Result<Vec<Part>, ExtensionError> {
    let mut tokens: Vec<(bool, String)> = Vec::new();
    for (literal, token) in split_format(format) {
        match expand_macro(&token).filter(|_| !literal) {
            Some(expansion) => {
                tokens.extend(expansion.iter().map(|part| match part.strip_prefix('\'') {
                    Some(text) => (true, text.to_owned()),
                    None => (false, (*part).to_owned()),
                }))
            }
            None if !literal
                && matches!(
                    token.as_str(),
                    "ttt" | "tttt" | "TTT" | "TTTT" | "fff" | "ffff" | "FFF" | "FFFF"
                ) =>
            {
                return Err(args.failed(format!(
                    "the Luxon macro token \"{token}\" (with a zone name) is not supported"
                )));
            }
            None => tokens.push((literal, token)),
        }
    }
    let has = |names: &[&str]| {
        tokens
            .iter()
            .any(|(literal, token)| !literal && names.contains(&token.as_str()))
    };
    if has(&["a"]) && has(&["H", "HH"]) {
        return Err(args.failed("Can't include meridiem when specifying 24-hour format"));
    }
    Ok(tokens
        .into_iter()
        .map(|(literal, token)| {
            if literal {
                Part::Literal(token)
            } else {
                token_part(&token).unwrap_or(Part::Literal(token))
            }
        })
        .collect())
}

/// A value read for one part.
#[derive(Debug, Clone)]
pub(super) enum Read {
    Field(char, i64),
    Offset(i64),
    ZoneName(String),
    None,
}

/// Matches `parts` against all of `text` (case-insensitive, backtracking over the widths
/// of numbers, as Luxon's regular expression does). Failures are memoised by (part,
/// position), so the search is bounded by parts × text length.
pub(super) fn match_parts(
    parts: &[Part],
    text: &str,
    index: usize,
    position: usize,
    failed: &mut HashSet<(usize, usize)>,
    reads: &mut Vec<Read>,
) -> bool {
    let Some(part) = parts.get(index) else {
        return position == text.len();
    };
    if failed.contains(&(index, position)) {
        return false;
    }
    let rest = &text[position..];
    let mut candidates: Vec<(usize, Read)> = Vec::new();
    match part {
        Part::Literal(literal) => {
            if let Some(prefix) = rest.get(..literal.len())
                && prefix.to_lowercase() == literal.to_lowercase()
            {
                candidates.push((literal.len(), Read::None));
            }
        }
        Part::Number {
            field,
            min,
            max,
            two_digit_year,
        } => {
            let available = rest.bytes().take_while(u8::is_ascii_digit).count();
            for length in (*min..=(*max).min(available)).rev() {
                let value: i64 = rest[..length].parse().unwrap_or(0);
                let value = if *two_digit_year {
                    untruncate_year(value)
                } else {
                    value
                };
                candidates.push((length, Read::Field(*field, value)));
            }
        }
        Part::Fraction { max } => {
            let available = rest.bytes().take_while(u8::is_ascii_digit).count();
            for length in (1..=available.min(*max)).rev() {
                candidates.push((length, Read::Field('S', parse_millis(&rest[..length]))));
            }
        }
        Part::ZoneName => {
            // Lazy, as Luxon's `[a-z_+-/]{1,256}?`: the shortest name the rest accepts.
            let available = rest
                .bytes()
                .take_while(|c| c.is_ascii_alphabetic() || matches!(c, b'_' | b'+'..=b'/'))
                .count();
            for length in 1..=available.min(256) {
                candidates.push((length, Read::ZoneName(rest[..length].to_owned())));
            }
        }
        Part::Space => {
            if let Some(space) = rest
                .chars()
                .next()
                .filter(|c| c.is_whitespace() && *c != '\n' && *c != '\r')
            {
                candidates.push((space.len_utf8(), Read::None));
            }
        }
        Part::Name {
            field,
            names,
            first,
        } => {
            for (offset, name) in names.iter().enumerate() {
                if let Some(prefix) = rest.get(..name.len())
                    && prefix.eq_ignore_ascii_case(name)
                {
                    candidates.push((name.len(), Read::Field(*field, offset as i64 + first)));
                }
            }
        }
        Part::Offset { colon } => {
            if let Some(sign @ ('+' | '-')) = rest.chars().next() {
                let digits = &rest[1..];
                let hour_digits = digits.bytes().take_while(u8::is_ascii_digit).count();
                for hour_length in (1..=hour_digits.min(2)).rev() {
                    let hours: i64 = digits[..hour_length].parse().unwrap_or(0);
                    let after = &digits[hour_length..];
                    let minutes_text = if *colon {
                        after.strip_prefix(':')
                    } else {
                        Some(after)
                    };
                    let signed = |minutes: i64| {
                        let total = hours * 60 + minutes;
                        if sign == '-' { -total } else { total }
                    };
                    if let Some(minutes_text) = minutes_text
                        && minutes_text.len() >= 2
                        && minutes_text.as_bytes()[..2].iter().all(u8::is_ascii_digit)
                    {
                        let minutes: i64 = minutes_text[..2].parse().unwrap_or(0);
                        let length = 1 + hour_length + usize::from(*colon) + 2;
                        candidates.push((length, Read::Offset(signed(minutes))));
                    }
                    candidates.push((1 + hour_length, Read::Offset(signed(0))));
                }
            }
        }
    }
    for (length, read) in candidates {
        reads.push(read);
        if match_parts(parts, text, index + 1, position + length, failed, reads) {
            return true;
        }
        reads.pop();
    }
    failed.insert((index, position));
    false
}

/// Luxon's `fromFormat` on `text`: `None` when it does not match.
pub(super) fn parse_with_format(
    args: &Args<'_>,
    text: &str,
    format: &str,
) -> Result<Option<Fields>, ExtensionError> {
    const MAX_FORMAT: usize = 256;
    if format.chars().count() > MAX_FORMAT {
        return Err(args.failed(format!("the format is longer than {MAX_FORMAT} characters")));
    }
    let parts = parse_format(args, format)?;
    let mut reads = Vec::new();
    if !match_parts(&parts, text, 0, 0, &mut HashSet::new(), &mut reads) {
        return Ok(None);
    }
    let mut fields = Fields::default();
    let (mut meridiem, mut era, mut quarter) = (None, None, None);
    for read in reads {
        match read {
            Read::Field('y', value) => fields.year = Some(value),
            Read::Field('M', value) => fields.month = Some(value),
            Read::Field('d', value) => fields.day = Some(value),
            Read::Field('o', value) => fields.ordinal = Some(value),
            Read::Field('k', value) => fields.week_year = Some(value),
            Read::Field('W', value) => fields.week = Some(value),
            Read::Field('H', value) => fields.hour = Some(value),
            Read::Field('m', value) => fields.minute = Some(value),
            Read::Field('s', value) => fields.second = Some(value),
            Read::Field('S', value) => fields.millisecond = Some(value),
            Read::Field('E', value) => fields.weekday = Some(value),
            Read::Field('a', value) => meridiem = Some(value),
            Read::Field('G', value) => era = Some(value),
            Read::Field('q', value) => quarter = Some(value),
            Read::Offset(minutes) => fields.offset = Some(minutes),
            Read::ZoneName(name) => fields.bracket_zone = Some(name),
            Read::Field(..) | Read::None => {}
        }
    }
    if let Some(quarter) = quarter {
        fields.month = Some((quarter - 1) * 3 + 1);
    }
    if let (Some(hour), Some(meridiem)) = (fields.hour, meridiem) {
        if hour < 12 && meridiem == 1 {
            fields.hour = Some(hour + 12);
        } else if hour == 12 && meridiem == 0 {
            fields.hour = Some(0);
        }
    }
    if era == Some(0)
        && let Some(year) = fields.year.filter(|year| *year != 0)
    {
        fields.year = Some(-year);
    }
    let today = now_millis().div_euclid(86_400_000);
    let gregorian = fields.year.is_some() || fields.month.is_some() || fields.day.is_some();
    if fields.week_year.is_some() || fields.week.is_some() {
        if gregorian || fields.ordinal.is_some() {
            return Err(
                args.failed("Can't mix weekYear/weekNumber units with year/month/day or ordinals")
            );
        }
        // Luxon's defaults: this week-year, week 1.
        let thursday = today - weekday(today) + 4;
        fields.week_year = fields.week_year.or(Some(civil_from_days(thursday).0));
        fields.week = fields.week.or(Some(1));
    }
    if fields.ordinal.is_some() {
        if fields.month.is_some() || fields.day.is_some() {
            return Err(args.failed("Can't mix ordinal dates with month/day"));
        }
        fields.year = fields.year.or(Some(civil_from_days(today).0));
    }
    Ok(Some(fields))
}
