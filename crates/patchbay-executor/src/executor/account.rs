//! The account a call runs as, borrowed or owned.

use patchbay_config::AuthenticationMethod;
use serde_json::{Map, Value};

/// The account a call runs as.
#[derive(Clone, Copy)]
pub struct AccountRef<'a> {
    /// The integrated account id: the unit of token refresh and pacing.
    pub id: &'a str,
    /// How it authenticates (picks the credential of the config).
    pub authentication_method: AuthenticationMethod,
    /// Its context (credentials and variables), plus any host variables the
    /// config reads (e.g. an OAuth app's `client_id`).
    pub context: &'a Map<String, Value>,
}

impl std::fmt::Debug for AccountRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountRef")
            .field("id", &self.id)
            .field("authentication_method", &self.authentication_method)
            .field("context_keys", &self.context.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// An account owned by a stream.
#[derive(Clone)]
pub struct AccountData {
    /// The account id.
    pub id: String,
    /// How it authenticates.
    pub authentication_method: AuthenticationMethod,
    /// Its context.
    pub context: Map<String, Value>,
}

impl AccountData {
    /// Borrows it as an [`AccountRef`].
    pub fn as_account_ref(&self) -> AccountRef<'_> {
        AccountRef {
            id: &self.id,
            authentication_method: self.authentication_method,
            context: &self.context,
        }
    }
}

impl std::fmt::Debug for AccountData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_account_ref().fmt(f)
    }
}
