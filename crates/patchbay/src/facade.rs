//! [`Patchbay`]: the entry point a host application embeds.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use patchbay_auth::{AccountAuth, OAuth2Flow, TokenSet, TokenTypeHint};
use patchbay_config::{
    AccountStatus, Credential, HttpMethod, IntegratedAccount, IntegrationConfig, action_names,
};
use patchbay_executor::{
    AccountData, CallInput, CompiledIntegration, Executor, ExecutorBuilder, ListOptions, Page,
    RecordStream, Response,
};
use patchbay_ratelimit::{PaceConfig, PaceStore, RetryPolicy};
use patchbay_webhook::{Handled, InboundRequest, Routed};
use serde_json::{Map, Value};

use crate::Error;
use crate::actions::run_steps;
use crate::auth_adapters::{ReauthEvents, TokensToStore, set_status_and_announce};
use crate::inbound::InstalledWebhook;
use crate::store::{AccountStore, EventSink, MemoryAccountStore, MemoryEvents};
use crate::unified_calls::UnifiedRegistry;

pub(crate) struct Installed {
    pub(crate) integration: CompiledIntegration,
    /// Host variables every account of this install sees under its own context
    /// (e.g. the team's OAuth app `client_id` and `client_secret`).
    pub(crate) variables: Map<String, Value>,
    /// The config's `webhook` key, compiled.
    webhook: InstalledWebhook,
    /// The config's MCP tools, generated on first use.
    pub(crate) tools: std::sync::OnceLock<Vec<patchbay_mcp::Tool>>,
}

impl Installed {
    /// What an account's (or a connect flow's) templates render against: the host
    /// variables overlaid with `context`.
    pub(crate) fn context_with(&self, context: &Map<String, Value>) -> Map<String, Value> {
        let mut merged = self.variables.clone();
        merged.extend(context.iter().map(|(k, v)| (k.clone(), v.clone())));
        merged
    }
}

/// What [`Patchbay::revoke_credentials`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Revocation {
    /// This many tokens (refresh and access) were revoked.
    Revoked {
        /// Tokens revoked.
        tokens: usize,
    },
    /// The credential config has no `auth.revokePath` (or is not OAuth): nothing was sent.
    NotConfigured,
    /// The account holds no tokens: nothing was sent.
    NothingToRevoke,
}

/// Builds a [`Patchbay`].
///
/// The settings of provider requests go straight to the [`ExecutorBuilder`] the facade's
/// executor is built from; the builder keeps only what the facade adds (accounts, events)
/// and the retry settings, which two setters combine.
#[must_use]
pub struct PatchbayBuilder {
    executor: ExecutorBuilder,
    accounts: Arc<dyn AccountStore>,
    events: Arc<dyn EventSink>,
    retry: RetryPolicy,
    max_rate_limit_wait: Option<Duration>,
}

