//! Proleptic Gregorian and ISO week arithmetic on day counts from 1970-01-01, and the
//! English names Luxon reads.

/// Days from 1970-01-01 to a proleptic Gregorian date (month 1-12).
pub(super) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let m = (month + 9) % 12;
    let day_of_year = (153 * m + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// `(year, month, day)` of a day count from 1970-01-01.
pub(super) fn civil_from_days(days: i64) -> (i64, i64, i64) {
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

pub(super) fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

pub(super) fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// ISO weekday (1 = Monday) of a day count from 1970-01-01 (a Thursday).
pub(super) fn weekday(days: i64) -> i64 {
    (days + 3).rem_euclid(7) + 1
}

/// ISO weeks in an ISO week-year (52 or 53).
pub(super) fn weeks_in_week_year(year: i64) -> i64 {
    let thursday_jan1 = weekday(days_from_civil(year, 1, 1)) == 4;
    let wednesday_jan1_leap = is_leap(year) && weekday(days_from_civil(year, 1, 1)) == 3;
    if thursday_jan1 || wednesday_jan1_leap {
        53
    } else {
        52
    }
}

/// Luxon's `parseMillis`: `Math.floor(parseFloat("0." + digits) * 1000)`.
pub(super) fn parse_millis(digits: &str) -> i64 {
    let fraction: f64 = format!("0.{digits}").parse().unwrap_or(0.0);
    #[allow(clippy::cast_possible_truncation)]
    let millis = (fraction * 1000.0).floor() as i64;
    millis
}

pub(super) const MONTHS_SHORT: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

pub(super) const MONTHS_LONG: [&str; 12] = [
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

pub(super) const WEEKDAYS_SHORT: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

pub(super) const WEEKDAYS_LONG: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// Luxon's `untruncateYear`: two-digit years above 60 are 19xx, the rest 20xx.
pub(super) fn untruncate_year(year: i64) -> i64 {
    match year {
        100.. => year,
        61..=99 => 1900 + year,
        _ => 2000 + year,
    }
}
