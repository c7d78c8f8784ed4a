//! What one attempt's answer means: the pure classification step of the pipeline.
//!
//! [`classify`] looks at one provider answer (status, headers, parsed body) with the method's
//! rate-limit and error policies and returns one [`Verdict`]. It has no side effects: pausing
//! the account, refreshing tokens, waiting and giving up are the caller's job
//! (`Executor::execute`'s act step). The order of the checks is the contract:
//!
//! 1. **rate limit** (`rate_limit.is_rate_limited`, default: status 429) wins over everything;
//! 2. **unauthorized**: a 401, or an `error_expression` result with `status: 401` (Slack's
//!    `200 {"ok": false, "error": "token_expired"}`), when the account has a credential to
//!    refresh: refresh once, then retry; a second one in the same call needs re-authorization.
//!    On a real 401 a failing `error_expression` does not stand in the way of the refresh;
//! 3. **error status** (≥ 400), with the `error_expression` message when there is one;
//! 4. **fault**: a success status that `error_expression` calls an error;
//! 5. **success**.

use std::time::{Duration, SystemTime};

use patchbay_ratelimit::{AttemptOutcome, ResponseView};

use crate::ExecutorError;
use crate::plan::MethodPlan;
use crate::transport::TransportError;

/// The meaning of one attempt's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// A successful answer: the call returns it.
    Success,
    /// The provider limits the account: pause it for `wait` (when given) and retry, or give
    /// up. `message` is the `error_expression` message, for the error if the call gives up.
    RateLimited {
        wait: Option<Duration>,
        message: Option<String>,
    },
    /// The credentials were refused for the first time in this call: refresh, then retry.
    RefreshThenRetry,
    /// The credentials were refused again after a refresh: the account needs
    /// re-authorization.
    Unauthorized,
    /// An error status: retried when the retry policy allows it (5xx, 408, …), else the call
    /// fails with the provider's answer.
    ErrorStatus {
        status: u16,
        message: Option<String>,
    },
    /// A success status that the config's `error_expression` calls an error.
    Fault { message: String },
}

impl Verdict {
    /// A short, stable name for logs and traces.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Verdict::Success => "success",
            Verdict::RateLimited { .. } => "rate_limited",
            Verdict::RefreshThenRetry => "refresh_then_retry",
            Verdict::Unauthorized => "unauthorized",
            Verdict::ErrorStatus { .. } => "error_status",
            Verdict::Fault { .. } => "fault",
        }
    }
}

/// Whether the account has a credential the executor can refresh, and whether it already
/// did so in this call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AuthState {
    pub(crate) can_refresh: bool,
    pub(crate) refreshed: bool,
}

/// Classifies one answer; see the module docs for the order.
///
/// # Errors
/// [`ExecutorError::RateLimit`]-family errors when a configured expression fails at run
/// time (other than `error_expression` on a real 401).
pub(crate) fn classify(
    plan: &MethodPlan,
    answer: &ResponseView<'_>,
    auth: AuthState,
    now: SystemTime,
) -> Result<Verdict, ExecutorError> {
    if let Some(limited) = plan.rate_limit.classify(answer, now)? {
        return Ok(Verdict::RateLimited {
            wait: limited.wait,
            message: plan.errors.check(answer).ok().flatten(),
        });
    }
    let fault = match plan.errors.check_fault(answer) {
        Ok(fault) => fault,
        Err(_) if answer.status == 401 => None,
        Err(error) => return Err(error.into()),
    };
    let unauthorized = answer.status == 401
        || fault
            .as_ref()
            .is_some_and(|fault| fault.status == Some(401));
    if unauthorized && auth.can_refresh {
        return Ok(if auth.refreshed {
            Verdict::Unauthorized
        } else {
            Verdict::RefreshThenRetry
        });
    }
    let message = fault.map(|fault| fault.message);
    Ok(match (answer.status, message) {
        (status, message) if status >= 400 => Verdict::ErrorStatus { status, message },
        (_, Some(message)) => Verdict::Fault { message },
        (_, None) => Verdict::Success,
    })
}

