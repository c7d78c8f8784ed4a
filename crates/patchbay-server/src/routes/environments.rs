//! `/environment` and `/api-token`: the token's own environment and its API tokens.
//!
//! A token acts in one environment and sees only that one: `GET /environment` lists it
//! alone, another environment's id is a 404. Environments are created with the CLI
//! (`patchbay-server environment create`), as Truto creates them in its dashboard.
//!
//! API tokens are stored as SHA-256 hashes: `POST /api-token` shows the value once.
//! `DELETE /api-token/{id}` revokes at once, on every process (each request checks its
//! token against the store); the environment's last token cannot be revoked over the
//! API (the CLI can), so an environment is never left unreachable by mistake.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use serde::Deserialize;

use super::responses::{AuthedErrors, ListErrors, NotFoundErrors, ValidationErrors};
use super::views::{
    ApiTokenPage, ApiTokenView, CreatedApiTokenView, Deleted, EnvironmentPage, EnvironmentView,
};
use super::{created, deleted};
use crate::auth::Env;
use crate::error::{ApiError, ApiResult, ErrorBody, FieldError};
use crate::extract::ApiJson;
use crate::state::AppState;

/// The most characters of a name.
const MAX_NAME: usize = 200;

/// The body of `PATCH /environment/{id}` and `POST /api-token`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NameBody {
    /// The new name (1 to 200 characters).
    pub name: String,
}

impl NameBody {
    /// The trimmed name, or 422 naming the field.
    fn validate(self) -> ApiResult<String> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME {
            return Err(ApiError::invalid(
                "the name is invalid",
                vec![FieldError {
                    path: "name".into(),
                    message: format!("must be 1 to {MAX_NAME} characters"),
                }],
            ));
        }
        Ok(name.to_owned())
    }
}

/// 404 for any environment but the token's.
fn own(env: &str, id: &str) -> ApiResult<()> {
    if env == id {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("no environment `{id}`")))
    }
}

/// `GET /environment` → the token's environment, as a one-item page.
#[utoipa::path(
    get,
    path = "/environment",
    operation_id = "list_environments",
    summary = "List environments",
    description = "The environment the token acts in (a token sees no other).",
    tag = "environments",
    responses(
        (status = 200, description = "A page with the token's environment.", body = EnvironmentPage),
        ListErrors,
        AuthedErrors,
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    Env(env): Env,
) -> ApiResult<Json<EnvironmentPage>> {
    let environment = state.store.get_environment(&env).await?;
    Ok(Json(EnvironmentPage {
        result: vec![environment.into()],
        next_cursor: None,
    }))
}

/// `GET /environment/{id}`.
#[utoipa::path(
    get,
    path = "/environment/{id}",
    operation_id = "get_environment",
    summary = "Get an environment",
    description = "The token's environment; any other id is a 404.",
    tag = "environments",
    params(("id" = String, Path, description = "The environment's id.")),
    responses(
        (status = 200, description = "The environment.", body = EnvironmentView),
        AuthedErrors,
        NotFoundErrors,
    ),
)]
pub async fn get(
    State(state): State<AppState>,
    Env(env): Env,
    Path(id): Path<String>,
) -> ApiResult<Json<EnvironmentView>> {
    own(&env, &id)?;
    Ok(Json(state.store.get_environment(&id).await?.into()))
}

/// The body of `PATCH /environment/{id}`: what to change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateEnvironment {
    /// A new name (1 to 200 characters, unique).
    #[serde(default)]
    pub name: Option<String>,
    /// Whether request logs keep redacted, size-capped request and response bodies
    /// (off by default; applies to the next call in every process).
    #[serde(default)]
    pub log_bodies: Option<bool>,
}

