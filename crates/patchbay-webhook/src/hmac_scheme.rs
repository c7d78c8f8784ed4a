//! The HMAC strategy: `hmac`, `HMAC-SHA*`, `standard_webhooks` and `clerk` formats.

use std::fmt;
use std::time::{Duration, SystemTime};

use patchbay_config::webhook::{
    SecretEncoding, SignatureFormat, SignatureVerificationConfig, TimestampFormat,
};
use serde_json::Value;

use crate::encoding::{SignatureEncoding, secret_bytes};
use crate::error::{ConfigError, VerificationError};
use crate::mac::{Algorithm, matches_any};
use crate::request::InboundRequest;
use crate::resolve::resolve;
use crate::timestamp::{self, DEFAULT_TOLERANCE};
use crate::token::{Pattern, Source, prefixed_items};

/// Where the timestamp is and how fresh it must be.
#[derive(Debug, Clone, PartialEq)]
struct TimestampSpec {
    pattern: Pattern,
    separator: Option<String>,
    format: TimestampFormat,
    tolerance: Duration,
}

/// A compiled HMAC verification.
#[derive(Clone)]
pub(crate) struct HmacScheme {
    algorithm: Algorithm,
    key: Vec<u8>,
    parts: Vec<Pattern>,
    signature: Pattern,
    separator: Option<String>,
    encoding: SignatureEncoding,
    timestamp: Option<TimestampSpec>,
}

impl fmt::Debug for HmacScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HmacScheme")
            .field("algorithm", &self.algorithm)
            .field("key", &"[REDACTED]")
            .field("parts", &self.parts)
            .field("signature", &self.signature)
            .field("separator", &self.separator)
            .field("encoding", &self.encoding)
            .field("timestamp", &self.timestamp)
            .finish()
    }
}

impl HmacScheme {
    /// Compiles an `hmac` or `HMAC-SHA*` config.
    pub(crate) fn from_config(
        format: &SignatureFormat,
        config: &SignatureVerificationConfig,
        context: &Value,
    ) -> Result<Self, ConfigError> {
        let missing = |field| ConfigError::MissingField {
            field,
            format: format.to_string(),
        };
        let implied = match format {
            SignatureFormat::HmacSha1 => Some(Algorithm::Sha1),
            SignatureFormat::HmacSha256 => Some(Algorithm::Sha256),
            SignatureFormat::HmacSha512 => Some(Algorithm::Sha512),
            _ => None,
        };
        let configured = match &config.algorithm {
            Some(name) => Some(Algorithm::from_name(name).ok_or_else(|| {
                ConfigError::UnsupportedAlgorithm {
                    algorithm: name.clone(),
                }
            })?),
            None => None,
        };
        let algorithm = match (implied, configured) {
            (Some(a), Some(b)) if a != b => {
                return Err(ConfigError::Conflict {
                    reason: "`algorithm` contradicts the format name",
                });
            }
            (Some(a), _) | (None, Some(a)) => a,
            (None, None) => Algorithm::Sha256,
        };

        let secret = config.secret.as_ref().ok_or_else(|| missing("secret"))?;
        let secret = resolve(secret.expose(), context, "secret")?;
        let key = secret_bytes(&secret, config.secret_encoding.unwrap_or_default())?;

        let keywords = implied.is_some();
        let parts = match &config.parts {
            None => vec![Pattern::source(Source::Body)],
            Some(parts) => {
                let mut out = Vec::with_capacity(parts.len());
                for part in parts {
                    out.extend(parse_part(part, keywords, config, format)?);
                }
                out
            }
        };

        let compare_with = config
            .compare_with
            .as_deref()
            .ok_or_else(|| missing("compare_with"))?;
        let signature = Pattern::parse(compare_with, "compare_with")?;
        if signature.source.is_none() {
            return Err(ConfigError::InvalidToken {
                field: "compare_with",
                entry: compare_with.to_owned(),
                reason: "must end with a token such as $header.<name>",
            });
        }

        let timestamp = match &config.timestamp {
            None => None,
            Some(ts) => {
                let pattern = Pattern::parse(&ts.value, "timestamp.value")?;
                if matches!(pattern.source, None | Some(Source::Timestamp)) {
                    return Err(ConfigError::InvalidToken {
                        field: "timestamp.value",
                        entry: ts.value.clone(),
                        reason: "must end with a token such as $header.<name>",
                    });
                }
                Some(TimestampSpec {
                    pattern,
                    separator: ts.separator.clone(),
                    format: ts.format.unwrap_or_default(),
                    tolerance: ts
                        .tolerance_seconds
                        .map_or(DEFAULT_TOLERANCE, Duration::from_secs),
                })
            }
        };

        Ok(Self {
            algorithm,
            key,
            parts,
            signature,
            separator: config.signature_separator.clone(),
            encoding: SignatureEncoding::from_config(config.string_type.as_deref())?,
            timestamp,
        })
    }

