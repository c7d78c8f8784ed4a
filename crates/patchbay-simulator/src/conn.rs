//! Per-connection control: lets a handler reset its own TCP connection.

use std::sync::Arc;

use tokio::sync::Notify;

/// Inserted into every request's extensions by the accept loop. Firing it makes the
/// connection task drop the connection with `SO_LINGER` 0, so the peer sees a TCP RST
/// and no HTTP response.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConnAbort(Arc<Notify>);

impl ConnAbort {
    /// Asks the connection task to reset the connection.
    pub(crate) fn fire(&self) {
        self.0.notify_one();
    }

    /// Resolves once [`fire`](Self::fire) was called (even if called before waiting).
    pub(crate) async fn fired(&self) {
        self.0.notified().await;
    }
}
