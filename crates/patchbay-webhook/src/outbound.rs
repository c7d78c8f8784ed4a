//! Signing the events Patchbay delivers to a host's endpoint, and the matching
//! receiver-side check.
//!
//! Header format (`x-patchbay-signature`):
//!
//! ```text
//! x-patchbay-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>[,v1=<hex>...]
//! ```
//!
//! Several `v1` entries appear while an endpoint's secret is being rotated (one per
//! active secret); a receiver accepts the request if any of them matches. The
//! timestamp is signed together with the body, so a receiver that enforces a
//! tolerance rejects replays.

use std::fmt;
use std::time::{Duration, SystemTime};

use crate::error::VerificationError;
use crate::mac::{Algorithm, matches_any};
use crate::timestamp::{self, check_fresh, unix_millis};
use crate::token::prefixed_items;

/// The header carrying outbound signatures.
pub const SIGNATURE_HEADER: &str = "x-patchbay-signature";

/// The tolerance receivers should use unless they have a reason not to: 5 minutes.
pub const DEFAULT_TOLERANCE: Duration = timestamp::DEFAULT_TOLERANCE;

/// A computed `x-patchbay-signature` header.
#[derive(Clone, PartialEq, Eq)]
pub struct SignatureHeader {
    timestamp: u64,
    signatures: Vec<String>,
}

impl SignatureHeader {
    /// The header name, [`SIGNATURE_HEADER`].
    pub fn name(&self) -> &'static str {
        SIGNATURE_HEADER
    }

    /// The header value, `t=<unix>,v1=<hex>[,v1=<hex>...]`.
    pub fn value(&self) -> String {
        let mut out = format!("t={}", self.timestamp);
        for signature in &self.signatures {
            out.push_str(",v1=");
            out.push_str(signature);
        }
        out
    }

    /// The signed Unix timestamp in seconds.
    pub fn timestamp(&self) -> u64 {
        self.timestamp
    }
}

impl fmt::Display for SignatureHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value())
    }
}

impl fmt::Debug for SignatureHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignatureHeader")
            .field("value", &self.value())
            .finish()
    }
}

/// Signs an outbound event body with one endpoint secret at `timestamp`.
///
/// ```
/// use patchbay_webhook::outbound::{sign_event, verify_event, DEFAULT_TOLERANCE};
/// use std::time::{Duration, UNIX_EPOCH};
///
/// let at = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
/// let body = br#"{"event":"record:created"}"#;
/// let header = sign_event(b"endpoint-secret", body, at);
/// assert!(header.value().starts_with("t=1700000000,v1="));
/// assert!(verify_event(b"endpoint-secret", &header.value(), body, at, DEFAULT_TOLERANCE).is_ok());
/// ```
pub fn sign_event(secret: &[u8], body: &[u8], timestamp: SystemTime) -> SignatureHeader {
    sign_event_with_secrets(&[secret], body, timestamp)
}

/// Signs with every secret in `secrets` (secret rotation: current and next).
pub fn sign_event_with_secrets(
    secrets: &[&[u8]],
    body: &[u8],
    timestamp: SystemTime,
) -> SignatureHeader {
    let seconds = u64::try_from(unix_millis(timestamp).max(0) / 1000).unwrap_or(u64::MAX);
    let t = seconds.to_string();
    let signatures = secrets
        .iter()
        .map(|secret| hex::encode(Algorithm::Sha256.hmac(secret, [t.as_bytes(), b".", body])))
        .collect();
    SignatureHeader {
        timestamp: seconds,
        signatures,
    }
}

/// Verifies an `x-patchbay-signature` header value for `body` as of `now`: for
/// receivers of Patchbay's outbound events.
///
/// Checks, in order: the header has exactly one `t=` and at least one decodable
/// `v1=`; some `v1` matches `HMAC-SHA256(secret, "<t>.<body>")` (constant time); the
/// timestamp is within `tolerance` of `now`.
///
/// # Errors
/// [`VerificationError::MalformedTimestamp`], [`VerificationError::MalformedSignature`],
/// [`VerificationError::SignatureMismatch`], [`VerificationError::StaleTimestamp`] or
/// [`VerificationError::FutureTimestamp`].
pub fn verify_event(
    secret: &[u8],
    header_value: &str,
    body: &[u8],
    now: SystemTime,
    tolerance: Duration,
) -> Result<(), VerificationError> {
    let location = || format!("header `{SIGNATURE_HEADER}`");
    let raw_t = match prefixed_items(header_value, "t=", Some(",")).as_slice() {
        [one] => (*one).to_owned(),
        [] => {
            return Err(VerificationError::MalformedTimestamp {
                location: location(),
                reason: "no `t=` entry",
            });
        }
        _ => {
            return Err(VerificationError::MalformedTimestamp {
                location: location(),
                reason: "more than one `t=` entry",
            });
        }
    };
    let signed_ms = timestamp::parse(&raw_t, patchbay_config::webhook::TimestampFormat::Seconds)
        .map_err(|reason| VerificationError::MalformedTimestamp {
            location: location(),
            reason,
        })?;
    let candidates: Vec<Vec<u8>> = prefixed_items(header_value, "v1=", Some(","))
        .into_iter()
        .filter_map(|s| hex::decode(s).ok())
        .collect();
    if candidates.is_empty() {
        return Err(VerificationError::MalformedSignature {
            location: location(),
            reason: "no hex `v1=` entry",
        });
    }
    let expected = Algorithm::Sha256.hmac(secret, [raw_t.as_bytes(), b".", body]);
    if !matches_any(&expected, candidates.iter().map(Vec::as_slice)) {
        return Err(VerificationError::SignatureMismatch {
            location: location(),
        });
    }
    check_fresh(signed_ms, now, tolerance)
}
