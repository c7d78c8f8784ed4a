//! Sign-in attempts per client address: a burst of [`BURST`], then one every
//! [`REFILL_SECONDS`] seconds, so API tokens and the console password cannot
//! be guessed at speed. Over the limit, `POST /console/sign-in` answers 429
//! with `Retry-After` and checks nothing.
//!
//! The limit is kept in the store ([`Store::count_sign_in_attempt`]), so every
//! server process on one database shares it: behind a load balancer, a client
//! gets its attempts once, not once per process. When the store cannot count
//! the attempt, the sign-in is refused (503): it could not check a token
//! either. Clients are told apart by the connection's address
//! ([`ConnectInfo`]); behind a proxy they share its address, which is
//! stricter, never looser.
//!
//! [`Store::count_sign_in_attempt`]: crate::store::Store::count_sign_in_attempt

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use super::layout::error_page;
use crate::store::{AttemptLimit, Store};

/// Attempts a client may make at once.
pub(super) const BURST: u32 = 10;
/// Seconds until one more attempt is allowed.
pub(super) const REFILL_SECONDS: u64 = 6;

/// The limit of every client.
const LIMIT: AttemptLimit = AttemptLimit {
    burst: BURST,
    period: Duration::from_secs(REFILL_SECONDS),
};

/// Counts the request's sign-in attempt: `None` when the client may try to
/// sign in now, else the page to answer (429 saying how long to wait, or 503
/// when the store could not count it).
pub(super) async fn check(store: &Store, parts: &Parts) -> Option<Response> {
    let client = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |ConnectInfo(addr)| {
            addr.ip()
        });
    let wait = match store
        .count_sign_in_attempt(&client.to_string(), LIMIT)
        .await
    {
        Ok(wait) => wait?,
        Err(error) => {
            tracing::error!(%error, "could not count a console sign-in attempt");
            return Some(error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Sign-in is unavailable",
                "The server could not check this sign-in. Try again in a moment.",
            ));
        }
    };
    let seconds = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
    tracing::warn!(%client, "too many console sign-in attempts");
    let mut response = error_page(
        StatusCode::TOO_MANY_REQUESTS,
        "Too many attempts",
        &format!("Too many sign-in attempts from this address. Try again in {seconds} seconds."),
    );
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    Some(response)
}
