//! The JavaScript date arithmetic behind JSONata's `$fromMillis`, `$toMillis` and `$now`.
//!
//! jsonata-js leaves part of its date handling to JavaScript's `Date`: `$fromMillis(ms)`
//! formats `new Date(ms + offset)`, which truncates a fractional millisecond count towards
//! zero, and `$toMillis(text)` checks `text` against an ISO 8601 pattern and then hands it
//! to `Date.parse`, which is V8's lenient date parser. This module reproduces both on plain
//! numbers and strings, so that the jsonata-core backend's replacements of those built-ins
//! (`date_builtins.rs`) give the same results as Truto (node, `TZ=UTC`).
//!
//! Time zones: Truto runs with the UTC time zone, so a local time is a UTC time here.

mod date_parse;

pub(crate) use date_parse::js_date_parse;

/// The largest distance from the epoch a JavaScript `Date` can hold, in milliseconds.
pub(crate) const MAX_DATE_MILLIS: f64 = 8.64e15;

/// The millisecond count a jsonata-js `$fromMillis(millis, picture, timezone)` formats,
/// as an integer: `new Date(millis + offset)` truncates the sum towards zero (ECMAScript
/// `TimeClip`), so with a time zone the truncation happens after the offset is added.
/// `None` when JavaScript's `Date` would be invalid (`NaN`, or beyond ±8.64e15 ms).
///
/// A time zone without a leading integer (`"abc"`, where jsonata-js prints `NaN` fields)
/// counts as no offset, as jsonata-core's formatting treats it.
pub(crate) fn from_millis_instant(millis: f64, timezone: Option<&str>) -> Option<f64> {
    let offset = timezone
        .map(timezone_offset_millis)
        .filter(|offset| offset.is_finite())
        .unwrap_or(0.0);
    let shifted = millis + offset;
    if !shifted.is_finite() || shifted.abs() > MAX_DATE_MILLIS {
        return None;
    }
    // `+ 0.0` turns a truncated `-0` into `0`.
    Some(shifted.trunc() - offset + 0.0)
}

/// The offset jsonata-js reads from a `$fromMillis` time zone such as `"+0530"`:
/// `parseInt(timezone)` as `hhmm`, split with `Math.floor(n / 100)` and `n % 100` (so
/// `"-0530"` is −6 h + −30 min, as in jsonata-js). `NaN` when the text has no leading
/// integer.
pub(crate) fn timezone_offset_millis(timezone: &str) -> f64 {
    let offset = js_parse_int(timezone);
    let hours = (offset / 100.0).floor();
    let minutes = offset % 100.0;
    (60.0 * hours + minutes) * 60_000.0
}

/// JavaScript's `parseInt(text)` (radix 10, or 16 after `0x`): leading whitespace, an
/// optional sign, then as many digits as there are. `NaN` without digits.
fn js_parse_int(text: &str) -> f64 {
    let text = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    let (negative, text) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, text) = match text.get(..2) {
        Some("0x" | "0X") => (16, &text[2..]),
        _ => (10, text),
    };
    let mut value: Option<f64> = None;
    for c in text.chars() {
        let Some(digit) = c.to_digit(radix) else {
            break;
        };
        value = Some(value.unwrap_or(0.0) * f64::from(radix) + f64::from(digit));
    }
    match value {
        Some(value) if negative => -value,
        Some(value) => value,
        None => f64::NAN,
    }
}

/// Whether `text` passes jsonata-js's ISO 8601 check for `$toMillis` without a picture:
/// `^\d{4}(-[01]\d)?(-[0-3]\d)?(T[0-2]\d:[0-5]\d:[0-5]\d)?(\.\d+)?([+-][0-2]\d:?[0-5]\d|Z)?$`.
/// (Upper-case `T` and `Z` only, no space separator, four-digit years.)
pub(crate) fn is_jsonata_iso8601(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() >= 4 && bytes[..4].iter().all(u8::is_ascii_digit) && iso_rest(&bytes[4..], 0)
}

