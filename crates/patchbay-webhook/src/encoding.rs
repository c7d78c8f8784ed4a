//! Signature and secret encodings.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_PAD_INDIFFERENT, URL_SAFE_PAD_INDIFFERENT};
use patchbay_config::webhook::SecretEncoding;

use crate::error::ConfigError;

/// How a signature is written: the `string_type` of a config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SignatureEncoding {
    /// Hexadecimal; decoding is case-insensitive, encoding lower case.
    #[default]
    Hex,
    /// Standard base64; padding optional when decoding, written when encoding.
    Base64,
    /// URL-safe base64; padding optional when decoding, omitted when encoding.
    Base64Url,
}

impl SignatureEncoding {
    /// Parses a `string_type`; `None` means the default, hex.
    ///
    /// # Errors
    /// [`ConfigError::UnsupportedStringType`] for anything but `hex`, `base64`, `base64url`.
    pub fn from_config(string_type: Option<&str>) -> Result<Self, ConfigError> {
        match string_type
            .map(|s| s.trim().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("hex") => Ok(Self::Hex),
            Some("base64") => Ok(Self::Base64),
            Some("base64url") => Ok(Self::Base64Url),
            Some(_) => Err(ConfigError::UnsupportedStringType {
                value: string_type.unwrap_or_default().to_owned(),
            }),
        }
    }

    /// Decodes a received signature; `None` if it is not valid in this encoding.
    pub fn decode(self, text: &str) -> Option<Vec<u8>> {
        match self {
            Self::Hex => hex::decode(text).ok(),
            Self::Base64 => STANDARD_PAD_INDIFFERENT.decode(text).ok(),
            Self::Base64Url => URL_SAFE_PAD_INDIFFERENT.decode(text).ok(),
        }
    }

    /// Encodes a tag.
    pub fn encode(self, bytes: &[u8]) -> String {
        match self {
            Self::Hex => hex::encode(bytes),
            Self::Base64 => base64::engine::general_purpose::STANDARD.encode(bytes),
            Self::Base64Url => base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes),
        }
    }

    /// A short name for error messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Hex => "hex",
            Self::Base64 => "base64",
            Self::Base64Url => "base64url",
        }
    }
}

/// Turns a resolved secret string into key bytes.
///
/// # Errors
/// [`ConfigError::InvalidSecretEncoding`] when the text does not decode, and
/// [`ConfigError::EmptySecret`] when the key would be empty.
pub(crate) fn secret_bytes(secret: &str, encoding: SecretEncoding) -> Result<Vec<u8>, ConfigError> {
    let bytes = match encoding {
        SecretEncoding::Utf8 => secret.as_bytes().to_vec(),
        SecretEncoding::Hex => hex::decode(secret.trim())
            .map_err(|_| ConfigError::InvalidSecretEncoding { encoding: "hex" })?,
        SecretEncoding::Base64 => STANDARD_PAD_INDIFFERENT
            .decode(secret.trim())
            .map_err(|_| ConfigError::InvalidSecretEncoding { encoding: "base64" })?,
        SecretEncoding::StandardWebhooks => {
            let trimmed = secret.trim();
            let body = trimmed.strip_prefix("whsec_").unwrap_or(trimmed);
            STANDARD_PAD_INDIFFERENT.decode(body).map_err(|_| {
                ConfigError::InvalidSecretEncoding {
                    encoding: "Standard Webhooks (whsec_ + base64)",
                }
            })?
        }
    };
    if bytes.is_empty() {
        return Err(ConfigError::EmptySecret { field: "secret" });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_leniently() {
        assert_eq!(
            SignatureEncoding::Hex.decode("0aFF"),
            Some(vec![0x0a, 0xff])
        );
        assert_eq!(SignatureEncoding::Base64.decode("AQI="), Some(vec![1, 2]));
        assert_eq!(SignatureEncoding::Base64.decode("AQI"), Some(vec![1, 2]));
        assert_eq!(
            SignatureEncoding::Base64Url.decode("_-8"),
            Some(vec![0xff, 0xef])
        );
        assert_eq!(SignatureEncoding::Hex.decode("zz"), None);
    }

    #[test]
    fn string_types() {
        assert_eq!(
            SignatureEncoding::from_config(None),
            Ok(SignatureEncoding::Hex)
        );
        assert_eq!(
            SignatureEncoding::from_config(Some("BASE64")),
            Ok(SignatureEncoding::Base64)
        );
        assert!(SignatureEncoding::from_config(Some("binary")).is_err());
    }

    #[test]
    fn secrets() {
        assert_eq!(
            secret_bytes("whsec_AQI=", SecretEncoding::StandardWebhooks),
            Ok(vec![1, 2])
        );
        assert_eq!(
            secret_bytes("", SecretEncoding::Utf8),
            Err(ConfigError::EmptySecret { field: "secret" })
        );
        assert!(secret_bytes("nothex", SecretEncoding::Hex).is_err());
    }
}
