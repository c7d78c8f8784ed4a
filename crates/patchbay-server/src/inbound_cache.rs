//! The inbound `webhook` config of each install, compiled once per revision.
//!
//! The inbound webhook routes ([`routes::inbound`](crate::routes::inbound))
//! take no API token: anyone who knows a webhook URL can call them, and a
//! request is authenticated only by its signature. So the costly steps (reading
//! the integration, applying the install's `override`, validating the whole
//! merged config, compiling the JSONata fields) must not run per request:
//! [`InboundConfigs`] keeps the compiled config of each install and reuses it
//! while the install's revision is current. A request then costs one light
//! query ([`Store::install_route`] or [`Store::account_route`]: no decryption,
//! no config parsing) before its signature is checked.
//!
//! The revision is the integration's id and `version` and the install's
//! `updated_at`, as for proxy calls ([`crate::runtime::Runtimes`]): any change
//! to either is seen on the next request, by every process. A config that
//! cannot be used (invalid with the override, no `webhook` key, a JSONata field
//! that does not compile) is cached as its error for that revision too, so a
//! broken install does not make every request validate it again. Cache misses
//! compile one at a time, on the blocking thread pool, so a burst of requests
//! after a change compiles once and never stalls the async workers. The cache
//! holds one small entry per install served since start; an install that is
//! deleted keeps its entry until the process restarts (it is never used
//! again: its route lookup answers 404 first).

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use patchbay::template::expression::Expression;
use patchbay::webhook::{CompiledWebhook, WebhookHandler};
use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult};
use crate::routes::inbound::{MAX_BODY_BYTES, config_error};
use crate::runtime::{EffectiveConfig, disabled};
use crate::store::{EnvironmentIntegration, InstallRevision, IntegrationRecord, Store};

/// One install's cache slot: its revision and what compiling it gave.
struct Slot {
    revision: InstallRevision,
    compiled: Result<Arc<InboundConfig>, ApiError>,
}

impl Slot {
    /// The compiled config, or the cached error.
    fn answer(&self) -> ApiResult<Arc<InboundConfig>> {
        self.compiled.clone()
    }
}

/// An install's inbound `webhook` config, compiled (see the module docs).
pub struct InboundConfig {
    /// The environment integration.
    pub install_id: String,
    /// The `webhook` config (with the override applied), compiled.
    pub webhook: CompiledWebhook,
    /// The install-level routing of `context_lookup_field_*`, when configured.
    pub lookup: Option<ContextLookup>,
    /// The host variables (`client_id`, `client_secret`) from the override.
    pub variables: Map<String, Value>,
}

/// Never shows the host variables (they hold the client secret).
impl fmt::Debug for InboundConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InboundConfig")
            .field("install_id", &self.install_id)
            .field("webhook", &self.webhook)
            .field("lookup", &self.lookup)
            .finish_non_exhaustive()
    }
}

/// `context_lookup_field_name` and the compiled `context_lookup_field_value`.
#[derive(Debug, Clone)]
pub struct ContextLookup {
    /// The account context key (dots walk into objects).
    pub field_name: String,
    /// The JSONata expression over the request that gives the value to match.
    pub value: Expression,
}

impl InboundConfig {
    /// The handler for `context` (the host variables, overlaid with an
    /// account's context for an account's webhook).
    ///
    /// # Errors
    ///
    /// 500 naming the field when `signature_verification` cannot be used with
    /// `context` (e.g. a secret placeholder does not resolve).
    pub fn handler(&self, context: &Value) -> ApiResult<WebhookHandler> {
        self.webhook.handler(context).map_err(|e| config_error(&e))
    }
}

/// The compiled inbound configs of every install this process has served.
pub struct InboundConfigs {
    store: Arc<Store>,
    slots: Mutex<HashMap<String, Slot>>,
    compiling: tokio::sync::Mutex<()>,
    compiles: AtomicU64,
}

impl fmt::Debug for InboundConfigs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InboundConfigs")
            .field("compiles", &self.compiles())
            .finish_non_exhaustive()
    }
}

