//! Cron expressions of `/sync-job-cron-trigger`: Truto's five fields (minute, hour, day
//! of month, month, day of week), in UTC.
//!
//! Parsed by the [`cron`](https://docs.rs/cron) crate, which apalis-cron uses too, with
//! crontab's meaning kept where that crate differs:
//!
//! - it wants a seconds field first: `0 ` is put before the five fields (a trigger fires
//!   at second 0 of its minutes);
//! - its days of the week are 1-7 from Sunday, crontab's 0-7 with 0 and 7 Sunday: the
//!   day-of-week field is read here (numbers, names `SUN`-`SAT`, ranges, lists, steps)
//!   and handed on as the set of days it means;
//! - when both the day of the month and the day of the week are restricted, crontab
//!   fires on either (`0 9 1 * MON`: the 1st, and every Monday), so the two are parsed
//!   as two schedules and the earlier next time wins.
//!
//! Six- and seven-field expressions are refused: they are not Truto's format.

use std::str::FromStr;

use chrono::{DateTime, Utc};

/// A parsed 5-field cron expression.
#[derive(Debug, Clone)]
pub struct Expression {
    /// The expression's times; with both day fields restricted, the times of the day of
    /// the month and those of the day of the week.
    schedules: Vec<cron::Schedule>,
}

const DAY_NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// A day of the week in crontab's numbering (0-7, 0 and 7 Sunday, or a name): 0-6.
fn weekday(text: &str) -> Result<u32, String> {
    if let Some(day) = DAY_NAMES
        .iter()
        .position(|name| name.eq_ignore_ascii_case(text))
    {
        return Ok(day as u32);
    }
    match text.parse::<u32>() {
        Ok(day @ 0..=7) => Ok(day % 7),
        _ => Err(format!("day of the week `{text}` is not 0-7 or SUN-SAT")),
    }
}

/// The days (0-6, Sunday 0) crontab's day-of-week `field` means.
fn weekdays(field: &str) -> Result<[bool; 7], String> {
    let mut days = [false; 7];
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => match step.parse::<u32>() {
                Ok(step) if step > 0 => (range, step),
                _ => {
                    return Err(format!(
                        "step `{step}` in the day of the week is not a positive number"
                    ));
                }
            },
            None => (part, 1),
        };
        let (first, last) = match range {
            "*" => (0, 6),
            _ => match range.split_once('-') {
                // `5-7` (Friday to Sunday) ends on 7: keep it past Saturday.
                Some((a, b)) => (weekday(a)?, if b == "7" { 7 } else { weekday(b)? }),
                None if step > 1 => (weekday(range)?, 6),
                None => {
                    let day = weekday(range)?;
                    (day, day)
                }
            },
        };
        if first > last {
            return Err(format!("day-of-week range `{range}` runs backwards"));
        }
        for day in (first..=last).step_by(step as usize) {
            days[(day % 7) as usize] = true;
        }
    }
    Ok(days)
}

/// The `cron` crate's spelling of `days` (1-7, Sunday 1).
fn cron_crate_days(days: [bool; 7]) -> String {
    if days.iter().all(|d| *d) {
        return "*".into();
    }
    days.iter()
        .enumerate()
        .filter(|(_, on)| **on)
        .map(|(day, _)| (day + 1).to_string())
        .collect::<Vec<_>>()
        .join(",")
}

impl Expression {
    /// Parses `text`: five fields separated by spaces, each as in crontab (`*`, numbers,
    /// ranges `a-b`, lists `a,b`, steps `*/n`, month and day names).
    ///
    /// # Errors
    ///
    /// A message saying what is wrong, e.g. the field count or the field the cron parser
    /// refused.
    ///
    /// ```
    /// use patchbay_server::sync::cron::Expression;
    ///
    /// assert!(Expression::parse("*/15 * * * *").is_ok());
    /// assert!(Expression::parse("0 0 * * * *").unwrap_err().contains("5 fields"));
    /// ```
    pub fn parse(text: &str) -> Result<Self, String> {
        let fields: Vec<&str> = text.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(format!(
                "must have 5 fields (minute hour day-of-month month day-of-week), not {}",
                fields.len()
            ));
        }
        let [minute, hour, day_of_month, month, day_of_week] = fields[..] else {
            unreachable!("five fields")
        };
        let days = cron_crate_days(
            weekdays(day_of_week).map_err(|e| format!("is not a cron expression: {e}"))?,
        );
        let schedule = |day_of_month: &str, days: &str| {
            cron::Schedule::from_str(&format!("0 {minute} {hour} {day_of_month} {month} {days}"))
                .map_err(|e| format!("is not a cron expression: {e}"))
        };
        let schedules = if day_of_month != "*" && days != "*" {
            vec![schedule(day_of_month, "*")?, schedule("*", &days)?]
        } else {
            vec![schedule(day_of_month, &days)?]
        };
        Ok(Self { schedules })
    }

    /// The first time after `after` the expression matches (`None` if it never does
    /// again, e.g. `0 0 30 2 *`).
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.schedules
            .iter()
            .filter_map(|schedule| schedule.after(&after).next())
            .min()
    }
}

