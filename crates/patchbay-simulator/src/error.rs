//! Errors of the simulator's own API (not the simulated providers' error bodies).

/// Why the simulator could not be configured or started.
#[derive(Debug, thiserror::Error)]
pub enum SimulatorError {
    /// A provider slug that is not one of [`Provider::ALL`](super::Provider::ALL).
    #[error("unknown provider `{0}`")]
    UnknownProvider(String),
    /// Binding or configuring the listening socket failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The requested address.
        addr: std::net::SocketAddr,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The provider is not enabled on this simulator.
    #[error("provider `{0}` is not enabled on this simulator")]
    NotEnabled(super::Provider),
}
