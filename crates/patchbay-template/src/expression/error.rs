//! The error type of the expression layer and the JSONata error-code helpers.

use std::fmt;
use std::time::Duration;

/// What an engine was doing when it failed or panicked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Phase {
    /// Parsing and validating the expression text.
    Compile,
    /// Evaluating a compiled expression against an input.
    Evaluate,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Compile => "compiling",
            Phase::Evaluate => "evaluating",
        })
    }
}

/// Why compiling or evaluating a JSONata expression failed.
///
/// Every failure of an engine, including a panic inside the engine crate, ends up here:
/// no expression can crash the process. [`ExpressionError::code`] gives the JSONata error
/// code (`"S0202"`, `"T1006"`, `"D1012"`, …) when there is one.
#[derive(thiserror::Error, Debug)]
#[non_exhaustive]
pub enum ExpressionError {
    /// The expression text is not valid JSONata (or uses syntax the engine does not support).
    #[error("cannot compile JSONata expression: {message}")]
    Compile {
        /// The JSONata error code, e.g. `"S0202"`.
        code: Option<String>,
        /// The engine's message.
        message: String,
        /// The character offset of the error in the source, when the engine reports it.
        position: Option<usize>,
    },
    /// Evaluation raised a JSONata error (type error, `$error()`, missing function, …).
    #[error("JSONata evaluation failed: {message}")]
    Evaluate {
        /// The JSONata error code, e.g. `"T2002"`.
        code: Option<String>,
        /// The engine's message.
        message: String,
    },
    /// Evaluation ran longer than [`Limits::timeout`](super::Limits::timeout).
    #[error("JSONata evaluation exceeded its time limit of {limit:?} ({code})")]
    Timeout {
        /// The engine's code for it: `"D1012"` (jsonata-core) or `"U1001"` (jsonata-rs).
        code: String,
        /// The time limit in force.
        limit: Duration,
    },
    /// Evaluation nested deeper than [`Limits::max_depth`](super::Limits::max_depth) (or the
    /// engine's own hard cap).
    #[error("JSONata evaluation exceeded its depth limit of {max_depth} ({code})")]
    DepthExceeded {
        /// The engine's code for it: `"D1011"`/`"U1001"` (jsonata-core) or `"U1001"` (jsonata-rs).
        code: String,
        /// The depth limit in force.
        max_depth: usize,
    },
    /// Evaluation would have built a value larger than a size limit of
    /// [`Limits`](super::Limits): a sequence longer than
    /// [`max_sequence_length`](super::Limits::max_sequence_length) (`"D2015"`), or a `$pad`
    /// result longer than [`max_string_bytes`](super::Limits::max_string_bytes) (`"U1004"`,
    /// refused before anything is allocated).
    #[error("JSONata evaluation exceeded its size limit of {limit} {unit}: {what} ({code})")]
    SizeExceeded {
        /// `"D2015"` (sequence length) or `"U1004"` (string length, Patchbay's own code).
        code: String,
        /// What grew too large, e.g. `$pad would build a string of 1000000000 bytes`.
        what: String,
        /// The limit in force.
        limit: usize,
        /// The unit of `limit`: `"items"` or `"bytes"`.
        unit: &'static str,
    },
    /// The process's resident memory grew by more than
    /// [`max_memory_growth`](super::Limits::max_memory_growth) while this (slow) evaluation
    /// ran, and it was cancelled.
    #[error(
        "JSONata evaluation exceeded its memory limit: the process grew by more than {limit} \
         bytes while it ran ({code})"
    )]
    MemoryExceeded {
        /// The engine's code for the cancellation: `"U1003"`.
        code: String,
        /// The limit in force, in bytes.
        limit: usize,
    },
    /// The evaluation outgrew its inline time budget and had to wait for one of the
    /// process-wide slots for slow evaluations, and none freed up within its timeout.
    #[error(
        "JSONata evaluation exceeded its concurrency limit: all {slots} slots for slow \
         evaluations stayed busy for {waited:?}"
    )]
    Busy {
        /// How many slow evaluations may run at once (the number of CPUs).
        slots: usize,
        /// How long this evaluation waited.
        waited: Duration,
    },
    /// The engine crate panicked; the panic was caught and the process is unaffected.
    #[error("the {engine} JSONata engine panicked while {phase} the expression: {message}")]
    Panicked {
        /// The engine name, as in [`ExpressionEngine::name`](super::ExpressionEngine::name).
        engine: &'static str,
        /// Whether the panic happened while compiling or evaluating.
        phase: Phase,
        /// The panic payload, when it was a string.
        message: String,
    },
    /// The input or a binding could not be handed to the engine, or the result could not be
    /// represented as JSON.
    #[error("cannot convert a value for the {engine} JSONata engine: {message}")]
    Conversion {
        /// The engine name.
        engine: &'static str,
        /// What went wrong.
        message: String,
    },
}

