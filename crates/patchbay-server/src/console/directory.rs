//! The environment's integrations and installs, read once per page to name
//! them (an account shows its install as the integration's label).

use std::collections::HashMap;

use crate::store::{
    EnvironmentIntegration, IntegrationRecord, MAX_PAGE_SIZE, PageRequest, StorageError, Store,
};

/// Every integration and install of an environment (the first
/// [`MAX_PAGE_SIZE`] of each).
pub(super) struct Directory {
    /// The integrations, oldest first.
    pub(super) integrations: Vec<IntegrationRecord>,
    /// The installs, oldest first.
    pub(super) installs: Vec<EnvironmentIntegration>,
    by_id: HashMap<String, usize>,
}

impl Directory {
    /// Reads them from `store`.
    ///
    /// # Errors
    ///
    /// The store's.
    pub(super) async fn load(store: &Store, env: &str) -> Result<Self, StorageError> {
        let all = PageRequest {
            limit: Some(MAX_PAGE_SIZE),
            cursor: None,
        };
        let integrations = store.list_integrations(env, &all).await?.result;
        let installs = store.list_environment_integrations(env, &all).await?.result;
        let by_id = integrations
            .iter()
            .enumerate()
            .map(|(i, integration)| (integration.id.clone(), i))
            .collect();
        Ok(Self {
            integrations,
            installs,
            by_id,
        })
    }

    /// The integration `id`.
    pub(super) fn integration(&self, id: &str) -> Option<&IntegrationRecord> {
        self.by_id.get(id).map(|&i| &self.integrations[i])
    }

    /// The integration named `name` (its slug).
    pub(super) fn integration_named(&self, name: &str) -> Option<&IntegrationRecord> {
        self.integrations.iter().find(|i| i.name == name)
    }

    /// The install of the integration `integration_id`, if it is installed.
    pub(super) fn install_of(&self, integration_id: &str) -> Option<&EnvironmentIntegration> {
        self.installs
            .iter()
            .find(|i| i.integration_id == integration_id)
    }

    /// What to call the install `install_id`: its integration's label (else
    /// name), or the id itself when it is unknown.
    pub(super) fn install_label(&self, install_id: &str) -> String {
        self.installs
            .iter()
            .find(|i| i.id == install_id)
            .and_then(|install| self.integration(&install.integration_id))
            .map_or_else(|| install_id.to_owned(), label)
    }
}

/// An integration's label (`config.label`), else its name.
pub(super) fn label(integration: &IntegrationRecord) -> String {
    integration.config["label"]
        .as_str()
        .filter(|l| !l.trim().is_empty())
        .unwrap_or(&integration.name)
        .to_owned()
}
