//! The OpenAPI document of the API, generated from the handlers' `#[utoipa::path]`
//! annotations and served without a token at `GET /openapi.json`.
//!
//! The schemas come from the types the handlers read and answer: the request
//! types of [`crate::routes`], the views of [`crate::routes::views`] and
//! [`ErrorBody`], what every error serializes to. The shared error answers are
//! in [`crate::routes::responses`]. `tests/openapi.rs` checks the document
//! against the router and against real answers.
//!
//! Two schemas here are documentation only, for routes whose bodies are not
//! typed: [`InboundAccepted`] (the inbound webhook routes) and [`ConnectForm`]
//! (the connect pages' form).

use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

pub use crate::error::{ErrorBody, FieldError};
use crate::routes::{
    account_actions, account_credentials, accounts, datastores, environment_unified_models,
    environments, inbound, installs, integrations, link_tokens, logs, mcp, mcp_servers, meta,
    proxy, sync_job_cron_triggers, sync_job_run_states, sync_job_runs, sync_jobs, unified,
    unified_mappings, unified_meta, unified_models, validate, webhooks,
};

/// The name of the bearer security scheme in the document.
pub const BEARER: &str = "bearer";

/// An inbound webhook's answer when it is not a handshake.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"ok": true, "events": 2}))]
pub struct InboundAccepted {
    /// Always `true`.
    pub ok: bool,
    /// How many events were queued (0 for an install-level call that matched no account).
    pub events: u64,
}

/// The form of `POST /connect-account`: the hidden fields plus the credential's
/// `fields` by name.
#[derive(Serialize, ToSchema)]
pub struct ConnectForm {
    /// The link token.
    pub link_token: String,
    /// The chosen environment integration.
    pub integration: Option<String>,
    /// The chosen credential of the config (`oauth2`, `api_key`, ...).
    pub credential: Option<String>,
    /// The credential's fields, by name.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub fields: Map<String, Value>,
}

/// Adds the bearer scheme the document's global `security` refers to.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut http = Http::new(HttpAuthScheme::Bearer);
        http.description = Some(
            "`Authorization: Bearer <api token>`. A token belongs to one environment; \
             every request acts only in it."
                .to_owned(),
        );
        components.add_security_scheme(BEARER, SecurityScheme::Http(http));
    }
}

