//! The thin HTTP server over the Patchbay facade, with a Truto-compatible API.
//!
//! | route | what |
//! |---|---|
//! | `GET /health` | `{"status": "ok"}` (no token) |
//! | `POST /integration/validate` | validates an integration config (no token) |
//! | `GET /schema/integration-config.json` | the JSON Schema of integration configs (no token) |
//! | `GET /link-sdk.js` | the Link SDK, an ES module that opens the connect pages in a popup or an iframe ([`link_sdk`]; no token) |
//! | `GET /openapi.json` | the OpenAPI 3.1 document of every route, generated from the handlers' annotations ([`openapi`]; no token) |
//! | `GET /ping` | `{"status": "ok", "environment_id": ...}` for a valid token (Truto's route; truto-python-sdk's `ping()`) |
//! | `/integration`, `/integration/{id}` | integrations ([`routes::integrations`]) |
//! | `/environment-integration`, `/environment-integration/{id}` | installs ([`routes::installs`]) |
//! | `/integrated-account`, `/integrated-account/{id}` | accounts ([`routes::accounts`]) |
//! | `/proxy/{resource}`, `/proxy/{resource}/{id}` | provider calls ([`routes::proxy`]) |
//! | `/unified-model`, `/unified-model-resource-method`, `/environment-unified-model`, `/environment-unified-model-resource-method` (each with `/{id}`) | unified models, their mapping rows and installs ([`routes::unified_models`], [`routes::unified_mappings`], [`routes::environment_unified_models`]) |
//! | `/unified/{model}/{resource}`, `/unified/{model}/{resource}/{id}` | unified calls ([`routes::unified`]) |
//! | `/unified/{model}/{resource}/meta/{method}`, `/unified/{model}/{resource}/{integration}/meta/{method}`, `/unified/meta/{model}/{integration}` | unified meta ([`routes::unified_meta`]) |
//! | `POST /integrated-account/refresh-credentials`, `POST /integrated-account/run-post-install-actions` | account actions ([`routes::account_actions`]) |
//! | `POST /link-token` | a single-use link to the connect pages ([`routes::link_tokens`]) |
//! | `GET/POST /connect-account`, `GET /connect/{integration}/callback` | the connect pages (HTML; no token: the link token authorizes; [`connect`]) |
//! | `/sync-job`, `/sync-job/{id}`, `/sync-job-run`, `/sync-job-run/{id}` | sync jobs and their runs, executed by the job engine ([`routes::sync_jobs`], [`routes::sync_job_runs`], [`sync`]) |
//! | `/sync-job-cron-trigger`, `/sync-job-cron-trigger/{id}`, `…/{id}/schedule` | runs on a cron schedule ([`routes::sync_job_cron_triggers`], [`sync::cron`]) |
//! | `/sync-job-run-state`, `/sync-job-run-state/{key}` | the run state API ([`routes::sync_job_run_states`]) |
//! | `/datastore`, `/datastore/{id}` | datastores: tables a run upserts its records into ([`routes::datastores`]) |
//! | `/webhook`, `/webhook/{id}`, `POST /webhook/test` | outbound webhooks ([`routes::webhooks`]; sent by [`delivery`]) |
//! | `/console`, `/console/...` | the console: accounts, catalog, webhooks in a browser (HTML; signed in with an API token or the console password; [`console`]) |
//! | `POST /integrated-account-webhook/{id}`, `POST /environment-integration-webhook/{id}` | inbound webhooks from providers ([`routes::inbound`]; no token: verified by the integration's `webhook` config) |
//!
//! Every route but the first five, the connect pages and the inbound webhooks needs `Authorization: Bearer <api token>`
//! ([`auth`]) and acts only in the token's environment. Errors use Truto's
//! body `{statusCode, error, message}` ([`error`]); answers never carry
//! credentials ([`redact`]). The server is served by [`serve_router`], which
//! bounds header and body read times and the number of connections
//! ([`serve`](mod@serve)). See `docs/server-api.md` and `docs/security.md`.
#![warn(missing_docs, unreachable_pub)]

