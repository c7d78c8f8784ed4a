//! Which parts of its input an expression can read, found once at compile time.
//!
//! Converting a `serde_json::Value` into the engine's value model costs time in proportion
//! to its size: for a 500-record response body, far more than evaluating `status = 429` or
//! `body.ok = false ? body.error` on it. So the jsonata-core backend analyses each parsed
//! expression into a [`Demand`]: the tree of field names it can reach from its input by
//! plain name steps (`body.ok`, `body.items[status = 'open'].id`), and where it uses a value
//! as a whole (compares it, passes it to a function, returns it, walks it with `*`, `**` or
//! `%`). Evaluations then convert only the demanded parts ([`Demand::project`]); a field the
//! expression cannot reach is never converted.
//!
//! The analysis is conservative: whatever it cannot follow demands the whole value of the
//! context it is in, and `$$`, `%`, `$eval` or a focus binding (`@$x`) demand the whole
//! input. It relies on these JSONata rules:
//!
//! * a name step reads one field of each object of its context (mapping over arrays), so a
//!   field no name step names is invisible unless the object itself is used as a whole;
//! * the context of a lambda's body is the context where the lambda is *defined*, not
//!   where it is called (`($f := function(){ name }; items.$f())` reads the root's `name`);
//! * a built-in called with fewer arguments than it declares may take its first argument
//!   from the context (`name.$uppercase()`), which then counts as a whole use.
//!
//! Projection keeps arrays and scalars as they are and drops only object fields, so every
//! value the expression can observe is identical to the unprojected input's.

use std::collections::BTreeMap;

use jsonata_core::ast::{AstNode, BinaryOp, PathStep, Stage};
use jsonata_core::value::{JArray, JValue};
use serde_json::Value;

/// What an expression needs of one value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Demand {
    /// All of it.
    Whole,
    /// Only these fields (of the value, or of each object in it when it is an array), each
    /// with its own demand. Empty when the value is not read at all.
    Fields(BTreeMap<String, Demand>),
    /// Only its shape, for `$count` and `$exists`: arrays with their lengths (nested arrays
    /// included, as paths flatten them); every other value becomes `null`, which a sequence
    /// counts like any other value.
    Shape,
}

impl Default for Demand {
    fn default() -> Self {
        Demand::Fields(BTreeMap::new())
    }
}

impl Demand {
    /// The demand of an expression on its input (the root context).
    pub(crate) fn of(ast: &AstNode) -> Demand {
        let mut analysis = Analysis {
            root: Demand::default(),
            own_count: bound_names(ast)
                .iter()
                .any(|name| SHAPE_READERS.contains(&name.as_str())),
        };
        analysis.visit(ast, Some(&[]));
        analysis.root
    }

    /// Whether the whole value is demanded.
    pub(crate) fn is_whole(&self) -> bool {
        matches!(self, Demand::Whole)
    }

    /// The demand on field `name` of this value, `None` when it is not read.
    pub(crate) fn field(&self, name: &str) -> Option<&Demand> {
        match self {
            Demand::Whole => Some(&Demand::Whole),
            Demand::Fields(fields) => fields.get(name),
            // The fields of a value needed only for its shape are not read.
            Demand::Shape => None,
        }
    }

    /// Marks the value at `path` (field names from this value) as demanded: wholly, only as
    /// far as later steps read it, or only its shape. A value demanded in more than one way
    /// gets the larger demand (`Shape` < `Fields` < `Whole`).
    fn demand(&mut self, path: &[String], usage: Use) {
        let mut node = self;
        for name in path {
            if matches!(node, Demand::Shape) {
                *node = Demand::default();
            }
            match node {
                Demand::Whole => return,
                Demand::Fields(fields) => {
                    node = fields.entry(name.clone()).or_insert(Demand::Shape);
                }
                Demand::Shape => unreachable!("replaced above"),
            }
        }
        match usage {
            Use::Whole => *node = Demand::Whole,
            Use::Step if matches!(node, Demand::Shape) => *node = Demand::default(),
            Use::Step | Use::Reach | Use::Shape => {}
        }
    }

