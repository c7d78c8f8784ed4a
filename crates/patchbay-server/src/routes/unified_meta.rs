//! The unified API's meta endpoints (reference §1.7):
//!
//! | route | answer |
//! |---|---|
//! | `GET /unified/{model}/{resource}/meta/{method}?integrated_account_id=` | the merged config of the method for the account's integration, its `unified_model_override` included |
//! | `GET /unified/{model}/{resource}/{integration}/meta/{method}` | the merged config for an integration, no account |
//! | `GET /unified/meta/{model}/{integration}?format=json\|md\|html` | the model's `docs` for the integration |
//!
//! The merged config is what calls run with: the base row (or the model's
//! inline `integration_mapping`), the environment's override row deep-merged
//! over it, then for an account its override (deep-merged here for the
//! documentation keys; its expressions run beside the lower layers' at call
//! time). The model is the one the environment sees (its override applied).

use std::fmt::Write as _;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use patchbay::config::apply_override;
use patchbay::unified::{AccountOverride, UnifiedModel};
use serde_json::{Map, Value};

use super::responses::AuthedErrors;
use super::unified::account_override;
use super::views::{MethodMetaView, ModelDocsView};
use crate::auth::Env;
use crate::connect::html::{Page, escape};
use crate::error::{ApiError, ApiResult};
use crate::query::QueryParams;
use crate::state::AppState;
use crate::store::{MappingFilter, MappingKind, PageRequest, Store};

/// The model named `name` as the environment sees it.
struct Seen {
    model: UnifiedModel,
    /// The model's id.
    id: String,
    /// Its install's id (`None` when it is not installed: then only the
    /// model's own mappings apply).
    install_id: Option<String>,
}

async fn model_as_seen(store: &Store, env: &str, name: &str) -> ApiResult<Seen> {
    let route = store.unified_route(env, name).await?;
    let record = store
        .get_unified_model(env, &route.unified_model_id)
        .await?;
    let Some((install_id, _)) = route.install else {
        return Ok(Seen {
            model: record.model,
            id: route.unified_model_id,
            install_id: None,
        });
    };
    let install = store
        .get_environment_unified_model(env, &install_id)
        .await?;
    let model = match &install.model_override {
        None => record.model,
        Some(layer) => record.model.with_override(layer).map_err(|errors| {
            ApiError::from_validation(
                &format!("the unified model `{name}` with the environment's override is invalid"),
                Some("override"),
                &errors,
            )
        })?,
    };
    Ok(Seen {
        model,
        id: route.unified_model_id,
        install_id: Some(install_id),
    })
}

/// The config of the one row of `kind` of `owner` for the method, as JSON.
async fn row_config(
    store: &Store,
    env: &str,
    kind: MappingKind,
    owner: &str,
    (resource, integration, method): (&str, &str, &str),
) -> ApiResult<Option<Value>> {
    let filter = MappingFilter {
        owner_id: Some(owner.to_owned()),
        resource_name: Some(resource.to_owned()),
        integration_name: Some(integration.to_owned()),
        method_name: Some(method.to_owned()),
        version: None,
    };
    let page = store
        .list_mappings(env, kind, &filter, &PageRequest::default())
        .await?;
    Ok(page
        .result
        .into_iter()
        .next()
        .and_then(|row| serde_json::to_value(row.config).ok()))
}

/// The meta of `method` of `model`'s `resource` on `integration`, with the
/// account's layer when given.
async fn method_meta(
    store: &Store,
    env: &str,
    (model_name, resource, integration, method): (&str, &str, &str, &str),
    account: Option<&AccountOverride>,
) -> ApiResult<MethodMetaView> {
    let Seen {
        model,
        id: model_id,
        install_id,
    } = model_as_seen(store, env, model_name).await?;
    let Some(definition) = model.resources.get(resource) else {
        return Err(ApiError::not_found(format!(
            "unified model `{model_name}` has no resource `{resource}`"
        )));
    };
    let route = (resource, integration, method);
    let base = match row_config(store, env, MappingKind::Base, &model_id, route).await? {
        Some(config) => Some(config),
        None => model
            .inline_mapping(resource, integration, method)
            .and_then(|config| serde_json::to_value(config).ok()),
    };
    let environment = match &install_id {
        Some(id) => row_config(store, env, MappingKind::Environment, id, route).await?,
        None => None,
    };
    let account = account
        .and_then(|o| o.get(model_name))
        .and_then(|r| r.get(resource))
        .and_then(|m| m.get(method))
        .and_then(|config| serde_json::to_value(config).ok());
    if base.is_none() && environment.is_none() && account.is_none() {
        return Err(ApiError::not_found(format!(
            "unified model `{model_name}` has no mapping of {resource} method `{method}` for integration `{integration}`"
        )));
    }
    let mut merged = base.unwrap_or_else(|| Value::Object(Map::new()));
    for layer in [environment, account].into_iter().flatten() {
        merged = apply_override(&merged, &layer);
    }
    let schema = definition
        .schema
        .as_ref()
        .and_then(|s| serde_json::to_value(s).ok());
    let field = |key: &str| merged.get(key).filter(|v| !v.is_null()).cloned();
    Ok(MethodMetaView {
        method: method.to_owned(),
        response_schema: schema
            .as_ref()
            .map(|s| response_schema(s, merged.get("response_mapping"))),
        schema,
        query_schema: field("query_schema"),
        request_body_schema: field("request_body_schema"),
        default_query: field("query"),
        default_body: field("body"),
        documentation_link: field("documentation_link").and_then(|v| v.as_str().map(str::to_owned)),
    })
}

