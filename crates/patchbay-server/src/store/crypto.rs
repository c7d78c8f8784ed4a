//! Encryption at rest: AES-256-GCM with key ids, so keys can be rotated.
//!
//! A stored ciphertext is `v1:<key id>:<base64(nonce ‖ ciphertext ‖ tag)>`:
//! a fresh random 96-bit nonce per message, and associated data naming the
//! column and row the value belongs to, so a ciphertext copied into another row
//! does not decrypt. The key id is the first 8 hex digits of a SHA-256 of the
//! key; a [`Cipher`] holds one active key (used to encrypt) and any number of
//! previous keys (used only to decrypt values written before a rotation).

use std::fmt;

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{Aead, Generate, Key, KeyInit, Nonce, Payload};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::error::StorageError;

const PREFIX: &str = "v1";
const NONCE_LEN: usize = 12;
/// The length of a key in bytes.
pub(super) const KEY_LEN: usize = 32;

/// One AES-256 key and its id. `Debug` shows the id only.
#[derive(Clone)]
struct KeyEntry {
    id: String,
    aead: Aes256Gcm,
}

impl KeyEntry {
    fn new(bytes: &[u8]) -> Result<Self, StorageError> {
        if bytes.len() != KEY_LEN {
            return Err(StorageError::Crypto(format!(
                "an encryption key must be {KEY_LEN} bytes, this one has {}",
                bytes.len()
            )));
        }
        let key = Key::<Aes256Gcm>::try_from(bytes)
            .map_err(|_| StorageError::Crypto("invalid key length".into()))?;
        let mut digest = Sha256::new();
        digest.update(b"patchbay-key-id:");
        digest.update(bytes);
        let id = hex::encode(&digest.finalize()[..4]);
        Ok(Self {
            id,
            aead: Aes256Gcm::new(&key),
        })
    }
}

/// Encrypts and decrypts stored secrets.
#[derive(Clone)]
pub struct Cipher {
    active: KeyEntry,
    previous: Vec<KeyEntry>,
}

