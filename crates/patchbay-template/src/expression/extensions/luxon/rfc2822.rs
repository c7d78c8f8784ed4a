//! Luxon's RFC 2822 grammar (`DateTime.fromRFC2822`).

use super::calendar::{MONTHS_SHORT, WEEKDAYS_SHORT, untruncate_year};
use super::iso::Cursor;
use super::{Fields, is_digits};

/// Luxon's RFC 2822 grammar: `[Ddd, ]d Mon yy[yy] HH:mm[:ss] (UT|GMT|EST|…|Z|±hhmm)`, after
/// removing `(comments)` and collapsing white space.
pub(super) fn parse_rfc2822(text: &str) -> Option<Fields> {
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
