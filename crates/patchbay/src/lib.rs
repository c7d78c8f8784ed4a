//! Patchbay: turn Truto-format integration configs into working third-party API calls.
//!
//! [`Patchbay`] is the entry point a host embeds: install integration configs,
//! keep integrated accounts in an [`AccountStore`] (in memory by default), and
//! call resource methods or stream lists. Tokens refresh on their own; a
//! rejected refresh marks the account `needs_reauth` and emits
//! `integrated_account:authentication_error` to the [`EventSink`]. Providers'
//! inbound webhooks are received for an install
//! ([`Patchbay::install_webhook`], routed to an account by the config's
//! `context_lookup_field_*`) or for one account ([`Patchbay::account_webhook`]),
//! with the install's `webhook` config compiled once at install.
//!
//! The layers are re-exported: [`config`] (model and validation), [`template`]
//! (placeholders and JSONata), [`auth`] (OAuth flows, tokens), [`pagination`],
//! [`ratelimit`] (retry and pacing policies), [`executor`] (the pipeline), [`webhook`],
//! [`unified`] (unified models and their mappings, run by [`Patchbay::unified`] after
//! [`Patchbay::install_unified`]), [`mcp`] (MCP tools generated from configs, listed by
//! [`Patchbay::mcp_tools`] and run by [`Patchbay::call_tool`]), [`sync`] (sync jobs: a
//! [`sync::Runner`] fetches its pages from a `Patchbay`, which implements
//! [`sync::PageSource`]: `sync::Runner::new(patchbay.clone(), store, sink)`).
//!
//! ```
//! let config = patchbay::config::load_integration_config(r#"{
//!     "base_url": "https://{{subdomain}}.zendesk.com/api/v2",
//!     "resources": {"tickets": {"list": {"path": "/tickets", "response_path": "tickets"}}}
//! }"#).unwrap();
//! let patchbay = patchbay::Patchbay::builder().build();
//! patchbay.install("zendesk", config, Default::default()).unwrap();
//! ```
//!
//! A sync job runs with the facade as its page source:
//!
//! ```no_run
//! use std::sync::Arc;
//! use patchbay::sync::{MemoryRunStore, MemorySink, RunRequest, Runner, load_sync_job};
//!
//! async fn sync(patchbay: &patchbay::Patchbay) -> Result<(), Box<dyn std::error::Error>> {
//!     let plan = load_sync_job(r#"{"resources": [{"resource": "tickets", "method": "list"}]}"#)?;
//!     let (store, sink) = (Arc::new(MemoryRunStore::new()), Arc::new(MemorySink::new()));
//!     let state = Runner::new(patchbay.clone(), store, sink.clone())
//!         .run(&plan, &RunRequest::new("run-1", "acct-1"))
//!         .await?;
//!     println!("{:?}: {} events", state.status, sink.events().len());
//!     Ok(())
//! }
//! ```
#![warn(missing_docs, unreachable_pub)]

mod actions;
mod auth_adapters;
mod error;
mod facade;
mod inbound;
mod mcp_calls;
mod oauth;
mod response_path;
mod store;
mod sync_source;
pub mod telemetry;
mod unified_calls;

pub use patchbay_auth as auth;
pub use patchbay_config as config;
pub use patchbay_egress as egress;
pub use patchbay_executor as executor;
pub use patchbay_mcp as mcp;
pub use patchbay_pagination as pagination;
pub use patchbay_ratelimit as ratelimit;
pub use patchbay_sync as sync;
pub use patchbay_template as template;
pub use patchbay_unified as unified;
pub use patchbay_webhook as webhook;

pub use error::{Error, ErrorKind};
pub use facade::{Patchbay, PatchbayBuilder, Revocation};
pub use oauth::CodeExchange;
pub use patchbay_auth::{RefreshGuard, RefreshLock};
pub use patchbay_executor::{CallInput, ListOptions, Page, RecordStream, Response};
pub use store::{
    AccountStore, Event, EventSink, MemoryAccountStore, MemoryEvents, StatusChange, StoreError,
    account_payload,
};
pub use unified_calls::{UnifiedBody, UnifiedResponse};

/// The provider simulator: a loopback HTTP server that behaves like real third-party
/// APIs, for tests, offline examples and benchmarks. A re-export of the
/// `patchbay-simulator` crate, enabled by the `simulator` cargo feature.
#[cfg(feature = "simulator")]
pub use patchbay_simulator as simulator;
