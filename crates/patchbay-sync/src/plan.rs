//! A validated job, compiled for running: every template parsed and every expression
//! compiled once, the entries linked into a forest by `depends_on`.

use patchbay_config::IntegratedAccount;
use patchbay_template::{Expression, Template, ValueTemplate};
use serde_json::{Map, Value};

use crate::args::ArgsSpec;
use crate::job::SyncJob;

/// Where a request entry goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// A proxy resource of the account's integration.
    Proxy { resource: String },
    /// A unified resource (`model/resource`).
    Unified { model: String, resource: String },
}

impl Target {
    /// Reads `model/resource` or `resource`; `None` when it is neither.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split('/');
        let first = parts.next().filter(|p| !p.is_empty())?;
        match (parts.next(), parts.next()) {
            (None, _) => Some(Target::Proxy {
                resource: first.to_owned(),
            }),
            (Some(second), None) if !second.is_empty() => Some(Target::Unified {
                model: first.to_owned(),
                resource: second.to_owned(),
            }),
            _ => None,
        }
    }
}

/// `query`: placeholders in an object, or one JSONata expression.
#[derive(Debug, Clone)]
pub(crate) enum Query {
    Template(ValueTemplate),
    Expression(Expression),
}

/// `loop_on`: the array placeholder and the path its element is bound to.
#[derive(Debug, Clone)]
pub(crate) struct LoopOn {
    pub(crate) path: Vec<String>,
}

impl LoopOn {
    /// The value the placeholder's path holds in `scope`, as it is (a placeholder without
    /// a type would render an array as comma-joined text); `None` when it is missing.
    pub(crate) fn items(&self, scope: &Value) -> Option<Value> {
        let mut at = scope;
        for key in &self.path {
            at = match at {
                Value::Object(map) => map.get(key)?,
                Value::Array(items) => items.get(key.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(at.clone())
    }
}

/// A compiled `recurse`.
#[derive(Debug, Clone)]
pub(crate) struct Recursion {
    pub(crate) condition: Template,
    pub(crate) id: Option<Template>,
    pub(crate) query: Option<ValueTemplate>,
}

/// A compiled request entry.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) target: Target,
    pub(crate) method: String,
    pub(crate) id: Option<Template>,
    pub(crate) query: Option<Query>,
    pub(crate) body: Option<ValueTemplate>,
    pub(crate) loop_on: Option<LoopOn>,
    pub(crate) recurse: Option<Recursion>,
    pub(crate) response_format: Option<String>,
}

/// What an entry does.
#[derive(Debug, Clone)]
pub(crate) enum NodeKind {
    Request(Box<Request>),
    Transform(Expression),
}

/// One entry of the job.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    /// Its name (unique): `name`, else `resource`.
    pub(crate) name: String,
    pub(crate) kind: NodeKind,
    /// Whether its records are delivered.
    pub(crate) persist: bool,
    /// The request entries that run once per record of this one, in job order.
    pub(crate) children: Vec<usize>,
    /// The transforms that run once per page of this one, in job order.
    pub(crate) transforms: Vec<usize>,
    /// Where its current record is in a dependant's scope, under `resources`
    /// (`["ticketing", "tickets"]`, and `[name]` when the name differs).
    pub(crate) scope_keys: Vec<Vec<String>>,
}

impl Node {
    pub(crate) fn request(&self) -> Option<&Request> {
        match &self.kind {
            NodeKind::Request(request) => Some(request),
            NodeKind::Transform(_) => None,
        }
    }
}

/// A validated sync job ready to run: made by [`SyncJob::compile`] or
/// [`load_sync_job`](crate::load_sync_job).
#[derive(Debug, Clone)]
pub struct JobPlan {
    pub(crate) job: SyncJob,
    pub(crate) args: ArgsSpec,
    pub(crate) args_validation: Option<Expression>,
    pub(crate) mutex_key: Option<Template>,
    pub(crate) state_key: Option<Template>,
    pub(crate) nodes: Vec<Node>,
    /// The request entries without `depends_on`, in job order.
    pub(crate) roots: Vec<usize>,
}

impl JobPlan {
    /// The definition.
    pub fn job(&self) -> &SyncJob {
        &self.job
    }

    /// The declared run arguments.
    pub fn args(&self) -> &ArgsSpec {
        &self.args
    }

    /// The job's `mutex_key` rendered for a new run of `job_id` for `account` with
    /// `args` (the job's argument defaults filled in): what runs are serialised by
    /// before they start. The scope is the account's context keys,
    /// `integrated_account_id`, `tenant_id`, `args` and `sync_job.id` (a run's time
    /// keys do not exist yet). `None` when the job has no `mutex_key` or it renders
    /// empty: such a run is serialised with no other. (A placeholder whose value is
    /// missing stays as text, as in every template.)
    pub fn render_mutex_key(
        &self,
        account: &IntegratedAccount,
        job_id: &str,
        args: &Map<String, Value>,
    ) -> Option<String> {
        let template = self.mutex_key.as_ref()?;
        let args = self.args.check(args).unwrap_or_else(|_| args.clone());
        Some(template.render_to_string(&crate::scope::created_scope(account, job_id, &args)))
            .filter(|key| !key.is_empty())
    }

    /// The entry names in the order a run visits them first (parents before children).
    pub fn order(&self) -> Vec<&str> {
        let mut order = Vec::new();
        let mut stack: Vec<usize> = self.roots.iter().rev().copied().collect();
        while let Some(i) = stack.pop() {
            let node = &self.nodes[i];
            order.push(node.name.as_str());
            order.extend(node.transforms.iter().map(|t| self.nodes[*t].name.as_str()));
            stack.extend(node.children.iter().rev());
        }
        order
    }

    pub(crate) fn node(&self, index: usize) -> &Node {
        &self.nodes[index]
    }
}
