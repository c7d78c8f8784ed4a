//! Sending a prepared request and reading the whole response, bounded.

use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue};

use crate::body::EncodedBody;
use crate::method::PreparedRequest;
use crate::redirect::{MAX_REDIRECTS, RedirectOptions, is_followed, next_hop};

/// A response as received: status, headers and the raw body.
#[derive(Debug, Clone)]
pub(crate) struct RawResponse {
    /// HTTP status code.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body bytes.
    pub body: Vec<u8>,
}

/// Why a request got no complete response.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// No response within the timeout.
    #[error("the provider did not answer within {0:?}")]
    Timeout(Duration),
    /// The connection could not be made or was reset before a response.
    #[error("cannot reach the provider: {0}")]
    Connect(String),
    /// The response body was cut off or could not be read.
    #[error("the response body could not be read completely: {0}")]
    Body(String),
    /// The response body is larger than the limit.
    #[error("the response body exceeds the limit of {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The request could not be built (an invalid header name or value).
    #[error("invalid request: {0}")]
    Request(String),
    /// A redirect was not followed: a bad `Location` or more than
    /// [`MAX_REDIRECTS`] hops.
    #[error("redirect not followed: {0}")]
    Redirect(String),
    /// The host's [`DestinationCheck`](crate::DestinationCheck) refused the
    /// URL of the request or of a redirect hop; nothing was sent to it.
    #[error("{0}")]
    Refused(String),
    /// The HTTP client followed a redirect on its own, so the executor could
    /// not keep credentials from leaving the origin. Build the client with
    /// `reqwest::redirect::Policy::none()`.
    #[error(
        "the HTTP client followed a redirect by itself; build it with reqwest::redirect::Policy::none() so the executor can strip credentials"
    )]
    ClientFollowedRedirect,
}

impl TransportError {
    /// Whether retrying the same request may succeed (timeouts, connection and body errors).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Timeout(_) | Self::Connect(_) | Self::Body(_))
    }
}

/// Describes a reqwest error without its URL, which may carry credentials in the query.
fn describe(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(inner) = source {
        message.push_str(": ");
        message.push_str(&inner.to_string());
        source = inner.source();
    }
    message
}

/// Sends `request` and follows redirects hop by hop as the
/// [`redirect`](crate::redirect) module describes: credentials (the
/// authorization's `extra_headers`, the config's headers, cookies) and the
/// body never go to another origin. `timeout` applies to each hop.
///
/// # Errors
///
/// As [`send`], plus [`TransportError::Refused`] when the host's destination
/// check refuses the URL or a hop, [`TransportError::Redirect`] for a
/// redirect that is not followed and
/// [`TransportError::ClientFollowedRedirect`] when `client` follows redirects
/// by itself.
pub(crate) async fn send_following(
    client: &reqwest::Client,
    request: &PreparedRequest,
    extra_headers: &[(HeaderName, HeaderValue)],
    timeout: Duration,
    max_body: usize,
    redirects: &RedirectOptions,
) -> Result<RawResponse, TransportError> {
    if let Some(check) = &redirects.check {
        check(&request.url).map_err(TransportError::Refused)?;
    }
    let mut hop = None;
    let mut credentials = extra_headers;
    for _ in 0..=MAX_REDIRECTS {
        let current = hop.as_ref().unwrap_or(request);
        let response = send_once(client, current, credentials, timeout, max_body).await?;
        let location = response
            .headers
            .get(http::header::LOCATION)
            .and_then(|v| v.to_str().ok());
        let (true, Some(location)) = (is_followed(response.status), location) else {
            return Ok(response);
        };
        let next = next_hop(
            current,
            response.status,
            location,
            redirects.ignore_credentials,
        )
        .map_err(TransportError::Redirect)?;
        if let Some(check) = &redirects.check {
            check(&next.request.url).map_err(TransportError::Refused)?;
        }
        if !next.keep_credentials {
            credentials = &[];
        }
        hop = Some(next.request);
    }
    Err(TransportError::Redirect(format!(
        "more than {MAX_REDIRECTS} redirects"
    )))
}

/// One request, no redirects followed.
async fn send_once(
    client: &reqwest::Client,
    request: &PreparedRequest,
    extra_headers: &[(HeaderName, HeaderValue)],
    timeout: Duration,
    max_body: usize,
) -> Result<RawResponse, TransportError> {
    let method =
        reqwest::Method::from_bytes(request.method.as_str().as_bytes()).expect("known HTTP method");
    let mut builder = client.request(method, request.url.clone()).timeout(timeout);
    let mut headers = HeaderMap::new();
    for (name, value) in &request.headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| TransportError::Request(format!("`{name}` is not a valid header name")))?;
        let value = HeaderValue::from_str(value).map_err(|_| {
            TransportError::Request(format!("the value of header `{name}` is not valid"))
        })?;
        headers.insert(name, value);
    }
    for (name, value) in extra_headers {
        headers.insert(name.clone(), value.clone());
    }
    builder = match &request.body {
        EncodedBody::Empty => builder,
        EncodedBody::Json(bytes) => {
            set_default(&mut headers, http::header::CONTENT_TYPE, "application/json");
            builder.body(bytes.clone())
        }
        EncodedBody::Form(pairs) => {
            set_default(
                &mut headers,
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            );
            let encoded = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish();
            builder.body(encoded)
        }
        EncodedBody::Multipart(pairs) => {
            let mut form = reqwest::multipart::Form::new();
            for (k, v) in pairs {
                form = form.text(k.clone(), v.clone());
            }
            builder.multipart(form)
        }
        EncodedBody::Text { text, content_type } => {
            set_default(&mut headers, http::header::CONTENT_TYPE, content_type);
            builder.body(text.clone())
        }
    };
    set_default(&mut headers, http::header::ACCEPT, "application/json");
    let response = builder.headers(headers).send().await.map_err(|e| {
        if e.is_timeout() {
            TransportError::Timeout(timeout)
        } else {
            TransportError::Connect(describe(e))
        }
    })?;
    if response.url() != &request.url {
        return Err(TransportError::ClientFollowedRedirect);
    }
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    if let Some(length) = response.content_length()
        && length > max_body as u64
    {
        return Err(TransportError::TooLarge { limit: max_body });
    }
    let mut response = response;
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > max_body {
                    return Err(TransportError::TooLarge { limit: max_body });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) if e.is_timeout() => return Err(TransportError::Timeout(timeout)),
            Err(e) => return Err(TransportError::Body(describe(e))),
        }
    }
    Ok(RawResponse {
        status,
        headers,
        body,
    })
}

fn set_default(headers: &mut HeaderMap, name: HeaderName, value: &'static str) {
    if !headers.contains_key(&name) {
        headers.insert(name, HeaderValue::from_static(value));
    }
}