impl PatchbayBuilder {
    /// The HTTP client to call providers with (pooling, proxies, TLS).
    /// Build it with `reqwest::redirect::Policy::none()`: Patchbay follows
    /// redirects itself so credentials never reach another origin (see
    /// [`patchbay_executor::redirect`]). Default:
    /// [`default_http_client`](patchbay_executor::default_http_client).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.executor = self.executor.http_client(client);
        self
    }

    /// Where integrated accounts live. Default: [`MemoryAccountStore`].
    pub fn account_store(mut self, accounts: Arc<dyn AccountStore>) -> Self {
        self.accounts = accounts;
        self
    }

    /// Where events go. Default: [`MemoryEvents`].
    pub fn event_sink(mut self, events: Arc<dyn EventSink>) -> Self {
        self.events = events;
        self
    }

    /// Receives a [`CallReport`](patchbay_executor::CallReport) of every provider
    /// call when it ends (each page of a list, each step of a unified call), with its
    /// attempts and retry reasons: for request logs. Default: none.
    pub fn call_observer(mut self, observer: Arc<dyn patchbay_executor::CallObserver>) -> Self {
        self.executor = self.executor.call_observer(observer);
        self
    }

    /// Receives a report of every token request (refresh or new grant) when it ends,
    /// for request logs. Default: none.
    pub fn token_observer(
        mut self,
        observer: Arc<dyn patchbay_auth::telemetry::TokenRequestObserver>,
    ) -> Self {
        self.executor = self.executor.token_observer(observer);
        self
    }

    /// Retry rules of provider requests.
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The longest a provider's `Retry-After` (or rate-limit reset) is
    /// honoured: its own retry wait, and the pause of the account's other
    /// calls. A longer requested wait fails the call at once with a rate-limit
    /// error that names the requested wait and this bound, and pauses nothing.
    /// Default 60 s (the retry policy's `max_single_wait`, which this sets).
    pub fn max_rate_limit_wait(mut self, max: Duration) -> Self {
        self.max_rate_limit_wait = Some(max);
        self
    }

    /// Client-side pacing per account.
    pub fn pacing(mut self, pacing: PaceConfig) -> Self {
        self.executor = self.executor.pacing(pacing);
        self
    }

    /// Keeps the [`pacing`](Self::pacing) of each account in `store`, shared by
    /// every process (and every facade) using it: the pace then holds for all of
    /// them together. With the `redis` feature,
    /// `ratelimit::RedisPaceStore::new(redis_url)` is such a store. While the
    /// store is unavailable calls are paced per process, never failed. Default:
    /// pacing per facade, in-process.
    ///
    /// ```
    /// # #[cfg(feature = "redis")] {
    /// use std::sync::Arc;
    /// use patchbay::ratelimit::RedisPaceStore;
    ///
    /// let store = Arc::new(RedisPaceStore::new("redis://127.0.0.1:6379")?);
    /// let patchbay = patchbay::Patchbay::builder()
    ///     .pacing("10/s".parse()?)
    ///     .shared_pacing(store)
    ///     .build();
    /// # let _ = patchbay;
    /// # }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shared_pacing(mut self, store: Arc<dyn PaceStore>) -> Self {
        self.executor = self.executor.shared_pacing(store);
        self
    }

    /// A check of every URL before it is requested: provider requests, each
    /// redirect hop, token, refresh and revoke requests (a destination
    /// policy, e.g. [`egress::DestinationPolicy::into_check`](crate::egress::DestinationPolicy::into_check));
    /// an `Err(reason)` fails the call and nothing is sent.
    pub fn destination_check(mut self, check: patchbay_executor::DestinationCheck) -> Self {
        self.executor = self.executor.destination_check(check);
        self
    }

    /// At most `max` provider requests of one account in flight at once
    /// (default [`DEFAULT_MAX_IN_FLIGHT_PER_ACCOUNT`](patchbay_executor::DEFAULT_MAX_IN_FLIGHT_PER_ACCOUNT));
    /// more wait, up to the request timeout, then fail as rate limited.
    pub fn max_in_flight_per_account(mut self, max: usize) -> Self {
        self.executor = self.executor.max_in_flight_per_account(max);
        self
    }

    /// The most time one provider request may take in all, retries
    /// included (default 60 s; see
    /// [`ExecutorBuilder::call_deadline`](patchbay_executor::ExecutorBuilder::call_deadline)).
    pub fn call_deadline(mut self, deadline: Duration) -> Self {
        self.executor = self.executor.call_deadline(deadline);
        self
    }

    /// Timeout of one provider request.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.executor = self.executor.timeout(timeout);
        self
    }

    /// The largest provider response body accepted (default 32 MiB); a larger one fails the
    /// call with a transport error instead of being read.
    pub fn max_body_bytes(mut self, max: usize) -> Self {
        self.executor = self.executor.max_body_bytes(max);
        self
    }

    /// The most pages one `list` call may fetch (`None`: the paginator's own bound).
    pub fn max_pages(mut self, max: Option<u64>) -> Self {
        self.executor = self.executor.max_pages(max);
        self
    }

    /// Builds it.
    pub fn build(self) -> Patchbay {
        let mut retry = self.retry;
        if let Some(max) = self.max_rate_limit_wait {
            retry.max_single_wait = max;
        }
        let executor = self
            .executor
            .retry_policy(retry)
            .credential_store(Arc::new(TokensToStore(self.accounts.clone())))
            .auth_events(Arc::new(ReauthEvents {
                accounts: self.accounts.clone(),
                events: self.events.clone(),
            }));
        Patchbay {
            executor: executor.build(),
            installed: Arc::new(RwLock::new(HashMap::new())),
            accounts: self.accounts,
            events: self.events,
            unified: UnifiedRegistry::default(),
        }
    }
}

