//! [`Verifier`]: a compiled `signature_verification` for one integrated account.

use std::time::SystemTime;

use patchbay_config::webhook::{
    SignatureFormat, SignatureVerification, SignatureVerificationConfig,
};
use serde_json::Value;

use crate::basic::BasicScheme;
use crate::error::{ConfigError, VerificationError};
use crate::hmac_scheme::HmacScheme;
use crate::jwt::JwtScheme;
use crate::request::InboundRequest;

/// The default body size limit: 5 MiB. Larger bodies are rejected before hashing.
///
/// GitHub caps payloads at 25 MB; raise the limit with
/// [`Verifier::with_max_body_bytes`] for providers that send more.
pub const DEFAULT_MAX_BODY_BYTES: usize = 5 * 1024 * 1024;

#[derive(Debug, Clone)]
enum Scheme {
    Hmac(HmacScheme),
    Basic(BasicScheme),
    Jwt(JwtScheme),
}

/// A `signature_verification` config compiled for one integrated account: secrets
/// resolved from the account context, tokens parsed, algorithm chosen.
///
/// Build once per account and config, verify many requests. `Debug` never shows key
/// material.
///
/// ```
/// use patchbay_config::webhook::SignatureVerification;
/// use patchbay_webhook::{InboundRequest, Verifier};
/// use serde_json::json;
/// use std::time::SystemTime;
///
/// // GitHub's documented example: secret "It's a Secret to Everybody", body "Hello, World!".
/// let config: SignatureVerification = serde_json::from_value(json!({
///     "format": "hmac",
///     "config": {
///         "algorithm": "sha256",
///         "secret": "{{webhook_secret}}",
///         "parts": ["$body"],
///         "compare_with": "sha256=$header.x-hub-signature-256"
///     }
/// }))?;
/// let context = json!({"webhook_secret": "It's a Secret to Everybody"});
/// let verifier = Verifier::from_config(&config, &context)?;
/// let request = InboundRequest::new("POST", "https://example.com/hook")
///     .with_header(
///         "X-Hub-Signature-256",
///         "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
///     )
///     .with_body(b"Hello, World!".to_vec());
/// assert!(verifier.verify(&request, SystemTime::now()).is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Verifier {
    scheme: Scheme,
    max_body_bytes: usize,
}

impl Verifier {
    /// Compiles `config`, resolving `{{ }}` placeholders (secret, username, password)
    /// against the account `context`.
    ///
    /// # Errors
    /// [`ConfigError`] when the format is unsupported, a required field is missing, a
    /// placeholder does not resolve, the algorithm or `string_type` is unknown, or a
    /// token is invalid. Errors never contain secret values.
    pub fn from_config(
        config: &SignatureVerification,
        context: &Value,
    ) -> Result<Self, ConfigError> {
        let empty = SignatureVerificationConfig::default();
        let settings = config.config.as_ref().unwrap_or(&empty);
        let format = &config.format;
        let scheme = match format {
            SignatureFormat::Hmac
            | SignatureFormat::HmacSha1
            | SignatureFormat::HmacSha256
            | SignatureFormat::HmacSha512 => {
                Scheme::Hmac(HmacScheme::from_config(format, settings, context)?)
            }
            SignatureFormat::StandardWebhooks | SignatureFormat::Clerk => {
                Scheme::Hmac(HmacScheme::standard_webhooks(format, settings, context)?)
            }
            SignatureFormat::Basic => {
                Scheme::Basic(BasicScheme::from_config(format, settings, context)?)
            }
            SignatureFormat::Jwt => Scheme::Jwt(JwtScheme::from_config(format, settings, context)?),
            SignatureFormat::Other(name) => {
                return Err(ConfigError::UnsupportedFormat {
                    format: name.clone(),
                });
            }
        };
        Ok(Self {
            scheme,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        })
    }

    /// Sets the body size limit (default [`DEFAULT_MAX_BODY_BYTES`]).
    pub fn with_max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// The body size limit in bytes.
    pub fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    /// Verifies `request` as of `now` (the injected clock used for timestamp and JWT
    /// expiry checks).
    ///
    /// The raw body is hashed exactly as received. Signatures are compared in constant
    /// time.
    ///
    /// # Errors
    /// A [`VerificationError`] naming the failed check; see [`VerificationError::check`].
    pub fn verify(
        &self,
        request: &InboundRequest,
        now: SystemTime,
    ) -> Result<(), VerificationError> {
        let actual = request.body().len();
        if actual > self.max_body_bytes {
            return Err(VerificationError::BodyTooLarge {
                limit: self.max_body_bytes,
                actual,
            });
        }
        match &self.scheme {
            Scheme::Hmac(s) => s.verify(request, now),
            Scheme::Basic(s) => s.verify(request),
            Scheme::Jwt(s) => s.verify(request, now),
        }
    }
}

/// One-shot verification: compiles `config` against `context` and verifies `request`.
///
/// # Errors
/// [`VerificationError::Config`] for an unusable config, otherwise as [`Verifier::verify`].
pub fn verify(
    config: &SignatureVerification,
    request: &InboundRequest,
    context: &Value,
    now: SystemTime,
) -> Result<(), VerificationError> {
    Verifier::from_config(config, context)?.verify(request, now)
}