/// The document: every route of [`crate::app`].
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Patchbay server API",
        description = "A Truto-compatible API over the Patchbay facade: integrations, installs \
            (environment integrations), integrated accounts, link tokens and the connect pages, \
            proxy calls, unified models and unified calls, sync jobs and their runs, and inbound and outbound webhooks.\n\n\
            Every route needs `Authorization: Bearer <api token>` except those marked with an \
            empty security requirement (health, validation, the schemas, the connect pages and \
            inbound webhooks). Errors answer Truto's body `{statusCode, error, message}` \
            (`ErrorBody`), plus `errors: [{path, message}]` for 422. List routes take `limit` \
            (1-5000, default 100) and `next_cursor` and answer `{result, next_cursor}`. \
            See `docs/server-api.md`.",
        license(name = "MIT", identifier = "MIT"),
    ),
    paths(
        meta::health,
        meta::ping,
        validate::validate_integration,
        meta::integration_config_schema,
        meta::openapi_json,
        crate::link_sdk::serve,
        integrations::list,
        integrations::create,
        integrations::get,
        integrations::update,
        integrations::delete,
        installs::list,
        installs::create,
        installs::get,
        installs::update,
        installs::delete,
        accounts::list,
        accounts::create,
        accounts::get,
        accounts::update,
        accounts::delete,
        account_credentials::create_token,
        account_credentials::update_credentials,
        account_actions::refresh_credentials,
        account_actions::run_post_install_actions,
        mcp_servers::create,
        mcp_servers::list,
        mcp_servers::get_one,
        mcp_servers::update,
        mcp_servers::delete,
        mcp::serve,
        link_tokens::create,
        crate::connect::page,
        crate::connect::submit,
        crate::connect::callback,
        proxy::list,
        proxy::create,
        proxy::get,
        proxy::update,
        proxy::delete,
        proxy::custom,
        unified_models::list,
        unified_models::create,
        unified_models::get,
        unified_models::update,
        unified_models::delete,
        unified_mappings::base::list,
        unified_mappings::base::create,
        unified_mappings::base::get,
        unified_mappings::base::update,
        unified_mappings::base::delete,
        environment_unified_models::list,
        environment_unified_models::create,
        environment_unified_models::get,
        environment_unified_models::update,
        environment_unified_models::delete,
        unified_mappings::environment::list,
        unified_mappings::environment::create,
        unified_mappings::environment::get,
        unified_mappings::environment::update,
        unified_mappings::environment::delete,
        unified::list,
        unified::create,
        unified::get,
        unified::update,
        unified::delete,
        unified::custom,
        unified_meta::method_for_account,
        unified_meta::method_for_integration,
        unified_meta::model_docs,
        datastores::list,
        datastores::create,
        datastores::get,
        datastores::update,
        datastores::delete,
        sync_jobs::list,
        sync_jobs::create,
        sync_jobs::get,
        sync_jobs::update,
        sync_jobs::delete,
        sync_job_runs::list,
        sync_job_runs::create,
        sync_job_runs::get,
        sync_job_runs::update,
        sync_job_runs::stop,
        sync_job_cron_triggers::list,
        sync_job_cron_triggers::create,
        sync_job_cron_triggers::get,
        sync_job_cron_triggers::update,
        sync_job_cron_triggers::delete,
        sync_job_cron_triggers::schedule,
        sync_job_cron_triggers::unschedule,
        sync_job_run_states::list,
        sync_job_run_states::put,
        sync_job_run_states::create,
        sync_job_run_states::get,
        sync_job_run_states::delete,
        webhooks::list,
        webhooks::create,
        webhooks::get,
        webhooks::update,
        webhooks::delete,
        webhooks::test,
        logs::list,
        environments::list,
        environments::get,
        environments::update,
        environments::list_tokens,
        environments::get_token,
        environments::create_token,
        environments::delete_token,
        inbound::account_webhook,
        inbound::account_webhook_handshake,
        inbound::environment_integration_webhook,
        inbound::environment_integration_webhook_handshake,
    ),
    components(schemas(ErrorBody, FieldError)),
    modifiers(&BearerScheme),
    security(("bearer" = [])),
    tags(
        (name = "meta", description = "Health, config validation and the schemas; no token."),
        (name = "integrations", description = "Integration definitions (`/integration`)."),
        (name = "environment-integrations", description = "Integrations installed in the environment, with an optional `override`."),
        (name = "integrated-accounts", description = "Tenants' connections; answers never carry credentials."),
        (name = "link-tokens", description = "Single-use links to the connect pages."),
        (name = "connect", description = "The HTML connect pages a tenant's user opens; the link token authorizes, no API token."),
        (name = "proxy", description = "Calls a resource method of an account's integration."),
        (name = "mcp", description = "MCP servers of an account: its tools for AI agents over the Model Context Protocol (`/mcp/{token}`)."),
        (name = "unified-models", description = "Unified models (`/unified-model`) and their base mapping rows (`/unified-model-resource-method`); a model belongs to the environment."),
        (name = "environment-unified-models", description = "Unified models installed in the environment, with an `override`, and the environment's mapping override rows."),
        (name = "unified", description = "Unified calls of an account through the installed models' mappings, and their meta endpoints."),
        (name = "sync-jobs", description = "Sync jobs (Truto's RapidBridge) and their runs, executed in the background; records are delivered as `sync_job_run:*` webhook events and, for a run with a `datastore_id`, upserted into the datastore's tables."),
        (name = "webhooks", description = "Outbound webhook endpoints receiving the environment's signed events."),
        (name = "inbound-webhooks", description = "Providers' webhooks; no token, verified by the integration's `webhook` config."),
        (name = "logs", description = "Request logs: every upstream call, with its attempts."),
        (name = "environments", description = "The token's environment."),
        (name = "api-tokens", description = "The environment's API tokens; values are shown once."),
    ),
)]
pub struct ApiDoc;

/// The OpenAPI document of the whole API, with the crate's version.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    use serde_json::json;

    use super::*;
    use crate::error::ApiError;

    async fn body_of(error: ApiError) -> ErrorBody {
        let response = error.into_response();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).expect("the error body matches ErrorBody")
    }

    #[tokio::test]
    async fn error_bodies_have_the_documented_keys() {
        let plain = body_of(ApiError::not_found("no integration `x`")).await;
        assert_eq!(plain.status_code, 404);
        assert_eq!(plain.error, "Not Found");
        assert_eq!(plain.message, "no integration `x`");
        assert!(plain.errors.is_none() && !plain.truto_is_remote_error);

        let invalid = body_of(ApiError::Invalid {
            message: "the webhook is invalid".into(),
            errors: vec![FieldError {
                path: "target_url".into(),
                message: "must be an absolute http or https URL".into(),
            }],
        })
        .await;
        assert_eq!(invalid.status_code, 422);
        assert_eq!(invalid.errors.unwrap()[0].path, "target_url");

        let remote = body_of(ApiError::Remote {
            status: StatusCode::NOT_FOUND,
            message: "provider error (HTTP 404)".into(),
            raw_response: json!({"error": "RecordNotFound"}),
        })
        .await;
        assert!(remote.truto_is_remote_error);
        assert_eq!(
            remote.raw_response,
            Some(json!({"error": "RecordNotFound"}))
        );
    }

    #[test]
    fn document_has_the_version_and_the_bearer_scheme() {
        let doc = serde_json::to_value(openapi()).unwrap();
        assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(
            doc["components"]["securitySchemes"][BEARER]["scheme"],
            "bearer"
        );
        assert_eq!(doc["security"], json!([{BEARER: []}]));
    }
}
