//! `$convertCurrencyToSubunit` and `$convertCurrencyFromSubunit`: amounts between a
//! currency's main unit and its minor unit (cents), by the ISO 4217 number of decimals.

use serde_json::Value;

use super::js::to_js_string;
use super::{Args, Outcome};
use crate::expression::value::number_to_json;

/// The ISO 4217 codes truto-jsonata knows, sorted (their minor unit has two decimals
/// unless [`decimals`] says otherwise). Codes are case-sensitive.
const CODES: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD",
    "CAD", "CDF", "CHE", "CHF", "CHW", "CLF", "CLP", "CNY", "COP", "COU", "CRC", "CUC", "CUP",
    "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP",
    "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HRK", "HTG", "HUF", "IDR",
    "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW",
    "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA",
    "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD",
    "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG",
    "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLL",
    "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY",
    "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "USN", "UYI", "UYU", "UYW", "UZS", "VES", "VND",
    "VUV", "WST", "XAF", "XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XCD", "XDR", "XOF", "XPD",
    "XPF", "XPT", "XSU", "XTS", "XUA", "XXX", "YER", "ZAR", "ZMW", "ZWL",
];

/// The number of decimals of a known currency's minor unit.
fn decimals(code: &str) -> Option<i32> {
    CODES.binary_search(&code).ok()?;
    Some(match code {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XAG" | "XAU" | "XBA" | "XBB" | "XBC" | "XBD" | "XDR"
        | "XOF" | "XPD" | "XPF" | "XPT" | "XSU" | "XTS" | "XUA" | "XXX" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        "CLF" | "UYW" => 4,
        _ => 2,
    })
}

/// The amount and the currency's decimals, or `Err(result)` when the package returns its
/// argument unchanged (`null`/`undefined` amounts, unknown currency codes).
fn prepare(args: &Args<'_>) -> Result<(f64, i32), Outcome> {
    let amount = match args.get(0) {
        None => return Err(Ok(None)),
        Some(Value::Null) => return Err(Ok(Some(Value::Null))),
        Some(amount) => amount,
    };
    let code = args.get(1).and_then(to_js_string);
    let Some(decimals) = code.as_deref().and_then(decimals) else {
        return Err(Ok(Some(amount.clone())));
    };
    let amount = to_js_string(amount).map_or(f64::NAN, |text| js_parse_float(&text));
    Ok((amount, decimals))
}

/// `$convertCurrencyToSubunit(amount, currencyCode)`: `Math.floor(parseFloat(amount) ×
/// 10^decimals)` (so `19.99` USD is `1998`, as in JavaScript). `null`/`undefined` amounts
/// and unknown codes give the amount back unchanged; unreadable amounts give `null`
/// (JavaScript's `NaN`).
pub(crate) fn to_subunit(args: &Args<'_>) -> Outcome {
    match prepare(args) {
        Err(unchanged) => unchanged,
        Ok((amount, decimals)) => {
            let subunits = (amount * 10_f64.powi(decimals)).floor();
            Ok(Some(number_to_json(subunits).unwrap_or(Value::Null)))
        }
    }
}

/// `$convertCurrencyFromSubunit(amount, currencyCode)`: `(parseFloat(amount) /
/// 10^decimals).toFixed(decimals)`, a string (`"12.34"`, `"1000"` for JPY, `"NaN"` for
/// unreadable amounts). `null`/`undefined` amounts and unknown codes give the amount back
/// unchanged.
pub(crate) fn from_subunit(args: &Args<'_>) -> Outcome {
    match prepare(args) {
        Err(unchanged) => unchanged,
        Ok((amount, decimals)) => {
            let digits = usize::try_from(decimals).unwrap_or(0);
            Ok(Some(Value::String(js_to_fixed(
                amount / 10_f64.powi(decimals),
                digits,
            ))))
        }
    }
}

