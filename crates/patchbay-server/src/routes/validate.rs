//! `POST /integration/validate`: checks an integration config without storing it.
//! Needs no token.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{ConnectInfo, Request};
use axum::http::StatusCode;
use axum::http::header::{HeaderValue, RETRY_AFTER};
use axum::response::{IntoResponse, Response};
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::views::Validated;
use crate::error::{ApiError, ErrorBody};

/// The largest config this route validates: 256 KiB (the authenticated
/// `POST /integration` takes up to 2 MiB). Larger bodies get 413.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Validations a client (IP address) may start per second, on average.
pub const RATE_PER_SECOND: u32 = 10;

/// Validations a client may start at once after being idle.
pub const BURST: u32 = 20;

/// Tracked clients beyond which idle ones are forgotten.
const MAX_TRACKED_CLIENTS: usize = 10_000;

/// The per-client rate limit of this route: a token bucket per IP address
/// ([`RATE_PER_SECOND`], [`BURST`]). The route needs no token, so this is
/// what bounds the CPU one client can spend on it.
pub struct ValidationLimiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
}

impl ValidationLimiter {
    /// A limiter allowing `per_second` validations per client on average and
    /// `burst` at once.
    pub fn new(per_second: NonZeroU32, burst: NonZeroU32) -> Self {
        Self {
            limiter: RateLimiter::keyed(Quota::per_second(per_second).allow_burst(burst)),
        }
    }

    /// The default limiter ([`RATE_PER_SECOND`], [`BURST`]), shareable.
    pub fn default_shared() -> Arc<Self> {
        let rate = NonZeroU32::new(RATE_PER_SECOND).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(BURST).unwrap_or(NonZeroU32::MIN);
        Arc::new(Self::new(rate, burst))
    }

    /// `Ok` when `client` may validate now, else how long it should wait.
    fn check(&self, client: IpAddr) -> Result<(), std::time::Duration> {
        if self.limiter.len() > MAX_TRACKED_CLIENTS {
            self.limiter.retain_recent();
        }
        self.limiter
            .check_key(&client)
            .map_err(|not_until| not_until.wait_time_from(self.limiter.clock().now()))
    }
}

/// 429 in the API's error shape with `Retry-After` (whole seconds, at least 1).
fn too_many_requests(wait: std::time::Duration) -> Response {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let seconds = seconds.max(1);
    let mut response = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        format!(
            "too many validations from this address (at most {RATE_PER_SECOND} per second, \
             {BURST} at once); retry in {seconds} s"
        ),
    )
    .into_response();
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(seconds));
    response
}

/// `200 {"valid": true, "methods": N}`, or 422 with every problem and its path
/// (a body that is not JSON gives one problem at `(root)` with line and column).
///
/// Unauthenticated, so bounded before any work: the client's rate limit is
/// checked before the body is read (429), the body is read up to
/// [`MAX_BODY_BYTES`] (413), and the validation runs on the blocking pool so
/// it never holds an async worker.
#[utoipa::path(
    post,
    path = "/integration/validate",
    operation_id = "validate_integration",
    summary = "Validate an integration config",
    description = "Checks an integration config without storing it: `200 {\"valid\": true, \"methods\": N}`, or `422` with every problem and its JSON path. A body that is not JSON gives one problem at `(root)` with the line and column. Needs no token, so it is bounded: bodies up to 256 KiB (`413` beyond), and 10 validations per second per client IP address with bursts of 20 (`429` with `Retry-After` beyond).",
    tag = "meta",
    security(()),
    request_body(
        content = Object,
        description = "An integration config (JSON), checked without being stored.",
    ),
    responses(
        (status = 200, description = "The config is valid.", body = Validated),
        (status = 400, description = "The body is not UTF-8.", body = ErrorBody),
        (status = 413, description = "The body is over 256 KiB.", body = ErrorBody),
        (status = 422, description = "Every problem of the config with its JSON path; a body \
            that is not JSON gives one problem at `(root)` with the line and column.",
            body = ErrorBody),
        (status = 429, description = "Over the client's rate limit (10 per second, bursts of 20); \
            `Retry-After` says when to retry.", body = ErrorBody),
    ),
)]
pub async fn validate_integration(
    Extension(limiter): Extension<Arc<ValidationLimiter>>,
    request: Request,
) -> Response {
    // Without an address (a server that does not record it) every client
    // shares one bucket: stricter, never looser.
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |ConnectInfo(addr)| {
            addr.ip()
        });
    if let Err(wait) = limiter.check(client) {
        return too_many_requests(wait);
    }
    let body = match axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(error) => return body_error(&error),
    };
    let Ok(text) = String::from_utf8(body.to_vec()) else {
        return ApiError::bad_request("the request body is not UTF-8").into_response();
    };
    let validated =
        tokio::task::spawn_blocking(move || patchbay::config::load_integration_config(&text)).await;
    match validated {
        Ok(Ok(config)) => axum::Json(Validated {
            valid: true,
            methods: config.method_names().count() as u64,
        })
        .into_response(),
        Ok(Err(errors)) => {
            let mut error =
                ApiError::from_validation("the integration config is invalid", None, &errors);
            if let ApiError::Invalid { message, errors } = &mut error {
                *message = format!("the integration config has {} problem(s)", errors.len());
            }
            error.into_response()
        }
        Err(join_error) => {
            tracing::error!(error = %join_error, "config validation panicked");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "validating the config failed; see the server log",
            )
            .into_response()
        }
    }
}

/// 413 when the body is over [`MAX_BODY_BYTES`], else 400 (the body broke off).
fn body_error(error: &axum::Error) -> Response {
    let too_large = std::iter::successors(Some(error as &(dyn std::error::Error + 'static)), |e| {
        e.source()
    })
    .any(|e| e.is::<http_body_util::LengthLimitError>());
    if too_large {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the config is over {} KiB, the most this route validates",
                MAX_BODY_BYTES / 1024
            ),
        )
        .into_response()
    } else {
        ApiError::bad_request(format!("the request body could not be read: {error}"))
            .into_response()
    }
}
