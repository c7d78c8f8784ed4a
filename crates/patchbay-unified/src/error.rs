//! Errors of the mapping steps, with Truto's `truto_error_insight`.

use patchbay_template::ExpressionError;
use serde_json::{Value, json};

/// Why a unified request could not be mapped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UnifiedError {
    /// Required unified query parameters or body fields are missing; found
    /// before any call is made.
    #[error("{}", missing_message(.query, .body))]
    MissingRequired {
        /// Dotted names of the missing query parameters.
        query: Vec<String>,
        /// Dotted names of the missing body fields.
        body: Vec<String>,
    },
    /// Query parameters (filters) the mapping's closed `query_schema`
    /// (`additionalProperties: false`) does not declare: the integration cannot
    /// apply them, so the request is refused rather than answered unfiltered.
    #[error("{}", unsupported_message(.parameters, .integration.as_deref()))]
    UnsupportedQuery {
        /// The parameters as the caller wrote them, e.g. `updated_at[lt]`.
        parameters: Vec<String>,
        /// The integration whose mapping refused them, when the host named it
        /// ([`CompiledMapping::with_integration`](crate::CompiledMapping::with_integration)).
        integration: Option<String>,
    },
    /// A `truto_*` or paging parameter has a value it cannot take.
    #[error("query parameter `{name}`: {reason}")]
    InvalidParameter {
        /// The parameter.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A mapping expression failed to evaluate.
    #[error("`{mapping}` of {resource}.{method} failed: {source}")]
    Expression {
        /// The config key, e.g. `response_mapping`.
        mapping: &'static str,
        /// The unified resource.
        resource: String,
        /// The unified method.
        method: String,
        /// The engine's error.
        #[source]
        source: Box<ExpressionError>,
    },
    /// A mapping expression returned a value of the wrong kind.
    #[error("`{mapping}` of {resource}.{method} must return {expected}, not {found}")]
    WrongResult {
        /// The config key.
        mapping: &'static str,
        /// The unified resource.
        resource: String,
        /// The unified method.
        method: String,
        /// What it must return, e.g. `an object`.
        expected: &'static str,
        /// What it returned.
        found: &'static str,
    },
    /// The mapping has no `side_load` entry of this key.
    #[error("{resource}.{method} has no side_load `{key}`")]
    UnknownSideLoad {
        /// The key asked for.
        key: String,
        /// The unified resource.
        resource: String,
        /// The unified method.
        method: String,
    },
    /// A picker chose an integration resource or method outside its allow-list.
    #[error("`{mapping}` chose `{chosen}`, which is not one of {}", .allowed.join(", "))]
    NotAllowed {
        /// `resource` or `method`.
        mapping: &'static str,
        /// What the expression returned.
        chosen: String,
        /// The allow-list.
        allowed: Vec<String>,
    },
}

fn unsupported_message(parameters: &[String], integration: Option<&str>) -> String {
    let by = integration.map_or_else(
        || "this integration".to_owned(),
        |name| format!("integration `{name}`"),
    );
    let names = parameters
        .iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ");
    format!("unsupported query parameters for {by}: {names} (it cannot filter on them)")
}

fn missing_message(query: &[String], body: &[String]) -> String {
    let mut parts = Vec::new();
    if !query.is_empty() {
        parts.push(format!(
            "missing required query parameters: {}",
            query.join(", ")
        ));
    }
    if !body.is_empty() {
        parts.push(format!("missing required body fields: {}", body.join(", ")));
    }
    parts.join("; ")
}

impl UnifiedError {
    /// The HTTP status a host should answer: 400 for the caller's mistakes
    /// ([`MissingRequired`](Self::MissingRequired), [`InvalidParameter`](Self::InvalidParameter),
    /// [`UnsupportedQuery`](Self::UnsupportedQuery)), 500 for mapping failures.
    pub fn status(&self) -> u16 {
        match self {
            Self::MissingRequired { .. }
            | Self::InvalidParameter { .. }
            | Self::UnsupportedQuery { .. } => 400,
            _ => 500,
        }
    }

    /// Truto's `truto_error_insight` object for this error, when it has one:
    /// `missing_required_query_parameters` / `missing_required_body_fields`, each
    /// `{description, value: [names]}`; `unsupported_query_parameters` (Patchbay's
    /// own key) for [`UnsupportedQuery`](Self::UnsupportedQuery).
    ///
    /// ```
    /// use patchbay_unified::UnifiedError;
    /// let e = UnifiedError::MissingRequired { query: vec![], body: vec!["email".into()] };
    /// assert_eq!(e.insight().unwrap()["missing_required_body_fields"]["value"][0], "email");
    /// ```
    pub fn insight(&self) -> Option<Value> {
        if let Self::UnsupportedQuery { parameters, .. } = self {
            return Some(json!({"unsupported_query_parameters": {
                "description": "The integration cannot apply these query parameters; its mapping's query_schema does not declare them.",
                "value": parameters
            }}));
        }
        let Self::MissingRequired { query, body } = self else {
            return None;
        };
        let mut insight = serde_json::Map::new();
        if !query.is_empty() {
            insight.insert(
                "missing_required_query_parameters".into(),
                json!({"description": "These query parameters are required by the mapping's query_schema.", "value": query}),
            );
        }
        if !body.is_empty() {
            insight.insert(
                "missing_required_body_fields".into(),
                json!({"description": "These body fields are required by the mapping's request_body_schema.", "value": body}),
            );
        }
        Some(Value::Object(insight))
    }
}
