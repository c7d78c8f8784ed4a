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

mod calendar;
mod format;
mod iso;
mod rfc2822;
mod zone;

use serde_json::{Map, Value};

use super::js::to_js_string;
use super::{Args, Outcome};
use calendar::{
    civil_from_days, days_from_civil, days_in_month, is_leap, weekday, weeks_in_week_year,
};
use format::parse_with_format;
use iso::{check_bracket_zone, parse_iso};
use rfc2822::parse_rfc2822;
use zone::{Zone, ZoneSpec, parse_zone};

/// Whether `text` is one or more ASCII digits.
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