/// Whether `rest` matches the pattern's groups from group `stage` on (0: `-MM`, 1: `-DD`,
/// 2: time, 3: fraction, 4: zone). Each group is optional, so a group that matches is
/// tried both taken and skipped, as the regular expression backtracks.
fn iso_rest(rest: &[u8], stage: usize) -> bool {
    let in_range = |c: Option<&u8>, low: u8, high: u8| c.is_some_and(|c| (low..=high).contains(c));
    let digit = |c: Option<&u8>| in_range(c, b'0', b'9');
    let taken = match stage {
        0 | 1 => {
            let high = if stage == 0 { b'1' } else { b'3' };
            (rest.first() == Some(&b'-') && in_range(rest.get(1), b'0', high) && digit(rest.get(2)))
                .then_some(3)
        }
        2 => {
            let time = rest.get(..9).unwrap_or_default();
            (time.len() == 9
                && time[0] == b'T'
                && in_range(time.get(1), b'0', b'2')
                && digit(time.get(2))
                && time[3] == b':'
                && in_range(time.get(4), b'0', b'5')
                && digit(time.get(5))
                && time[6] == b':'
                && in_range(time.get(7), b'0', b'5')
                && digit(time.get(8)))
            .then_some(9)
        }
        3 => {
            let digits = rest
                .iter()
                .skip(1)
                .take_while(|c| c.is_ascii_digit())
                .count();
            (rest.first() == Some(&b'.') && digits > 0).then_some(1 + digits)
        }
        _ => {
            return match rest {
                [] | [b'Z'] => true,
                [b'+' | b'-', h1, h2, minutes @ ..]
                    if (b'0'..=b'2').contains(h1) && h2.is_ascii_digit() =>
                {
                    let minutes = minutes.strip_prefix(b":").unwrap_or(minutes);
                    matches!(minutes, [m1, m2] if (b'0'..=b'5').contains(m1) && m2.is_ascii_digit())
                }
                _ => false,
            };
        }
    };
    taken.is_some_and(|length| iso_rest(&rest[length..], stage + 1)) || iso_rest(rest, stage + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractional_millis_truncate_like_a_javascript_date() {
        // Expected values from node: new Date(ms + offset) under jsonata-js.
        assert_eq!(
            from_millis_instant(1_700_000_000_123.456, None),
            Some(1_700_000_000_123.0)
        );
        assert_eq!(from_millis_instant(-1.5, None), Some(-1.0));
        assert_eq!(from_millis_instant(-0.5, None), Some(0.0));
        // With an offset, the sum is truncated: -0.5 + 1 h → 3599999 → -1 ms.
        assert_eq!(from_millis_instant(-0.5, Some("+0100")), Some(-1.0));
        assert_eq!(from_millis_instant(8.64e15 + 1.0, None), None);
        assert_eq!(from_millis_instant(f64::NAN, None), None);
        assert_eq!(from_millis_instant(1.5, Some("abc")), Some(1.0));
    }

    #[test]
    fn timezone_offsets_follow_parse_int() {
        assert_eq!(timezone_offset_millis("+0530"), 19_800_000.0);
        // jsonata-js: floor(-530 / 100) = -6 hours, -530 % 100 = -30 minutes.
        assert_eq!(timezone_offset_millis("-0530"), -23_400_000.0);
        assert!(timezone_offset_millis("UTC").is_nan());
    }

    #[test]
    fn the_iso_check_is_jsonata_js_regex() {
        for good in [
            "2024",
            "2024-01",
            "2024-01-02",
            "2024-01-02T03:04:05",
            "2024T03:04:05",
            "2024-01-02T03:04:05.1Z",
            "2024.5",
            "2024-19-39",
            "2024-01-02T03:04:05+0530",
            "2024-01-02T03:04:05-05:30",
            "2024Z",
            "2024-02-00:00",
            "2024-00:00",
        ] {
            assert!(is_jsonata_iso8601(good), "{good}");
        }
        for bad in [
            "",
            "24-01-02",
            "2024-01-02 03:04:05",
            "2024-01-02t03:04:05",
            "2024-01-02T03:04:05z",
            "2024-1-2",
            "2024-01-02T03:04",
            "2024-01-02T03:04:05.",
            "2024-01-02T03:04:05+5",
            "2024-01-02T03:04:05+05:3",
            "2024-01-02T03:04:05+30:00",
            "20240102",
        ] {
            assert!(!is_jsonata_iso8601(bad), "{bad}");
        }
    }
}