/// The first time after `after` the expression `text` matches: [`Expression::parse`],
/// then [`Expression::next_after`].
///
/// # Errors
///
/// The parse error, or a message saying the expression never matches a date again.
pub fn next_time(text: &str, after: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    Expression::parse(text)?
        .next_after(after)
        .ok_or_else(|| "never matches a date (e.g. the 30th of February)".to_owned())
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::{Expression, next_time};

    #[test]
    fn five_fields_in_utc() {
        let at = Utc.with_ymd_and_hms(2026, 11, 30, 10, 7, 30).unwrap();
        let every_quarter = Expression::parse("*/15 * * * *").unwrap();
        assert_eq!(
            every_quarter.next_after(at),
            Some(Utc.with_ymd_and_hms(2026, 11, 30, 10, 15, 0).unwrap())
        );
        let weekday_mornings = Expression::parse("30 6 * * MON-FRI").unwrap();
        // 2026-11-30 is a Monday; after 10:07 the next match is Tuesday 06:30.
        assert_eq!(
            weekday_mornings.next_after(at),
            Some(Utc.with_ymd_and_hms(2026, 12, 1, 6, 30, 0).unwrap())
        );
        let every_minute = Expression::parse(" * *  * * * ").unwrap();
        assert_eq!(
            every_minute.next_after(at),
            Some(Utc.with_ymd_and_hms(2026, 11, 30, 10, 8, 0).unwrap())
        );
    }

    #[test]
    fn days_of_the_week_count_from_sunday_as_in_crontab() {
        // 2026-11-30 is a Monday.
        let at = Utc.with_ymd_and_hms(2026, 11, 30, 10, 0, 0).unwrap();
        let next = |text: &str| Expression::parse(text).unwrap().next_after(at).unwrap();
        let day = |d: u32| Utc.with_ymd_and_hms(2026, 12, d, 0, 0, 0).unwrap();
        assert_eq!(
            next("0 0 * * 0"),
            Utc.with_ymd_and_hms(2026, 12, 6, 0, 0, 0).unwrap(),
            "0 is Sunday"
        );
        assert_eq!(next("0 0 * * 7"), next("0 0 * * SUN"), "7 is Sunday");
        assert_eq!(
            next("0 0 * * 1"),
            Utc.with_ymd_and_hms(2026, 12, 7, 0, 0, 0).unwrap(),
            "1 is Monday"
        );
        assert_eq!(next("0 0 * * 2"), day(1), "2 is Tuesday");
        assert_eq!(next("0 0 * * 5-7"), day(4), "Friday to Sunday");
        assert_eq!(next("0 0 * * sat,sun"), day(5));
        assert_eq!(
            next("0 0 * * */3"),
            day(2),
            "Sun, Wed, Sat: Wednesday first"
        );
        // Both day fields restricted: either matches (the 3rd, or a Friday).
        assert_eq!(next("0 0 3 * FRI"), day(3));
        assert_eq!(next("0 0 10 * FRI"), day(4));
    }

    #[test]
    fn bad_expressions_say_what_is_wrong() {
        for (text, expected) in [
            ("", "not 0"),
            ("* * * *", "not 4"),
            ("0 * * * * *", "not 6"),
            ("61 * * * *", "is not a cron expression"),
            ("* * * * funday", "is not 0-7 or SUN-SAT"),
            ("* * * * 8", "is not 0-7 or SUN-SAT"),
            ("* * * * 5-1", "runs backwards"),
            ("* * * * */0", "not a positive number"),
        ] {
            let error = Expression::parse(text).expect_err(text);
            assert!(error.contains(expected), "{text}: {error}");
        }
        let now = Utc::now();
        assert!(
            next_time("0 0 30 2 *", now)
                .unwrap_err()
                .contains("never matches")
        );
        assert!(
            next_time("0 * * * * *", now)
                .unwrap_err()
                .contains("5 fields")
        );
    }
}