    /// `value` converted to the engine's model, keeping only what this demand covers.
    pub(crate) fn project(&self, value: &Value) -> JValue {
        match (self, value) {
            (Demand::Whole, _) => to_jvalue(value),
            (Demand::Fields(fields), Value::Object(map)) => JValue::object(
                fields
                    .iter()
                    .filter_map(|(name, demand)| {
                        map.get(name)
                            .map(|field| (name.clone(), demand.project(field)))
                    })
                    .collect(),
            ),
            (Demand::Fields(_), Value::Array(items)) => {
                let flat = !items.iter().any(Value::is_array);
                JValue::Array(JArray::new_flat(
                    items.iter().map(|item| self.project(item)).collect(),
                    flat,
                ))
            }
            (Demand::Fields(_), scalar) => to_jvalue(scalar),
            (Demand::Shape, Value::Array(items)) => {
                let flat = !items.iter().any(Value::is_array);
                JValue::Array(JArray::new_flat(
                    items.iter().map(|item| self.project(item)).collect(),
                    flat,
                ))
            }
            (Demand::Shape, _) => JValue::Null,
        }
    }
}

/// Converts JSON to the engine's value without first cloning it (the engine's own
/// `From<Value>` needs an owned value, which would mean a deep copy of every response body
/// an expression reads).
pub(crate) fn to_jvalue(value: &Value) -> JValue {
    match value {
        Value::Null => JValue::Null,
        Value::Bool(b) => JValue::Bool(*b),
        Value::Number(n) => JValue::Number(n.as_f64().unwrap_or(0.0)),
        Value::String(s) => JValue::String(s.as_str().into()),
        Value::Array(items) => {
            let flat = !items.iter().any(Value::is_array);
            JValue::Array(JArray::new_flat(
                items.iter().map(to_jvalue).collect(),
                flat,
            ))
        }
        Value::Object(map) => {
            JValue::object(map.iter().map(|(k, v)| (k.clone(), to_jvalue(v))).collect())
        }
    }
}

/// Built-ins whose signature lets the context stand in for the first argument, with the
/// number of parameters they declare: a call with fewer arguments may read the context.
const CONTEXT_READERS: &[(&str, usize)] = &[
    ("abs", 1),
    ("base64decode", 1),
    ("base64encode", 1),
    ("boolean", 1),
    ("ceil", 1),
    ("contains", 2),
    ("decodeUrl", 1),
    ("decodeUrlComponent", 1),
    ("each", 2),
    ("encodeUrl", 1),
    ("encodeUrlComponent", 1),
    ("floor", 1),
    ("formatBase", 2),
    ("formatInteger", 2),
    ("formatNumber", 3),
    ("fromMillis", 3),
    ("keys", 1),
    ("length", 1),
    ("lookup", 2),
    ("lowercase", 1),
    ("match", 3),
    ("not", 1),
    ("number", 1),
    ("pad", 3),
    ("parseInteger", 2),
    ("power", 2),
    ("replace", 4),
    ("round", 2),
    ("sift", 2),
    ("split", 3),
    ("spread", 1),
    ("sqrt", 1),
    ("string", 2),
    ("substring", 3),
    ("substringAfter", 2),
    ("substringBefore", 2),
    ("toMillis", 2),
    ("trim", 1),
    ("uppercase", 1),
];

/// Whether a call of `name` with `arguments` arguments may read its context.
fn reads_context(name: &str, arguments: usize) -> bool {
    CONTEXT_READERS
        .iter()
        .any(|(builtin, declared)| *builtin == name && arguments < *declared)
}

/// The context an expression is evaluated in: a path of field names from the input, or
/// `None` when it is a value the analysis does not follow (one already demanded whole
/// where it came from the input).
type Context<'a> = Option<&'a [String]>;