/// `PATCH /environment/{id}` with `{name?, log_bodies?}`.
#[utoipa::path(
    patch,
    path = "/environment/{id}",
    operation_id = "update_environment",
    summary = "Update an environment",
    description = "Renames the token's environment (names are unique: a taken name is a 409) \
        and/or turns body logging on or off (`log_bodies`: request logs then keep the request \
        and response bodies, values under secret-looking keys masked, cut at 16 KiB).",
    tag = "environments",
    params(("id" = String, Path, description = "The environment's id.")),
    request_body = UpdateEnvironment,
    responses(
        (status = 200, description = "The environment.", body = EnvironmentView),
        (status = 409, description = "Another environment has that name.", body = ErrorBody),
        ValidationErrors,
        AuthedErrors,
        NotFoundErrors,
    ),
)]
pub async fn update(
    State(state): State<AppState>,
    Env(env): Env,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateEnvironment>,
) -> ApiResult<Json<EnvironmentView>> {
    own(&env, &id)?;
    if body.name.is_none() && body.log_bodies.is_none() {
        return Err(ApiError::invalid(
            "nothing to change",
            vec![FieldError {
                path: "(root)".into(),
                message: "set `name` and/or `log_bodies`".into(),
            }],
        ));
    }
    let name = body
        .name
        .map(|name| NameBody { name }.validate())
        .transpose()?;
    let mut environment = state.store.get_environment(&id).await?;
    if let Some(name) = name {
        environment = state.store.rename_environment(&id, &name).await?;
    }
    if let Some(log_bodies) = body.log_bodies {
        environment = state.store.set_log_bodies(&id, log_bodies).await?;
    }
    Ok(Json(environment.into()))
}

/// `GET /api-token` → the environment's tokens, without values.
#[utoipa::path(
    get,
    path = "/api-token",
    operation_id = "list_api_tokens",
    summary = "List API tokens",
    description = "The environment's API tokens, oldest first, without their values.",
    tag = "api-tokens",
    responses(
        (status = 200, description = "The environment's tokens.", body = ApiTokenPage),
        ListErrors,
        AuthedErrors,
    ),
)]
pub async fn list_tokens(
    State(state): State<AppState>,
    Env(env): Env,
) -> ApiResult<Json<ApiTokenPage>> {
    let tokens = state.store.list_api_tokens(&env).await?;
    Ok(Json(ApiTokenPage {
        result: tokens.into_iter().map(ApiTokenView::from).collect(),
        next_cursor: None,
    }))
}

/// `GET /api-token/{id}`.
#[utoipa::path(
    get,
    path = "/api-token/{id}",
    operation_id = "get_api_token",
    summary = "Get an API token",
    description = "One of the environment's tokens, without its value.",
    tag = "api-tokens",
    params(("id" = String, Path, description = "The token's id.")),
    responses(
        (status = 200, description = "The token, without its value.", body = ApiTokenView),
        AuthedErrors,
        NotFoundErrors,
    ),
)]
pub async fn get_token(
    State(state): State<AppState>,
    Env(env): Env,
    Path(id): Path<String>,
) -> ApiResult<Json<ApiTokenView>> {
    Ok(Json(state.store.get_api_token(&env, &id).await?.into()))
}

/// `POST /api-token` with `{name}` → 201 with the value, shown this once.
#[utoipa::path(
    post,
    path = "/api-token",
    operation_id = "create_api_token",
    summary = "Create an API token",
    description = "A new token of the environment. The answer's `token` is the bearer value, \
        shown only here: it is stored as a SHA-256 hash.",
    tag = "api-tokens",
    request_body = NameBody,
    responses(
        (status = 201, description = "The token and its value, shown only in this answer.", body = CreatedApiTokenView),
        ValidationErrors,
        AuthedErrors,
    ),
)]
pub async fn create_token(
    State(state): State<AppState>,
    Env(env): Env,
    ApiJson(body): ApiJson<NameBody>,
) -> ApiResult<impl IntoResponse> {
    let name = body.validate()?;
    let created_token = state.store.create_api_token(&env, &name).await?;
    Ok(created(CreatedApiTokenView {
        value: created_token.plaintext.expose().to_owned(),
        token: created_token.token.into(),
    }))
}

/// `DELETE /api-token/{id}` → `{id}`; the token is refused from the next request on.
#[utoipa::path(
    delete,
    path = "/api-token/{id}",
    operation_id = "delete_api_token",
    summary = "Revoke an API token",
    description = "Revokes the token at once, on every server process. The environment's last \
        token cannot be revoked over the API (409): create another first, or use \
        `patchbay-server token revoke`.",
    tag = "api-tokens",
    params(("id" = String, Path, description = "The token's id.")),
    responses(
        (status = 200, description = "Revoked.", body = Deleted),
        (status = 409, description = "It is the environment's last token.", body = ErrorBody),
        AuthedErrors,
        NotFoundErrors,
    ),
)]
pub async fn delete_token(
    State(state): State<AppState>,
    Env(env): Env,
    Path(id): Path<String>,
) -> ApiResult<Json<Deleted>> {
    state.store.revoke_api_token(&env, &id).await?;
    Ok(deleted(id))
}
