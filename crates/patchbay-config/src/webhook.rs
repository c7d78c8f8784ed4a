//! Inbound webhook configuration: the `webhook` key of a Truto-format integration config.
//!
//! The model follows Truto's `IntegrationWebhookConfig`: a declarative
//! [`SignatureVerification`] (`{format, config}`), a JSONata `handle_verification`
//! handshake expression and a JSONata `payload_transform`. Truto types the
//! verification `config` as one object holding the union of every strategy's fields;
//! [`SignatureVerificationConfig`] does the same, so any Truto config round-trips
//! losslessly. Fields marked *Patchbay extension* are not part of Truto's published
//! format; Truto configs never contain them, and Patchbay configs that use them say so
//! explicitly.
//!
//! String values, secrets included, may contain `{{ }}` placeholders resolved against
//! the integrated account's context before verification.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::SecretString;

/// The `webhook` key of an integration config: how inbound webhooks from the third
/// party are authenticated, answered and turned into events.
///
/// Processing order for an inbound request: `handle_verification` first (a handshake
/// may short-circuit with its own response), then `signature_verification`, then
/// `payload_transform`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Declarative authentication of the inbound request (HMAC signature, basic auth,
    /// JWT). Absent means the request is not authenticated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_verification: Option<SignatureVerification>,
    /// JSONata expression run first on every inbound request (input root:
    /// `{body, headers, query, method, url, raw_body}`, `$context` bound to the
    /// integrated account's context). Returning `{statusCode, body, headers?}` answers
    /// a provider handshake (Slack `url_verification`, Meta `hub.challenge`, ...) and
    /// stops processing; returning null or nothing continues.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handle_verification: Option<String>,
    /// JSONata expression run on a verified request (same input root as
    /// `handle_verification`) that returns the events to emit: an array of objects, or
    /// one object for a single event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_transform: Option<String>,
}

/// `webhook.signature_verification`: the verification strategy and its settings.
///
/// ```
/// use patchbay_config::webhook::{SignatureFormat, SignatureVerification};
/// let json = serde_json::json!({
///     "format": "hmac",
///     "config": {
///         "algorithm": "sha256",
///         "parts": ["$body"],
///         "secret": "{{webhook_secret}}",
///         "compare_with": "sha256=$header.x-hub-signature-256"
///     }
/// });
/// let sv: SignatureVerification = serde_json::from_value(json.clone()).unwrap();
/// assert_eq!(sv.format, SignatureFormat::Hmac);
/// assert_eq!(serde_json::to_value(&sv).unwrap(), json);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SignatureVerification {
    /// The verification strategy (`hmac`, `HMAC-SHA256`, `basic`, `jwt`, ...).
    pub format: SignatureFormat,
    /// The strategy's settings. Which fields apply depends on `format`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<SignatureVerificationConfig>,
}

/// The `format` of a signature verification.
///
/// Unknown format names are kept as [`SignatureFormat::Other`] so that configs using
/// Truto's vendor-specific formats still load; verifying with them fails with an
/// "unsupported format" error.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SignatureFormat {
    /// `hmac`: HMAC over the message built from `parts` (`$body`, `$header.<name>`,
    /// literal text, ...), compared with the signature located by `compare_with`.
    Hmac,
    /// `HMAC-SHA1`: the official-example form with SHA-1. `parts` may use the keywords
    /// `body`, `header`, `timestamp`, `url`, `method` besides `$` tokens.
    HmacSha1,
    /// `HMAC-SHA256`: the official-example form (`{secret, algorithm, parts:["header","body"]}`).
    HmacSha256,
    /// `HMAC-SHA512`: the official-example form with SHA-512.
    HmacSha512,
    /// `basic`: HTTP Basic credentials (`username`, `password`) in the `Authorization` header.
    Basic,
    /// `jwt`: an HMAC-signed JWT (HS256/HS384/HS512) in a header, checked for
    /// signature, algorithm, expiry and optional issuer/audience.
    Jwt,
    /// `clerk`: Clerk's webhooks, which follow the Standard Webhooks (Svix) scheme.
    Clerk,
    /// `standard_webhooks` (*Patchbay extension*): the Standard Webhooks / Svix scheme
    /// (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`, secret
    /// `whsec_<base64>`).
    StandardWebhooks,
    /// Any other format name, kept verbatim.
    Other(String),
}

impl SignatureFormat {
    /// The format name exactly as written in configs.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Hmac => "hmac",
            Self::HmacSha1 => "HMAC-SHA1",
            Self::HmacSha256 => "HMAC-SHA256",
            Self::HmacSha512 => "HMAC-SHA512",
            Self::Basic => "basic",
            Self::Jwt => "jwt",
            Self::Clerk => "clerk",
            Self::StandardWebhooks => "standard_webhooks",
            Self::Other(name) => name,
        }
    }

    /// The names with built-in support, as written in configs.
    pub const KNOWN: &'static [&'static str] = &[
        "hmac",
        "HMAC-SHA1",
        "HMAC-SHA256",
        "HMAC-SHA512",
        "basic",
        "jwt",
        "clerk",
        "standard_webhooks",
    ];
}

