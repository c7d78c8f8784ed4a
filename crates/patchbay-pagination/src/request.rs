//! What the paginator asks the executor to change on a request, and what it
//! needs to see of a response.

use serde_json::{Map, Value};
use url::Url;

use crate::PaginationError;
use crate::error::redact_link;

/// Where the next page lives, when it is not the method's own URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextUrl {
    /// A full URL (Microsoft Graph `@odata.nextLink`, GitHub/Shopify `Link`).
    Absolute(String),
    /// A reference resolved against the base URL, usually a server path with
    /// its query (Salesforce `nextRecordsUrl`, `include_path`).
    Reference(String),
}

impl NextUrl {
    pub(crate) fn from_link(link: &str, include_path: bool) -> Result<Self, PaginationError> {
        let link = link.trim();
        match Url::parse(link) {
            Ok(url) if include_path => {
                let mut reference = url.path().to_owned();
                if let Some(query) = url.query() {
                    reference.push('?');
                    reference.push_str(query);
                }
                Ok(NextUrl::Reference(reference))
            }
            Ok(_) => Ok(NextUrl::Absolute(link.to_owned())),
            Err(url::ParseError::RelativeUrlWithoutBase) => Ok(NextUrl::Reference(link.to_owned())),
            Err(e) => Err(PaginationError::InvalidLink {
                link: redact_link(link, 200),
                reason: e.to_string(),
            }),
        }
    }

    /// The URL to request: absolute links as they are, references joined to
    /// `base_url` (a reference starting with `/` replaces the base URL's path).
    ///
    /// # Errors
    /// [`PaginationError::InvalidLink`] for an unparsable link or base, and
    /// [`PaginationError::ForeignLink`] when the result's scheme, host or port
    /// differs from `base_url`'s, unless `allow_foreign_origin`. Resume cursors
    /// come from callers, so this check is what keeps a crafted cursor from
    /// sending the account's credentials to another host.
    ///
    /// ```
    /// use patchbay_pagination::NextUrl;
    /// let next = NextUrl::Reference("/services/data/v59.0/query/01gD0-2000".into());
    /// let url = next.resolve("https://acme.my.salesforce.com", false)?;
    /// assert_eq!(url.as_str(), "https://acme.my.salesforce.com/services/data/v59.0/query/01gD0-2000");
    /// let evil = NextUrl::Absolute("https://evil.test/steal".into());
    /// assert!(evil.resolve("https://acme.my.salesforce.com", false).is_err());
    /// # Ok::<(), patchbay_pagination::PaginationError>(())
    /// ```
    pub fn resolve(
        &self,
        base_url: &str,
        allow_foreign_origin: bool,
    ) -> Result<Url, PaginationError> {
        let invalid = |link: &str, e: url::ParseError| PaginationError::InvalidLink {
            link: redact_link(link, 200),
            reason: e.to_string(),
        };
        let base = Url::parse(base_url).map_err(|e| invalid(base_url, e))?;
        let url = match self {
            NextUrl::Absolute(link) => Url::parse(link).map_err(|e| invalid(link, e))?,
            NextUrl::Reference(reference) => {
                base.join(reference).map_err(|e| invalid(reference, e))?
            }
        };
        if !allow_foreign_origin && url.origin() != base.origin() {
            return Err(PaginationError::ForeignLink {
                link: redact_link(url.as_str(), 200),
                origin: base.origin().ascii_serialization(),
            });
        }
        Ok(url)
    }
}

/// Changes the paginator makes to one list request.
///
/// How the executor applies it:
/// * `url`: when set, request that URL (see [`NextUrl::resolve`]) **with its own
///   query string**; the method's and caller's query parameters are not re-sent
///   (the link already carries them). Otherwise use the method's URL and query.
/// * `query`: set these parameters, replacing any of the same name. Values are
///   JSON (numbers, strings); write them as the method writes query values.
/// * `body`: set these top-level keys of the JSON body (creating an object body
///   if there is none).
/// * `headers`: set these headers. `templated_headers` are the cursor config's
///   `headers`, still holding `{{ }}` placeholders for the executor to render with
///   the request's placeholder context.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PageRequest {
    /// The next page's URL, when it is a link.
    pub url: Option<NextUrl>,
    /// Query parameters to set.
    pub query: Vec<(String, Value)>,
    /// Top-level body keys to set.
    pub body: Map<String, Value>,
    /// Headers to set.
    pub headers: Vec<(String, String)>,
    /// Headers with placeholders, to render and set.
    pub templated_headers: Vec<(String, String)>,
}

impl PageRequest {
    /// The value set for query parameter `name`, if any.
    pub fn query_value(&self, name: &str) -> Option<&Value> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// The value set for header `name` (case-insensitive), if any.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the paginator needs to see of a list response.
#[derive(Debug, Clone, Copy)]
pub struct PageResponse<'a> {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: &'a http::HeaderMap,
    /// The parsed body (`null` when empty).
    pub body: &'a Value,
    /// Number of records the executor extracted from this page (see [`Records`](crate::Records)).
    pub record_count: usize,
}
