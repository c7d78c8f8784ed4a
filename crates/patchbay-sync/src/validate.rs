//! Loading and validating sync jobs: every problem at once, with its JSON path, as
//! integration configs and unified mappings report theirs.

use std::collections::HashMap;
use std::sync::OnceLock;

use patchbay_config::{
    JsonPath, ValidationError, ValidationErrorKind, ValidationErrors, parse_json,
    validate_against_schema,
};
use patchbay_template::{Expression, Template, TemplateError, ValueTemplate};
use serde_json::Value;

use crate::args::ArgsSpec;
use crate::job::{EntryType, SyncJob, SyncResource};
use crate::plan::{JobPlan, LoopOn, Node, NodeKind, Query, Recursion, Request, Target};

/// The runtime versions modelled here (a list of resources).
const VERSIONS: [u8; 3] = [1, 2, 3];
/// `response_format` values of unified resources.
const RESPONSE_FORMATS: [&str; 3] = ["raw", "unified", "normalized"];
/// Root keys of the scope whose children validation checks.
const RESOURCES: &str = "resources";
const ARGS: &str = "args";

pub(crate) fn rule(path: JsonPath, message: String) -> ValidationError {
    ValidationError {
        path,
        kind: ValidationErrorKind::Rule(message),
    }
}

fn missing(path: &JsonPath, key: &str) -> ValidationError {
    ValidationError {
        path: path.key(key),
        kind: ValidationErrorKind::MissingKey {
            key: key.to_owned(),
        },
    }
}

/// The JSON Schema (draft 2020-12) of sync jobs, generated from [`SyncJob`].
pub fn sync_job_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
        generator.into_root_schema_for::<SyncJob>().to_value()
    })
}

/// Parses, validates and compiles a sync job from JSON text.
///
/// # Errors
///
/// [`ValidationErrors`] with every problem and its JSON path: syntax, unknown or missing
/// keys, wrong types, placeholders that do not parse, JSONata that does not compile, and
/// the rules of [`SyncJob::compile`].
///
/// ```
/// let error = patchbay_sync::load_sync_job(r#"{
///   "integration_name": "zendesk",
///   "resources": [
///     {"resource": "ticketing/tickets", "method": "list"},
///     {"resource": "ticketing/comments", "method": "list", "depends_on": "ticketing/ticket",
///      "query": {"ticket_id": "{{resources.ticketing.users.id}}"}}
///   ]
/// }"#).unwrap_err();
/// let messages: Vec<String> = error.errors().iter().map(|e| e.to_string()).collect();
/// assert!(messages[0].starts_with("resources[1].depends_on: `ticketing/ticket` is not an entry of this job"), "{messages:?}");
/// assert!(messages[1].starts_with("resources[1].query.ticket_id: `{{resources.ticketing.users.id}}`"), "{messages:?}");
/// ```
pub fn load_sync_job(text: &str) -> Result<JobPlan, ValidationErrors> {
    validate_sync_job(&parse_json(text)?)
}

/// Validates and compiles a sync job given as JSON. See [`load_sync_job`].
///
/// # Errors
///
/// As [`load_sync_job`], without syntax errors.
pub fn validate_sync_job(value: &Value) -> Result<JobPlan, ValidationErrors> {
    let job: SyncJob = validate_against_schema(value, sync_job_schema())?;
    job.compile()
}

impl SyncJob {
    /// Checks the rules spanning several keys and compiles the job:
    ///
    /// * `default_runtime_version` is 1, 2 or 3 (4, the typed DAG, is refused);
    /// * `args_schema` is readable ([`ArgsSpec`]);
    /// * a request entry has `resource` (`model/resource` or `resource`) and `method`;
    ///   a `transform` has `name`, `depends_on` and `config.expression` and no dependants;
    ///   `spool` and `delete_tracking` are refused (not supported);
    /// * names (`name`, else `resource`) are unique, `depends_on` names an entry, and
    ///   `depends_on` has no cycle;
    /// * `loop_on` is one placeholder; a string `query` compiles as JSONata;
    /// * placeholders read only what a run has in scope: `resources.<...>` of an ancestor
    ///   through `depends_on` (or, inside `recurse`, the entry itself), and `args.<name>`
    ///   of a declared argument (when `args_schema` declares any).
    ///
    /// # Errors
    ///
    /// [`ValidationErrors`] with every problem found.
    pub fn compile(&self) -> Result<JobPlan, ValidationErrors> {
        Compiler::default().compile(self)
    }
}

