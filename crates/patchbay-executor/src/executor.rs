//! The executor: the attempt loop of one request and the paginated record stream.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use futures_util::Stream;
use http::HeaderMap;
use patchbay_auth::{
    AccountAuth, AuthError, AuthEvents, CredentialStore, RequestView, StoreError, TokenManager,
    TokenSet,
};
use patchbay_config::{AuthenticationMethod, Credential};
use patchbay_pagination::{PageRequest, PageResponse, PageState, StartOptions, Step, take_records};
use patchbay_ratelimit::{
    AcquireError, GiveUp, Outcome, PaceConfig, Pacer, ProviderError, ResponseView, RetryDecision,
    RetryPolicy, RetryState, sleep_cancellable,
};
use patchbay_template::Template;
use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use crate::ExecutorError;
use crate::body::EncodedBody;
use crate::data::{CallInput, request_data};
use crate::in_flight::{DEFAULT_MAX_IN_FLIGHT_PER_ACCOUNT, InFlight};
use crate::method::PreparedRequest;
use crate::plan::{Integration, MethodPlan};
use crate::query::flatten_query;
use crate::redirect::{DestinationCheck, RedirectOptions};
use crate::response::parse_body;
use crate::transport::{TransportError, send_following};
use crate::verdict::{self, AuthState, Verdict};

/// Default timeout of one provider request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default time one call may take in all, retries included.
pub const DEFAULT_CALL_DEADLINE: Duration = Duration::from_secs(60);
/// Default limit of a response body.
pub const DEFAULT_MAX_BODY: usize = 32 * 1024 * 1024;

/// The account a call runs as.
#[derive(Clone, Copy)]
pub struct Account<'a> {
    /// The integrated account id: the unit of token refresh and pacing.
    pub id: &'a str,
    /// How it authenticates (picks the credential of the config).
    pub authentication_method: AuthenticationMethod,
    /// Its context (credentials and variables), plus any host variables the
    /// config reads (e.g. an OAuth app's `client_id`).
    pub context: &'a Map<String, Value>,
}

impl std::fmt::Debug for Account<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("id", &self.id)
            .field("authentication_method", &self.authentication_method)
            .field("context_keys", &self.context.keys().collect::<Vec<_>>())
            .finish()
    }
}

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

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The page's records (`response_path` applied).
    pub records: Vec<Value>,
    /// Pass back as [`ListOptions::cursor`] to get the next page; `None` on the last page.
    pub next_cursor: Option<String>,
    /// Pass back as [`ListOptions::cursor`] to get the previous page: set when
    /// the `cursor` pagination config has `prev_cursor_path` and the
    /// provider's answer holds a previous cursor there; `None` otherwise.
    pub prev_cursor: Option<String>,
}

/// Options of a list call.
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    /// Page size (capped at the config's `max_limit`).
    pub limit: Option<u64>,
    /// A `next_cursor` from an earlier call, to resume.
    pub cursor: Option<String>,
    /// Cancels waits and requests of the call.
    pub cancel: Option<CancellationToken>,
}

/// Saves nothing: tokens refreshed by an executor without a store live only in memory.
struct NoStore;

#[async_trait]
impl CredentialStore for NoStore {
    async fn save_tokens(&self, _: &str, _: &TokenSet) -> Result<(), StoreError> {
        Ok(())
    }
}

/// Reports nothing.
struct NoEvents;

#[async_trait]
impl AuthEvents for NoEvents {
    async fn authentication_failed(&self, _: &str, _: &AuthError) {}
}

/// Builds an [`Executor`].
#[must_use]
pub struct ExecutorBuilder {
    client: Option<reqwest::Client>,
    store: Arc<dyn CredentialStore>,
    events: Arc<dyn AuthEvents>,
    retry: RetryPolicy,
    pacing: Option<PaceConfig>,
    timeout: Duration,
    max_body: usize,
    max_pages: Option<u64>,
    destination_check: Option<DestinationCheck>,
    max_in_flight_per_account: usize,
    call_deadline: Duration,
}

