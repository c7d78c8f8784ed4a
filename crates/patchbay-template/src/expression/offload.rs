//! Where an evaluation runs: inline for the common, microsecond case; off the async
//! runtime's worker threads, and under a process-wide cap, once it turns out to be slow.
//!
//! Every evaluation first runs inline with a short time budget ([`INLINE_BUDGET`]). Almost
//! every expression a config holds finishes well within it, at no extra cost. One that hits
//! the budget is evaluated again from the start with its full [`Limits::timeout`], this time
//!
//! * holding one of a fixed number of [`Slots`] (one per CPU), so hostile expressions cannot
//!   occupy more threads, or hold more memory, than that at once. A caller that waits longer
//!   than its own timeout for a slot gets [`ExpressionError::Busy`];
//! * inside `tokio::task::block_in_place` when it runs on a worker thread of a multi-thread
//!   tokio runtime, so the worker's other tasks (every other request) move to another
//!   thread meanwhile. On a current-thread runtime, or outside tokio, it runs inline.
//!
//! Running the expression again is sound because JSONata evaluation has no side effects:
//! the only impure built-ins (`$now`, `$millis`, `$random`, `$uuid`) just give fresh values.
//!
//! [`Limits::timeout`]: super::Limits::timeout

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::{Condvar, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use super::error::ExpressionError;

/// The time an evaluation may run inline on the caller's thread before it is moved off the
/// async runtime and run again under a slot.
pub(crate) const INLINE_BUDGET: Duration = Duration::from_millis(2);

/// One try at an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Attempt {
    /// The wall-clock limit the engine must apply to this try.
    pub(crate) timeout: Duration,
    /// Whether this is the slow path (after the inline try timed out): the backend should
    /// also watch its memory (see `memory`).
    pub(crate) slow: bool,
}

/// Evaluates with `evaluate(attempt)`: first inline with [`INLINE_BUDGET`], then, if that
/// attempt timed out, under a slot and off the runtime with `timeout`.
///
/// # Errors
/// Whatever `evaluate` returns, and [`ExpressionError::Busy`] when no slot frees up within
/// `timeout`.
pub(crate) fn run<R>(
    timeout: Duration,
    mut evaluate: impl FnMut(Attempt) -> Result<R, ExpressionError>,
) -> Result<R, ExpressionError> {
    let slow = Attempt {
        timeout,
        slow: true,
    };
    if Slots::held_here() {
        return evaluate(slow);
    }
    if timeout <= INLINE_BUDGET {
        return evaluate(Attempt {
            timeout,
            slow: false,
        });
    }
    let inline = Attempt {
        timeout: INLINE_BUDGET,
        slow: false,
    };
    match evaluate(inline) {
        Err(ExpressionError::Timeout { .. }) => {}
        finished => return finished,
    }
    off_runtime(|| {
        let _slot = Slots::global().acquire(timeout)?;
        evaluate(slow)
    })
}

/// Runs `work` so that it does not hold up a tokio worker thread's other tasks.
///
/// `block_in_place` panics, before it runs anything, where the thread cannot be given away:
/// on a current-thread runtime (checked first) and inside a `LocalSet` (which tokio offers
/// no way to detect). There `work` runs inline, as it would outside tokio.
fn off_runtime<R>(work: impl FnOnce() -> R) -> R {
    use tokio::runtime::{Handle, RuntimeFlavor};
    let multi_thread = Handle::try_current()
        .is_ok_and(|handle| handle.runtime_flavor() == RuntimeFlavor::MultiThread);
    if !multi_thread {
        return work();
    }
    let mut work = Some(work);
    let moved = catch_unwind(AssertUnwindSafe(|| {
        tokio::task::block_in_place(|| work.take().map(|work| work()))
    }));
    match (moved, work) {
        (Ok(Some(result)), _) => result,
        // Refused before `work` ran: run it here.
        (Err(_), Some(work)) => work(),
        (Ok(None), _) => unreachable!("block_in_place ran its closure, which takes `work`"),
        (Err(panic), None) => resume_unwind(panic),
    }
}

thread_local! {
    /// Whether this thread holds a slot (a nested evaluation must not wait for another).
    static HOLDING: Cell<bool> = const { Cell::new(false) };
}

/// A counting semaphore over the evaluations that outgrew [`INLINE_BUDGET`].
#[derive(Debug)]
pub(crate) struct Slots {
    capacity: usize,
    used: Mutex<usize>,
    freed: Condvar,
}

impl Slots {
    /// A semaphore of `capacity` slots (at least one).
    pub(crate) fn new(capacity: usize) -> Self {
        Slots {
            capacity: capacity.max(1),
            used: Mutex::new(0),
            freed: Condvar::new(),
        }
    }