/// Calls third-party APIs described by Truto-format integration configs, for
/// integrated accounts kept in the host's [`AccountStore`].
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use futures_util::StreamExt;
/// use patchbay::{CallInput, ListOptions, Patchbay};
///
/// let patchbay = Patchbay::builder().build();
/// let config = patchbay::config::load_integration_config(&std::fs::read_to_string("examples/catalog/zendesk.json")?)?;
/// patchbay.install("zendesk-prod", config, Default::default())?;
/// // ... put an integrated account with environment_integration_id "zendesk-prod" in the store ...
/// let mut tickets = patchbay.list("acct-1", "tickets", "list", &CallInput::new(), ListOptions::default()).await?;
/// while let Some(ticket) = tickets.next().await {
///     println!("{}", ticket?["subject"]);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Patchbay {
    executor: Executor,
    installed: Arc<RwLock<HashMap<String, Arc<Installed>>>>,
    accounts: Arc<dyn AccountStore>,
    events: Arc<dyn EventSink>,
    /// Unified mappings registered per install ([`Patchbay::install_unified`]).
    pub(crate) unified: UnifiedRegistry,
}

impl std::fmt::Debug for Patchbay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let installed: Vec<String> = self
            .installed
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect();
        f.debug_struct("Patchbay")
            .field("installed", &installed)
            .finish_non_exhaustive()
    }
}

impl Patchbay {
    /// A builder: in-memory accounts and events, default retries, no pacing.
    pub fn builder() -> PatchbayBuilder {
        PatchbayBuilder {
            executor: Executor::builder(),
            accounts: Arc::new(MemoryAccountStore::new()),
            events: Arc::new(MemoryEvents::new()),
            retry: RetryPolicy::default(),
            max_rate_limit_wait: None,
        }
    }

    /// The account store.
    pub fn accounts(&self) -> &Arc<dyn AccountStore> {
        &self.accounts
    }

    /// The executor, for lower-level calls with a compiled [`CompiledIntegration`] of your own.
    /// Everything the server does goes through the facade's own methods; this is not
    /// needed for them.
    #[doc(hidden)]
    pub fn executor(&self) -> &Executor {
        &self.executor
    }

    /// Forgets what the facade remembers about `account_id`'s tokens (a cached access token,
    /// a failed refresh): call it after the account was re-authorized (new credentials in
    /// its context), so the next call starts from the new grant.
    ///
    /// ```
    /// let patchbay = patchbay::Patchbay::builder().build();
    /// patchbay.reconnected("acct-1");
    /// ```
    pub fn reconnected(&self, account_id: &str) {
        self.executor.tokens().forget(account_id);
    }

    /// Installs an integration under `environment_integration_id` (the id
    /// accounts refer to), with host `variables` (e.g. the OAuth app's
    /// `client_id`/`client_secret`) that every account's context sees. Replaces
    /// an earlier install under the same id.
    ///
    /// The methods and the inbound `webhook` config are compiled here, once; a
    /// new install under the same id compiles again. A `webhook` config that does
    /// not compile does not fail the install: calls still work and every inbound
    /// webhook gets [`Error::InvalidWebhook`].
    ///
    /// # Errors
    ///
    /// [`Error::InvalidIntegration`] when a method does not compile.
    pub fn install(
        &self,
        environment_integration_id: &str,
        config: IntegrationConfig,
        variables: Map<String, Value>,
    ) -> Result<(), Error> {
        self.install_named(
            environment_integration_id,
            environment_integration_id,
            config,
            variables,
        )
    }

