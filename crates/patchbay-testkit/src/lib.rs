//! The harness of Patchbay's test binaries whose tests need something beyond
//! the Rust toolchain: a PostgreSQL server, Chromium and ChromeDriver, node and
//! npm, or the `../shared` directory beside the checkout.
//!
//! Such a binary sets `harness = false` in its crate's `Cargo.toml` and runs
//! its tests through [`run`] ([libtest-mimic] underneath, so `cargo test`
//! prints and filters them as usual). A test marked with [`Test::needs`]
//! checks its [`Requirement`] when it starts (once per binary, whatever the
//! number of tests that need it):
//!
//! * available: the test runs;
//! * missing, outside CI: the test is reported `ignored (needs ...)`, with the
//!   reason, never `ok`; the full reason is also printed once on stderr;
//! * missing with `CI=true`: the test fails with the reason. CI never skips.
//!
//! See `docs/testing.md`.
//!
//! [libtest-mimic]: https://docs.rs/libtest-mimic

use std::io::Write;
use std::process::ExitCode;
use std::sync::OnceLock;

use libtest_mimic::{Arguments, Completion, Failed, Trial};

/// Whether this run is CI's (`CI=true`), where a missing dependency is a
/// failure instead of a reason to skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Something tests need that may be missing on a developer's machine, checked
/// once per test binary.
pub struct Requirement {
    what: &'static str,
    check: fn() -> Result<(), String>,
    status: OnceLock<Result<(), String>>,
}

impl Requirement {
    /// `what` names the dependency in reports (`"PostgreSQL"`); `check`
    /// answers why it is unusable (where it was looked for, what failed, how
    /// to get it), or `Ok` when tests can use it.
    pub const fn new(what: &'static str, check: fn() -> Result<(), String>) -> Self {
        Self {
            what,
            check,
            status: OnceLock::new(),
        }
    }

    /// The dependency's name, as given to [`Requirement::new`].
    pub fn what(&self) -> &'static str {
        self.what
    }

    /// The check's answer; the first call runs it (and, when the dependency
    /// is missing, prints the reason once on stderr).
    pub fn status(&self) -> Result<(), &str> {
        self.status
            .get_or_init(|| {
                let status = (self.check)();
                if let Err(reason) = &status {
                    let line = if in_ci() {
                        format!(
                            "FAILING the tests that need {}: {reason} (CI=true: a missing dependency is a failure)\n",
                            self.what
                        )
                    } else {
                        format!(
                            "IGNORING the tests that need {}: {reason}; set CI=true to make this a failure\n",
                            self.what
                        )
                    };
                    // One write, so that the harness's lines on stdout do not split it.
                    let _ = std::io::stderr().write_all(line.as_bytes());
                }
                status
            })
            .as_ref()
            .map(|_| ())
            .map_err(String::as_str)
    }
}

/// One test, not yet handed to the harness.
pub struct Test {
    name: String,
    needs: Vec<&'static Requirement>,
    body: Box<dyn FnOnce() + Send>,
}

/// A test running `body`; it passes unless `body` panics.
pub fn test(name: impl Into<String>, body: impl FnOnce() + Send + 'static) -> Test {
    Test {
        name: name.into(),
        needs: Vec::new(),
        body: Box::new(body),
    }
}

/// The tokio runtime of an async test, as `#[tokio::test]`'s `flavor` says.
#[cfg(feature = "tokio")]
#[derive(Clone, Copy, Debug)]
pub enum Runtime {
    /// `#[tokio::test]`.
    CurrentThread,
    /// `#[tokio::test(flavor = "multi_thread", worker_threads = N)]`.
    MultiThread(usize),
}

/// An async test on a fresh tokio runtime of its own (all drivers enabled),
/// as `#[tokio::test]` would run it.
#[cfg(feature = "tokio")]
pub fn tokio_test<F, Fut>(name: impl Into<String>, runtime: Runtime, body: F) -> Test
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    test(name, move || {
        let mut builder = match runtime {
            Runtime::CurrentThread => tokio::runtime::Builder::new_current_thread(),
            Runtime::MultiThread(workers) => {
                let mut builder = tokio::runtime::Builder::new_multi_thread();
                builder.worker_threads(workers);
                builder
            }
        };
        let runtime = builder.enable_all().build().expect("a tokio runtime");
        runtime.block_on(body());
    })
}

impl Test {
    /// The test needs `requirement`: without it, the test is ignored (or,
    /// with `CI=true`, fails).
    pub fn needs(mut self, requirement: &'static Requirement) -> Self {
        self.needs.push(requirement);
        self
    }

    /// The test's name as `cargo test` prints and filters it.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn into_trial(self) -> Trial {
        let Test { name, needs, body } = self;
        Trial::ignorable_test(name, move || {
            for requirement in needs {
                if let Err(reason) = requirement.status() {
                    if in_ci() {
                        return Err(Failed::from(format!(
                            "needs {}: {reason} (CI=true: a missing dependency is a failure)",
                            requirement.what
                        )));
                    }
                    return Ok(Completion::ignored_with(format!(
                        "needs {}",
                        requirement.what
                    )));
                }
            }
            body();
            Ok(Completion::Completed)
        })
    }
}

/// Runs `tests` as `cargo test` asked (filters, `--list`, `--test-threads`,
/// ...) and answers the exit code for `main`. A test that panics fails;
/// panics are reported by the panic hook, and tests' output is not captured.
pub fn run(tests: Vec<Test>) -> ExitCode {
    let args = Arguments::from_args();
    let mut names = std::collections::HashSet::new();
    for test in &tests {
        assert!(
            names.insert(test.name.clone()),
            "two tests named {}",
            test.name
        );
    }
    libtest_mimic::run(&args, tests.into_iter().map(Test::into_trial).collect()).exit_code()
}