#[derive(Default)]
struct Compiler {
    problems: Vec<ValidationError>,
}

impl Compiler {
    fn compile(mut self, job: &SyncJob) -> Result<JobPlan, ValidationErrors> {
        let root = JsonPath::root();
        if let Some(version) = job.default_runtime_version
            && !VERSIONS.contains(&version)
        {
            self.problems.push(rule(
                root.key("default_runtime_version"),
                format!(
                    "runtime version {version} is not supported: Patchbay runs versions 1-3 (a list of resources); see docs/sync-jobs.md"
                ),
            ));
        }
        let args = match &job.args_schema {
            Some(schema) => ArgsSpec::read(schema, &root.key("args_schema"), &mut self.problems),
            None => ArgsSpec::default(),
        };
        let args_validation = job
            .args_validation
            .as_ref()
            .and_then(|e| self.expression(&e.expression_source(), root.key("args_validation")));
        if job.resources.is_empty() {
            self.problems.push(rule(
                root.key("resources"),
                "a sync job needs at least one resource".into(),
            ));
        }
        let mut nodes: Vec<Node> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for (i, entry) in job.resources.iter().enumerate() {
            let path = root.key("resources").index(i);
            let node = self.node(entry, &path);
            if let Some(first) = index.get(&node.name) {
                self.problems.push(rule(
                    path.clone(),
                    format!(
                        "the name `{}` is already used by resources[{first}]; give one of them a distinct `name`",
                        node.name
                    ),
                ));
            } else {
                index.insert(node.name.clone(), i);
            }
            nodes.push(node);
        }
        let parents = self.link(job, &index);
        let cyclic = self.cycles(&parents, &nodes);
        let mut roots = Vec::new();
        for (i, parent) in parents.iter().enumerate() {
            if cyclic[i] {
                continue;
            }
            match (parent, &nodes[i].kind) {
                (None, NodeKind::Request(_)) => roots.push(i),
                (None, NodeKind::Transform(_)) => {}
                (Some(p), NodeKind::Request(_)) => nodes[*p].children.push(i),
                (Some(p), NodeKind::Transform(_)) => nodes[*p].transforms.push(i),
            }
            if parent.is_some_and(|p| matches!(nodes[p].kind, NodeKind::Transform(_))) {
                self.problems.push(rule(
                    root.key("resources").index(i).key("depends_on"),
                    "an entry cannot depend on a transform (a transform's output is delivered, not fetched from)".into(),
                ));
            }
        }
        let mutex_key = self.template(
            job.mutex_key.as_ref().map(|t| t.as_str()),
            root.key("mutex_key"),
        );
        let state_key = self.template(
            job.state_key.as_ref().map(|t| t.as_str()),
            root.key("state_key"),
        );
        for (key, template) in [("mutex_key", &mutex_key), ("state_key", &state_key)] {
            if let Some(template) = template {
                self.check_paths(template.paths(), &root.key(key), &[], &args);
            }
        }
        for (i, entry) in job.resources.iter().enumerate() {
            if cyclic[i] {
                continue;
            }
            let ancestors = ancestry(&parents, &nodes, i);
            self.check_entry(
                entry,
                &root.key("resources").index(i),
                &nodes[i],
                &ancestors,
                &args,
            );
        }
        if self.problems.is_empty() {
            Ok(JobPlan {
                job: job.clone(),
                args,
                args_validation,
                mutex_key,
                state_key,
                nodes,
                roots,
            })
        } else {
            Err(ValidationErrors(self.problems))
        }
    }

