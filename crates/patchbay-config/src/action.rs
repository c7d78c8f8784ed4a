//! `actions`: steps run after an account connects (`post_install`,
//! `validation`) or on demand.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::languages::{Jsonata, TemplateValue};
use crate::resource::ResourceMethod;
use crate::tagged::tagged_union;

/// Reserved action names.
pub mod names {
    /// Runs right after an account connects.
    pub const POST_INSTALL: &str = "post_install";
    /// Runs after `post_install`; failure marks the account `validation_error`.
    pub const VALIDATION: &str = "validation";
}

/// An action: one step written directly (`{type, config}`, as in Truto's
/// published example) or a list of steps (`{steps: [...]}`).
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A single step.
    Step(ActionStep),
    /// Steps run in order; each sees the previous step's result.
    Steps(ActionSteps),
}

impl Action {
    /// The steps to run, in order.
    pub fn steps(&self) -> &[ActionStep] {
        match self {
            Self::Step(step) => std::slice::from_ref(step),
            Self::Steps(s) => &s.steps,
        }
    }
}

/// `{steps: [...]}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionSteps {
    /// The steps.
    pub steps: Vec<ActionStep>,
}

impl Serialize for Action {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Step(s) => s.serialize(serializer),
            Self::Steps(s) => s.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Action {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let value = Value::deserialize(deserializer)?;
        if value.as_object().is_some_and(|o| o.contains_key("steps")) {
            serde_json::from_value(value)
                .map(Self::Steps)
                .map_err(D::Error::custom)
        } else {
            serde_json::from_value(value)
                .map(Self::Step)
                .map_err(D::Error::custom)
        }
    }
}

impl JsonSchema for Action {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Action".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let step = generator.subschema_for::<ActionStep>();
        let steps = generator.subschema_for::<ActionSteps>();
        schemars::json_schema!({
            "description": "One step ({type, config}) or {steps: [...]}.",
            "anyOf": [step, steps]
        })
    }
}

/// One step of an action.
#[derive(Debug, Clone, PartialEq)]
pub enum ActionStep {
    /// Make a request (a resource method); its response body is the result.
    Request(Box<ResourceMethod>),
    /// Evaluate JSONata over the previous result (and `$context`).
    Transform(Jsonata),
    /// Read the account context as the result.
    GetContext(Option<Value>),
    /// Merge an object (placeholders allowed) into the account context.
    SetContext(TemplateValue),
    /// Merge the previous result (an object) into the account context.
    UpdateContext(Option<Value>),
    /// Ask the user for more fields (Truto's post-connect form).
    Form(Value),
}

tagged_union!(ActionStep {
    tag: "type",
    content: "config",
    Request = "request" => required(Box<ResourceMethod>),
    Transform = "transform" => required(Jsonata),
    GetContext = "get_context" => optional(Value),
    SetContext = "set_context" => required(TemplateValue),
    UpdateContext = "update_context" => optional(Value),
    Form = "form" => required(Value),
});

/// Actions by name.
pub type Actions = IndexMap<String, Action>;
