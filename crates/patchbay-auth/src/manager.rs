//! Keeping accounts' tokens fresh: refresh before expiry and once after a 401,
//! one refresh per account at a time, new tokens saved before anyone uses them.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex as SyncMutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use patchbay_config::Credential;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::oauth2::{DEFAULT_TOKEN_TIMEOUT, GrantKind, OAuth2Flow};
use crate::telemetry::{TokenRequestObserver, TokenRequestReport};
use crate::{AuthError, StoreError, TokenSet};

/// Refresh this long before a token's expiry by default.
pub const DEFAULT_REFRESH_SKEW: Duration = Duration::from_secs(60);
/// Fingerprints of replaced access tokens remembered per account, to recognise
/// callers holding an old context.
const SUPERSEDED_KEPT: usize = 32;

/// Where the host persists refreshed tokens.
///
/// [`TokenManager`] calls [`save_tokens`](Self::save_tokens) with every new
/// token set (including a rotated refresh token) *before* the new access token
/// is returned to any caller. If saving fails, the new tokens are not handed
/// out: the call fails with [`AuthError::Store`], the tokens stay in memory and
/// the save is retried on the account's next call. Providers that rotate
/// refresh tokens (Slack, Jira, Zoom) invalidate the old one as soon as the new
/// one is issued, so a token that was used but never stored would break the
/// connection for good.
///
/// ```
/// use async_trait::async_trait;
/// use patchbay_auth::{CredentialStore, StoreError, TokenSet};
/// use serde_json::{Map, Value};
/// use std::collections::HashMap;
/// use std::sync::Mutex;
///
/// struct MemoryStore(Mutex<HashMap<String, Map<String, Value>>>);
///
/// #[async_trait]
/// impl CredentialStore for MemoryStore {
///     async fn save_tokens(&self, account_id: &str, tokens: &TokenSet) -> Result<(), StoreError> {
///         let mut accounts = self.0.lock().map_err(|_| "store lock poisoned")?;
///         let context = accounts.get_mut(account_id).ok_or("unknown account")?;
///         tokens.apply_to(context); // oauth.token, oauth.scope, instance_url...
///         Ok(())
///     }
/// }
/// ```
///
/// # Several processes
///
/// [`TokenManager`] serializes refreshes of one account within its process.
/// When several processes (or several managers) share one store, implement
/// [`lock_refresh`](Self::lock_refresh) and [`load_tokens`](Self::load_tokens)
/// too; the refresh of an account then happens once across all of them:
///
/// 1. the manager takes its in-process slot of the account, then
///    `lock_refresh` (so each process waits on the lock with one task only);
/// 2. it reads the stored tokens with `load_tokens`. If another holder of the
///    lock replaced the tokens this manager was about to refresh and the
///    stored access token is usable (it does not expire within the skew; after
///    a 401, it is not the token the API refused), it adopts them without a
///    token request. Otherwise it requests new tokens (with the stored refresh
///    token when another process rotated it) and saves them;
/// 3. it releases the lock ([`RefreshGuard::release`]) after the save.
///
/// The defaults (no lock, `load_tokens` answering `None`) are right for a
/// single process.
#[async_trait]
pub trait CredentialStore: Send + Sync {
    /// Persists `tokens` into the account's context (see
    /// [`TokenSet::apply_to`] / [`TokenSet::context_patch`] for the layout).
    /// Return only once the tokens are durable.
    async fn save_tokens(&self, account_id: &str, tokens: &TokenSet) -> Result<(), StoreError>;

    /// Takes the account's refresh lock, exclusive across every process
    /// sharing the store (e.g. a Postgres advisory lock held in a
    /// transaction), waiting for it when another process holds it. The
    /// manager holds the guard while it re-reads, requests and saves tokens.
    ///
    /// The default takes no lock ([`RefreshGuard::unlocked`]). An error fails
    /// the refresh like a failed save ([`AuthError::Store`]).
    async fn lock_refresh(&self, account_id: &str) -> Result<RefreshGuard, StoreError> {
        let _ = account_id;
        Ok(RefreshGuard::unlocked())
    }