/// The retry outcome of a failed send, or `None` when the failure is final (a refused
/// destination, a body over the limit, a bad URL, …).
pub(crate) fn classify_transport(error: &TransportError) -> Option<AttemptOutcome> {
    match error {
        TransportError::Timeout(_) => Some(AttemptOutcome::Timeout),
        error if error.is_transient() => Some(AttemptOutcome::Connection),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderMap;
    use patchbay_config::IntegrationConfig;
    use serde_json::{Value, json};

    use crate::plan::CompiledIntegration;

    /// A plan for `tickets.list` of a config with the given top-level additions.
    fn plan(extra: Value) -> std::sync::Arc<MethodPlan> {
        let mut config = json!({
            "base_url": "https://api.example.com",
            "resources": {"tickets": {"list": {"method": "get", "path": "/tickets"}}}
        });
        if let (Some(config), Value::Object(extra)) = (config.as_object_mut(), extra) {
            config.extend(extra);
        }
        let config: IntegrationConfig = serde_json::from_value(config).expect("config");
        let integration = CompiledIntegration::new(config).expect("integration");
        integration.plan("tickets", "list").expect("plan")
    }

    fn verdict(
        plan: &MethodPlan,
        status: u16,
        headers: &[(&str, &str)],
        body: Value,
        auth: AuthState,
    ) -> Verdict {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(
                http::HeaderName::from_bytes(name.as_bytes()).expect("name"),
                value.parse().expect("value"),
            );
        }
        let answer = ResponseView {
            status,
            headers: &map,
            body: Some(&body),
        };
        classify(plan, &answer, auth, SystemTime::UNIX_EPOCH).expect("classifies")
    }

    const FRESH: AuthState = AuthState {
        can_refresh: true,
        refreshed: false,
    };
    const REFRESHED: AuthState = AuthState {
        can_refresh: true,
        refreshed: true,
    };
    const NO_CREDENTIAL: AuthState = AuthState {
        can_refresh: false,
        refreshed: false,
    };

    #[test]
    fn precedence_table() {
        // Slack-like: 200 with ok=false is an error; token_expired means 401; a custom
        // rate-limit expression also looks at the body.
        let slack = &*plan(json!({
            "error_expression": "body.ok = false ? { 'status': body.error = 'token_expired' ? 401 : 400, 'message': body.error }",
            "rate_limit": {"is_rate_limited": "status = 429 or body.error = 'ratelimited'"}
        }));
        let plain = &*plan(json!({}));
        let message = |text: &str| Some(text.to_owned());
        let table: Vec<(&str, &MethodPlan, u16, Value, AuthState, Verdict)> = vec![
            (
                "2xx is success",
                plain,
                200,
                json!({}),
                FRESH,
                Verdict::Success,
            ),
            (
                "3xx answer is not an error",
                plain,
                304,
                json!(null),
                FRESH,
                Verdict::Success,
            ),
            (
                "429 is rate limited",
                plain,
                429,
                json!({}),
                FRESH,
                Verdict::RateLimited {
                    wait: None,
                    message: None,
                },
            ),
            (
                "429 beats 401-by-expression",
                slack,
                429,
                json!({"ok": false, "error": "token_expired"}),
                FRESH,
                Verdict::RateLimited {
                    wait: None,
                    message: message("token_expired"),
                },
            ),
            (
                "rate-limit expression on a 200",
                slack,
                200,
                json!({"ok": false, "error": "ratelimited"}),
                FRESH,
                Verdict::RateLimited {
                    wait: None,
                    message: message("ratelimited"),
                },
            ),
            (
                "401 refreshes first",
                plain,
                401,
                json!({}),
                FRESH,
                Verdict::RefreshThenRetry,
            ),
            (
                "401 after a refresh needs re-authorization",
                plain,
                401,
                json!({}),
                REFRESHED,
                Verdict::Unauthorized,
            ),
            (
                "401 without a credential is an error status",
                plain,
                401,
                json!({}),
                NO_CREDENTIAL,
                Verdict::ErrorStatus {
                    status: 401,
                    message: None,
                },
            ),
            (
                "expression status 401 on a 200 refreshes",
                slack,
                200,
                json!({"ok": false, "error": "token_expired"}),
                FRESH,
                Verdict::RefreshThenRetry,
            ),
            (
                "expression 401 without a credential is a fault",
                slack,
                200,
                json!({"ok": false, "error": "token_expired"}),
                NO_CREDENTIAL,
                Verdict::Fault {
                    message: "token_expired".to_owned(),
                },
            ),
            (
                "expression error on a 200 is a fault",
                slack,
                200,
                json!({"ok": false, "error": "channel_not_found"}),
                FRESH,
                Verdict::Fault {
                    message: "channel_not_found".to_owned(),
                },
            ),
            (
                "error status carries the expression message",
                slack,
                404,
                json!({"ok": false, "error": "not_found"}),
                FRESH,
                Verdict::ErrorStatus {
                    status: 404,
                    message: message("not_found"),
                },
            ),
            (
                "5xx is an error status",
                plain,
                503,
                json!({}),
                FRESH,
                Verdict::ErrorStatus {
                    status: 503,
                    message: None,
                },
            ),
            (
                "ok=true is success",
                slack,
                200,
                json!({"ok": true}),
                FRESH,
                Verdict::Success,
            ),
        ];
        for (name, plan, status, body, auth, expected) in table {
            assert_eq!(verdict(plan, status, &[], body, auth), expected, "{name}");
        }
    }

    #[test]
    fn a_failing_error_expression_does_not_block_the_refresh_of_a_401() {
        let failing = &*plan(json!({"error_expression": "$error('boom')"}));
        assert_eq!(
            verdict(failing, 401, &[], json!({}), FRESH),
            Verdict::RefreshThenRetry
        );
        let answer_headers = HeaderMap::new();
        let body = json!({});
        let answer = ResponseView {
            status: 200,
            headers: &answer_headers,
            body: Some(&body),
        };
        assert!(classify(failing, &answer, FRESH, SystemTime::UNIX_EPOCH).is_err());
    }

    #[test]
    fn retry_after_is_the_rate_limit_wait() {
        let plain = &*plan(json!({}));
        assert_eq!(
            verdict(plain, 429, &[("retry-after", "7")], json!({}), FRESH),
            Verdict::RateLimited {
                wait: Some(Duration::from_secs(7)),
                message: None
            }
        );
    }
}
