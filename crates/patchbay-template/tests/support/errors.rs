//! Checking that an expression fails the same way on a backend.

use patchbay_template::expression::{ExpressionEngine, ExpressionError};
use serde_json::Value;

/// Asserts that `result`, of evaluating `source` on `engine`, is an evaluation error with
/// `code` and a message containing `text`.
pub fn assert_evaluation_error(
    engine: &dyn ExpressionEngine,
    source: &str,
    result: Result<Option<Value>, ExpressionError>,
    code: Option<&str>,
    text: &str,
) {
    match result {
        Err(error @ ExpressionError::Evaluate { .. }) => {
            assert_eq!(error.code(), code, "{}: {source}: {error}", engine.name());
            assert!(
                error.to_string().contains(text),
                "{}: {source}: {error}",
                engine.name()
            );
        }
        other => panic!(
            "{}: {source}: expected an error, got {other:?}",
            engine.name()
        ),
    }
}