    /// The account's tokens as stored now (as [`TokenSet::from_context`] reads
    /// them from its context), read under [`lock_refresh`](Self::lock_refresh)
    /// so that tokens another process saved are seen. `Ok(None)` means "none,
    /// or this store cannot tell": the manager then refreshes.
    ///
    /// The default answers `Ok(None)`. An error fails the refresh
    /// ([`AuthError::Store`]) rather than risk a request with a refresh token
    /// another process already rotated.
    async fn load_tokens(&self, account_id: &str) -> Result<Option<TokenSet>, StoreError> {
        let _ = account_id;
        Ok(None)
    }
}

/// A host's cross-process refresh lock, as held in a [`RefreshGuard`].
///
/// Dropping it must release the lock too (perhaps a little later, e.g. when a
/// database transaction is rolled back on drop), so that a panic cannot keep
/// an account locked.
#[async_trait]
pub trait RefreshLock: Send {
    /// Releases the lock now.
    async fn release(self: Box<Self>) -> Result<(), StoreError>;
}

/// A held refresh lock (see [`CredentialStore::lock_refresh`]), or none.
///
/// Releasing it ([`release`](Self::release)) or dropping it gives up the lock.
#[derive(Default)]
pub struct RefreshGuard {
    lock: Option<Box<dyn RefreshLock>>,
}

impl RefreshGuard {
    /// No lock: the guard of single-process stores.
    pub fn unlocked() -> Self {
        Self { lock: None }
    }

    /// Holds `lock` until the guard is released or dropped.
    pub fn new(lock: impl RefreshLock + 'static) -> Self {
        Self {
            lock: Some(Box::new(lock)),
        }
    }

    /// Whether a lock is held (`false` for [`unlocked`](Self::unlocked)).
    pub fn is_locked(&self) -> bool {
        self.lock.is_some()
    }

    /// Releases the lock now.
    ///
    /// # Errors
    ///
    /// The host's error releasing the lock.
    pub async fn release(self) -> Result<(), StoreError> {
        match self.lock {
            Some(lock) => lock.release().await,
            None => Ok(()),
        }
    }
}

impl fmt::Debug for RefreshGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshGuard")
            .field("locked", &self.is_locked())
            .finish()
    }
}

/// Where the host learns that an account needs reauthorization.
///
/// Called when the provider rejects a refresh or grant (`invalid_grant`,
/// 400/401/403), when an account without a way to get a new token gets a 401
/// from the API, and on [`TokenManager::report_unauthorized`]. The host marks
/// the account `needs_reauth` (storing the error's message as `last_error`)
/// and emits `integrated_account:authentication_error` with the account as
/// payload. Never called for network errors, 5xx or 429.
#[async_trait]
pub trait AuthEvents: Send + Sync {
    /// The account's credentials were rejected.
    async fn authentication_failed(&self, account_id: &str, error: &AuthError);
}

/// One account as the token manager needs it.
#[derive(Clone, Copy)]
pub struct AccountAuth<'a> {
    /// The integrated account's id (the unit of single-flight refresh).
    pub account_id: &'a str,
    /// The account's credential definition (`credentials` resolved for its
    /// `authentication_method`).
    pub credential: &'a Credential,
    /// The account's context, plus any host variables the credential config
    /// reads (e.g. the OAuth app's `client_id` and `client_secret`).
    pub context: &'a Map<String, Value>,
}

impl fmt::Debug for AccountAuth<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountAuth")
            .field("account_id", &self.account_id)
            .field("format", &self.credential.format_name())
            .field("context_keys", &self.context.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The context to render requests with: the caller's context with the
/// account's current tokens applied (`oauth.token`, `instance_url`, ...).
#[derive(Clone)]
pub struct Authenticated {
    context: Map<String, Value>,
    refreshed: bool,
}

impl Authenticated {
    /// The context, with current tokens.
    pub fn context(&self) -> &Map<String, Value> {
        &self.context
    }

    /// Takes the context.
    pub fn into_context(self) -> Map<String, Value> {
        self.context
    }

    /// The current access token (`oauth.token.access_token`), if any.
    pub fn access_token(&self) -> Option<&str> {
        self.context
            .get("oauth")?
            .get("token")?
            .get("access_token")?
            .as_str()
    }

    /// Whether this call obtained new tokens (and saved them).
    pub fn refreshed(&self) -> bool {
        self.refreshed
    }
}

impl fmt::Debug for Authenticated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticated")
            .field("context_keys", &self.context.keys().collect::<Vec<_>>())
            .field("refreshed", &self.refreshed)
            .finish()
    }
}

