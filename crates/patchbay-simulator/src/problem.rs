//! Provider-style error responses. Every non-success answer a simulated provider gives
//! (bad credentials, throttling, server errors, bad parameters) is rendered here, in that
//! provider's real shape.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::Provider;
use super::faults::RetryAfter;
use super::web::{self, set_header};

/// Why a request was not authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthFailure {
    /// No credentials at all.
    Missing,
    /// Credentials we do not know (or revoked).
    Invalid,
    /// An access token past its lifetime.
    Expired,
}

/// Something to tell the client, independent of provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Problem {
    Unauthorized(AuthFailure),
    RateLimited(Option<RetryAfter>),
    Status(u16, Option<RetryAfter>),
    /// A malformed parameter or body. `code` is the provider's machine-readable code.
    BadRequest {
        code: &'static str,
        message: String,
    },
    NotFound(String),
    /// A required field is missing (`field`).
    Validation {
        field: &'static str,
        message: String,
    },
}

const GITHUB_DOCS: &str = "https://docs.github.com/rest";

/// `Retry-After` header value: seconds, or an HTTP-date rounded up to the next second.
pub(crate) fn retry_after_value(r: RetryAfter) -> String {
    match r {
        RetryAfter::Seconds(s) => s.to_string(),
        RetryAfter::HttpDate(d) => {
            let target = SystemTime::now() + d;
            let since = target.duration_since(UNIX_EPOCH).unwrap_or_default();
            let ceil = Duration::from_secs(since.as_secs() + u64::from(since.subsec_nanos() > 0));
            httpdate::fmt_http_date(UNIX_EPOCH + ceil)
        }
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// The provider's response for `problem`.
pub(crate) fn render(provider: Provider, problem: &Problem) -> Response {
    let (status, body) = body_for(provider, problem);
    let mut resp = web::json(status, body);
    let retry = match problem {
        Problem::RateLimited(r) | Problem::Status(_, r) => *r,
        _ => None,
    };
    if let Some(r) = retry {
        set_header(&mut resp, "retry-after", &retry_after_value(r));
    }
    match (provider, problem) {
        (Provider::Github, Problem::RateLimited(_)) => {
            set_header(&mut resp, "x-ratelimit-limit", "5000");
            set_header(&mut resp, "x-ratelimit-remaining", "0");
            set_header(&mut resp, "x-ratelimit-used", "5000");
            set_header(
                &mut resp,
                "x-ratelimit-reset",
                &(unix_now() + 60).to_string(),
            );
            set_header(&mut resp, "x-ratelimit-resource", "core");
        }
        (Provider::Hubspot, Problem::RateLimited(_)) => {
            set_header(&mut resp, "x-hubspot-ratelimit-max", "100");
            set_header(&mut resp, "x-hubspot-ratelimit-remaining", "0");
            set_header(
                &mut resp,
                "x-hubspot-ratelimit-interval-milliseconds",
                "10000",
            );
        }
        (Provider::Zendesk, Problem::Unauthorized(_)) => {
            set_header(
                &mut resp,
                "www-authenticate",
                "Basic realm=\"Web Password\"",
            );
        }
        (
            Provider::MicrosoftGraph | Provider::Github | Provider::Jira,
            Problem::Unauthorized(_),
        ) => {
            set_header(&mut resp, "www-authenticate", "Bearer");
        }
        _ => {}
    }
    resp
}

fn code(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn body_for(provider: Provider, problem: &Problem) -> (StatusCode, Value) {
    use AuthFailure::*;
    use Problem::*;
    let s = |n: u16| code(n);
    match provider {
        Provider::Github => match problem {
            Unauthorized(Missing) => (
                s(401),
                json!({"message": "Requires authentication", "documentation_url": GITHUB_DOCS}),
            ),
            Unauthorized(_) => (
                s(401),
                json!({"message": "Bad credentials", "documentation_url": GITHUB_DOCS}),
            ),
            RateLimited(_) => (
                s(403),
                json!({
                "message": "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID.",
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}),
            ),
            Status(429, _) => (
                s(429),
                json!({"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.", "documentation_url": GITHUB_DOCS}),
            ),
            Status(n, _) => (
                s(*n),
                json!({"message": "Server Error", "documentation_url": GITHUB_DOCS}),
            ),
            BadRequest { message, .. } => (
                s(400),
                json!({"message": message, "documentation_url": GITHUB_DOCS}),
            ),
            NotFound(_) => (
                s(404),
                json!({"message": "Not Found", "documentation_url": GITHUB_DOCS}),
            ),
            Validation { field, .. } => (
                s(422),
                json!({"message": "Validation Failed",
                "errors": [{"resource": "Issue", "code": "missing_field", "field": field}], "documentation_url": GITHUB_DOCS}),
            ),
        },
        Provider::Salesforce => {
            let (status, code, message) = match problem {
                Unauthorized(_) => (
                    401,
                    "INVALID_SESSION_ID",
                    "Session expired or invalid".to_owned(),
                ),
                RateLimited(_) => (
                    403,
                    "REQUEST_LIMIT_EXCEEDED",
                    "TotalRequests Limit exceeded.".to_owned(),
                ),
                Status(429, _) => (
                    429,
                    "REQUEST_LIMIT_EXCEEDED",
                    "ConcurrentPerOrgLongTxn Limit exceeded.".to_owned(),
                ),
                Status(503, _) => (
                    503,
                    "SERVER_UNAVAILABLE",
                    "Server temporarily unavailable".to_owned(),
                ),
                Status(n, _) => (
                    *n,
                    "UNKNOWN_EXCEPTION",
                    "An unexpected error occurred.".to_owned(),
                ),
                BadRequest { code, message } => (400, *code, message.clone()),
                NotFound(_) => (
                    404,
                    "NOT_FOUND",
                    "The requested resource does not exist".to_owned(),
                ),
                Validation { message, .. } => (400, "REQUIRED_FIELD_MISSING", message.clone()),
            };
            let mut err = json!({"message": message, "errorCode": code});
            if let Validation { field, .. } = problem {
                err["fields"] = json!([field]);
            }
            (s(status), json!([err]))
        }
        Provider::Hubspot => {
            let (status, category, message) = match problem {
                Unauthorized(Missing) => (401, "INVALID_AUTHENTICATION", "Authentication credentials not found. This API supports OAuth 2.0 authentication.".to_owned()),
                Unauthorized(Expired) => (401, "EXPIRED_AUTHENTICATION", "The OAuth token used to make this call expired.".to_owned()),
                Unauthorized(Invalid) => (401, "INVALID_AUTHENTICATION", "Authentication credentials not found.".to_owned()),
                RateLimited(_) | Status(429, _) => (429, "RATE_LIMITS", "You have reached your ten_secondly_rolling limit.".to_owned()),
                Status(n, _) => (*n, "INTERNAL_ERROR", "internal error".to_owned()),
                BadRequest { message, .. } => (400, "VALIDATION_ERROR", message.clone()),
                NotFound(m) => (404, "OBJECT_NOT_FOUND", m.clone()),
                Validation { message, .. } => (400, "VALIDATION_ERROR", message.clone()),
            };
            (
                s(status),
                json!({"status": "error", "message": message, "correlationId": "00000000-0000-4000-8000-000000000000", "category": category}),
            )
        }
        Provider::Stripe => {
            let (status, kind, code, message, param) = match problem {
                Unauthorized(Missing) => (401, "invalid_request_error", None, "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth.".to_owned(), None),
                Unauthorized(_) => (401, "invalid_request_error", None, "Invalid API Key provided.".to_owned(), None),
                RateLimited(_) | Status(429, _) => (429, "invalid_request_error", Some("rate_limit"), "Request rate limit exceeded.".to_owned(), None),
                Status(n, _) => (*n, "api_error", None, "Something went wrong on Stripe's end.".to_owned(), None),
                BadRequest { code, message } => (400, "invalid_request_error", Some(*code), message.clone(), None),
                NotFound(m) => (404, "invalid_request_error", Some("resource_missing"), m.clone(), None),
                Validation { field, message } => (400, "invalid_request_error", Some("parameter_missing"), message.clone(), Some(*field)),
            };
            let mut err = json!({"type": kind, "message": message});
            if let Some(c) = code {
                err["code"] = json!(c);
            }
            if let Some(p) = param {
                err["param"] = json!(p);
            }
            (s(status), json!({"error": err}))
        }
        Provider::Zendesk => match problem {
            Unauthorized(_) => (s(401), json!({"error": "Couldn't authenticate you"})),
            RateLimited(_) | Status(429, _) => (
                s(429),
                json!({"error": "APIRateLimitExceeded", "description": "Number of allowed API requests per minute exceeded"}),
            ),
            Status(n, _) => (
                s(*n),
                json!({"error": "InternalError", "description": "Internal server error"}),
            ),
            BadRequest { code, message } => {
                (s(400), json!({"error": code, "description": message}))
            }
            NotFound(_) => (
                s(404),
                json!({"error": "RecordNotFound", "description": "Not found"}),
            ),
            Validation { field, message } => (
                s(422),
                json!({"error": "RecordInvalid", "description": "Record validation errors",
                "details": {*field: [{"description": message}]}}),
            ),
        },
        Provider::Slack => match problem {
            Unauthorized(Missing) => (s(200), json!({"ok": false, "error": "not_authed"})),
            Unauthorized(Invalid) => (s(200), json!({"ok": false, "error": "invalid_auth"})),
            Unauthorized(Expired) => (s(200), json!({"ok": false, "error": "token_expired"})),
            RateLimited(_) | Status(429, _) => {
                (s(429), json!({"ok": false, "error": "ratelimited"}))
            }
            Status(n, _) => (s(*n), json!({"ok": false, "error": "fatal_error"})),
            BadRequest { code, .. } => (s(200), json!({"ok": false, "error": code})),
            NotFound(_) => (s(200), json!({"ok": false, "error": "channel_not_found"})),
            Validation { .. } => (s(200), json!({"ok": false, "error": "no_text"})),
        },
        Provider::Jira => {
            let (status, message) = match problem {
                Unauthorized(_) => (
                    401,
                    "You are not authorized to perform this operation. Please log in.".to_owned(),
                ),
                RateLimited(_) | Status(429, _) => (429, "Rate limit exceeded.".to_owned()),
                Status(n, _) => (*n, "Internal server error.".to_owned()),
                BadRequest { message, .. } => (400, message.clone()),
                NotFound(m) => (404, m.clone()),
                Validation { message, .. } => (400, message.clone()),
            };
            (s(status), json!({"errorMessages": [message], "errors": {}}))
        }
        Provider::Shopify => match problem {
            Unauthorized(_) => (
                s(401),
                json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}),
            ),
            RateLimited(_) | Status(429, _) => (
                s(429),
                json!({"errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."}),
            ),
            Status(n, _) => (s(*n), json!({"errors": "Internal Server Error"})),
            BadRequest { code, message } => (s(400), json!({"errors": {*code: message}})),
            NotFound(_) => (s(404), json!({"errors": "Not Found"})),
            Validation { field, .. } => (s(422), json!({"errors": {*field: ["can't be blank"]}})),
        },
        Provider::Notion => {
            let (status, code, message) = match problem {
                Unauthorized(_) => (401, "unauthorized", "API token is invalid.".to_owned()),
                RateLimited(_) | Status(429, _) => (
                    429,
                    "rate_limited",
                    "This request exceeds the number of requests allowed. Slow down and try again."
                        .to_owned(),
                ),
                Status(502, _) => (
                    502,
                    "bad_gateway",
                    "Notion encountered an issue while attempting to complete this request."
                        .to_owned(),
                ),
                Status(503, _) => (
                    503,
                    "service_unavailable",
                    "Notion is unavailable.".to_owned(),
                ),
                Status(n, _) => (
                    *n,
                    "internal_server_error",
                    "Unexpected error occurred.".to_owned(),
                ),
                BadRequest { code, message } => (400, *code, message.clone()),
                NotFound(m) => (404, "object_not_found", m.clone()),
                Validation { message, .. } => (400, "validation_error", message.clone()),
            };
            (
                s(status),
                json!({"object": "error", "status": status, "code": code, "message": message}),
            )
        }
        Provider::MicrosoftGraph => {
            let (status, code, message) = match problem {
                Unauthorized(Missing) => (
                    401,
                    "InvalidAuthenticationToken",
                    "Access token is empty.".to_owned(),
                ),
                Unauthorized(Invalid) => (
                    401,
                    "InvalidAuthenticationToken",
                    "IDX14100: JWT is not well formed.".to_owned(),
                ),
                Unauthorized(Expired) => (
                    401,
                    "InvalidAuthenticationToken",
                    "Lifetime validation failed, the token is expired.".to_owned(),
                ),
                RateLimited(_) | Status(429, _) => {
                    (429, "TooManyRequests", "Too many requests.".to_owned())
                }
                Status(503, _) => (
                    503,
                    "serviceNotAvailable",
                    "Service unavailable.".to_owned(),
                ),
                Status(n, _) => (
                    *n,
                    "generalException",
                    "General exception while processing.".to_owned(),
                ),
                BadRequest { code, message } => (400, *code, message.clone()),
                NotFound(m) => (404, "Request_ResourceNotFound", m.clone()),
                Validation { message, .. } => (400, "Request_BadRequest", message.clone()),
            };
            (
                s(status),
                json!({"error": {"code": code, "message": message,
                "innerError": {"date": super::data::iso8601(unix_now()), "request-id": "00000000-0000-4000-8000-000000000000"}}}),
            )
        }
        Provider::Keka => {
            let (status, message) = match problem {
                Unauthorized(_) => (401, "Unauthorized".to_owned()),
                RateLimited(_) | Status(429, _) => (429, "Too many requests".to_owned()),
                Status(n, _) => (*n, "Internal server error".to_owned()),
                BadRequest { message, .. } | Validation { message, .. } => (400, message.clone()),
                NotFound(m) => (404, m.clone()),
            };
            (
                s(status),
                json!({"succeeded": false, "message": message, "errors": [message], "data": null}),
            )
        }
    }
}

/// Shorthand for a [`Problem::BadRequest`].
pub(crate) fn bad_request(
    provider: Provider,
    code: &'static str,
    message: impl Into<String>,
) -> Response {
    render(
        provider,
        &Problem::BadRequest {
            code,
            message: message.into(),
        },
    )
}

/// Shorthand for a [`Problem::NotFound`].
pub(crate) fn not_found(provider: Provider, message: impl Into<String>) -> Response {
    render(provider, &Problem::NotFound(message.into()))
}

/// Shorthand for a [`Problem::Validation`].
pub(crate) fn missing_field(
    provider: Provider,
    field: &'static str,
    message: impl Into<String>,
) -> Response {
    render(
        provider,
        &Problem::Validation {
            field,
            message: message.into(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_date_retry_after_is_in_the_future() {
        let v = retry_after_value(RetryAfter::HttpDate(Duration::from_secs(5)));
        let at = httpdate::parse_http_date(&v).expect("valid HTTP-date");
        assert!(at > SystemTime::now() + Duration::from_secs(4));
    }
}