    /// The entry's node, with whatever compiles (problems recorded).
    fn node(&mut self, entry: &SyncResource, path: &JsonPath) -> Node {
        let entry_type = entry.entry_type.unwrap_or_default();
        if entry.delete_tracking.is_some() || entry.delete_tracking_query.is_some() {
            let key = if entry.delete_tracking.is_some() {
                "delete_tracking"
            } else {
                "delete_tracking_query"
            };
            self.problems.push(rule(
                path.key(key),
                "delete tracking is not supported yet; remove it (see docs/sync-jobs.md)".into(),
            ));
        }
        let name = entry
            .name
            .clone()
            .or_else(|| entry.resource.clone())
            .unwrap_or_default();
        let (kind, default_persist) = match entry_type {
            EntryType::Request => {
                let request = self.request(entry, path);
                let unified = matches!(request.target, Target::Unified { .. });
                (NodeKind::Request(Box::new(request)), unified)
            }
            EntryType::Transform => (NodeKind::Transform(self.transform(entry, path)), true),
            EntryType::Spool => {
                self.problems.push(rule(
                    path.key("type"),
                    "`spool` is not supported: it buffers every record of its parent, which a run cannot checkpoint page by page; use a `transform` per page".into(),
                ));
                (NodeKind::Transform(placeholder_expression()), true)
            }
        };
        let mut scope_keys = Vec::new();
        for key in [entry.resource.as_deref(), Some(name.as_str())]
            .into_iter()
            .flatten()
        {
            let key: Vec<String> = key.split('/').map(str::to_owned).collect();
            if !key.iter().any(String::is_empty) && !scope_keys.contains(&key) {
                scope_keys.push(key);
            }
        }
        Node {
            name,
            kind,
            persist: entry.persist.unwrap_or(default_persist),
            children: Vec::new(),
            transforms: Vec::new(),
            scope_keys,
        }
    }

    fn request(&mut self, entry: &SyncResource, path: &JsonPath) -> Request {
        let target = match entry.resource.as_deref() {
            None => {
                self.problems.push(missing(path, "resource"));
                None
            }
            Some(text) => {
                let target = Target::parse(text);
                if target.is_none() {
                    self.problems.push(rule(
                        path.key("resource"),
                        format!(
                            "`{text}` is neither `model/resource` (unified) nor `resource` (proxy)"
                        ),
                    ));
                }
                target
            }
        };
        let target = target.unwrap_or(Target::Proxy {
            resource: String::new(),
        });
        if entry.method.is_none() {
            self.problems.push(missing(path, "method"));
        }
        if entry.config.is_some() {
            self.problems.push(rule(
                path.key("config"),
                "`config` belongs to `transform` entries".into(),
            ));
        }
        if let Some(format) = &entry.response_format {
            if matches!(target, Target::Proxy { .. }) {
                self.problems.push(rule(
                    path.key("response_format"),
                    "`response_format` applies to unified resources (`model/resource`) only".into(),
                ));
            } else if !RESPONSE_FORMATS.contains(&format.as_str()) {
                self.problems.push(ValidationError {
                    path: path.key("response_format"),
                    kind: ValidationErrorKind::BadEnumValue {
                        value: format!("\"{format}\""),
                        expected: RESPONSE_FORMATS.iter().map(|f| (*f).to_owned()).collect(),
                        suggestion: None,
                    },
                });
            }
        }
        let query = entry.query.as_ref().and_then(|q| match &q.0 {
            Value::String(source) => self
                .expression(source, path.key("query"))
                .map(Query::Expression),
            Value::Object(_) => self
                .value_template(&q.0, path.key("query"))
                .map(Query::Template),
            other => {
                self.problems.push(ValidationError {
                    path: path.key("query"),
                    kind: ValidationErrorKind::WrongType {
                        expected: "object or string (JSONata)".into(),
                        found: patchbay_config::json_kind(other),
                    },
                });
                None
            }
        });
        let loop_on = entry
            .loop_on
            .as_ref()
            .and_then(|l| self.loop_on(l.as_str(), path.key("loop_on")));
        let recurse = entry.recurse.as_ref().map(|r| {
            let path = path.key("recurse");
            let config = r.config.as_ref();
            Recursion {
                condition: self
                    .template(Some(r.condition.as_str()), path.key("if"))
                    .unwrap_or_else(empty_template),
                id: self.template(
                    config.and_then(|c| c.id.as_ref()).map(|t| t.as_str()),
                    path.key("config").key("id"),
                ),
                query: config
                    .and_then(|c| c.query.as_ref())
                    .and_then(|q| self.value_template(&q.0, path.key("config").key("query"))),
            }
        });
        Request {
            target,
            method: entry.method.clone().unwrap_or_default(),
            id: self.template(entry.id.as_ref().map(|t| t.as_str()), path.key("id")),
            query,
            body: entry
                .body
                .as_ref()
                .and_then(|b| self.value_template(&b.0, path.key("body"))),
            loop_on,
            recurse,
            response_format: entry.response_format.clone(),
        }
    }

