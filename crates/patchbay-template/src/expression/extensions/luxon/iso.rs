//! Luxon's ISO 8601 grammar (`DateTime.fromISO`).

use super::Fields;
use super::calendar::parse_millis;
use super::zone::{Zone, iana_zone};

/// A cursor over text for the fixed grammars (ISO 8601, RFC 2822).
pub(super) struct Cursor<'a> {
    pub(super) rest: &'a str,
}

impl<'a> Cursor<'a> {
    pub(super) fn digits(&mut self, count: usize) -> Option<i64> {
        let part = self.rest.get(..count)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        self.rest = &self.rest[count..];
        part.parse().ok()
    }

    pub(super) fn eat(&mut self, prefix: &str) -> bool {
        match self.rest.strip_prefix(prefix) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }
}

/// Luxon's ISO 8601 grammar: `yyyy[-MM[-dd]]` (separators optional, `±yyyyyy` years),
/// `yyyy-Www[-d]`, `yyyy-ddd`, or a time alone; then `T` and `HH[:mm[:ss[.fff]]]`
/// (separators optional, `,` or `.` before the fraction) and an offset `Z`, `±HH[[:]mm]`.
pub(super) fn parse_iso(text: &str) -> Option<Fields> {
    [
        parse_iso_calendar,
        parse_iso_week,
        parse_iso_ordinal,
        parse_iso_time_only,
    ]
    .iter()
    .find_map(|parse| parse(text))
}

pub(super) fn iso_year(cursor: &mut Cursor<'_>) -> Option<i64> {
    match cursor.rest.as_bytes().first()? {
        b'+' | b'-' => {
            let negative = cursor.rest.starts_with('-');
            cursor.rest = &cursor.rest[1..];
            let year = cursor.digits(6)?;
            Some(if negative { -year } else { year })
        }
        _ => cursor.digits(4),
    }
}

pub(super) fn parse_iso_calendar(text: &str) -> Option<Fields> {
    let mut cursor = Cursor { rest: text };
    let mut fields = Fields {
        year: Some(iso_year(&mut cursor)?),
        ..Fields::default()
    };
    // Month and day, each after an optional `-`; a failed attempt leaves the cursor.
    let mut attempt = Cursor { rest: cursor.rest };
    attempt.eat("-");
    if let Some(month) = attempt.digits(2) {
        let mut after_month = Cursor { rest: attempt.rest };
        after_month.eat("-");
        if let Some(day) = after_month.digits(2) {
            let with_day = Fields {
                month: Some(month),
                day: Some(day),
                ..fields.clone()
            };
            if let Some(done) = iso_time_extension(after_month.rest, with_day) {
                return Some(done);
            }
        }
        let with_month = Fields {
            month: Some(month),
            ..fields.clone()
        };
        if let Some(done) = iso_time_extension(attempt.rest, with_month) {
            return Some(done);
        }
    }
    fields.month = None;
    iso_time_extension(cursor.rest, fields)
}

pub(super) fn parse_iso_week(text: &str) -> Option<Fields> {
    let mut cursor = Cursor { rest: text };
    let week_year = cursor.digits(4)?;
    cursor.eat("-");
    if !cursor.eat("W") {
        return None;
    }
    let week = cursor.digits(2)?;
    let mut attempt = Cursor { rest: cursor.rest };
    attempt.eat("-");
    let fields = Fields {
        week_year: Some(week_year),
        week: Some(week),
        ..Fields::default()
    };
    if let Some(weekday) = attempt.digits(1)
        && let Some(done) = iso_time_extension(
            attempt.rest,
            Fields {
                weekday: Some(weekday),
                ..fields.clone()
            },
        )
    {
        return Some(done);
    }
    iso_time_extension(cursor.rest, fields)
}

pub(super) fn parse_iso_ordinal(text: &str) -> Option<Fields> {
    let mut cursor = Cursor { rest: text };
    let year = cursor.digits(4)?;
    cursor.eat("-");
    let ordinal = cursor.digits(3)?;
    iso_time_extension(
        cursor.rest,
        Fields {
            year: Some(year),
            ordinal: Some(ordinal),
            ..Fields::default()
        },
    )
}

pub(super) fn parse_iso_time_only(text: &str) -> Option<Fields> {
    let mut fields = Fields::default();
    let rest = iso_time(text, &mut fields)?;
    iso_end(rest, fields)
}

/// An optional `T` + time (+ offset) ending the text.
pub(super) fn iso_time_extension(rest: &str, mut fields: Fields) -> Option<Fields> {
    if rest.is_empty() {
        return Some(fields);
    }
    let rest = rest.strip_prefix('T')?;
    let rest = iso_time(rest, &mut fields)?;
    iso_end(rest, fields)
}

/// The end of an ISO 8601 text: nothing, or a `[zone]` suffix.
pub(super) fn iso_end(rest: &str, mut fields: Fields) -> Option<Fields> {
    if rest.is_empty() {
        return Some(fields);
    }
    let name = rest.strip_prefix('[')?.strip_suffix(']')?;
    if name.contains(']') {
        return None;
    }
    fields.bracket_zone = Some(name.to_owned());
    Some(fields)
}

/// Resolves an ISO 8601 text's `[zone]` suffix, which Luxon reads as an IANA zone: the
/// wall-clock time is read in it (the offset is ignored). An unknown name makes the date
/// invalid.
pub(super) fn check_bracket_zone(fields: Option<Fields>) -> Option<Fields> {
    let mut fields = fields?;
    if let Some(name) = &fields.bracket_zone {
        fields.bracket = Some(Zone::Iana(iana_zone(name)?));
    }
    Some(fields)
}

/// `HH[[:]mm[[:]ss[(.|,)f…]]]` and an optional offset; returns what follows.
pub(super) fn iso_time<'a>(text: &'a str, fields: &mut Fields) -> Option<&'a str> {
    let mut cursor = Cursor { rest: text };
    fields.hour = Some(cursor.digits(2)?);
    let mut attempt = Cursor { rest: cursor.rest };
    attempt.eat(":");
    if let Some(minute) = attempt.digits(2) {
        fields.minute = Some(minute);
        cursor.rest = attempt.rest;
        let mut attempt = Cursor { rest: cursor.rest };
        attempt.eat(":");
        if let Some(second) = attempt.digits(2) {
            fields.second = Some(second);
            cursor.rest = attempt.rest;
            if let Some(after) = cursor.rest.strip_prefix(['.', ',']) {
                let length = after.bytes().take_while(u8::is_ascii_digit).count();
                if (1..=30).contains(&length) {
                    fields.millisecond = Some(parse_millis(&after[..length]));
                    cursor.rest = &after[length..];
                }
            }
        }
    }
    if cursor.eat("Z") {
        fields.offset = Some(0);
    } else if let Some(sign) = cursor
        .rest
        .chars()
        .next()
        .filter(|c| *c == '+' || *c == '-')
    {
        cursor.rest = &cursor.rest[1..];
        let hours = cursor.digits(2)?;
        let mut attempt = Cursor { rest: cursor.rest };
        attempt.eat(":");
        let minutes = match attempt.digits(2) {
            Some(minutes) => {
                cursor.rest = attempt.rest;
                minutes
            }
            None => 0,
        };
        let minutes = hours * 60 + minutes;
        fields.offset = Some(if sign == '-' { -minutes } else { minutes });
    }
    Some(cursor.rest)
}
