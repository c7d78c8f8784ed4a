//! The accept loop: plain HTTP/1.1 over hyper, one task per connection, so a handler can
//! reset its own connection (see [`ConnAbort`]) and shutdown can stop everything.

use std::convert::Infallible;

use axum::Router;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower::ServiceExt as _;

use super::conn::ConnAbort;

/// Serves `router` on `listener` until `shutdown` flips to `true`; then stops accepting
/// and drops every open connection.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.wait_for(|stop| *stop) => return,
        };
        let Ok((stream, _peer)) = accepted else {
            continue;
        };
        tokio::spawn(connection(stream, router.clone(), shutdown.clone()));
    }
}

/// Splits off a second handle to the same socket, used to set `SO_LINGER` 0 on reset.
fn twin(stream: TcpStream) -> std::io::Result<(TcpStream, std::net::TcpStream)> {
    let std_stream = stream.into_std()?;
    let other = std_stream.try_clone()?;
    Ok((TcpStream::from_std(std_stream)?, other))
}

async fn connection(stream: TcpStream, router: Router, mut shutdown: watch::Receiver<bool>) {
    let _ = stream.set_nodelay(true);
    let Ok((stream, handle)) = twin(stream) else {
        return;
    };
    let abort = ConnAbort::default();
    let per_request = abort.clone();
    let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        req.extensions_mut().insert(per_request.clone());
        let router = router.clone();
        async move {
            Ok::<_, Infallible>(
                router
                    .oneshot(req.map(axum::body::Body::new))
                    .await
                    .unwrap_or_else(|e| match e {}),
            )
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = conn => {}
        _ = abort.fired() => {
            // Zero linger turns the close into a RST; the close happens when both the
            // hyper connection (dropped by select!) and `handle` are gone.
            if let Ok(h) = TcpStream::from_std(handle) {
                let _ = h.set_zero_linger();
            }
        }
        _ = shutdown.wait_for(|stop| *stop) => {}
    }
}
