//! `$replace` with a bound on what it builds.
//!
//! The engine's built-in `$replace(text, pattern, replacement)` builds its result in one
//! step: `$replace($pad('', 10000), ' ', $pad('', 100000))` is a gigabyte, which neither
//! the time limit nor the memory watchdog can interrupt. The jsonata-core backend replaces
//! the built-in with [`checked_replace`]:
//!
//! * a string replacement (the amplifying case) is done here, with the engine's own
//!   public replacement functions, and the result is refused as soon as it would pass
//!   [`Limits::max_string_bytes`](super::Limits::max_string_bytes), before it is built
//!   (a substring pattern) or while it grows (a regex);
//! * every other call (a replacement or matcher function, arguments the signature
//!   refuses) is handed to a separate evaluation of the built-in with the same
//!   arguments, so its results and errors are the engine's own. A replacement function's
//!   results are bounded by the limits of its own evaluation.
//!
//! A context-form call (`phone.$replace(/\D/, "")`) arrives with the context written in
//! as its first argument (see [`context_args`](super::context_args)).

use std::borrow::Cow;
use std::time::Duration;

use jsonata_core::evaluator::{Context, Evaluator, EvaluatorError, EvaluatorOptions};
use jsonata_core::functions::FunctionError;
use jsonata_core::functions::string::{
    RegexMatches, build_regex, extract_regex, replace, replace_regex, substitute_capture_groups,
};
use jsonata_core::parser;
use jsonata_core::value::JValue;

use super::core::STRING_LIMIT_CODE;

/// `$replace(text, pattern, replacement[, limit])`, refusing a result longer than
/// `max_bytes`; see the module docs. `timeout` bounds a delegated evaluation.
pub(crate) fn checked_replace(
    args: &[JValue],
    max_bytes: usize,
    timeout: Duration,
) -> Result<JValue, EvaluatorError> {
    match guarded_case(args) {
        Some(case) => case.run(max_bytes),
        None => delegate(args, timeout),
    }
}

/// A call this module performs itself: a string text, a substring or regex pattern, a
/// string replacement and an absent or non-negative limit.
struct Case<'a> {
    text: &'a str,
    pattern: &'a JValue,
    replacement: &'a str,
    limit: Option<usize>,
}

fn guarded_case(args: &[JValue]) -> Option<Case<'_>> {
    if !(3..=4).contains(&args.len()) {
        return None;
    }
    let JValue::String(text) = &args[0] else {
        return None;
    };
    let JValue::String(replacement) = &args[2] else {
        return None;
    };
    match &args[1] {
        JValue::String(pattern) if !pattern.is_empty() => {}
        pattern if extract_regex(pattern).is_some() => {}
        _ => return None,
    }
    let limit = match args.get(3) {
        None | Some(JValue::Undefined) => None,
        // `as` saturates and maps NaN to 0, as the built-in does.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Some(JValue::Number(n)) if *n >= 0.0 => Some(n.ceil() as usize),
        Some(_) => return None,
    };
    Some(Case {
        text,
        pattern: &args[1],
        replacement,
        limit,
    })
}