/// JavaScript's `parseFloat(text)`: leading whitespace skipped, then the longest prefix
/// that is a decimal literal (or `Infinity`); `NaN` when there is none.
pub(crate) fn js_parse_float(text: &str) -> f64 {
    let text = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    let bytes = text.as_bytes();
    let mut end = usize::from(matches!(bytes.first(), Some(b'+' | b'-')));
    if text[end..].starts_with("Infinity") {
        return if bytes.first() == Some(&b'-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
    }
    let digits = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    let integer = digits(end);
    end += integer;
    let mut fraction = 0;
    if bytes.get(end) == Some(&b'.') {
        fraction = digits(end + 1);
        if integer > 0 || fraction > 0 {
            end += 1 + fraction;
        }
    }
    if integer == 0 && fraction == 0 {
        return f64::NAN;
    }
    if matches!(bytes.get(end), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(bytes.get(end + 1), Some(b'+' | b'-')));
        let exponent = digits(end + 1 + sign);
        if exponent > 0 {
            end += 1 + sign + exponent;
        }
    }
    text[..end].parse().unwrap_or(f64::NAN)
}

/// JavaScript's `Number#toFixed(digits)` (0 ≤ `digits` ≤ 100): the nearest decimal with
/// `digits` decimals, an exact tie rounded away from zero; `NaN` as `"NaN"`, and numbers of
/// 1e21 or more in their `String()` form.
pub(crate) fn js_to_fixed(number: f64, digits: usize) -> String {
    if number.is_nan() {
        return "NaN".to_owned();
    }
    if number.abs() >= 1e21 {
        return super::js::number_to_js_string(number);
    }
    let magnitude = number.abs();
    // The exact decimal expansion (an f64 below 1e21 has at most 1074 fraction digits)
    // tells an exact tie, which Rust rounds to even and JavaScript away from zero.
    let exact = format!("{magnitude:.1100}");
    let tie = exact
        .split_once('.')
        .map(|(_, fraction)| fraction[digits..].trim_end_matches('0') == "5")
        .unwrap_or(false);
    let rounded = if tie {
        let step = 10_f64.powi(-i32::try_from(digits).unwrap_or(0));
        format!("{:.digits$}", magnitude + step / 2.0)
    } else {
        format!("{magnitude:.digits$}")
    };
    if number < 0.0 {
        format!("-{rounded}")
    } else {
        rounded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_sorted_for_the_binary_search() {
        assert!(CODES.windows(2).all(|pair| pair[0] < pair[1]));
        assert_eq!(CODES.len(), 179);
    }

    #[test]
    fn parse_float_reads_a_prefix() {
        assert_eq!(js_parse_float(" 12.5abc"), 12.5);
        assert_eq!(js_parse_float("-.5"), -0.5);
        assert_eq!(js_parse_float("1e3x"), 1000.0);
        assert_eq!(js_parse_float("1e"), 1.0);
        assert_eq!(js_parse_float("5."), 5.0);
        assert!(js_parse_float("abc").is_nan());
        assert!(js_parse_float(".").is_nan());
        assert_eq!(js_parse_float("-Infinityx"), f64::NEG_INFINITY);
    }

    #[test]
    fn to_fixed_rounds_like_javascript() {
        // Expected values from node's Number#toFixed.
        assert_eq!(js_to_fixed(2.5, 0), "3");
        assert_eq!(js_to_fixed(0.125, 2), "0.13");
        assert_eq!(js_to_fixed(1.005, 2), "1.00");
        assert_eq!(js_to_fixed(-2.5, 0), "-3");
        assert_eq!(js_to_fixed(-0.0, 2), "0.00");
        assert_eq!(js_to_fixed(-0.001, 2), "-0.00");
        assert_eq!(js_to_fixed(12.345, 3), "12.345");
        assert_eq!(js_to_fixed(f64::NAN, 2), "NaN");
        assert_eq!(js_to_fixed(1e21, 2), "1e+21");
    }
}
