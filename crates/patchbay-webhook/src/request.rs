//! The inbound HTTP request as the verifier sees it.

use std::borrow::Cow;

/// An inbound webhook request: method, full URL, headers and the raw body bytes
/// exactly as received.
///
/// The URL must be the one the provider called (scheme, host, path and query), since
/// some providers (Twilio, HubSpot) sign it; behind a proxy, rebuild it from the
/// public base URL. Header names are matched case-insensitively; when a header is
/// repeated, lookups return its first value.
///
/// ```
/// use patchbay_webhook::InboundRequest;
/// let req = InboundRequest::new("post", "https://hooks.example.com/in?x=1&y=a%20b")
///     .with_header("X-Hub-Signature-256", "sha256=00")
///     .with_body(b"{}".to_vec());
/// assert_eq!(req.method(), "POST");
/// assert_eq!(req.header("x-hub-signature-256"), Some("sha256=00"));
/// assert_eq!(req.query_param("y").as_deref(), Some("a b"));
/// assert_eq!(req.body(), b"{}");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InboundRequest {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl InboundRequest {
    /// A request with no headers and an empty body. The method is stored upper case.
    pub fn new(method: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            method: method.into().to_ascii_uppercase(),
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Adds a header (kept in order; repeated names are allowed).
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the raw body.
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// The HTTP method, upper case.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The full request URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The raw body bytes.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// All headers in the order they were added.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The query string of the URL (without `?` and fragment), if any.
    pub fn query_string(&self) -> Option<&str> {
        let without_fragment = self.url.split('#').next().unwrap_or_default();
        without_fragment.split_once('?').map(|(_, q)| q)
    }

    /// The decoded query parameters, in order.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        self.query_string()
            .map(|q| decode_form(q.as_bytes()))
            .unwrap_or_default()
    }

    /// The first decoded value of query parameter `name`.
    pub fn query_param(&self, name: &str) -> Option<Cow<'_, str>> {
        let query = self.query_string()?;
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// Whether the `content-type` header contains `needle` (case-insensitive).
    pub fn content_type_contains(&self, needle: &str) -> bool {
        self.header("content-type")
            .is_some_and(|ct| ct.to_ascii_lowercase().contains(needle))
    }

    /// The body decoded as `application/x-www-form-urlencoded` pairs, in order.
    pub fn form_pairs(&self) -> Vec<(String, String)> {
        decode_form(&self.body)
    }
}

fn decode_form(input: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(input)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}
