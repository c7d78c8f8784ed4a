//! HMAC computation and constant-time comparison.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::{Sha256, Sha384, Sha512};
use subtle::ConstantTimeEq;

/// A hash function for HMAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// SHA-1 (Twilio, Intercom; legacy but still used by providers).
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-384 (JWT `HS384`).
    Sha384,
    /// SHA-512.
    Sha512,
}

impl Algorithm {
    /// Parses an HMAC algorithm name: `sha1`, `sha256`, `sha384`, `sha512`, also
    /// written `SHA-256`, `hmac-sha256` or in upper case.
    pub fn from_name(name: &str) -> Option<Self> {
        let lower = name.trim().to_ascii_lowercase();
        let bare = lower
            .strip_prefix("hmac-")
            .unwrap_or(&lower)
            .replace('-', "");
        match bare.as_str() {
            "sha1" => Some(Self::Sha1),
            "sha256" => Some(Self::Sha256),
            "sha384" => Some(Self::Sha384),
            "sha512" => Some(Self::Sha512),
            _ => None,
        }
    }

    /// The tag length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// HMAC of the concatenation of `chunks` under `key`.
    ///
    /// The chunks are fed to the MAC one after another, so the message is never
    /// copied into one buffer. Any key length is accepted (HMAC hashes long keys).
    pub fn hmac<'a>(self, key: &[u8], chunks: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
        match self {
            Self::Sha1 => run::<Hmac<Sha1>>(key, chunks),
            Self::Sha256 => run::<Hmac<Sha256>>(key, chunks),
            Self::Sha384 => run::<Hmac<Sha384>>(key, chunks),
            Self::Sha512 => run::<Hmac<Sha512>>(key, chunks),
        }
    }
}

fn run<'a, M: Mac + KeyInit>(key: &[u8], chunks: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    // HMAC accepts keys of every length, so `new_from_slice` cannot fail; the fallback
    // (an empty tag) can never match a decoded signature, so it fails closed.
    let Ok(mut mac) = <M as KeyInit>::new_from_slice(key) else {
        return Vec::new();
    };
    for chunk in chunks {
        mac.update(chunk);
    }
    mac.finalize().into_bytes().to_vec()
}

/// Whether any candidate equals `expected`, in time independent of the contents.
///
/// Every candidate is compared (no early exit on a match); an empty `expected` never
/// matches. Lengths are not secret and may affect timing.
pub(crate) fn matches_any<'a>(
    expected: &[u8],
    candidates: impl IntoIterator<Item = &'a [u8]>,
) -> bool {
    if expected.is_empty() {
        return false;
    }
    let mut found = subtle::Choice::from(0u8);
    for candidate in candidates {
        found |= expected.ct_eq(candidate);
    }
    found.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4231_case_2() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let tag =
            Algorithm::Sha256.hmac(b"Jefe", [b"what do ya want ".as_slice(), b"for nothing?"]);
        assert_eq!(
            hex::encode(tag),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn names() {
        assert_eq!(Algorithm::from_name("SHA-256"), Some(Algorithm::Sha256));
        assert_eq!(Algorithm::from_name("hmac-sha1"), Some(Algorithm::Sha1));
        assert_eq!(Algorithm::from_name("md5"), None);
    }

    #[test]
    fn matching() {
        assert!(matches_any(b"abc", [b"x".as_slice(), b"abc"]));
        assert!(!matches_any(b"abc", [b"abd".as_slice()]));
        assert!(!matches_any(b"", [b"".as_slice()]));
    }
}