pub mod account_tokens;
pub mod admin;
pub mod auth;
pub mod config;
pub mod connect;
pub mod console;
pub mod delivery;
pub mod error;
pub mod events;
pub mod extract;
pub mod link_sdk;
pub mod logging;
pub mod loop_guard;
pub mod metrics;
pub mod openapi;
pub mod query;
pub mod redact;
pub mod request_logs;
pub mod routes;
pub mod runtime;
pub mod serve;
pub mod state;
pub mod store;
pub mod sync;
mod web_url;

use axum::Extension;
use axum::Router;
use axum::http::StatusCode;
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::{get, patch, post};

pub use config::{CorsOrigins, ServerConfig};
pub use error::{ApiError, ApiResult};
pub use serve::{ServeOptions, serve_router};
pub use state::AppState;

use axum::extract::DefaultBodyLimit;
use routes::{
    account_actions, account_credentials, accounts, datastores, environment_unified_models,
    environments, inbound, installs, integrations, link_tokens, logs, mcp, mcp_servers, meta,
    proxy, sync_job_cron_triggers, sync_job_run_states, sync_job_runs, sync_jobs, unified,
    unified_mappings, unified_meta, unified_models, validate, webhooks,
};

/// The routes that need no storage and no token: health, validation, schemas.
fn public_routes() -> Router {
    Router::new()
        .route("/health", get(meta::health))
        .route(
            "/integration/validate",
            post(validate::validate_integration).layer(axum::Extension(
                validate::ValidationLimiter::default_shared(),
            )),
        )
        .route(
            "/schema/integration-config.json",
            get(meta::integration_config_schema),
        )
        .route("/openapi.json", get(meta::openapi_json))
        .route("/link-sdk.js", get(link_sdk::serve))
}

/// JSON 404 and 405 for unknown routes and methods, and the API's error
/// shape for every other error answer ([`error::json_error_shape`]).
fn with_fallbacks(router: Router) -> Router {
    router
        .layer(middleware::from_fn(error::json_error_shape))
        .fallback(|| async { ApiError::not_found("no such route").into_response() })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "this route does not support this HTTP method",
            )
            .into_response()
        })
}

/// The routes that need no storage (health, validation, schemas) only.
pub fn router() -> Router {
    with_fallbacks(public_routes())
}

