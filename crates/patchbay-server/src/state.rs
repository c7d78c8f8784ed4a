//! The state every API handler shares.

use std::sync::Arc;

use patchbay::egress::DestinationPolicy;

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
    /// requests, connect-form URLs) follow `policy`.
    pub fn with_destinations(store: Arc<Store>, policy: DestinationPolicy) -> Self {
        Self {
            runtimes: Arc::new(Runtimes::new(store.clone(), Arc::new(policy))),
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