    /// The process-wide slots: one per CPU the process may use.
    pub(crate) fn global() -> &'static Slots {
        static SLOTS: OnceLock<Slots> = OnceLock::new();
        SLOTS.get_or_init(|| {
            Slots::new(std::thread::available_parallelism().map_or(2, std::num::NonZero::get))
        })
    }

    /// Whether the current thread holds a slot already.
    fn held_here() -> bool {
        HOLDING.with(Cell::get)
    }

    /// Takes a slot, waiting at most `wait` for one to free up.
    ///
    /// # Errors
    /// [`ExpressionError::Busy`] when every slot stayed taken for `wait`.
    pub(crate) fn acquire(&self, wait: Duration) -> Result<SlotGuard<'_>, ExpressionError> {
        let started = Instant::now();
        let used = self.used.lock().unwrap_or_else(PoisonError::into_inner);
        let (mut used, timed_out) = self
            .freed
            .wait_timeout_while(used, wait, |used| *used >= self.capacity)
            .unwrap_or_else(PoisonError::into_inner);
        if timed_out.timed_out() && *used >= self.capacity {
            return Err(ExpressionError::Busy {
                slots: self.capacity,
                waited: started.elapsed(),
            });
        }
        *used += 1;
        HOLDING.with(|holding| holding.set(true));
        Ok(SlotGuard { slots: self })
    }
}

/// A taken slot, given back on drop.
#[derive(Debug)]
pub(crate) struct SlotGuard<'a> {
    slots: &'a Slots,
}

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        HOLDING.with(|holding| holding.set(false));
        let mut used = self
            .slots
            .used
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *used -= 1;
        drop(used);
        self.slots.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn timeout() -> ExpressionError {
        ExpressionError::Timeout {
            code: "D1012".to_owned(),
            limit: INLINE_BUDGET,
        }
    }

    #[test]
    fn a_fast_evaluation_runs_once_inline() {
        let calls = AtomicUsize::new(0);
        let result = run(Duration::from_secs(1), |attempt| {
            calls.fetch_add(1, Ordering::SeqCst);
            assert_eq!(attempt.timeout, INLINE_BUDGET);
            assert!(!attempt.slow);
            Ok(7)
        });
        assert_eq!(result.expect("finishes"), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_slow_evaluation_runs_again_with_the_full_timeout() {
        let budgets = Mutex::new(Vec::new());
        let result = run(Duration::from_millis(500), |attempt| {
            budgets
                .lock()
                .unwrap()
                .push((attempt.timeout, attempt.slow));
            if !attempt.slow {
                Err(timeout())
            } else {
                assert!(Slots::held_here(), "the second attempt holds a slot");
                Ok("done")
            }
        });
        assert_eq!(result.expect("second attempt finishes"), "done");
        assert_eq!(
            *budgets.lock().unwrap(),
            [(INLINE_BUDGET, false), (Duration::from_millis(500), true)]
        );
        assert!(!Slots::held_here(), "the slot is given back");
    }

    #[test]
    fn other_errors_are_not_retried() {
        let calls = AtomicUsize::new(0);
        let result: Result<(), _> = run(Duration::from_secs(1), |_| {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(ExpressionError::Evaluate {
                code: Some("T2002".into()),
                message: "bad".into(),
            })
        });
        assert!(matches!(result, Err(ExpressionError::Evaluate { .. })));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_full_semaphore_answers_busy_after_the_wait() {
        let slots = Slots::new(1);
        std::thread::scope(|scope| {
            let held = slots.acquire(Duration::ZERO).expect("a free slot");
            scope
                .spawn(|| {
                    let started = Instant::now();
                    let error = slots
                        .acquire(Duration::from_millis(50))
                        .expect_err("no slot frees up");
                    assert!(started.elapsed() >= Duration::from_millis(50));
                    assert!(
                        matches!(error, ExpressionError::Busy { slots: 1, .. }),
                        "{error:?}"
                    );
                    assert!(error.is_limit());
                })
                .join()
                .unwrap();
            drop(held);
        });
        assert!(slots.acquire(Duration::ZERO).is_ok(), "the slot was freed");
    }

    #[test]
    fn slots_bound_how_many_evaluations_run_at_once() {
        let slots = Arc::new(Slots::new(2));
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let workers: Vec<_> = (0..6)
            .map(|_| {
                let (slots, running, peak) = (slots.clone(), running.clone(), peak.clone());
                std::thread::spawn(move || {
                    let _slot = slots.acquire(Duration::from_secs(10)).expect("a slot");
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for worker in workers {
            worker.join().unwrap();
        }
        assert_eq!(peak.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_slow_evaluation_frees_the_tokio_worker() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        runtime.block_on(async {
            let slow = tokio::spawn(async {
                run(Duration::from_millis(400), |attempt| {
                    std::thread::sleep(attempt.timeout);
                    if !attempt.slow {
                        Err(timeout())
                    } else {
                        Ok(())
                    }
                })
            });
            // Let the slow task start on the only worker (a blocking sleep: the worker also
            // drives the runtime's timers), then time a second task.
            std::thread::sleep(Duration::from_millis(20));
            let started = Instant::now();
            tokio::spawn(async {}).await.unwrap();
            let waited = started.elapsed();
            assert!(
                waited < Duration::from_millis(200),
                "the other task waited {waited:?} for the worker"
            );
            slow.await.unwrap().expect("the slow evaluation finishes");
        });
    }
}
