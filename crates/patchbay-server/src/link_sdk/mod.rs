//! `GET /link-sdk.js`: the Link SDK, a small ES module a host app imports to
//! open the connect pages in a popup (or an iframe, for the origins of
//! `PATCHBAY_CORS_ALLOWED_ORIGINS`) and learn the outcome
//! (`openConnect({linkToken, baseUrl, onSuccess, onError, onClose, mode, container})`).
//!
//! The module is kept beside this file (`link-sdk.js`) and compiled into the
//! binary. It is public and holds nothing secret, so any origin may load it
//! (`Access-Control-Allow-Origin: *`, `Cross-Origin-Resource-Policy:
//! cross-origin`). See `docs/guides/link-sdk.md`.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// The module's source.
pub const SOURCE: &str = include_str!("link-sdk.js");

/// `GET /link-sdk.js`: the module, as `text/javascript`.
#[utoipa::path(
    get,
    path = "/link-sdk.js",
    operation_id = "link_sdk",
    summary = "The Link SDK",
    description = "An ES module (no token) exporting `openConnect({linkToken, baseUrl, onSuccess, onError, onClose})`, which opens the connect pages in a popup (or, with `mode: 'iframe'` and a `container`, an iframe; framing is allowed only for the origins of `PATCHBAY_CORS_ALLOWED_ORIGINS`) and resolves with `{integrated_account_id, status, tenant_id, environment_integration_id, error}`; it rejects with a `PatchbayConnectError` (`code`: `invalid_options`, `popup_blocked`, `closed`, `wrong_origin`). Any origin may load it. See `docs/guides/link-sdk.md`.",
    tag = "connect",
    security(()),
    responses((
        status = 200,
        description = "The module's JavaScript source.",
        content_type = "text/javascript",
        body = String,
    )),
)]
pub async fn serve() -> Response {
    let mut response = SOURCE.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("cross-origin"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
