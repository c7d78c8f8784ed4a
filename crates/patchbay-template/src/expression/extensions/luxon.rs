//! `$dtFromIso(text, zone)` and `$dtFromFormat(text, format, options)`: truto-jsonata's
//! Luxon date parsing (`DateTime.fromISO`, `fromFormat`, `fromRFC2822`, `fromSeconds`).
//!
//! In Truto these return a Luxon `DateTime` wrapped as an object whose JSON form is
//! `dt.toISO()`. Patchbay returns that ISO string directly (`2024-01-02T03:04:05.000+00:00`);
//! an invalid date (Luxon's invalid `DateTime`, whose `toISO()` is `null`) is `null`. The
//! wrapper's getters and methods (`.year`, `.toFormat(...)`) are not available.
//!
//! Time zones: Truto runs in UTC, Luxon's default (system) zone, printed `+00:00`. Zone
//! arguments are Luxon's: `utc`/`gmt` (printed `Z`), `UTC±h[:mm]`, offsets in minutes,
//! `local`/`system`/`default`, and IANA names (`America/New_York`, from the `chrono-tz`
//! database, case-insensitive); anything else is an invalid zone, which makes the date
//! invalid.

use std::collections::HashSet;

use chrono::{DateTime, Offset, TimeZone};
use chrono_tz::Tz;
use serde_json::{Map, Value};

use super::js::to_js_string;
use super::{Args, ExtensionError, Outcome};

/// The time zone of a date: what its wall-clock fields and its ISO offset are in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Zone {
    /// The system zone (UTC for Truto), printed `+00:00`.
    System,
    /// A fixed offset in minutes; 0 is Luxon's UTC zone, printed `Z`.
    Fixed(i64),
    /// An IANA zone, printed with its offset at the instant (never `Z`).
    Iana(Tz),
}

impl Zone {
    /// The zone's UTC offset in minutes at `instant` (ms since the epoch).
    fn offset_at(self, instant: i64) -> i64 {
        match self {
            Zone::System => 0,
            Zone::Fixed(minutes) => minutes,
            Zone::Iana(tz) => DateTime::from_timestamp_millis(instant).map_or(0, |utc| {
                i64::from(
                    tz.offset_from_utc_datetime(&utc.naive_utc())
                        .fix()
                        .local_minus_utc(),
                ) / 60
            }),
        }
    }

    /// The instant of wall-clock time `local` (ms, as if UTC) in this zone. For an IANA
    /// zone this is Luxon's `fixOffset`, starting from the zone's offset at `now`: a time
    /// in a DST gap moves forward, an ambiguous time takes the offset the guess leads to.
    fn instant_of(self, local: i64, now: i64) -> i64 {
        let Zone::Iana(_) = self else {
            return local - self.offset_at(local) * 60_000;
        };
        let guess = self.offset_at(now);
        let mut utc = local - guess * 60_000;
        let second = self.offset_at(utc);
        if second == guess {
            return utc;
        }
        utc -= (second - guess) * 60_000;
        let third = self.offset_at(utc);
        if second == third {
            return utc;
        }
        local - second.min(third) * 60_000
    }
}

/// The IANA zone called `name`, ignoring case (as `Intl` does).
fn iana_zone(name: &str) -> Option<Tz> {
    chrono_tz::TZ_VARIANTS
        .iter()
        .copied()
        .find(|tz| tz.name().eq_ignore_ascii_case(name))
}

/// What a zone argument names.
enum ZoneSpec {
    Valid(Zone),
    /// Luxon's invalid zone: the date becomes invalid (`null`).
    Invalid,
}

