//! Random secret values (API tokens, link tokens, webhook secrets) and their hashes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use patchbay::config::SecretString;
use sha2::{Digest, Sha256};

/// A new random secret: `prefix` + base64url of 32 random bytes.
pub(crate) fn generate(prefix: &str) -> SecretString {
    let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
    rand::fill(&mut bytes[..]);
    SecretString::new(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(&bytes[..])))
}

/// The stored form of a secret token: SHA-256, hex. Tokens carry 256 random
/// bits, so an unsalted fast hash is enough to make the database useless for
/// authenticating.
pub(crate) fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashes_stable() {
        let a = generate("pb_");
        let b = generate("pb_");
        assert!(a.expose().starts_with("pb_") && a.expose().len() > 40);
        assert_ne!(a, b);
        assert_eq!(hash(a.expose()), hash(a.expose()));
        assert_ne!(hash(a.expose()), hash(b.expose()));
        assert_eq!(hash(a.expose()).len(), 64);
    }
}
