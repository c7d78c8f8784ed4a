//! What the flow connects: the install of the link token's environment (the
//! reconnected account's, the token's, or the user's choice), its effective
//! config and credential, and the installs to choose from.

use axum::http::StatusCode;
use patchbay::config::{AuthenticationMethod, Credential, IntegratedAccount};

use super::html::Page;
use super::pages::{Flow, api_page};
use crate::runtime::{EffectiveConfig, Installed};
use crate::state::AppState;
use crate::store::{EnvironmentIntegration, IntegrationRecord, LinkToken, PageRequest};

/// What the flow is connecting: an install of the link token's environment,
/// its effective config and, for a reconnect, the account.
pub(super) struct Target {
    pub(super) install: EnvironmentIntegration,
    pub(super) integration: IntegrationRecord,
    pub(super) effective: EffectiveConfig,
    pub(super) account: Option<IntegratedAccount>,
}

impl Target {
    pub(super) fn label(&self) -> String {
        self.effective
            .config
            .label
            .clone()
            .unwrap_or_else(|| self.integration.name.clone())
    }

    /// The credential named `name`, or the only one, or the reconnected
    /// account's; `Err` with the names to choose from.
    pub(super) fn credential(
        &self,
        name: Option<&str>,
    ) -> Result<(String, Credential), Vec<String>> {
        let Some(credentials) = &self.effective.config.credentials else {
            return Err(Vec::new());
        };
        let all: Vec<(&str, &Credential)> = credentials.iter().collect();
        let wanted = name.map(str::to_owned).or_else(|| {
            self.account
                .as_ref()
                .map(|a| method_name(a.authentication_method))
        });
        if let Some(wanted) = wanted {
            if let Some((n, c)) = all.iter().find(|(n, _)| *n == wanted) {
                return Ok(((*n).to_owned(), (*c).clone()));
            }
            if let Some(c) = credentials.get(&wanted) {
                return Ok((wanted, c.clone()));
            }
        }
        match all.as_slice() {
            [(n, c)] => Ok(((*n).to_owned(), (*c).clone())),
            many => Err(many.iter().map(|(n, _)| (*n).to_owned()).collect()),
        }
    }
}

fn method_name(method: AuthenticationMethod) -> String {
    serde_json::to_value(method)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The install the flow connects: the reconnected account's, the token's, or
/// `chosen`; `Ok(None)` when the user must choose.
pub(super) async fn resolve_target(
    state: &AppState,
    link: &LinkToken,
    chosen: Option<&str>,
) -> Flow<Option<Target>> {
    let env = &link.environment_id;
    let account = match &link.params.integrated_account_id {
        Some(id) => Some(
            state
                .store
                .get_account(env, id)
                .await
                .map_err(|e| api_page(e.into()))?,
        ),
        None => None,
    };
    let install_id = account
        .as_ref()
        .map(|a| a.environment_integration_id.clone())
        .or_else(|| link.params.environment_integration_id.clone());
    let install_id = match (install_id, chosen) {
        (Some(fixed), Some(chosen)) if fixed != chosen => {
            return Err(Page::error(
                StatusCode::BAD_REQUEST,
                "This connection cannot be made",
                "This link is for a different integration.",
            ));
        }
        (Some(fixed), _) => fixed,
        (None, Some(chosen)) => chosen.to_owned(),
        (None, None) => return Ok(None),
    };
    let install = state
        .store
        .get_environment_integration(env, &install_id)
        .await
        .map_err(|e| api_page(e.into()))?;
    if !install.is_enabled {
        return Err(Page::error(
            StatusCode::CONFLICT,
            "This integration is turned off",
            "This integration is not available right now. Ask the application's team to enable it.",
        ));
    }
    let Installed {
        install,
        integration,
        effective,
    } = Installed::of(state.store.as_ref(), install)
        .await
        .map_err(api_page)?;
    Ok(Some(Target {
        install,
        integration,
        effective,
        account,
    }))
}

/// The enabled installs of the link's environment, for the chooser.
pub(super) async fn installs_to_choose(
    state: &AppState,
    env: &str,
) -> Flow<Vec<(EnvironmentIntegration, IntegrationRecord)>> {
    let mut found = Vec::new();
    let mut page = PageRequest::default();
    loop {
        let batch = state
            .store
            .list_environment_integrations(env, &page)
            .await
            .map_err(|e| api_page(e.into()))?;
        for install in batch.result {
            if !(install.is_enabled && install.show_in_catalog) {
                continue;
            }
            let integration = state
                .store
                .get_integration(env, &install.integration_id)
                .await
                .map_err(|e| api_page(e.into()))?;
            found.push((install, integration));
        }
        match batch.next_cursor {
            Some(cursor) => page.cursor = Some(cursor),
            None => return Ok(found),
        }
    }
}
