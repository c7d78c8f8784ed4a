//! Environment integrations (installs). The `override` object is stored
//! encrypted as a whole: it may carry `credentials` with client secrets.

use serde_json::{Map, Value};

use super::super::backend::{Row, args};
use super::super::error::{StorageError, StorageResult};
use super::super::model::{
    EnvironmentIntegration, EnvironmentIntegrationPatch, InstallRoute, NewEnvironmentIntegration,
    Page, PageRequest,
};
use super::super::time;
use super::scoped::Scoped;
use super::{Store, conflict_as, new_id};

pub(super) const INSTALLS: Scoped = Scoped {
    table: "environment_integrations",
    kind: "environment integration",
    columns: "id, environment_id, integration_id, show_in_catalog, is_enabled, override_enc, \
              created_at, updated_at",
};
const TABLE: &str = INSTALLS.table;

pub(super) fn aad(id: &str) -> String {
    format!("environment_integration.override:{id}")
}

/// The route of the install `environment_integration_id` from a row with the
/// columns `integration_id`, `integration_version`, `install_updated_at` and
/// `is_enabled` (the route queries of installs and accounts).
pub(super) fn install_route(
    row: &Row,
    environment_integration_id: String,
) -> Result<InstallRoute, StorageError> {
    Ok(InstallRoute {
        environment_integration_id,
        integration_id: row.text("integration_id")?,
        integration_version: u64::try_from(row.int("integration_version")?)
            .map_err(|_| StorageError::corrupt(row.table, "negative integration `version`"))?,
        install_updated_at: time::column(row.table, row.int("install_updated_at")?)?,
        is_enabled: row.boolean("is_enabled")?,
        log_bodies: row.boolean("log_bodies")?,
    })
}

impl Store {
    fn install_from_row(&self, row: &Row) -> Result<EnvironmentIntegration, StorageError> {
        let id = row.text("id")?;
        let override_ = match row.opt_text("override_enc")? {
            None => None,
            Some(stored) => match self.cipher.decrypt_json(&stored, &aad(&id))? {
                Value::Object(map) => Some(map),
                _ => return Err(StorageError::corrupt(TABLE, "`override` is not an object")),
            },
        };
        Ok(EnvironmentIntegration {
            environment_id: row.text("environment_id")?,
            integration_id: row.text("integration_id")?,
            show_in_catalog: row.boolean("show_in_catalog")?,
            is_enabled: row.boolean("is_enabled")?,
            override_,
            created_at: time::column(TABLE, row.int("created_at")?)?,
            updated_at: time::column(TABLE, row.int("updated_at")?)?,
            id,
        })
    }

    fn seal_override(
        &self,
        id: &str,
        value: &Option<Map<String, Value>>,
    ) -> Result<Option<String>, StorageError> {
        value
            .as_ref()
            .map(|map| {
                self.cipher
                    .encrypt_json(&Value::Object(map.clone()), &aad(id))
            })
            .transpose()
    }

    /// Installs an integration of the same environment (once per integration).
    pub async fn install_integration(
        &self,
        environment_id: &str,
        new: NewEnvironmentIntegration,
    ) -> StorageResult<EnvironmentIntegration> {
        self.get_integration(environment_id, &new.integration_id)
            .await?;
        let now = time::now();
        let install = EnvironmentIntegration {
            id: new_id(),
            environment_id: environment_id.to_owned(),
            integration_id: new.integration_id,
            show_in_catalog: new.show_in_catalog,
            is_enabled: new.is_enabled,
            override_: new.override_,
            created_at: now,
            updated_at: now,
        };
        self.backend
            .execute(
                &format!(
                    "INSERT INTO environment_integrations ({}) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    INSTALLS.columns
                ),
                args![
                    &install.id,
                    environment_id,
                    &install.integration_id,
                    install.show_in_catalog,
                    install.is_enabled,
                    self.seal_override(&install.id, &install.override_)?,
                    time::to_micros(now),
                    time::to_micros(now)
                ],
            )
            .await
            .map_err(conflict_as(|| {
                format!(
                    "integration `{}` is already installed in this environment",
                    install.integration_id
                )
            }))?;
        Ok(install)
    }

    /// An installed integration (override decrypted).
    pub async fn get_environment_integration(
        &self,
        environment_id: &str,
        id: &str,
    ) -> StorageResult<EnvironmentIntegration> {
        self.install_from_row(&self.fetch_scoped(&INSTALLS, environment_id, id).await?)
    }

    /// The install's revisions and its integration's, in one query that
    /// decrypts nothing, as [`account_route`](Self::account_route) for an
    /// account. Not found when the install is not in the environment.
    pub async fn install_route(
        &self,
        environment_id: &str,
        id: &str,
    ) -> StorageResult<InstallRoute> {
        let rows = self
            .backend
            .fetch(
                TABLE,
                "SELECT e.integration_id, e.is_enabled, e.updated_at AS install_updated_at, \
                 i.version AS integration_version, env.log_bodies \
                 FROM environment_integrations e \
                 JOIN integrations i \
                   ON i.id = e.integration_id AND i.environment_id = e.environment_id \
                 JOIN environments env ON env.id = e.environment_id \
                 WHERE e.id = $1 AND e.environment_id = $2",
                args![id, environment_id],
            )
            .await?;
        install_route(&INSTALLS.one(rows, id)?, id.to_owned())
    }

    /// Installed integrations, oldest first.
    pub async fn list_environment_integrations(
        &self,
        environment_id: &str,
        page: &PageRequest,
    ) -> StorageResult<Page<EnvironmentIntegration>> {
        self.list_scoped(&INSTALLS, environment_id, vec![], page, |row| {
            self.install_from_row(row)
        })
        .await
    }

    /// Changes flags; `override` is replaced wholesale.
    pub async fn update_environment_integration(
        &self,
        environment_id: &str,
        id: &str,
        patch: EnvironmentIntegrationPatch,
    ) -> StorageResult<EnvironmentIntegration> {
        let mut install = self.get_environment_integration(environment_id, id).await?;
        if let Some(v) = patch.show_in_catalog {
            install.show_in_catalog = v;
        }
        if let Some(v) = patch.is_enabled {
            install.is_enabled = v;
        }
        if let Some(v) = patch.override_ {
            install.override_ = v;
        }
        install.updated_at = time::now();
        self.change_scoped(
            &INSTALLS,
            id,
            "UPDATE environment_integrations SET show_in_catalog = $1, is_enabled = $2, \
             override_enc = $3, updated_at = $4 WHERE id = $5 AND environment_id = $6",
            args![
                install.show_in_catalog,
                install.is_enabled,
                self.seal_override(id, &install.override_)?,
                time::to_micros(install.updated_at),
                id,
                environment_id
            ],
        )
        .await?;
        Ok(install)
    }

    /// Uninstalls; a conflict while accounts use it.
    pub async fn delete_environment_integration(
        &self,
        environment_id: &str,
        id: &str,
    ) -> StorageResult<()> {
        self.delete_scoped(&INSTALLS, environment_id, id)
            .await
            .map_err(conflict_as(|| {
                format!("environment integration `{id}` has integrated accounts; delete them first")
            }))
    }

    /// *System.* The environment of an environment integration (install), for
    /// routes that know only its id (`POST /environment-integration-webhook/{id}`,
    /// called by providers without an API token); `None` for an unknown id.
    pub async fn environment_integration_environment(
        &self,
        id: &str,
    ) -> StorageResult<Option<String>> {
        self.environment_of(&INSTALLS, id).await
    }
}
