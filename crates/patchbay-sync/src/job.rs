//! The serde model of a sync job (`/sync-job`, runtime versions 1-3: a list of resources).
//!
//! Every type keeps Truto's JSON unchanged (`deny_unknown_fields`, so a misspelt key is
//! reported with the closest valid name); the rules spanning several keys are checked by
//! [`SyncJob::compile`](crate::SyncJob::compile).

use patchbay_config::{Jsonata, TemplateString, TemplateValue};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A sync job: what to fetch for an integrated account, in which order, and what to
/// deliver (reference §2.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Patchbay sync job (Truto format, runtime versions 1-3)")]
pub struct SyncJob {
    /// The job's id (set by the host that stores it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The integration whose accounts the job runs for (empty: any integration).
    #[serde(default)]
    pub integration_name: String,
    /// A human label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The arguments a run accepts: `{type: "object", properties: {...}}` (Truto's API
    /// reference) or the flat map `{name: {type, format, required}}` (Truto's skills
    /// docs); both are read. See [`ArgsSpec`](crate::ArgsSpec).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args_schema: Option<Value>,
    /// JSONata over `{args}`: `null` (or nothing) lets a run start, `{message}` refuses it
    /// with that message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args_validation: Option<Jsonata>,
    /// The resources to fetch, in order; `depends_on` makes a resource run once per record
    /// of its parent.
    pub resources: Vec<SyncResource>,
    /// Placeholder text (usually `{{args.integrated_account_id}}`): runs whose rendered
    /// keys are equal must not overlap. Rendered by [`Runner`](crate::Runner) into
    /// [`RunState::mutex_key`](crate::RunState::mutex_key); enforcing it is the engine's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mutex_key: Option<TemplateString>,
    /// Placeholder text naming the run state namespace (`get_state`/`update_state`);
    /// rendered into [`RunState::state_key`](crate::RunState::state_key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_key: Option<TemplateString>,
    /// Truto's runtime version (1-4). Versions 1-3 are the resource list modelled here;
    /// version 4 (the typed DAG) is refused with a message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_runtime_version: Option<u8>,
    /// The environment the job belongs to (set by the host).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment_id: Option<String>,
    /// Creation time (set by the host).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Last update time (set by the host).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

/// What kind of entry a resource is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntryType {
    /// A request to a proxy or unified resource (the default).
    #[default]
    Request,
    /// A JSONata expression run on every page of its `depends_on` resource; its output
    /// is delivered under the entry's `name`.
    Transform,
    /// A barrier that buffers every record of its parent (refused: a buffer cannot be
    /// checkpointed page by page).
    Spool,
}

/// One entry of [`SyncJob::resources`] (reference §2.3).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncResource {
    /// The entry's name, unique in the job; defaults to `resource`. `depends_on` refers to
    /// entries by it, and records are delivered under it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `request` (default), `transform` or `spool`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub entry_type: Option<EntryType>,
    /// `model/resource` for a unified resource, a single segment for a proxy resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The method to call, e.g. `list`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The record id (placeholders allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<TemplateString>,
    /// Query parameters: an object whose string leaves may hold placeholders, or a
    /// JSONata expression (a string) evaluated over the scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<TemplateValue>,
    /// The request body (placeholders allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<TemplateValue>,
    /// A placeholder of an array (e.g. `{{args.user_ids}}`): the request runs once per
    /// element, with that placeholder's path bound to the element.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loop_on: Option<TemplateString>,
    /// The parent entry (its `name`, or its `resource`): this entry runs once per parent
    /// record, which is in scope as `resources.<model>.<resource>` (or
    /// `resources.<resource>` for a proxy parent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depends_on: Option<String>,
    /// Whether the records are delivered. Default: yes for unified resources and
    /// transforms, no for proxy resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persist: Option<bool>,
    /// Fetch the same resource again for records matching `if` (e.g. sub-folders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurse: Option<Recurse>,
    /// The transform of a `transform` entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<TransformConfig>,
    /// `hard` or `soft` delete tracking (not supported yet: refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_tracking: Option<String>,
    /// The query of the delete-tracking listing (not supported yet: refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_tracking_query: Option<TemplateValue>,
    /// `truto_response_format` of a unified resource (`raw`, `unified`, `normalized`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<String>,
}

/// `recurse`: after each record, fetch the resource again when `if` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Recurse {
    /// A placeholder rendered with the record in scope (usually `{{...:bool}}`); truthy
    /// values recurse.
    #[serde(rename = "if")]
    pub condition: TemplateString,
    /// What the recursive request changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<RecurseConfig>,
}

/// The `id` and `query` of a recursive request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecurseConfig {
    /// The record id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<TemplateString>,
    /// Query parameters, replacing the entry's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<TemplateValue>,
}

/// The `config` of a `transform` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TransformConfig {
    /// JSONata over `{records, args, ...scope}`; its output (an array, one record, or
    /// nothing) replaces the page.
    pub expression: Jsonata,
}
