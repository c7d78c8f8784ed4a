//! PKCE (RFC 7636) verification at the token endpoint.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};

/// A `code_challenge` recorded at the authorize endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Challenge {
    pub value: String,
    /// `S256` or `plain` (the RFC default when `code_challenge_method` is absent).
    pub method: String,
}

impl Challenge {
    /// Whether `verifier` answers this challenge. Unknown methods never match.
    pub(crate) fn verify(&self, verifier: &str) -> bool {
        match self.method.as_str() {
            "S256" => URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == self.value,
            "plain" => verifier == self.value,
            _ => false,
        }
    }
}

/// The S256 challenge for `verifier` (used by tests and examples).
pub fn s256_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_vector() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(
            s256_challenge(verifier),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let c = Challenge {
            value: s256_challenge(verifier),
            method: "S256".into(),
        };
        assert!(c.verify(verifier));
        assert!(!c.verify("other"));
    }
}
