//! The unified models registered in the per-environment facades.
//!
//! A unified call needs the account's install compiled ([`Runtimes::current`])
//! and the model's mappings registered for that install
//! ([`Patchbay::install_unified`]): the model as the environment sees it
//! (its environment unified model's `override` applied), its base rows and the
//! environment's override rows, for the install's integration. Registering
//! compiles every mapping, so it runs once per revision: a call costs one
//! light query ([`Store::unified_route`]: ids and revision counters, nothing
//! parsed) while nothing changed. Every write of a model, a mapping row or an
//! environment unified model grows a revision in the same transaction, so
//! every process sharing the store registers again on its next call. A
//! registration that fails is kept as its error for that revision too.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use patchbay::Patchbay;
use patchbay::unified::{MappingRow, UnifiedModel};

use super::{Runtimes, disabled};
use crate::error::{ApiError, ApiResult};
use crate::store::{InstallRevision, MappingKind, MappingRecord, Store, UnifiedRoute};

/// What a registration was built from: the model's route (ids and
/// revisions) and the install's revision (its integration's name is part of it).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Revision {
    model: UnifiedRoute,
    install: InstallRevision,
}

/// A registered model: the model as the environment sees it and the name of
/// the integration its mappings were registered for.
#[derive(Debug, Clone)]
struct Registered {
    model: Arc<UnifiedModel>,
    integration_name: Arc<str>,
}

/// (environment, environment integration, model name).
type Slot = (String, String, String);

/// The revision a slot was registered at, and what registering gave.
type Registration = (Revision, Result<Registered, ApiError>);

/// The registrations of every install, by revision.
#[derive(Debug, Default)]
pub(crate) struct UnifiedRegistrations {
    registered: Mutex<HashMap<Slot, Registration>>,
    registering: tokio::sync::Mutex<()>,
    count: AtomicU64,
}

/// Where a unified call runs: the facade with the account's install compiled
/// and the model registered for it.
#[derive(Debug, Clone)]
pub struct UnifiedTarget {
    /// The environment's facade.
    pub patchbay: Patchbay,
    /// The model as the environment sees it (its environment override applied).
    pub model: Arc<UnifiedModel>,
    /// The name of the account's integration.
    pub integration_name: Arc<str>,
}

impl Runtimes {
    /// The facade of `environment_id` with the install of the account
    /// `account_id` compiled and the unified model `model_name` registered
    /// for it, as currently stored (see the module docs for the cost).
    ///
    /// # Errors
    ///
    /// 404 when the account or the model is not in the environment or the
    /// model is not installed (each message names what is missing), 409 when
    /// the install is disabled, 422 when the install's config or the model's
    /// mappings (with the environment's override) do not compile.
    pub async fn for_unified(
        &self,
        environment_id: &str,
        account_id: &str,
        model_name: &str,
    ) -> ApiResult<UnifiedTarget> {
        let route = self
            .store
            .account_route(environment_id, account_id)
            .await?
            .install;
        if !route.is_enabled {
            return Err(disabled(&route.environment_integration_id));
        }
        let install_id = route.environment_integration_id.clone();
        let patchbay = self.current(environment_id, &route).await?;
        let model = self.store.unified_route(environment_id, model_name).await?;
        if model.install.is_none() {
            return Err(not_installed(model_name));
        }
        let revision = Revision {
            model,
            install: route.revision(),
        };
        let slot = (environment_id.to_owned(), install_id, model_name.to_owned());
        let registered = match self.unified.cached(&slot, &revision) {
            Some(hit) => hit?,
            None => self.register(&slot, revision, &patchbay).await?,
        };
        Ok(UnifiedTarget {
            patchbay,
            model: registered.model,
            integration_name: registered.integration_name,
        })
    }

    /// The facade of `environment_id` with the install of the account
    /// `account_id` compiled and every unified model installed in the
    /// environment registered for it (for the account's MCP tools), with the
    /// names of the models that registered. A model whose mappings do not
    /// compile is left out with a warning: the other tools still serve.
    ///
    /// # Errors
    ///
    /// As [`for_account`](Self::for_account); the store's failure.
    pub async fn for_mcp(
        &self,
        environment_id: &str,
        account_id: &str,
    ) -> ApiResult<(Patchbay, Vec<String>)> {
        let patchbay = self.for_account(environment_id, account_id).await?;
        let mut models = Vec::new();
        for name in self
            .store
            .installed_unified_model_names(environment_id)
            .await?
        {
            match self.for_unified(environment_id, account_id, &name).await {
                Ok(_) => models.push(name),
                Err(error) => tracing::warn!(
                    model = %name,
                    error = %error,
                    "a unified model's tools are left out of an MCP server"
                ),
            }
        }
        Ok((patchbay, models))
    }

