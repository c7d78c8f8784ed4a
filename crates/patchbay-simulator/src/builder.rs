//! [`Simulator::builder`] and the [`RunningSimulator`] handle.

use std::collections::{BTreeMap, HashMap};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::response::Response;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::faults::{FaultPlan, FaultRule};
use super::gate::{Gate, gate};
use super::routes::Routes;
use super::state::{Ctx, ProviderRuntime, SimState};
use super::stats::{Recorder, Stats};
use super::tokens::TokenStore;
use super::{Provider, ProviderSetup, SimulatorError, providers, server, web};

/// Entry point: `Simulator::builder()`.
#[derive(Debug)]
pub struct Simulator;

impl Simulator {
    /// A builder with no providers selected (all of them if none are added), 100 records
    /// per dataset, no faults, listening on `127.0.0.1:0`.
    pub fn builder() -> SimulatorBuilder {
        SimulatorBuilder {
            setups: BTreeMap::new(),
            records: 100,
            page_size: None,
            faults: Vec::new(),
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            log_capacity: 10_000,
        }
    }
}

/// Configures and starts a simulator (consuming, reqwest-style).
#[derive(Debug, Clone)]
pub struct SimulatorBuilder {
    setups: BTreeMap<Provider, ProviderSetup>,
    records: u64,
    page_size: Option<u64>,
    faults: Vec<FaultRule>,
    addr: SocketAddr,
    log_capacity: usize,
}

impl SimulatorBuilder {
    /// Enables `provider` with its defaults (no-op if already configured).
    pub fn provider(mut self, provider: Provider) -> Self {
        self.setups
            .entry(provider)
            .or_insert_with(|| ProviderSetup::new(provider));
        self
    }

    /// Enables every provider with its defaults (keeps existing setups).
    pub fn all_providers(self) -> Self {
        Provider::ALL.into_iter().fold(self, Self::provider)
    }

    /// Enables a provider with a custom setup (replaces an earlier one).
    pub fn setup(mut self, setup: ProviderSetup) -> Self {
        self.setups.insert(setup.provider, setup);
        self
    }

    /// Dataset size for providers whose setup does not say (default 100). Records are
    /// generated per page, so 1,000,000 costs no memory.
    pub fn records(mut self, n: u64) -> Self {
        self.records = n;
        self
    }

    /// Default page size for providers whose setup does not say (default: each
    /// provider's real default).
    pub fn page_size(mut self, n: u64) -> Self {
        self.page_size = Some(n.max(1));
        self
    }

    /// Adds a fault rule (rules are consulted in insertion order).
    pub fn fault(mut self, rule: FaultRule) -> Self {
        self.faults.push(rule);
        self
    }

    /// Listening address (default `127.0.0.1:0`, an ephemeral port).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Listens on `127.0.0.1:port`.
    pub fn port(self, port: u16) -> Self {
        self.bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
    }

    /// How many requests the log keeps (oldest dropped first; default 10,000; 0 = none).
    pub fn request_log_capacity(mut self, n: usize) -> Self {
        self.log_capacity = n;
        self
    }

    /// Binds the socket and starts serving in the background (needs a Tokio runtime).
    pub async fn start(self) -> Result<RunningSimulator, SimulatorError> {
        let builder = if self.setups.is_empty() {
            self.all_providers()
        } else {
            self
        };
        let bind_err = |source| SimulatorError::Bind {
            addr: builder.addr,
            source,
        };
        let listener = TcpListener::bind(builder.addr).await.map_err(bind_err)?;
        let addr = listener.local_addr().map_err(bind_err)?;
        let base_url = format!("http://{addr}");

        let providers: HashMap<Provider, Arc<ProviderRuntime>> = builder
            .setups
            .values()
            .map(|s| {
                let mut setup = s.clone();
                setup.page_size = setup.page_size.or(builder.page_size);
                (
                    s.provider,
                    Arc::new(ProviderRuntime::new(&setup, builder.records)),
                )
            })
            .collect();
        let state = Arc::new(SimState {
            base_url: base_url.clone(),
            providers,
            tokens: TokenStore::default(),
            faults: FaultPlan::new(builder.faults.clone()),
            stats: Recorder::new(builder.log_capacity),
        });
        for setup in builder.setups.values() {
            for account in &setup.accounts {
                state.tokens.seed(setup.provider, account);
            }
        }

        let mut router = Router::new();
        let mut table = HashMap::new();
        for (provider, runtime) in &state.providers {
            let ctx = Ctx {
                sim: state.clone(),
                p: runtime.clone(),
            };
            let (r, t) = providers::routes(*provider, Routes::new(*provider))
                .oauth()
                .finish(ctx);
            router = router.merge(r);
            table.extend(t);
        }
        let gate_state = Gate {
            sim: state.clone(),
            table: Arc::new(table),
        };
        let router = router
            .route_layer(from_fn_with_state(gate_state, gate))
            .fallback(not_found);

        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(server::serve(listener, router, stopped));
        Ok(RunningSimulator {
            addr,
            base_url,
            state,
            stop,
            task: Some(task),
        })
    }
}