/// Luxon's `normalizeZone` for a JSON zone argument.
fn parse_zone(value: &Value) -> ZoneSpec {
    let text = match value {
        Value::Number(minutes) => {
            return match minutes.as_f64() {
                Some(minutes) if minutes.fract() == 0.0 && minutes.abs() < 1e6 =>
                {
                    #[allow(clippy::cast_possible_truncation)]
                    ZoneSpec::Valid(Zone::Fixed(minutes as i64))
                }
                _ => ZoneSpec::Invalid,
            };
        }
        Value::String(text) => text,
        _ => return ZoneSpec::Invalid,
    };
    let lower = text.to_ascii_lowercase();
    match lower.as_str() {
        "default" | "local" | "system" => return ZoneSpec::Valid(Zone::System),
        "utc" | "gmt" => return ZoneSpec::Valid(Zone::Fixed(0)),
        _ => {}
    }
    if let Some(offset) = lower.strip_prefix("utc")
        && let Some(minutes) = parse_utc_offset(offset)
    {
        return ZoneSpec::Valid(Zone::Fixed(minutes));
    }
    iana_zone(text).map_or(ZoneSpec::Invalid, |tz| ZoneSpec::Valid(Zone::Iana(tz)))
}

/// The `[+-]h[h][:mm]` after `utc` in a zone name, in minutes.
fn parse_utc_offset(text: &str) -> Option<i64> {
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let (hours, minutes) = match rest.split_once(':') {
        Some((hours, minutes)) if minutes.len() == 2 => (hours, minutes),
        Some(_) => return None,
        None => (rest, "00"),
    };
    if !(1..=2).contains(&hours.len()) || !is_digits(hours) || !is_digits(minutes) {
        return None;
    }
    Some(sign * (hours.parse::<i64>().ok()? * 60 + minutes.parse::<i64>().ok()?))
}

fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|c| c.is_ascii_digit())
}

/// Calendar fields read from a text, before defaults and validation.
#[derive(Debug, Default, Clone)]
struct Fields {
    year: Option<i64>,
    month: Option<i64>,
    day: Option<i64>,
    ordinal: Option<i64>,
    week_year: Option<i64>,
    week: Option<i64>,
    weekday: Option<i64>,
    hour: Option<i64>,
    minute: Option<i64>,
    second: Option<i64>,
    millisecond: Option<i64>,
    /// A UTC offset written in the text, in minutes.
    offset: Option<i64>,
    /// An ISO 8601 text's `[zone]` suffix.
    bracket_zone: Option<String>,
    /// The IANA zone that suffix names (see [`check_bracket_zone`]).
    bracket: Option<Zone>,
}

/// A parsed date: an instant in milliseconds and the zone it is shown in; `None` is an
/// invalid date.
type Parsed = Option<(i64, Zone)>;

