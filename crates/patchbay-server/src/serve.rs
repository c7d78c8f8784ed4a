//! Serving a [`Router`] over TCP with the limits a public server needs.
//!
//! [`serve_router`] accepts connections itself (instead of `axum::serve`,
//! which sets no timeouts) and enforces [`ServeOptions`]:
//!
//! * **header read timeout**: a connection must deliver a complete request
//!   head within `header_read_timeout` of waiting for one (a new connection,
//!   or an idle keep-alive one), else it is closed. This ends slowloris
//!   connections that send a partial request line and then nothing.
//! * **body read timeout**: a request's body must arrive within
//!   `body_read_timeout` of its head; a slower body is answered `408` in the
//!   API's error shape and the connection is closed ([`body_deadline`]).
//! * **connection cap**: at most `max_connections` connections are served at
//!   once; further clients wait in the listen backlog until one ends.
//!
//! Each request carries [`ConnectInfo`] with the client's address (for
//! per-client limits). The server speaks HTTP/1.1 (and 1.0). When `shutdown`
//! completes it stops accepting, lets in-flight requests finish (idle
//! keep-alive connections are closed) and returns once every connection has
//! ended, or after `shutdown_grace` at the latest.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request};
use axum::http::StatusCode;
use axum::http::header::{CONNECTION, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::error::ApiError;

/// The default [`ServeOptions::header_read_timeout`]: 10 s.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The default [`ServeOptions::body_read_timeout`]: 30 s.
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// The default [`ServeOptions::max_connections`]: 10,000.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// The default [`ServeOptions::shutdown_grace`]: 30 s.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Connection limits of [`serve_router`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeOptions {
    /// How long a connection may take to send a request head
    /// (`PATCHBAY_HEADER_READ_TIMEOUT_SECS`, default 10).
    pub header_read_timeout: Duration,
    /// How long a request's body may take to arrive after its head
    /// (`PATCHBAY_BODY_READ_TIMEOUT_SECS`, default 30).
    pub body_read_timeout: Duration,
    /// How many connections are served at once (`PATCHBAY_MAX_CONNECTIONS`,
    /// default 10,000).
    pub max_connections: usize,
    /// How long in-flight requests may take to finish once shutdown begins
    /// (`PATCHBAY_SHUTDOWN_GRACE_SECS`, default 30); connections still open after it are
    /// closed.
    pub shutdown_grace: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
        }
    }
}

impl ServeOptions {
    /// The defaults, with each limit the environment sets
    /// (`PATCHBAY_HEADER_READ_TIMEOUT_SECS`, `PATCHBAY_BODY_READ_TIMEOUT_SECS`,
    /// `PATCHBAY_MAX_CONNECTIONS`, `PATCHBAY_SHUTDOWN_GRACE_SECS`, each a positive whole
    /// number).
    ///
    /// # Errors
    ///
    /// A message naming the variable when its value is not a positive number.
    pub fn from_env() -> Result<Self, String> {
        let defaults = Self::default();
        Ok(Self {
            header_read_timeout: env_number("PATCHBAY_HEADER_READ_TIMEOUT_SECS")?
                .map_or(defaults.header_read_timeout, Duration::from_secs),
            body_read_timeout: env_number("PATCHBAY_BODY_READ_TIMEOUT_SECS")?
                .map_or(defaults.body_read_timeout, Duration::from_secs),
            max_connections: env_number("PATCHBAY_MAX_CONNECTIONS")?
                .map_or(Ok(defaults.max_connections), usize::try_from)
                .map_err(|_| "PATCHBAY_MAX_CONNECTIONS is too large".to_owned())?,
            shutdown_grace: env_number("PATCHBAY_SHUTDOWN_GRACE_SECS")?
                .map_or(defaults.shutdown_grace, Duration::from_secs),
        })
    }
}

/// The positive number in the variable `name`, if set and not empty.
fn env_number(name: &str) -> Result<Option<u64>, String> {
    positive_number(name, std::env::var(name).ok())
}