impl FromStr for SignatureFormat {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "hmac" => Self::Hmac,
            "HMAC-SHA1" => Self::HmacSha1,
            "HMAC-SHA256" => Self::HmacSha256,
            "HMAC-SHA512" => Self::HmacSha512,
            "basic" => Self::Basic,
            "jwt" => Self::Jwt,
            "clerk" => Self::Clerk,
            "standard_webhooks" => Self::StandardWebhooks,
            other => Self::Other(other.to_owned()),
        })
    }
}

impl fmt::Display for SignatureFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for SignatureFormat {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SignatureFormat {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Ok(name.parse().unwrap_or_else(|never| match never {}))
    }
}

impl schemars::JsonSchema for SignatureFormat {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "SignatureFormat".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "Signature verification strategy. Built in: hmac, HMAC-SHA1, HMAC-SHA256, HMAC-SHA512, basic, jwt, clerk, standard_webhooks (Patchbay extension). Other names load but cannot verify.",
            "examples": Self::KNOWN
        })
    }
}

/// `signature_verification.config`: the union of every strategy's settings, as in
/// Truto's `IntegrationWebhookSignatureVerificationConfig`.
///
/// HMAC strategies use `secret`, `algorithm`, `parts`, `compare_with`, `string_type`
/// (plus the extensions `signature_separator`, `secret_encoding`, `timestamp`,
/// `signed_headers`); `basic` uses `username`, `password`; `jwt` uses `secret`,
/// `algorithm`, `header_name`, `issuer`, `audience`, `tolerance_seconds`.
///
/// Message and signature *tokens* (used in `parts`, `compare_with`, `timestamp.value`):
/// `$body` (raw body bytes), `$header.<name>` (case-insensitive), `$query.<name>`,
/// `$url` (full request URL), `$method` (upper case), `$timestamp` (the value located
/// by `timestamp`), `$form_sorted` (*extension*: form parameters sorted by name, each
/// name immediately followed by its value). A string is literal text optionally
/// followed by one token (`"v0:"`, `"v0=$header.x-slack-signature"`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SignatureVerificationConfig {
    /// HMAC key, or the JWT signing key. Usually a placeholder such as
    /// `{{webhook_secret}}` resolved against the integrated account's context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<SecretString>,
    /// Hash algorithm: `sha1`, `sha256` or `sha512` for HMAC strategies (default
    /// `sha256`, or the one named by an `HMAC-SHA*` format); `HS256`, `HS384` or
    /// `HS512` for `jwt` (default `HS256`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<String>,
    /// The signed message, concatenated in order without separators: tokens and
    /// literal text (see the type documentation), e.g.
    /// `["v0:", "$header.x-slack-request-timestamp", ":", "$body"]`. The `HMAC-SHA*`
    /// formats also accept the bare keywords `body`, `header` (the values of
    /// `signed_headers`), `timestamp`, `url` and `method`. Default: `["$body"]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts: Option<Vec<String>>,
    /// Where the received signature is and what precedes it: literal prefix followed
    /// by one token, e.g. `sha256=$header.x-hub-signature-256` (header value must be
    /// `sha256=<signature>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compare_with: Option<String>,
    /// Encoding of the signature: `hex` (default, case-insensitive), `base64` or
    /// `base64url` (padding optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_type: Option<String>,
    /// `basic`: the expected user name (may be a placeholder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// `basic`: the expected password (may be a placeholder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<SecretString>,
    /// Truto field for multi-part signature strategies; its semantics are not
    /// published. Kept verbatim, not interpreted by Patchbay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_content: Option<serde_json::Value>,
    /// Name of the integrated-account context field used to route an
    /// environment-level webhook to its account (e.g. `team_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_lookup_field_name: Option<String>,
    /// Where the routing value is found in the request (e.g. a JSONata path such as
    /// `body.team_id`); matched against `context_lookup_field_name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_lookup_field_value: Option<String>,
    /// *Patchbay extension.* Separator between several signatures in the value
    /// located by `compare_with` (`","` for Stripe's `t=..,v1=..,v1=..`, `" "` for
    /// Standard Webhooks). Items are trimmed; those without the `compare_with` prefix
    /// are ignored; verification succeeds if any item matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_separator: Option<String>,
    /// *Patchbay extension.* How the `secret` string becomes key bytes: `utf8`
    /// (default), `base64`, `hex`, or `standard_webhooks` (drop a `whsec_` prefix, then
    /// base64).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_encoding: Option<SecretEncoding>,
    /// *Patchbay extension.* Replay protection: where the signed timestamp is and how
    /// far it may be from the current time. Its raw value is the `$timestamp` token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<TimestampCheck>,
    /// *Patchbay extension.* Header names whose values (in order) make up the
    /// `header` keyword of the `HMAC-SHA*` formats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_headers: Option<Vec<String>>,
    /// *Patchbay extension.* `jwt`/`basic`: the header carrying the token or the
    /// credentials (default `authorization`; a `Bearer ` prefix is removed for `jwt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_name: Option<String>,
    /// *Patchbay extension.* `jwt`: required `iss` claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// *Patchbay extension.* `jwt`: required `aud` claim (string, or one element of an
    /// array).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// *Patchbay extension.* `jwt`: allowed clock skew for `exp`/`nbf` (default 60 s).
    /// `standard_webhooks`/`clerk`: timestamp tolerance (default 300 s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance_seconds: Option<u64>,
}

