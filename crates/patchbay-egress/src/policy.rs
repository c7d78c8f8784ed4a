//! The policy: which IP addresses outbound requests may reach.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use url::{Host, Url};

use crate::error::{DestinationError, ParsePolicyError};

/// Which destinations outbound requests may reach.
///
/// An address is allowed when an allow-list network contains it, or when it is
/// in none of the refused ranges (see [`DestinationPolicy::refused_range`]).
/// Start from [`public_only`](Self::public_only) (the safe default) and open
/// ranges with [`allow`](Self::allow), or read a setting with
/// [`from_allow_list`](Self::from_allow_list).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DestinationPolicy {
    allowed: Vec<IpNet>,
    any: bool,
}

/// The refused ranges with the name an error gives them. Cloud metadata comes
/// before link-local so that 169.254.169.254 is named for what it is.
const REFUSED_V4: &[(&str, &str)] = &[
    ("169.254.169.254/32", "cloud metadata"),
    ("100.100.100.200/32", "cloud metadata"),
    ("0.0.0.0/8", "unspecified"),
    ("127.0.0.0/8", "loopback"),
    ("10.0.0.0/8", "private"),
    ("172.16.0.0/12", "private"),
    ("192.168.0.0/16", "private"),
    ("100.64.0.0/10", "carrier-grade NAT"),
    ("169.254.0.0/16", "link-local"),
    ("192.0.0.0/24", "IETF protocol assignment"),
    ("192.0.2.0/24", "documentation"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
];

const REFUSED_V6: &[(&str, &str)] = &[
    ("fd00:ec2::254/128", "cloud metadata"),
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("fc00::/7", "private"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local"),
    ("2001:db8::/32", "documentation"),
    ("ff00::/8", "multicast"),
    ("64:ff9b:1::/48", "private NAT64"),
];

fn in_ranges(address: IpAddr, ranges: &[(&str, &'static str)]) -> Option<&'static str> {
    ranges.iter().find_map(|(cidr, name)| {
        let net = IpNet::from_str(cidr).expect("the refused ranges are valid CIDR");
        net.contains(&address).then_some(*name)
    })
}

impl DestinationPolicy {
    /// Only public addresses: every range [`refused_range`](Self::refused_range)
    /// names is refused.
    pub fn public_only() -> Self {
        Self::default()
    }

    /// Every address is allowed. For tests and closed networks only: it turns
    /// the protection off.
    pub fn allow_any() -> Self {
        Self {
            allowed: Vec::new(),
            any: true,
        }
    }

    /// This policy with `network` allowed as well.
    #[must_use]
    pub fn allow(mut self, network: IpNet) -> Self {
        self.allowed.push(network);
        self
    }

    /// Reads a comma-separated allow-list setting on top of
    /// [`public_only`](Self::public_only). Each entry is an IP address, a
    /// network in CIDR form, `loopback` (127.0.0.0/8 and ::1), `private`
    /// (RFC 1918 and unique-local fc00::/7) or `any`. Blank entries are ignored,
    /// so an empty setting is the default policy.
    ///
    /// # Errors
    ///
    /// [`ParsePolicyError`] naming the first entry that is none of these.
    pub fn from_allow_list(setting: &str) -> Result<Self, ParsePolicyError> {
        let mut policy = Self::public_only();
        for entry in setting.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            match entry.to_ascii_lowercase().as_str() {
                "any" => policy.any = true,
                "loopback" => {
                    policy = policy
                        .allow(IpNet::V4(
                            Ipv4Net::new(Ipv4Addr::LOCALHOST, 8).expect("prefix"),
                        ))
                        .allow(IpNet::V6(
                            Ipv6Net::new(Ipv6Addr::LOCALHOST, 128).expect("prefix"),
                        ));
                }
                "private" => {
                    for cidr in ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"] {
                        policy = policy.allow(cidr.parse().expect("valid CIDR"));
                    }
                }
                _ => {
                    let network = IpNet::from_str(entry)
                        .or_else(|_| IpAddr::from_str(entry).map(IpNet::from))
                        .map_err(|_| ParsePolicyError {
                            entry: entry.to_owned(),
                        })?;
                    policy = policy.allow(network);
                }
            }
        }
        Ok(policy)
    }

    /// Whether the policy allows every address.
    pub fn allows_any(&self) -> bool {
        self.any
    }

    /// The networks explicitly allowed.
    pub fn allowed_networks(&self) -> &[IpNet] {
        &self.allowed
    }

    /// The name of the refused range `address` is in (`loopback`, `private`,
    /// `link-local`, `cloud metadata`, ...), or `None` for a public address.
    /// IPv4-mapped and IPv4-compatible IPv6 addresses are judged as the IPv4
    /// address they carry. The allow-list plays no part here.
    pub fn refused_range(address: IpAddr) -> Option<&'static str> {
        match address {
            IpAddr::V4(v4) => in_ranges(IpAddr::V4(v4), REFUSED_V4),
            IpAddr::V6(v6) => match embedded_v4(v6) {
                Some(v4) => in_ranges(IpAddr::V4(v4), REFUSED_V4),
                None => in_ranges(IpAddr::V6(v6), REFUSED_V6),
            },
        }
    }

    /// Whether a request may connect to `address`; `Err` names the range.
    ///
    /// # Errors
    ///
    /// [`DestinationError::Refused`] when `address` is in a refused range and
    /// no allowed network contains it.
    pub fn check_ip(&self, host: &str, address: IpAddr) -> Result<(), DestinationError> {
        if self.any {
            return Ok(());
        }
        let candidates = match address {
            IpAddr::V6(v6) => match embedded_v4(v6) {
                Some(v4) => vec![address, IpAddr::V4(v4)],
                None => vec![address],
            },
            IpAddr::V4(_) => vec![address],
        };
        if self
            .allowed
            .iter()
            .any(|net| candidates.iter().any(|a| net.contains(a)))
        {
            return Ok(());
        }
        match Self::refused_range(address) {
            Some(range) => Err(DestinationError::Refused {
                host: host.to_owned(),
                address,
                range,
            }),
            None => Ok(()),
        }
    }

    /// Checks a URL before it is sent: its scheme must be http or https and,
    /// when its host is an IP literal (in any form the URL standard reads,
    /// such as `2130706433` or `0x7f.1`), the address must be allowed. Host
    /// names pass here; [`PolicyResolver`](crate::PolicyResolver) checks what
    /// they resolve to.
    ///
    /// # Errors
    ///
    /// [`DestinationError::NotWeb`] for other schemes or a missing host,
    /// [`DestinationError::Refused`] for a refused IP literal.
    pub fn check_url(&self, url: &Url) -> Result<(), DestinationError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(DestinationError::NotWeb(format!(
                "the scheme `{}` is not http or https",
                url.scheme()
            )));
        }
        match url.host() {
            None => Err(DestinationError::NotWeb("the URL has no host".to_owned())),
            Some(Host::Ipv4(v4)) => self.check_ip(&v4.to_string(), IpAddr::V4(v4)),
            Some(Host::Ipv6(v6)) => self.check_ip(&v6.to_string(), IpAddr::V6(v6)),
            Some(Host::Domain(name)) => match name.parse::<IpAddr>() {
                // Non-special schemes keep IP-looking hosts as domains.
                Ok(address) => self.check_ip(name, address),
                Err(_) => Ok(()),
            },
        }
    }
}

