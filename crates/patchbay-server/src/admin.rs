//! Administration without the HTTP API: environments and API tokens, for bootstrap and
//! recovery (a lost first token, a leaked one), and the encryption key's rotation. These
//! back the `patchbay-server environment`, `token` and `key` commands, which act on the
//! store directly, so they work while no token is known.
//!
//! A revoked token is refused on its next request by every server process sharing the
//! store: each request checks its token against the store.

use zeroize::Zeroizing;

use crate::store::{
    ApiToken, Cipher, CreatedApiToken, Environment, Reencrypted, StorageError, Store,
};

/// Why an administration command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    /// No environment has that name.
    #[error("no environment is named `{name}` (environments: {})", known.join(", "))]
    UnknownEnvironment {
        /// The name asked for.
        name: String,
        /// The names there are.
        known: Vec<String>,
    },
    /// The store failed or refused (a duplicate name, an unknown token id, ...).
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Creates an environment named `name` (names are unique).
///
/// # Errors
///
/// [`AdminError::Storage`] when the name is taken or invalid, or the store fails.
pub async fn create_environment(store: &Store, name: &str) -> Result<Environment, AdminError> {
    Ok(store.create_environment(name).await?)
}

/// All environments, oldest first.
///
/// # Errors
///
/// [`AdminError::Storage`] when the store fails.
pub async fn environments(store: &Store) -> Result<Vec<Environment>, AdminError> {
    Ok(store.list_environments().await?)
}

/// The environment named `name`.
///
/// # Errors
///
/// [`AdminError::UnknownEnvironment`] naming the environments there are.
pub async fn environment_named(store: &Store, name: &str) -> Result<Environment, AdminError> {
    let all = store.list_environments().await?;
    let known = all.iter().map(|e| e.name.clone()).collect();
    all.into_iter()
        .find(|e| e.name == name)
        .ok_or_else(|| AdminError::UnknownEnvironment {
            name: name.to_owned(),
            known,
        })
}

/// Creates an API token labelled `label` in the environment named `environment`; its value
/// is in the answer and nowhere else (the store keeps a SHA-256 hash).
///
/// # Errors
///
/// [`AdminError::UnknownEnvironment`], or [`AdminError::Storage`].
pub async fn create_token(
    store: &Store,
    environment: &str,
    label: &str,
) -> Result<CreatedApiToken, AdminError> {
    let environment = environment_named(store, environment).await?;
    Ok(store.create_api_token(&environment.id, label).await?)
}

/// The API tokens of the environment named `environment` (never their values).
///
/// # Errors
///
/// [`AdminError::UnknownEnvironment`], or [`AdminError::Storage`].
pub async fn tokens(store: &Store, environment: &str) -> Result<Vec<ApiToken>, AdminError> {
    let environment = environment_named(store, environment).await?;
    Ok(store.list_api_tokens(&environment.id).await?)
}

/// Revokes the API token `id` of the environment named `environment`.
///
/// # Errors
///
/// [`AdminError::UnknownEnvironment`]; [`AdminError::Storage`] with
/// [`StorageError::NotFound`] when the environment has no such token.
pub async fn revoke_token(store: &Store, environment: &str, id: &str) -> Result<(), AdminError> {
    let environment = environment_named(store, environment).await?;
    Ok(store.delete_api_token(&environment.id, id).await?)
}

/// A new random encryption key, base64 of 32 bytes.
pub fn generate_key() -> Zeroizing<String> {
    Cipher::generate_key_base64()
}

/// Re-encrypts every stored secret under the store's active key (see
/// [`Store::reencrypt_all`]); servers keep running meanwhile.
///
/// # Errors
///
/// [`AdminError::Storage`] naming the row whose value no configured key can read.
pub async fn rotate_key(store: &Store) -> Result<Reencrypted, AdminError> {
    Ok(store.reencrypt_all().await?)
}

/// How many stored secrets are under a key other than the active one.
///
/// # Errors
///
/// [`AdminError::Storage`] when the store fails.
pub async fn secrets_under_previous_keys(store: &Store) -> Result<u64, AdminError> {
    Ok(store.secrets_under_previous_keys().await?)
}
