//! The thin HTTP server over the Patchbay facade, with a Truto-compatible API.
//!
//! | route | what |
//! |---|---|
//! | `GET /health` | `{"status": "ok"}` (no token) |
//! | `POST /integration/validate` | validates an integration config (no token) |
//! | `GET /schema/integration-config.json` | the JSON Schema of integration configs (no token) |
//! | `/integration`, `/integration/{id}` | integrations ([`routes::integrations`]) |
//! | `/environment-integration`, `/environment-integration/{id}` | installs ([`routes::installs`]) |
//! | `/integrated-account`, `/integrated-account/{id}` | accounts ([`routes::accounts`]) |
//! | `/proxy/{resource}`, `/proxy/{resource}/{id}` | provider calls ([`routes::proxy`]) |
//!
//! Every route but the first three needs `Authorization: Bearer <api token>`
//! ([`auth`]) and acts only in the token's environment. Errors use Truto's
//! body `{statusCode, error, message}` ([`error`]); answers never carry
//! credentials ([`redact`]). See `docs/server-api.md`.
#![warn(missing_docs)]

pub mod auth;
pub mod config;
pub mod error;
pub mod events;
pub mod extract;
pub mod query;
pub mod redact;
pub mod routes;
pub mod runtime;
pub mod state;
pub mod store;

use axum::Router;
use axum::http::StatusCode;
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::json;

pub use config::ServerConfig;
pub use error::{ApiError, ApiResult};
pub use state::AppState;

use routes::{accounts, installs, integrations, proxy, validate};

/// The routes that need no storage and no token: health, validation, schema.
fn public_routes() -> Router {
    Router::new()
        .route(
            "/health",
            get(|| async { axum::Json(json!({"status": "ok"})) }),
        )
        .route(
            "/integration/validate",
            post(validate::validate_integration),
        )
        .route(
            "/schema/integration-config.json",
            get(|| async { axum::Json(patchbay::config::integration_config_schema().clone()) }),
        )
}

/// JSON 404 and 405 for unknown routes and methods.
fn with_fallbacks(router: Router) -> Router {
    router
        .fallback(|| async { ApiError::not_found("no such route").into_response() })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "this route does not support this HTTP method",
            )
            .into_response()
        })
}

/// The routes that need no storage (health, validation, schema) only.
pub fn router() -> Router {
    with_fallbacks(public_routes())
}

/// The whole API over `state`.
pub fn app(state: AppState) -> Router {
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
        .route("/proxy/{resource}", get(proxy::list).post(proxy::create))
        .route(
            "/proxy/{resource}/{id}",
            get(proxy::get)
                .patch(proxy::update)
                .delete(proxy::delete)
                .post(proxy::custom),
        )
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ))
        .with_state(state);
    with_fallbacks(public_routes().merge(api))
}

/// Serves [`router`] (the routes that need no storage) on `listener` until the
/// process ends. The full API is [`serve_with`].
///
/// # Errors
///
/// The I/O error that stopped the server.
pub async fn serve(listener: tokio::net::TcpListener) -> std::io::Result<()> {
    axum::serve(listener, router()).await
}

/// Serves the whole API ([`app`]) over `state` on `listener` until the process ends.
///
/// # Errors
///
/// The I/O error that stopped the server.
pub async fn serve_with(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    axum::serve(listener, app(state)).await
}