async fn not_found() -> Response {
    web::json(StatusCode::NOT_FOUND, json!({"message": "Not Found"}))
}

/// A started simulator. Dropping it stops the server (without waiting);
/// [`shutdown`](Self::shutdown) stops it and waits.
#[derive(Debug)]
pub struct RunningSimulator {
    addr: SocketAddr,
    base_url: String,
    state: Arc<SimState>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl RunningSimulator {
    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/{slug}` — the provider's prefix, which also plays the
    /// catalog config's OAuth `tokenHost`/`authorizeHost`. Accepts a [`Provider`] or a slug.
    pub fn provider_url(&self, provider: impl AsRef<str>) -> String {
        format!("{}/{}", self.base_url, provider.as_ref())
    }

    /// The value for the catalog config's `base_url` (Salesforce: `instance_url`), e.g.
    /// `http://127.0.0.1:PORT/stripe/v1`. Jira's keeps the `{{cloud_id}}` placeholder.
    pub fn api_base_url(&self, provider: Provider) -> String {
        format!("{}{}", self.provider_url(provider), provider.api_root())
    }

    /// The override (for `patchbay_config::apply_override`, or an
    /// environment integration's `override`) that points `catalog`, the
    /// provider's catalog config as JSON, at this simulator: `base_url` (except
    /// Salesforce's, which the token response's `instance_url` supplies) and
    /// every OAuth credential's `tokenHost`/`authorizeHost`.
    ///
    /// A `tokenPath` starting with `/` replaces the path of `tokenHost` (URL
    /// resolution), so the simulator's `/{slug}` prefix moves into the paths:
    /// `tokenHost` = the simulator root, `tokenPath` = `/{slug}` + the
    /// catalog's path.
    pub fn catalog_override(
        &self,
        provider: Provider,
        catalog: &serde_json::Value,
    ) -> serde_json::Value {
        let slug = provider.slug();
        let point = |auth: &serde_json::Value| {
            let mut paths = json!({"tokenHost": self.base_url});
            for (key, host) in [
                ("tokenPath", None),
                ("authorizePath", Some("authorizeHost")),
            ] {
                if let Some(path) = auth[key].as_str() {
                    paths[key] = json!(format!("/{slug}{path}"));
                    if let Some(host) = host {
                        paths[host] = json!(self.base_url);
                    }
                }
            }
            json!({"config": {"auth": paths}})
        };
        let credentials = &catalog["credentials"];
        let mut overlay = json!({});
        if credentials.get("format").is_some() {
            if credentials["config"]["auth"].is_object() {
                overlay["credentials"] = point(&credentials["config"]["auth"]);
            }
        } else if let Some(named) = credentials.as_object() {
            for (name, credential) in named {
                if credential["config"]["auth"].is_object() {
                    overlay["credentials"][name] = point(&credential["config"]["auth"]);
                }
            }
        }
        if provider != Provider::Salesforce {
            overlay["base_url"] = json!(self.api_base_url(provider));
        }
        overlay
    }

    /// Full token endpoint URL (`tokenHost` + `tokenPath`), if the provider has one.
    /// Microsoft Graph's contains the `{tenant}` segment literally; any tenant is accepted.
    pub fn token_url(&self, provider: Provider) -> Option<String> {
        provider
            .oauth_paths()
            .map(|p| format!("{}{}", self.provider_url(provider), p.token))
    }

    /// Full authorize endpoint URL, if the provider has one.
    pub fn authorize_url(&self, provider: Provider) -> Option<String> {
        provider
            .oauth_paths()
            .and_then(|p| p.authorize)
            .map(|a| format!("{}{a}", self.provider_url(provider)))
    }

    /// A snapshot of counters, live tokens and the request log.
    pub fn stats(&self) -> Stats {
        self.state.stats.snapshot(self.state.tokens.snapshot())
    }

    /// Revokes `account` of `provider`: its refresh tokens get `invalid_grant` and its
    /// access tokens the provider's 401. Accounts are named by [`Account::new`](super::Account::new)
    /// or, for issued grants, as listed in [`Stats::tokens`]. Returns whether it existed.
    pub fn revoke(&self, provider: Provider, account: &str) -> bool {
        self.state.tokens.revoke(provider, account)
    }

    /// Makes every issued (non-static) access token of `provider` expire now.
    pub fn expire_tokens(&self, provider: Provider) {
        self.state.tokens.expire_all(provider);
    }

    /// Adds a fault rule while running (after the builder's rules).
    pub fn inject(&self, rule: FaultRule) {
        self.state.faults.push(rule);
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.state.faults.clear();
    }

    /// Whether `provider` is served by this simulator.
    pub fn serves(&self, provider: Provider) -> bool {
        self.state.providers.contains_key(&provider)
    }

    /// Stops accepting, drops open connections and waits for the server task.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningSimulator {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
