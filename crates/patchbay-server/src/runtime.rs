//! The facades that run proxy calls, unified calls and inbound webhooks, one
//! per environment (unified models are registered per revision too: see
//! [`UnifiedTarget`] and `runtime/unified.rs`).
//!
//! Each environment gets a [`Patchbay`] whose account store is the
//! environment's [`EnvironmentAccounts`] (so refreshed tokens are persisted,
//! encrypted, before use) and whose events go to the outbox. An environment
//! integration is installed into it on first use and re-installed when the
//! integration's `version` or the environment integration's `updated_at`
//! changes: the installed config is the integration's config with the
//! environment integration's `override` applied, and the host variables
//! (`client_id`, `client_secret`) come from the override's
//! `credentials.config.client` when it sets literal values. Installing
//! compiles the methods and the inbound `webhook` config once per revision.
//!
//! The inbound webhook routes ([`routes::inbound`](crate::routes::inbound))
//! take no API token: anyone who knows a webhook URL can call them, and a
//! request is authenticated only by its signature. So the costly steps
//! (reading the integration, applying the `override`, validating the merged
//! config, compiling it) never run per request: a request costs one light
//! query ([`Store::install_route`] or [`Store::account_route`]: no decryption,
//! no config parsing) while the install's revision is current, and every
//! process sees a change on its next request. A config that cannot be used
//! with the override (invalid, a method that does not compile) is kept as
//! its error for that revision too, so a broken install is not validated
//! again per request. Installs compile one at a time, on the blocking thread
//! pool, so a burst of requests after a change compiles once and never stalls
//! the async workers. An install that is deleted keeps its entry until the
//! process restarts (it is never used again: its route lookup answers 404
//! first).

mod unified;

pub use unified::UnifiedTarget;

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::http::StatusCode;
use patchbay::config::{IntegrationConfig, apply_override, validate_integration_config};
use patchbay::egress::{DestinationCheck, DestinationPolicy};
use patchbay::ratelimit::{PaceConfig, PaceStore};
use patchbay::{Event, EventSink, Patchbay};
use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult};
use crate::request_logs::{EnvironmentObserver, RequestLogs};
use crate::store::{
    EnvironmentAccounts, EnvironmentIntegration, InstallRevision, InstallRoute, IntegrationRecord,
    Store,
};

struct EnvRuntime {
    patchbay: Patchbay,
    /// The request-log observer of the environment's calls, when logs are on.
    observer: Option<Arc<EnvironmentObserver>>,
    /// The revision each install was compiled at, and what compiling it gave;
    /// another revision compiles again.
    installed: HashMap<String, (InstallRevision, Result<(), ApiError>)>,
}

impl EnvRuntime {
    /// Tells the request-log observer whether to keep bodies (read with each call's
    /// route, so a change applies on the next call in every process).
    fn note_log_bodies(&self, log_bodies: bool) {
        if let Some(observer) = &self.observer {
            observer.set_log_bodies(log_bodies);
        }
    }
}

/// How the environments' facades pace provider calls per integrated account
/// (see [`Runtimes::set_pacing`]).
#[derive(Debug, Clone, Default)]
pub struct Pacing {
    /// The pace of each account; `None`: no pacing.
    pub pace: Option<PaceConfig>,
    /// Where the pace is kept across processes (Redis); `None`: in each process.
    pub store: Option<Arc<dyn PaceStore>>,
}

/// The per-environment facades.
pub struct Runtimes {
    store: Arc<Store>,
    destinations: Arc<DestinationPolicy>,
    http: reqwest::Client,
    by_env: Mutex<HashMap<String, EnvRuntime>>,
    compiling: tokio::sync::Mutex<()>,
    compiles: AtomicU64,
    unified: unified::UnifiedRegistrations,
    logs: Option<RequestLogs>,
    pacing: Mutex<Pacing>,
}

impl fmt::Debug for Runtimes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtimes")
            .field("compiles", &self.compiles())
            .finish_non_exhaustive()
    }
}

impl Runtimes {
    /// No facade yet; they are built on first use. Every outbound request
    /// follows `destinations` (see [`patchbay::egress`]).
    pub fn new(store: Arc<Store>, destinations: Arc<DestinationPolicy>) -> Self {
        let http = patchbay::egress::client_builder(destinations.clone())
            .build()
            .unwrap_or_else(|e| {
                // Building fails only when the TLS backend cannot initialise.
                panic!("cannot build the outbound HTTP client: {e}")
            });
        Self {
            store,
            destinations,
            http,
            by_env: Mutex::new(HashMap::new()),
            compiling: tokio::sync::Mutex::new(()),
            compiles: AtomicU64::new(0),
            unified: unified::UnifiedRegistrations::default(),
            logs: None,
            pacing: Mutex::new(Pacing::default()),
        }
    }