/// A new HTTP client that follows no redirects: the executor follows them
/// itself (see [`ExecutorBuilder::http_client`]).
pub fn default_http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

impl ExecutorBuilder {
    /// The HTTP client (connection pool, proxies, TLS) to use. Default:
    /// [`default_http_client`].
    ///
    /// **Build it with `reqwest::redirect::Policy::none()`.** The executor
    /// follows redirects itself so that credentials never reach another
    /// origin (see [`redirect`](crate::redirect)). A client that follows
    /// redirects on its own would forward custom credential headers and
    /// bodies across origins before the executor could see the redirect: the
    /// executor detects that afterwards and fails the call with
    /// [`TransportError::ClientFollowedRedirect`], but the request has then
    /// already been sent. The same client makes token requests, which never
    /// follow redirects.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// A check of every URL before it is requested: the request's own, each
    /// redirect hop's and each token request's (a destination policy); an
    /// `Err` ends the call with [`TransportError::Refused`] carrying its
    /// message. Default: none.
    pub fn destination_check(mut self, check: DestinationCheck) -> Self {
        self.destination_check = Some(check);
        self
    }

    /// Where refreshed tokens are saved (before they are used).
    pub fn credential_store(mut self, store: Arc<dyn CredentialStore>) -> Self {
        self.store = store;
        self
    }

    /// Told when an account's credentials are refused for good.
    pub fn auth_events(mut self, events: Arc<dyn AuthEvents>) -> Self {
        self.events = events;
        self
    }

    /// Retry rules (attempts, backoff, bounds on waits).
    ///
    /// Its `max_single_wait` (default 60 s) is also the longest a provider's
    /// `Retry-After` (or rate-limit reset) may pause an account, and the
    /// longest a call waits for its account's pause or pacing slot: a longer
    /// requested wait fails the call at once with [`ExecutorError::RateLimited`]
    /// ([`GiveUp::WaitTooLong`](patchbay_ratelimit::GiveUp::WaitTooLong)) and
    /// pauses nothing.
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Client-side pacing per account. Default: none.
    pub fn pacing(mut self, pacing: PaceConfig) -> Self {
        self.pacing = Some(pacing);
        self
    }

    /// Timeout of one provider request. Default 30 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Largest response body accepted. Default 32 MiB.
    pub fn max_body_bytes(mut self, max: usize) -> Self {
        self.max_body = max;
        self
    }

    /// Bound on pages per list call (`None`: the paginator's default).
    pub fn max_pages(mut self, max: Option<u64>) -> Self {
        self.max_pages = max;
        self
    }

    /// The most time one request may take in all, attempts, retries and
    /// their waits included (default [`DEFAULT_CALL_DEADLINE`]). Each attempt
    /// gets at most what is left; when nothing is left the call fails with
    /// the last error (a provider that never answers costs one deadline, not
    /// `max_attempts` timeouts).
    pub fn call_deadline(mut self, deadline: Duration) -> Self {
        self.call_deadline = deadline;
        self
    }

    /// At most `max` requests of one account in flight at once (default
    /// [`DEFAULT_MAX_IN_FLIGHT_PER_ACCOUNT`]); a request holds its slot
    /// across retries. A request that finds no free slot within the
    /// request timeout fails with [`ExecutorError::TooManyInFlight`].
    pub fn max_in_flight_per_account(mut self, max: usize) -> Self {
        self.max_in_flight_per_account = max;
        self
    }

