//! The middleware every provider route runs through: counts the route, applies scripted
//! faults, checks API credentials, adds the provider's rate-limit headers and logs the
//! request.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::Provider;
use super::auth::authenticate;
use super::conn::ConnAbort;
use super::faults::{Endpoints, Fault};
use super::problem::{AuthFailure, Problem, render};
use super::routes::RouteInfo;
use super::state::SimState;
use super::stats::{LoggedRequest, redact_headers, redact_query};
use super::web::{Params, set_header};

/// Middleware state: the simulator and the route table.
#[derive(Debug, Clone)]
pub(crate) struct Gate {
    pub sim: Arc<SimState>,
    pub table: Arc<HashMap<String, RouteInfo>>,
}

/// The middleware function (installed with `route_layer`, so `MatchedPath` is present).
pub(crate) async fn gate(State(gate): State<Gate>, req: Request, next: Next) -> Response {
    let matched = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    let Some(info) = matched.as_deref().and_then(|m| gate.table.get(m).copied()) else {
        return next.run(req).await;
    };
    let sim = &gate.sim;
    sim.stats
        .count_route(format!("{} {}", req.method(), matched.unwrap_or_default()));
    let path = req.uri().path().to_owned();
    let mut entry = LoggedRequest {
        provider: info.provider,
        method: req.method().to_string(),
        path: path.clone(),
        query: req.uri().query().map(redact_query),
        headers: redact_headers(req.headers()),
        status: 0,
        fault: None,
    };
    let fault = sim.faults.next(info.provider, info.kind, &path);
    if let Some(f) = &fault {
        sim.stats.count_fault();
        entry.fault = Some(f.label());
    }
    if fault == Some(Fault::ConnectionReset) {
        sim.stats.log(entry);
        if let Some(abort) = req.extensions().get::<ConnAbort>() {
            abort.fire();
            std::future::pending::<()>().await;
        }
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let resp = respond(sim, info, fault, req, next).await;
    entry.status = resp.status().as_u16();
    sim.stats.log(entry);
    resp
}

async fn respond(
    sim: &SimState,
    info: RouteInfo,
    fault: Option<Fault>,
    req: Request,
    next: Next,
) -> Response {
    let provider = info.provider;
    match fault {
        Some(Fault::RateLimited { retry_after }) => {
            return render(provider, &Problem::RateLimited(retry_after));
        }
        Some(Fault::Status {
            status,
            retry_after,
        }) => return render(provider, &Problem::Status(status, retry_after)),
        Some(Fault::ExpiredToken) => {
            return render(provider, &Problem::Unauthorized(AuthFailure::Expired));
        }
        Some(Fault::MalformedJson) => {
            return (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
                "{\"data\": [{\"id\": 1, \"name\": \"trunc",
            )
                .into_response();
        }
        Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
        Some(Fault::ConnectionReset | Fault::TruncatedBody) | None => {}
    }
    let resp = normal(sim, info, req, next).await;
    if fault == Some(Fault::TruncatedBody) {
        truncate(resp).await
    } else {
        resp
    }
}

/// Authentication (API routes only), the handler, then rate-limit headers.
async fn normal(sim: &SimState, info: RouteInfo, req: Request, next: Next) -> Response {
    if info.kind != Endpoints::Api {
        return next.run(req).await;
    }
    let Some(p) = sim.providers.get(&info.provider) else {
        return next.run(req).await;
    };
    let query = Params::parse(req.uri().query());
    if let Err(failure) = authenticate(p, &sim.tokens, req.headers(), &query) {
        return render(info.provider, &Problem::Unauthorized(failure));
    }
    let calls = p.count_call();
    let mut resp = next.run(req).await;
    rate_limit_headers(info.provider, calls, &mut resp);
    resp
}

/// The headers real providers attach to every successful API answer.
fn rate_limit_headers(provider: Provider, calls: u64, resp: &mut Response) {
    match provider {
        Provider::Github => {
            let used = calls % 5000;
            let reset = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs()
                + 3600;
            set_header(resp, "x-ratelimit-limit", "5000");
            set_header(resp, "x-ratelimit-remaining", &(5000 - used).to_string());
            set_header(resp, "x-ratelimit-used", &used.to_string());
            set_header(resp, "x-ratelimit-reset", &reset.to_string());
            set_header(resp, "x-ratelimit-resource", "core");
        }
        Provider::Salesforce => set_header(
            resp,
            "sforce-limit-info",
            &format!("api-usage={calls}/15000"),
        ),
        Provider::Shopify => set_header(
            resp,
            "x-shopify-shop-api-call-limit",
            &format!("{}/40", (calls - 1) % 40 + 1),
        ),
        Provider::Hubspot => {
            set_header(resp, "x-hubspot-ratelimit-max", "100");
            set_header(
                resp,
                "x-hubspot-ratelimit-remaining",
                &(99 - (calls - 1) % 100).to_string(),
            );
            set_header(resp, "x-hubspot-ratelimit-interval-milliseconds", "10000");
        }
        _ => {}
    }
}

/// Sends the head with the full `Content-Length`, half the body, then fails the body
/// stream so hyper closes the connection mid-body.
async fn truncate(resp: Response) -> Response {
    let (mut parts, body) = resp.into_parts();
    let full = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let promised = full.len().max(1) as u64;
    let half = full.slice(..full.len() / 2);
    // Yield the half, then pause so hyper flushes head and half to the socket, then fail.
    let chunks = futures_util::stream::unfold(0u8, move |step| {
        let half = half.clone();
        async move {
            match step {
                0 => Some((Ok(half), 1)),
                1 => {
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    let err = std::io::Error::new(
                        std::io::ErrorKind::ConnectionAborted,
                        "simulated truncated body",
                    );
                    Some((Err(err), 2))
                }
                _ => None,
            }
        }
    });
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(promised));
    Response::from_parts(parts, Body::from_stream(chunks))
}
