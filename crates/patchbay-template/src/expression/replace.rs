//! `$replace` with a bound on what it builds.
//!
//! The engine's built-in `$replace(text, pattern, replacement)` builds its result in one
//! step: `$replace($pad('', 10000), ' ', $pad('', 100000))` is a gigabyte, which neither
//! the time limit nor the memory watchdog can interrupt. The jsonata-core backend replaces
//! the built-in with [`checked_replace`]:
//!
//! * a string replacement of a substring (the amplifying case) is done here, with the
//!   engine's public replacement function, and the result is refused before it is built
//!   when it would pass [`Limits::max_string_bytes`](super::Limits::max_string_bytes);
//! * a regex replacement is done here with [`regex`](super::regex) (ECMAScript semantics),
//!   refused as soon as what is built passes the limit. A replacement function is called
//!   once per match, in an evaluation of its own with the expression's host functions;
//! * every other call (a custom matcher function, arguments the signature refuses) is
//!   handed to a separate evaluation of the built-in with the same arguments, so its
//!   results and errors are the engine's own.
//!
//! A context-form call (`phone.$replace(/\D/, "")`) arrives as a [`Call`] that knows the
//! context and the written arguments (see [`ContextForm`](super::overrides::ContextForm)).

use std::borrow::Cow;
use std::time::Instant;

use jsonata_core::evaluator::{Context, EvaluatorError};
use jsonata_core::functions::string::{replace, substitute_capture_groups};
use jsonata_core::parser;
use jsonata_core::value::JValue;

use super::core::STRING_LIMIT_CODE;
use super::overrides::{Call, OverrideLimits};
use super::regex::JsRegex;
use super::regex::functions::{Matcher, Subject, within};

/// `$replace(text, pattern, replacement[, limit])`, refusing a result longer than
/// [`OverrideLimits::max_string_bytes`]; see the module docs.
pub(crate) fn checked_replace(
    call: &Call<'_>,
    limits: &OverrideLimits,
) -> Result<JValue, EvaluatorError> {
    match guarded_case(&call.args) {
        Some(case) => case.run(limits),
        None => call.delegate("replace", limits),
    }
}

/// What a match is replaced with.
enum Replacement<'a> {
    /// A string, with `$0`, `$1`, … and `$$` substituted for a regex.
    Text(&'a str),
    /// A function, called with each regex match's object.
    Function(&'a JValue),
}

/// A call this module performs itself: a string text, a substring pattern with a string
/// replacement or a regex pattern with a string or function replacement, and an absent or
/// non-negative limit.
struct Case<'a> {
    text: &'a str,
    pattern: &'a JValue,
    replacement: Replacement<'a>,
    limit: Option<f64>,
}

fn guarded_case(args: &[JValue]) -> Option<Case<'_>> {
    if !(3..=4).contains(&args.len()) {
        return None;
    }
    let JValue::String(text) = &args[0] else {
        return None;
    };
    let replacement = match (&args[1], &args[2]) {
        (JValue::String(pattern), JValue::String(replacement)) if !pattern.is_empty() => {
            Replacement::Text(replacement)
        }
        (JValue::Regex { .. }, JValue::String(replacement)) => Replacement::Text(replacement),
        (JValue::Regex { .. }, function @ (JValue::Lambda(_) | JValue::Builtin { .. })) => {
            Replacement::Function(function)
        }
        _ => return None,
    };
    let limit = match args.get(3) {
        None | Some(JValue::Undefined) => None,
        Some(JValue::Number(n)) if *n >= 0.0 => Some(*n),
        Some(_) => return None,
    };
    Some(Case {
        text,
        pattern: &args[1],
        replacement,
        limit,
    })
}

fn too_long(bytes: u128, max_bytes: usize) -> EvaluatorError {
    EvaluatorError::EvaluationError(format!(
        "{STRING_LIMIT_CODE}: $replace would build a string of {bytes} bytes, \
         more than the {max_bytes} allowed"
    ))
}

