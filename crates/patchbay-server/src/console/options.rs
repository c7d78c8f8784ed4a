//! How people sign in to the console: always with an API token of an
//! environment, and with a password when `PATCHBAY_CONSOLE_PASSWORD` is set.

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The environment variable that turns password sign-in on.
pub const PASSWORD_VAR: &str = "PATCHBAY_CONSOLE_PASSWORD";
/// The shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 12;

/// The console's sign-in options.
#[derive(Clone, Default)]
pub struct ConsoleOptions {
    password: Option<ConsolePassword>,
}

impl fmt::Debug for ConsoleOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsoleOptions")
            .field("password", &self.password.as_ref().map(|_| "[REDACTED]"))
            .finish()
    }
}

impl ConsoleOptions {
    /// Sign-in with an API token only.
    pub fn new() -> Self {
        Self::default()
    }

    /// Also signs people in with `password` (they then pick the environment).
    ///
    /// # Errors
    ///
    /// A message when the password is shorter than [`MIN_PASSWORD_LEN`] characters.
    pub fn with_password(mut self, password: &str) -> Result<Self, String> {
        if password.chars().count() < MIN_PASSWORD_LEN {
            return Err(format!(
                "{PASSWORD_VAR} must be at least {MIN_PASSWORD_LEN} characters long"
            ));
        }
        self.password = Some(ConsolePassword::new(password));
        Ok(self)
    }

    /// The options of the environment: a password from [`PASSWORD_VAR`] when
    /// it is set and not empty.
    ///
    /// # Errors
    ///
    /// A message naming the variable when the password is too short or not UTF-8.
    pub fn from_env() -> Result<Self, String> {
        match std::env::var(PASSWORD_VAR) {
            Ok(password) if password.is_empty() => Ok(Self::new()),
            Ok(password) => Self::new().with_password(&password),
            Err(std::env::VarError::NotPresent) => Ok(Self::new()),
            Err(std::env::VarError::NotUnicode(_)) => Err(format!("{PASSWORD_VAR} is not UTF-8")),
        }
    }

    /// The password, when password sign-in is on.
    pub(super) fn password(&self) -> Option<&ConsolePassword> {
        self.password.as_ref()
    }
}

/// The console password, kept only as a SHA-256 digest.
#[derive(Clone)]
pub(super) struct ConsolePassword {
    digest: [u8; 32],
}

impl ConsolePassword {
    fn new(password: &str) -> Self {
        Self {
            digest: digest(password),
        }
    }

    /// Whether `attempt` is the password, compared in constant time (the
    /// digests are compared, so the length does not leak either).
    pub(super) fn matches(&self, attempt: &str) -> bool {
        bool::from(self.digest.ct_eq(&digest(attempt)))
    }

    /// What a password session remembers of the password, so that changing
    /// it ends every session signed in with the old one.
    pub(super) fn fingerprint(&self) -> String {
        hex::encode(Sha256::digest(
            [b"console-session:".as_slice(), &self.digest].concat(),
        ))
    }
}

fn digest(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_checked_and_never_printed() {
        assert!(ConsoleOptions::new().with_password("short").is_err());
        let options = ConsoleOptions::new()
            .with_password("correct horse battery")
            .unwrap();
        let password = options.password().unwrap();
        assert!(password.matches("correct horse battery"));
        assert!(!password.matches("correct horse batter"));
        assert!(!password.matches(""));
        assert!(!format!("{options:?}").contains("horse"));
        let other = ConsoleOptions::new()
            .with_password("another long password")
            .unwrap();
        assert_ne!(
            password.fingerprint(),
            other.password().unwrap().fingerprint()
        );
    }
}
