//! A loopback HTTP server that behaves like real third-party APIs (GitHub, Salesforce,
//! HubSpot, Stripe, Zendesk, Slack, Jira, Shopify, Notion, Microsoft Graph, Keka), for
//! tests, offline examples and benchmarks.
//!
//! Each provider lives under its own prefix (`http://127.0.0.1:PORT/{slug}`) and
//! reproduces that provider's pagination, authentication, OAuth token endpoint,
//! rate-limit signal and error style. Datasets are generated per page from the record
//! number, so a 1,000,000-record dataset costs no memory. Faults (throttling, 5xx,
//! delays, connection resets, malformed or truncated bodies, expired tokens) are
//! scripted deterministically.
//!
//! ```no_run
//! # async fn demo() -> Result<(), patchbay_simulator::SimulatorError> {
//! use patchbay_simulator::{Fault, FaultRule, FaultScript, Provider, ProviderSetup, Simulator};
//!
//! let sim = Simulator::builder()
//!     .setup(ProviderSetup::new(Provider::Github).records(250))
//!     .fault(FaultRule::provider(Provider::Github, FaultScript::new().then(Fault::too_many_requests(1), 3)))
//!     .start()
//!     .await?;
//! let base = sim.api_base_url(Provider::Github); // http://127.0.0.1:PORT/github
//! // ... point the GitHub catalog config's base_url at `base`, send `Bearer ghp_simulator` ...
//! println!("{}", sim.stats().requests("GET /github/user/repos"));
//! sim.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! See `docs/guides/simulator.md` for the per-provider wire behaviour.
//!
//! The crate depends on no other Patchbay crate; hosts that already depend on the
//! `patchbay` facade can reach it as `patchbay::simulator` with the facade's
//! `simulator` feature, which re-exports this crate.
#![warn(missing_docs, unreachable_pub)]

mod auth;
mod builder;
mod conn;
mod credentials;
mod data;
mod error;
mod faults;
mod filter;
mod gate;
mod oauth;
mod pkce;
mod problem;
mod provider;
mod providers;
mod routes;
mod server;
mod setup;
mod state;
mod stats;
mod tokens;
mod web;

pub use builder::{RunningSimulator, Simulator, SimulatorBuilder};
pub use credentials::Credentials;
pub use error::SimulatorError;
pub use faults::{Endpoints, Fault, FaultRule, FaultScript, RetryAfter};
pub use pkce::s256_challenge;
pub use provider::Provider;
pub use setup::ProviderSetup;
pub use stats::{LoggedRequest, Stats, TokenRequestCounts};
pub use tokens::{Account, TokenSnapshot};
