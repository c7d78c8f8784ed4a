//! Luxon's time zones: the system zone (UTC for Truto), fixed offsets and IANA zones, and
//! how a zone argument names one (Luxon's `normalizeZone`).

use chrono::{DateTime, Offset, TimeZone};
use chrono_tz::Tz;
use serde_json::Value;

use super::is_digits;

/// The time zone of a date: what its wall-clock fields and its ISO offset are in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Zone {
    /// The system zone (UTC for Truto), printed `+00:00`.
    System,
    /// A fixed offset in minutes; 0 is Luxon's UTC zone, printed `Z`.
    Fixed(i64),
    /// An IANA zone, printed with its offset at the instant (never `Z`).
    Iana(Tz),
}

impl Zone {
    /// The zone's UTC offset in minutes at `instant` (ms since the epoch).
    pub(super) fn offset_at(self, instant: i64) -> i64 {
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
    pub(super) fn instant_of(self, local: i64, now: i64) -> i64 {
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
pub(super) fn iana_zone(name: &str) -> Option<Tz> {
    chrono_tz::TZ_VARIANTS
        .iter()
        .copied()
        .find(|tz| tz.name().eq_ignore_ascii_case(name))
}

/// What a zone argument names.
pub(super) enum ZoneSpec {
    Valid(Zone),
    /// Luxon's invalid zone: the date becomes invalid (`null`).
    Invalid,
}

/// Luxon's `normalizeZone` for a JSON zone argument.
pub(super) fn parse_zone(value: &Value) -> ZoneSpec {
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
pub(super) fn parse_utc_offset(text: &str) -> Option<i64> {
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