/// Built-ins that observe only the shape of their one argument: how many items it has, or
/// whether it exists. Their argument keeps its arrays and scalars but not the fields of its
/// objects: `$count(body.items)` converts one empty object per record.
const SHAPE_READERS: &[&str] = &["count", "exists"];

struct Analysis {
    root: Demand,
    /// Whether the expression binds a name of [`SHAPE_READERS`] itself, which then is not
    /// the built-in.
    own_count: bool,
}

impl Analysis {
    fn whole(&mut self, context: Context<'_>) {
        if let Some(path) = context {
            self.root.demand(path, Use::Whole);
        }
    }

    fn whole_input(&mut self) {
        self.root = Demand::Whole;
    }

    /// Visits `node`, evaluated in `context`, whose value is used as a whole.
    fn visit(&mut self, node: &AstNode, context: Context<'_>) {
        if self.root.is_whole() {
            return;
        }
        match node {
            AstNode::Path { steps } => self.visit_path(steps, context, Use::Whole),
            AstNode::Name(name) => {
                if let Some(path) = context {
                    let mut field = path.to_vec();
                    field.push(name.clone());
                    self.root.demand(&field, Use::Whole);
                }
            }
            AstNode::Variable(name) if name.is_empty() => self.whole(context),
            // `$$a` is the variable named `$a`; treat anything odd as reading the input.
            AstNode::Variable(name) if name.starts_with('$') => self.whole_input(),
            AstNode::Variable(_) => {}
            AstNode::ParentVariable(_) | AstNode::Parent(_) => self.whole_input(),
            AstNode::Wildcard | AstNode::Descendant => self.whole(context),
            AstNode::Function {
                name,
                args,
                is_builtin,
            } => {
                if name == "eval" {
                    self.whole_input();
                    return;
                }
                if *is_builtin && reads_context(name, args.len()) {
                    self.whole(context);
                }
                if let [AstNode::Path { steps }] = args.as_slice()
                    && *is_builtin
                    && !self.own_count
                    && SHAPE_READERS.contains(&name.as_str())
                {
                    self.visit_path(steps, context, Use::Shape);
                    return;
                }
                for argument in args {
                    self.visit(argument, context);
                }
            }
            AstNode::Binary { op, lhs, rhs } => {
                if matches!(op, BinaryOp::FocusBind | BinaryOp::IndexBind) {
                    self.whole_input();
                    return;
                }
                self.visit(lhs, context);
                self.visit(rhs, context);
            }
            AstNode::Sort { input, terms } => {
                self.visit(input, context);
                for (term, _) in terms {
                    self.visit(term, None);
                }
            }
            AstNode::ObjectTransform { input, pattern } => {
                self.visit(input, context);
                for (key, value) in pattern {
                    self.visit(key, None);
                    self.visit(value, None);
                }
            }
            AstNode::Transform { .. } => self.whole_input(),
            // Everything else evaluates its children in the same context.
            _ => {
                let mut children = Vec::new();
                super::ast_walk::children(node, |child| children.push(child));
                for child in children {
                    self.visit(child, context);
                }
            }
        }
    }

    /// Visits a path expression evaluated in `context`, whose result is used as `usage`
    /// says.
    fn visit_path(&mut self, steps: &[PathStep], context: Context<'_>, usage: Use) {
        let mut current: Option<Vec<String>> = context.map(<[String]>::to_vec);
        for step in steps {
            if step.focus.is_some() || step.ancestor_label.is_some() {
                self.whole_input();
                return;
            }
            match &step.node {
                AstNode::Name(name) => {
                    if let Some(path) = current.as_mut() {
                        path.push(name.clone());
                        self.root.demand(path, Use::Reach);
                    }
                }
                // `$.a` is `a`.
                AstNode::Variable(name) if name.is_empty() => {}
                AstNode::ParentVariable(_) => {
                    // `$$.a.b`: a path from the input itself.
                    self.root.demand(&[], Use::Step);
                    current = Some(Vec::new());
                }
                other => {
                    if let Some(path) = &current {
                        self.root.demand(path, Use::Step);
                    }
                    self.visit(other, current.as_deref());
                    current = None;
                }
            }
            for stage in &step.stages {
                match stage {
                    Stage::Filter(predicate) => self.visit(predicate, current.as_deref()),
                    Stage::KeepArray | Stage::Index(_) => {}
                }
            }
        }
        if let Some(path) = current {
            self.root.demand(&path, usage);
        }
    }
}

