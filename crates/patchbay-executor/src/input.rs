//! The data object placeholders are rendered against.

use serde_json::{Map, Value};

/// What a caller passes to one resource method call.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallInput {
    /// The record id (`{{id}}`), for `get`, `update`, `delete` and custom methods.
    pub id: Option<String>,
    /// The caller's query parameters (`{{query.x}}`); forwarded to the provider.
    pub query: Map<String, Value>,
    /// The caller's body (`{{body.x}}`); sent as is when the method has no `body` template.
    pub body: Option<Value>,
    /// Extra request headers (e.g. from a unified `request_header_mapping`), sent after
    /// the method's own (a name set by both takes this value); non-string values are sent
    /// as JSON text. Not placeholder data.
    pub headers: Map<String, Value>,
    /// A path replacing the method's (e.g. from a unified `path_mapping`), joined to the
    /// rendered base URL; it must start with `/` and cannot change the host.
    pub path: Option<String>,
    /// What the call is made for (e.g. `unified`), passed on to the
    /// [`CallObserver`](crate::CallObserver) in [`CallReport::request_type`](crate::CallReport::request_type);
    /// not placeholder data.
    pub request_type: Option<&'static str>,
}

impl CallInput {
    /// An input with no id, query or body.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the record id.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Adds a query parameter.
    pub fn query(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.query.insert(key.into(), value.into());
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    /// Says what the call is made for (e.g. `unified`), for call reports.
    pub fn request_type(mut self, request_type: &'static str) -> Self {
        self.request_type = Some(request_type);
        self
    }
}

/// The placeholder data of a call: the account context's keys at the top level
/// and under `context`, plus `id`, `query` and `body` (which shadow context
/// keys of the same names).
///
/// ```
/// use patchbay_executor::{CallInput, request_data};
/// use serde_json::json;
///
/// let context = json!({"subdomain": "acme"});
/// let data = request_data(context.as_object().unwrap(), &CallInput::new().id("7").query("state", "open"));
/// assert_eq!(data["subdomain"], "acme");
/// assert_eq!(data["context"]["subdomain"], "acme");
/// assert_eq!(data["id"], "7");
/// assert_eq!(data["query"]["state"], "open");
/// ```
pub fn request_data(context: &Map<String, Value>, input: &CallInput) -> Value {
    let mut data = patchbay_auth::placeholder_data(context);
    let map = data.as_object_mut().expect("placeholder data is an object");
    if let Some(id) = &input.id {
        map.insert("id".into(), Value::String(id.clone()));
    }
    map.insert("query".into(), Value::Object(input.query.clone()));
    if let Some(body) = &input.body {
        map.insert("body".into(), body.clone());
    }
    data
}
