//! Signed timestamps: parsing and the tolerance (replay) check.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use patchbay_config::webhook::TimestampFormat;

use crate::error::VerificationError;

/// The default tolerance: five minutes, as Slack, Stripe, HubSpot and Standard
/// Webhooks recommend.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// Milliseconds since the Unix epoch (negative before 1970).
pub(crate) fn unix_millis(time: SystemTime) -> i128 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_millis() as i128,
        Err(e) => -(e.duration().as_millis() as i128),
    }
}

/// Parses a raw timestamp into Unix milliseconds.
///
/// # Errors
/// A fixed reason string when the text is not a timestamp in `format`.
pub(crate) fn parse(raw: &str, format: TimestampFormat) -> Result<i128, &'static str> {
    let raw = raw.trim();
    match format {
        TimestampFormat::Seconds => parse_integer(raw).map(|s| s * 1000),
        TimestampFormat::Milliseconds => parse_integer(raw),
        TimestampFormat::Rfc3339 => parse_rfc3339(raw),
    }
}

fn parse_integer(raw: &str) -> Result<i128, &'static str> {
    if raw.is_empty() || raw.len() > 20 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err("not an unsigned integer");
    }
    raw.parse::<i128>().map_err(|_| "not an unsigned integer")
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`.
fn parse_rfc3339(raw: &str) -> Result<i128, &'static str> {
    const BAD: &str = "not an RFC 3339 date-time";
    let b = raw.as_bytes();
    if b.len() < 20 || !b.is_ascii() {
        return Err(BAD);
    }
    let num = |range: std::ops::Range<usize>| -> Result<i64, &'static str> {
        let s = &raw[range];
        if s.bytes().all(|c| c.is_ascii_digit()) {
            s.parse::<i64>().map_err(|_| BAD)
        } else {
            Err(BAD)
        }
    };
    if b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return Err(BAD);
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return Err(BAD);
    }
    let mut rest = &raw[19..];
    let mut millis = 0i64;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(BAD);
        }
        let ms_text: String = frac[..digits]
            .chars()
            .chain("000".chars())
            .take(3)
            .collect();
        millis = ms_text.parse().map_err(|_| BAD)?;
        rest = &frac[digits..];
    }
    let offset_minutes = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6
            && (rest.starts_with('+') || rest.starts_with('-'))
            && &rest[3..4] == ":" =>
        {
            let h = num_in(rest, 1..3)?;
            let m = num_in(rest, 4..6)?;
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            sign * (h * 60 + m)
        }
        _ => return Err(BAD),
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Ok(i128::from(seconds) * 1000 + i128::from(millis))
}

fn num_in(s: &str, range: std::ops::Range<usize>) -> Result<i64, &'static str> {
    let part = &s[range];
    if part.bytes().all(|c| c.is_ascii_digit()) {
        part.parse().map_err(|_| "not an RFC 3339 date-time")
    } else {
        Err("not an RFC 3339 date-time")
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Checks that `signed_ms` is within `tolerance` of `now`, in either direction.
///
/// # Errors
/// [`VerificationError::StaleTimestamp`] or [`VerificationError::FutureTimestamp`].
pub(crate) fn check_fresh(
    signed_ms: i128,
    now: SystemTime,
    tolerance: Duration,
) -> Result<(), VerificationError> {
    let now_ms = unix_millis(now);
    let tolerance_ms = tolerance.as_millis() as i128;
    let tolerance_seconds = tolerance.as_secs();
    let to_secs = |ms: i128| u64::try_from(ms / 1000).unwrap_or(u64::MAX);
    if now_ms - signed_ms > tolerance_ms {
        return Err(VerificationError::StaleTimestamp {
            age_seconds: to_secs(now_ms - signed_ms),
            tolerance_seconds,
        });
    }
    if signed_ms - now_ms > tolerance_ms {
        return Err(VerificationError::FutureTimestamp {
            ahead_seconds: to_secs(signed_ms - now_ms),
            tolerance_seconds,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_formats() {
        assert_eq!(
            parse("1531420618", TimestampFormat::Seconds),
            Ok(1_531_420_618_000)
        );
        assert_eq!(
            parse("1531420618123", TimestampFormat::Milliseconds),
            Ok(1_531_420_618_123)
        );
        assert!(parse("-1", TimestampFormat::Seconds).is_err());
        assert!(parse("12a", TimestampFormat::Seconds).is_err());
        // `date -u -d 2021-06-08T16:25:53Z +%s` = 1623169553
        assert_eq!(
            parse("2021-06-08T16:25:53Z", TimestampFormat::Rfc3339),
            Ok(1_623_169_553_000)
        );
        assert_eq!(
            parse("2021-06-08T18:25:53.5+02:00", TimestampFormat::Rfc3339),
            Ok(1_623_169_553_500)
        );
        assert_eq!(
            parse("1970-01-01T00:00:00Z", TimestampFormat::Rfc3339),
            Ok(0)
        );
        assert!(parse("2021-13-08T16:25:53Z", TimestampFormat::Rfc3339).is_err());
        assert!(parse("2021-06-08T16:25:53", TimestampFormat::Rfc3339).is_err());
    }

    #[test]
    fn freshness() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let tol = Duration::from_secs(300);
        assert!(check_fresh(1_000_000_000 - 300_000, now, tol).is_ok());
        assert_eq!(
            check_fresh(1_000_000_000 - 301_000, now, tol),
            Err(VerificationError::StaleTimestamp {
                age_seconds: 301,
                tolerance_seconds: 300
            })
        );
        assert_eq!(
            check_fresh(1_000_000_000 + 400_000, now, tol),
            Err(VerificationError::FutureTimestamp {
                ahead_seconds: 400,
                tolerance_seconds: 300
            })
        );
    }
}
