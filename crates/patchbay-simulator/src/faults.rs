//! Deterministic fault injection: what can go wrong, and scripts saying when.

use std::sync::Mutex;
use std::time::Duration;

use super::Provider;

/// How a throttled or unavailable response tells the client when to come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfter {
    /// `Retry-After: <seconds>`.
    Seconds(u64),
    /// `Retry-After: <HTTP-date>`, this far in the future (rounded to whole seconds).
    HttpDate(Duration),
}

/// One thing that can go wrong with a request. Rendered in the provider's own style.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// The provider's rate-limit answer: GitHub 403 with `x-ratelimit-remaining: 0`,
    /// Salesforce 403 `REQUEST_LIMIT_EXCEEDED`, everyone else 429.
    RateLimited {
        /// Optional `Retry-After` header.
        retry_after: Option<RetryAfter>,
    },
    /// An error status (e.g. 500, 502, 503, 429) with the provider's error body.
    Status {
        /// The HTTP status code.
        status: u16,
        /// Optional `Retry-After` header.
        retry_after: Option<RetryAfter>,
    },
    /// Wait this long, then answer normally.
    Delay(Duration),
    /// Close the TCP connection with a reset (RST, `SO_LINGER` 0) without any response.
    ConnectionReset,
    /// HTTP 200, `Content-Type: application/json`, body that is not valid JSON.
    MalformedJson,
    /// The normal response, but the body stops halfway: `Content-Length` promises the
    /// whole body, half of it is sent, then the connection is closed.
    TruncatedBody,
    /// The provider's 401 for an expired access token, whatever token was sent.
    ExpiredToken,
}

impl Fault {
    /// 429 with `Retry-After: <seconds>`.
    pub fn too_many_requests(seconds: u64) -> Self {
        Fault::Status {
            status: 429,
            retry_after: Some(RetryAfter::Seconds(seconds)),
        }
    }

    /// The given status without `Retry-After`.
    pub fn status(status: u16) -> Self {
        Fault::Status {
            status,
            retry_after: None,
        }
    }

    /// Short name used in the request log.
    pub(crate) fn label(&self) -> String {
        match self {
            Fault::RateLimited { .. } => "rate_limited".into(),
            Fault::Status { status, .. } => format!("status_{status}"),
            Fault::Delay(d) => format!("delay_{}ms", d.as_millis()),
            Fault::ConnectionReset => "connection_reset".into(),
            Fault::MalformedJson => "malformed_json".into(),
            Fault::TruncatedBody => "truncated_body".into(),
            Fault::ExpiredToken => "expired_token".into(),
        }
    }
}

/// Which requests a rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Endpoints {
    /// Provider API routes only (the default).
    #[default]
    Api,
    /// OAuth token endpoints only.
    Token,
    /// Everything, including authorize endpoints.
    All,
}

/// A sequence of outcomes, consumed one per matching request.
///
/// ```
/// use patchbay_simulator::{Fault, FaultScript};
/// // first 3 requests 429, then one 503, then normal forever
/// let script = FaultScript::new().then(Fault::too_many_requests(1), 3).then(Fault::status(503), 1);
/// # let _ = script;
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FaultScript {
    steps: Vec<(Option<Fault>, u64)>,
    repeat: bool,
}

impl FaultScript {
    /// An empty script (every request passes).
    pub fn new() -> Self {
        Self::default()
    }

    /// `fault` for the next `times` matching requests.
    pub fn then(mut self, fault: Fault, times: u64) -> Self {
        self.steps.push((Some(fault), times));
        self
    }

    /// Normal answers for the next `times` matching requests.
    pub fn then_ok(mut self, times: u64) -> Self {
        self.steps.push((None, times));
        self
    }

    /// Start over when the script ends, instead of passing every later request.
    pub fn repeat(mut self) -> Self {
        self.repeat = true;
        self
    }

    /// `fault` on every matching request.
    pub fn always(fault: Fault) -> Self {
        FaultScript::new().then(fault, 1).repeat()
    }

