//! The `basic` strategy: HTTP Basic credentials on the inbound request.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_PAD_INDIFFERENT;
use patchbay_config::webhook::{SignatureFormat, SignatureVerificationConfig};
use serde_json::Value;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::{ConfigError, VerificationError};
use crate::request::InboundRequest;
use crate::resolve::resolve;

/// Compiled basic-auth expectations.
#[derive(Clone)]
pub(crate) struct BasicScheme {
    header: String,
    username: String,
    password: String,
}

impl fmt::Debug for BasicScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicScheme")
            .field("header", &self.header)
            .field("username", &self.username)
            .field("password", &"[REDACTED]")
            .finish()
    }
}

impl BasicScheme {
    pub(crate) fn from_config(
        format: &SignatureFormat,
        config: &SignatureVerificationConfig,
        context: &Value,
    ) -> Result<Self, ConfigError> {
        let missing = |field| ConfigError::MissingField {
            field,
            format: format.to_string(),
        };
        let username = resolve(
            config
                .username
                .as_deref()
                .ok_or_else(|| missing("username"))?,
            context,
            "username",
        )?;
        let password = config
            .password
            .as_ref()
            .ok_or_else(|| missing("password"))?;
        let password = resolve(password.expose(), context, "password")?;
        if password.is_empty() {
            return Err(ConfigError::EmptySecret { field: "password" });
        }
        Ok(Self {
            header: config
                .header_name
                .clone()
                .unwrap_or_else(|| "authorization".into())
                .to_ascii_lowercase(),
            username,
            password,
        })
    }

    /// Checks `Authorization: Basic base64(user:password)`.
    ///
    /// Both fields are compared through their SHA-256 digests in constant time, so
    /// neither the contents nor the lengths of the expected values affect timing, and
    /// both comparisons always run.
    pub(crate) fn verify(&self, req: &InboundRequest) -> Result<(), VerificationError> {
        let location = format!("header `{}`", self.header);
        let value = req
            .header(&self.header)
            .ok_or_else(|| VerificationError::MissingHeader {
                name: self.header.clone(),
            })?;
        let malformed = |reason| VerificationError::MalformedCredentials {
            location: location.clone(),
            reason,
        };
        let (scheme, encoded) = value
            .trim()
            .split_once(' ')
            .ok_or_else(|| malformed("expected `Basic <base64>`"))?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return Err(malformed("scheme is not Basic"));
        }
        let decoded = STANDARD_PAD_INDIFFERENT
            .decode(encoded.trim())
            .map_err(|_| malformed("credentials are not valid base64"))?;
        let colon = decoded
            .iter()
            .position(|&b| b == b':')
            .ok_or_else(|| malformed("no `:` between user and password"))?;
        let (user, pass) = (&decoded[..colon], &decoded[colon + 1..]);
        let user_ok = Sha256::digest(user).ct_eq(&Sha256::digest(self.username.as_bytes()));
        let pass_ok = Sha256::digest(pass).ct_eq(&Sha256::digest(self.password.as_bytes()));
        if bool::from(user_ok & pass_ok) {
            Ok(())
        } else {
            Err(VerificationError::CredentialsMismatch { location })
        }
    }
}
