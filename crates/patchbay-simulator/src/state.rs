//! Shared runtime state: per-provider runtime data plus the simulator-wide stores.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::faults::FaultPlan;
use super::stats::Recorder;
use super::tokens::{IssuePolicy, TokenStore};
use super::{Credentials, Provider, ProviderSetup};

/// Runtime data of one enabled provider.
#[derive(Debug)]
pub(crate) struct ProviderRuntime {
    pub provider: Provider,
    pub records: u64,
    pub page_size: u64,
    pub credentials: Credentials,
    pub token_lifetime: Option<Duration>,
    pub rotate: bool,
    /// Serial for created records (ids continue after the dataset).
    created: AtomicU64,
    /// API calls served, for rate-limit headers.
    calls: AtomicU64,
}

impl ProviderRuntime {
    pub(crate) fn new(setup: &ProviderSetup, default_records: u64) -> Self {
        let provider = setup.provider;
        ProviderRuntime {
            provider,
            records: setup.records.unwrap_or(default_records),
            page_size: setup
                .page_size
                .unwrap_or_else(|| provider.default_page_size()),
            credentials: setup.credentials.clone(),
            token_lifetime: setup.token_lifetime,
            rotate: setup.rotate_refresh_tokens,
            created: AtomicU64::new(0),
            calls: AtomicU64::new(0),
        }
    }

    /// Record number for a newly created record (after the generated dataset).
    pub(crate) fn next_created(&self) -> u64 {
        self.records + self.created.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Counts an API call and returns how many were served so far (including this one).
    pub(crate) fn count_call(&self) -> u64 {
        self.calls.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Page size for a request: `requested` clamped to `1..=max`, else the default.
    pub(crate) fn limit(&self, requested: Option<u64>) -> u64 {
        let max = self.provider.max_page_size().max(self.page_size);
        requested.unwrap_or(self.page_size).clamp(1, max)
    }

    /// Token policy for the authorization-code and refresh grants.
    pub(crate) fn issue_policy(&self) -> IssuePolicy {
        let refresh_tokens = match self.provider {
            Provider::Shopify | Provider::Notion | Provider::Keka => false,
            Provider::Github => self.token_lifetime.is_some(),
            _ => true,
        };
        IssuePolicy {
            lifetime: self.token_lifetime,
            rotate: self.rotate,
            refresh_tokens,
        }
    }
}

/// Everything the handlers share.
#[derive(Debug)]
pub(crate) struct SimState {
    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub base_url: String,
    pub providers: HashMap<Provider, Arc<ProviderRuntime>>,
    pub tokens: TokenStore,
    pub faults: FaultPlan,
    pub stats: Recorder,
}

impl SimState {
    /// `http://127.0.0.1:PORT/{slug}`.
    pub(crate) fn provider_url(&self, provider: Provider) -> String {
        format!("{}/{}", self.base_url, provider.slug())
    }
}

/// Handler state: the simulator plus the provider whose route is running.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub sim: Arc<SimState>,
    pub p: Arc<ProviderRuntime>,
}

impl Ctx {
    /// `http://127.0.0.1:PORT/{slug}` of this provider.
    pub(crate) fn url(&self) -> String {
        self.sim.provider_url(self.p.provider)
    }
}