/// Days from 1970-01-01 to a proleptic Gregorian date (month 1-12).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let m = (month + 9) % 12;
    let day_of_year = (153 * m + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// `(year, month, day)` of a day count from 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (year_of_era + era * 400 + i64::from(month <= 2), month, day)
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// ISO weekday (1 = Monday) of a day count from 1970-01-01 (a Thursday).
fn weekday(days: i64) -> i64 {
    (days + 3).rem_euclid(7) + 1
}

/// ISO weeks in an ISO week-year (52 or 53).
fn weeks_in_week_year(year: i64) -> i64 {
    let thursday_jan1 = weekday(days_from_civil(year, 1, 1)) == 4;
    let wednesday_jan1_leap = is_leap(year) && weekday(days_from_civil(year, 1, 1)) == 3;
    if thursday_jan1 || wednesday_jan1_leap {
        53
    } else {
        52
    }
}

/// Turns read fields into an instant: missing units above the first one given default to
/// `now` (in `zone`), those below it to their minimum, as Luxon's `fromObject` does; then
/// validation (`unit out of range`, mismatched weekday → invalid).
fn resolve(fields: &Fields, zone: Zone, set_zone: bool, now_millis: i64) -> Parsed {
    // The wall clock is read in the text's own zone (a `[zone]` suffix, else its offset)
    // when it has one, else in `zone`.
    let text_zone = fields.bracket.or(fields.offset.map(Zone::Fixed));
    let read_zone = text_zone.unwrap_or(zone);
    let now_local = now_millis + read_zone.offset_at(now_millis) * 60_000;
    let (now_year, now_month, now_day) = civil_from_days(now_local.div_euclid(86_400_000));
    let now_time = now_local.rem_euclid(86_400_000);
    let now_units = [
        now_year,
        now_month,
        now_day,
        now_time / 3_600_000,
        now_time / 60_000 % 60,
        now_time / 1000 % 60,
        now_time % 1000,
    ];
    let days;
    let mut time_units = [
        fields.hour,
        fields.minute,
        fields.second,
        fields.millisecond,
    ];
    if let (Some(week_year), Some(week)) = (fields.week_year, fields.week) {
        let weekday_value = fields.weekday.unwrap_or(1);
        if !(1..=weeks_in_week_year(week_year)).contains(&week) || !(1..=7).contains(&weekday_value)
        {
            return None;
        }
        let jan4 = days_from_civil(week_year, 1, 4);
        days = jan4 - (weekday(jan4) - 1) + (week - 1) * 7 + weekday_value - 1;
    } else if let (Some(year), Some(ordinal)) = (fields.year, fields.ordinal) {
        let length = if is_leap(year) { 366 } else { 365 };
        if !(1..=length).contains(&ordinal) {
            return None;
        }
        days = days_from_civil(year, 1, 1) + ordinal - 1;
    } else {
        let given = [fields.year, fields.month, fields.day];
        let all = [
            given[0],
            given[1],
            given[2],
            time_units[0],
            time_units[1],
            time_units[2],
            time_units[3],
        ];
        let first = all.iter().position(Option::is_some)?;
        let unit = |index: usize, minimum: i64| {
            all[index].unwrap_or(if index < first {
                now_units[index]
            } else {
                minimum
            })
        };
        let (year, month, day) = (unit(0, 1), unit(1, 1), unit(2, 1));
        for (index, slot) in time_units.iter_mut().enumerate() {
            *slot = Some(unit(index + 3, 0));
        }
        if !(1..=12).contains(&month) || !(1..=days_in_month(year, month)).contains(&day) {
            return None;
        }
        days = days_from_civil(year, month, day);
        if let Some(weekday_value) = fields.weekday
            && weekday_value != weekday(days)
        {
            return None;
        }
    }
    let [hour, minute, second, millisecond] = time_units.map(|unit| unit.unwrap_or(0));
    let valid_hour =
        (0..=23).contains(&hour) || (hour == 24 && minute == 0 && second == 0 && millisecond == 0);
    if !valid_hour
        || !(0..=59).contains(&minute)
        || !(0..=59).contains(&second)
        || !(0..=999).contains(&millisecond)
    {
        return None;
    }
    let local = days * 86_400_000 + ((hour * 60 + minute) * 60 + second) * 1000 + millisecond;
    if local.abs() > 8_640_000_000_000_000 + 86_400_000 {
        return None;
    }
    let instant = read_zone.instant_of(local, now_millis);
    let shown = match text_zone {
        Some(parsed) if set_zone => parsed,
        _ => zone,
    };
    (instant.abs() <= 8_640_000_000_000_000).then_some((instant, shown))
}

/// Luxon's `toISO()`: `yyyy-MM-ddTHH:mm:ss.SSS` and the offset (`Z` in the UTC zone).
fn to_iso(instant: i64, zone: Zone) -> String {
    let offset = zone.offset_at(instant);
    let local = instant + offset * 60_000;
    let (year, month, day) = civil_from_days(local.div_euclid(86_400_000));
    let time = local.rem_euclid(86_400_000);
    let year_text = if (0..=9999).contains(&year) {
        format!("{year:04}")
    } else {
        format!("{}{:06}", if year < 0 { '-' } else { '+' }, year.abs())
    };
    let zone_text = match zone {
        Zone::Fixed(0) => "Z".to_owned(),
        _ => format!(
            "{}{:02}:{:02}",
            if offset < 0 { '-' } else { '+' },
            offset.abs() / 60,
            offset.abs() % 60
        ),
    };
    format!(
        "{year_text}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}{zone_text}",
        time / 3_600_000,
        time / 60_000 % 60,
        time / 1000 % 60,
        time % 1000
    )
}

fn iso_value(parsed: Parsed) -> Option<Value> {
    Some(parsed.map_or(Value::Null, |(instant, zone)| {
        Value::String(to_iso(instant, zone))
    }))
}

/// Milliseconds since the epoch now (for fields a text leaves out, as Luxon fills them).
fn now_millis() -> i64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(0)
}

