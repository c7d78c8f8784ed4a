//! The unified mappings registered for installs, compiled once at registration.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use patchbay_mcp::{Tool, UnifiedMethod, unified_tool};
use patchbay_unified::{CompiledMapping, MappingConfig, MappingLayers, MappingRow, UnifiedModel};
use serde_json::Value;

use crate::Error;

/// One unified method of one install: the configs it was compiled from (kept to compile
/// again with an account's override) and the compiled mapping.
#[derive(Debug)]
pub(crate) struct InstalledMapping {
    base: Option<MappingConfig>,
    environment: Option<MappingConfig>,
    compiled: CompiledMapping,
}

impl InstalledMapping {
    /// The compiled mapping, with `account` (the account's override of this method)
    /// layered on top when there is one: then it is compiled now, for this call.
    ///
    /// # Errors
    /// [`Error::InvalidUnifiedMapping`] when the account's layer does not compile.
    pub(crate) fn with_account(
        &self,
        model: &str,
        account: Option<&MappingConfig>,
    ) -> Result<CompiledMapping, Error> {
        let Some(account) = account else {
            return Ok(self.compiled.clone());
        };
        let resource = self.compiled.resource_name();
        let method = self.compiled.method_name();
        MappingLayers {
            base: self.base.as_ref(),
            environment: self.environment.as_ref(),
            account: Some(account),
        }
        .compile(resource, method)
        .map(|compiled| match self.compiled.integration_name() {
            Some(integration) => compiled.with_integration(integration),
            None => compiled,
        })
        .map_err(|errors| invalid(model, resource, method, errors))
    }
}

fn invalid(
    model: &str,
    resource: &str,
    method: &str,
    errors: patchbay_unified::ValidationErrors,
) -> Error {
    Error::InvalidUnifiedMapping {
        model: model.to_owned(),
        resource: resource.to_owned(),
        method: method.to_owned(),
        source: errors,
    }
}

/// One unified model for one install: its methods by `(resource, method)`, and their
/// MCP tools in the model's order (resources as the model lists them; `list`, `get`,
/// `create`, `update`, `delete`, then custom methods by name).
#[derive(Debug, Default)]
struct InstalledModel {
    methods: HashMap<(String, String), Arc<InstalledMapping>>,
    tools: Vec<Tool>,
}

/// An install's unified models by name.
type InstallModels = HashMap<String, Arc<InstalledModel>>;

/// Every install's unified models: install id → model name → methods.
#[derive(Debug, Default, Clone)]
pub(crate) struct UnifiedRegistry {
    installs: Arc<RwLock<HashMap<String, InstallModels>>>,
}

