//! One call through the pipeline: prepare, authorize, pace, send, classify, act.

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use patchbay_auth::{AccountAuth, RequestView};
use patchbay_config::Credential;
use patchbay_ratelimit::{
    AcquireError, AttemptOutcome, GiveUp, ProviderError, ResponseView, RetryDecision, RetryState,
    sleep_cancellable,
};
use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use crate::ExecutorError;
use crate::body::EncodedBody;
use crate::input::{CallInput, request_data};
use crate::observe::{AttemptReport, CallReport};
use crate::plan::{CompiledIntegration, MethodPlan};
use crate::redirect::RedirectOptions;
use crate::response::parse_body;
use crate::telemetry;
use crate::transport::{TransportError, send_following};
use crate::verdict::{self, AuthState, Verdict};

use super::*;

impl Executor {
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
    pub(super) async fn execute(
        &self,
        integration: &CompiledIntegration,
        plan: &MethodPlan,
        account: AccountRef<'_>,
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
            integration: integration.name(),
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
            log: inner
                .observer
                .as_ref()
                .map(|observer| CallLog::start(observer.wants_bodies())),
        };
        loop {
            state.attempts += 1;
            if let Some(log) = &mut state.log {
                log.current = AttemptReport {
                    status: None,
                    duration: Duration::ZERO,
                    retry_reason: None,
                };
            }
            let span = tracing::info_span!(
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
            if let Some(log) = &mut state.log {
                log.attempts.push(log.current.clone());
            }
            match next {
                Next::Return(result) => {
                    if let (Some(observer), Some(log)) = (&inner.observer, &state.log) {
                        observer.call_finished(&log.report(&call, &result));
                    }
                    return result;
                }
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
        let url = redacted_url(&prepared.url);
        span.record("url", url.as_str());
        if let Some(log) = &mut state.log {
            log.url = url;
            if log.bodies && log.request_body.is_none() {
                log.request_body = prepared.body.as_value();
            }
        }
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
        let sending = tokio::time::Instant::now();
        let sent = tokio::select! {
            result = send_following(&inner.client, &prepared, &auth_headers, inner.timeout.min(left), inner.max_body, &redirects) => result,
            () = call.cancel.cancelled() => return Err(ExecutorError::Cancelled),
        };
        let raw = match sent {
            Ok(raw) => raw,
            Err(error) => {
                span.record("verdict", "transport_error");
                let took = sending.elapsed();
                telemetry::attempt(call.integration, None, took);
                state.answered(None, took);
                let attempts = state.attempts;
                return Ok(match verdict::classify_transport(&error) {
                    Some(outcome) => Self::retry_or(call, state, outcome, |_| {
                        ExecutorError::Transport { error, attempts }
                    }),
                    None => Next::Return(Err(ExecutorError::Transport { error, attempts })),
                });
            }
        };
        span.record("status", raw.status);
        let took = sending.elapsed();
        telemetry::attempt(call.integration, Some(raw.status), took);
        state.answered(Some(raw.status), took);
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
                state.retrying("refreshed credentials".to_owned());
                telemetry::retry(call.integration, telemetry::REFRESHED_CREDENTIALS);
                Next::RetryNow
            }
            Verdict::Unauthorized => Next::Return(Err(ExecutorError::Auth(
                inner.tokens.report_unauthorized(call.account.id).await,
            ))),
            Verdict::RateLimited { wait, message } => {
                telemetry::rate_limited(call.integration);
                // A wait within the bound pauses every call of the account; a longer one
                // fails this call (`WaitTooLong`) and pauses nothing, so one huge
                // `Retry-After` cannot wedge the account.
                if let Some(wait) = wait.filter(|w| *w <= inner.retry.max_single_wait) {
                    inner.pacer.pause_for(&call.account.id.to_owned(), wait);
                }
                Self::retry_or(call, state, AttemptOutcome::RateLimited(wait), |reason| {
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
                Self::retry_or(call, state, AttemptOutcome::Status(status), |_| {
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
        call: &Call<'_>,
        state: &mut CallState<'_>,
        outcome: AttemptOutcome,
        give_up: impl FnOnce(GiveUp) -> ExecutorError,
    ) -> Next {
        let span = tracing::Span::current();
        match state.retry.decide(outcome) {
            RetryDecision::RetryAfter(wait) => {
                let reason = retry_reason(outcome);
                span.record("retry_reason", reason.as_str());
                state.retrying(reason);
                telemetry::retry(call.integration, telemetry::retry_label(outcome));
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
    pub(super) async fn authenticated_context<'a>(
        &self,
        account: AccountRef<'a>,
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
    /// The integration's name, for metrics.
    integration: &'a str,
    plan: &'a MethodPlan,
    account: AccountRef<'a>,
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
    /// What the [`CallObserver`](crate::CallObserver) will be told; `None` without one.
    log: Option<CallLog>,
}

impl CallState<'_> {
    /// The current attempt got an answer of `status` (`None`: none came) after `duration`.
    fn answered(&mut self, status: Option<u16>, duration: Duration) {
        if let Some(log) = &mut self.log {
            log.current.status = status;
            log.current.duration = duration;
        }
    }

    /// Another attempt follows the current one, for `reason`.
    fn retrying(&mut self, reason: String) {
        if let Some(log) = &mut self.log {
            log.current.retry_reason = Some(reason);
        }
    }
}

/// The attempts of a call so far, for its [`CallReport`].
struct CallLog {
    /// Whether the report carries the bodies.
    bodies: bool,
    request_body: Option<Value>,
    started_at: SystemTime,
    started: tokio::time::Instant,
    url: String,
    attempts: Vec<AttemptReport>,
    current: AttemptReport,
}

impl CallLog {
    fn start(bodies: bool) -> Self {
        Self {
            bodies,
            request_body: None,
            started_at: SystemTime::now(),
            started: tokio::time::Instant::now(),
            url: String::new(),
            attempts: Vec::new(),
            current: AttemptReport {
                status: None,
                duration: Duration::ZERO,
                retry_reason: None,
            },
        }
    }

    fn report<'a>(
        &'a self,
        call: &'a Call<'_>,
        result: &'a Result<Response, ExecutorError>,
    ) -> CallReport<'a> {
        CallReport {
            integration: call.integration,
            account_id: call.account.id,
            resource: &call.plan.resource,
            method: &call.plan.name,
            request_type: call.input.request_type,
            http_method: call.plan.method.http_method().as_str(),
            url: &self.url,
            started_at: self.started_at,
            duration: self.started.elapsed(),
            status: self.attempts.last().and_then(|a| a.status),
            attempts: &self.attempts,
            error: result.as_ref().err().map(ToString::to_string),
            request_body: self.request_body.as_ref(),
            response_body: if self.bodies {
                match result {
                    Ok(response) => Some(&response.body),
                    Err(error) => error.provider_error().map(|p| &p.body),
                }
            } else {
                None
            },
        }
    }
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
fn retry_reason(outcome: AttemptOutcome) -> String {
    match outcome {
        AttemptOutcome::RateLimited(Some(wait)) => {
            format!("rate limited, provider asked for {wait:?}")
        }
        AttemptOutcome::RateLimited(None) => "rate limited".to_owned(),
        AttemptOutcome::Status(status) => format!("status {status}"),
        AttemptOutcome::Timeout => "timeout".to_owned(),
        AttemptOutcome::Connection => "connection failed".to_owned(),
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