/// The positive whole number `value` of the setting `name` (`None` when unset or empty);
/// an error naming the setting and its value otherwise.
pub(crate) fn positive_number(name: &str, value: Option<String>) -> Result<Option<u64>, String> {
    match value {
        Some(text) if !text.trim().is_empty() => match text.trim().parse::<u64>() {
            Ok(n) if n > 0 => Ok(Some(n)),
            _ => Err(format!("{name}=`{text}` must be a positive whole number")),
        },
        _ => Ok(None),
    }
}

/// Serves `router` on `listener` with `options` until `shutdown` completes,
/// then waits for open connections to finish (see the module docs).
///
/// # Errors
///
/// None today: accept errors are logged and retried. The `Result` leaves
/// room for fatal listener errors.
pub async fn serve_router(
    listener: TcpListener,
    router: Router,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let body_read_timeout = options.body_read_timeout;
    let router = router.layer(middleware::from_fn(move |request, next| {
        body_deadline(body_read_timeout, request, next)
    }));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout);
    let connections = Arc::new(Semaphore::new(options.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    accept_error(&error).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Small answers go out at once rather than waiting for more data.
        let _ = stream.set_nodelay(true);
        let service =
            tower::ServiceExt::map_request(router.clone(), move |mut request: Request<_>| {
                request.extensions_mut().insert(ConnectInfo(remote));
                request
            });
        let connection =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%remote, %error, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(options.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            grace = ?options.shutdown_grace,
            "requests still in flight after the shutdown grace period are cut off"
        );
    }
    Ok(())
}

/// Logs an accept error; pauses after one that is not about a single
/// connection (e.g. out of file descriptors), so the loop does not spin.
async fn accept_error(error: &std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(%error, "accept failed; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Middleware: the request body must arrive within `timeout` of the request
/// head; otherwise the answer is `408 Request Timeout` in the API's error
/// shape with `Connection: close`, whatever the handler made of the cut-off
/// body.
pub async fn body_deadline(timeout: Duration, request: Request, next: Next) -> Response {
    let timed_out = Arc::new(AtomicBool::new(false));
    let flag = timed_out.clone();
    let request = request.map(|body| Body::new(DeadlineBody::new(body, timeout, flag)));
    let response = next.run(request).await;
    if !timed_out.load(Ordering::Acquire) {
        return response;
    }
    let mut response = ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        format!(
            "the request body did not arrive within {} s",
            timeout.as_secs_f64()
        ),
    )
    .into_response();
    response
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    response
}

/// The error a body yields once its deadline has passed.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
struct BodyReadTimeout;

/// A request body that fails with [`BodyReadTimeout`] (and sets `timed_out`)
/// when it is read past its deadline.
struct DeadlineBody {
    inner: Body,
    deadline: Pin<Box<tokio::time::Sleep>>,
    timed_out: Arc<AtomicBool>,
}

impl DeadlineBody {
    fn new(inner: Body, timeout: Duration, timed_out: Arc<AtomicBool>) -> Self {
        Self {
            inner,
            deadline: Box::pin(tokio::time::sleep(timeout)),
            timed_out,
        }
    }
}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        match this.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => {
                this.timed_out.store(true, Ordering::Release);
                Poll::Ready(Some(Err(axum::Error::new(BodyReadTimeout))))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_come_from_positive_numbers_in_the_environment() {
        // Variable names of this test only, so parallel tests do not race.
        let name = "PATCHBAY_TEST_SERVE_LIMIT";
        // SAFETY: no other thread reads or writes this variable.
        unsafe { std::env::set_var(name, " 7 ") };
        assert_eq!(env_number(name), Ok(Some(7)));
        for bad in ["0", "-1", "ten", "1.5"] {
            unsafe { std::env::set_var(name, bad) };
            let message = env_number(name).unwrap_err();
            assert!(message.contains(name) && message.contains(bad), "{message}");
        }
        unsafe { std::env::remove_var(name) };
        assert_eq!(env_number(name), Ok(None));
    }
}