    /// Paces the provider calls of every environment's facade built from now
    /// on (they are built on first use: set it before serving).
    pub fn set_pacing(&self, pacing: Pacing) {
        *self.pacing.lock().unwrap_or_else(|e| e.into_inner()) = pacing;
    }

    /// Logs every upstream call of every environment's facade to `logs`.
    #[must_use]
    pub fn with_request_logs(mut self, logs: RequestLogs) -> Self {
        self.logs = Some(logs);
        self
    }

    /// The HTTP client every facade (and the connect flow's token requests)
    /// shares, so connections to a provider are pooled once per process. It
    /// resolves names through the destination policy and follows no
    /// redirects.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Where outbound requests may go.
    pub fn destinations(&self) -> &Arc<DestinationPolicy> {
        &self.destinations
    }

    /// The policy as a URL check, for the pipeline's `destination_check`
    /// and OAuth token requests.
    pub fn destination_check(&self) -> DestinationCheck {
        self.destinations.clone().into_check()
    }

    /// How many times an install's config was loaded, merged, validated and
    /// compiled since start: one per install revision served. For metrics
    /// and tests.
    pub fn compiles(&self) -> u64 {
        self.compiles.load(Ordering::Relaxed)
    }

    /// A facade of `environment_id` with the environment integration of the
    /// account `account_id` installed as currently stored (see the module
    /// docs for the cost).
    ///
    /// # Errors
    ///
    /// 404 when the account, environment integration or integration is gone,
    /// 409 when the install is disabled, 422 when the config with the
    /// override is invalid.
    pub async fn for_account(&self, environment_id: &str, account_id: &str) -> ApiResult<Patchbay> {
        let route = self
            .store
            .account_route(environment_id, account_id)
            .await?
            .install;
        if !route.is_enabled {
            return Err(disabled(&route.environment_integration_id));
        }
        self.current(environment_id, &route).await
    }

    /// A facade of `environment_id` with the environment integration
    /// `install_id` installed as currently stored.
    ///
    /// # Errors
    ///
    /// As [`for_account`](Self::for_account), 404 when the install is gone.
    pub async fn for_install(&self, environment_id: &str, install_id: &str) -> ApiResult<Patchbay> {
        let route = self.store.install_route(environment_id, install_id).await?;
        if !route.is_enabled {
            return Err(disabled(install_id));
        }
        self.current(environment_id, &route).await
    }

    /// The facade with the install of `route` installed at the route's revision,
    /// compiled first when it is not. The environment's request-log observer learns
    /// the route's `log_bodies` on the way (so a change applies on the next call).
    async fn current(&self, environment_id: &str, route: &InstallRoute) -> ApiResult<Patchbay> {
        let install_id = route.environment_integration_id.as_str();
        let revision = &route.revision();
        if let Some(hit) = self.cached(environment_id, install_id, revision, route.log_bodies) {
            return hit;
        }
        let _one_at_a_time = self.compiling.lock().await;
        if let Some(hit) = self.cached(environment_id, install_id, revision, route.log_bodies) {
            return hit;
        }
        let install = self
            .store
            .get_environment_integration(environment_id, install_id)
            .await?;
        let integration = self
            .store
            .get_integration(environment_id, &install.integration_id)
            .await?;
        // The records may be newer than the route; key what is compiled.
        let loaded = InstallRevision::of(&integration, &install);
        let patchbay = self.runtime(environment_id);
        self.compiles.fetch_add(1, Ordering::Relaxed);
        let target = patchbay.clone();
        let compiled = tokio::task::spawn_blocking(move || {
            let effective = EffectiveConfig::of(&integration, &install)?;
            target
                .install_named(
                    &install.id,
                    &integration.name,
                    effective.config,
                    effective.variables,
                )
                .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))
        })
        .await
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "compiling an integration config failed");
            Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the integration config could not be compiled",
            ))
        });
        let mut by_env = self.by_env.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(runtime) = by_env.get_mut(environment_id) {
            runtime.note_log_bodies(route.log_bodies);
            runtime
                .installed
                .insert(install_id.to_owned(), (loaded, compiled.clone()));
        }
        compiled.map(|()| patchbay)
    }

    /// The environment's facade if `install_id` was compiled at `revision`
    /// (or the error compiling it gave).
    fn cached(
        &self,
        environment_id: &str,
        install_id: &str,
        revision: &InstallRevision,
        log_bodies: bool,
    ) -> Option<ApiResult<Patchbay>> {
        let by_env = self.by_env.lock().unwrap_or_else(|e| e.into_inner());
        let runtime = by_env.get(environment_id)?;
        let (installed_at, compiled) = runtime.installed.get(install_id)?;
        if installed_at != revision {
            return None;
        }
        runtime.note_log_bodies(log_bodies);
        Some(compiled.clone().map(|()| runtime.patchbay.clone()))
    }

    /// The facade of `environment_id`, built on first use.
    fn runtime(&self, environment_id: &str) -> Patchbay {
        let mut by_env = self.by_env.lock().unwrap_or_else(|e| e.into_inner());
        by_env
            .entry(environment_id.to_owned())
            .or_insert_with(|| self.new_runtime(environment_id))
            .patchbay
            .clone()
    }

    fn new_runtime(&self, environment_id: &str) -> EnvRuntime {
        let mut builder = Patchbay::builder();
        let pacing = self
            .pacing
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(pace) = pacing.pace {
            builder = builder.pacing(pace);
            if let Some(store) = pacing.store {
                // One store (one Redis connection) for every environment.
                builder = builder.shared_pacing(store);
            }
        }
        let observer = self.logs.as_ref().map(|logs| logs.observer(environment_id));
        if let Some(observer) = &observer {
            builder = builder
                .call_observer(observer.clone())
                .token_observer(observer.clone());
        }
        EnvRuntime {
            observer,
            patchbay: builder
                .http_client(self.http.clone())
                .destination_check(self.destination_check())
                .account_store(Arc::new(EnvironmentAccounts::new(
                    self.store.clone(),
                    environment_id,
                )))
                .event_sink(Arc::new(OutboxEvents {
                    store: self.store.clone(),
                    environment_id: environment_id.to_owned(),
                }))
                .build(),
            installed: HashMap::new(),
        }
    }
}