    fn transform(&mut self, entry: &SyncResource, path: &JsonPath) -> Expression {
        if entry.name.is_none() {
            self.problems.push(missing(path, "name"));
        }
        if entry.depends_on.is_none() {
            self.problems.push(missing(path, "depends_on"));
        }
        for (key, set) in [
            ("resource", entry.resource.is_some()),
            ("method", entry.method.is_some()),
            ("loop_on", entry.loop_on.is_some()),
            ("recurse", entry.recurse.is_some()),
        ] {
            if set {
                self.problems.push(rule(
                    path.key(key),
                    format!("`{key}` belongs to request entries, not transforms"),
                ));
            }
        }
        match &entry.config {
            None => {
                self.problems.push(missing(path, "config"));
                placeholder_expression()
            }
            Some(config) => self
                .expression(
                    &config.expression.expression_source(),
                    path.key("config").key("expression"),
                )
                .unwrap_or_else(placeholder_expression),
        }
    }

    fn loop_on(&mut self, source: &str, path: JsonPath) -> Option<LoopOn> {
        let template = self.template(Some(source), path.clone())?;
        let paths: Vec<&str> = template.paths().collect();
        match (template.is_whole_placeholder(), paths.as_slice()) {
            (true, [single]) => Some(LoopOn {
                path: single.split('.').map(str::to_owned).collect(),
            }),
            _ => {
                self.problems.push(rule(
                    path,
                    format!("`{source}` must be exactly one placeholder of an array, e.g. `{{{{args.user_ids}}}}`"),
                ));
                None
            }
        }
    }

    /// `depends_on` resolved to entry indices (`None`: no parent, or an unknown one,
    /// reported).
    fn link(&mut self, job: &SyncJob, index: &HashMap<String, usize>) -> Vec<Option<usize>> {
        job.resources
            .iter()
            .enumerate()
            .map(|(i, entry)| {
                let parent = entry.depends_on.as_ref()?;
                let found = index.get(parent).copied();
                match found {
                    Some(p) if p == i => {
                        self.problems.push(rule(
                            JsonPath::root().key("resources").index(i).key("depends_on"),
                            format!("`{parent}` is this entry itself; use `recurse` to fetch a resource again per record"),
                        ));
                        None
                    }
                    Some(p) => Some(p),
                    None => {
                        let mut known: Vec<&str> = index.keys().map(String::as_str).collect();
                        known.sort_unstable();
                        self.problems.push(rule(
                            JsonPath::root().key("resources").index(i).key("depends_on"),
                            format!("`{parent}` is not an entry of this job (entries: {})", known.join(", ")),
                        ));
                        None
                    }
                }
            })
            .collect()
    }

    /// Marks the entries on a `depends_on` cycle, reporting each cycle once.
    fn cycles(&mut self, parents: &[Option<usize>], nodes: &[Node]) -> Vec<bool> {
        let mut cyclic = vec![false; parents.len()];
        for start in 0..parents.len() {
            let mut seen = vec![start];
            let mut at = parents[start];
            while let Some(p) = at {
                if p == start {
                    if !cyclic[start] {
                        let names: Vec<&str> = seen
                            .iter()
                            .chain([&start])
                            .map(|i| nodes[*i].name.as_str())
                            .collect();
                        self.problems.push(rule(
                            JsonPath::root()
                                .key("resources")
                                .index(start)
                                .key("depends_on"),
                            format!("`depends_on` forms a cycle: {}", names.join(" → ")),
                        ));
                    }
                    for i in &seen {
                        cyclic[*i] = true;
                    }
                    break;
                }
                if seen.contains(&p) {
                    break;
                }
                seen.push(p);
                at = parents[p];
            }
        }
        cyclic
    }

    fn check_entry(
        &mut self,
        entry: &SyncResource,
        path: &JsonPath,
        node: &Node,
        ancestors: &[&Node],
        args: &ArgsSpec,
    ) {
        if node.request().is_none() {
            return;
        }
        let templates = [
            ("id", entry.id.as_ref().map(|t| Value::String(t.0.clone()))),
            (
                "query",
                entry
                    .query
                    .as_ref()
                    .filter(|q| q.0.is_object())
                    .map(|q| q.0.clone()),
            ),
            ("body", entry.body.as_ref().map(|b| b.0.clone())),
            (
                "loop_on",
                entry.loop_on.as_ref().map(|t| Value::String(t.0.clone())),
            ),
        ];
        for (key, value) in templates {
            if let Some(value) = value {
                self.check_value(&value, &path.key(key), ancestors, args);
            }
        }
        if let Some(recurse) = &entry.recurse {
            // Inside `recurse`, the entry's own record is in scope too.
            let mut with_self = ancestors.to_vec();
            with_self.push(node);
            let path = path.key("recurse");
            self.check_value(
                &Value::String(recurse.condition.0.clone()),
                &path.key("if"),
                &with_self,
                args,
            );
            if let Some(config) = &recurse.config {
                if let Some(id) = &config.id {
                    self.check_value(
                        &Value::String(id.0.clone()),
                        &path.key("config").key("id"),
                        &with_self,
                        args,
                    );
                }
                if let Some(query) = &config.query {
                    self.check_value(&query.0, &path.key("config").key("query"), &with_self, args);
                }
            }
        }
    }