/// The whole API over `state`.
pub fn app(state: AppState) -> Router {
    let cors = state.cors_origins.clone();
    let api = Router::new()
        .route(
            "/integration",
            get(integrations::list).post(integrations::create),
        )
        .route(
            "/integration/{id}",
            get(integrations::get)
                .patch(integrations::update)
                .delete(integrations::delete),
        )
        .route(
            "/environment-integration",
            get(installs::list).post(installs::create),
        )
        .route(
            "/environment-integration/{id}",
            get(installs::get)
                .patch(installs::update)
                .delete(installs::delete),
        )
        .route(
            "/integrated-account",
            get(accounts::list).post(accounts::create),
        )
        .route(
            "/integrated-account/{id}",
            get(accounts::get)
                .patch(accounts::update)
                .delete(accounts::delete),
        )
        .route(
            "/integrated-account/token",
            post(account_credentials::create_token),
        )
        .route(
            "/integrated-account/{id}/credentials",
            patch(account_credentials::update_credentials),
        )
        .route(
            "/integrated-account/refresh-credentials",
            post(account_actions::refresh_credentials),
        )
        .route(
            "/integrated-account/run-post-install-actions",
            post(account_actions::run_post_install_actions),
        )
        .route(
            "/integrated-account/{id}/mcp",
            get(mcp_servers::list).post(mcp_servers::create),
        )
        .route(
            "/integrated-account/{id}/mcp/{server_id}",
            get(mcp_servers::get_one)
                .patch(mcp_servers::update)
                .delete(mcp_servers::delete),
        )
        .route("/ping", get(meta::ping))
        .route("/log", get(logs::list))
        .route("/environment", get(environments::list))
        .route(
            "/environment/{id}",
            get(environments::get).patch(environments::update),
        )
        .route(
            "/api-token",
            get(environments::list_tokens).post(environments::create_token),
        )
        .route(
            "/api-token/{id}",
            get(environments::get_token).delete(environments::delete_token),
        )
        .route("/link-token", post(link_tokens::create))
        .route("/webhook", get(webhooks::list).post(webhooks::create))
        .route("/webhook/test", post(webhooks::test))
        .route(
            "/webhook/{id}",
            get(webhooks::get)
                .patch(webhooks::update)
                .delete(webhooks::delete),
        )
        .route("/datastore", get(datastores::list).post(datastores::create))
        .route(
            "/datastore/{id}",
            get(datastores::get)
                .patch(datastores::update)
                .delete(datastores::delete),
        )
        .route("/sync-job", get(sync_jobs::list).post(sync_jobs::create))
        .route(
            "/sync-job/{id}",
            get(sync_jobs::get)
                .patch(sync_jobs::update)
                .delete(sync_jobs::delete),
        )
        .route(
            "/sync-job-run",
            get(sync_job_runs::list).post(sync_job_runs::create),
        )
        .route(
            "/sync-job-run/{id}",
            get(sync_job_runs::get)
                .patch(sync_job_runs::update)
                .delete(sync_job_runs::stop),
        )
        .route(
            "/sync-job-run-state",
            get(sync_job_run_states::list)
                .put(sync_job_run_states::put)
                .post(sync_job_run_states::create),
        )
        .route(
            "/sync-job-run-state/{key}",
            get(sync_job_run_states::get).delete(sync_job_run_states::delete),
        )
        .route(
            "/sync-job-cron-trigger",
            get(sync_job_cron_triggers::list).post(sync_job_cron_triggers::create),
        )
        .route(
            "/sync-job-cron-trigger/{id}",
            get(sync_job_cron_triggers::get)
                .patch(sync_job_cron_triggers::update)
                .delete(sync_job_cron_triggers::delete),
        )
        .route(
            "/sync-job-cron-trigger/{id}/schedule",
            post(sync_job_cron_triggers::schedule).delete(sync_job_cron_triggers::unschedule),
        )
        .route("/proxy/{resource}", get(proxy::list).post(proxy::create))
        .route(
            "/proxy/{resource}/{id}",
            get(proxy::get)
                .patch(proxy::update)
                .delete(proxy::delete)
                .post(proxy::custom),
        )
        .route(
            "/unified-model",
            get(unified_models::list).post(unified_models::create),
        )
        .route(
            "/unified-model/{id}",
            get(unified_models::get)
                .patch(unified_models::update)
                .delete(unified_models::delete),
        )
        .route(
            "/unified-model-resource-method",
            get(unified_mappings::base::list).post(unified_mappings::base::create),
        )
        .route(
            "/unified-model-resource-method/{id}",
            get(unified_mappings::base::get)
                .patch(unified_mappings::base::update)
                .delete(unified_mappings::base::delete),
        )
        .route(
            "/environment-unified-model",
            get(environment_unified_models::list).post(environment_unified_models::create),
        )
        .route(
            "/environment-unified-model/{id}",
            get(environment_unified_models::get)
                .patch(environment_unified_models::update)
                .delete(environment_unified_models::delete),
        )
        .route(
            "/environment-unified-model-resource-method",
            get(unified_mappings::environment::list).post(unified_mappings::environment::create),
        )
        .route(
            "/environment-unified-model-resource-method/{id}",
            get(unified_mappings::environment::get)
                .patch(unified_mappings::environment::update)
                .delete(unified_mappings::environment::delete),
        )
        .route(
            "/unified/meta/{model}/{integration}",
            get(unified_meta::model_docs),
        )
        .route(
            "/unified/{model}/{resource}",
            get(unified::list).post(unified::create),
        )
        .route(
            "/unified/{model}/{resource}/{id}",
            get(unified::get)
                .patch(unified::update)
                .delete(unified::delete)
                .post(unified::custom),
        )
        .route(
            "/unified/{model}/{resource}/meta/{method}",
            get(unified_meta::method_for_account),
        )
        .route(
            "/unified/{model}/{resource}/{id}/meta/{method}",
            get(unified_meta::method_for_integration),
        )
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ))
        // Added after the token layer, so it does not apply: providers
        // authenticate by the integration's `webhook.signature_verification`.
        .route(
            "/integrated-account-webhook/{integrated_account_id}",
            post(inbound::account_webhook)
                .get(inbound::account_webhook_handshake)
                .layer(DefaultBodyLimit::max(inbound::MAX_BODY_BYTES)),
        )
        .route(
            "/environment-integration-webhook/{environment_integration_id}",
            post(inbound::environment_integration_webhook)
                .get(inbound::environment_integration_webhook_handshake)
                .layer(DefaultBodyLimit::max(inbound::MAX_BODY_BYTES)),
        )
        // MCP: the token in the path is the credential (Streamable HTTP, see routes/mcp.rs).
        .route(
            "/mcp/{token}",
            post(mcp::serve)
                .layer::<_, std::convert::Infallible>(Extension(mcp::McpTransport::new()))
                .layer(DefaultBodyLimit::max(mcp::MAX_MESSAGE_BYTES)),
        )
        // The connect pages: the link token in the query or form is the credential.
        // Framed only by the origins of `PATCHBAY_CORS_ALLOWED_ORIGINS` (the Link SDK's iframe).
        .merge(
            Router::new()
                .route("/connect-account", get(connect::page).post(connect::submit))
                .route("/connect/{integration}/callback", get(connect::callback))
                .layer(middleware::from_fn_with_state(
                    state.clone(),
                    connect::allow_framing,
                )),
        )
        // The console: its session cookie is the credential (see console/).
        .merge(console::routes())
        .with_state(state);
    let app = with_fallbacks(public_routes().merge(api))
        .layer(middleware::from_fn(logging::trace_requests))
        .layer(middleware::from_fn(loop_guard::refuse_hops));
    // Outermost: preflights are answered before any token is asked for.
    match cors_layer(&cors) {
        Some(layer) => app.layer(layer),
        None => app,
    }
}