    /// Compiles the Standard Webhooks (Svix) scheme; `clerk` uses it too.
    pub(crate) fn standard_webhooks(
        format: &SignatureFormat,
        config: &SignatureVerificationConfig,
        context: &Value,
    ) -> Result<Self, ConfigError> {
        let secret = config
            .secret
            .as_ref()
            .ok_or_else(|| ConfigError::MissingField {
                field: "secret",
                format: format.to_string(),
            })?;
        let secret = resolve(secret.expose(), context, "secret")?;
        let key = secret_bytes(
            &secret,
            config
                .secret_encoding
                .unwrap_or(SecretEncoding::StandardWebhooks),
        )?;
        // Svix also sends the same values under `svix-*` names.
        let header =
            |name: &str| Source::Header(vec![format!("webhook-{name}"), format!("svix-{name}")]);
        Ok(Self {
            algorithm: Algorithm::Sha256,
            key,
            parts: vec![
                Pattern::source(header("id")),
                Pattern::literal("."),
                Pattern::source(Source::Timestamp),
                Pattern::literal("."),
                Pattern::source(Source::Body),
            ],
            signature: Pattern::prefixed("v1,", header("signature")),
            separator: Some(" ".into()),
            encoding: SignatureEncoding::Base64,
            timestamp: Some(TimestampSpec {
                pattern: Pattern::source(header("timestamp")),
                separator: None,
                format: TimestampFormat::Seconds,
                tolerance: config
                    .tolerance_seconds
                    .map_or(DEFAULT_TOLERANCE, Duration::from_secs),
            }),
        })
    }

    /// Verifies `req` at time `now`.
    ///
    /// Order: locate and decode the signature(s), locate and parse the timestamp,
    /// compute the HMAC and compare in constant time, then check freshness (so a
    /// stale-timestamp error is only reported for an authentic request).
    pub(crate) fn verify(
        &self,
        req: &InboundRequest,
        now: SystemTime,
    ) -> Result<(), VerificationError> {
        let signature_source = self
            .signature
            .source
            .as_ref()
            .ok_or(ConfigError::Conflict {
                reason: "`compare_with` has no token",
            })?;
        let location = signature_source.describe();
        let located = signature_source.resolve_text(req, None)?;
        let items = prefixed_items(&located, &self.signature.prefix, self.separator.as_deref());
        if items.is_empty() {
            return Err(VerificationError::MalformedSignature {
                location,
                reason: if self.signature.prefix.is_empty() {
                    "empty signature"
                } else {
                    "no signature with the expected prefix"
                },
            });
        }
        let candidates: Vec<Vec<u8>> = items
            .iter()
            .filter_map(|s| self.encoding.decode(s))
            .collect();
        if candidates.is_empty() {
            return Err(VerificationError::MalformedSignature {
                location,
                reason: match self.encoding {
                    SignatureEncoding::Hex => "not valid hex",
                    SignatureEncoding::Base64 => "not valid base64",
                    SignatureEncoding::Base64Url => "not valid base64url",
                },
            });
        }

        let (raw_timestamp, signed_ms) = match &self.timestamp {
            None => (None, None),
            Some(spec) => {
                let (raw, ms) = spec.locate(req)?;
                (Some(raw), Some(ms))
            }
        };

        let mut chunks = Vec::with_capacity(self.parts.len() * 2);
        for part in &self.parts {
            chunks.push(std::borrow::Cow::Borrowed(part.prefix.as_bytes()));
            if let Some(source) = &part.source {
                chunks.push(source.resolve(req, raw_timestamp.as_deref())?);
            }
        }
        let expected = self
            .algorithm
            .hmac(&self.key, chunks.iter().map(|c| c.as_ref()));
        if !matches_any(&expected, candidates.iter().map(Vec::as_slice)) {
            return Err(VerificationError::SignatureMismatch { location });
        }

        if let (Some(spec), Some(ms)) = (&self.timestamp, signed_ms) {
            timestamp::check_fresh(ms, now, spec.tolerance)?;
        }
        Ok(())
    }
}

impl TimestampSpec {
    /// The raw timestamp text and its value in Unix milliseconds.
    fn locate(&self, req: &InboundRequest) -> Result<(String, i128), VerificationError> {
        let source = self.pattern.source.as_ref().ok_or(ConfigError::Conflict {
            reason: "`timestamp.value` has no token",
        })?;
        let location = source.describe();
        let located = source.resolve_text(req, None)?;
        let items = prefixed_items(&located, &self.pattern.prefix, self.separator.as_deref());
        let raw = match items.as_slice() {
            [one] => (*one).to_owned(),
            [] => {
                return Err(VerificationError::MalformedTimestamp {
                    location,
                    reason: "no timestamp found",
                });
            }
            _ => {
                return Err(VerificationError::MalformedTimestamp {
                    location,
                    reason: "more than one timestamp",
                });
            }
        };
        let ms = timestamp::parse(&raw, self.format)
            .map_err(|reason| VerificationError::MalformedTimestamp { location, reason })?;
        Ok((raw, ms))
    }
}

/// Parses one `parts` entry; the `HMAC-SHA*` formats also accept bare keywords.
fn parse_part(
    part: &str,
    keywords: bool,
    config: &SignatureVerificationConfig,
    format: &SignatureFormat,
) -> Result<Vec<Pattern>, ConfigError> {
    if keywords {
        let keyword = match part {
            "body" => Some(Source::Body),
            "timestamp" => Some(Source::Timestamp),
            "url" => Some(Source::Url),
            "method" => Some(Source::Method),
            _ => None,
        };
        if let Some(source) = keyword {
            return Ok(vec![Pattern::source(source)]);
        }
        if part == "header" {
            let headers =
                config
                    .signed_headers
                    .as_ref()
                    .ok_or_else(|| ConfigError::MissingField {
                        field: "signed_headers",
                        format: format.to_string(),
                    })?;
            return Ok(headers
                .iter()
                .map(|h| Pattern::source(Source::Header(vec![h.to_ascii_lowercase()])))
                .collect());
        }
    }
    Pattern::parse(part, "parts").map(|p| vec![p])
}
