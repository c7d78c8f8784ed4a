//! The provider's HTTP request as the webhook pipeline reads it.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request};
use axum::http::header::HOST;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use patchbay::webhook::InboundRequest;

use crate::error::ApiError;

/// The largest inbound body accepted (1 MiB); larger bodies answer 413
/// before anything is verified.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The URL the provider called, as verifiers that sign it (Twilio, HubSpot)
/// need it: `<scheme>://<host><path>?<query>`.
///
/// The host is the `Host` header (or the request URI's authority, HTTP/2);
/// the scheme is the first value of `X-Forwarded-Proto` when it is `http` or
/// `https`, else `http` (the server itself speaks plain HTTP). Behind a TLS
/// proxy, keep the original `Host` and set `X-Forwarded-Proto`; a proxy that
/// rewrites the path breaks URL-signing providers.
pub fn request_url(uri: &Uri, headers: &HeaderMap) -> String {
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| v == "http" || v == "https")
        .unwrap_or_else(|| "http".to_owned());
    let host = headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| uri.authority().map(|a| a.to_string()))
        .unwrap_or_else(|| "localhost".to_owned());
    let path_and_query = uri.path_and_query().map_or("/", |pq| pq.as_str());
    format!("{scheme}://{host}{path_and_query}")
}

/// The provider's call as the webhook pipeline reads it: the method, the URL
/// it called (see [`request_url`]), the headers (values that are not UTF-8
/// are read lossily) and the raw body, unmodified. A `GET` (or `HEAD`)
/// handshake is read without a body.
///
/// Rejected with 413 for a body over [`MAX_BODY_BYTES`], before anything is
/// verified.
#[derive(Debug)]
pub struct ProviderRequest(pub InboundRequest);

impl<S: Send + Sync> FromRequest<S> for ProviderRequest {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let mut request = InboundRequest::new(
            parts.method.as_str(),
            request_url(&parts.uri, &parts.headers),
        );
        for (name, value) in &parts.headers {
            request = request.with_header(
                name.as_str(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            );
        }
        if parts.method == Method::GET || parts.method == Method::HEAD {
            return Ok(Self(request));
        }
        let body = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|r| body_error(&r))?;
        Ok(Self(request.with_body(body.to_vec())))
    }
}

/// 413 for a body over [`MAX_BODY_BYTES`], the rejection's own status otherwise.
fn body_error(rejection: &BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the webhook body is larger than {MAX_BODY_BYTES} bytes"),
        )
    } else {
        ApiError::new(rejection.status(), rejection.body_text())
    }
}

#[cfg(test)]
mod tests {
    use axum::http::header::HOST;
    use axum::http::{HeaderMap, HeaderValue, Uri};

    use super::request_url;

    #[test]
    fn url_uses_host_and_forwarded_proto() {
        let uri: Uri = "/integrated-account-webhook/a?x=1".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(HOST, HeaderValue::from_static("hooks.example.com"));
        assert_eq!(
            request_url(&uri, &headers),
            "http://hooks.example.com/integrated-account-webhook/a?x=1"
        );
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https, http"));
        assert_eq!(
            request_url(&uri, &headers),
            "https://hooks.example.com/integrated-account-webhook/a?x=1"
        );
        headers.insert("x-forwarded-proto", HeaderValue::from_static("gopher"));
        assert!(request_url(&uri, &headers).starts_with("http://"));
    }
}
