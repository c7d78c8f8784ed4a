//! Where Patchbay's outbound HTTP requests may go.
//!
//! Integration configs, install overrides, end users' connect-form fields and
//! webhook subscriptions all name hosts that Patchbay then calls. Left alone,
//! any of them could point the server at itself, at a cloud metadata service
//! or at an internal admin page and read the answer back (server-side request
//! forgery). This crate is the one place that says which destinations are
//! allowed:
//!
//! - [`DestinationPolicy`] decides for an IP address or a URL. The default,
//!   [`DestinationPolicy::public_only`], refuses loopback, private (RFC 1918,
//!   unique-local), link-local, carrier-grade NAT, unspecified, broadcast,
//!   multicast, documentation and cloud metadata addresses, in IPv4, IPv6 and
//!   IPv4-mapped IPv6 forms. An allow-list of networks
//!   ([`DestinationPolicy::allow`]) opens chosen ranges for self-hosted
//!   providers and for tests' local simulators.
//! - [`PolicyResolver`] resolves host names and drops every address the policy
//!   refuses, so the check holds for the address actually connected to (a DNS
//!   answer that changes between a check and the connection, "DNS rebinding",
//!   gains nothing).
//! - [`client_builder`] returns a [`reqwest::ClientBuilder`] with that
//!   resolver, no automatic redirects (callers that follow redirects check each
//!   hop with [`DestinationPolicy::check_url`]) and the [`HOP_HEADER`] marker
//!   that lets a Patchbay server refuse requests sent by a Patchbay server.
//!
//! reqwest does not consult the resolver for URLs whose host is an IP literal
//! (`http://127.0.0.1/`, `http://2130706433/`, `http://[::1]/`), so every
//! sender also calls [`DestinationPolicy::check_url`] before it sends.
//!
//! ```
//! use patchbay_egress::DestinationPolicy;
//!
//! let policy = DestinationPolicy::public_only();
//! let metadata = url::Url::parse("http://169.254.169.254/latest/meta-data").unwrap();
//! assert!(policy.check_url(&metadata).is_err());
//!
//! let local = DestinationPolicy::public_only().allow("127.0.0.0/8".parse().unwrap());
//! assert!(local.check_url(&url::Url::parse("http://127.0.0.1:8787/").unwrap()).is_ok());
//! ```
#![warn(missing_docs, unreachable_pub)]

mod client;
mod error;
mod policy;
mod resolver;

pub use client::{HOP_HEADER, client_builder};
pub use error::{DestinationError, ParsePolicyError};
pub use policy::DestinationPolicy;

/// A check run on a URL before a request is sent to it: `Err` carries the
/// reason the URL is refused. The pipeline crates (`patchbay-auth`,
/// `patchbay-executor`) take one so that any policy can be plugged in;
/// [`DestinationPolicy::into_check`] makes one from a policy.
pub type DestinationCheck = std::sync::Arc<dyn Fn(&url::Url) -> Result<(), String> + Send + Sync>;
pub use resolver::PolicyResolver;