/// Keeps OAuth tokens fresh for many accounts.
///
/// * [`authenticate`](Self::authenticate) returns the context to use, first
///   getting new tokens when the current ones expire within the skew (default
///   60 s), when there are none (client credentials, Keka), or when the
///   context holds an older token than one this manager already obtained.
/// * [`on_unauthorized`](Self::on_unauthorized) forces one refresh after a 401,
///   unless a concurrent caller already replaced the failed token.
/// * Calls for one account are serialized: concurrent callers during expiry
///   share one token request. A refresh runs in its own task, so a caller that
///   is cancelled midway cannot lose a rotated refresh token.
/// * Across processes sharing a store, a refresh runs under the store's
///   [`lock_refresh`](CredentialStore::lock_refresh) and first re-reads the
///   stored tokens, adopting ones another process just obtained (see
///   [`CredentialStore`]): one token request for all of them.
/// * New tokens are saved through the [`CredentialStore`] before use.
/// * A rejection by the provider calls [`AuthEvents::authentication_failed`]
///   once and is remembered: later calls with the same rejected grant fail
///   at once without another request or event.
/// * If a proactive refresh fails for a transient reason while the current
///   token has not yet expired, the current token is returned.
pub struct TokenManager {
    store: Arc<dyn CredentialStore>,
    events: Arc<dyn AuthEvents>,
    http: reqwest::Client,
    skew: Duration,
    timeout: Duration,
    destination_check: Option<patchbay_egress::DestinationCheck>,
    slots: SyncMutex<HashMap<String, Arc<Mutex<Slot>>>>,
    observer: Option<Arc<dyn TokenRequestObserver>>,
}

impl fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenManager")
            .field("skew", &self.skew)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// What the manager knows about one account.
#[derive(Default)]
struct Slot {
    /// The newest tokens this manager obtained and saved.
    current: Option<TokenSet>,
    /// Fingerprints of access tokens `current` replaced.
    superseded: VecDeque<[u8; 32]>,
    /// Tokens obtained whose save failed; saved before anything else next time.
    unsaved: Option<(TokenSet, Option<TokenSet>)>,
    /// The last grant the provider rejected.
    rejected: Option<Rejection>,
}

struct Rejection {
    grant: [u8; 32],
    status: u16,
    error: Option<String>,
    description: Option<String>,
}

impl Rejection {
    fn to_error(&self) -> AuthError {
        AuthError::Rejected {
            status: self.status,
            error: self.error.clone(),
            description: self.description.clone(),
        }
    }
}

impl Slot {
    fn promote(&mut self, new: TokenSet, replaced: Option<&TokenSet>) {
        let old = replaced.or(self.current.as_ref());
        if let Some(print) = old.map(|old| fingerprint(old.access_token.expose())) {
            self.supersede(print);
        }
        self.current = Some(new);
        self.rejected = None;
    }

    /// Remembers that the access token with fingerprint `print` was replaced.
    fn supersede(&mut self, print: [u8; 32]) {
        if self.superseded.contains(&print) {
            return;
        }
        self.superseded.push_back(print);
        if self.superseded.len() > SUPERSEDED_KEPT {
            self.superseded.pop_front();
        }
    }

    /// The newest tokens between ours and the caller's. A caller token that
    /// is neither ours nor one we replaced comes from the host
    /// (reauthorization, import): ours are then dropped.
    fn newest(&mut self, caller: Option<TokenSet>) -> Option<TokenSet> {
        let (Some(ours), Some(theirs)) = (&self.current, &caller) else {
            return self.current.clone().or(caller);
        };
        let print = fingerprint(theirs.access_token.expose());
        let stale =
            print == fingerprint(ours.access_token.expose()) || self.superseded.contains(&print);
        if stale {
            return Some(ours.clone());
        }
        *self = Slot::default();
        caller
    }
}