impl ExpressionError {
    /// The JSONata error code carried by this error (`"S0202"`, `"T1006"`, `"D1012"`, …).
    ///
    /// `None` for panics, conversion failures and engine errors without a code.
    ///
    /// ```
    /// use patchbay_template::expression::Expression;
    /// let err = Expression::compile("$sum(").unwrap_err();
    /// assert!(err.code().is_some_and(|code| code.starts_with('S')));
    /// ```
    pub fn code(&self) -> Option<&str> {
        match self {
            ExpressionError::Compile { code, .. } | ExpressionError::Evaluate { code, .. } => {
                code.as_deref()
            }
            ExpressionError::Timeout { code, .. }
            | ExpressionError::DepthExceeded { code, .. }
            | ExpressionError::SizeExceeded { code, .. }
            | ExpressionError::MemoryExceeded { code, .. } => Some(code),
            ExpressionError::Busy { .. }
            | ExpressionError::Panicked { .. }
            | ExpressionError::Conversion { .. } => None,
        }
    }

    /// Whether this error is a resource limit (time, depth, size or concurrency) rather than
    /// a fault of the expression's logic.
    pub fn is_limit(&self) -> bool {
        matches!(
            self,
            ExpressionError::Timeout { .. }
                | ExpressionError::DepthExceeded { .. }
                | ExpressionError::SizeExceeded { .. }
                | ExpressionError::MemoryExceeded { .. }
                | ExpressionError::Busy { .. }
        )
    }
}

/// The first JSONata error code in `message`: an ASCII uppercase letter followed by four
/// digits, standing alone as a word (e.g. `"Invalid syntax: T1006: …"` → `"T1006"`).
#[cfg(feature = "jsonata-core")]
pub(crate) fn find_code(message: &str) -> Option<&str> {
    let bytes = message.as_bytes();
    (0..bytes.len().saturating_sub(4)).find_map(|start| {
        let end = start + 5;
        let word_start = start == 0 || !bytes[start - 1].is_ascii_alphanumeric();
        let word_end = bytes.get(end).is_none_or(|b| !b.is_ascii_alphanumeric());
        let shaped = bytes[start].is_ascii_uppercase()
            && bytes[start + 1..end].iter().all(u8::is_ascii_digit);
        (word_start && word_end && shaped).then(|| &message[start..end])
    })
}

/// The text of a caught panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "jsonata-core")]
    #[test]
    fn finds_the_first_standalone_code() {
        assert_eq!(find_code("T2002: left side"), Some("T2002"));
        assert_eq!(
            find_code("Invalid syntax: T1006: not a function"),
            Some("T1006")
        );
        assert_eq!(find_code("S0101"), Some("S0101"));
        assert_eq!(find_code("ends with D3030"), Some("D3030"));
    }

    #[cfg(feature = "jsonata-core")]
    #[test]
    fn ignores_codes_inside_words_and_non_codes() {
        assert_eq!(find_code("XT2002 and AB12345"), None);
        assert_eq!(find_code("t2002 lowercase"), None);
        assert_eq!(find_code("T200"), None);
        assert_eq!(find_code(""), None);
        assert_eq!(find_code("offset 12345 then S0201."), Some("S0201"));
    }

    #[test]
    fn code_accessor_covers_every_variant() {
        let limit = ExpressionError::Timeout {
            code: "D1012".into(),
            limit: Duration::from_millis(5),
        };
        assert_eq!(limit.code(), Some("D1012"));
        assert!(limit.is_limit());
        let panicked = ExpressionError::Panicked {
            engine: "jsonata-rs",
            phase: Phase::Compile,
            message: "boom".into(),
        };
        assert_eq!(panicked.code(), None);
        assert!(!panicked.is_limit());
        assert!(panicked.to_string().contains("compiling"));
    }
}
