//! Error types.
//!
//! No error in this module ever holds a secret, a computed (expected) signature or the
//! received signature: values in errors are header names, limits, ages and fixed
//! reasons, so `Display` and `Debug` are safe to log and to return to the caller.

use patchbay_template::expression::ExpressionError;

/// Which check rejected a request, for metrics and for mapping to HTTP responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Check {
    /// The body size limit.
    BodySize,
    /// Presence of a header or query parameter the configuration reads.
    Presence,
    /// Syntax and encoding of the received signature.
    SignatureFormat,
    /// The cryptographic comparison of the signature.
    Signature,
    /// Syntax of the signed timestamp.
    TimestampFormat,
    /// The timestamp tolerance (replay protection).
    TimestampFreshness,
    /// Basic-auth credentials.
    Credentials,
    /// JWT claims (algorithm, expiry, issuer, audience).
    TokenClaims,
    /// The verification configuration itself.
    Config,
}

/// Why an inbound webhook (or an outbound event at the receiver) was rejected.
///
/// ```
/// use patchbay_webhook::{Check, VerificationError};
/// let e = VerificationError::MissingHeader { name: "x-hub-signature-256".into() };
/// assert_eq!(e.check(), Check::Presence);
/// assert_eq!(e.to_string(), "missing header `x-hub-signature-256`");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerificationError {
    /// The body is larger than the verifier's limit; it was not hashed.
    #[error("body too large: {actual} bytes exceeds the limit of {limit} bytes")]
    BodyTooLarge {
        /// The configured limit in bytes.
        limit: usize,
        /// The received body length in bytes.
        actual: usize,
    },
    /// A header the configuration reads is absent.
    #[error("missing header `{name}`")]
    MissingHeader {
        /// The header name (lower case).
        name: String,
    },
    /// A query parameter the configuration reads is absent.
    #[error("missing query parameter `{name}`")]
    MissingQueryParameter {
        /// The parameter name.
        name: String,
    },
    /// The received signature cannot be parsed or decoded.
    #[error("malformed signature in {location}: {reason}")]
    MalformedSignature {
        /// Where the signature was read, e.g. "header `stripe-signature`".
        location: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The signature is well formed but does not match the request.
    #[error("signature mismatch: no signature in {location} matches the request")]
    SignatureMismatch {
        /// Where the signature was read.
        location: String,
    },
    /// The signed timestamp cannot be parsed.
    #[error("malformed timestamp in {location}: {reason}")]
    MalformedTimestamp {
        /// Where the timestamp was read.
        location: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The signed timestamp is older than the tolerance allows (possible replay).
    #[error("stale timestamp: signed {age_seconds} s ago, tolerance is {tolerance_seconds} s")]
    StaleTimestamp {
        /// How long ago the request was signed.
        age_seconds: u64,
        /// The allowed age.
        tolerance_seconds: u64,
    },
    /// The signed timestamp is further in the future than the tolerance allows.
    #[error("timestamp is {ahead_seconds} s in the future, tolerance is {tolerance_seconds} s")]
    FutureTimestamp {
        /// How far ahead of the verifier's clock the timestamp is.
        ahead_seconds: u64,
        /// The allowed skew.
        tolerance_seconds: u64,
    },
    /// Credentials (basic auth) are present but malformed.
    #[error("malformed credentials in {location}: {reason}")]
    MalformedCredentials {
        /// Where the credentials were read.
        location: String,
        /// What is wrong with them.
        reason: &'static str,
    },
    /// Credentials (basic auth) do not match.
    #[error("credentials in {location} do not match")]
    CredentialsMismatch {
        /// Where the credentials were read.
        location: String,
    },
    /// A JWT has a valid signature but a claim or header field is not acceptable.
    #[error("token rejected: {reason}")]
    TokenRejected {
        /// Which claim failed, e.g. "token expired".
        reason: &'static str,
    },
    /// The verification configuration cannot be used.
    #[error("webhook verification config: {0}")]
    Config(#[from] ConfigError),
}

impl VerificationError {
    /// The check that failed.
    pub fn check(&self) -> Check {
        match self {
            Self::BodyTooLarge { .. } => Check::BodySize,
            Self::MissingHeader { .. } | Self::MissingQueryParameter { .. } => Check::Presence,
            Self::MalformedSignature { .. } => Check::SignatureFormat,
            Self::SignatureMismatch { .. } => Check::Signature,
            Self::MalformedTimestamp { .. } => Check::TimestampFormat,
            Self::StaleTimestamp { .. } | Self::FutureTimestamp { .. } => Check::TimestampFreshness,
            Self::MalformedCredentials { .. } | Self::CredentialsMismatch { .. } => {
                Check::Credentials
            }
            Self::TokenRejected { .. } => Check::TokenClaims,
            Self::Config(_) => Check::Config,
        }
    }
}

/// A `signature_verification` configuration that cannot be turned into a verifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The `format` has no built-in implementation.
    #[error("unsupported signature verification format `{format}`")]
    UnsupportedFormat {
        /// The format name.
        format: String,
    },
    /// A field the format needs is absent.
    #[error("`{field}` is required for format `{format}`")]
    MissingField {
        /// The missing field.
        field: &'static str,
        /// The format that needs it.
        format: String,
    },
    /// The `algorithm` is not supported by the format.
    #[error("unsupported algorithm `{algorithm}`")]
    UnsupportedAlgorithm {
        /// The configured algorithm name.
        algorithm: String,
    },
    /// Two settings contradict each other.
    #[error("conflicting settings: {reason}")]
    Conflict {
        /// What conflicts.
        reason: &'static str,
    },
    /// The `string_type` is not `hex`, `base64` or `base64url`.
    #[error("unsupported string_type `{value}` (expected hex, base64 or base64url)")]
    UnsupportedStringType {
        /// The configured value.
        value: String,
    },
    /// A `parts`, `compare_with` or `timestamp.value` entry is not valid token syntax.
    #[error("invalid `{field}` entry `{entry}`: {reason}")]
    InvalidToken {
        /// The field holding the entry.
        field: &'static str,
        /// The entry text (never a secret field).
        entry: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A `{{ }}` placeholder in a field did not resolve against the account context.
    #[error("`{field}` has a placeholder that does not resolve against the account context")]
    UnresolvedPlaceholder {
        /// The field (its value is not shown: it may be a secret).
        field: &'static str,
    },
    /// A field's placeholder syntax is invalid.
    #[error("`{field}` has invalid placeholder syntax")]
    InvalidPlaceholder {
        /// The field (its value is not shown: it may be a secret).
        field: &'static str,
    },
    /// The secret is empty after placeholder resolution; an empty key would let anyone
    /// forge signatures.
    #[error("`{field}` is empty")]
    EmptySecret {
        /// The field.
        field: &'static str,
    },
    /// The secret does not decode with the configured `secret_encoding`.
    #[error("`secret` is not valid {encoding}")]
    InvalidSecretEncoding {
        /// The expected encoding.
        encoding: &'static str,
    },
}

/// Any failure while processing an inbound webhook with a
/// [`WebhookHandler`](crate::WebhookHandler).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The request failed signature verification.
    #[error(transparent)]
    Verification(#[from] VerificationError),
    /// The webhook configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A JSONata field failed to compile or evaluate.
    #[error("`{field}` expression failed: {source}")]
    Expression {
        /// `handle_verification` or `payload_transform`.
        field: &'static str,
        /// The engine's error.
        #[source]
        source: ExpressionError,
    },
    /// `handle_verification` returned something that is not a handshake response.
    #[error("`handle_verification` returned an invalid response: {reason}")]
    InvalidHandshake {
        /// What is wrong with the returned value.
        reason: &'static str,
    },
    /// `handle_verification` can compute a signature (`$sign`, `$digest`, `$eval`) but
    /// the config has no `signature_verification`: every caller would get the
    /// secret's signature over data they chose, which forges events.
    #[error(
        "`handle_verification` computes a signature but there is no `signature_verification` \
         to check requests first; add one (the handshake then answers verified requests only)"
    )]
    UnverifiedSigningHandshake,
    /// `payload_transform` returned something that is not events.
    #[error("`payload_transform` returned an invalid result: {reason}")]
    InvalidEvents {
        /// What is wrong with the returned value.
        reason: &'static str,
    },
}
