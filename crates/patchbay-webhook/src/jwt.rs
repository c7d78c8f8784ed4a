//! The `jwt` strategy: an HMAC-signed JSON Web Token (RFC 7519) in a header.

use std::fmt;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use patchbay_config::webhook::{SignatureFormat, SignatureVerificationConfig};
use serde_json::Value;

use crate::error::{ConfigError, VerificationError};
use crate::mac::{Algorithm, matches_any};
use crate::request::InboundRequest;
use crate::resolve::resolve;
use crate::timestamp::unix_millis;

/// Default clock skew allowed for `exp` and `nbf`.
const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);

/// A compiled JWT check.
#[derive(Clone)]
pub(crate) struct JwtScheme {
    alg: &'static str,
    algorithm: Algorithm,
    key: Vec<u8>,
    header: String,
    issuer: Option<String>,
    audience: Option<String>,
    leeway: Duration,
}

impl fmt::Debug for JwtScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtScheme")
            .field("alg", &self.alg)
            .field("key", &"[REDACTED]")
            .field("header", &self.header)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("leeway", &self.leeway)
            .finish()
    }
}

impl JwtScheme {
    pub(crate) fn from_config(
        format: &SignatureFormat,
        config: &SignatureVerificationConfig,
        context: &Value,
    ) -> Result<Self, ConfigError> {
        let (alg, algorithm) = match config
            .algorithm
            .as_deref()
            .map(str::to_ascii_uppercase)
            .as_deref()
        {
            None | Some("HS256") => ("HS256", Algorithm::Sha256),
            Some("HS384") => ("HS384", Algorithm::Sha384),
            Some("HS512") => ("HS512", Algorithm::Sha512),
            Some(_) => {
                return Err(ConfigError::UnsupportedAlgorithm {
                    algorithm: config.algorithm.clone().unwrap_or_default(),
                });
            }
        };
        let secret = config
            .secret
            .as_ref()
            .ok_or_else(|| ConfigError::MissingField {
                field: "secret",
                format: format.to_string(),
            })?;
        let secret = resolve(secret.expose(), context, "secret")?;
        let key =
            crate::encoding::secret_bytes(&secret, config.secret_encoding.unwrap_or_default())?;
        Ok(Self {
            alg,
            algorithm,
            key,
            header: config
                .header_name
                .clone()
                .unwrap_or_else(|| "authorization".into())
                .to_ascii_lowercase(),
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            leeway: config
                .tolerance_seconds
                .map_or(DEFAULT_LEEWAY, Duration::from_secs),
        })
    }

    /// Verifies the token: structure, `alg` (must equal the configured one; `none` is
    /// never accepted), signature in constant time, then `exp`, `nbf`, `iss`, `aud`.
    pub(crate) fn verify(
        &self,
        req: &InboundRequest,
        now: SystemTime,
    ) -> Result<(), VerificationError> {
        let location = format!("header `{}`", self.header);
        let value = req
            .header(&self.header)
            .ok_or_else(|| VerificationError::MissingHeader {
                name: self.header.clone(),
            })?;
        let malformed = |reason| VerificationError::MalformedSignature {
            location: location.clone(),
            reason,
        };
        let token = value.trim();
        let token = match token.split_once(' ') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
            _ => token,
        };
        let mut segments = token.split('.');
        let (Some(h), Some(p), Some(s), None) = (
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
        ) else {
            return Err(malformed("a JWT has three dot-separated segments"));
        };
        let header: Value =
            decode_json(h).ok_or_else(|| malformed("JWT header is not base64url JSON"))?;
        let signature = URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| malformed("JWT signature is not base64url"))?;
        if header.get("alg").and_then(Value::as_str) != Some(self.alg) {
            return Err(VerificationError::TokenRejected {
                reason: "JWT `alg` is not the configured algorithm",
            });
        }
        let expected = self
            .algorithm
            .hmac(&self.key, [h.as_bytes(), b".", p.as_bytes()]);
        if !matches_any(&expected, [signature.as_slice()]) {
            return Err(VerificationError::SignatureMismatch { location });
        }
        let claims: Value =
            decode_json(p).ok_or_else(|| malformed("JWT payload is not base64url JSON"))?;
        self.check_claims(&claims, now)
    }

    fn check_claims(&self, claims: &Value, now: SystemTime) -> Result<(), VerificationError> {
        let now_s = unix_millis(now) as f64 / 1000.0;
        let leeway = self.leeway.as_secs_f64();
        let number = |name: &str| {
            claims.get(name).map(|v| {
                v.as_f64().ok_or(VerificationError::TokenRejected {
                    reason: "JWT time claim is not a number",
                })
            })
        };
        if let Some(exp) = number("exp").transpose()?
            && now_s > exp + leeway
        {
            return Err(VerificationError::TokenRejected {
                reason: "JWT expired (`exp`)",
            });
        }
        if let Some(nbf) = number("nbf").transpose()?
            && now_s + leeway < nbf
        {
            return Err(VerificationError::TokenRejected {
                reason: "JWT not yet valid (`nbf`)",
            });
        }
        if let Some(issuer) = &self.issuer
            && claims.get("iss").and_then(Value::as_str) != Some(issuer.as_str())
        {
            return Err(VerificationError::TokenRejected {
                reason: "JWT `iss` does not match",
            });
        }
        if let Some(audience) = &self.audience {
            let ok = match claims.get("aud") {
                Some(Value::String(a)) => a == audience,
                Some(Value::Array(list)) => {
                    list.iter().any(|a| a.as_str() == Some(audience.as_str()))
                }
                _ => false,
            };
            if !ok {
                return Err(VerificationError::TokenRejected {
                    reason: "JWT `aud` does not match",
                });
            }
        }
        Ok(())
    }
}

fn decode_json(segment: &str) -> Option<Value> {
    let bytes = URL_SAFE_NO_PAD.decode(segment).ok()?;
    serde_json::from_slice(&bytes).ok()
}
