//! `/datastore` and `/datastore/{id}`: destinations sync job runs upsert their records
//! into (`datastore_id` of `POST /sync-job-run`; `docs/sync-jobs.md`).
//!
//! The only type is `patchbay_database`: a table per resource in the server's own
//! database. Truto's other types (`mongo_data_api`, `s3`, `google_cloud_storage`,
//! `qdrant`) and any `config` (a connection URL would let API callers make the server
//! reach private addresses, and be a stored secret) are refused with 422 at `type` or
//! `config`. `DELETE` drops the datastore's tables; it is refused (409) while a run that
//! is not finished writes into it.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::responses::{AuthedErrors, ListErrors, NotFoundErrors, PageParams, ValidationErrors};
use super::views::{DatastorePage, DatastoreView, Deleted};
use super::{created, deleted, nullable};
use crate::auth::Env;
use crate::error::{ApiError, ApiResult, ErrorBody, FieldError};
use crate::extract::ApiJson;
use crate::query::PageQuery;
use crate::state::AppState;
use crate::store::PATCHBAY_DATABASE;

/// The body of `POST /datastore`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDatastore {
    /// `patchbay_database` (the only type: tables in the server's own database).
    #[serde(rename = "type")]
    pub datastore_type: String,
    /// A human label.
    #[serde(default)]
    pub label: Option<String>,
    /// Accepted for Truto's shape; must be absent or empty (`patchbay_database` takes
    /// no connection settings).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub config: Option<Map<String, Value>>,
}

/// The body of `PATCH /datastore/{id}`; absent fields are kept.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateDatastore {
    /// New label (`null` removes it).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub label: Option<Option<String>>,
}

fn check_label(label: Option<&str>, errors: &mut Vec<FieldError>) {
    if label.is_some_and(|l| l.len() > 1024) {
        errors.push(FieldError {
            path: "label".into(),
            message: "is longer than 1024 bytes".into(),
        });
    }
}

impl CreateDatastore {
    /// The label to store.
    ///
    /// # Errors
    ///
    /// 422 at `type` for any type but `patchbay_database`, at `config` for a non-empty
    /// config, at `label` for one longer than 1024 bytes.
    pub fn validate(self) -> ApiResult<Option<String>> {
        let mut errors = Vec::new();
        if self.datastore_type != PATCHBAY_DATABASE {
            errors.push(FieldError {
                path: "type".into(),
                message: format!(
                    "must be `{PATCHBAY_DATABASE}` (tables in the server's own database), not \
                     `{}`: external datastores (MongoDB, S3, Google Cloud Storage, Qdrant) are \
                     not supported",
                    self.datastore_type
                ),
            });
        }
        if let Some(key) = self.config.as_ref().and_then(|c| c.keys().next()) {
            errors.push(FieldError {
                path: format!("config.{key}"),
                message: format!(
                    "`{PATCHBAY_DATABASE}` takes no config: its tables are in the server's own \
                     database (connection URLs are not accepted)"
                ),
            });
        }
        check_label(self.label.as_deref(), &mut errors);
        if !errors.is_empty() {
            return Err(ApiError::invalid("the datastore is invalid", errors));
        }
        Ok(self.label)
    }
}

/// `GET /datastore`.
#[utoipa::path(
    get,
    path = "/datastore",
    operation_id = "list_datastores",
    summary = "List datastores",
    description = "The environment's datastores, a page at a time, each with its record tables.",
    tag = "sync-jobs",
    params(PageParams),
    responses(
        (status = 200, description = "One page of the datastores, oldest first.", body = DatastorePage),
        ListErrors,
        AuthedErrors,
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    Env(env): Env,
    PageQuery(page): PageQuery,
) -> ApiResult<Json<DatastorePage>> {
    let page = state.store.list_datastores(&env, &page).await?;
    Ok(Json(DatastorePage::from_store(page, DatastoreView::from)))
}