    /// Builds the executor.
    pub fn build(self) -> Executor {
        let client = self.client.unwrap_or_else(default_http_client);
        let tokens = TokenManager::new(self.store, self.events)
            .with_http_client(client.clone())
            .with_destination_check(self.destination_check.clone());
        let pacer = Pacer::new(self.pacing).with_max_wait(self.retry.max_single_wait);
        Executor {
            inner: Arc::new(Inner {
                client,
                tokens,
                retry: self.retry,
                pacer,
                timeout: self.timeout,
                max_body: self.max_body,
                max_pages: self.max_pages,
                in_flight: InFlight::new(self.max_in_flight_per_account),
                call_deadline: self.call_deadline,
                destination_check: self.destination_check,
            }),
        }
    }
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
}

/// Runs resource methods of compiled [`Integration`]s for accounts.
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
/// [`AuthEvents`] (the facade marks it `needs_reauth` and emits
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
            timeout: DEFAULT_TIMEOUT,
            max_body: DEFAULT_MAX_BODY,
            max_pages: None,
            destination_check: None,
            max_in_flight_per_account: DEFAULT_MAX_IN_FLIGHT_PER_ACCOUNT,
            call_deadline: DEFAULT_CALL_DEADLINE,
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
        integration: &Integration,
        account: Account<'_>,
        resource: &str,
        method: &str,
        input: &CallInput,
    ) -> Result<Response, ExecutorError> {
        let plan = integration.plan(resource, method)?;
        self.execute(
            integration,
            &plan,
            account,
            input,
            None,
            &CancellationToken::new(),
        )
        .await
    }

    /// Runs an already planned method (ad-hoc action requests).
    ///
    /// # Errors
    ///
    /// As [`call`](Self::call).
    pub async fn call_plan(
        &self,
        integration: &Integration,
        plan: &MethodPlan,
        account: Account<'_>,
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
        integration: &Integration,
        account: Account<'_>,
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
        integration: &Integration,
        account: &OwnedAccount,
        resource: &str,
        method: &str,
        input: CallInput,
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
            input,
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

    /// One request through the pipeline: **prepare → authorize → pace → send → classify →
    /// act**, repeated while the act step says to retry.
    ///
    /// * prepare: the method's request from the account context and the call's input (and
    ///   the page's parameters when paginating);
    /// * authorize: current tokens (refreshed when due) and the authorization headers;
    /// * pace: wait for the account's turn (rate limits, pauses after a 429);
    /// * send: one HTTP exchange (redirects followed hop by hop) within what is left of the
    ///   call's deadline;
    /// * classify: [`verdict::classify`], a pure function of the answer;
    /// * act: return, fail, refresh then retry, or ask the retry policy once and wait once
    ///   (cancellable).
    ///
    /// Every attempt runs in a `tracing` span `patchbay.attempt` with the attempt number,
    /// the HTTP method, the URL without its query, the status, the verdict and, when it
    /// retries, the reason and the wait.
    async fn execute(
        &self,
        integration: &Integration,
        plan: &MethodPlan,
        account: Account<'_>,
        input: &CallInput,
        page: Option<PageCall<'_>>,
        cancel: &CancellationToken,
    ) -> Result<Response, ExecutorError> {
        let inner = &self.inner;
        let credential = if plan.no_auth {
            None
        } else {
            integration
                .config()
                .credentials
                .as_ref()
                .and_then(|c| c.get(account.authentication_method.as_str()))
        };
        let _slot = inner
            .in_flight
            .acquire(account.id, inner.timeout)
            .await
            .map_err(|s| ExecutorError::TooManyInFlight {
                limit: s.limit,
                waited: s.waited,
            })?;
        let call = Call {
            plan,
            account,
            credential,
            input,
            page,
            cancel,
            deadline: tokio::time::Instant::now() + inner.call_deadline,
        };
        let mut state = CallState {
            retry: inner.retry.start(plan.method.http_method().is_idempotent()),
            attempts: 0,
            refreshed_after_401: false,
        };
        loop {
            state.attempts += 1;
            let span = tracing::debug_span!(
                "patchbay.attempt",
                attempt = state.attempts,
                method = plan.method.http_method().as_str(),
                url = tracing::field::Empty,
                status = tracing::field::Empty,
                verdict = tracing::field::Empty,
                retry_reason = tracing::field::Empty,
                wait_ms = tracing::field::Empty,
            );
            let next = self
                .attempt(&call, &mut state)
                .instrument(span.clone())
                .await;
            match next {
                Next::Return(result) => return result,
                Next::RetryAfter(wait) => {
                    span.record(
                        "wait_ms",
                        u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                    );
                    sleep_cancellable(wait, cancel)
                        .await
                        .map_err(|_| ExecutorError::Cancelled)?;
                }
                Next::RetryNow => {}
            }
        }
    }

    /// One attempt: prepare, authorize, pace, send, classify, and what to do next.
    async fn attempt(&self, call: &Call<'_>, state: &mut CallState<'_>) -> Next {
        match self.try_attempt(call, state).await {
            Ok(next) => next,
            Err(error) => Next::Return(Err(error)),
        }
    }

    async fn try_attempt(
        &self,
        call: &Call<'_>,
        state: &mut CallState<'_>,
    ) -> Result<Next, ExecutorError> {
        let inner = &self.inner;
        let plan = call.plan;
        let span = tracing::Span::current();
        // prepare + authorize
        let context = self
            .authenticated_context(call.account, call.credential)
            .await?;
        let data = request_data(&context, call.input);
        let mut prepared = plan.method.prepare(&data, call.input)?;
        if let Some(page) = &call.page {
            // `ignore_body_in_pagination`: the method's body goes with the first page
            // only; the paginator's own keys still apply.
            if page.follow_up && plan.ignore_body_in_pagination {
                prepared.body = EncodedBody::Empty;
            }
            apply_page(&mut prepared, page.request, &data, plan)?;
        }
        span.record("url", redacted_url(&prepared.url).as_str());
        let auth_headers = match (&plan.authorizer, plan.no_auth) {
            (Some(authorizer), false) => {
                let options = json!({"method": prepared.method.as_str()});
                authorizer.headers(
                    &context,
                    RequestView {
                        url: prepared.url.as_str(),
                        request_options: &options,
                    },
                )?
            }
            _ => Vec::new(),
        };
        // pace
        inner
            .pacer
            .acquire(&call.account.id.to_owned(), call.cancel)
            .await
            .map_err(|e| match e {
                AcquireError::TooLong { required, max } => {
                    ExecutorError::AccountPaused { required, max }
                }
                _ => ExecutorError::Cancelled,
            })?;
        // send: each attempt gets what is left of the call's deadline, at most the
        // request timeout.
        let left = call
            .deadline
            .saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            return Err(ExecutorError::Transport {
                error: TransportError::Timeout(inner.call_deadline),
                attempts: state.attempts.saturating_sub(1),
            });
        }
        let redirects = RedirectOptions {
            ignore_credentials: plan.ignore_credentials_on_redirect,
            check: inner.destination_check.clone(),
        };
        let sent = tokio::select! {
            result = send_following(&inner.client, &prepared, &auth_headers, inner.timeout.min(left), inner.max_body, &redirects) => result,
            () = call.cancel.cancelled() => return Err(ExecutorError::Cancelled),
        };
        let raw = match sent {
            Ok(raw) => raw,
            Err(error) => {
                span.record("verdict", "transport_error");
                let attempts = state.attempts;
                return Ok(match verdict::classify_transport(&error) {
                    Some(outcome) => Self::retry_or(state, outcome, |_| ExecutorError::Transport {
                        error,
                        attempts,
                    }),
                    None => Next::Return(Err(ExecutorError::Transport { error, attempts })),
                });
            }
        };
        span.record("status", raw.status);
        // classify
        let body = parse_body(
            &raw.body,
            raw.status,
            plan.response_format,
            plan.strict_parse,
        )?;
        let answer = ResponseView {
            status: raw.status,
            headers: &raw.headers,
            body: Some(&body),
        };
        let auth = AuthState {
            can_refresh: call.credential.is_some(),
            refreshed: state.refreshed_after_401,
        };
        let verdict = verdict::classify(plan, &answer, auth, SystemTime::now())?;
        span.record("verdict", verdict.name());
        // act
        Ok(match verdict {
            Verdict::Success => Next::Return(Ok(Response {
                status: raw.status,
                headers: raw.headers,
                body,
            })),
            Verdict::Fault { message } => Next::Return(Err(ExecutorError::Provider(Box::new(
                ProviderError::new(raw.status, raw.headers, body, Some(message)),
            )))),
            Verdict::RefreshThenRetry => {
                let Some(credential) = call.credential else {
                    unreachable!("classify refreshes only accounts with a credential")
                };
                let auth = AccountAuth {
                    account_id: call.account.id,
                    credential,
                    context: call.account.context,
                };
                let failed = access_token(&context);
                inner
                    .tokens
                    .on_unauthorized(auth, failed.as_deref())
                    .await?;
                state.refreshed_after_401 = true;
                span.record("retry_reason", "refreshed credentials");
                Next::RetryNow
            }
            Verdict::Unauthorized => Next::Return(Err(ExecutorError::Auth(
                inner.tokens.report_unauthorized(call.account.id).await,
            ))),
            Verdict::RateLimited { wait, message } => {
                // A wait within the bound pauses every call of the account; a longer one
                // fails this call (`WaitTooLong`) and pauses nothing, so one huge
                // `Retry-After` cannot wedge the account.
                if let Some(wait) = wait.filter(|w| *w <= inner.retry.max_single_wait) {
                    inner.pacer.pause_for(&call.account.id.to_owned(), wait);
                }
                Self::retry_or(state, Outcome::RateLimited(wait), |reason| {
                    ExecutorError::RateLimited {
                        reason,
                        response: Box::new(ProviderError::new(
                            raw.status,
                            raw.headers,
                            body,
                            message,
                        )),
                    }
                })
            }
            Verdict::ErrorStatus { status, message } => {
                Self::retry_or(state, Outcome::Status(status), |_| {
                    ExecutorError::Provider(Box::new(ProviderError::new(
                        raw.status,
                        raw.headers,
                        body,
                        message,
                    )))
                })
            }
        })
    }

    /// The one place that asks the retry policy: wait and retry, or fail with `give_up`.
    fn retry_or(
        state: &mut CallState<'_>,
        outcome: Outcome,
        give_up: impl FnOnce(GiveUp) -> ExecutorError,
    ) -> Next {
        let span = tracing::Span::current();
        match state.retry.decide(outcome) {
            RetryDecision::RetryAfter(wait) => {
                span.record("retry_reason", retry_reason(outcome).as_str());
                Next::RetryAfter(wait)
            }
            RetryDecision::GiveUp(reason) => {
                span.record("retry_reason", format!("gave up: {reason}").as_str());
                Next::Return(Err(give_up(reason)))
            }
        }
    }

    /// The context with current tokens (refreshed when needed), or the
    /// account's own context when it has no credential to manage.
    async fn authenticated_context<'a>(
        &self,
        account: Account<'a>,
        credential: Option<&Credential>,
    ) -> Result<Cow<'a, Map<String, Value>>, ExecutorError> {
        match credential {
            Some(credential) => {
                let auth = AccountAuth {
                    account_id: account.id,
                    credential,
                    context: account.context,
                };
                Ok(Cow::Owned(
                    self.inner.tokens.authenticate(auth).await?.into_context(),
                ))
            }
            None => Ok(Cow::Borrowed(account.context)),
        }
    }
}

