//! Token sets: parsed from any token response, stored in the Truto layout.
//!
//! Truto keeps OAuth tokens in the account context as
//!
//! ```json
//! {"oauth": {"token": {"access_token": "...", "refresh_token": "...",
//!                      "expires_in": 3600, "expires_at": "2025-01-01T10:00:00.000Z",
//!                      "token_type": "Bearer", "scope": "a b", "instance_url": "..."},
//!            "scope": "a b"},
//!  "instance_url": "..."}
//! ```
//!
//! The token object holds every field of the provider's response; scalar
//! non-secret extras (Salesforce's `instance_url`) are also copied to the top
//! level so configs can write `{{instance_url}}`.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use patchbay_config::SecretString;
use patchbay_config::json_kind;
use serde_json::{Map, Value};

/// Response fields with a meaning of their own; every other field is an extra.
const STANDARD_FIELDS: [&str; 6] = [
    "access_token",
    "refresh_token",
    "token_type",
    "expires_in",
    "expires_at",
    "scope",
];

/// Extras never copied to the context's top level: generic names that would
/// shadow placeholders (`{{id}}`) and protocol noise (Slack's `ok`).
const NOT_PROMOTED: [&str; 4] = ["id", "ok", "context", "oauth"];

/// Substrings marking an extra as a secret, which stays inside `oauth.token` only.
const SECRET_MARKERS: [&str; 4] = ["token", "secret", "signature", "password"];

/// The tokens of one grant, with their expiry.
///
/// `Debug` shows which fields are present and when the token expires, never a
/// token or an extra field's value.
#[derive(Clone, PartialEq)]
pub struct TokenSet {
    /// The access token.
    pub access_token: SecretString,
    /// The refresh token, if the provider issued one.
    pub refresh_token: Option<SecretString>,
    /// `token_type` as sent (`Bearer`, `bearer`).
    pub token_type: Option<String>,
    /// Lifetime in seconds from the response (a number or a numeric string there).
    pub expires_in: Option<u64>,
    /// When the access token expires; `None` when unknown (it is then used
    /// until a request is refused with 401).
    pub expires_at: Option<DateTime<Utc>>,
    /// Granted scopes as sent (a list is joined with spaces).
    pub scope: Option<String>,
    /// Every other field of the token response (`instance_url`, `id_token`, ...).
    pub extra: Map<String, Value>,
}