/// `$dtFromIso(text, zone)`: `DateTime.fromISO(text)` in the system zone, then
/// `setZone(zone)` when `zone` is truthy. A text that is not ISO 8601 gives `null`.
pub(crate) fn dt_from_iso(args: &Args<'_>) -> Outcome {
    let fields = args
        .get(0)
        .and_then(to_js_string)
        .and_then(|text| parse_iso(&text));
    let parsed = check_bracket_zone(fields)
        .and_then(|fields| resolve(&fields, Zone::System, false, now_millis()));
    let zone = match args.get(1) {
        Some(zone) if super::js::is_truthy(Some(zone)) => Some(parse_zone(zone)),
        _ => None,
    };
    Ok(iso_value(match zone {
        None => parsed,
        Some(ZoneSpec::Invalid) => None,
        Some(ZoneSpec::Valid(zone)) => parsed.map(|(instant, _)| (instant, zone)),
    }))
}

/// `$dtFromFormat(text, format, options)`: `"ISO"`, `"RFC2822"` and `"fromSeconds"` pick
/// those Luxon parsers; any other format is a Luxon `fromFormat` pattern. `options` may
/// give `zone` (the zone the text is read and shown in) and `setZone` (show the text's own
/// offset). A text that does not match gives `null`.
pub(crate) fn dt_from_format(args: &Args<'_>) -> Outcome {
    let options = match args.get(2) {
        Some(Value::Object(options)) => options.clone(),
        _ => Map::new(),
    };
    let zone = match options.get("zone") {
        None | Some(Value::Null) => ZoneSpec::Valid(Zone::System),
        Some(zone) => parse_zone(zone),
    };
    let set_zone = super::js::is_truthy(options.get("setZone"));
    if let Some(locale) = options.get("locale").and_then(Value::as_str)
        && !locale.to_ascii_lowercase().starts_with("en")
    {
        return Err(args.failed(format!(
            "the locale \"{locale}\" is not supported (Patchbay reads English names only)"
        )));
    }
    // Luxon reads the format with `length`/`charAt`: a number or boolean has no tokens;
    // `null`, arrays and objects throw.
    let format = match args.get(1) {
        None => None,
        Some(Value::String(format)) => Some(format.clone()),
        Some(Value::Null | Value::Array(_) | Value::Object(_)) => {
            return Err(args.failed("the format must be a string"));
        }
        Some(_) => Some(String::new()),
    };
    let ZoneSpec::Valid(zone) = zone else {
        return Ok(Some(Value::Null));
    };
    let fields = match (format.as_deref(), args.get(0)) {
        (Some("fromSeconds"), text) => {
            let seconds = text
                .and_then(to_js_string)
                .map_or(f64::NAN, |text| js_parse_int(&text));
            let millis = seconds * 1000.0;
            if !millis.is_finite() || millis.abs() > 8.64e15 {
                return Ok(Some(Value::Null));
            }
            #[allow(clippy::cast_possible_truncation)]
            return Ok(iso_value(Some((millis as i64, zone))));
        }
        (Some("ISO"), text) => check_bracket_zone(
            text.and_then(to_js_string)
                .and_then(|text| parse_iso(&text)),
        ),
        (Some("RFC2822"), Some(Value::String(text))) => parse_rfc2822(text),
        (Some("RFC2822"), _) => {
            return Err(args.failed("RFC 2822 parsing needs a string"));
        }
        (Some(pattern), Some(Value::String(text))) => {
            check_bracket_zone(parse_with_format(args, text, pattern)?)
        }
        (None, _) | (_, None) => {
            return Err(args.failed("fromFormat requires an input string and a format"));
        }
        (Some(_), Some(_)) => {
            return Err(args.failed("fromFormat requires the input to be a string"));
        }
    };
    Ok(iso_value(fields.and_then(|fields| {
        resolve(&fields, zone, set_zone, now_millis())
    })))
}