fn fingerprint(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Why new tokens are needed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reason {
    Expiring,
    Unauthorized,
}

impl TokenManager {
    /// A manager saving through `store` and reporting rejections to `events`,
    /// with its own HTTP client (which follows no redirects), a 60 s refresh skew and 30 s token timeout.
    pub fn new(store: Arc<dyn CredentialStore>, events: Arc<dyn AuthEvents>) -> Self {
        Self {
            store,
            events,
            http: crate::oauth2::no_redirect_client(),
            skew: DEFAULT_REFRESH_SKEW,
            timeout: DEFAULT_TOKEN_TIMEOUT,
            destination_check: None,
            slots: SyncMutex::new(HashMap::new()),
            observer: None,
        }
    }

    /// Reports every token request (refresh or new grant) to `observer`, for request logs.
    #[must_use]
    pub fn with_observer(mut self, observer: Arc<dyn TokenRequestObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Checks every token URL with `check` before a refresh is sent (a
    /// destination policy); see [`OAuth2Flow::with_destination_check`].
    pub fn with_destination_check(
        mut self,
        check: Option<patchbay_egress::DestinationCheck>,
    ) -> Self {
        self.destination_check = check;
        self
    }

    /// Uses `http` for token requests (proxies, TLS roots, test servers).
    /// Build it with `reqwest::redirect::Policy::none()`: token requests
    /// never follow redirects (see [`OAuth2Flow`](crate::OAuth2Flow)).
    pub fn with_http_client(mut self, http: reqwest::Client) -> Self {
        self.http = http;
        self
    }

    /// Refreshes tokens expiring within `skew`.
    pub fn with_refresh_skew(mut self, skew: Duration) -> Self {
        self.skew = skew;
        self
    }

    /// Time limit of each token request.
    pub fn with_token_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The context to authorize a request with, refreshing first when needed
    /// (see the [type docs](Self)). `api_key` accounts get their context back.
    ///
    /// # Errors
    ///
    /// [`AuthError::Rejected`] (after reporting it) when the provider refuses
    /// the grant; [`AuthError::Store`] when the new tokens could not be saved;
    /// transient and config errors as [`AuthError`] describes.
    pub async fn authenticate(&self, account: AccountAuth<'_>) -> Result<Authenticated, AuthError> {
        self.run(account, Reason::Expiring, None).await
    }

    /// Handles a 401 from the API made with `failed_access_token` (`None`:
    /// whatever token is current): gets new tokens once, unless a concurrent
    /// call already replaced that token, in which case the current tokens are
    /// returned. Retry the request once with the result; if that also gets a
    /// 401, call [`report_unauthorized`](Self::report_unauthorized) rather than
    /// this method again.
    ///
    /// Accounts with no way to get a new token (`api_key`, `oauth2` without a
    /// refresh token) are reported to [`AuthEvents`] and fail with
    /// [`AuthError::Rejected`].
    ///
    /// # Errors
    ///
    /// As [`authenticate`](Self::authenticate).
    pub async fn on_unauthorized(
        &self,
        account: AccountAuth<'_>,
        failed_access_token: Option<&str>,
    ) -> Result<Authenticated, AuthError> {
        self.run(account, Reason::Unauthorized, failed_access_token)
            .await
    }

    /// Reports that the API refused an account's credentials for good (a 401
    /// that a new token did not fix): calls [`AuthEvents::authentication_failed`]
    /// and returns the error to propagate.
    pub async fn report_unauthorized(&self, account_id: &str) -> AuthError {
        let error = AuthError::Rejected {
            status: 401,
            error: None,
            description: Some("the API refused the account's credentials".into()),
        };
        self.events.authentication_failed(account_id, &error).await;
        error
    }

    /// Drops what the manager remembers about an account (call after deleting
    /// or reauthorizing it; reauthorized accounts are also detected by their
    /// new token).
    pub fn forget(&self, account_id: &str) {
        self.slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(account_id);
    }

    fn slot(&self, account_id: &str) -> Arc<Mutex<Slot>> {
        let mut slots = self
            .slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        slots.entry(account_id.to_owned()).or_default().clone()
    }

    async fn run(
        &self,
        account: AccountAuth<'_>,
        reason: Reason,
        failed: Option<&str>,
    ) -> Result<Authenticated, AuthError> {
        let kind = match account.credential {
            Credential::ApiKey(_) if reason == Reason::Unauthorized => {
                return Err(self.report_unauthorized(account.account_id).await);
            }
            Credential::ApiKey(_) => {
                return Ok(Authenticated {
                    context: account.context.clone(),
                    refreshed: false,
                });
            }
            Credential::OAuth2(_) => GrantKind::AuthorizationCode,
            Credential::OAuth2ClientCredentials(_) => GrantKind::ClientCredentials,
            Credential::KekaOAuth(_) => GrantKind::Keka,
        };

        let mut slot = self.slot(account.account_id).lock_owned().await;
        let tokens = slot.newest(TokenSet::from_context(account.context));

        if let Some((unsaved, replaced)) = slot.unsaved.take() {
            if let Err(error) = self.store.save_tokens(account.account_id, &unsaved).await {
                slot.unsaved = Some((unsaved, replaced));
                return Err(AuthError::Store(error));
            }
            slot.promote(unsaved.clone(), replaced.as_ref());
            return Ok(with_tokens(account.context, &unsaved, true));
        }

        let needs_new = match (&tokens, reason) {
            (None, _) => true,
            (Some(t), Reason::Unauthorized) => failed.is_none_or(|f| f == t.access_token.expose()),
            (Some(t), Reason::Expiring) => t.expires_within(Utc::now(), self.skew),
        };
        if !needs_new {
            return Ok(match &tokens {
                Some(t) => with_tokens(account.context, t, false),
                None => Authenticated {
                    context: account.context.clone(),
                    refreshed: false,
                },
            });
        }

        let refresh_token = tokens.as_ref().and_then(|t| t.refresh_token.clone());
        let grant = match (kind, &refresh_token) {
            (GrantKind::AuthorizationCode, Some(refresh)) => fingerprint(refresh.expose()),
            (GrantKind::AuthorizationCode, None) => {
                return match (&tokens, reason) {
                    // Expiring without a way to refresh: keep using it until the API says 401.
                    (Some(t), Reason::Expiring) => Ok(with_tokens(account.context, t, false)),
                    _ => {
                        drop(slot);
                        let error = AuthError::Rejected {
                            status: 401,
                            error: None,
                            description: Some("no valid access token and no refresh token".into()),
                        };
                        self.events
                            .authentication_failed(account.account_id, &error)
                            .await;
                        Err(error)
                    }
                };
            }
            _ => grant_inputs_fingerprint(account.context),
        };
        if let Some(rejection) = slot.rejected.as_ref().filter(|r| r.grant == grant) {
            return Err(rejection.to_error());
        }

        let flow = OAuth2Flow::new(account.credential, self.http.clone())?
            .with_timeout(self.timeout)
            .with_destination_check(self.destination_check.clone());
        let render_context = match &tokens {
            Some(t) => with_tokens(account.context, t, false).context,
            None => account.context.clone(),
        };
        let job = RefreshJob {
            account_id: account.account_id.to_owned(),
            context: render_context,
            flow,
            previous: tokens.clone(),
            refresh_token: refresh_token.map(|r| r.expose().to_owned()),
            grant,
            reason,
            skew: self.skew,
            store: self.store.clone(),
            observer: self.observer.clone(),
        };
        // The token request and the save run in their own task, holding the
        // account's lock, so that dropping this future cannot lose new tokens.
        let outcome = match tokio::spawn(job.run(slot)).await {
            Ok(outcome) => outcome,
            Err(join) => std::panic::resume_unwind(join.into_panic()),
        };
        match outcome {
            Ok(Obtained { tokens, requested }) => {
                Ok(with_tokens(account.context, &tokens, requested))
            }
            Err(error) if error.requires_reauth() => {
                self.events
                    .authentication_failed(account.account_id, &error)
                    .await;
                Err(error)
            }
            Err(error) => match &tokens {
                Some(t)
                    if reason == Reason::Expiring
                        && !t.expires_within(Utc::now(), Duration::ZERO) =>
                {
                    Ok(with_tokens(account.context, t, false))
                }
                _ => Err(error),
            },
        }
    }
}

/// One token request plus save, run in its own task under the store's
/// refresh lock; or, when another process refreshed meanwhile, its tokens.
struct RefreshJob {
    account_id: String,
    context: Map<String, Value>,
    flow: OAuth2Flow,
    previous: Option<TokenSet>,
    refresh_token: Option<String>,
    grant: [u8; 32],
    reason: Reason,
    skew: Duration,
    store: Arc<dyn CredentialStore>,
    observer: Option<Arc<dyn TokenRequestObserver>>,
}

/// The tokens a [`RefreshJob`] ends with.
struct Obtained {
    tokens: TokenSet,
    /// `false` when they were adopted from the store (another process's refresh).
    requested: bool,
}

impl RefreshJob {
    async fn run(mut self, mut slot: OwnedMutexGuard<Slot>) -> Result<Obtained, AuthError> {
        let lock = self
            .store
            .lock_refresh(&self.account_id)
            .await
            .map_err(AuthError::Store)?;
        let outcome = self.run_locked(&mut slot).await;
        // The tokens are saved (or kept in the slot as unsaved) by now. A lock
        // that fails to release is given up with its connection; nothing to undo.
        let _ = lock.release().await;
        outcome
    }

    async fn run_locked(&mut self, slot: &mut Slot) -> Result<Obtained, AuthError> {
        let stored = self
            .store
            .load_tokens(&self.account_id)
            .await
            .map_err(AuthError::Store)?;
        if let Some(stored) = stored.filter(|s| self.replaced_elsewhere(s)) {
            if self.usable(&stored) {
                slot.promote(stored.clone(), self.previous.as_ref());
                return Ok(Obtained {
                    tokens: stored,
                    requested: false,
                });
            }
            // Replaced but already expiring: refresh from the stored tokens,
            // whose refresh token is the current one if the provider rotates.
            if let Some(previous) = &self.previous {
                slot.supersede(fingerprint(previous.access_token.expose()));
            }
            stored.apply_to(&mut self.context);
            if let (Some(ours), Some(theirs)) = (&mut self.refresh_token, &stored.refresh_token) {
                *ours = theirs.expose().to_owned();
                self.grant = fingerprint(theirs.expose());
            }
            self.previous = Some(stored);
        }

        let started_at = std::time::SystemTime::now();
        let started = std::time::Instant::now();
        let (grant, result) = match &self.refresh_token {
            Some(refresh) => (
                "refresh_token",
                self.flow.refresh(&self.context, refresh).await,
            ),
            None => ("request", self.flow.request_token(&self.context).await),
        };
        let outcome = match &result {
            Ok(_) => "ok",
            Err(AuthError::Rejected { .. }) => "rejected",
            Err(_) => "failed",
        };
        crate::telemetry::token_request(grant, outcome);
        if let Some(observer) = &self.observer {
            observer.token_request(&TokenRequestReport {
                account_id: &self.account_id,
                grant,
                reason: match self.reason {
                    Reason::Expiring => "expiring",
                    Reason::Unauthorized => "unauthorized",
                },
                started_at,
                duration: started.elapsed(),
                outcome,
                status: match &result {
                    Err(AuthError::Rejected { status, .. }) => Some(*status),
                    _ => None,
                },
                error: result.as_ref().err().map(ToString::to_string),
            });
        }
        let mut new = match result {
            Ok(new) => new,
            Err(error) => {
                if let AuthError::Rejected {
                    status,
                    error: code,
                    description,
                } = &error
                {
                    slot.rejected = Some(Rejection {
                        grant: self.grant,
                        status: *status,
                        error: code.clone(),
                        description: description.clone(),
                    });
                }
                return Err(error);
            }
        };
        if let Some(previous) = &self.previous {
            new.inherit_from(previous);
        }
        if let Err(error) = self.store.save_tokens(&self.account_id, &new).await {
            slot.unsaved = Some((new, self.previous.take()));
            return Err(AuthError::Store(error));
        }
        slot.promote(new.clone(), self.previous.as_ref());
        Ok(Obtained {
            tokens: new,
            requested: true,
        })
    }

    /// Whether the stored tokens are not the ones this job set out to replace.
    fn replaced_elsewhere(&self, stored: &TokenSet) -> bool {
        self.previous
            .as_ref()
            .is_none_or(|p| p.access_token.expose() != stored.access_token.expose())
    }

    /// Whether tokens another process stored can be used instead of a request.
    fn usable(&self, stored: &TokenSet) -> bool {
        let margin = match self.reason {
            Reason::Expiring => self.skew,
            // The refused token is `previous`, which `stored` is not.
            Reason::Unauthorized => Duration::ZERO,
        };
        !stored.expires_within(Utc::now(), margin)
    }
}

/// What a client credentials or Keka grant is made of: the context without
/// its tokens. A rejected grant is retried only once these change.
fn grant_inputs_fingerprint(context: &Map<String, Value>) -> [u8; 32] {
    let mut inputs = context.clone();
    inputs.remove("oauth");
    fingerprint(&Value::Object(inputs).to_string())
}

fn with_tokens(context: &Map<String, Value>, tokens: &TokenSet, refreshed: bool) -> Authenticated {
    let mut context = context.clone();
    tokens.apply_to(&mut context);
    Authenticated { context, refreshed }
}
