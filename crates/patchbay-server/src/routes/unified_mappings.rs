//! The mapping rows: `/unified-model-resource-method` (a unified model's base
//! rows) and `/environment-unified-model-resource-method` (the environment's
//! override rows, layered over the base rows at run time).
//!
//! One row per (owner, `resource_name`, `integration_name`, `method_name`),
//! validated with [`validate_mapping_row`]: an invalid row answers 400 with
//! every problem and its JSON path (`config.response_mapping`), and nothing is
//! stored. `PATCH` deep-merges `config` (objects merge key by key, `null`
//! deletes a key, anything else replaces) and may send the row's `version`
//! (409 when it is stale). Every change takes effect on the next unified call.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::IntoResponse;
use patchbay::unified::{MappingRow, validate_mapping_row};
use serde_json::{Map, Value};

use super::responses::{AuthedErrors, DefinitionErrors, ListErrors, NotFoundErrors, PageParams};
use super::views::{Deleted, MappingPage, MappingView};
use super::{created, deleted};
use crate::auth::Env;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::ApiJson;
use crate::query::QueryParams;
use crate::state::AppState;
use crate::store::{MappingFilter, MappingKind, MappingRecord, NewMapping};

/// The keys of a row that the store owns: accepted and ignored.
const STORE_OWNED: [&str; 4] = ["id", "version", "created_at", "updated_at"];

/// The body key naming the owner of a row of `kind`, and the other kind's.
fn owner_keys(kind: MappingKind) -> (&'static str, &'static str) {
    match kind {
        MappingKind::Base => ("unified_model_id", "environment_unified_model_id"),
        MappingKind::Environment => ("environment_unified_model_id", "unified_model_id"),
    }
}

/// A 400 naming one problem at `path`.
fn problem(path: &str, message: String) -> ApiError {
    ApiError::Rejected {
        message: format!("the mapping row is invalid: {path}: {message}"),
        errors: vec![FieldError {
            path: path.to_owned(),
            message,
        }],
    }
}

/// `body` as a row of `kind`, every problem reported with its path.
fn check_row(kind: MappingKind, mut body: Map<String, Value>) -> ApiResult<(String, MappingRow)> {
    for key in STORE_OWNED {
        body.remove(key);
    }
    let (owner_key, other_key) = owner_keys(kind);
    if body.contains_key(other_key) {
        return Err(problem(
            other_key,
            format!("this kind of row belongs to a `{owner_key}`, not a `{other_key}`"),
        ));
    }
    let owner = match body.get(owner_key) {
        Some(Value::String(id)) if !id.is_empty() => id.clone(),
        _ => return Err(problem(owner_key, "a non-empty string is required".into())),
    };
    let row = validate_mapping_row(&Value::Object(body))
        .map_err(|errors| ApiError::rejected("the mapping row is invalid", None, &errors))?;
    Ok((owner, row))
}

/// RFC 7396 merge: objects merge key by key, `null` deletes the key, any
/// other value replaces.
pub(crate) fn merge_patch(target: &mut Value, patch: Value) {
    let Value::Object(patch) = patch else {
        *target = patch;
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(target) = target {
        for (key, value) in patch {
            if value.is_null() {
                target.remove(&key);
            } else {
                merge_patch(target.entry(key).or_insert(Value::Null), value);
            }
        }
    }
}

async fn create_row(
    state: &AppState,
    env: &str,
    kind: MappingKind,
    body: Map<String, Value>,
) -> ApiResult<MappingView> {
    let (owner_id, row) = check_row(kind, body)?;
    let record = state
        .store
        .create_mapping(
            env,
            kind,
            NewMapping {
                owner_id,
                resource_name: row.resource_name,
                integration_name: row.integration_name,
                method_name: row.method_name,
                config: row.config,
            },
        )
        .await?;
    Ok(record.into())
}

async fn list_rows(
    state: &AppState,
    env: &str,
    kind: MappingKind,
    raw: Option<&str>,
) -> ApiResult<MappingPage> {
    let query = QueryParams::parse(raw)?;
    let text = |key: &str| query.get(key).map(str::to_owned);
    let filter = MappingFilter {
        owner_id: text(owner_keys(kind).0),
        resource_name: text("resource_name"),
        integration_name: text("integration_name"),
        method_name: text("method_name"),
        version: query.u64("version")?,
    };
    let page = state
        .store
        .list_mappings(env, kind, &filter, &query.page()?)
        .await?;
    Ok(MappingPage::from_store(page, MappingView::from))
}

async fn update_row(
    state: &AppState,
    env: &str,
    kind: MappingKind,
    id: &str,
    mut body: Map<String, Value>,
) -> ApiResult<MappingView> {
    let current = state.store.get_mapping(env, kind, id).await?;
    let expected = body.remove("version").map(|v| {
        v.as_u64().ok_or_else(|| {
            ApiError::bad_request(format!("`version` must be a whole number, not {v}"))
        })
    });
    if let Some(expected) = expected.transpose()?
        && expected != current.version
    {
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            format!(
                "the mapping row `{id}` is at version {}, not {expected}: read it again and retry",
                current.version
            ),
        ));
    }
    let (owner_key, _) = owner_keys(kind);
    if let Some(owner) = body.get(owner_key)
        && owner.as_str() != Some(&current.owner_id)
    {
        return Err(problem(
            owner_key,
            "a row cannot move to another owner".into(),
        ));
    }
    let mut merged = Map::new();
    merged.insert(owner_key.into(), current.owner_id.clone().into());
    merged.insert("resource_name".into(), current.resource_name.clone().into());
    merged.insert(
        "integration_name".into(),
        current.integration_name.clone().into(),
    );
    merged.insert("method_name".into(), current.method_name.clone().into());
    let mut config = serde_json::to_value(&current.config).unwrap_or_default();
    if let Some(patch) = body.remove("config") {
        merge_patch(&mut config, patch);
    }
    merged.insert("config".into(), config);
    for key in STORE_OWNED {
        body.remove(key);
    }
    // The names, and any unknown key (reported by the validation).
    merged.extend(body);
    let (_, row) = check_row(kind, merged)?;
    let record = state
        .store
        .update_mapping(
            env,
            MappingRecord {
                resource_name: row.resource_name,
                integration_name: row.integration_name,
                method_name: row.method_name,
                config: row.config,
                ..current
            },
        )
        .await?;
    Ok(record.into())
}

