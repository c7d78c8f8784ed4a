//! JavaScript's `Date.parse` as V8 computes it, for the texts jsonata-js's `$toMillis`
//! hands it (those that passed its ISO 8601 check): V8's ISO 8601 pass and, where that
//! stops early, its legacy parser on the rest. Truto runs in UTC, so a local time is UTC.

use super::MAX_DATE_MILLIS;

const MILLIS_PER_DAY: f64 = 86_400_000.0;

/// One token of V8's date string scanner, for the characters an ISO 8601 text that
/// passed [`is_jsonata_iso8601`] can contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    /// A run of digits.
    Number(&'a str),
    /// `-`, `+`, `:` or `.`.
    Symbol(u8),
    /// `T` (the date/time separator).
    TimeSeparator,
    /// `Z` (UTC).
    Zulu,
    /// Anything else.
    Other,
    End,
}

impl Token<'_> {
    fn number(self) -> Option<i64> {
        match self {
            // Saturates, as V8 stops accumulating digits past its integer range.
            Token::Number(digits) => Some(digits.bytes().fold(0_i64, |n, d| {
                if n < 214_748_354 {
                    n * 10 + i64::from(d - b'0')
                } else {
                    n
                }
            })),
            _ => None,
        }
    }

    fn is_fixed_number(self, length: usize) -> bool {
        matches!(self, Token::Number(digits) if digits.len() == length)
    }
}

struct Scanner<'a> {
    rest: &'a str,
    next: Token<'a>,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Self {
        let mut scanner = Scanner {
            rest: text,
            next: Token::End,
        };
        scanner.next = scanner.scan();
        scanner
    }

    fn scan(&mut self) -> Token<'a> {
        let Some(first) = self.rest.chars().next() else {
            return Token::End;
        };
        if first.is_ascii_digit() {
            let length = self.rest.bytes().take_while(u8::is_ascii_digit).count();
            let (digits, rest) = self.rest.split_at(length);
            self.rest = rest;
            return Token::Number(digits);
        }
        if first.is_alphabetic() {
            let length: usize = self
                .rest
                .chars()
                .take_while(|c| c.is_alphabetic())
                .map(char::len_utf8)
                .sum();
            let (word, rest) = self.rest.split_at(length);
            self.rest = rest;
            return match word {
                "T" | "t" => Token::TimeSeparator,
                "Z" | "z" => Token::Zulu,
                _ => Token::Other,
            };
        }
        self.rest = &self.rest[first.len_utf8()..];
        match first {
            '-' | '+' | ':' | '.' => Token::Symbol(first as u8),
            _ => Token::Other,
        }
    }

    fn peek(&self) -> Token<'a> {
        self.next
    }

    fn next(&mut self) -> Token<'a> {
        let token = self.next;
        self.next = self.scan();
        token
    }

    fn skip_symbol(&mut self, symbol: u8) -> bool {
        if self.next == Token::Symbol(symbol) {
            self.next();
            true
        } else {
            false
        }
    }
}

/// The date parts read so far (V8's `DayComposer`).
#[derive(Default)]
struct Day {
    parts: Vec<i64>,
    iso: bool,
}

impl Day {
    fn add(&mut self, value: i64) -> bool {
        if self.parts.len() < 3 {
            self.parts.push(value);
            true
        } else {
            false
        }
    }

    /// `(year, month 1-12, day 1-31)`, or `None` when the parts make no date.
    fn finish(&self) -> Option<(i64, i64, i64)> {
        let mut parts = self.parts.clone();
        if parts.is_empty() {
            return None;
        }
        parts.resize(3, 1);
        let (mut year, month, day) = if self.iso || !(1..=31).contains(&parts[0]) {
            (parts[0], parts[1], parts[2])
        } else {
            (parts[2], parts[0], parts[1])
        };
        if !self.iso {
            match year {
                0..=49 => year += 2000,
                50..=99 => year += 1900,
                _ => {}
            }
        }
        ((1..=12).contains(&month) && (1..=31).contains(&day)).then_some((year, month, day))
    }
}

/// The time parts read so far (V8's `TimeComposer`): hour, minute, second, millisecond.
#[derive(Default)]
struct Time {
    parts: Vec<i64>,
}

impl Time {
    fn add(&mut self, value: i64) -> bool {
        if self.parts.len() < 4 {
            self.parts.push(value);
            true
        } else {
            false
        }
    }

    fn add_final(&mut self, value: i64) -> bool {
        let added = self.add(value);
        self.parts.resize(4, 0);
        added
    }

    fn is_expecting(&self, value: i64) -> bool {
        match self.parts.len() {
            1 | 2 => (0..=59).contains(&value),
            3 => (0..=999).contains(&value),
            _ => false,
        }
    }