/// What one call carries into each of its attempts.
struct Call<'a> {
    plan: &'a MethodPlan,
    account: Account<'a>,
    credential: Option<&'a Credential>,
    input: &'a CallInput,
    page: Option<PageCall<'a>>,
    cancel: &'a CancellationToken,
    /// When the whole call must have finished.
    deadline: tokio::time::Instant,
}

/// What changes from one attempt of a call to the next.
struct CallState<'p> {
    retry: RetryState<'p>,
    attempts: u32,
    refreshed_after_401: bool,
}

/// What the act step decided.
enum Next {
    /// The call ends with this result.
    Return(Result<Response, ExecutorError>),
    /// Try again after this wait (the retry policy granted it).
    RetryAfter(Duration),
    /// Try again at once (the credentials were just refreshed).
    RetryNow,
}

/// Why an attempt is retried, for traces.
fn retry_reason(outcome: Outcome) -> String {
    match outcome {
        Outcome::RateLimited(Some(wait)) => format!("rate limited, provider asked for {wait:?}"),
        Outcome::RateLimited(None) => "rate limited".to_owned(),
        Outcome::Status(status) => format!("status {status}"),
        Outcome::Timeout => "timeout".to_owned(),
        Outcome::Connection => "connection failed".to_owned(),
    }
}