/// The CORS layer for `origins`: bearer tokens only (never cookies or credentials mode),
/// the API's methods, `Authorization` and `Content-Type`.
fn cors_layer(origins: &CorsOrigins) -> Option<tower_http::cors::CorsLayer> {
    use axum::http::{HeaderValue, Method, header};
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let allow = match origins {
        CorsOrigins::None => return None,
        CorsOrigins::Any => AllowOrigin::any(),
        CorsOrigins::List(list) => AllowOrigin::list(
            list.iter()
                .filter_map(|origin| HeaderValue::from_str(origin).ok()),
        ),
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

/// Serves [`router`] (the routes that need no storage) on `listener` until the
/// process ends, with the default [`ServeOptions`]. The full API is [`serve_with`].
///
/// # Errors
///
/// The I/O error that stopped the server.
pub async fn serve(listener: tokio::net::TcpListener) -> std::io::Result<()> {
    serve_router(
        listener,
        router(),
        ServeOptions::default(),
        std::future::pending(),
    )
    .await
}

/// Serves the whole API ([`app`]) over `state` on `listener` until the
/// process ends, with `options` (timeouts and the connection cap; see [`serve`](mod@serve)).
///
/// # Errors
///
/// The I/O error that stopped the server.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    state: AppState,
    options: ServeOptions,
) -> std::io::Result<()> {
    serve_until(listener, state, options, std::future::pending()).await
}

/// [`serve_with`] until `shutdown` completes; then stops accepting and lets in-flight
/// requests finish, for at most [`ServeOptions::shutdown_grace`].
///
/// # Errors
///
/// The I/O error that stopped the server.
pub async fn serve_until(
    listener: tokio::net::TcpListener,
    state: AppState,
    options: ServeOptions,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> std::io::Result<()> {
    serve_router(listener, app(state), options, shutdown).await
}
