//! Errors of the destination policy.

use std::net::IpAddr;

/// A destination the policy refuses. The message names the host and why, never
/// a URL's path or query (those may carry tokens).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DestinationError {
    /// The address is in a range the policy refuses.
    #[error(
        "refused to connect to `{host}`: {address} is a {range} address, which the destination policy does not allow (allow it explicitly for self-hosted services)"
    )]
    Refused {
        /// The host as written in the URL.
        host: String,
        /// The address it is or resolved to.
        address: IpAddr,
        /// The kind of range, e.g. `loopback` or `cloud metadata`.
        range: &'static str,
    },
    /// Every address the name resolved to is refused.
    #[error(
        "refused to connect to `{host}`: it resolves only to addresses the destination policy does not allow ({first} is a {range} address)"
    )]
    AllAddressesRefused {
        /// The host name.
        host: String,
        /// The first refused address.
        first: IpAddr,
        /// Its kind of range.
        range: &'static str,
    },
    /// The URL has no host or a scheme other than http and https.
    #[error("refused to connect: {0}")]
    NotWeb(String),
}

/// An allow-list setting that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid destination allow-list entry `{entry}`: expected an IP address, a network in CIDR form (e.g. 10.0.0.0/8), `private`, `loopback` or `any`"
)]
pub struct ParsePolicyError {
    /// The entry that could not be read.
    pub entry: String,
}
