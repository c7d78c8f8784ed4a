//! Where the connect pages are served, as browsers see it: the server's
//! public base URL and its own origins.

use axum::http::{HeaderMap, header};

use crate::state::AppState;

/// The server's public base URL without a trailing slash: the configured one,
/// else `http://` + the request's `Host` (when it is a valid authority).
pub(crate) fn public_base(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.public_url {
        return url.as_str().trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| h.parse::<axum::http::uri::Authority>().is_ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// The origins (`scheme://host[:port]`) the connect pages are served at: the
/// configured public URL's, else the request's `Host` over http and https
/// (a TLS proxy in front may not say which).
pub(crate) fn own_origins(state: &AppState, headers: &HeaderMap) -> Vec<String> {
    if let Some(url) = &state.public_url {
        return vec![url.origin().ascii_serialization()];
    }
    headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| h.parse::<axum::http::uri::Authority>().is_ok())
        .map(|host| vec![format!("http://{host}"), format!("https://{host}")])
        .unwrap_or_default()
}
