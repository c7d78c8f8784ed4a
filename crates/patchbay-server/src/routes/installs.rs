//! `/environment-integration` and `/environment-integration/{id}`: integrations
//! installed in the environment.
//!
//! An `override` is checked by applying it to the integration's config and
//! validating the result (422 with paths starting at `config`). Answers show
//! the override's secrets as the mask `********` (see [`crate::redact`]); a
//! mask sent back in a `PATCH` keeps the stored secret at its path.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use patchbay::config::{apply_override, validate_integration_config};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::responses::{AuthedErrors, ListErrors, NotFoundErrors, PageParams, ValidationErrors};
use super::views::{Deleted, InstallPage, InstallView};
use super::{created, deleted, nullable};
use crate::auth::Env;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;
use crate::query::PageQuery;
use crate::redact::restore_masked;
use crate::state::AppState;
use crate::store::{
    EnvironmentIntegration, EnvironmentIntegrationPatch, NewEnvironmentIntegration,
};

/// The body of `POST /environment-integration`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Install {
    /// The integration to install.
    pub integration_id: String,
    /// Config overrides (may hold `credentials.config.client`).
    #[serde(default, rename = "override")]
    #[schema(value_type = Option<Object>)]
    pub override_: Option<Map<String, Value>>,
    /// Enabled (default true).
    #[serde(default)]
    pub is_enabled: Option<bool>,
    /// Shown in the catalog (default true).
    #[serde(default)]
    pub show_in_catalog: Option<bool>,
}

impl Install {
    /// The install to store, with the defaults applied. The override is
    /// not yet checked against the integration's config (the handler does that).
    ///
    /// # Errors
    ///
    /// 422 with the path of every mask `********` in the override: a new
    /// install has no stored secret a mask could stand for.
    pub fn validate(mut self) -> ApiResult<NewEnvironmentIntegration> {
        if let Some(override_) = self.override_.as_mut() {
            unmask(override_, None)?;
        }
        Ok(NewEnvironmentIntegration {
            integration_id: self.integration_id,
            show_in_catalog: self.show_in_catalog.unwrap_or(true),
            is_enabled: self.is_enabled.unwrap_or(true),
            override_: self.override_,
        })
    }
}

/// The body of `PATCH /environment-integration/{id}`; `override` replaces the
/// stored one wholesale (`null` removes it).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateInstall {
    /// New catalog flag.
    #[serde(default)]
    pub show_in_catalog: Option<bool>,
    /// New enabled flag.
    #[serde(default)]
    pub is_enabled: Option<bool>,
    /// The new override.
    #[serde(default, rename = "override", deserialize_with = "nullable")]
    #[schema(value_type = Option<Object>)]
    pub override_: Option<Option<Map<String, Value>>>,
}

impl UpdateInstall {
    /// Whether the body sets a new override (which must then be checked
    /// against the `current` install: [`UpdateInstall::validate`]).
    pub fn sets_override(&self) -> bool {
        matches!(self.override_, Some(Some(_)))
    }

    /// The change to store. A new override gets the secrets of `current`
    /// (the stored install, needed when [`UpdateInstall::sets_override`])
    /// back where it holds the answer's mask.
    ///
    /// # Errors
    ///
    /// 422 with the path of every mask that stands for no stored secret.
    pub fn validate(
        mut self,
        current: Option<&EnvironmentIntegration>,
    ) -> ApiResult<EnvironmentIntegrationPatch> {
        if let Some(Some(override_)) = self.override_.as_mut() {
            unmask(override_, current.and_then(|c| c.override_.as_ref()))?;
        }
        Ok(EnvironmentIntegrationPatch {
            show_in_catalog: self.show_in_catalog,
            is_enabled: self.is_enabled,
            override_: self.override_,
        })
    }
}

/// Puts the stored secrets back where `sent` holds the answer's mask.
///
/// # Errors
///
/// 422 with the path of every mask that stands for no stored secret.
fn unmask(sent: &mut Map<String, Value>, stored: Option<&Map<String, Value>>) -> ApiResult<()> {
    restore_masked(sent, stored)
        .map_err(|errors| ApiError::invalid("the override is invalid", errors))
}

/// 422 unless `override_` applied over the integration's config validates.
pub(crate) async fn check_override(
    state: &AppState,
    env: &str,
    integration_id: &str,
    override_: Option<&Map<String, Value>>,
) -> ApiResult<()> {
    let Some(override_) = override_ else {
        return Ok(());
    };
    let integration = state.store.get_integration(env, integration_id).await?;
    let merged = apply_override(&integration.config, &Value::Object(override_.clone()));
    validate_integration_config(&merged)
        .map(|_| ())
        .map_err(|errors| {
            ApiError::from_validation(
                "the integration config with this override is invalid",
                Some("config"),
                &errors,
            )
        })
}