macro_rules! mapping_routes {
    (
        kind = $kind:expr,
        path = $path:literal,
        id_path = $id_path:literal,
        tag = $tag:literal,
        what = $what:literal,
        owner_filter = $owner:literal,
        ops = ($list:ident, $create:ident, $get:ident, $update:ident, $delete:ident),
        ids = ($list_id:literal, $create_id:literal, $get_id:literal, $update_id:literal, $delete_id:literal),
        create_description = $create_description:literal $(,)?
    ) => {
        #[doc = concat!("`GET ", $path, "`.")]
        #[utoipa::path(
            get,
            path = $path,
            operation_id = $list_id,
            summary = concat!("List ", $what, "s"),
            description = "The environment's rows, a page at a time; the filters are optional and combined with AND.",
            tag = $tag,
            params(
                ($owner = Option<String>, Query, description = "Only rows of this owner."),
                ("resource_name" = Option<String>, Query, description = "Only rows of this unified resource."),
                ("integration_name" = Option<String>, Query, description = "Only rows of this integration."),
                ("method_name" = Option<String>, Query, description = "Only rows of this unified method."),
                ("version" = Option<u64>, Query, description = "Only rows at this version."),
                PageParams,
            ),
            responses(
                (status = 200, description = "One page of the rows matching every filter, oldest first.", body = MappingPage),
                ListErrors,
                AuthedErrors,
            ),
        )]
        pub async fn $list(
            State(state): State<AppState>,
            Env(env): Env,
            RawQuery(raw): RawQuery,
        ) -> ApiResult<Json<MappingPage>> {
            Ok(Json(list_rows(&state, &env, $kind, raw.as_deref()).await?))
        }

        #[doc = concat!("`POST ", $path, "` → 201 with the row (version 1).")]
        #[utoipa::path(
            post,
            path = $path,
            operation_id = $create_id,
            summary = concat!("Create a ", $what),
            description = $create_description,
            tag = $tag,
            request_body(content = Object, description = "The row: owner id, `resource_name`, `integration_name`, `method_name`, `config` (see `docs/unified-mapping.schema.json`)."),
            responses(
                (status = 201, description = "The row, created with version 1.", body = MappingView),
                DefinitionErrors,
                AuthedErrors,
                NotFoundErrors,
                (status = 409, description = "The owner has a row for this resource, integration and method.", body = crate::error::ErrorBody),
            ),
        )]
        pub async fn $create(
            State(state): State<AppState>,
            Env(env): Env,
            ApiJson(body): ApiJson<Map<String, Value>>,
        ) -> ApiResult<impl IntoResponse> {
            Ok(created(create_row(&state, &env, $kind, body).await?))
        }

        #[doc = concat!("`GET ", $id_path, "`.")]
        #[utoipa::path(
            get,
            path = $id_path,
            operation_id = $get_id,
            summary = concat!("Get a ", $what),
            description = "One row of the environment.",
            tag = $tag,
            params(("id" = String, Path, description = "The row's id.")),
            responses(
                (status = 200, description = "The row.", body = MappingView),
                AuthedErrors,
                NotFoundErrors,
            ),
        )]
        pub async fn $get(
            State(state): State<AppState>,
            Env(env): Env,
            Path(id): Path<String>,
        ) -> ApiResult<Json<MappingView>> {
            Ok(Json(state.store.get_mapping(&env, $kind, &id).await?.into()))
        }

        #[doc = concat!("`PATCH ", $id_path, "`: deep-merges `config`.")]
        #[utoipa::path(
            patch,
            path = $id_path,
            operation_id = $update_id,
            summary = concat!("Update a ", $what),
            description = "`config` is deep-merged into the stored config: objects merge key by key, `null` deletes a key, any other value (an expression, an array) replaces. `resource_name`, `integration_name` and `method_name` replace. `version`, when sent, must be the stored one (`409` otherwise). The merged row is validated as for `POST` (`400` with every problem; nothing stored). Takes effect on the next unified call. Answers the row with `version` one higher.",
            tag = $tag,
            params(("id" = String, Path, description = "The row's id.")),
            request_body(content = Object, description = "`config` to merge, names to replace, optional `version`."),
            responses(
                (status = 200, description = "The row with `version` one higher.", body = MappingView),
                DefinitionErrors,
                AuthedErrors,
                NotFoundErrors,
                (status = 409, description = "`version` is stale, or another row has the new names.", body = crate::error::ErrorBody),
            ),
        )]
        pub async fn $update(
            State(state): State<AppState>,
            Env(env): Env,
            Path(id): Path<String>,
            ApiJson(body): ApiJson<Map<String, Value>>,
        ) -> ApiResult<Json<MappingView>> {
            Ok(Json(update_row(&state, &env, $kind, &id, body).await?))
        }

        #[doc = concat!("`DELETE ", $id_path, "` → `{id}`.")]
        #[utoipa::path(
            delete,
            path = $id_path,
            operation_id = $delete_id,
            summary = concat!("Delete a ", $what),
            description = "Answers `{\"id\": \"…\"}`; takes effect on the next unified call.",
            tag = $tag,
            params(("id" = String, Path, description = "The row's id.")),
            responses(
                (status = 200, description = "Deleted.", body = Deleted),
                AuthedErrors,
                NotFoundErrors,
            ),
        )]
        pub async fn $delete(
            State(state): State<AppState>,
            Env(env): Env,
            Path(id): Path<String>,
        ) -> ApiResult<Json<Deleted>> {
            state.store.delete_mapping(&env, $kind, &id).await?;
            Ok(deleted(id))
        }
    };
}