/// A URL for logs: scheme, host, port and path, without credentials, query or fragment
/// (query parameters can carry API keys).
fn redacted_url(url: &url::Url) -> String {
    let mut shown = format!("{}://{}", url.scheme(), url.host_str().unwrap_or_default());
    if let Some(port) = url.port() {
        shown.push_str(&format!(":{port}"));
    }
    shown.push_str(url.path());
    if url.query().is_some() {
        shown.push_str("?…");
    }
    shown
}

fn access_token(context: &Map<String, Value>) -> Option<String> {
    context
        .get("oauth")?
        .get("token")?
        .get("access_token")?
        .as_str()
        .map(str::to_owned)
}

/// Applies a paginator's changes to a prepared request.
fn apply_page(
    prepared: &mut PreparedRequest,
    page: &PageRequest,
    data: &Value,
    plan: &MethodPlan,
) -> Result<(), ExecutorError> {
    if let Some(next) = &page.url {
        prepared.url = next.resolve(prepared.url.as_str(), false)?;
    } else if !page.query.is_empty() {
        let pairs = flatten_query(
            page.query.iter().map(|(k, v)| (k.as_str(), v)),
            plan.method.array_format(),
        );
        let replaced = |key: &str| {
            page.query
                .iter()
                .any(|(k, _)| key == k || key.starts_with(&format!("{k}[")))
        };
        let kept: Vec<(String, String)> = prepared
            .url
            .query_pairs()
            .filter(|(k, _)| !replaced(k))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        prepared.url.set_query(None);
        let all: Vec<(String, String)> = kept.into_iter().chain(pairs).collect();
        if !all.is_empty() {
            prepared.url.query_pairs_mut().extend_pairs(all);
        }
    }
    if !page.body.is_empty() {
        prepared.body = match std::mem::replace(&mut prepared.body, EncodedBody::Empty) {
            EncodedBody::Empty => {
                EncodedBody::Json(serde_json::to_vec(&page.body).expect("JSON serializes"))
            }
            EncodedBody::Json(bytes) => {
                let mut value: Value =
                    serde_json::from_slice(&bytes).unwrap_or(Value::Object(Map::new()));
                match value.as_object_mut() {
                    Some(object) => object.extend(page.body.clone()),
                    None => {
                        return Err(ExecutorError::Body(
                            "pagination needs an object body to add its keys to".into(),
                        ));
                    }
                }
                EncodedBody::Json(serde_json::to_vec(&value).expect("JSON serializes"))
            }
            EncodedBody::Form(mut pairs) | EncodedBody::Multipart(mut pairs) => {
                pairs.retain(|(k, _)| !page.body.contains_key(k));
                pairs.extend(flatten_query(
                    page.body.iter().map(|(k, v)| (k.as_str(), v)),
                    plan.method.array_format(),
                ));
                EncodedBody::Form(pairs)
            }
            EncodedBody::Text { .. } => {
                return Err(ExecutorError::Body(
                    "pagination cannot add keys to a text body".into(),
                ));
            }
        };
    }
    for (name, value) in &page.headers {
        prepared
            .headers
            .retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        prepared.headers.push((name.clone(), value.clone()));
    }
    for (name, source) in &page.templated_headers {
        let value = Template::parse(source)?.render_to_string(data);
        prepared
            .headers
            .retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        prepared.headers.push((name.clone(), value));
    }
    Ok(())
}

