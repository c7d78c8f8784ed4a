//! Panic and stack guard-rails shared by the backends.

use std::panic::{AssertUnwindSafe, catch_unwind};

use super::error::{ExpressionError, Phase, panic_message};

/// Runs `work` so that a panic becomes [`ExpressionError::Panicked`] and deep recursion
/// cannot overflow the caller's stack.
///
/// When fewer than `stack_bytes` remain on the current thread's stack, `work` runs on a fresh
/// heap-allocated stack segment of `stack_bytes` (via `stacker`), so the guarantee holds on
/// small threads too (tokio workers have 2 MiB). The engine's own depth limit must be low
/// enough that its recursion fits in `stack_bytes`; the backends size it from
/// [`Limits::max_depth`](super::Limits::max_depth).
pub(crate) fn guarded<R>(
    engine: &'static str,
    phase: Phase,
    stack_bytes: usize,
    work: impl FnOnce() -> Result<R, ExpressionError>,
) -> Result<R, ExpressionError> {
    stacker::maybe_grow(stack_bytes, stack_bytes, || {
        catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|payload| {
            Err(ExpressionError::Panicked {
                engine,
                phase,
                message: panic_message(payload.as_ref()),
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panics_become_errors() {
        let result: Result<(), _> =
            guarded("test", Phase::Evaluate, 64 * 1024, || panic!("engine bug"));
        match result {
            Err(ExpressionError::Panicked { message, phase, .. }) => {
                assert_eq!(message, "engine bug");
                assert_eq!(phase, Phase::Evaluate);
            }
            other => panic!("expected Panicked, got {other:?}"),
        }
    }

    #[test]
    fn grants_the_requested_stack() {
        let needed = 16 << 20;
        let remaining = guarded("test", Phase::Evaluate, needed, || {
            Ok(stacker::remaining_stack())
        })
        .expect("no panic");
        if let Some(remaining) = remaining {
            assert!(remaining >= needed / 2, "only {remaining} bytes of stack");
        }
    }
}
