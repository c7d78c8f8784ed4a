//! A DNS resolver for reqwest that drops refused addresses.

use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::error::DestinationError;
use crate::policy::DestinationPolicy;

/// Resolves host names with the system resolver and keeps only the addresses
/// the policy allows. Because reqwest connects to exactly the addresses a
/// resolver returns, the check covers the connection itself: a name that
/// resolves to a public address when checked and to `127.0.0.1` a moment later
/// cannot slip through.
///
/// A name whose every address is refused fails with
/// [`DestinationError::AllAddressesRefused`] (reqwest reports it as a connect
/// error whose source chain holds that error).
#[derive(Debug, Clone)]
pub struct PolicyResolver {
    policy: Arc<DestinationPolicy>,
}

impl PolicyResolver {
    /// A resolver enforcing `policy`.
    pub fn new(policy: Arc<DestinationPolicy>) -> Self {
        Self { policy }
    }

    /// Resolves `host` and filters its addresses; the port of each address is 0
    /// (reqwest puts the URL's port in).
    ///
    /// # Errors
    ///
    /// The resolver's I/O error, or [`DestinationError::AllAddressesRefused`].
    pub async fn resolve_host(
        &self,
        host: &str,
    ) -> Result<Vec<SocketAddr>, Box<dyn std::error::Error + Send + Sync>> {
        let resolved: Vec<SocketAddr> = tokio::net::lookup_host((host, 0)).await?.collect();
        filter(&self.policy, host, resolved).map_err(Into::into)
    }
}

fn filter(
    policy: &DestinationPolicy,
    host: &str,
    resolved: Vec<SocketAddr>,
) -> Result<Vec<SocketAddr>, DestinationError> {
    let mut first_refused = None;
    let allowed: Vec<SocketAddr> = resolved
        .into_iter()
        .filter(|addr| match policy.check_ip(host, addr.ip()) {
            Ok(()) => true,
            Err(DestinationError::Refused { address, range, .. }) => {
                first_refused.get_or_insert((address, range));
                false
            }
            Err(_) => false,
        })
        .collect();
    match (allowed.is_empty(), first_refused) {
        (true, Some((first, range))) => Err(DestinationError::AllAddressesRefused {
            host: host.to_owned(),
            first,
            range,
        }),
        _ => Ok(allowed),
    }
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let this = self.clone();
        Box::pin(async move {
            let addrs = this.resolve_host(name.as_str()).await?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn localhost_resolves_to_nothing_allowed_by_default() {
        let resolver = PolicyResolver::new(Arc::new(DestinationPolicy::public_only()));
        let error = resolver.resolve_host("localhost").await.unwrap_err();
        let refused = error
            .downcast_ref::<DestinationError>()
            .expect("a destination error");
        assert!(
            matches!(
                refused,
                DestinationError::AllAddressesRefused {
                    range: "loopback",
                    ..
                }
            ),
            "{refused}"
        );
    }

    #[tokio::test]
    async fn an_allowed_range_keeps_its_addresses() {
        let policy = DestinationPolicy::from_allow_list("loopback").expect("valid");
        let resolver = PolicyResolver::new(Arc::new(policy));
        let addrs = resolver.resolve_host("localhost").await.expect("resolves");
        assert!(!addrs.is_empty());
        assert!(addrs.iter().all(|a| a.ip().is_loopback()));
    }

    #[test]
    fn mixed_answers_keep_only_the_allowed_addresses() {
        let policy = DestinationPolicy::public_only();
        let kept = filter(
            &policy,
            "rebind.example",
            vec![
                "127.0.0.1:0".parse().expect("addr"),
                "93.184.215.14:0".parse().expect("addr"),
            ],
        )
        .expect("one is public");
        assert_eq!(
            kept,
            vec!["93.184.215.14:0".parse::<SocketAddr>().expect("addr")]
        );
    }
}