    /// Milliseconds since midnight, allowing `24:00:00.000`.
    fn finish(&self) -> Option<i64> {
        let mut parts = self.parts.clone();
        parts.resize(4, 0);
        let (hour, minute, second, milli) = (parts[0], parts[1], parts[2], parts[3]);
        let valid = (0..=23).contains(&hour)
            && (0..=59).contains(&minute)
            && (0..=59).contains(&second)
            && (0..=999).contains(&milli);
        let midnight_24 = hour == 24 && minute == 0 && second == 0 && milli == 0;
        (valid || midnight_24).then_some(((hour * 60 + minute) * 60 + second) * 1000 + milli)
    }
}

/// A UTC offset being read (V8's `TimeZoneComposer`); `None` parts are unset.
#[derive(Default)]
struct Zone {
    sign: Option<i64>,
    hour: Option<i64>,
    minute: Option<i64>,
}

impl Zone {
    fn set_utc(&mut self) {
        *self = Zone {
            sign: Some(1),
            hour: Some(0),
            minute: Some(0),
        };
    }

    fn offset_millis(&self) -> i64 {
        match self.sign {
            Some(sign) => {
                sign * (self.hour.unwrap_or(0) * 3600 + self.minute.unwrap_or(0) * 60) * 1000
            }
            // A local time: Truto's time zone is UTC.
            None => 0,
        }
    }
}

/// The first three digits of a fraction, as milliseconds (`"1"` → 100, `"1234"` → 123).
fn fraction_millis(digits: &str) -> i64 {
    digits
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(3)
        .fold(0, |n, d| n * 10 + i64::from(d - b'0'))
}

/// JavaScript's `Date.parse(text)` under `TZ=UTC`, as V8 computes it, for texts that
/// passed [`is_jsonata_iso8601`]: the ISO 8601 date-time format first, and where that
/// stops early, V8's legacy parser on the rest (so `"2024-02-30"` is March 1st and
/// `"2024.5"` is May 1st). `NaN` when V8 gives `NaN`.
pub(crate) fn js_date_parse(text: &str) -> f64 {
    let mut scanner = Scanner::new(text);
    let (mut day, mut time, mut zone) = (Day::default(), Time::default(), Zone::default());
    let Some(unhandled) = parse_es5(&mut scanner, &mut day, &mut time, &mut zone) else {
        return f64::NAN;
    };
    if unhandled != Token::End
        && !parse_legacy(unhandled, &mut scanner, &mut day, &mut time, &mut zone)
    {
        return f64::NAN;
    }
    let (Some((year, month, day)), Some(time)) = (day.finish(), time.finish()) else {
        return f64::NAN;
    };
    let millis =
        make_day(year, month, day) * MILLIS_PER_DAY + time as f64 - zone.offset_millis() as f64;
    if millis.abs() > MAX_DATE_MILLIS {
        f64::NAN
    } else {
        millis
    }
}