/// The page-by-page walk of a list call.
struct PageWalk {
    state: Option<PageState>,
    next: Option<PageRequest>,
    /// Whether the next request is a follow-up page (a later page, or the
    /// first one of a call resumed from a cursor).
    follow_up: bool,
}

/// The pagination part of one request.
struct PageCall<'a> {
    request: &'a PageRequest,
    follow_up: bool,
}

impl PageWalk {
    fn start(
        plan: &MethodPlan,
        account: Account<'_>,
        input: &CallInput,
        options: &ListOptions,
        max_pages: Option<u64>,
    ) -> Result<Self, ExecutorError> {
        match &plan.paginator {
            None => Ok(Self {
                state: None,
                next: Some(PageRequest::default()),
                follow_up: false,
            }),
            Some(paginator) => {
                // Only `dynamic` pagination reads the request URL (its expressions'
                // `url` scope); other formats skip rendering the request for it.
                let url = if paginator.format() == "dynamic" {
                    let data = request_data(account.context, input);
                    plan.method
                        .prepare(&data, input)
                        .map(|p| p.url.to_string())
                        .unwrap_or_default()
                } else {
                    String::new()
                };
                let paginator = match max_pages {
                    Some(max) => Cow::Owned(paginator.clone().with_max_pages(Some(max))),
                    None => Cow::Borrowed(paginator),
                };
                let (state, first) = paginator.start(StartOptions {
                    limit: options.limit,
                    resume: options.cursor.clone(),
                    query: Value::Object(input.query.clone()),
                    url,
                    request_options: json!({"method": plan.method.http_method().as_str()}),
                })?;
                Ok(Self {
                    state: Some(state),
                    next: Some(first),
                    follow_up: options.cursor.is_some(),
                })
            }
        }
    }