/// `GET /environment-integration?limit=&next_cursor=` → `{result, next_cursor}`.
#[utoipa::path(
    get,
    path = "/environment-integration",
    operation_id = "list_environment_integrations",
    summary = "List environment integrations",
    description = "The environment's installs, a page at a time (`{result, next_cursor}`), overrides without secrets.",
    tag = "environment-integrations",
    params(PageParams),
    responses(
        (status = 200, description = "One page of the environment's installs, oldest first, overrides without secrets.", body = InstallPage),
        ListErrors,
        AuthedErrors,
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    Env(env): Env,
    PageQuery(page): PageQuery,
) -> ApiResult<Json<InstallPage>> {
    let page = state
        .store
        .list_environment_integrations(&env, &page)
        .await?;
    Ok(Json(InstallPage::from_store(page, InstallView::redacted)))
}

/// `POST /environment-integration` → 201 with the installed integration.
#[utoipa::path(
    post,
    path = "/environment-integration",
    operation_id = "create_environment_integration",
    summary = "Install an integration",
    description = "Installs an integration of the environment (once per integration). `is_enabled` and `show_in_catalog` default to `true`. The `override` is layered over the integration's config (objects merge key by key, `null` keeps the base value, other values replace it) and the result must validate (`422` with paths starting at `config`). Its secrets are stored encrypted and never answered.",
    tag = "environment-integrations",
    request_body = Install,
    responses(
        (status = 201, description = "The installed integration (override without secrets).", body = InstallView),
        ValidationErrors,
        AuthedErrors,
        NotFoundErrors,
        (status = 409, description = "The integration is already installed.", body = ErrorBody),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    Env(env): Env,
    ApiJson(body): ApiJson<Install>,
) -> ApiResult<impl IntoResponse> {
    let install = body.validate()?;
    let override_ = install.override_.as_ref();
    check_override(&state, &env, &install.integration_id, override_).await?;
    let install = state.store.install_integration(&env, install).await?;
    Ok(created(InstallView::redacted(install)))
}

/// `GET /environment-integration/{id}`.
#[utoipa::path(
    get,
    path = "/environment-integration/{id}",
    operation_id = "get_environment_integration",
    summary = "Get an environment integration",
    description = "One install, its override without secrets.",
    tag = "environment-integrations",
    params(("id" = String, Path, description = "The environment integration's id.")),
    responses(
        (status = 200, description = "The install (override without secrets).", body = InstallView),
        AuthedErrors,
        NotFoundErrors,
    ),
)]
pub async fn get(
    State(state): State<AppState>,
    Env(env): Env,
    Path(id): Path<String>,
) -> ApiResult<Json<InstallView>> {
    let install = state.store.get_environment_integration(&env, &id).await?;
    Ok(Json(InstallView::redacted(install)))
}

/// `PATCH /environment-integration/{id}`.
#[utoipa::path(
    patch,
    path = "/environment-integration/{id}",
    operation_id = "update_environment_integration",
    summary = "Update an environment integration",
    description = "Absent fields are kept; `override` replaces the stored override wholesale (`null` removes it) and is validated as for `POST`.",
    tag = "environment-integrations",
    params(("id" = String, Path, description = "The environment integration's id.")),
    request_body = UpdateInstall,
    responses(
        (status = 200, description = "The changed install (override without secrets).", body = InstallView),
        ValidationErrors,
        AuthedErrors,
        NotFoundErrors,
    ),
)]
pub async fn update(
    State(state): State<AppState>,
    Env(env): Env,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateInstall>,
) -> ApiResult<Json<InstallView>> {
    let current = if body.sets_override() {
        Some(state.store.get_environment_integration(&env, &id).await?)
    } else {
        None
    };
    let patch = body.validate(current.as_ref())?;
    if let (Some(current), Some(Some(override_))) = (&current, &patch.override_) {
        check_override(&state, &env, &current.integration_id, Some(override_)).await?;
    }
    let install = state
        .store
        .update_environment_integration(&env, &id, patch)
        .await?;
    Ok(Json(InstallView::redacted(install)))
}

/// `DELETE /environment-integration/{id}` → `{id}` (409 while accounts use it).
#[utoipa::path(
    delete,
    path = "/environment-integration/{id}",
    operation_id = "delete_environment_integration",
    summary = "Uninstall an integration",
    description = "Answers `{\"id\": \"…\"}`; `409` while accounts use it.",
    tag = "environment-integrations",
    params(("id" = String, Path, description = "The environment integration's id.")),
    responses(
        (status = 200, description = "Uninstalled.", body = Deleted),
        AuthedErrors,
        NotFoundErrors,
        (status = 409, description = "Accounts use the install.", body = ErrorBody),
    ),
)]
pub async fn delete(
    State(state): State<AppState>,
    Env(env): Env,
    Path(id): Path<String>,
) -> ApiResult<Json<Deleted>> {
    state
        .store
        .delete_environment_integration(&env, &id)
        .await?;
    Ok(deleted(id))
}
