//! A memory limit for slow evaluations.
//!
//! The engine cannot count its own allocations, and a library cannot install a global
//! allocator. So a watchdog thread samples the process's resident set every
//! [`SAMPLE_EVERY`] while slow evaluations (those that outgrew the inline budget, see
//! `offload`) run, and cancels each one whose start the resident set has outgrown by more
//! than its limit. The engine notices the cancellation at its next evaluation step, as it
//! does the timeout. Fast evaluations are never watched: they cannot allocate much within
//! the inline budget, and registering them would cost more than they do.
//!
//! The resident set is the whole process's, so growth caused by other work while a slow
//! evaluation runs counts against it too; the default limit is set well above what any one
//! legitimate request needs. Only Linux reports the resident set (`/proc/self/status`);
//! elsewhere evaluations are not watched.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
use std::time::Duration;

/// How often the watchdog samples the resident set while something is watched.
const SAMPLE_EVERY: Duration = Duration::from_millis(5);

/// A registered evaluation; unregistered on drop.
pub(crate) struct Watch {
    entry: Arc<Entry>,
}

struct Entry {
    baseline: u64,
    limit: u64,
    tripped: AtomicBool,
    cancel: Box<dyn Fn() + Send + Sync>,
}

impl Watch {
    /// Watches an evaluation that `cancel` stops, allowing the resident set to grow by
    /// `limit` bytes from now. `None` when the resident set cannot be read on this platform.
    /// Also `None` if the watchdog thread could not be started.
    pub(crate) fn start(limit: usize, cancel: impl Fn() + Send + Sync + 'static) -> Option<Watch> {
        let baseline = resident_bytes()?;
        if !Registry::patrolled() {
            return None;
        }
        let entry = Arc::new(Entry {
            baseline,
            limit: u64::try_from(limit).unwrap_or(u64::MAX),
            tripped: AtomicBool::new(false),
            cancel: Box::new(cancel),
        });
        let registry = Registry::global();
        registry
            .entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(entry.clone());
        registry.changed.notify_one();
        Some(Watch { entry })
    }

    /// Whether the watchdog cancelled this evaluation for its memory.
    pub(crate) fn tripped(&self) -> bool {
        self.entry.tripped.load(Ordering::SeqCst)
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        Registry::global()
            .entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|entry| !Arc::ptr_eq(entry, &self.entry));
    }
}

/// The evaluations being watched, and the watchdog thread that serves them.
struct Registry {
    entries: Mutex<Vec<Arc<Entry>>>,
    changed: Condvar,
}

impl Registry {
    fn global() -> &'static Registry {
        static REGISTRY: OnceLock<Registry> = OnceLock::new();
        REGISTRY.get_or_init(|| Registry {
            entries: Mutex::new(Vec::new()),
            changed: Condvar::new(),
        })
    }

    /// Whether the watchdog thread runs; starts it on first use.
    fn patrolled() -> bool {
        static PATROL: OnceLock<bool> = OnceLock::new();
        *PATROL.get_or_init(|| {
            std::thread::Builder::new()
                .name("jsonata-memory-watchdog".into())
                .spawn(|| Registry::global().patrol())
                .is_ok()
        })
    }

    /// The watchdog loop: sleeps while nothing is watched, samples otherwise.
    fn patrol(&self) {
        loop {
            let watched: Vec<Arc<Entry>> = {
                let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
                let entries = self
                    .changed
                    .wait_while(entries, |entries| entries.is_empty())
                    .unwrap_or_else(PoisonError::into_inner);
                entries.clone()
            };
            if let Some(resident) = resident_bytes() {
                for entry in &watched {
                    if resident.saturating_sub(entry.baseline) > entry.limit
                        && !entry.tripped.swap(true, Ordering::SeqCst)
                    {
                        (entry.cancel)();
                    }
                }
            }
            drop(watched);
            std::thread::sleep(SAMPLE_EVERY);
        }
    }
}

/// The process's resident set in bytes (Linux), from `VmRSS` in `/proc/self/status`.
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn reads_the_resident_set() {
        let resident = resident_bytes().expect("Linux reports VmRSS");
        assert!(resident > 1 << 20, "{resident} bytes");
    }

    #[test]
    fn cancels_a_watched_evaluation_once_memory_grows_past_its_limit() {
        let cancelled = Arc::new(AtomicBool::new(false));
        let flag = cancelled.clone();
        let watch = Watch::start(16 << 20, move || flag.store(true, Ordering::SeqCst))
            .expect("Linux reports VmRSS");
        // Touch 64 MiB so it becomes resident.
        let ballast = vec![1_u8; 64 << 20];
        let started = Instant::now();
        while !cancelled.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(
            watch.tripped(),
            "not cancelled after {:?}",
            started.elapsed()
        );
        assert!(started.elapsed() < Duration::from_secs(1));
        drop(std::hint::black_box(ballast));
    }

    #[test]
    fn leaves_an_evaluation_within_its_limit_alone() {
        let watch = Watch::start(usize::MAX, || panic!("must not cancel")).expect("VmRSS");
        std::thread::sleep(SAMPLE_EVERY * 4);
        assert!(!watch.tripped());
    }
}