impl UnifiedRegistry {
    /// Compiles the mappings of `model` for `integration_name` and registers them for
    /// `install`, replacing what that install had for the model.
    ///
    /// Rows of other integrations are skipped, so a host may pass every row of the model.
    /// Each `(resource, method)` named by a base row, an environment row or the model's
    /// inline `integration_mapping` is compiled from the base row (else the inline
    /// mapping) and the environment row.
    ///
    /// # Errors
    /// [`Error::InvalidUnifiedMapping`] for the first method that does not compile; then
    /// nothing is registered.
    pub(crate) fn register(
        &self,
        install: &str,
        model: &UnifiedModel,
        integration_name: &str,
        base: &[MappingRow],
        environment: &[MappingRow],
    ) -> Result<(), Error> {
        let ours = |rows: &'_ [MappingRow]| -> HashMap<(String, String), MappingConfig> {
            rows.iter()
                .filter(|row| row.integration_name == integration_name)
                .map(|row| {
                    (
                        (row.resource_name.clone(), row.method_name.clone()),
                        row.config.clone(),
                    )
                })
                .collect()
        };
        let mut base = ours(base);
        let mut environment = ours(environment);
        for (resource, definition) in &model.resources {
            let inline = definition
                .integration_mapping
                .as_ref()
                .and_then(|by_integration| by_integration.get(integration_name));
            for (method, config) in inline.into_iter().flatten() {
                base.entry((resource.clone(), method.clone()))
                    .or_insert_with(|| config.clone());
            }
        }
        let mut keys: Vec<(String, String)> =
            base.keys().chain(environment.keys()).cloned().collect();
        keys.sort();
        keys.dedup();
        let mut methods = HashMap::new();
        for key in keys {
            let (base, environment) = (base.remove(&key), environment.remove(&key));
            let compiled = MappingLayers {
                base: base.as_ref(),
                environment: environment.as_ref(),
                account: None,
            }
            .compile(&key.0, &key.1)
            .map_err(|errors| invalid(&model.name, &key.0, &key.1, errors))?
            .with_integration(integration_name);
            let installed = InstalledMapping {
                base,
                environment,
                compiled,
            };
            methods.insert(key, Arc::new(installed));
        }
        let tools = model_tools(model, &methods);
        self.installs
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .entry(install.to_owned())
            .or_default()
            .insert(
                model.name.clone(),
                Arc::new(InstalledModel { methods, tools }),
            );
        Ok(())
    }

    /// The MCP tools of every unified model registered for `install`, models by name.
    pub(crate) fn tools(&self, install: &str) -> Vec<Tool> {
        let installs = self.installs.read().unwrap_or_else(|e| e.into_inner());
        let Some(models) = installs.get(install) else {
            return Vec::new();
        };
        let mut names: Vec<&String> = models.keys().collect();
        names.sort();
        names
            .into_iter()
            .flat_map(|name| models[name].tools.iter().cloned())
            .collect()
    }

    /// The registered mapping of `model`'s `resource.method` for `install`.
    ///
    /// # Errors
    /// [`Error::UnknownUnifiedMethod`] when none is registered.
    pub(crate) fn get(
        &self,
        install: &str,
        model: &str,
        resource: &str,
        method: &str,
    ) -> Result<Arc<InstalledMapping>, Error> {
        self.installs
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(install)
            .and_then(|models| models.get(model))
            .and_then(|installed| {
                installed
                    .methods
                    .get(&(resource.to_owned(), method.to_owned()))
            })
            .cloned()
            .ok_or_else(|| Error::UnknownUnifiedMethod {
                install: install.to_owned(),
                model: model.to_owned(),
                resource: resource.to_owned(),
                method: method.to_owned(),
            })
    }
}

/// The tools of a model's registered methods, in the model's order.
fn model_tools(
    model: &UnifiedModel,
    methods: &HashMap<(String, String), Arc<InstalledMapping>>,
) -> Vec<Tool> {
    let position = |resource: &str| model.resources.get_index_of(resource).unwrap_or(usize::MAX);
    let rank = |method: &str| {
        ["list", "get", "create", "update", "delete"]
            .iter()
            .position(|m| *m == method)
            .unwrap_or(usize::MAX)
    };
    let mut keys: Vec<&(String, String)> = methods.keys().collect();
    keys.sort_by(|(r1, m1), (r2, m2)| {
        (position(r1), r1, rank(m1), m1).cmp(&(position(r2), r2, rank(m2), m2))
    });
    keys.into_iter()
        .map(|key| {
            let (resource, method) = key;
            let definition = model.resources.get(resource);
            let config = methods[key].compiled.config();
            let json = |schema: Option<&patchbay_unified::TrutoSchema>| {
                schema.map(patchbay_unified::TrutoSchema::to_json_schema)
            };
            let query: Option<Value> = json(config.query_schema.as_ref());
            let body: Option<Value> = json(config.request_body_schema.as_ref());
            let record: Option<Value> = json(definition.and_then(|d| d.schema.as_ref()));
            unified_tool(
                &UnifiedMethod::new(&model.name, resource, method)
                    .description(definition.and_then(|d| d.description.as_deref()))
                    .documentation_url(methods[key].compiled.documentation_link())
                    .schemas(query.as_ref(), body.as_ref())
                    .record_schema(record.as_ref()),
            )
        })
        .collect()
}