impl InboundConfigs {
    /// An empty cache over `store`.
    pub fn new(store: Arc<Store>) -> Self {
        Self {
            store,
            slots: Mutex::new(HashMap::new()),
            compiling: tokio::sync::Mutex::new(()),
            compiles: AtomicU64::new(0),
        }
    }

    /// How many times an install's config was loaded, merged, validated and
    /// compiled since start: one per cache miss. For metrics and tests.
    pub fn compiles(&self) -> u64 {
        self.compiles.load(Ordering::Relaxed)
    }

    /// The config of the install `install_id` of `environment_id`.
    ///
    /// # Errors
    ///
    /// 404 unknown install or no `webhook` key, 409 disabled install, 422
    /// invalid config with the override, 500 a `webhook` field that cannot be
    /// compiled.
    pub async fn for_install(
        &self,
        environment_id: &str,
        install_id: &str,
    ) -> ApiResult<Arc<InboundConfig>> {
        let route = self.store.install_route(environment_id, install_id).await?;
        if !route.is_enabled {
            return Err(disabled(install_id));
        }
        self.current(environment_id, install_id, &route.revision())
            .await
    }

    /// The config of the install of the account `account_id`.
    ///
    /// # Errors
    ///
    /// 404 unknown account, otherwise as [`for_install`](Self::for_install).
    pub async fn for_account(
        &self,
        environment_id: &str,
        account_id: &str,
    ) -> ApiResult<Arc<InboundConfig>> {
        let route = self
            .store
            .account_route(environment_id, account_id)
            .await?
            .install;
        if !route.is_enabled {
            return Err(disabled(&route.environment_integration_id));
        }
        self.current(
            environment_id,
            &route.environment_integration_id,
            &route.revision(),
        )
        .await
    }

    /// The cached config of `install_id` at `revision`, compiled first on a miss.
    async fn current(
        &self,
        environment_id: &str,
        install_id: &str,
        revision: &InstallRevision,
    ) -> ApiResult<Arc<InboundConfig>> {
        if let Some(hit) = self.cached(install_id, revision) {
            return hit;
        }
        let _one_at_a_time = self.compiling.lock().await;
        if let Some(hit) = self.cached(install_id, revision) {
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
        self.compiles.fetch_add(1, Ordering::Relaxed);
        let compiled = tokio::task::spawn_blocking(move || compile(&integration, &install))
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "compiling an inbound webhook config failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the integration's webhook config could not be compiled",
                )
            })?;
        let slot = Slot {
            revision: loaded,
            compiled,
        };
        let answer = slot.answer();
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.insert(install_id.to_owned(), slot);
        answer
    }

    fn cached(
        &self,
        install_id: &str,
        revision: &InstallRevision,
    ) -> Option<ApiResult<Arc<InboundConfig>>> {
        let slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots
            .get(install_id)
            .filter(|slot| slot.revision == *revision)
            .map(Slot::answer)
    }
}

/// Merges, validates and compiles the `webhook` config of `install`.
fn compile(
    integration: &IntegrationRecord,
    install: &EnvironmentIntegration,
) -> ApiResult<Arc<InboundConfig>> {
    let effective = EffectiveConfig::of(integration, install)?;
    let Some(webhook) = effective.config.webhook else {
        return Err(ApiError::not_found(format!(
            "the integration `{}` has no `webhook` config, so it accepts no inbound webhooks",
            integration.name
        )));
    };
    let lookup = webhook
        .signature_verification
        .as_ref()
        .and_then(|sv| sv.config.as_ref())
        .and_then(|c| {
            Some((
                c.context_lookup_field_name.clone()?,
                c.context_lookup_field_value.clone()?,
            ))
        })
        .map(|(field_name, source)| {
            Expression::compile(&source)
                .map(|value| ContextLookup { field_name, value })
                .map_err(|e| {
                    config_error(&format!(
                        "`context_lookup_field_value` does not compile: {e}"
                    ))
                })
        })
        .transpose()?;
    let compiled = CompiledWebhook::new(&webhook)
        .map_err(|e| config_error(&e))?
        .with_max_body_bytes(MAX_BODY_BYTES);
    Ok(Arc::new(InboundConfig {
        install_id: install.id.clone(),
        webhook: compiled,
        lookup,
        variables: effective.variables,
    }))
}
