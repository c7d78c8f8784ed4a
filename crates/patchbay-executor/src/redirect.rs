//! Following redirects without leaking credentials.
//!
//! The executor follows redirects itself, one hop at a time, because only it
//! knows which headers carry credentials: the host's HTTP client must not
//! follow them (build it with `reqwest::redirect::Policy::none()`; see the
//! crate docs). Each hop is decided here:
//!
//! * 301, 302, 303, 307 and 308 with a `Location` are followed, at most
//!   [`MAX_REDIRECTS`] times; any other 3xx is the answer.
//! * 303, and 301/302 after a POST, become a GET without a body (as browsers
//!   do); 307 and 308 keep the method.
//! * A hop to the same origin (scheme, host and port) keeps every header and
//!   the body.
//! * A hop to another origin drops every header the request carried (the
//!   authorization's headers such as `Authorization`, `X-Api-Key` or
//!   `X-Shopify-Access-Token`, the config's and the override's headers,
//!   cookies) and the body: the new origin receives a bare request.
//! * With the method's `ignore_credentials_on_redirect`, every hop (same
//!   origin included) drops the credentials: the authorization's headers,
//!   the config's headers, `Authorization` and `Cookie`.
//! * The request's URL and every hop's URL are first shown to the host's
//!   [`DestinationCheck`] (a destination policy), which can refuse them.

use patchbay_config::HttpMethod;

use crate::body::EncodedBody;
use crate::method::PreparedRequest;

/// Most redirects followed for one request.
pub const MAX_REDIRECTS: usize = 10;

/// A host check run on every URL before it is requested: the request's own,
/// each redirect hop's and each token request's (e.g.
/// `patchbay_egress::DestinationPolicy::into_check`, which refuses private
/// addresses). `Err` carries the reason, which ends the call with
/// [`TransportError::Refused`](crate::TransportError::Refused).
pub use patchbay_egress::DestinationCheck;

/// How one request follows redirects.
#[derive(Clone, Default)]
pub struct RedirectOptions {
    /// Drop credentials on every hop, same origin included (the method's
    /// `ignore_credentials_on_redirect`).
    pub ignore_credentials: bool,
    /// The host's check of each hop's URL.
    pub check: Option<DestinationCheck>,
}

impl std::fmt::Debug for RedirectOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedirectOptions")
            .field("ignore_credentials", &self.ignore_credentials)
            .field("check", &self.check.is_some())
            .finish()
    }
}

/// Whether `status` is a redirect the executor follows.
pub(crate) fn is_followed(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// The request of the next hop, and whether it keeps the credentials
/// (the authorization's headers).
pub(crate) struct Hop {
    pub(crate) request: PreparedRequest,
    pub(crate) keep_credentials: bool,
}

/// Builds the next hop of `current` after a `status` redirect to `location`.
///
/// # Errors
/// A message naming what is wrong with the `Location` (unparsable, not http(s)).
pub(crate) fn next_hop(
    current: &PreparedRequest,
    status: u16,
    location: &str,
    ignore_credentials: bool,
) -> Result<Hop, String> {
    let url = current
        .url
        .join(location)
        .map_err(|e| format!("the redirect's Location is not a valid URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "the redirect leads to a `{}:` URL; only http and https are followed",
            url.scheme()
        ));
    }
    let becomes_get = status == 303 && current.method != HttpMethod::Head
        || matches!(status, 301 | 302) && current.method == HttpMethod::Post;
    let same_origin = url.origin() == current.url.origin();
    let mut next = PreparedRequest {
        method: if becomes_get {
            HttpMethod::Get
        } else {
            current.method
        },
        url,
        headers: current.headers.clone(),
        body: current.body.clone(),
    };
    if becomes_get || !same_origin {
        next.body = EncodedBody::Empty;
        next.headers.retain(|(name, _)| !is_body_header(name));
    }
    let keep_credentials = same_origin && !ignore_credentials;
    if !keep_credentials {
        // The config's headers may carry credentials (`X-Api-Key: {{api_key}}`),
        // and nothing tells which do: none of them leave the origin.
        next.headers.clear();
    }
    Ok(Hop {
        request: next,
        keep_credentials,
    })
}

fn is_body_header(name: &str) -> bool {
    name.eq_ignore_ascii_case("content-type")
        || name.eq_ignore_ascii_case("content-length")
        || name.eq_ignore_ascii_case("content-encoding")
}

#[cfg(test)]
mod tests {
    use super::*;
    use url::Url;

    fn request(method: HttpMethod, url: &str) -> PreparedRequest {
        PreparedRequest {
            method,
            url: Url::parse(url).unwrap(),
            headers: vec![
                ("X-Api-Key".into(), "secret".into()),
                ("Content-Type".into(), "application/json".into()),
            ],
            body: EncodedBody::Json(b"{\"a\":1}".to_vec()),
        }
    }

    #[test]
    fn same_origin_keeps_and_cross_origin_drops_everything() {
        let post = request(HttpMethod::Post, "http://127.0.0.1:1000/a");
        let same = next_hop(&post, 307, "/b", false).unwrap();
        assert!(same.keep_credentials);
        assert_eq!(same.request.method, HttpMethod::Post);
        assert_eq!(same.request.headers.len(), 2);
        assert!(matches!(same.request.body, EncodedBody::Json(_)));

        let other = next_hop(&post, 307, "http://127.0.0.1:2000/b", false).unwrap();
        assert!(!other.keep_credentials);
        assert!(other.request.headers.is_empty());
        assert!(matches!(other.request.body, EncodedBody::Empty));
        assert_eq!(other.request.method, HttpMethod::Post);
    }

    #[test]
    fn see_other_and_post_301_302_become_get_without_a_body() {
        let post = request(HttpMethod::Post, "https://api.example.com/a");
        for status in [301, 302, 303] {
            let hop = next_hop(&post, status, "/b", false).unwrap();
            assert_eq!(hop.request.method, HttpMethod::Get, "{status}");
            assert!(matches!(hop.request.body, EncodedBody::Empty));
            assert_eq!(
                hop.request.headers,
                vec![("X-Api-Key".into(), "secret".into())]
            );
        }
        let put = request(HttpMethod::Put, "https://api.example.com/a");
        assert_eq!(
            next_hop(&put, 302, "/b", false).unwrap().request.method,
            HttpMethod::Put
        );
        assert_eq!(
            next_hop(&put, 303, "/b", false).unwrap().request.method,
            HttpMethod::Get
        );
    }

    #[test]
    fn ignore_credentials_strips_even_on_the_same_origin() {
        let get = request(HttpMethod::Get, "https://api.example.com/a");
        let hop = next_hop(&get, 302, "/b", true).unwrap();
        assert!(!hop.keep_credentials);
        assert!(hop.request.headers.is_empty());
    }

    #[test]
    fn bad_locations_are_errors() {
        let get = request(HttpMethod::Get, "https://api.example.com/a");
        assert!(next_hop(&get, 302, "file:///etc/passwd", false).is_err());
        assert!(next_hop(&get, 302, "http://[::1", false).is_err());
        // A scheme change is another origin.
        let hop = next_hop(&get, 302, "http://api.example.com/a", false).unwrap();
        assert!(!hop.keep_credentials);
    }
}