/// `POST /datastore` → 201 with the datastore.
#[utoipa::path(
    post,
    path = "/datastore",
    operation_id = "create_datastore",
    summary = "Create a datastore",
    description = "A destination for sync job runs (`datastore_id` of `POST /sync-job-run`): each record a run delivers is upserted into a table per resource in the server's own database, keyed by (`integrated_account_id`, `resource`, `record_id`). `type` must be `patchbay_database`; other types and any `config` (connection URLs are not accepted) answer `422` at `type` / `config.<key>`. See `docs/sync-jobs.md`.",
    tag = "sync-jobs",
    request_body = CreateDatastore,
    responses(
        (status = 201, description = "The datastore (no tables yet).", body = DatastoreView),
        ValidationErrors,
        AuthedErrors,
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    Env(env): Env,
    ApiJson(body): ApiJson<CreateDatastore>,
) -> ApiResult<impl IntoResponse> {
    let label = body.validate()?;
    let record = state.store.create_datastore(&env, label).await?;
    Ok(created(DatastoreView::from(record)))
}

/// `GET /datastore/{id}`.
#[utoipa::path(
    get,
    path = "/datastore/{id}",
    operation_id = "get_datastore",
    summary = "Get a datastore",
    description = "One datastore of the environment, with its record tables (one per resource a run delivered into it).",
    tag = "sync-jobs",
    params(("id" = String, Path, description = "The datastore's id.")),
    responses(
        (status = 200, description = "The datastore.", body = DatastoreView),
        AuthedErrors,
        NotFoundErrors,
    ),
)]
pub async fn get(
    State(state): State<AppState>,
    Env(env): Env,
    Path(id): Path<String>,
) -> ApiResult<Json<DatastoreView>> {
    Ok(Json(state.store.get_datastore(&env, &id).await?.into()))
}

/// `PATCH /datastore/{id}` → the datastore.
#[utoipa::path(
    patch,
    path = "/datastore/{id}",
    operation_id = "update_datastore",
    summary = "Update a datastore",
    description = "Changes the `label` (`null` removes it; absent: kept). The type cannot change.",
    tag = "sync-jobs",
    params(("id" = String, Path, description = "The datastore's id.")),
    request_body = UpdateDatastore,
    responses(
        (status = 200, description = "The datastore.", body = DatastoreView),
        ValidationErrors,
        AuthedErrors,
        NotFoundErrors,
    ),
)]
pub async fn update(
    State(state): State<AppState>,
    Env(env): Env,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateDatastore>,
) -> ApiResult<Json<DatastoreView>> {
    let Some(label) = body.label else {
        return Ok(Json(state.store.get_datastore(&env, &id).await?.into()));
    };
    let mut errors = Vec::new();
    check_label(label.as_deref(), &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::invalid("the datastore is invalid", errors));
    }
    Ok(Json(
        state.store.update_datastore(&env, &id, label).await?.into(),
    ))
}

/// `DELETE /datastore/{id}` → `{id}`; its tables are dropped.
#[utoipa::path(
    delete,
    path = "/datastore/{id}",
    operation_id = "delete_datastore",
    summary = "Delete a datastore",
    description = "Deletes the datastore and drops its tables (their records are gone). Finished runs that wrote into it stay, their `datastore_id` set to `null`. Answers `{\"id\": \"…\"}`; `409` while a run that is not finished (`created`, `running`, `rate_limited`) writes into it: stop it (`DELETE /sync-job-run/{id}`) or wait.",
    tag = "sync-jobs",
    params(("id" = String, Path, description = "The datastore's id.")),
    responses(
        (status = 200, description = "Deleted, its tables dropped.", body = Deleted),
        AuthedErrors,
        NotFoundErrors,
        (status = 409, description = "A run that is not finished writes into it.", body = ErrorBody),
    ),
)]
pub async fn delete(
    State(state): State<AppState>,
    Env(env): Env,
    Path(id): Path<String>,
) -> ApiResult<Json<Deleted>> {
    state.store.delete_datastore(&env, &id).await?;
    Ok(deleted(id))
}