    /// Checks the placeholders of every string leaf of `value`, each at its own path.
    fn check_value(
        &mut self,
        value: &Value,
        path: &JsonPath,
        ancestors: &[&Node],
        args: &ArgsSpec,
    ) {
        match value {
            Value::String(source) => {
                if let Ok(template) = Template::parse(source) {
                    self.check_paths(template.paths(), path, ancestors, args);
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.check_value(item, &path.index(i), ancestors, args);
                }
            }
            Value::Object(map) => {
                for (key, item) in map {
                    self.check_value(item, &path.key(key), ancestors, args);
                }
            }
            _ => {}
        }
    }

    fn check_paths<'a>(
        &mut self,
        paths: impl Iterator<Item = &'a str>,
        path: &JsonPath,
        ancestors: &[&Node],
        args: &ArgsSpec,
    ) {
        for read in paths {
            let segments: Vec<&str> = read.split('.').collect();
            match segments.as_slice() {
                [RESOURCES, rest @ ..] => {
                    let reachable = ancestors.iter().any(|a| {
                        a.scope_keys.iter().any(|key| {
                            rest.len() >= key.len() && key.iter().zip(rest).all(|(k, r)| k == r)
                        })
                    });
                    if !reachable {
                        let names: Vec<&str> = ancestors.iter().map(|a| a.name.as_str()).collect();
                        let scope = if names.is_empty() {
                            "this entry has no `depends_on` parent".to_owned()
                        } else {
                            format!("in scope: {}", names.join(", "))
                        };
                        self.problems.push(rule(
                            path.clone(),
                            format!(
                                "`{{{{{read}}}}}` reads a record that is not in scope: only ancestors through `depends_on` are ({scope})"
                            ),
                        ));
                    }
                }
                [ARGS, name, ..] if !args.args.is_empty() && !args.declares(name) => {
                    self.problems.push(rule(
                        path.clone(),
                        format!("`{{{{{read}}}}}` reads the argument `{name}`, which `args_schema` does not declare"),
                    ));
                }
                _ => {}
            }
        }
    }

    fn template(&mut self, source: Option<&str>, path: JsonPath) -> Option<Template> {
        let source = source?;
        Template::parse(source)
            .map_err(|e| self.placeholder_problem(path, e))
            .ok()
    }

    fn value_template(&mut self, value: &Value, path: JsonPath) -> Option<ValueTemplate> {
        ValueTemplate::parse(value)
            .map_err(|e| self.placeholder_problem(path, e))
            .ok()
    }

    fn placeholder_problem(&mut self, path: JsonPath, error: TemplateError) {
        self.problems.push(ValidationError {
            path,
            kind: ValidationErrorKind::Placeholder(error),
        });
    }

    fn expression(&mut self, source: &str, path: JsonPath) -> Option<Expression> {
        Expression::compile(source)
            .map_err(|e| {
                self.problems.push(ValidationError {
                    path,
                    kind: ValidationErrorKind::Expression {
                        code: e.code().map(str::to_owned),
                        message: e.to_string(),
                    },
                })
            })
            .ok()
    }
}

/// The nodes above `i` through `depends_on`, nearest first.
fn ancestry<'a>(parents: &[Option<usize>], nodes: &'a [Node], i: usize) -> Vec<&'a Node> {
    let mut ancestors = Vec::new();
    let mut at = parents[i];
    while let Some(p) = at {
        ancestors.push(&nodes[p]);
        at = parents[p];
    }
    ancestors
}

/// Stands in for an entry that failed validation (never run: the job does not compile).
fn placeholder_expression() -> Expression {
    Expression::compile("$").expect("`$` compiles")
}

fn empty_template() -> Template {
    Template::parse("").expect("empty text parses")
}