    /// [`install`](Self::install) with the integration's `name` (e.g. `github`), which
    /// labels the install's [metrics](crate::telemetry) instead of the install id.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidIntegration`] when a method does not compile.
    pub fn install_named(
        &self,
        environment_integration_id: &str,
        name: &str,
        config: IntegrationConfig,
        variables: Map<String, Value>,
    ) -> Result<(), Error> {
        let integration = CompiledIntegration::new(config)
            .map_err(|e| Error::InvalidIntegration {
                name: environment_integration_id.to_owned(),
                message: e.to_string(),
            })?
            .with_name(name);
        let webhook = InstalledWebhook::compile(integration.config());
        self.installed
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                environment_integration_id.to_owned(),
                Arc::new(Installed {
                    integration,
                    variables,
                    webhook,
                    tools: std::sync::OnceLock::new(),
                }),
            );
        Ok(())
    }

    /// What is installed under `environment_integration_id`.
    pub(crate) fn installed(
        &self,
        environment_integration_id: &str,
    ) -> Result<Arc<Installed>, Error> {
        self.installed
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(environment_integration_id)
            .cloned()
            .ok_or_else(|| Error::UnknownIntegration(environment_integration_id.to_owned()))
    }

    /// Receives a provider's webhook sent to the URL of a whole install (one URL
    /// for every account of `environment_integration_id`), as of `now`.
    ///
    /// The install's compiled `webhook` config runs with the host variables as
    /// `$context` ([`WebhookHandler::route`](patchbay_webhook::WebhookHandler::route)):
    /// `signature_verification`, then `handle_verification`, then either the
    /// install's own events ([`Routed::Events`]) or, when the config sets
    /// `context_lookup_field_name` / `context_lookup_field_value`, the account
    /// the request is for: find the install's account whose context
    /// [`matches`](patchbay_webhook::AccountLookup::matches) (oldest first, say)
    /// and read its events with
    /// [`transform_for`](patchbay_webhook::AccountLookup::transform_for)
    /// (`$context` = host variables overlaid with the account's context).
    /// Nothing is stored or emitted: what to do with the events is the host's.
    ///
    /// ```
    /// use std::time::SystemTime;
    /// use patchbay::webhook::{InboundRequest, Routed};
    /// use serde_json::json;
    ///
    /// let config = patchbay::config::load_integration_config(r#"{
    ///     "base_url": "https://slack.com/api",
    ///     "webhook": {
    ///         "signature_verification": {"format": "basic", "config": {
    ///             "username": "hook", "password": "{{client_secret}}",
    ///             "context_lookup_field_name": "team_id",
    ///             "context_lookup_field_value": "body.team_id"}},
    ///         "payload_transform": "{'event': body.type, 'text': body.text}"
    ///     }
    /// }"#)?;
    /// let patchbay = patchbay::Patchbay::builder().build();
    /// let host = json!({"client_secret": "pw"});
    /// patchbay.install("slack-prod", config, host.as_object().cloned().unwrap())?;
    ///
    /// let request = InboundRequest::new("POST", "https://hooks.example.com/slack-prod")
    ///     .with_header("authorization", "Basic aG9vazpwdw==") // hook:pw
    ///     .with_header("content-type", "application/json")
    ///     .with_body(br#"{"type": "message", "team_id": "T1", "text": "hi"}"#.to_vec());
    /// match patchbay.install_webhook("slack-prod", &request, SystemTime::now())? {
    ///     Routed::NeedsAccount(lookup) => {
    ///         // The host finds the install's account whose context matches.
    ///         let account = json!({"team_id": "T1"});
    ///         assert!(lookup.matches(account.as_object().unwrap()));
    ///         let events = lookup.transform_for(account.as_object().unwrap())?;
    ///         assert_eq!(events, vec![json!({"event": "message", "text": "hi"})]);
    ///     }
    ///     other => panic!("expected an account lookup, got {other:?}"),
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::UnknownIntegration`], [`Error::NoWebhook`] (no `webhook` key),
    /// [`Error::InvalidWebhook`] (it does not compile), [`Error::Webhook`]
    /// when verification fails or an expression fails on the request.
    pub fn install_webhook(
        &self,
        environment_integration_id: &str,
        request: &InboundRequest,
        now: SystemTime,
    ) -> Result<Routed, Error> {
        let installed = self.installed(environment_integration_id)?;
        let host = Value::Object(installed.variables.clone());
        let routed = installed
            .webhook
            .handler(environment_integration_id, &host)?
            .route(request, now);
        let handshake = matches!(routed, Ok(Routed::Handshake(_)));
        crate::telemetry::inbound(installed.integration.name(), &routed, handshake);
        routed.map_err(Error::Webhook)
    }

    /// Receives a provider's webhook sent to the URL of one integrated
    /// `account` (a webhook registered per connection), as of `now`.
    ///
    /// The compiled `webhook` config of the account's install runs with the
    /// host variables overlaid with the account's context as `$context` (so
    /// secrets come from the account, as for calls):
    /// `signature_verification`, then `handle_verification`
    /// ([`Handled::Handshake`]), then `payload_transform` ([`Handled::Events`]);
    /// `context_lookup_field_*` are not used. Nothing is stored or emitted.
    ///
    /// # Errors
    ///
    /// As [`install_webhook`](Self::install_webhook), for the account's install.
    pub fn account_webhook(
        &self,
        account: &IntegratedAccount,
        request: &InboundRequest,
        now: SystemTime,
    ) -> Result<Handled, Error> {
        let installed = self.installed(&account.environment_integration_id)?;
        let context = installed.context_with(&account.context);
        let handled = installed
            .webhook
            .handler(&account.environment_integration_id, &Value::Object(context))?
            .handle(request, now);
        let handshake = matches!(handled, Ok(Handled::Handshake(_)));
        crate::telemetry::inbound(installed.integration.name(), &handled, handshake);
        handled.map_err(Error::Webhook)
    }

    /// The account, its install, and what the pipeline needs of it (the context is the
    /// install's host variables overlaid with the account's context).
    pub(crate) async fn load(
        &self,
        account_id: &str,
    ) -> Result<(IntegratedAccount, Arc<Installed>, AccountData), Error> {
        let account = self
            .accounts
            .get(account_id)
            .await
            .map_err(Error::Store)?
            .ok_or_else(|| Error::UnknownAccount(account_id.to_owned()))?;
        let installed = self.installed(&account.environment_integration_id)?;
        let context = installed.context_with(&account.context);
        let owned = AccountData {
            id: account.id.clone(),
            authentication_method: account.authentication_method,
            context,
        };
        Ok((account, installed, owned))
    }

    /// Calls a resource method once and returns the provider's response.
    ///
    /// # Errors
    ///
    /// [`Error::SandboxWrite`] for a non-GET method of a sandbox account;
    /// unknown account or integration; pipeline errors.
    pub async fn call(
        &self,
        account_id: &str,
        resource: &str,
        method: &str,
        input: &CallInput,
    ) -> Result<Response, Error> {
        let (account, installed, owned) = self.load(account_id).await?;
        let plan = installed.integration.plan(resource, method)?;
        if account.is_sandbox
            && !matches!(
                plan.http_method(),
                HttpMethod::Get | HttpMethod::Head | HttpMethod::Options
            )
        {
            return Err(Error::SandboxWrite(account.id));
        }
        Ok(self
            .executor
            .call(
                &installed.integration,
                owned.as_account_ref(),
                resource,
                method,
                input,
            )
            .await?)
    }

    /// Fetches one page of a list method.
    ///
    /// # Errors
    ///
    /// As [`call`](Self::call).
    pub async fn list_page(
        &self,
        account_id: &str,
        resource: &str,
        method: &str,
        input: &CallInput,
        options: ListOptions,
    ) -> Result<Page, Error> {
        let (_, installed, owned) = self.load(account_id).await?;
        Ok(self
            .executor
            .list_page(
                &installed.integration,
                owned.as_account_ref(),
                resource,
                method,
                input,
                options,
            )
            .await?)
    }

    /// Streams every record of a list method (constant memory; see
    /// [`RecordStream::next_cursor`] to resume).
    ///
    /// # Errors
    ///
    /// Unknown account or integration; pipeline errors arrive in the stream.
    pub async fn list(
        &self,
        account_id: &str,
        resource: &str,
        method: &str,
        input: &CallInput,
        options: ListOptions,
    ) -> Result<RecordStream, Error> {
        let (_, installed, owned) = self.load(account_id).await?;
        Ok(self.executor.list(
            &installed.integration,
            &owned,
            resource,
            method,
            input,
            options,
        ))
    }

    /// Gets new tokens for an OAuth account now, whether or not the current
    /// ones expire soon: the refresh token grant for `oauth2`, the grant again
    /// for `oauth2_client_credentials` and `keka_oauth`. Returns once the new
    /// tokens are stored. Concurrent callers (and calls) of the account share
    /// one token request.
    ///
    /// # Errors
    ///
    /// [`Error::CannotRefresh`] for `api_key` accounts and `oauth2` accounts
    /// without a refresh token (nothing is changed); [`Error::Auth`] when the
    /// provider refuses (the account is then `needs_reauth` and
    /// `integrated_account:authentication_error` is emitted) or cannot be
    /// reached; unknown account or integration.
    pub async fn refresh_credentials(&self, account_id: &str) -> Result<(), Error> {
        let (account, installed, owned) = self.load(account_id).await?;
        let cannot = |reason| Error::CannotRefresh {
            account: account.id.clone(),
            reason,
        };
        let credential = installed
            .integration
            .config()
            .credentials
            .as_ref()
            .and_then(|c| c.get(account.authentication_method.as_str()))
            .ok_or_else(|| {
                cannot("the integration has no credential for its authentication method")
            })?;
        match credential {
            Credential::ApiKey(_) => return Err(cannot("api_key credentials have no tokens")),
            Credential::OAuth2(_)
                if TokenSet::from_context(&owned.context)
                    .and_then(|t| t.refresh_token)
                    .is_none() =>
            {
                return Err(cannot("it has no refresh token; reconnect it instead"));
            }
            _ => {}
        }
        self.executor
            .tokens()
            .on_unauthorized(
                AccountAuth {
                    account_id: &account.id,
                    credential,
                    context: &owned.context,
                },
                None,
            )
            .await
            .map(|_| ())
            .map_err(Error::Auth)
    }

    /// Revokes an OAuth account's tokens at the provider (RFC 7009), e.g.
    /// before deleting the account: POSTs the refresh token, then the access
    /// token, each with its `token_type_hint`, to `auth.tokenHost` +
    /// `auth.revokePath`, authenticating the client as the config's token
    /// requests do. Does not change the account or emit events.
    ///
    /// Returns [`Revocation::NotConfigured`] when the credential has no
    /// `auth.revokePath` (or is not OAuth) and [`Revocation::NothingToRevoke`]
    /// when the account holds no tokens.
    ///
    /// # Errors
    ///
    /// [`Error::Auth`] with the first failure when the provider refuses or
    /// cannot be reached (both tokens are still tried); unknown account or
    /// integration. Callers deleting an account report the failure and go on.
    pub async fn revoke_credentials(&self, account_id: &str) -> Result<Revocation, Error> {
        let (account, installed, owned) = self.load(account_id).await?;
        let Some(credential) = installed
            .integration
            .config()
            .credentials
            .as_ref()
            .and_then(|c| c.get(account.authentication_method.as_str()))
        else {
            return Ok(Revocation::NotConfigured);
        };
        let flow = match OAuth2Flow::new(credential, self.executor.http_client().clone()) {
            Ok(flow) if flow.can_revoke() => {
                flow.with_destination_check(self.executor.destination_check().cloned())
            }
            _ => return Ok(Revocation::NotConfigured),
        };
        let Some(tokens) = TokenSet::from_context(&owned.context) else {
            return Ok(Revocation::NothingToRevoke);
        };
        let mut targets = Vec::new();
        if let Some(refresh) = &tokens.refresh_token {
            targets.push((refresh.expose(), TokenTypeHint::RefreshToken));
        }
        targets.push((tokens.access_token.expose(), TokenTypeHint::AccessToken));
        let mut first_error = None;
        let mut revoked = 0;
        for (token, hint) in targets {
            match flow.revoke(&owned.context, token, hint).await {
                Ok(()) => revoked += 1,
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(error) => Err(Error::Auth(error)),
            None => Ok(Revocation::Revoked { tokens: revoked }),
        }
    }

    /// Runs a named action and stores the context it produces; returns that context.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownAction`], [`Error::Action`] naming the failed step.
    pub async fn run_action(
        &self,
        account_id: &str,
        action: &str,
    ) -> Result<Map<String, Value>, Error> {
        let (_, installed, owned) = self.load(account_id).await?;
        let config = installed.integration.config();
        let steps = config
            .actions
            .as_ref()
            .and_then(|a| a.get(action))
            .ok_or_else(|| Error::UnknownAction(action.to_owned()))?
            .steps();
        let context = run_steps(
            &self.executor,
            &installed.integration,
            action,
            steps,
            owned.as_account_ref(),
        )
        .await?;
        // Host variables are not the account's: store them only if an action changed them.
        let patch: Map<String, Value> = context
            .into_iter()
            .filter(|(k, v)| installed.variables.get(k) != Some(v))
            .collect();
        self.accounts
            .update_context(account_id, patch.clone())
            .await
            .map_err(Error::Store)?;
        Ok(patch)
    }

    /// Runs `post_install` then `validation` (those the config has), setting
    /// the status: `connecting` while running, then `active`, or
    /// `post_install_error` / `validation_error` with `last_error`. Emits
    /// `integrated_account:active` or the matching error event. Returns the
    /// final status.
    ///
    /// # Errors
    ///
    /// Only store errors and unknown accounts; action failures become statuses.
    pub async fn connect(&self, account_id: &str) -> Result<AccountStatus, Error> {
        let (_, installed, _) = self.load(account_id).await?;
        let actions = installed
            .integration
            .config()
            .actions
            .clone()
            .unwrap_or_default();
        self.accounts
            .set_status(account_id, AccountStatus::Connecting, None)
            .await
            .map_err(Error::Store)?;
        for (name, failure) in [
            (action_names::POST_INSTALL, AccountStatus::PostInstallError),
            (action_names::VALIDATION, AccountStatus::ValidationError),
        ] {
            if actions.contains_key(name)
                && let Err(e) = self.run_action(account_id, name).await
            {
                return self.finish(account_id, failure, Some(e.to_string())).await;
            }
        }
        self.finish(account_id, AccountStatus::Active, None).await
    }

    async fn finish(
        &self,
        account_id: &str,
        status: AccountStatus,
        error: Option<String>,
    ) -> Result<AccountStatus, Error> {
        set_status_and_announce(
            self.accounts.as_ref(),
            self.events.as_ref(),
            account_id,
            status,
            error,
            &format!("integrated_account:{}", status.as_str()),
        )
        .await
        .map_err(Error::Store)?;
        Ok(status)
    }
}