/// The part of `schema` that `response_mapping` fills: the properties whose
/// names the expression writes as object keys (`"name":` or `'name':`), plus
/// `remote_data`, which every mapped record carries. Without a mapping (or
/// without properties) the whole schema.
fn response_schema(schema: &Value, response_mapping: Option<&Value>) -> Value {
    let (Some(expression), Some(properties)) = (
        response_mapping.and_then(Value::as_str),
        schema.get("properties").and_then(Value::as_object),
    ) else {
        return schema.clone();
    };
    let written = |name: &str| {
        name == "remote_data"
            || ["\"", "'"].iter().any(|quote| {
                let key = format!("{quote}{name}{quote}");
                expression
                    .match_indices(&key)
                    .any(|(at, _)| expression[at + key.len()..].trim_start().starts_with(':'))
            })
    };
    let kept: Map<String, Value> = properties
        .iter()
        .filter(|(name, _)| written(name))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let mut schema = schema.clone();
    schema["properties"] = Value::Object(kept);
    schema
}

/// `GET /unified/{model}/{resource}/meta/{method}?integrated_account_id=`.
#[utoipa::path(
    get,
    path = "/unified/{model}/{resource}/meta/{method}",
    operation_id = "unified_method_meta_for_account",
    summary = "Unified: meta of a method for an account",
    description = "The merged mapping config of the unified method for the account's integration, as its calls run: base row, the environment's override row, the account's `unified_model_override`.",
    tag = "unified",
    params(
        ("model" = String, Path, description = "The unified model's name."),
        ("resource" = String, Path, description = "The unified resource."),
        ("method" = String, Path, description = "The unified method."),
        ("integrated_account_id" = String, Query, description = "The account whose integration (and override) to use."),
    ),
    responses(
        (status = 200, description = "The merged config.", body = MethodMetaView),
        (status = 400, description = "Missing `integrated_account_id`.", body = crate::error::ErrorBody),
        AuthedErrors,
        (status = 404, description = "No such account, model, resource or mapping (the message names what is missing).", body = crate::error::ErrorBody),
    ),
)]
pub async fn method_for_account(
    State(state): State<AppState>,
    Env(env): Env,
    Path((model, resource, method)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<MethodMetaView>> {
    let query = QueryParams::parse(raw.as_deref())?;
    let account_id = query.required("integrated_account_id")?;
    let route = state.store.account_route(&env, account_id).await?;
    let integration = state
        .store
        .get_integration(&env, &route.install.integration_id)
        .await?
        .name;
    let account = account_override(&state, &env, account_id).await?;
    let meta = method_meta(
        &state.store,
        &env,
        (&model, &resource, &integration, &method),
        account.as_ref(),
    )
    .await?;
    Ok(Json(meta))
}

/// `GET /unified/{model}/{resource}/{integration}/meta/{method}`.
#[utoipa::path(
    get,
    path = "/unified/{model}/{resource}/{id}/meta/{method}",
    operation_id = "unified_method_meta",
    summary = "Unified: meta of a method for an integration",
    description = "`GET /unified/{model}/{resource}/{integration}/meta/{method}` (the integration's name is the `{id}` segment: the path is shared with the record routes): the merged mapping config of the unified method for the integration: base row (or the model's inline mapping), then the environment's override row. `response_schema` is the part of `schema` the `response_mapping` writes.",
    tag = "unified",
    params(
        ("model" = String, Path, description = "The unified model's name."),
        ("resource" = String, Path, description = "The unified resource."),
        ("id" = String, Path, description = "The integration's name, e.g. `hubspot`."),
        ("method" = String, Path, description = "The unified method."),
    ),
    responses(
        (status = 200, description = "The merged config.", body = MethodMetaView),
        AuthedErrors,
        (status = 404, description = "No such model, resource or mapping (the message names what is missing).", body = crate::error::ErrorBody),
    ),
)]
pub async fn method_for_integration(
    State(state): State<AppState>,
    Env(env): Env,
    Path((model, resource, integration, method)): Path<(String, String, String, String)>,
) -> ApiResult<Json<MethodMetaView>> {
    let meta = method_meta(
        &state.store,
        &env,
        (&model, &resource, &integration, &method),
        None,
    )
    .await?;
    Ok(Json(meta))
}

/// How `GET /unified/meta/{model}/{integration}` renders the docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Markdown,
    Html,
}

impl Format {
    fn of(query: &QueryParams) -> ApiResult<Self> {
        match query.get("format") {
            None | Some("json") => Ok(Self::Json),
            Some("md") => Ok(Self::Markdown),
            Some("html") => Ok(Self::Html),
            Some(other) => Err(ApiError::bad_request(format!(
                "the query parameter `format` must be `json`, `md` or `html`, not `{other}`"
            ))),
        }
    }
}