    /// Fetches the next page; `None` when the walk is over.
    async fn fetch(
        &mut self,
        executor: &Executor,
        integration: &Integration,
        plan: &MethodPlan,
        account: Account<'_>,
        input: &CallInput,
        cancel: &CancellationToken,
    ) -> Result<Option<Page>, ExecutorError> {
        let Some(request) = self.next.take() else {
            return Ok(None);
        };
        let page_request = self.state.as_ref().map(|_| PageCall {
            request: &request,
            follow_up: self.follow_up,
        });
        self.follow_up = true;
        let mut response = executor
            .execute(integration, plan, account, input, page_request, cancel)
            .await?;
        let Some(state) = &mut self.state else {
            return Ok(Some(Page {
                records: take_records(&mut response.body, plan.response_path.as_ref()),
                next_cursor: None,
                prev_cursor: None,
            }));
        };
        // The paginator sees the whole body, records included: `dynamic`
        // expressions read them (Stripe's `body.data[-1].id`). Records are
        // taken out only afterwards, so the page is never copied.
        let record_count = match plan
            .response_path
            .as_ref()
            .map_or(Some(&response.body), |path| path.get(&response.body))
        {
            None | Some(Value::Null) => 0,
            Some(Value::Array(items)) => items.len(),
            Some(_) => 1,
        };
        let view = PageResponse {
            status: response.status,
            headers: &response.headers,
            body: &response.body,
            record_count,
        };
        let step = state.next(&view)?;
        let records = take_records(&mut response.body, plan.response_path.as_ref());
        let prev_cursor = state.prev_cursor().map(str::to_owned);
        match step {
            Step::Next(next) => {
                self.next = Some(next);
                Ok(Some(Page {
                    records,
                    next_cursor: state.next_cursor().map(str::to_owned),
                    prev_cursor,
                }))
            }
            Step::Done => Ok(Some(Page {
                records,
                next_cursor: None,
                prev_cursor,
            })),
            Step::RepeatedPage => Ok(Some(Page {
                records: Vec::new(),
                next_cursor: None,
                prev_cursor: None,
            })),
        }
    }
}

