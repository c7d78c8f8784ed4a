//! The link token on every step of the flow: present, unused and unexpired,
//! and consumed once.

use axum::http::StatusCode;

use super::html::Page;
use super::pages::{Flow, api_page};
use crate::state::AppState;
use crate::store::LinkToken;

/// The query parameter and form field carrying the link token.
pub(super) const LINK_TOKEN: &str = "link_token";

/// The 410 page of a link token that is unknown, expired or used.
pub(super) fn link_gone() -> Page {
    Page::error(
        StatusCode::GONE,
        "This link cannot be used",
        "This connect link is unknown, has expired or was already used. \
         Ask the application that sent you here for a new link.",
    )
}

/// The unused, unexpired link token `token`.
pub(super) async fn live_link(state: &AppState, token: Option<&str>) -> Flow<LinkToken> {
    let token = token.filter(|t| !t.is_empty()).ok_or_else(|| {
        Page::error(
            StatusCode::BAD_REQUEST,
            "This link is incomplete",
            "The address has no link_token. Open the full link you were given.",
        )
    })?;
    match state.store.find_link_token(token).await {
        Ok(Some(link)) => Ok(link),
        Ok(None) => Err(link_gone()),
        Err(e) => Err(api_page(e.into())),
    }
}

/// Consumes the link token `token`: `None` when it was no longer usable.
pub(super) async fn consume(state: &AppState, token: &str) -> Flow<Option<LinkToken>> {
    state
        .store
        .consume_link_token(token)
        .await
        .map_err(|e| api_page(e.into()))
}
