//! Configuring an [`Executor`](super::Executor).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use patchbay_auth::telemetry::TokenRequestObserver;
use patchbay_auth::{AuthError, AuthEvents, CredentialStore, StoreError, TokenManager, TokenSet};
use patchbay_ratelimit::{PaceConfig, PaceStore, Pacer, RetryPolicy};

use crate::in_flight::InFlight;
use crate::observe::CallObserver;
use crate::redirect::DestinationCheck;

use super::*;

/// Saves nothing: tokens refreshed by an executor without a store live only in memory.
pub(super) struct NoStore;

#[async_trait]
impl CredentialStore for NoStore {
    async fn save_tokens(&self, _: &str, _: &TokenSet) -> Result<(), StoreError> {
        Ok(())
    }
}

/// Reports nothing.
pub(super) struct NoEvents;

#[async_trait]
impl AuthEvents for NoEvents {
    async fn authentication_failed(&self, _: &str, _: &AuthError) {}
}

/// Builds an [`Executor`].
#[must_use]
pub struct ExecutorBuilder {
    pub(super) client: Option<reqwest::Client>,
    pub(super) store: Arc<dyn CredentialStore>,
    pub(super) events: Arc<dyn AuthEvents>,
    pub(super) retry: RetryPolicy,
    pub(super) pacing: Option<PaceConfig>,
    pub(super) pace_store: Option<Arc<dyn PaceStore>>,
    pub(super) timeout: Duration,
    pub(super) max_body: usize,
    pub(super) max_pages: Option<u64>,
    pub(super) destination_check: Option<DestinationCheck>,
    pub(super) max_in_flight_per_account: usize,
    pub(super) call_deadline: Duration,
    pub(super) observer: Option<Arc<dyn CallObserver>>,
    pub(super) token_observer: Option<Arc<dyn TokenRequestObserver>>,
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
    /// [`TransportError::ClientFollowedRedirect`](crate::TransportError::ClientFollowedRedirect), but the request has then
    /// already been sent. The same client makes token requests, which never
    /// follow redirects.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// A check of every URL before it is requested: the request's own, each
    /// redirect hop's and each token request's (a destination policy); an
    /// `Err` ends the call with [`TransportError::Refused`](crate::TransportError::Refused) carrying its
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

    /// Counts the [`pacing`](Self::pacing) slots of each account in `store`
    /// (e.g. `patchbay_ratelimit::RedisPaceStore`), so that every process
    /// sharing it keeps the pace together; while the store is unavailable each
    /// call is paced in-process instead, never failed. Without `pacing` the store
    /// is not used. Default: in-process only.
    pub fn shared_pacing(mut self, store: Arc<dyn PaceStore>) -> Self {
        self.pace_store = Some(store);
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

    /// Reports every upstream call (all its attempts) to `observer` when it ends, for
    /// request logs. Default: none.
    pub fn call_observer(mut self, observer: Arc<dyn CallObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Reports every token request (refresh or new grant) to `observer` when it ends, for
    /// request logs. Default: none.
    pub fn token_observer(mut self, observer: Arc<dyn TokenRequestObserver>) -> Self {
        self.token_observer = Some(observer);
        self
    }

    /// Builds the executor.
    pub fn build(self) -> Executor {
        let client = self.client.unwrap_or_else(default_http_client);
        let mut tokens = TokenManager::new(self.store, self.events)
            .with_http_client(client.clone())
            .with_destination_check(self.destination_check.clone());
        if let Some(observer) = self.token_observer {
            tokens = tokens.with_observer(observer);
        }
        let mut pacer = Pacer::new(self.pacing).with_max_wait(self.retry.max_single_wait);
        if let Some(store) = self.pace_store {
            pacer = pacer.with_store(store);
        }
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
                observer: self.observer,
            }),
        }
    }
}