/// An account owned by a stream.
#[derive(Clone)]
pub struct OwnedAccount {
    /// The account id.
    pub id: String,
    /// How it authenticates.
    pub authentication_method: AuthenticationMethod,
    /// Its context.
    pub context: Map<String, Value>,
}

impl OwnedAccount {
    /// Borrows it as an [`Account`].
    pub fn as_account(&self) -> Account<'_> {
        Account {
            id: &self.id,
            authentication_method: self.authentication_method,
            context: &self.context,
        }
    }
}

impl std::fmt::Debug for OwnedAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_account().fmt(f)
    }
}

struct ListState {
    executor: Executor,
    integration: Integration,
    account: OwnedAccount,
    input: CallInput,
    options: ListOptions,
    cancel: CancellationToken,
    walk: Option<PageWalk>,
    buffer: VecDeque<Value>,
    pending_cursor: Option<Option<String>>,
    cursor: Arc<Mutex<Option<String>>>,
    finished: bool,
}

impl ListState {
    async fn next_record(&mut self, plan: &MethodPlan) -> Option<Result<Value, ExecutorError>> {
        loop {
            if let Some(record) = self.buffer.pop_front() {
                if self.buffer.is_empty()
                    && let Some(cursor) = self.pending_cursor.take()
                {
                    *self.cursor.lock().unwrap_or_else(|e| e.into_inner()) = cursor;
                }
                return Some(Ok(record));
            }
            if self.finished {
                return None;
            }
            if self.walk.is_none() {
                match PageWalk::start(
                    plan,
                    self.account.as_account(),
                    &self.input,
                    &self.options,
                    self.executor.inner.max_pages,
                ) {
                    Ok(walk) => self.walk = Some(walk),
                    Err(e) => {
                        self.finished = true;
                        return Some(Err(e));
                    }
                }
            }
            let walk = self.walk.as_mut().expect("started");
            let account = self.account.as_account();
            match walk
                .fetch(
                    &self.executor,
                    &self.integration,
                    plan,
                    account,
                    &self.input,
                    &self.cancel,
                )
                .await
            {
                Ok(Some(page)) => {
                    if page.next_cursor.is_none() {
                        self.finished = true;
                    }
                    if page.records.is_empty() {
                        *self.cursor.lock().unwrap_or_else(|e| e.into_inner()) = page.next_cursor;
                    } else {
                        self.pending_cursor = Some(page.next_cursor);
                        self.buffer.extend(page.records);
                    }
                }
                Ok(None) => {
                    self.finished = true;
                }
                Err(e) => {
                    self.finished = true;
                    return Some(Err(e));
                }
            }
        }
    }
}

/// The records of a list call, streamed page by page.
pub struct RecordStream {
    inner: Pin<Box<dyn Stream<Item = Result<Value, ExecutorError>> + Send>>,
    cursor: Arc<Mutex<Option<String>>>,
}

impl RecordStream {
    fn failed(error: ExecutorError, cursor: Arc<Mutex<Option<String>>>) -> Self {
        Self {
            inner: Box::pin(futures_util::stream::once(async move { Err(error) })),
            cursor,
        }
    }

    /// The cursor to resume after the records yielded so far, or `None` when
    /// the list is complete.
    pub fn next_cursor(&self) -> Option<String> {
        self.cursor
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Stream for RecordStream {
    type Item = Result<Value, ExecutorError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl std::fmt::Debug for RecordStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordStream")
            .field("next_cursor", &self.next_cursor())
            .finish_non_exhaustive()
    }
}