/// `GET /unified/meta/{model}/{integration}?format=json|md|html`.
#[utoipa::path(
    get,
    path = "/unified/meta/{model}/{integration}",
    operation_id = "unified_model_docs",
    summary = "Unified: the model's docs for an integration",
    description = "The unified model's `docs.<integration>` (the environment's override merged in): what to know to connect the integration (pricing plans, roles, scopes, instructions). `format=json` (default) answers `{unified_model, integration, docs}`; `md` Markdown; `html` a page rendered by the server, every text escaped.",
    tag = "unified",
    params(
        ("model" = String, Path, description = "The unified model's name."),
        ("integration" = String, Path, description = "The integration's name."),
        ("format" = Option<String>, Query, description = "`json` (default), `md` or `html`."),
    ),
    responses(
        (status = 200, description = "The docs: JSON, or `text/markdown` / `text/html` for `format=md` / `html`.", body = ModelDocsView),
        (status = 400, description = "A `format` other than `json`, `md`, `html`.", body = crate::error::ErrorBody),
        AuthedErrors,
        (status = 404, description = "No such model, or no docs for the integration.", body = crate::error::ErrorBody),
    ),
)]
pub async fn model_docs(
    State(state): State<AppState>,
    Env(env): Env,
    Path((model, integration)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let format = Format::of(&QueryParams::parse(raw.as_deref())?)?;
    let seen = model_as_seen(&state.store, &env, &model).await?;
    let docs = seen
        .model
        .docs
        .as_ref()
        .and_then(|docs| docs.get(&integration))
        .cloned()
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "unified model `{model}` has no docs for integration `{integration}`"
            ))
        })?;
    let title = format!("{model}: {integration}");
    Ok(match format {
        Format::Json => Json(ModelDocsView {
            unified_model: model,
            integration,
            docs,
        })
        .into_response(),
        Format::Markdown => {
            let mut text = format!("# {title}\n\n");
            markdown(&docs, 2, &mut text);
            let mut response = text.into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/markdown; charset=utf-8"),
            );
            response
        }
        Format::Html => {
            let mut body = String::new();
            html(&docs, 2, &mut body);
            Page::new(StatusCode::OK, &title, body).into_response()
        }
    })
}

/// `value` as Markdown: object keys as headings (from `level`), arrays as
/// lists, text as it is (docs are written in Markdown).
fn markdown(value: &Value, level: usize, out: &mut String) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                let _ = write!(out, "{} {key}\n\n", "#".repeat(level.min(6)));
                markdown(value, level + 1, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                let _ = writeln!(out, "- {}", inline(item));
            }
            out.push('\n');
        }
        Value::Null => {}
        other => {
            let _ = write!(out, "{}\n\n", inline(other));
        }
    }
}

/// `value` as HTML: object keys as headings (from `level`), arrays as lists,
/// text as paragraphs; every text escaped.
fn html(value: &Value, level: usize, out: &mut String) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                let h = level.min(6);
                let _ = write!(out, "<h{h}>{}</h{h}>", escape(key));
                html(value, level + 1, out);
            }
        }
        Value::Array(items) => {
            out.push_str("<ul>");
            for item in items {
                let _ = write!(out, "<li>{}</li>", escape(&inline(item)));
            }
            out.push_str("</ul>");
        }
        Value::Null => {}
        other => {
            for paragraph in inline(other).split("\n\n") {
                let _ = write!(out, "<p>{}</p>", escape(paragraph.trim()));
            }
        }
    }
}

/// A value on one line: text as it is, anything else as JSON.
fn inline(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn response_schema_keeps_the_properties_the_mapping_writes() {
        let schema = json!({"type": "object", "properties": {
            "id": {"type": "string"}, "first_name": {"type": "string"},
            "title": {"type": "string"}, "remote_data": {"type": "object"}
        }});
        let mapping =
            json!(r#"response.{ "id": $string(id), 'first_name' : props.first, "x": "title" }"#);
        let kept = response_schema(&schema, Some(&mapping));
        let names: Vec<&String> = kept["properties"].as_object().unwrap().keys().collect();
        assert_eq!(names, ["id", "first_name", "remote_data"]);
        assert_eq!(response_schema(&schema, None), schema);
    }

    #[test]
    fn docs_render_as_markdown_and_escaped_html() {
        let docs = json!({"Scopes": ["crm.read", "<b>"], "Plan": "Pro <script>"});
        let mut md = String::new();
        markdown(&docs, 2, &mut md);
        assert_eq!(
            md,
            "## Scopes\n\n- crm.read\n- <b>\n\n## Plan\n\nPro <script>\n\n"
        );
        let mut page = String::new();
        html(&docs, 2, &mut page);
        assert_eq!(
            page,
            "<h2>Scopes</h2><ul><li>crm.read</li><li>&lt;b&gt;</li></ul><h2>Plan</h2><p>Pro &lt;script&gt;</p>"
        );
    }
}
