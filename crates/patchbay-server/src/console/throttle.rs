//! Sign-in attempts per client address: a burst of [`BURST`], then one every
//! [`REFILL_SECONDS`] seconds, so API tokens and the console password cannot
//! be guessed at speed. Over the limit, `POST /console/sign-in` answers 429
//! with `Retry-After` and checks nothing.
//!
//! The limit is kept in memory, per server process. Clients are told apart
//! by the connection's address ([`ConnectInfo`]); behind a proxy they share
//! its address, which is stricter, never looser.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::layout::error_page;

/// Attempts a client may make at once.
pub(super) const BURST: u32 = 10;
/// Seconds until one more attempt is allowed.
pub(super) const REFILL_SECONDS: u64 = 6;
/// Past this many clients, forgotten ones are dropped.
const MAX_TRACKED_CLIENTS: usize = 10_000;

/// The sign-in limiter a server's console shares.
pub(super) struct SignInLimiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
}

impl SignInLimiter {
    /// The limiter, shareable.
    pub(super) fn shared() -> Arc<Self> {
        let burst = NonZeroU32::new(BURST).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(Duration::from_secs(REFILL_SECONDS))
            .unwrap_or_else(|| Quota::per_minute(NonZeroU32::MIN))
            .allow_burst(burst);
        Arc::new(Self {
            limiter: RateLimiter::keyed(quota),
        })
    }

    /// `None` when the request's client may try to sign in now, else the
    /// 429 page saying how long to wait.
    pub(super) fn check(&self, parts: &Parts) -> Option<Response> {
        let client = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |ConnectInfo(addr)| {
                addr.ip()
            });
        if self.limiter.len() > MAX_TRACKED_CLIENTS {
            self.limiter.retain_recent();
        }
        let wait = self
            .limiter
            .check_key(&client)
            .err()?
            .wait_time_from(self.limiter.clock().now());
        let seconds = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
        tracing::warn!(%client, "too many console sign-in attempts");
        let mut response = error_page(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many attempts",
            &format!(
                "Too many sign-in attempts from this address. Try again in {seconds} seconds."
            ),
        );
        if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        Some(response)
    }
}
