//! The state every API handler shares.

use std::sync::Arc;

use patchbay::egress::DestinationPolicy;

use crate::config::CorsOrigins;
use crate::console::ConsoleOptions;
use crate::request_logs::{LogOptions, RequestLogs};
use crate::runtime::{Pacing, Runtimes};
use crate::store::Store;
use crate::sync::{SyncOptions, SyncRuns};

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
    /// Where upstream calls are logged ([`RequestLogs::shutdown`] flushes them).
    pub request_logs: RequestLogs,
    /// Origins whose browser scripts may call the API (CORS); empty: none.
    pub cors_origins: CorsOrigins,
    /// How people sign in to the console ([`crate::console`]).
    pub console: ConsoleOptions,
    /// Executes sync job runs in this process ([`crate::sync`]).
    pub sync: Arc<SyncRuns>,
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
        let enabled = logs.enabled;
        let request_logs = RequestLogs::spawn(store.clone(), logs);
        let mut runtimes = Runtimes::new(store.clone(), Arc::new(policy));
        if enabled {
            runtimes = runtimes.with_request_logs(request_logs.clone());
        }
        let runtimes = Arc::new(runtimes);
        Self {
            sync: Arc::new(SyncRuns::new(
                store.clone(),
                runtimes.clone(),
                SyncOptions::default(),
            )),
            runtimes,
            store,
            public_url: None,
            request_logs,
            cors_origins: CorsOrigins::None,
            console: ConsoleOptions::default(),
        }
    }

    /// Lets browser scripts of `origins` call the API (CORS).
    pub fn with_cors_origins(mut self, origins: CorsOrigins) -> Self {
        self.cors_origins = origins;
        self
    }

    /// Paces provider calls per integrated account as `pacing` says (see
    /// [`Runtimes::set_pacing`]).
    pub fn with_pacing(self, pacing: Pacing) -> Self {
        self.runtimes.set_pacing(pacing);
        self
    }

    /// Signs people in to the console as `options` says (e.g. with a password).
    pub fn with_console(mut self, options: ConsoleOptions) -> Self {
        self.console = options;
        self
    }

    /// Executes sync job runs as `options` say (a new executor over the same store and
    /// facades).
    pub fn with_sync_options(mut self, options: SyncOptions) -> Self {
        self.sync = Arc::new(SyncRuns::new(
            self.store.clone(),
            self.runtimes.clone(),
            options,
        ));
        self
    }

    /// Uses `url` as the public URL (OAuth callbacks, connect links) instead
    /// of the request's `Host` header.
    pub fn with_public_url(mut self, url: url::Url) -> Self {
        self.public_url = Some(url);
        self
    }
}