/// JavaScript's `parseInt(text, 10)`.
fn js_parse_int(text: &str) -> f64 {
    let text = text.trim_start();
    let (sign, rest) = match text.as_bytes().first() {
        Some(b'-') => (-1.0, &text[1..]),
        Some(b'+') => (1.0, &text[1..]),
        _ => (1.0, text),
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse::<f64>().map_or(f64::NAN, |value| sign * value)
}

/// A cursor over text for the fixed grammars (ISO 8601, RFC 2822).
struct Cursor<'a> {
    rest: &'a str,
}

impl<'a> Cursor<'a> {
    fn digits(&mut self, count: usize) -> Option<i64> {
        let part = self.rest.get(..count)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        self.rest = &self.rest[count..];
        part.parse().ok()
    }

    fn eat(&mut self, prefix: &str) -> bool {
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
fn parse_iso(text: &str) -> Option<Fields> {
    [
        parse_iso_calendar,
        parse_iso_week,
        parse_iso_ordinal,
        parse_iso_time_only,
    ]
    .iter()
    .find_map(|parse| parse(text))
}

fn iso_year(cursor: &mut Cursor<'_>) -> Option<i64> {
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

fn parse_iso_calendar(text: &str) -> Option<Fields> {
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

fn parse_iso_week(text: &str) -> Option<Fields> {
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

fn parse_iso_ordinal(text: &str) -> Option<Fields> {
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

fn parse_iso_time_only(text: &str) -> Option<Fields> {
    let mut fields = Fields::default();
    let rest = iso_time(text, &mut fields)?;
    iso_end(rest, fields)
}

/// An optional `T` + time (+ offset) ending the text.
fn iso_time_extension(rest: &str, mut fields: Fields) -> Option<Fields> {
    if rest.is_empty() {
        return Some(fields);
    }
    let rest = rest.strip_prefix('T')?;
    let rest = iso_time(rest, &mut fields)?;
    iso_end(rest, fields)
}

/// The end of an ISO 8601 text: nothing, or a `[zone]` suffix.
fn iso_end(rest: &str, mut fields: Fields) -> Option<Fields> {
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
fn check_bracket_zone(fields: Option<Fields>) -> Option<Fields> {
    let mut fields = fields?;
    if let Some(name) = &fields.bracket_zone {
        fields.bracket = Some(Zone::Iana(iana_zone(name)?));
    }
    Some(fields)
}

/// `HH[[:]mm[[:]ss[(.|,)f…]]]` and an optional offset; returns what follows.
fn iso_time<'a>(text: &'a str, fields: &mut Fields) -> Option<&'a str> {
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

/// Luxon's `parseMillis`: `Math.floor(parseFloat("0." + digits) * 1000)`.
fn parse_millis(digits: &str) -> i64 {
    let fraction: f64 = format!("0.{digits}").parse().unwrap_or(0.0);
    #[allow(clippy::cast_possible_truncation)]
    let millis = (fraction * 1000.0).floor() as i64;
    millis
}

const MONTHS_SHORT: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const MONTHS_LONG: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS_SHORT: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const WEEKDAYS_LONG: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// Luxon's `untruncateYear`: two-digit years above 60 are 19xx, the rest 20xx.
fn untruncate_year(year: i64) -> i64 {
    match year {
        100.. => year,
        61..=99 => 1900 + year,
        _ => 2000 + year,
    }
}

/// Luxon's RFC 2822 grammar: `[Ddd, ]d Mon yy[yy] HH:mm[:ss] (UT|GMT|EST|…|Z|±hhmm)`, after
/// removing `(comments)` and collapsing white space.
fn parse_rfc2822(text: &str) -> Option<Fields> {
    let mut cleaned = String::with_capacity(text.len());
    let mut depth = 0_usize;
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' if depth > 0 => depth -= 1,
            _ if depth > 0 => {}
            _ => cleaned.push(c),
        }
    }
    let words: Vec<&str> = cleaned.split_whitespace().collect();
    let mut words = words.as_slice();
    let mut fields = Fields::default();
    if let Some(name) = words.first().and_then(|word| word.strip_suffix(',')) {
        fields.weekday = Some(WEEKDAYS_SHORT.iter().position(|day| *day == name)? as i64 + 1);
        words = &words[1..];
    }
    let [day, month, year, time, zone] = words else {
        return None;
    };
    if !(1..=2).contains(&day.len())
        || !is_digits(day)
        || !(2..=4).contains(&year.len())
        || !is_digits(year)
    {
        return None;
    }
    fields.day = day.parse().ok();
    fields.month = Some(MONTHS_SHORT.iter().position(|name| name == month)? as i64 + 1);
    fields.year = Some(untruncate_year(year.parse().ok()?));
    let mut cursor = Cursor { rest: time };
    fields.hour = Some(cursor.digits(2)?);
    if !cursor.eat(":") {
        return None;
    }
    fields.minute = Some(cursor.digits(2)?);
    if cursor.eat(":") {
        fields.second = Some(cursor.digits(2)?);
    }
    if !cursor.rest.is_empty() {
        return None;
    }
    fields.offset = Some(match *zone {
        // Luxon has no offset for "UT": the date is invalid.
        "UT" => return None,
        "GMT" | "Z" | "z" => 0,
        "EDT" => -4 * 60,
        "EST" | "CDT" => -5 * 60,
        "CST" | "MDT" => -6 * 60,
        "MST" | "PDT" => -7 * 60,
        "PST" => -8 * 60,
        signed => {
            let (sign, digits) = signed.split_at_checked(1)?;
            if digits.len() != 4 || !is_digits(digits) {
                return None;
            }
            let minutes =
                digits[..2].parse::<i64>().ok()? * 60 + digits[2..].parse::<i64>().ok()?;
            match sign {
                "+" => minutes,
                "-" => -minutes,
                _ => return None,
            }
        }
    });
    Some(fields)
}

/// One element of a Luxon format: a field token or literal text.
#[derive(Debug, Clone)]
enum Part {
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
fn expand_macro(token: &str) -> Option<&'static [&'static str]> {
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
fn split_format(format: &str) -> Vec<(bool, String)> {
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
fn token_part(token: &str) -> Option<Part> {
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
fn parse_format(args: &Args<'_>, format: &str) -> Result<Vec<Part>, ExtensionError> {
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
enum Read {
    Field(char, i64),
    Offset(i64),
    ZoneName(String),
    None,
}

/// Matches `parts` against all of `text` (case-insensitive, backtracking over the widths
/// of numbers, as Luxon's regular expression does). Failures are memoised by (part,
/// position), so the search is bounded by parts × text length.
fn match_parts(
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
fn parse_with_format(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trips() {
        for days in [-719_468, -1, 0, 1, 19_723, 2_932_896] {
            let (year, month, day) = civil_from_days(days);
            assert_eq!(days_from_civil(year, month, day), days);
        }
        assert_eq!(civil_from_days(19_724), (2024, 1, 2));
        assert_eq!(weekday(19_724), 2);
    }

    #[test]
    fn iso_output_follows_luxon() {
        // Expected values from Luxon 3.5 (`DateTime#toISO`) under TZ=UTC.
        assert_eq!(
            to_iso(1_704_164_645_000, Zone::System),
            "2024-01-02T03:04:05.000+00:00"
        );
        assert_eq!(
            to_iso(1_704_164_645_000, Zone::Fixed(0)),
            "2024-01-02T03:04:05.000Z"
        );
        assert_eq!(
            to_iso(1_704_164_645_000, Zone::Fixed(-330)),
            "2024-01-01T21:34:05.000-05:30"
        );
        assert_eq!(
            to_iso(-62_198_755_200_000, Zone::System),
            "-000001-01-01T00:00:00.000+00:00"
        );
    }
}
