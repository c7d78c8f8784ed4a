//! Refuses requests sent by a Patchbay server.
//!
//! Every outbound request Patchbay makes carries
//! [`HOP_HEADER`]. A request that arrives with it
//! came from a Patchbay server, typically because an integration's `base_url`
//! (or a redirect, or an override) points at this server: answering it would
//! make one API call fan out into an endless chain of calls through the
//! server itself, until file descriptors run out. Such requests get
//! `508 Loop Detected` before any other work.

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use patchbay::egress::HOP_HEADER;

use crate::error::ApiError;

/// Middleware: 508 for a request that carries the hop marker.
///
/// # Errors
///
/// [`ApiError`] 508 when the request carries [`HOP_HEADER`].
pub async fn refuse_hops(request: Request, next: Next) -> Result<Response, ApiError> {
    if request.headers().contains_key(HOP_HEADER) {
        return Err(ApiError::new(
            StatusCode::LOOP_DETECTED,
            format!(
                "this request was sent by a Patchbay server (it carries `{HOP_HEADER}`); \
                 an integration whose base URL points at a Patchbay server would call itself \
                 without end, so such requests are refused"
            ),
        ));
    }
    Ok(next.run(request).await)
}