/// What an environment integration runs with: the integration's config with
/// the install's `override` applied, and the host variables the override sets.
pub(crate) struct EffectiveConfig {
    /// The validated, merged config.
    pub(crate) config: IntegrationConfig,
    /// `client_id` / `client_secret` from the override (see [`host_variables`]).
    pub(crate) variables: Map<String, Value>,
}

impl EffectiveConfig {
    /// Merges and validates `integration` with `install`'s override.
    ///
    /// # Errors
    ///
    /// 422 naming every problem (paths under `config`) when the merged config
    /// is invalid.
    pub(crate) fn of(
        integration: &IntegrationRecord,
        install: &EnvironmentIntegration,
    ) -> ApiResult<Self> {
        let override_value = install
            .override_
            .clone()
            .map(Value::Object)
            .unwrap_or(Value::Null);
        let merged = apply_override(&integration.config, &override_value);
        let config = validate_integration_config(&merged).map_err(|errors| {
            ApiError::from_validation(
                "the integration config with the environment integration's override is invalid",
                Some("config"),
                &errors,
            )
        })?;
        Ok(Self {
            config,
            variables: host_variables(&override_value),
        })
    }
}

/// An environment integration with its integration and the config it runs
/// with, as stored now.
pub(crate) struct Installed {
    /// The environment integration.
    pub(crate) install: EnvironmentIntegration,
    /// Its integration.
    pub(crate) integration: IntegrationRecord,
    /// The integration's config with the install's override, validated.
    pub(crate) effective: EffectiveConfig,
}

impl Installed {
    /// Completes an `install` the caller has already loaded (e.g. to check
    /// that it is enabled first) with its integration and effective config.
    ///
    /// # Errors
    ///
    /// 404 when its integration is gone, 422 when the config with the
    /// override is invalid.
    pub(crate) async fn of(store: &Store, install: EnvironmentIntegration) -> ApiResult<Self> {
        let integration = store
            .get_integration(&install.environment_id, &install.integration_id)
            .await?;
        let effective = EffectiveConfig::of(&integration, &install)?;
        Ok(Self {
            install,
            integration,
            effective,
        })
    }
}

/// The 409 of every use of a disabled environment integration.
pub(crate) fn disabled(install_id: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        format!("the environment integration `{install_id}` is disabled"),
    )
}

/// `client_id` / `client_secret` from the override's
/// `credentials.config.client`, when they are literal values (not placeholders).
fn host_variables(override_value: &Value) -> Map<String, Value> {
    let mut variables = Map::new();
    let client = override_value.pointer("/credentials/config/client");
    for (field, variable) in [("id", "client_id"), ("secret", "client_secret")] {
        if let Some(text) = client.and_then(|c| c.get(field)).and_then(Value::as_str)
            && !text.contains("{{")
        {
            variables.insert(variable.to_owned(), Value::String(text.to_owned()));
        }
    }
    variables
}

/// The facade's events, queued in the environment's outbox for webhooks.
struct OutboxEvents {
    store: Arc<Store>,
    environment_id: String,
}

#[async_trait]
impl EventSink for OutboxEvents {
    async fn emit(&self, event: Event) {
        if let Err(e) = self
            .store
            .enqueue_event(&self.environment_id, &event.name, &event.payload)
            .await
        {
            tracing::warn!(event = %event.name, error = %e, "cannot queue an event");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn host_variables_take_literal_client_values_only() {
        let value =
            json!({"credentials": {"config": {"client": {"id": "ours", "secret": "{{x}}"}}}});
        assert_eq!(
            Value::Object(host_variables(&value)),
            json!({"client_id": "ours"})
        );
        assert!(host_variables(&Value::Null).is_empty());
    }
}