/// V8's ISO 8601 pass. `Some(End)` when the whole text was read, `Some(token)` for the
/// first token it did not handle (the legacy parser continues there), `None` when the text
/// is invalid.
fn parse_es5<'a>(
    scanner: &mut Scanner<'a>,
    day: &mut Day,
    time: &mut Time,
    zone: &mut Zone,
) -> Option<Token<'a>> {
    if !scanner.peek().is_fixed_number(4) {
        return Some(scanner.next());
    }
    day.add(scanner.next().number()?);
    if scanner.skip_symbol(b'-') {
        let month = scanner.peek();
        if !(month.is_fixed_number(2) && (1..=12).contains(&month.number()?)) {
            return Some(scanner.next());
        }
        day.add(scanner.next().number()?);
        if scanner.skip_symbol(b'-') {
            let date = scanner.peek();
            if !(date.is_fixed_number(2) && (1..=31).contains(&date.number()?)) {
                return Some(scanner.next());
            }
            day.add(scanner.next().number()?);
        }
    }
    if scanner.peek() != Token::TimeSeparator {
        if scanner.peek() != Token::End {
            return Some(scanner.next());
        }
    } else {
        scanner.next();
        let hour = scanner.peek();
        if !(hour.is_fixed_number(2) && (0..=24).contains(&hour.number()?)) {
            return None;
        }
        let hour_is_24 = hour.number()? == 24;
        time.add(scanner.next().number()?);
        if !scanner.skip_symbol(b':') {
            return None;
        }
        let minute = scanner.peek();
        if !(minute.is_fixed_number(2) && (0..=59).contains(&minute.number()?))
            || (hour_is_24 && minute.number()? > 0)
        {
            return None;
        }
        time.add(scanner.next().number()?);
        if scanner.skip_symbol(b':') {
            let second = scanner.peek();
            if !(second.is_fixed_number(2) && (0..=59).contains(&second.number()?))
                || (hour_is_24 && second.number()? > 0)
            {
                return None;
            }
            time.add(scanner.next().number()?);
            if scanner.skip_symbol(b'.') {
                let Token::Number(digits) = scanner.peek() else {
                    return None;
                };
                if hour_is_24 && digits.bytes().any(|d| d != b'0') {
                    return None;
                }
                scanner.next();
                time.add(fraction_millis(digits));
            }
        }
        if scanner.peek() == Token::Zulu {
            scanner.next();
            zone.set_utc();
        } else if let Token::Symbol(sign @ (b'+' | b'-')) = scanner.peek() {
            scanner.next();
            let sign = if sign == b'+' { 1 } else { -1 };
            if scanner.peek().is_fixed_number(4) {
                let hhmm = scanner.next().number()?;
                let (hour, minute) = (hhmm / 100, hhmm % 100);
                if !((0..=23).contains(&hour) && (0..=59).contains(&minute)) {
                    return None;
                }
                *zone = Zone {
                    sign: Some(sign),
                    hour: Some(hour),
                    minute: Some(minute),
                };
            } else {
                let hour = scanner.peek();
                if !(hour.is_fixed_number(2) && (0..=23).contains(&hour.number()?)) {
                    return None;
                }
                let hour = scanner.next().number()?;
                if !scanner.skip_symbol(b':') {
                    return None;
                }
                let minute = scanner.peek();
                if !(minute.is_fixed_number(2) && (0..=59).contains(&minute.number()?)) {
                    return None;
                }
                *zone = Zone {
                    sign: Some(sign),
                    hour: Some(hour),
                    minute: Some(scanner.next().number()?),
                };
            }
        }
        if scanner.peek() != Token::End {
            return None;
        }
    }
    day.iso = true;
    Some(Token::End)
}

/// V8's legacy date parser, continuing from `token`, for the tokens an ISO-looking text
/// has. `false` when V8 would give `NaN`.
fn parse_legacy<'a>(
    mut token: Token<'a>,
    scanner: &mut Scanner<'a>,
    day: &mut Day,
    time: &mut Time,
    zone: &mut Zone,
) -> bool {
    day.iso = false;
    let mut has_read_number = !day.parts.is_empty();
    loop {
        match token {
            Token::End => return true,
            Token::Number(_) => {
                has_read_number = true;
                let Some(n) = token.number() else {
                    return false;
                };
                if scanner.skip_symbol(b':') {
                    if scanner.skip_symbol(b':') {
                        if !time.parts.is_empty() {
                            return false;
                        }
                        time.add(n);
                        time.add(0);
                    } else {
                        if !time.add(n) {
                            return false;
                        }
                        if scanner.peek() == Token::Symbol(b'.') {
                            scanner.next();
                        }
                    }
                } else if scanner.peek() == Token::Symbol(b'.') && time.is_expecting(n) {
                    scanner.next();
                    time.add(n);
                    let Token::Number(digits) = scanner.peek() else {
                        return false;
                    };
                    scanner.next();
                    time.add_final(fraction_millis(digits));
                } else if zone.hour.is_some() && zone.minute.is_none() && (0..=59).contains(&n) {
                    zone.minute = Some(n);
                } else if time.is_expecting(n) {
                    time.add_final(n);
                    match scanner.peek() {
                        Token::End | Token::Zulu | Token::Symbol(b'+' | b'-') => {}
                        _ => return false,
                    }
                } else {
                    if !day.add(n) {
                        return false;
                    }
                    scanner.skip_symbol(b'-');
                }
            }
            Token::Zulu if has_read_number => zone.set_utc(),
            Token::Zulu | Token::TimeSeparator => {
                if has_read_number || matches!(scanner.peek(), Token::Number(_)) {
                    return false;
                }
            }
            Token::Symbol(sign @ (b'+' | b'-'))
                if (zone.offset_millis() == 0 && zone.sign.is_some()) || !time.parts.is_empty() =>
            {
                zone.sign = Some(if sign == b'+' { 1 } else { -1 });
                let (mut n, mut length) = (0, 0);
                if let Token::Number(digits) = scanner.peek() {
                    length = digits.len();
                    n = scanner.next().number().unwrap_or(0);
                }
                has_read_number = true;
                if scanner.peek() == Token::Symbol(b':') {
                    zone.hour = Some(n);
                    zone.minute = None;
                } else if length == 1 || length == 2 {
                    zone.hour = Some(n);
                    zone.minute = Some(0);
                } else if length == 3 || length == 4 {
                    zone.hour = Some(n / 100);
                    zone.minute = Some(n % 100);
                } else {
                    return false;
                }
            }
            Token::Symbol(b'+' | b'-') if has_read_number => return false,
            Token::Symbol(_) | Token::Other => {}
        }
        token = scanner.next();
    }
}