impl DestinationPolicy {
    /// This policy as a [`DestinationCheck`](crate::DestinationCheck) of URLs
    /// ([`check_url`](Self::check_url)).
    pub fn into_check(self: std::sync::Arc<Self>) -> crate::DestinationCheck {
        std::sync::Arc::new(move |url: &Url| self.check_url(url).map_err(|e| e.to_string()))
    }
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`) or
/// IPv4-compatible (`::a.b.c.d`, not `::` or `::1`) IPv6 address.
fn embedded_v4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = v6.to_ipv4_mapped() {
        return Some(v4);
    }
    let segments = v6.segments();
    if segments[..6].iter().all(|s| *s == 0)
        && v6 != Ipv6Addr::UNSPECIFIED
        && v6 != Ipv6Addr::LOCALHOST
    {
        return v6.to_ipv4();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(policy: &DestinationPolicy, url: &str) -> Option<&'static str> {
        match policy.check_url(&Url::parse(url).expect("test URL")) {
            Ok(()) => None,
            Err(DestinationError::Refused { range, .. }) => Some(range),
            Err(other) => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn the_default_refuses_every_internal_form_of_an_address() {
        let policy = DestinationPolicy::public_only();
        for (url, range) in [
            ("http://127.0.0.1:8080/", "loopback"),
            ("http://2130706433/", "loopback"),
            ("http://0x7f.1/", "loopback"),
            ("http://[::1]:18080/", "loopback"),
            ("http://[::ffff:127.0.0.1]/", "loopback"),
            ("http://[::ffff:169.254.169.254]/", "cloud metadata"),
            ("http://169.254.169.254/latest/meta-data", "cloud metadata"),
            ("http://[fd00:ec2::254]/", "cloud metadata"),
            ("http://169.254.1.1/", "link-local"),
            ("http://[fe80::1]/", "link-local"),
            ("http://0.0.0.0:19002/x", "unspecified"),
            ("http://[::]/", "unspecified"),
            ("http://10.1.2.3/", "private"),
            ("http://172.31.255.255/", "private"),
            ("http://192.168.0.1/", "private"),
            ("http://[fd12::1]/", "private"),
            ("http://100.64.0.1/", "carrier-grade NAT"),
            ("http://224.0.0.1/", "multicast"),
            ("http://255.255.255.255/", "reserved"),
        ] {
            assert_eq!(refused(&policy, url), Some(range), "{url}");
        }
    }

    #[test]
    fn public_addresses_and_names_pass() {
        let policy = DestinationPolicy::public_only();
        for url in [
            "https://api.github.com/repos",
            "http://8.8.8.8/",
            "http://172.32.0.1/",
            "http://[2606:4700::1111]/",
            "https://localhost.example.com/",
        ] {
            assert_eq!(refused(&policy, url), None, "{url}");
        }
    }

    #[test]
    fn the_allow_list_opens_only_what_it_names() {
        let policy = DestinationPolicy::from_allow_list(" loopback , 10.0.0.0/8,,192.168.1.7")
            .expect("valid");
        assert_eq!(refused(&policy, "http://127.0.0.1:8787/"), None);
        assert_eq!(refused(&policy, "http://[::1]/"), None);
        assert_eq!(refused(&policy, "http://10.9.9.9/"), None);
        assert_eq!(refused(&policy, "http://192.168.1.7/"), None);
        assert_eq!(refused(&policy, "http://192.168.1.8/"), Some("private"));
        assert_eq!(
            refused(&policy, "http://169.254.169.254/"),
            Some("cloud metadata")
        );
        let private = DestinationPolicy::from_allow_list("private").expect("valid");
        assert_eq!(refused(&private, "http://172.16.0.1/"), None);
        assert_eq!(refused(&private, "http://127.0.0.1/"), Some("loopback"));
        let any = DestinationPolicy::from_allow_list("any").expect("valid");
        assert_eq!(refused(&any, "http://169.254.169.254/"), None);
        assert_eq!(
            DestinationPolicy::from_allow_list("").expect("empty"),
            DestinationPolicy::public_only()
        );
    }

    #[test]
    fn a_bad_entry_is_named() {
        let error = DestinationPolicy::from_allow_list("10.0.0.0/8, intranet").unwrap_err();
        assert_eq!(error.entry, "intranet");
        assert!(error.to_string().contains("`intranet`"));
    }

    #[test]
    fn other_schemes_are_not_web_destinations() {
        let policy = DestinationPolicy::allow_any();
        for url in [
            "file:///etc/passwd",
            "gopher://127.0.0.1/",
            "ftp://example.com/",
        ] {
            assert!(
                matches!(
                    policy.check_url(&Url::parse(url).expect("url")),
                    Err(DestinationError::NotWeb(_))
                ),
                "{url}"
            );
        }
    }

    #[test]
    fn errors_name_the_host_but_not_the_path_or_query() {
        let error = DestinationPolicy::public_only()
            .check_url(&Url::parse("http://127.0.0.1/admin?token=SECRET").expect("url"))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("127.0.0.1") && error.contains("loopback"),
            "{error}"
        );
        assert!(
            !error.contains("SECRET") && !error.contains("admin"),
            "{error}"
        );
    }
}
