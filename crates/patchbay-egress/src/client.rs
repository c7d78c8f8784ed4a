//! A reqwest client builder that enforces the policy.

use std::sync::Arc;

use reqwest::header::{HeaderMap, HeaderValue};

use crate::policy::DestinationPolicy;
use crate::resolver::PolicyResolver;

/// The header every request from a [`client_builder`] client carries. A
/// Patchbay server refuses API requests that carry it, so a config whose
/// `base_url` points at a Patchbay server (itself or another one) cannot make
/// one request turn into an endless chain of requests.
pub const HOP_HEADER: &str = "x-patchbay-hop";

/// A client builder for outbound requests under `policy`: host names resolve
/// through a [`PolicyResolver`], redirects are not followed (a caller that
/// follows them checks every hop with
/// [`DestinationPolicy::check_url`]), no system proxy is used (a proxy would
/// resolve names itself, out of the policy's reach) and every request carries
/// [`HOP_HEADER`]. Callers must still call
/// [`check_url`](DestinationPolicy::check_url) before sending, for URLs whose
/// host is an IP literal.
///
/// ```
/// use std::sync::Arc;
/// use patchbay_egress::{DestinationPolicy, client_builder};
///
/// let client = client_builder(Arc::new(DestinationPolicy::public_only()))
///     .timeout(std::time::Duration::from_secs(30))
///     .build()
///     .expect("a client");
/// # drop(client);
/// ```
pub fn client_builder(policy: Arc<DestinationPolicy>) -> reqwest::ClientBuilder {
    let mut headers = HeaderMap::new();
    headers.insert(HOP_HEADER, HeaderValue::from_static("1"));
    reqwest::Client::builder()
        .dns_resolver(Arc::new(PolicyResolver::new(policy)))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .default_headers(headers)
}