    /// How many times a unified model was loaded and registered since start:
    /// one per (install, model) revision served. For metrics and tests.
    pub fn unified_registrations(&self) -> u64 {
        self.unified.count.load(Ordering::Relaxed)
    }

    /// Loads and registers the model of `slot` (one registration at a time;
    /// a concurrent caller that registered it first is reused).
    async fn register(
        &self,
        slot: &Slot,
        revision: Revision,
        patchbay: &Patchbay,
    ) -> ApiResult<Registered> {
        let _one_at_a_time = self.unified.registering.lock().await;
        if let Some(hit) = self.unified.cached(slot, &revision) {
            return hit;
        }
        let (environment_id, install_id, model_name) = slot;
        self.unified.count.fetch_add(1, Ordering::Relaxed);
        // What is loaded may be newer than `revision`: then the next call
        // sees a newer revision and registers again, which is only extra work.
        let loaded = Loaded::read(&self.store, environment_id, model_name, &revision).await;
        let target = patchbay.clone();
        let install_id_owned = install_id.clone();
        let model_name_owned = model_name.clone();
        let registered = match loaded {
            Err(error) => Err(error),
            Ok(loaded) => tokio::task::spawn_blocking(move || {
                loaded.register(&target, &install_id_owned, &model_name_owned)
            })
            .await
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "registering a unified model failed");
                Err(ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the unified model could not be registered",
                ))
            }),
        };
        self.unified
            .registered
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(slot.clone(), (revision, registered.clone()));
        registered
    }
}

impl UnifiedRegistrations {
    /// What registering `slot` at `revision` gave, if it was registered at it.
    fn cached(&self, slot: &Slot, revision: &Revision) -> Option<ApiResult<Registered>> {
        let registered = self.registered.lock().unwrap_or_else(|e| e.into_inner());
        let (at, result) = registered.get(slot)?;
        (at == revision).then(|| result.clone())
    }
}

/// Everything a registration is built from, read from the store.
struct Loaded {
    model: UnifiedModel,
    integration_name: String,
    base: Vec<MappingRow>,
    environment: Vec<MappingRow>,
}

impl Loaded {
    async fn read(
        store: &Store,
        environment_id: &str,
        model_name: &str,
        revision: &Revision,
    ) -> ApiResult<Self> {
        let route = &revision.model;
        let (install_id, _) = route
            .install
            .as_ref()
            .ok_or_else(|| not_installed(model_name))?;
        let record = store
            .get_unified_model(environment_id, &route.unified_model_id)
            .await?;
        let install = store
            .get_environment_unified_model(environment_id, install_id)
            .await?;
        let model = match &install.model_override {
            None => record.model,
            Some(layer) => record.model.with_override(layer).map_err(|errors| {
                ApiError::from_validation(
                    &format!(
                        "the unified model `{}` with the environment's override is invalid",
                        record.model.name
                    ),
                    Some("override"),
                    &errors,
                )
            })?,
        };
        let integration_name = store
            .get_integration(environment_id, &revision.install.integration_id)
            .await?
            .name;
        let rows = |records: Vec<MappingRecord>| records.into_iter().map(mapping_row).collect();
        Ok(Self {
            base: rows(
                store
                    .all_mappings_of(environment_id, MappingKind::Base, &route.unified_model_id)
                    .await?,
            ),
            environment: rows(
                store
                    .all_mappings_of(environment_id, MappingKind::Environment, install_id)
                    .await?,
            ),
            model,
            integration_name,
        })
    }

    /// Registers the mappings for `install_id` (compiles them: run it on the
    /// blocking pool).
    fn register(
        self,
        patchbay: &Patchbay,
        install_id: &str,
        model_name: &str,
    ) -> ApiResult<Registered> {
        patchbay
            .install_unified(
                install_id,
                &self.model,
                &self.integration_name,
                &self.base,
                &self.environment,
            )
            .map_err(|e| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("the mappings of unified model `{model_name}` cannot be used: {e}"),
                )
            })?;
        Ok(Registered {
            model: Arc::new(self.model),
            integration_name: self.integration_name.into(),
        })
    }
}

/// The facade's form of a stored mapping row.
fn mapping_row(record: MappingRecord) -> MappingRow {
    let (unified_model_id, environment_unified_model_id) = match record.kind {
        MappingKind::Base => (Some(record.owner_id), None),
        MappingKind::Environment => (None, Some(record.owner_id)),
    };
    MappingRow {
        id: Some(record.id),
        unified_model_id,
        environment_unified_model_id,
        resource_name: record.resource_name,
        integration_name: record.integration_name,
        method_name: record.method_name,
        config: record.config,
        version: Some(record.version),
        created_at: None,
        updated_at: None,
    }
}

/// The 404 of a call to a model the environment has not installed.
fn not_installed(model_name: &str) -> ApiError {
    ApiError::not_found(format!(
        "unified model `{model_name}` is not installed in this environment \
         (POST /environment-unified-model)"
    ))
}