    /// The outcome for the `n`-th (0-based) matching request.
    fn outcome(&self, n: u64) -> Option<&Fault> {
        let total: u64 = self.steps.iter().map(|(_, t)| *t).sum();
        if total == 0 {
            return None;
        }
        let mut n = if self.repeat { n % total } else { n };
        for (fault, times) in &self.steps {
            if n < *times {
                return fault.as_ref();
            }
            n -= times;
        }
        None
    }
}

/// A script plus the requests it applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    provider: Option<Provider>,
    endpoints: Endpoints,
    path_contains: Option<String>,
    script: FaultScript,
}

impl FaultRule {
    /// Applies to every provider's API requests.
    pub fn global(script: FaultScript) -> Self {
        FaultRule {
            provider: None,
            endpoints: Endpoints::Api,
            path_contains: None,
            script,
        }
    }

    /// Applies to one provider's API requests.
    pub fn provider(provider: Provider, script: FaultScript) -> Self {
        FaultRule {
            provider: Some(provider),
            ..FaultRule::global(script)
        }
    }

    /// Narrows the rule to the given kind of endpoint.
    pub fn endpoints(mut self, endpoints: Endpoints) -> Self {
        self.endpoints = endpoints;
        self
    }

    /// Narrows the rule to request paths containing `fragment`.
    pub fn path_contains(mut self, fragment: impl Into<String>) -> Self {
        self.path_contains = Some(fragment.into());
        self
    }

    fn matches(&self, provider: Provider, kind: Endpoints, path: &str) -> bool {
        self.provider.is_none_or(|p| p == provider)
            && (self.endpoints == Endpoints::All || self.endpoints == kind)
            && self
                .path_contains
                .as_deref()
                .is_none_or(|f| path.contains(f))
    }
}

/// The live rules and how far each has advanced. Every matching rule advances on every
/// matching request; the first rule (in insertion order) with a fault wins.
#[derive(Debug, Default)]
pub(crate) struct FaultPlan {
    rules: Mutex<Vec<(FaultRule, u64)>>,
}

impl FaultPlan {
    pub(crate) fn new(rules: Vec<FaultRule>) -> Self {
        FaultPlan {
            rules: Mutex::new(rules.into_iter().map(|r| (r, 0)).collect()),
        }
    }

    pub(crate) fn push(&self, rule: FaultRule) {
        lock(&self.rules).push((rule, 0));
    }

    pub(crate) fn clear(&self) {
        lock(&self.rules).clear();
    }

    /// Decides the fate of one request.
    pub(crate) fn next(&self, provider: Provider, kind: Endpoints, path: &str) -> Option<Fault> {
        let mut rules = lock(&self.rules);
        let mut chosen = None;
        for (rule, seen) in rules.iter_mut() {
            if !rule.matches(provider, kind, path) {
                continue;
            }
            let outcome = rule.script.outcome(*seen).cloned();
            *seen += 1;
            if chosen.is_none() {
                chosen = outcome;
            }
        }
        chosen
    }
}

/// Locks a mutex, ignoring poisoning (simulator state stays usable after a panic elsewhere).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_runs_in_order_then_passes() {
        let s = FaultScript::new()
            .then(Fault::status(500), 2)
            .then_ok(1)
            .then(Fault::MalformedJson, 1);
        let got: Vec<_> = (0..6).map(|n| s.outcome(n).cloned()).collect();
        assert_eq!(
            got,
            vec![
                Some(Fault::status(500)),
                Some(Fault::status(500)),
                None,
                Some(Fault::MalformedJson),
                None,
                None
            ]
        );
    }

    #[test]
    fn repeating_script_cycles() {
        let s = FaultScript::new()
            .then(Fault::status(503), 1)
            .then_ok(1)
            .repeat();
        assert_eq!(s.outcome(4), Some(&Fault::status(503)));
        assert_eq!(s.outcome(5), None);
    }
}
