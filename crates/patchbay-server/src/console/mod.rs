//! The console: the environment's integrated accounts, catalog and webhooks
//! in a browser, served under `/console`.
//!
//! Plain server-rendered HTML with small inline scripts (the magic link's
//! copy button; the integration form's format choices and "Add a row"), no framework and no external assets, so
//! `cargo run -p patchbay-server` stays the only set-up. Pages work with the
//! keyboard (a skip link, landmarks, labelled fields, visible focus) and on a
//! phone-width screen.
//!
//! The console is one more client of the store the JSON routes use: it calls
//! the same store methods and the routes' own checks (link tokens, installs,
//! test events), so it can do nothing the API refuses.
//!
//! # Security
//!
//! * Sign-in with an environment's API token, or with
//!   `PATCHBAY_CONSOLE_PASSWORD` and an environment's name ([`ConsoleOptions`]);
//!   the session is a sealed `HttpOnly`, `SameSite=Strict`, `Path=/console`
//!   cookie (`Secure` over https) that is checked again on every request
//!   (`session`).
//! * Sign-in attempts are limited per client address, in the store so every
//!   process on one database shares the limit (`throttle`).
//! * Every form carries a CSRF token and is refused when posted by another
//!   site (`csrf`).
//! * Every page has the connect pages' headers: a nonce CSP, `no-store`,
//!   `no-referrer`, no framing (`layout`). Every dynamic text is escaped.
//! * Secrets are never shown: account contexts go through the API's redaction
//!   (the API's account `Redactor`), webhook URLs through its masking.
//!
//! # Layout
//!
//! * `sign_in`: the sign-in page, signing in and out;
//! * `accounts`, `account_events`, `reauthorize`: the accounts list and
//!   detail (with the events about the account), and seed 001's magic link;
//! * `catalog`, `bundled`: the installs and the bundled catalog configs,
//!   installable in one step;
//! * `integrations`, `integration_form`, `structured`, `structured_view`,
//!   `field_shapes`: seed 002's guided form that creates and edits an
//!   integration (one input per key where the steps name them), with a raw
//!   JSON view;
//! * `webhooks`: subscriptions, recent deliveries and test events;
//! * `session`, `csrf`, `throttle`, `options`, `layout`, `form`, `directory`:
//!   the parts they share.

mod account_events;
mod accounts;
mod action_inputs;
mod bundled;
mod catalog;
mod csrf;
mod directory;
mod field_shapes;
mod form;
mod group_view;
mod integration_form;
mod integrations;
mod layout;
mod nested;
mod options;
mod reauthorize;
mod resource_inputs;
mod session;
mod sign_in;
mod structured;
mod structured_view;
mod throttle;
mod webhooks;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

pub use self::options::{ConsoleOptions, MIN_PASSWORD_LEN, PASSWORD_VAR};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::StorageError;

/// The console's routes (merged into [`crate::app`]).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/console",
            get(|| async { Redirect::to("/console/accounts") }),
        )
        .route(
            "/console/",
            get(|| async { Redirect::to("/console/accounts") }),
        )
        .route("/console/sign-in", get(sign_in::page).post(sign_in::submit))
        .route("/console/sign-out", post(sign_in::sign_out))
        .route("/console/accounts", get(accounts::list))
        .route("/console/accounts/{id}", get(accounts::detail))
        .route(
            "/console/accounts/{id}/reauthorize",
            get(reauthorize::page).post(reauthorize::create),
        )
        .route("/console/catalog", get(catalog::page))
        .route("/console/catalog/install", post(catalog::install_submit))
        .route(
            "/console/integrations/new",
            get(integrations::new_page).post(integrations::new_submit),
        )
        .route(
            "/console/integrations/{id}/edit",
            get(integrations::edit_page).post(integrations::edit_submit),
        )
        .route("/console/webhooks", get(webhooks::page))
        .route("/console/webhooks/{id}/test", post(webhooks::send_test))
}

/// A page that could not be answered: the API's error, shown as a page that
/// says what is wrong (404 for an id of another environment, as the API).
pub(super) struct Failed(ApiError);

impl From<ApiError> for Failed {
    fn from(error: ApiError) -> Self {
        Self(error)
    }
}

impl From<StorageError> for Failed {
    fn from(error: StorageError) -> Self {
        Self(error.into())
    }
}

impl IntoResponse for Failed {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let title = match status {
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::CONFLICT => "This cannot be done now",
            s if s.is_server_error() => "Something went wrong",
            _ => "This cannot be done",
        };
        let message = if status == StatusCode::NOT_FOUND {
            "There is nothing here in this environment. It may have been deleted.".to_owned()
        } else {
            self.0.to_string()
        };
        layout::error_page(status, title, &message)
    }
}
