//! `$sign` and `$digest`.
//!
//! Text is hashed and encoded as UTF-8, as the package's `TextEncoder` does. Algorithm names
//! follow WebCrypto: `SHA-1`, `SHA-256`, `SHA-384`, `SHA-512`, case-insensitive.

use base64::Engine as _;
use base64::engine::general_purpose::{self, STANDARD};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};

use super::{Args, Outcome};

/// The digests WebCrypto offers for HMAC and `digest`.
#[derive(Clone, Copy)]
enum Algorithm {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Algorithm {
    /// The WebCrypto name, compared case-insensitively (no trimming).
    fn parse(name: &str) -> Option<Self> {
        match name.to_ascii_uppercase().as_str() {
            "SHA-1" => Some(Algorithm::Sha1),
            "SHA-256" => Some(Algorithm::Sha256),
            "SHA-384" => Some(Algorithm::Sha384),
            "SHA-512" => Some(Algorithm::Sha512),
            _ => None,
        }
    }

    fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        match self {
            Algorithm::Sha1 => mac::<Hmac<Sha1>>(key, data),
            Algorithm::Sha256 => mac::<Hmac<Sha256>>(key, data),
            Algorithm::Sha384 => mac::<Hmac<Sha384>>(key, data),
            Algorithm::Sha512 => mac::<Hmac<Sha512>>(key, data),
        }
    }

    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Algorithm::Sha1 => Sha1::digest(data).to_vec(),
            Algorithm::Sha256 => Sha256::digest(data).to_vec(),
            Algorithm::Sha384 => Sha384::digest(data).to_vec(),
            Algorithm::Sha512 => Sha512::digest(data).to_vec(),
        }
    }
}

fn mac<M: Mac + KeyInit>(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length, so this cannot fail; an empty result is the fallback.
    let Ok(mut mac) = <M as KeyInit>::new_from_slice(key) else {
        return Vec::new();
    };
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// `hex` (the default when `undefined`), `base64` or `base64-urlSafe`; anything else,
/// `null` included, gives `undefined`, as in the package.
fn encode_output(bytes: &[u8], format: Option<&Value>) -> Option<Value> {
    let text = match format {
        None => hex::encode(bytes),
        Some(Value::String(format)) => match format.as_str() {
            "hex" => hex::encode(bytes),
            "base64" => STANDARD.encode(bytes),
            "base64-urlSafe" => general_purpose::URL_SAFE_NO_PAD.encode(bytes),
            _ => return None,
        },
        Some(_) => return None,
    };
    Some(Value::String(text))
}

/// `$sign(text, algorithm = 'SHA-256', secret, outputFormat = 'hex')`: the HMAC of `text`
/// keyed with `secret`, both UTF-8.
///
/// `algorithm` is trimmed and upper-cased; `null`, `undefined` and `""` mean `SHA-256`.
/// `outputFormat` is `hex`, `base64` or `base64-urlSafe` (unpadded); any other value gives
/// `undefined`. `text` and `secret` are coerced like `String(x)` (`undefined` is empty).
/// Fails, as WebCrypto does, on an unknown algorithm and on an empty secret. `RS256` is not
/// supported.
pub(crate) fn sign(args: &Args<'_>) -> Outcome {
    let text = args.text(0, "")?;
    let algorithm = match args.get(1) {
        None | Some(Value::Null) => String::new(),
        Some(_) => args.text(1, "")?,
    };
    let algorithm = algorithm.trim().to_ascii_uppercase();
    let algorithm = if algorithm.is_empty() {
        Algorithm::Sha256
    } else {
        Algorithm::parse(&algorithm).ok_or_else(|| unknown_algorithm(args, &algorithm))?
    };
    let secret = args.text(2, "")?;
    if secret.is_empty() {
        return Err(args.failed("Zero-length key is not supported"));
    }
    let signature = algorithm.hmac(secret.as_bytes(), text.as_bytes());
    Ok(encode_output(&signature, args.get(3)))
}

/// `$digest(text, algorithm = 'SHA-256', stringType = 'hex')`: the hash of UTF-8 `text`.
///
/// `stringType` is `hex`, `base64` or `base64-urlSafe` (unpadded); any other value gives
/// `undefined`. `MD5`, which the package computes with `md5.js`, is not supported.
pub(crate) fn digest(args: &Args<'_>) -> Outcome {
    let text = args.text(0, "")?;
    let algorithm = args.text(1, "SHA-256")?;
    let algorithm =
        Algorithm::parse(&algorithm).ok_or_else(|| unknown_algorithm(args, &algorithm))?;
    Ok(encode_output(
        &algorithm.digest(text.as_bytes()),
        args.get(2),
    ))
}

fn unknown_algorithm(args: &Args<'_>, name: &str) -> super::ExtensionError {
    args.failed(format!(
        "Unrecognized algorithm name `{name}` (supported: SHA-1, SHA-256, SHA-384, SHA-512)"
    ))
}