/// `/unified-model-resource-method`: a unified model's base rows.
pub mod base {
    use super::*;

    mapping_routes!(
        kind = MappingKind::Base,
        path = "/unified-model-resource-method",
        id_path = "/unified-model-resource-method/{id}",
        tag = "unified-models",
        what = "unified model mapping row",
        owner_filter = "unified_model_id",
        ops = (list, create, get, update, delete),
        ids = (
            "list_unified_model_resource_methods",
            "create_unified_model_resource_method",
            "get_unified_model_resource_method",
            "update_unified_model_resource_method",
            "delete_unified_model_resource_method"
        ),
        create_description = "A base row of the unified model `unified_model_id` (of the environment): how `method_name` of `resource_name` runs on the integration `integration_name`. One row per model, resource, integration and method (`409` for a second). An invalid row answers `400` with every problem and its JSON path; nothing is stored. Takes effect on the next unified call.",
    );
}

/// `/environment-unified-model-resource-method`: the environment's override rows.
pub mod environment {
    use super::*;

    mapping_routes!(
        kind = MappingKind::Environment,
        path = "/environment-unified-model-resource-method",
        id_path = "/environment-unified-model-resource-method/{id}",
        tag = "environment-unified-models",
        what = "environment mapping override row",
        owner_filter = "environment_unified_model_id",
        ops = (list, create, get, update, delete),
        ids = (
            "list_environment_unified_model_resource_methods",
            "create_environment_unified_model_resource_method",
            "get_environment_unified_model_resource_method",
            "update_environment_unified_model_resource_method",
            "delete_environment_unified_model_resource_method"
        ),
        create_description = "An override row of the environment unified model `environment_unified_model_id`: a partial `config` deep-merged over the base row of the same resource, integration and method at run time (expressions and arrays replace whole). One row per install, resource, integration and method (`409` for a second). An invalid row answers `400` with every problem and its JSON path; nothing is stored. Takes effect on the next unified call.",
    );
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::merge_patch;

    #[test]
    fn merge_patch_merges_objects_deletes_nulls_and_replaces_the_rest() {
        let mut config = json!({"query": {"a": 1, "b": 2}, "response_mapping": "x", "before": [1]});
        merge_patch(
            &mut config,
            json!({"query": {"b": null, "c": 3}, "response_mapping": null, "before": [2], "body": {"k": null, "v": 1}}),
        );
        assert_eq!(
            config,
            json!({"query": {"a": 1, "c": 3}, "before": [2], "body": {"v": 1}})
        );
    }
}