/// How a configured secret string is turned into HMAC key bytes (*Patchbay extension*).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SecretEncoding {
    /// The UTF-8 bytes of the string (what almost every provider uses).
    #[default]
    Utf8,
    /// Standard base64 (padding optional).
    Base64,
    /// Hexadecimal.
    Hex,
    /// Standard Webhooks / Svix: remove a leading `whsec_`, then base64-decode.
    StandardWebhooks,
}

/// Replay protection for HMAC strategies (*Patchbay extension*).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimestampCheck {
    /// Where the timestamp is: literal prefix plus one token, like `compare_with`
    /// (`$header.x-slack-request-timestamp`, or `t=$header.stripe-signature` with
    /// `separator: ","`).
    pub value: String,
    /// Separator between items of the located value; the item starting with the
    /// prefix of `value` is the timestamp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub separator: Option<String>,
    /// How the timestamp is written (default `seconds`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<TimestampFormat>,
    /// Largest allowed distance from the current time, in seconds, in either
    /// direction (default 300).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance_seconds: Option<u64>,
}

/// Representation of a signed timestamp (*Patchbay extension*).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum TimestampFormat {
    /// Unix time in seconds (Slack, Stripe, Standard Webhooks, Zoom).
    #[default]
    Seconds,
    /// Unix time in milliseconds (HubSpot).
    Milliseconds,
    /// RFC 3339 date-time such as `2024-05-01T12:00:00Z` (Zendesk).
    Rfc3339,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(value: serde_json::Value) -> WebhookConfig {
        let parsed: WebhookConfig = serde_json::from_value(value.clone()).expect("parses");
        assert_eq!(serde_json::to_value(&parsed).expect("serializes"), value);
        parsed
    }

    #[test]
    fn official_example_round_trips() {
        let parsed = round_trip(json!({
            "signature_verification": {
                "format": "HMAC-SHA256",
                "config": {
                    "secret": "your-webhook-secret",
                    "algorithm": "sha256",
                    "parts": ["header", "body"]
                }
            },
            "handle_verification": "verify_webhook_signature"
        }));
        let sv = parsed.signature_verification.expect("present");
        assert_eq!(sv.format, SignatureFormat::HmacSha256);
        let config = sv.config.expect("config");
        assert_eq!(
            config.secret.expect("secret").expose(),
            "your-webhook-secret"
        );
        assert_eq!(config.parts.expect("parts"), vec!["header", "body"]);
    }

    #[test]
    fn skills_example_and_extensions_round_trip() {
        round_trip(json!({
            "signature_verification": {
                "format": "hmac",
                "config": {
                    "algorithm": "sha256",
                    "parts": ["$timestamp", ".", "$body"],
                    "secret": "{{credentials.webhook_secret}}",
                    "compare_with": "v1=$header.stripe-signature",
                    "string_type": "hex",
                    "signature_separator": ",",
                    "secret_encoding": "utf8",
                    "timestamp": {"value": "t=$header.stripe-signature", "separator": ",", "format": "seconds", "tolerance_seconds": 300},
                    "context_lookup_field_name": "account_id",
                    "context_lookup_field_value": "body.account",
                    "verification_content": {"anything": [1, 2]}
                }
            },
            "payload_transform": "$.body.events"
        }));
    }

    #[test]
    fn unknown_format_is_kept_and_unknown_fields_rejected() {
        let parsed = round_trip(json!({"signature_verification": {"format": "vendor-x"}}));
        assert_eq!(
            parsed.signature_verification.expect("present").format,
            SignatureFormat::Other("vendor-x".into())
        );
        let bad = json!({"signature_verification": {"format": "hmac", "config": {"secrett": "x"}}});
        assert!(serde_json::from_value::<WebhookConfig>(bad).is_err());
        assert!(serde_json::from_value::<WebhookConfig>(json!({"handshake": "x"})).is_err());
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let parsed = round_trip(
            json!({"signature_verification": {"format": "basic", "config": {"username": "u", "password": "hunter2"}}}),
        );
        assert!(!format!("{parsed:?}").contains("hunter2"));
    }
}