impl Case<'_> {
    fn run(&self, limits: &OverrideLimits) -> Result<JValue, EvaluatorError> {
        let max_bytes = limits.max_string_bytes;
        if let JValue::Regex { pattern, flags } = self.pattern {
            return limits
                .session
                .regexes
                .with(pattern, flags, |regex| self.run_regex(regex, limits))
                .map_err(|error| EvaluatorError::EvaluationError(error.to_string()))?;
        }
        let (JValue::String(pattern), Replacement::Text(replacement)) =
            (self.pattern, &self.replacement)
        else {
            // `guarded_case` admits only string replacements of substrings here.
            return Err(EvaluatorError::EvaluationError(
                "$replace: a substring pattern needs a string replacement".to_owned(),
            ));
        };
        // `as` saturates and maps NaN to 0, as the built-in does.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let limit = self.limit.map(|n| n.ceil() as usize);
        let matches = self.text.matches(&**pattern).count();
        let replaced = limit.map_or(matches, |limit| matches.min(limit)) as u128;
        let bytes = self.text.len() as u128 + replaced * replacement.len() as u128
            - replaced * pattern.len() as u128;
        if bytes > max_bytes as u128 {
            return Err(too_long(bytes, max_bytes));
        }
        Ok(replace(self.text, self.pattern, replacement, limit)?)
    }

    /// The regex path of jsonata-js's `replace`: each match (one after the other, as its
    /// regex closure's `next()` finds them) up to the limit is replaced, and the result is
    /// refused as soon as it passes `max_string_bytes`.
    fn run_regex(
        &self,
        regex: &JsRegex,
        limits: &OverrideLimits,
    ) -> Result<JValue, EvaluatorError> {
        if self.limit.is_some_and(|limit| limit <= 0.0) {
            return Ok(JValue::string(self.text));
        }
        let subject = Subject::new(self.text);
        let matcher = Matcher::new(regex, &subject, limits.bounds());
        let Some(first) = matcher.first() else {
            return Ok(JValue::string(self.text));
        };
        let mut replacer = match self.replacement {
            Replacement::Function(function) => Replacer::Function(FunctionCall::new(function)?),
            Replacement::Text(template) => Replacer::Text(template),
        };
        let started = Instant::now();
        let mut out = String::new();
        let mut position = 0;
        let mut count = 0;
        let mut current = Some(first);
        while let Some(found) = current.take() {
            if !within(count, self.limit) {
                break;
            }
            subject.push(&mut out, position..found.span.start);
            match &mut replacer {
                Replacer::Text(template) => {
                    let text = subject.text_of(found.span.clone());
                    substitute_capture_groups(
                        &mut out,
                        template,
                        &text,
                        found.groups.len(),
                        |i| Ok::<_, EvaluatorError>(matcher.group(&found, i).map(Cow::Owned)),
                    )?;
                }
                Replacer::Function(call) => {
                    let remaining = limits.timeout.saturating_sub(started.elapsed());
                    out.push_str(&call.replace(
                        &matcher.closure_result(&found),
                        limits,
                        remaining,
                    )?);
                }
            }
            // The rest of the text still follows what is built so far.
            if out.len() > limits.max_string_bytes {
                return Err(EvaluatorError::EvaluationError(format!(
                    "{STRING_LIMIT_CODE}: $replace would build a string of more than \
                     {} bytes, the most allowed",
                    limits.max_string_bytes
                )));
            }
            position = found.span.end;
            count += 1;
            current = matcher.next(&found)?;
        }
        subject.push(&mut out, position..subject.len());
        Ok(JValue::string(out))
    }
}

/// What each regex match is replaced with, ready to use.
enum Replacer<'a> {
    Text(&'a str),
    Function(FunctionCall<'a>),
}

/// A replacement function, called once per match in an evaluation of its own (a host
/// function cannot call back into the evaluation it runs in).
struct FunctionCall<'a> {
    function: &'a JValue,
    ast: jsonata_core::ast::AstNode,
}

impl<'a> FunctionCall<'a> {
    fn new(function: &'a JValue) -> Result<Self, EvaluatorError> {
        let ast = parser::parse("$replacement($match)").map_err(|e| {
            EvaluatorError::EvaluationError(format!("cannot call the replacement: {e}"))
        })?;
        Ok(FunctionCall { function, ast })
    }

    /// The function's result for `found`, which must be a string (`D3012`).
    fn replace(
        &mut self,
        found: &JValue,
        limits: &OverrideLimits,
        remaining: std::time::Duration,
    ) -> Result<std::rc::Rc<str>, EvaluatorError> {
        let mut context = Context::new();
        context.bind("replacement".to_owned(), self.function.clone());
        context.bind("match".to_owned(), found.clone());
        let result = limits
            .session
            .evaluator(context, remaining, None, None, limits.now_millis)?
            .evaluate(&self.ast, &JValue::Undefined)?;
        match result {
            JValue::String(text) => Ok(text),
            _ => Err(EvaluatorError::TypeError(
                "D3012: Attempted to replace a matched string with a non-string value".to_owned(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::time::Duration;

    use jsonata_core::evaluator::{Evaluator, EvaluatorOptions};

    use crate::expression::core::Session;

    fn limits() -> OverrideLimits {
        OverrideLimits {
            max_string_bytes: 1 << 20,
            timeout: Duration::from_secs(1),
            session: Session::empty(),
            now_millis: 0.0,
        }
    }

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
        let got =
            checked_replace(&Call::written(&[s("a-b-c"), s("-"), s("+")]), &limits()).unwrap();
        assert_eq!(text(got), "a+b+c");
        let limited = checked_replace(
            &Call::written(&[s("a-b-c"), s("-"), s("+"), JValue::Number(1.0)]),
            &limits(),
        )
        .unwrap();
        assert_eq!(text(limited), "a+b-c");
    }

    #[test]
    fn a_substring_replacement_over_the_limit_is_refused_before_it_is_built() {
        let text = " ".repeat(10_000);
        let replacement = "x".repeat(100_000);
        let error = checked_replace(
            &Call::written(&[s(&text), s(" "), s(&replacement)]),
            &limits(),
        )
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
        let delegated = checked_replace(&Call::written(&[JValue::Null, s("a"), s("b")]), &limits());
        let direct = built_in(r#"$replace(null, "a", "b")"#);
        assert_eq!(format!("{delegated:?}"), format!("{direct:?}"));
        let empty = checked_replace(&Call::written(&[s("abc"), s(""), s("b")]), &limits())
            .unwrap_err()
            .to_string();
        assert!(empty.contains("D3010"), "{empty}");
    }
}