impl fmt::Debug for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cipher")
            .field("active_key_id", &self.active.id)
            .field(
                "previous_key_ids",
                &self
                    .previous
                    .iter()
                    .map(|k| k.id.as_str())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Cipher {
    /// A cipher whose active key is `key` (32 bytes).
    ///
    /// # Errors
    ///
    /// [`StorageError::Crypto`] when the key is not 32 bytes long.
    pub fn new(key: &[u8]) -> Result<Self, StorageError> {
        Ok(Self {
            active: KeyEntry::new(key)?,
            previous: Vec::new(),
        })
    }

    /// A cipher whose active key is the base64 (standard alphabet) of 32 bytes.
    ///
    /// # Errors
    ///
    /// [`StorageError::Crypto`] when the text is not base64 of 32 bytes; the
    /// message never contains the text.
    pub fn from_base64(text: &str) -> Result<Self, StorageError> {
        Self::new(&decode_key(text)?)
    }

    /// Adds a previous key (base64 of 32 bytes), used only to decrypt values
    /// written before the active key was introduced.
    ///
    /// # Errors
    ///
    /// [`StorageError::Crypto`] when the text is not base64 of 32 bytes.
    pub fn with_previous_base64(mut self, text: &str) -> Result<Self, StorageError> {
        let entry = KeyEntry::new(&decode_key(text)?)?;
        if entry.id != self.active.id && self.previous.iter().all(|k| k.id != entry.id) {
            self.previous.push(entry);
        }
        Ok(self)
    }

    /// A new random key, as the base64 text [`Cipher::from_base64`] reads.
    pub fn generate_key_base64() -> Zeroizing<String> {
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        rand::fill(&mut key[..]);
        Zeroizing::new(STANDARD.encode(&key[..]))
    }

    /// The id of the key new values are encrypted with.
    pub fn active_key_id(&self) -> &str {
        &self.active.id
    }

    /// Encrypts `plaintext` bound to `aad` (the column and row it is stored in).
    ///
    /// # Errors
    ///
    /// [`StorageError::Crypto`] when the AEAD fails (it does not for valid keys).
    pub fn encrypt(&self, plaintext: &[u8], aad: &str) -> Result<String, StorageError> {
        let nonce = Nonce::<Aes256Gcm>::generate();
        let sealed = self
            .active
            .aead
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| StorageError::Crypto("encryption failed".into()))?;
        let mut blob = Vec::with_capacity(NONCE_LEN + sealed.len());
        blob.extend_from_slice(nonce.as_slice());
        blob.extend_from_slice(&sealed);
        Ok(format!(
            "{PREFIX}:{}:{}",
            self.active.id,
            STANDARD.encode(blob)
        ))
    }

    /// Decrypts a value written by [`Cipher::encrypt`] with the same `aad`.
    ///
    /// # Errors
    ///
    /// [`StorageError::Crypto`] when the value is not in the stored format, was
    /// encrypted with a key this cipher does not hold, or fails authentication
    /// (wrong key, tampered or moved value). Never returns garbage.
    pub fn decrypt(&self, stored: &str, aad: &str) -> Result<Zeroizing<Vec<u8>>, StorageError> {
        let mut parts = stored.splitn(3, ':');
        let (Some(PREFIX), Some(key_id), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(StorageError::Crypto(
                "a stored secret is not in the `v1:<key id>:<data>` format".into(),
            ));
        };
        let key = std::iter::once(&self.active)
            .chain(&self.previous)
            .find(|k| k.id == key_id)
            .ok_or_else(|| {
                StorageError::Crypto(format!(
                    "a stored secret was encrypted with key id `{key_id}`, but the configured key \
                     is `{}`{}: set PATCHBAY_ENCRYPTION_KEY to the key the data was written with \
                     (or list it in PATCHBAY_PREVIOUS_ENCRYPTION_KEYS)",
                    self.active.id,
                    if self.previous.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " (previous: {})",
                            self.previous
                                .iter()
                                .map(|k| k.id.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    }
                ))
            })?;
        let blob = STANDARD
            .decode(body)
            .map_err(|_| StorageError::Crypto("a stored secret is not valid base64".into()))?;
        if blob.len() < NONCE_LEN + 16 {
            return Err(StorageError::Crypto("a stored secret is truncated".into()));
        }
        let (nonce, sealed) = blob.split_at(NONCE_LEN);
        let nonce = Nonce::<Aes256Gcm>::try_from(nonce)
            .map_err(|_| StorageError::Crypto("a stored secret has a bad nonce".into()))?;
        key.aead
            .decrypt(
                &nonce,
                Payload {
                    msg: sealed,
                    aad: aad.as_bytes(),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| {
                StorageError::Crypto(format!(
                    "a stored secret (key id `{key_id}`) failed authentication: it was modified, \
                     moved to another row, or the key is wrong"
                ))
            })
    }

    /// Encrypts a JSON value (its compact text).
    ///
    /// # Errors
    ///
    /// As [`Cipher::encrypt`].
    pub fn encrypt_json(
        &self,
        value: &serde_json::Value,
        aad: &str,
    ) -> Result<String, StorageError> {
        let text = Zeroizing::new(value.to_string());
        self.encrypt(text.as_bytes(), aad)
    }

    /// Decrypts a value written by [`Cipher::encrypt_json`].
    ///
    /// # Errors
    ///
    /// As [`Cipher::decrypt`], plus [`StorageError::Crypto`] when the plaintext is
    /// not JSON.
    pub fn decrypt_json(&self, stored: &str, aad: &str) -> Result<serde_json::Value, StorageError> {
        let plain = self.decrypt(stored, aad)?;
        serde_json::from_slice(&plain)
            .map_err(|_| StorageError::Crypto("a decrypted secret is not JSON".into()))
    }
}

fn decode_key(text: &str) -> Result<Zeroizing<Vec<u8>>, StorageError> {
    let bytes = Zeroizing::new(STANDARD.decode(text.trim()).map_err(|_| {
        StorageError::Crypto("an encryption key must be base64 (standard alphabet)".into())
    })?);
    if bytes.len() != KEY_LEN {
        return Err(StorageError::Crypto(format!(
            "an encryption key must be base64 of {KEY_LEN} bytes, this one decodes to {} bytes",
            bytes.len()
        )));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_binding() {
        let cipher = Cipher::from_base64(&Cipher::generate_key_base64()).unwrap();
        let sealed = cipher.encrypt(b"hunter2", "account:1").unwrap();
        assert!(sealed.starts_with(&format!("v1:{}:", cipher.active_key_id())));
        assert!(!sealed.contains("hunter2"));
        assert_eq!(&*cipher.decrypt(&sealed, "account:1").unwrap(), b"hunter2");
        // Bound to its row.
        assert!(matches!(
            cipher.decrypt(&sealed, "account:2"),
            Err(StorageError::Crypto(_))
        ));
        // Fresh nonce each time.
        assert_ne!(sealed, cipher.encrypt(b"hunter2", "account:1").unwrap());
    }

    #[test]
    fn wrong_key_and_rotation() {
        let old_key = Cipher::generate_key_base64();
        let old = Cipher::from_base64(&old_key).unwrap();
        let sealed = old.encrypt(b"s3cret", "x").unwrap();
        let new = Cipher::from_base64(&Cipher::generate_key_base64()).unwrap();
        let err = new.decrypt(&sealed, "x").unwrap_err().to_string();
        assert!(err.contains(old.active_key_id()), "{err}");
        let rotated = new.with_previous_base64(&old_key).unwrap();
        assert_eq!(&*rotated.decrypt(&sealed, "x").unwrap(), b"s3cret");
        assert!(
            rotated
                .encrypt(b"a", "x")
                .unwrap()
                .contains(rotated.active_key_id())
        );
    }

    #[test]
    fn rejects_bad_keys_without_echoing_them() {
        let err = Cipher::from_base64("c2VjcmV0LWtleQ==")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("32 bytes") && !err.contains("c2VjcmV0"),
            "{err}"
        );
        assert!(Cipher::from_base64("not base64!!").is_err());
    }

    #[test]
    fn debug_shows_only_key_ids() {
        let key = Cipher::generate_key_base64();
        let cipher = Cipher::from_base64(&key).unwrap();
        let debug = format!("{cipher:?}");
        assert!(debug.contains(cipher.active_key_id()) && !debug.contains(key.as_str()));
    }
}
