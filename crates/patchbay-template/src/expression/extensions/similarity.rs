//! Text similarity: `$diceCoefficient` and `$mostSimilar`.
//!
//! Both compare *normalised* texts: lower-cased, then stripped of everything but `a-z` and
//! `0-9` (so accents, spaces and punctuation do not count). The score is the Sørensen–Dice
//! coefficient over the texts' bigrams, as npm `dice-coefficient` 2.1.1 computes it: a text
//! of one character is its own single "bigram", each bigram of one text matches at most one
//! equal bigram of the other, and two texts without bigrams score `NaN` (`null` here).

use std::collections::HashMap;

use serde_json::Value;

use super::values::js_to_number;
use super::{Args, ExtensionError, Outcome};

/// Lower-cases `text` and keeps only ASCII letters and digits.
fn normalize(text: &str) -> String {
    text.to_lowercase()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

/// The Dice coefficient of two normalised (ASCII-only) texts; `NaN` when neither has a
/// bigram. Counts bigrams instead of the package's pairwise scan, which gives the same
/// number of matches in linear time.
fn dice(left: &str, right: &str) -> f64 {
    fn pairs(text: &str) -> Vec<&str> {
        if text.len() == 1 {
            return vec![text];
        }
        (0..text.len().saturating_sub(1))
            .filter_map(|start| text.get(start..start + 2))
            .collect()
    }
    let left = pairs(left);
    let right = pairs(right);
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for pair in &right {
        *counts.entry(pair).or_default() += 1;
    }
    let mut intersections = 0_usize;
    for pair in &left {
        if let Some(count) = counts.get_mut(pair)
            && *count > 0
        {
            *count -= 1;
            intersections += 1;
        }
    }
    // Counts of bigrams in texts of at most a few MiB are exact in f64.
    #[allow(clippy::cast_precision_loss)]
    let score = 2.0 * intersections as f64 / (left.len() + right.len()) as f64;
    score
}

/// The text of argument `index`, which the package lower-cases (so anything else throws).
fn text_arg<'a>(args: &Args<'a>, index: usize) -> Result<&'a str, ExtensionError> {
    match args.get(index) {
        Some(Value::String(text)) => Ok(text),
        _ => Err(args.wrong(index, "a string")),
    }
}

/// JavaScript `===` between two arguments; containers (and functions) are never identical.
fn identical(args: &Args<'_>) -> bool {
    if args.is_function(0) || args.is_function(1) {
        return false;
    }
    match (args.get(0), args.get(1)) {
        (None, None) => true,
        (Some(Value::Null), Some(Value::Null)) => true,
        (Some(Value::Bool(a)), Some(Value::Bool(b))) => a == b,
        (Some(Value::Number(a)), Some(Value::Number(b))) => a.as_f64() == b.as_f64(),
        (Some(Value::String(a)), Some(Value::String(b))) => a == b,
        _ => false,
    }
}

/// A score as JSON: `NaN` becomes `null`.
fn score(value: f64) -> Value {
    serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number)
}

/// `$diceCoefficient(a, b)`: 1 when `a` and `b` are identical values (`===`), else the Dice
/// coefficient of the two normalised texts (between 0 and 1; `null` when neither has any
/// letter or digit). Anything but two texts fails unless identical.
pub(crate) fn dice_coefficient(args: &Args<'_>) -> Outcome {
    if identical(args) {
        return Ok(Some(Value::from(1)));
    }
    let left = normalize(text_arg(args, 0)?);
    let right = normalize(text_arg(args, 1)?);
    Ok(Some(score(dice(&left, &right))))
}

/// The candidates lodash `reduce` visits: an array's members, an object's values (in
/// JavaScript key order), a text's characters; nothing for other values.
fn candidates(value: Option<&Value>) -> Vec<Value> {
    match value {
        Some(Value::Array(items)) => items.clone(),
        Some(Value::Object(map)) => js_key_order(map)
            .into_iter()
            .filter_map(|key| map.get(key).cloned())
            .collect(),
        Some(Value::String(text)) => text.chars().map(|c| Value::String(c.to_string())).collect(),
        _ => Vec::new(),
    }
}

/// The keys of `map` in JavaScript's property order: array indices ascending, then the
/// other keys in insertion order.
fn js_key_order(map: &serde_json::Map<String, Value>) -> Vec<&String> {
    let index_of = |key: &str| -> Option<u32> {
        let canonical = key == "0" || (!key.starts_with('0') && !key.is_empty());
        key.parse::<u32>().ok().filter(|index| {
            canonical && *index < u32::MAX && key.bytes().all(|b| b.is_ascii_digit())
        })
    };
    let mut indices: Vec<(u32, &String)> = map
        .keys()
        .filter_map(|key| index_of(key).map(|index| (index, key)))
        .collect();
    indices.sort_unstable_by_key(|(index, _)| *index);
    let mut keys: Vec<&String> = indices.into_iter().map(|(_, key)| key).collect();
    keys.extend(map.keys().filter(|key| index_of(key).is_none()));
    keys
}

/// `$mostSimilar(value, candidates, threshold = 0.8)`: the candidate whose normalised text
/// has the highest Dice coefficient with `value`'s (the first one on ties), when that score
/// reaches `threshold`; otherwise `value` itself. `value` and every candidate must be
/// texts. `candidates` may be an array, an object (its values) or a text (its characters).
pub(crate) fn most_similar(args: &Args<'_>) -> Outcome {
    let value = text_arg(args, 0)?;
    let normalized = normalize(value);
    let list = if args.is_function(1) {
        Vec::new()
    } else {
        candidates(args.get(1))
    };
    let mut best = (0.0_f64, String::new());
    for candidate in list {
        let Value::String(candidate) = candidate else {
            return Err(args.failed("value.toLowerCase is not a function"));
        };
        let similarity = dice(&normalized, &normalize(&candidate));
        if similarity > best.0 {
            best = (similarity, candidate);
        }
    }
    let threshold = match args.get(2) {
        None if !args.is_function(2) => 0.8,
        None => f64::NAN,
        Some(threshold) => js_to_number(Some(threshold)),
    };
    if best.0 >= threshold {
        Ok(Some(Value::String(best.1)))
    } else {
        Ok(Some(Value::String(value.to_owned())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dice_matches_the_package() {
        // Values from dice-coefficient 2.1.1 under node.
        assert!((dice("hello", "hallo") - 0.5).abs() < 1e-12);
        assert!((dice("a", "a") - 1.0).abs() < 1e-12);
        assert!(dice("", "").is_nan());
        assert!((dice("aaaa", "aa") - 0.5).abs() < 1e-12);
        assert_eq!(normalize("Héllo, World!"), "hlloworld");
    }
}