impl fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSet")
            .field("access_token", &self.access_token)
            .field("refresh_token", &self.refresh_token)
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("expires_at", &self.expires_at)
            .field("scope", &self.scope)
            .field("extra_keys", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl TokenSet {
    /// Parses a token endpoint's JSON body.
    ///
    /// `expires_in` may be a number or a numeric string; without it, an
    /// `expires_at` (epoch seconds or RFC 3339) is used, else `default_lifetime`
    /// (the config's `tokenExpiryDuration`), else the expiry stays unknown.
    ///
    /// # Errors
    ///
    /// A reason (without values) when the body is not an object or has no
    /// non-empty string `access_token`.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use patchbay_auth::TokenSet;
    /// use serde_json::json;
    ///
    /// let now = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
    /// let body = json!({"access_token": "a", "expires_in": "3600", "instance_url": "https://x.my.salesforce.com"});
    /// let tokens = TokenSet::from_response(&body, now, None).unwrap();
    /// assert_eq!(tokens.expires_at, Some(Utc.with_ymd_and_hms(2025, 1, 1, 1, 0, 0).unwrap()));
    /// assert_eq!(tokens.extra["instance_url"], "https://x.my.salesforce.com");
    /// ```
    pub fn from_response(
        body: &Value,
        issued_at: DateTime<Utc>,
        default_lifetime: Option<Duration>,
    ) -> Result<Self, String> {
        let object = body
            .as_object()
            .ok_or_else(|| format!("expected a JSON object, got {}", json_kind(body)))?;
        let access_token = non_empty_str(object.get("access_token"))
            .ok_or("no `access_token` string in the response")?;
        let expires_in = object.get("expires_in").and_then(seconds);
        let expires_at = match expires_in {
            Some(secs) => add_seconds(issued_at, secs),
            None => object
                .get("expires_at")
                .and_then(timestamp)
                .or_else(|| default_lifetime.and_then(|d| add_seconds(issued_at, d.as_secs()))),
        };
        Ok(Self {
            access_token: SecretString::new(access_token),
            refresh_token: non_empty_str(object.get("refresh_token")).map(SecretString::new),
            token_type: non_empty_str(object.get("token_type")).map(str::to_owned),
            expires_in,
            expires_at,
            scope: object.get("scope").and_then(scope_string),
            extra: object
                .iter()
                .filter(|(key, _)| !STANDARD_FIELDS.contains(&key.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        })
    }

    /// Reads the tokens stored in an account context (`oauth.token`, granted
    /// scopes from `oauth.scope` when the token has none). `None` when there is
    /// no access token. A stored `expires_in` without `expires_at` gives an
    /// unknown expiry: the issue time is not known.
    pub fn from_context(context: &Map<String, Value>) -> Option<Self> {
        let oauth = context.get("oauth")?.as_object()?;
        let token = oauth.get("token")?.as_object()?;
        let access_token = non_empty_str(token.get("access_token"))?;
        Some(Self {
            access_token: SecretString::new(access_token),
            refresh_token: non_empty_str(token.get("refresh_token")).map(SecretString::new),
            token_type: non_empty_str(token.get("token_type")).map(str::to_owned),
            expires_in: token.get("expires_in").and_then(seconds),
            expires_at: token.get("expires_at").and_then(timestamp),
            scope: token
                .get("scope")
                .or_else(|| oauth.get("scope"))
                .and_then(scope_string),
            extra: token
                .iter()
                .filter(|(key, _)| !STANDARD_FIELDS.contains(&key.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        })
    }

    /// Whether the access token expires before `now + skew`. A token with an
    /// unknown expiry never counts as expiring.
    pub fn expires_within(&self, now: DateTime<Utc>, skew: Duration) -> bool {
        self.expires_at
            .is_some_and(|at| add_seconds(now, skew.as_secs()).is_none_or(|limit| at <= limit))
    }

    /// The `oauth.token` object in the Truto layout: every response field,
    /// with `expires_at` as an RFC 3339 timestamp in UTC with milliseconds.
    pub fn to_token_object(&self) -> Map<String, Value> {
        let mut token = Map::new();
        token.insert(
            "access_token".into(),
            Value::String(self.access_token.expose().to_owned()),
        );
        if let Some(refresh) = &self.refresh_token {
            token.insert(
                "refresh_token".into(),
                Value::String(refresh.expose().to_owned()),
            );
        }
        if let Some(token_type) = &self.token_type {
            token.insert("token_type".into(), Value::String(token_type.clone()));
        }
        if let Some(expires_in) = self.expires_in {
            token.insert("expires_in".into(), Value::from(expires_in));
        }
        if let Some(at) = self.expires_at {
            token.insert(
                "expires_at".into(),
                Value::String(at.to_rfc3339_opts(SecondsFormat::Millis, true)),
            );
        }
        if let Some(scope) = &self.scope {
            token.insert("scope".into(), Value::String(scope.clone()));
        }
        for (key, value) in &self.extra {
            token.insert(key.clone(), value.clone());
        }
        token
    }

    /// The top-level context keys these tokens set: `oauth` (with `token` and,
    /// when known, `scope`) and the promoted extras such as `instance_url`.
    /// A host store merges these keys into the stored context (replacing
    /// `oauth.token` as a whole and keeping other `oauth` keys), or calls
    /// [`apply_to`](Self::apply_to) on the context it holds.
    pub fn context_patch(&self) -> Map<String, Value> {
        let mut oauth = Map::new();
        oauth.insert("token".into(), Value::Object(self.to_token_object()));
        if let Some(scope) = &self.scope {
            oauth.insert("scope".into(), Value::String(scope.clone()));
        }
        let mut patch = Map::new();
        patch.insert("oauth".into(), Value::Object(oauth));
        for (key, value) in self.promoted_extras() {
            patch.insert(key.clone(), value.clone());
        }
        patch
    }

    /// Writes these tokens into an account context: replaces `oauth.token`,
    /// sets `oauth.scope` when the scope is known (other `oauth` keys stay) and
    /// sets the promoted extras at the top level.
    ///
    /// ```
    /// use chrono::Utc;
    /// use patchbay_auth::TokenSet;
    /// use serde_json::{json, Map};
    ///
    /// let body = json!({"access_token": "new", "instance_url": "https://na1.salesforce.com", "id": "https://login/id/1"});
    /// let tokens = TokenSet::from_response(&body, Utc::now(), None).unwrap();
    /// let mut context = json!({"oauth": {"token": {"access_token": "old"}}, "subdomain": "acme"});
    /// tokens.apply_to(context.as_object_mut().unwrap());
    /// assert_eq!(context["oauth"]["token"]["access_token"], "new");
    /// assert_eq!(context["instance_url"], "https://na1.salesforce.com");
    /// assert_eq!(context["subdomain"], "acme");
    /// assert!(context.get("id").is_none(), "`id` would shadow {{{{id}}}}");
    /// ```
    pub fn apply_to(&self, context: &mut Map<String, Value>) {
        for (key, value) in self.context_patch() {
            match (key.as_str(), value, context.get_mut("oauth")) {
                ("oauth", Value::Object(patch), Some(Value::Object(existing))) => {
                    existing.extend(patch);
                }
                (_, value, _) => {
                    context.insert(key, value);
                }
            }
        }
    }

    /// Carries over what a refresh response may omit: RFC 6749 §6 lets the
    /// provider keep the old refresh token by not sending one.
    pub(crate) fn inherit_from(&mut self, previous: &TokenSet) {
        if self.refresh_token.is_none() {
            self.refresh_token = previous.refresh_token.clone();
        }
        if self.scope.is_none() {
            self.scope = previous.scope.clone();
        }
    }

    fn promoted_extras(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.extra.iter().filter(|(key, value)| {
            let lower = key.to_ascii_lowercase();
            matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_))
                && !NOT_PROMOTED.contains(&lower.as_str())
                && !SECRET_MARKERS.iter().any(|m| lower.contains(m))
        })
    }
}

fn non_empty_str(value: Option<&Value>) -> Option<&str> {
    value.and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// Seconds as a non-negative number or numeric string (`3600`, `"3600"`, `3600.0`).
fn seconds(value: &Value) -> Option<u64> {
    let secs = match value {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    (secs.is_finite() && secs >= 0.0).then_some(secs as u64)
}

/// An instant as RFC 3339 text, or epoch seconds (milliseconds when too large
/// to be seconds) as a number or numeric string.
fn timestamp(value: &Value) -> Option<DateTime<Utc>> {
    if let Some(text) = value.as_str()
        && let Ok(at) = DateTime::parse_from_rfc3339(text.trim())
    {
        return Some(at.with_timezone(&Utc));
    }
    let epoch = seconds(value)?;
    if epoch > 100_000_000_000 {
        Utc.timestamp_millis_opt(i64::try_from(epoch).ok()?)
            .single()
    } else {
        Utc.timestamp_opt(i64::try_from(epoch).ok()?, 0).single()
    }
}

fn scope_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" "),
        ),
        _ => None,
    }
}

fn add_seconds(at: DateTime<Utc>, secs: u64) -> Option<DateTime<Utc>> {
    at.checked_add_signed(chrono::TimeDelta::try_seconds(i64::try_from(secs).ok()?)?)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap()
    }

    #[test]
    fn expiry_sources_in_order() {
        let hour = Duration::from_secs(3600);
        let with_in = TokenSet::from_response(
            &json!({"access_token": "a", "expires_in": 60, "expires_at": 1}),
            t0(),
            Some(hour),
        )
        .unwrap();
        assert_eq!(
            with_in.expires_at,
            Some(t0() + chrono::TimeDelta::seconds(60))
        );

        let with_at = TokenSet::from_response(
            &json!({"access_token": "a", "expires_at": t0().timestamp() + 10}),
            t0(),
            Some(hour),
        )
        .unwrap();
        assert_eq!(
            with_at.expires_at,
            Some(t0() + chrono::TimeDelta::seconds(10))
        );

        let default =
            TokenSet::from_response(&json!({"access_token": "a"}), t0(), Some(hour)).unwrap();
        assert_eq!(default.expires_at, Some(t0() + chrono::TimeDelta::hours(1)));

        let unknown = TokenSet::from_response(&json!({"access_token": "a"}), t0(), None).unwrap();
        assert_eq!(unknown.expires_at, None);
        assert!(!unknown.expires_within(t0(), Duration::from_secs(1_000_000)));
    }

    #[test]
    fn bad_expires_in_values_are_ignored() {
        for bad in [json!("soon"), json!(-5), json!(null), json!({})] {
            let tokens = TokenSet::from_response(
                &json!({"access_token": "a", "expires_in": bad}),
                t0(),
                None,
            )
            .unwrap();
            assert_eq!(tokens.expires_in, None);
            assert_eq!(tokens.expires_at, None);
        }
    }

    #[test]
    fn missing_or_empty_access_token_is_rejected() {
        assert!(TokenSet::from_response(&json!({"token": "a"}), t0(), None).is_err());
        assert!(TokenSet::from_response(&json!({"access_token": ""}), t0(), None).is_err());
        assert!(TokenSet::from_response(&json!("a"), t0(), None).is_err());
    }

    #[test]
    fn round_trips_through_the_context_layout() {
        let body = json!({
            "access_token": "at", "refresh_token": "rt", "token_type": "Bearer",
            "expires_in": "1800", "scope": ["a", "b"], "hub_id": 42
        });
        let tokens = TokenSet::from_response(&body, t0(), None).unwrap();
        let mut context = json!({"oauth": {"keep": true}})
            .as_object()
            .unwrap()
            .clone();
        tokens.apply_to(&mut context);
        assert_eq!(context["oauth"]["keep"], true);
        assert_eq!(context["oauth"]["scope"], "a b");
        assert_eq!(
            context["oauth"]["token"]["expires_at"],
            "2025-06-01T12:30:00.000Z"
        );
        assert_eq!(context["oauth"]["token"]["expires_in"], 1800);
        assert_eq!(context["hub_id"], 42);
        let back = TokenSet::from_context(&context).unwrap();
        assert_eq!(back, tokens);
    }

    #[test]
    fn secret_extras_stay_inside_the_token_object() {
        let body = json!({"access_token": "a", "id_token": "jwt", "signature": "sig",
                          "authed_user": {"access_token": "u"}, "instance_url": "https://i"});
        let patch = TokenSet::from_response(&body, t0(), None)
            .unwrap()
            .context_patch();
        let keys: Vec<_> = patch.keys().map(String::as_str).collect();
        assert_eq!(keys, ["oauth", "instance_url"]);
        assert_eq!(patch["oauth"]["token"]["id_token"], "jwt");
    }

    #[test]
    fn debug_never_shows_tokens_or_extra_values() {
        let body = json!({"access_token": "AT-SECRET", "refresh_token": "RT-SECRET", "id_token": "ID-SECRET"});
        let debug = format!("{:?}", TokenSet::from_response(&body, t0(), None).unwrap());
        for secret in ["AT-SECRET", "RT-SECRET", "ID-SECRET"] {
            assert!(!debug.contains(secret), "{debug}");
        }
        assert!(debug.contains("id_token"), "extra keys are listed: {debug}");
    }

    #[test]
    fn refresh_keeps_the_old_refresh_token_when_none_is_sent() {
        let old = TokenSet::from_response(
            &json!({"access_token": "a", "refresh_token": "r"}),
            t0(),
            None,
        )
        .unwrap();
        let mut new = TokenSet::from_response(&json!({"access_token": "b"}), t0(), None).unwrap();
        new.inherit_from(&old);
        assert_eq!(new.refresh_token.unwrap().expose(), "r");
    }
}
