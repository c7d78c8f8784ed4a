//! Conversions shared by the backends.

use serde_json::{Number, Value};

/// Largest magnitude below which every whole `f64` is an exact integer (2^53).
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_992.0;

/// A JSONata number as JSON: whole numbers within ±2^53 become JSON integers (`3`, not
/// `3.0`), other finite numbers stay floats. `NaN` and infinities have no JSON form: `None`.
pub(crate) fn number_to_json(number: f64) -> Option<Value> {
    if number.fract() == 0.0 && number.abs() <= MAX_SAFE_INTEGER {
        // Exact: the value is whole and within the range where f64 → i64 is lossless.
        #[allow(clippy::cast_possible_truncation)]
        let whole = number as i64;
        Some(Value::Number(whole.into()))
    } else {
        Number::from_f64(number).map(Value::Number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn whole_numbers_become_integers() {
        assert_eq!(number_to_json(3.0), Some(json!(3)));
        assert_eq!(number_to_json(-0.0), Some(json!(0)));
        assert_eq!(number_to_json(2.5), Some(json!(2.5)));
        assert_eq!(number_to_json(1e300), Some(json!(1e300)));
        assert_eq!(number_to_json(f64::NAN), None);
        assert_eq!(number_to_json(f64::INFINITY), None);
    }
}
