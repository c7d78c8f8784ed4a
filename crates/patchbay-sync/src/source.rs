//! [`PageSource`]: where a run's pages and its account come from. The facade `patchbay`
//! implements it for `Patchbay` (and re-exports this crate as `patchbay::sync`); this
//! crate depends only on the layers below the facade.

use std::time::Duration;

use async_trait::async_trait;
use patchbay_config::IntegratedAccount;
use serde_json::{Map, Value};

/// A boxed error a [`SourceError`] carries: its message is what events and failed runs
/// report, so it must not contain secrets.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// One page request of a sync entry, rendered from the run's scope.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct PageRequest {
    /// The record id (`get`, or a list under a parent), when the entry has one.
    pub id: Option<String>,
    /// The query, as the job rendered it. For a unified page it may hold Truto's unified
    /// query parameters (`truto_response_format`, a `limit` of the job's own).
    pub query: Map<String, Value>,
    /// The body, when the entry has one.
    pub body: Option<Value>,
    /// The cursor to continue from (a previous page's [`FetchedPage::next_cursor`]);
    /// `None` for the first page.
    pub cursor: Option<String>,
    /// The page size the runner asks for (`None`: the provider's default). For a unified
    /// page, a `limit` in `query` wins.
    pub limit: Option<u64>,
}

/// A page a [`PageSource`] fetched.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FetchedPage {
    /// The page's records, in order (a single-record answer is one record).
    pub records: Vec<Value>,
    /// The cursor of the next page; `None` when this page is the last.
    pub next_cursor: Option<String>,
}

/// Why a [`PageSource`] call failed, classified by what the run does about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The provider rate limited the account beyond what the source waits out itself (or
    /// the account is paused): the run pauses for `retry_after` (the runner's
    /// `default_rate_limit_wait` when `None`), then asks for the same page again.
    #[error("{error}")]
    RateLimited {
        /// How long the provider asked to wait, when it said.
        retry_after: Option<Duration>,
        /// The rate-limited answer.
        error: BoxError,
    },
    /// Credentials could not be obtained or were refused: the run fails.
    #[error(transparent)]
    Auth(BoxError),
    /// The integration, account, resource or method does not exist: the run fails. (A
    /// provider's 404 for one record is a [`Request`](Self::Request) error.)
    #[error(transparent)]
    NotFound(BoxError),
    /// The integration config or unified mapping cannot run as written: the run fails.
    #[error(transparent)]
    Config(BoxError),
    /// This request failed (the provider's error answer, an input it cannot send, no
    /// complete answer): with `error_handling: ignore` the run sends `record_error` and
    /// skips the request, with `fail_fast` it fails.
    #[error(transparent)]
    Request(BoxError),
    /// Anything else (the source's storage failed, ...): the run fails.
    #[error(transparent)]
    Other(BoxError),
}

/// Where a [`Runner`](crate::Runner) gets an account and its pages: the facade's
/// `Patchbay` (`patchbay::sync`), or any host-made source (a fake in tests).
///
/// The contract:
/// * Each call is one page: the source applies its own retry and pacing, and returns
///   [`SourceError::RateLimited`] only for a wait it will not do itself.
/// * Calls may be dropped before they finish (the run was cancelled); a source needs
///   no cancellation of its own.
/// * Error messages end up in `record_error` events and a failed run's `error`: they
///   name what failed, never a credential.
#[async_trait]
pub trait PageSource: Send + Sync {
    /// The integrated account `account_id`, `None` when there is none. Its `context`,
    /// `id` and `tenant_id` are the top of a run's scope.
    ///
    /// # Errors
    ///
    /// The account could not be read (a [`SourceError::Other`] for a failing store).
    async fn account(&self, account_id: &str) -> Result<Option<IntegratedAccount>, SourceError>;

    /// One page of the account's integration resource `resource`, method `method` (a
    /// proxy call, as Truto's `/proxy/{resource}`): `list` pages follow the
    /// integration's pagination from `request.cursor`; other methods answer one page.
    ///
    /// # Errors
    ///
    /// A [`SourceError`] classifying the failure.
    async fn proxy_page(
        &self,
        account_id: &str,
        resource: &str,
        method: &str,
        request: PageRequest,
    ) -> Result<FetchedPage, SourceError>;

    /// One page of the unified resource `model/resource`, method `method`, for the
    /// account (Truto's `/unified/{model}/{resource}`): `request.cursor` is the unified
    /// `next_cursor` to continue from, `request.limit` the `limit` unless `query` has
    /// one. A keyed (object) result is its values, a single record is one record.
    ///
    /// # Errors
    ///
    /// A [`SourceError`] classifying the failure.
    async fn unified_page(
        &self,
        account_id: &str,
        model: &str,
        resource: &str,
        method: &str,
        request: PageRequest,
    ) -> Result<FetchedPage, SourceError>;
}
