//! The state every API handler shares.

use std::sync::Arc;

use patchbay::egress::DestinationPolicy;

use crate::request_logs::{LogOptions, RequestLogs};
use crate::runtime::Runtimes;
use crate::store::Store;

/// The store and the facades that run proxy calls and inbound webhooks.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Where every object lives.
    pub store: Arc<Store>,
    /// One facade per environment, with each install's config compiled once
    /// per revision (see [`Runtimes`]).
    pub runtimes: Arc<Runtimes>,
    /// The URL browsers and providers reach the server at; `None` derives it
    /// from each request's `Host` header (see [`crate::connect`]).
    pub public_url: Option<url::Url>,
}

impl AppState {
    /// State over `store` whose outbound requests reach public addresses only
    /// ([`DestinationPolicy::public_only`]).
    pub fn new(store: Arc<Store>) -> Self {
        Self::with_destinations(store, DestinationPolicy::public_only())
    }

    /// State over `store` whose outbound requests (provider calls, token
    /// requests, connect-form URLs) follow `policy`, logging upstream calls with
    /// the default [`LogOptions`] (see [`crate::logs`]).
    ///
    /// Starts the log writer: call it within a Tokio runtime.
    pub fn with_destinations(store: Arc<Store>, policy: DestinationPolicy) -> Self {
        Self::with_logs(store, policy, LogOptions::default())
    }

    /// [`with_destinations`](Self::with_destinations) with request logs written and
    /// kept as `logs` says.
    pub fn with_logs(store: Arc<Store>, policy: DestinationPolicy, logs: LogOptions) -> Self {
        let logs = RequestLogs::spawn(store.clone(), logs);
        Self {
            runtimes: Arc::new(
                Runtimes::new(store.clone(), Arc::new(policy)).with_request_logs(logs),
            ),
            store,
            public_url: None,
        }
    }

    /// Uses `url` as the public URL (OAuth callbacks, connect links) instead
    /// of the request's `Host` header.
    pub fn with_public_url(mut self, url: url::Url) -> Self {
        self.public_url = Some(url);
        self
    }
}
