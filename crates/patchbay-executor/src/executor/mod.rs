//! The executor: runs resource methods of compiled integrations for accounts.

mod account;
mod attempt;
mod builder;
mod list;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::HeaderMap;
use patchbay_auth::TokenManager;
use patchbay_ratelimit::{Pacer, RetryPolicy};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::ExecutorError;
use crate::in_flight::{DEFAULT_MAX_IN_FLIGHT_PER_ACCOUNT, InFlight};
use crate::input::CallInput;
use crate::observe::CallObserver;
use crate::plan::{CompiledIntegration, MethodPlan};
use crate::redirect::DestinationCheck;

pub use self::account::{AccountData, AccountRef};
#[allow(unused_imports)]
use self::attempt::*;
#[allow(unused_imports)]
use self::builder::*;
pub use self::builder::{ExecutorBuilder, default_http_client};
#[allow(unused_imports)]
use self::list::*;
pub use self::list::{ListOptions, Page, RecordStream};

/// Default timeout of one provider request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default time one call may take in all, retries included.
pub const DEFAULT_CALL_DEADLINE: Duration = Duration::from_secs(60);
/// Default limit of a response body.
pub const DEFAULT_MAX_BODY: usize = 32 * 1024 * 1024;

/// A provider response.
#[derive(Debug, Clone)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// The parsed body (a string for non-JSON formats, `null` when empty).
    pub body: Value,
}

struct Inner {
    client: reqwest::Client,
    tokens: TokenManager,
    retry: RetryPolicy,
    pacer: Pacer<String>,
    timeout: Duration,
    max_body: usize,
    max_pages: Option<u64>,
    destination_check: Option<DestinationCheck>,
    in_flight: InFlight,
    call_deadline: Duration,
    observer: Option<Arc<dyn CallObserver>>,
}

/// Runs resource methods of compiled [`CompiledIntegration`]s for accounts.
///
/// Each request is rendered from the account context, authorized (tokens are
/// refreshed before expiry and once after a 401, one refresh per account at a
/// time), paced, sent, classified (rate limits, `error_expression`) and retried
/// with jittered backoff where the retry policy allows. Cheap to clone.
///
/// An answer is unauthorized when its status is 401 or when the method's
/// `error_expression` returns an object with `status: 401` (providers such as
/// Slack report an expired token in a 200 body). Either way the account's
/// tokens are refreshed once and the request retried; an account that cannot
/// refresh, or a retry that is unauthorized again, is reported to the
/// [`AuthEvents`](patchbay_auth::AuthEvents) (the facade marks it `needs_reauth` and emits
/// `integrated_account:authentication_error`) and the call fails with
/// [`ExecutorError::Auth`].
#[derive(Clone)]
pub struct Executor {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executor")
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

impl Default for Executor {
    fn default() -> Self {
        Self::builder().build()
    }
}

impl Executor {
    /// A builder with defaults: a new HTTP client, no token store, the default
    /// retry policy, no pacing, 30 s timeout, 32 MiB bodies.
    pub fn builder() -> ExecutorBuilder {
        ExecutorBuilder {
            client: None,
            store: Arc::new(NoStore),
            events: Arc::new(NoEvents),
            retry: RetryPolicy::default(),
            pacing: None,
            pace_store: None,
            timeout: DEFAULT_TIMEOUT,
            max_body: DEFAULT_MAX_BODY,
            max_pages: None,
            destination_check: None,
            max_in_flight_per_account: DEFAULT_MAX_IN_FLIGHT_PER_ACCOUNT,
            call_deadline: DEFAULT_CALL_DEADLINE,
            observer: None,
            token_observer: None,
        }
    }

    /// The HTTP client provider and token requests go through (for OAuth
    /// flows and revocation run next to the executor).
    pub fn http_client(&self) -> &reqwest::Client {
        &self.inner.client
    }

    /// The check every outbound URL goes through, if the host set one (see
    /// [`ExecutorBuilder::destination_check`]); hosts that make their own
    /// token requests (an OAuth callback) pass it to
    /// [`OAuth2Flow::with_destination_check`](patchbay_auth::OAuth2Flow::with_destination_check).
    pub fn destination_check(&self) -> Option<&DestinationCheck> {
        self.inner.destination_check.as_ref()
    }

    /// The token manager (for OAuth flows that share its refresh locks).
    pub fn tokens(&self) -> &TokenManager {
        &self.inner.tokens
    }

    /// Calls a method once (no pagination) and returns the provider's response.
    ///
    /// # Errors
    ///
    /// See [`ExecutorError`]: provider errors keep status, headers and body.
    pub async fn call(
        &self,
        integration: &CompiledIntegration,
        account: AccountRef<'_>,
        resource: &str,
        method: &str,
        input: &CallInput,
    ) -> Result<Response, ExecutorError> {
        let plan = integration.plan(resource, method)?;
        self.call_plan(integration, &plan, account, input).await
    }

    /// Runs an already planned method (ad-hoc action requests).
    ///
    /// # Errors
    ///
    /// As [`call`](Self::call).
    pub async fn call_plan(
        &self,
        integration: &CompiledIntegration,
        plan: &MethodPlan,
        account: AccountRef<'_>,
        input: &CallInput,
    ) -> Result<Response, ExecutorError> {
        self.execute(
            integration,
            plan,
            account,
            input,
            None,
            &CancellationToken::new(),
        )
        .await
    }

    /// Fetches one page of a list method.
    ///
    /// # Errors
    ///
    /// As [`call`](Self::call), plus [`ExecutorError::Pagination`].
    pub async fn list_page(
        &self,
        integration: &CompiledIntegration,
        account: AccountRef<'_>,
        resource: &str,
        method: &str,
        input: &CallInput,
        options: ListOptions,
    ) -> Result<Page, ExecutorError> {
        let plan = integration.plan(resource, method)?;
        let cancel = options.cancel.clone().unwrap_or_default();
        let mut walk = PageWalk::start(&plan, account, input, &options, self.inner.max_pages)?;
        let page = walk
            .fetch(self, integration, &plan, account, input, &cancel)
            .await?;
        Ok(page.unwrap_or(Page {
            records: Vec::new(),
            next_cursor: None,
            prev_cursor: None,
        }))
    }

    /// Streams every record of a list method, one page in memory at a time.
    ///
    /// [`RecordStream::next_cursor`] is the cursor to resume after the records
    /// yielded so far (it advances when a page's last record is yielded). A
    /// repeated cursor or an empty page that points onward ends the stream
    /// with an error instead of looping.
    pub fn list(
        &self,
        integration: &CompiledIntegration,
        account: &AccountData,
        resource: &str,
        method: &str,
        input: &CallInput,
        options: ListOptions,
    ) -> RecordStream {
        let cursor = Arc::new(Mutex::new(options.cursor.clone()));
        let plan = match integration.plan(resource, method) {
            Ok(plan) => plan,
            Err(e) => return RecordStream::failed(e, cursor),
        };
        let state = ListState {
            executor: self.clone(),
            integration: integration.clone(),
            account: account.clone(),
            input: input.clone(),
            cancel: options.cancel.clone().unwrap_or_default(),
            walk: None,
            options,
            buffer: VecDeque::new(),
            pending_cursor: None,
            cursor: cursor.clone(),
            finished: false,
        };
        let stream = futures_util::stream::unfold((state, plan), |(mut state, plan)| async move {
            let item = state.next_record(&plan).await?;
            Some((item, (state, plan)))
        });
        RecordStream {
            inner: Box::pin(stream),
            cursor,
        }
    }
}
