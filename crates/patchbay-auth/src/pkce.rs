//! PKCE (RFC 7636, method `S256`) and the authorize `state`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// A fresh code verifier: 32 bytes from a CSPRNG, base64url without padding
/// (43 characters, within RFC 7636's 43..=128 and its unreserved alphabet).
pub(crate) fn code_verifier() -> String {
    random_token::<32>()
}

/// The `S256` challenge of a verifier: `BASE64URL(SHA256(verifier))`.
///
/// ```
/// // RFC 7636 appendix B.
/// assert_eq!(
///     patchbay_auth::pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
///     "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
/// );
/// ```
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A fresh, unguessable `state` value (24 random bytes, base64url).
pub(crate) fn state() -> String {
    random_token::<24>()
}

fn random_token<const N: usize>() -> String {
    let mut bytes = [0u8; N];
    rand::fill(&mut bytes[..]);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifiers_are_long_unreserved_and_unique() {
        let a = code_verifier();
        let b = code_verifier();
        assert_eq!(a.len(), 43);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_ne!(a, b);
        assert_ne!(state(), state());
    }
}