impl Case<'_> {
    fn run(&self, max_bytes: usize) -> Result<JValue, EvaluatorError> {
        let too_long = |bytes: u128| {
            EvaluatorError::EvaluationError(format!(
                "{STRING_LIMIT_CODE}: $replace would build a string of {bytes} bytes, \
                 more than the {max_bytes} allowed"
            ))
        };
        if let Some((pattern, flags)) = extract_regex(self.pattern) {
            let re = build_regex(&pattern, &flags)?;
            let result = replace_regex(
                RegexMatches::new(&re, self.text),
                self.limit,
                |found, out| {
                    substitute_capture_groups(
                        out,
                        self.replacement,
                        found.text,
                        found.groups.len(),
                        |i| Ok::<_, FunctionError>(found.groups[i].map(Cow::Borrowed)),
                    )?;
                    // The rest of the text still follows what is built so far.
                    if out.len() > max_bytes {
                        return Err(FunctionError::RuntimeError(format!(
                            "{STRING_LIMIT_CODE}: $replace would build a string of more than \
                         {max_bytes} bytes, the most allowed"
                        )));
                    }
                    Ok(())
                },
            );
            return match result {
                Ok(text) => Ok(JValue::string(text)),
                Err(error) => Err(error.into()),
            };
        }
        let JValue::String(pattern) = self.pattern else {
            unreachable!("guarded_case admits only string and regex patterns");
        };
        let matches = self.text.matches(&**pattern).count();
        let replaced = self.limit.map_or(matches, |limit| matches.min(limit)) as u128;
        let bytes = self.text.len() as u128 + replaced * self.replacement.len() as u128
            - replaced * pattern.len() as u128;
        if bytes > max_bytes as u128 {
            return Err(too_long(bytes));
        }
        Ok(replace(
            self.text,
            self.pattern,
            self.replacement,
            self.limit,
        )?)
    }
}

/// Runs the built-in `$replace` on `args` in an evaluation of its own (no override
/// there), so calls this module does not perform itself behave exactly as the engine's.
fn delegate(args: &[JValue], timeout: Duration) -> Result<JValue, EvaluatorError> {
    const NAMES: [&str; 4] = ["text", "pattern", "replacement", "limit"];
    let mut context = Context::new();
    for (name, value) in NAMES.iter().zip(args) {
        context.bind((*name).to_owned(), value.clone());
    }
    let source = match args.len() {
        0 => "$replace()".to_owned(),
        n => format!(
            "$replace({})",
            NAMES[..n.min(4)]
                .iter()
                .map(|name| format!("${name}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let ast = parser::parse(&source)
        .map_err(|e| EvaluatorError::EvaluationError(format!("cannot run $replace: {e}")))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = 1 << 20;
    const SECOND: Duration = Duration::from_secs(1);

    fn s(text: &str) -> JValue {
        JValue::string(text.to_owned())
    }

    fn text(value: JValue) -> String {
        match value {
            JValue::String(text) => text.to_string(),
            other => panic!("not a string: {other:?}"),
        }
    }

    #[test]
    fn replaces_like_the_built_in_within_the_limit() {
        let got = checked_replace(&[s("a-b-c"), s("-"), s("+")], MAX, SECOND).unwrap();
        assert_eq!(text(got), "a+b+c");
        let limited = checked_replace(
            &[s("a-b-c"), s("-"), s("+"), JValue::Number(1.0)],
            MAX,
            SECOND,
        )
        .unwrap();
        assert_eq!(text(limited), "a+b-c");
    }

    #[test]
    fn a_substring_replacement_over_the_limit_is_refused_before_it_is_built() {
        let text = " ".repeat(10_000);
        let replacement = "x".repeat(100_000);
        let error = checked_replace(&[s(&text), s(" "), s(&replacement)], MAX, SECOND)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("U1004") && error.contains("1000000000 bytes"),
            "{error}"
        );
    }

    /// The built-in's answer to `source`, with no override registered.
    fn built_in(source: &str) -> Result<JValue, EvaluatorError> {
        let ast = parser::parse(source).unwrap();
        Evaluator::with_options(Context::new(), EvaluatorOptions::default())
            .evaluate(&ast, &JValue::Undefined)
    }

    #[test]
    fn other_calls_are_the_built_in_s() {
        // A value the signature refuses: the built-in's own error.
        let delegated = checked_replace(&[JValue::Null, s("a"), s("b")], MAX, SECOND);
        let direct = built_in(r#"$replace(null, "a", "b")"#);
        assert_eq!(format!("{delegated:?}"), format!("{direct:?}"));
        let empty = checked_replace(&[s("abc"), s(""), s("b")], MAX, SECOND)
            .unwrap_err()
            .to_string();
        assert!(empty.contains("D3010"), "{empty}");
    }
}