/// Days from 1970-01-01 to `year-month-day` (proleptic Gregorian; `day` may run past the
/// end of the month, as ECMAScript `MakeDay` allows).
fn make_day(year: i64, month: i64, day: i64) -> f64 {
    // Howard Hinnant's days-from-civil algorithm, for the first of the month.
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * m + 2) / 5;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    (era * 146_097 + day_of_era - 719_468 + day - 1) as f64
}

#[cfg(test)]
mod tests {
    use super::super::is_jsonata_iso8601;
    use super::*;

    #[test]
    fn date_parse_matches_v8() {
        // Expected values from node 20: Date.parse(text) with TZ=UTC.
        let cases: &[(&str, f64)] = &[
            ("2024", 1_704_067_200_000.0),
            ("2024-02", 1_706_745_600_000.0),
            ("2024-01-02", 1_704_153_600_000.0),
            ("2024-01-02T03:04:05", 1_704_164_645_000.0),
            ("2024-01-02T03:04:05.1Z", 1_704_164_645_100.0),
            ("2024-01-02T03:04:05.1234567891234Z", 1_704_164_645_123.0),
            ("2024-01-02T03:04:05+0530", 1_704_144_845_000.0),
            ("2024-01-02T03:04:05-05:30", 1_704_184_445_000.0),
            ("2024-01-02T24:00:00.000Z", 1_704_240_000_000.0),
            ("2024-02-30", 1_709_251_200_000.0),
            ("2024-02-00:00", 1_706_745_600_000.0),
            ("2024.1", 1_704_067_200_000.0),
            ("0049.1", 2_493_072_000_000.0),
            ("0049-01-02", -60_620_745_600_000.0),
            ("2024Z", 1_704_067_200_000.0),
            ("0000", -62_167_219_200_000.0),
            ("9999-12-31T23:59:59.999-23:59", 253_402_387_139_999.0),
        ];
        for (text, expected) in cases {
            assert_eq!(js_date_parse(text), *expected, "{text}");
        }
        for nan in [
            "2024-13-01",
            "2024-00-10",
            "2024-01-00",
            "2024-01-02T24:00:00.001Z",
            "2024-01-02T03:04:05+2400",
            "2024-01-02T03:04:05+24:00",
            "2024+05:30",
            "2024-01-02T03:04:05+0099",
            "0049-13-02",
        ] {
            assert!(js_date_parse(nan).is_nan(), "{nan}");
        }
    }

    /// Every combination of these parts that passes the ISO check (7560 distinct texts) against
    /// `Date.parse` in node 20 (TZ=UTC). The fixture lists the 666 texts that parse, with
    /// their values; all others are `NaN`. Generated with the same parts in node.
    #[test]
    fn date_parse_matches_v8_on_every_combination() {
        let fixture = include_str!("../../../../tests/fixtures/v8_date_parse.txt");
        let expected: std::collections::HashMap<&str, f64> = fixture
            .lines()
            .filter_map(|line| line.split_once(' '))
            .map(|(text, value)| (text, value.parse().expect("a number")))
            .collect();
        let months = ["", "-01", "-12", "-13", "-00", "-19"];
        let days = ["", "-02", "-31", "-00", "-30", "-39"];
        let times = [
            "",
            "T03:04:05",
            "T24:00:00",
            "T24:00:01",
            "T29:59:59",
            "T23:59:59",
        ];
        let fractions = ["", ".1", ".123", ".1234567", "."];
        let zones = [
            "", "Z", "+05:30", "+0530", "-0530", "+29:59", "+24:00", "-00:00", "+2359",
        ];
        // Different parts can spell the same text (`"-00"` is a month and a day).
        let mut checked = std::collections::HashSet::new();
        for month in months {
            for day in days {
                for time in times {
                    for fraction in fractions {
                        for zone in zones {
                            let text = format!("2024{month}{day}{time}{fraction}{zone}");
                            if !is_jsonata_iso8601(&text) {
                                continue;
                            }
                            checked.insert(text.clone());
                            let actual = js_date_parse(&text);
                            match expected.get(text.as_str()) {
                                Some(value) => assert_eq!(actual, *value, "{text}"),
                                None => assert!(actual.is_nan(), "{text}: {actual}"),
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(checked.len(), 7560);
        assert_eq!(expected.len(), 666);
    }
}
