//! jsonata-core replacements for the built-ins `$fromMillis`, `$toMillis`, `$now`, `$millis`
//! and `$random`, so that they behave as in jsonata-js (and therefore Truto):
//!
//! * `$fromMillis` accepts a fractional millisecond count (a Slack `ts` × 1000) and
//!   truncates it as JavaScript's `Date` does; the engine's built-in refuses it;
//! * `$toMillis(text)` reads what `Date.parse` reads once the text has passed jsonata-js's
//!   ISO 8601 check (`"2024-02-30"` is March 1st, `"2024-01-02T03:04:05+0530"` has an
//!   offset) and gives `NaN` where JavaScript does; with a picture it is the built-in;
//! * `$random()` works (the engine's is listed but fails with `T1006`);
//! * `$now(picture, timezone)` takes the picture and time zone of `$fromMillis` (the
//!   built-in takes no arguments), and every `$now()` and `$millis()` of one evaluation
//!   returns the same instant, as in jsonata-js.
//!
//! They are entries of the `OVERRIDES` table (`overrides.rs`), registered for expressions
//! that mention them. Formatting with pictures and time zones, and parsing with pictures,
//! stay the engine's: the replacements prepare the arguments and run the built-in in an
//! evaluation of its own ([`builtin`]). A context-form call without arguments (`ts.$fromMillis()`) arrives with
//! the context written in (see `context_args.rs`).

use std::time::Duration;

use jsonata_core::evaluator::{Context, Evaluator, EvaluatorError, EvaluatorOptions};
use jsonata_core::parser;
use jsonata_core::value::JValue;

use super::dates::{MAX_DATE_MILLIS, from_millis_instant, is_jsonata_iso8601, js_date_parse};

/// `$millis()`: this evaluation's instant.
pub(crate) fn millis(args: &[JValue], now_millis: f64) -> Result<JValue, EvaluatorError> {
    if args.iter().all(|arg| matches!(arg, JValue::Undefined)) {
        Ok(JValue::Number(now_millis))
    } else {
        Err(mismatch("millis", 1))
    }
}

/// `$random()`: jsonata-core 2.2.13 lists the built-in but cannot call it (`T1006`).
pub(crate) fn random(args: &[JValue]) -> Result<JValue, EvaluatorError> {
    if args.iter().all(|arg| matches!(arg, JValue::Undefined)) {
        Ok(JValue::Number(unit_random()))
    } else {
        Err(mismatch("random", 1))
    }
}

/// A uniformly distributed number in [0, 1): 53 random bits (from the operating system's
/// generator, through a v4 UUID) scaled down.
fn unit_random() -> f64 {
    let bits = uuid::Uuid::new_v4().as_u128();
    // Bits 80-127 (48) and 64-68 (5) are random; the version and variant bits are not.
    let high = u64::try_from(bits >> 80).unwrap_or(0);
    let low = u64::try_from((bits >> 64) & 0x1f).unwrap_or(0);
    #[allow(clippy::cast_precision_loss)]
    let fraction = ((high << 5) | low) as f64 / (1_u64 << 53) as f64;
    fraction
}

/// `$fromMillis(millis, picture, timezone)`: the millisecond count truncated as a
/// JavaScript `Date` truncates it, then the built-in. A count beyond the range of a
/// JavaScript `Date` is an error (jsonata-js prints `NaN`s there).
pub(crate) fn from_millis(args: &[JValue], timeout: Duration) -> Result<JValue, EvaluatorError> {
    let (Some(JValue::Number(millis)), picture, timezone) =
        (args.first(), args.get(1), args.get(2))
    else {
        return builtin("fromMillis", args, timeout);
    };
    if millis.fract() == 0.0 && millis.abs() <= MAX_DATE_MILLIS {
        return builtin("fromMillis", args, timeout);
    }
    let zone = match timezone {
        Some(JValue::String(zone)) => Some(zone.as_ref()),
        _ => None,
    };
    if !matches!(picture, None | Some(JValue::Undefined | JValue::String(_)))
        || !matches!(timezone, None | Some(JValue::Undefined | JValue::String(_)))
    {
        return builtin("fromMillis", args, timeout);
    }
    let Some(instant) = from_millis_instant(*millis, zone) else {
        return Err(EvaluatorError::EvaluationError(format!(
            "D3137: $fromMillis({millis}) is outside the range of a JavaScript Date \
             (±8.64e15 milliseconds)"
        )));
    };
    let mut args = args.to_vec();
    args[0] = JValue::Number(instant);
    builtin("fromMillis", &args, timeout)
}

/// `$toMillis(timestamp, picture)`: without a picture, jsonata-js's ISO 8601 check and
/// then `Date.parse`; everything else is the built-in.
pub(crate) fn to_millis(args: &[JValue], timeout: Duration) -> Result<JValue, EvaluatorError> {
    match args {
        [JValue::String(text)] | [JValue::String(text), JValue::Undefined] => {
            if is_jsonata_iso8601(text) {
                Ok(JValue::Number(js_date_parse(text)))
            } else {
                Err(EvaluatorError::EvaluationError(format!(
                    "D3110: The argument of the toMillis function must be an ISO 8601 \
                     formatted timestamp. Given \"{text}\""
                )))
            }
        }
        _ => builtin("toMillis", args, timeout),
    }
}

/// `$now(picture, timezone)`: this evaluation's instant, formatted as `$fromMillis` does.
pub(crate) fn now(
    args: &[JValue],
    now_millis: f64,
    timeout: Duration,
) -> Result<JValue, EvaluatorError> {
    if args.len() > 2 {
        return Err(mismatch("now", 3));
    }
    for (index, arg) in args.iter().enumerate() {
        if !matches!(arg, JValue::Undefined | JValue::String(_)) {
            return Err(mismatch("now", index + 1));
        }
    }
    let mut call = vec![JValue::Number(now_millis)];
    call.extend(args.iter().cloned());
    builtin("fromMillis", &call, timeout)
}

/// The engine's `T0410` for argument `position` of `$function`.
fn mismatch(function: &str, position: usize) -> EvaluatorError {
    EvaluatorError::TypeError(format!(
        "T0410: Argument {position} of function \"{function}\" does not match function signature"
    ))
}

/// Runs the engine's built-in `$name` on `args` in an evaluation of its own (which has no
/// replacements registered), so its results and errors are the engine's.
fn builtin(name: &str, args: &[JValue], timeout: Duration) -> Result<JValue, EvaluatorError> {
    const NAMES: [&str; 4] = ["a", "b", "c", "d"];
    if args.len() > NAMES.len() {
        return Err(mismatch(name, NAMES.len() + 1));
    }
    let mut context = Context::new();
    for (variable, value) in NAMES.iter().zip(args) {
        context.bind((*variable).to_owned(), value.clone());
    }
    let parameters: Vec<String> = NAMES[..args.len()]
        .iter()
        .map(|variable| format!("${variable}"))
        .collect();
    let source = format!("${name}({})", parameters.join(", "));
    let ast = parser::parse(&source)
        .map_err(|error| EvaluatorError::EvaluationError(format!("cannot run ${name}: {error}")))?;
    let options = EvaluatorOptions {
        timeout_ms: Some(
            u64::try_from(timeout.as_millis())
                .unwrap_or(u64::MAX)
                .max(1),
        ),
        ..EvaluatorOptions::default()
    };
    Evaluator::with_options(context, options).evaluate(&ast, &JValue::Undefined)
}