/// How a value reached by a path is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Use {
    /// As a value: all of it matters.
    Whole,
    /// As the context of a step that is not a name (`items.{…}`, `items.(…)`), which
    /// records its own demands: at least the structure of the value.
    Step,
    /// Reached by a name step; what the rest of the path does with it decides.
    Reach,
    /// Only its shape (see [`SHAPE_READERS`]).
    Shape,
}

/// The variable names an expression binds: `$x := …` targets and lambda parameters.
pub(crate) fn bound_names(ast: &AstNode) -> Vec<String> {
    let mut names = Vec::new();
    super::ast_walk::for_each_node(ast, |node| match node {
        AstNode::Binary {
            op: BinaryOp::ColonEqual,
            lhs,
            ..
        } => {
            if let AstNode::Variable(name) = lhs.as_ref() {
                names.push(name.clone());
            }
        }
        AstNode::Lambda { params, .. } => names.extend(params.iter().cloned()),
        _ => {}
    });
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn demand(source: &str) -> Demand {
        Demand::of(&jsonata_core::parser::parse(source).expect("parses"))
    }

    fn fields(pairs: &[(&str, Demand)]) -> Demand {
        Demand::Fields(
            pairs
                .iter()
                .map(|(name, demand)| ((*name).to_owned(), demand.clone()))
                .collect(),
        )
    }

    #[test]
    fn name_paths_demand_only_their_fields() {
        assert_eq!(demand("status = 429"), fields(&[("status", Demand::Whole)]));
        assert_eq!(
            demand("body.ok = false ? body.error"),
            fields(&[(
                "body",
                fields(&[("ok", Demand::Whole), ("error", Demand::Whole)])
            )])
        );
        assert_eq!(
            demand("body.items[status = 'open'].id"),
            fields(&[(
                "body",
                fields(&[(
                    "items",
                    fields(&[("status", Demand::Whole), ("id", Demand::Whole)])
                )])
            )])
        );
    }

    #[test]
    fn whole_uses_demand_the_whole_value() {
        assert_eq!(
            demand("$append(body.items, [])"),
            fields(&[("body", fields(&[("items", Demand::Whole)]))])
        );
        assert_eq!(
            demand("$count(body.items) = 0"),
            fields(&[("body", fields(&[("items", Demand::Shape)]))])
        );
        assert_eq!(
            demand("($count := function($x){ $x }; $count(body.items))"),
            fields(&[("body", fields(&[("items", Demand::Whole)]))])
        );
        assert_eq!(
            demand("body.items.$string()"),
            fields(&[("body", fields(&[("items", Demand::Whole)]))])
        );
        assert_eq!(demand("body.*"), fields(&[("body", Demand::Whole)]));
        for source in [
            "$",
            "$$",
            "$eval('a')",
            "a.%.b",
            "a@$x.b",
            "$keys()",
            "$ ~> | a | {'b': 1} |",
        ] {
            assert!(demand(source).is_whole(), "{source}");
        }
    }

    #[test]
    fn projection_keeps_arrays_and_scalars() {
        let value = json!({"status": 200, "body": {"items": [{"id": 1, "big": "x"}, [{"id": 2}], 3], "other": [1, 2]}});
        let projected = demand("body.items.id").project(&value);
        assert_eq!(
            projected,
            JValue::from(json!({"body": {"items": [{"id": 1}, [{"id": 2}], 3]}}))
        );
    }
}
