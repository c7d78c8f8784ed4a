//! A resource method compiled once: every template parsed, ready to prepare requests.

use patchbay_config::{BodyFormat, HttpMethod, QueryArrayFormat, ResolvedMethod};
use patchbay_template::{Template, TextTemplate, UrlTemplate, ValueTemplate};
use serde_json::{Map, Value};

use crate::ExecutorError;
use crate::body::{EncodedBody, encode_body};
use crate::input::CallInput;
use crate::query::{DEFAULT_ARRAY_FORMAT, flatten_query};

/// A request ready to send (before authorization).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PreparedRequest {
    /// The HTTP method.
    pub(crate) method: HttpMethod,
    /// The full URL, query included.
    pub(crate) url: url::Url,
    /// Headers from the config, rendered.
    pub(crate) headers: Vec<(String, String)>,
    /// The body.
    pub(crate) body: EncodedBody,
}

#[derive(Debug, Clone)]
enum BodyTemplate {
    Values(ValueTemplate),
    Text(TextTemplate),
}

/// A resource method with its templates parsed once.
#[derive(Debug, Clone)]
pub(crate) struct CompiledMethod {
    http_method: HttpMethod,
    url: UrlTemplate,
    /// The base URL alone, for a path given with the call ([`CallInput::path`]); `None`
    /// when the method's path is absolute.
    base: Option<UrlTemplate>,
    headers: Vec<(String, Template)>,
    query: Vec<(String, ValueTemplate)>,
    /// Caller query keys that the URL consumes (`{{query.owner}}`), not forwarded.
    consumed_query: Vec<String>,
    array_format: QueryArrayFormat,
    body: Option<BodyTemplate>,
    body_format: BodyFormat,
    body_format_config: Option<Value>,
    add_query_to_body: bool,
    ignore_body: bool,
    set_body_to_null: bool,
}

impl CompiledMethod {
    /// Compiles a resolved method.
    ///
    /// # Errors
    ///
    /// [`ExecutorError::Template`] when a template does not parse (a validated
    /// config never fails here), [`ExecutorError::Config`] when neither the
    /// method nor the integration has a base URL and the path is not absolute.
    pub(crate) fn compile(resolved: &ResolvedMethod<'_>) -> Result<Self, ExecutorError> {
        let method = resolved.method;
        let path = method.path.as_str();
        let url_source = match resolved.base_url {
            _ if path.starts_with("http://") || path.starts_with("https://") => path.to_owned(),
            Some(base) => join_url(base.as_str(), path),
            None => {
                return Err(ExecutorError::Config(format!(
                    "{}.{}: no base_url for path `{path}`",
                    resolved.resource, resolved.name
                )));
            }
        };
        let url = UrlTemplate::parse(&url_source)?;
        let base = match resolved.base_url {
            Some(base) if !(path.starts_with("http://") || path.starts_with("https://")) => {
                Some(UrlTemplate::parse(base.as_str())?)
            }
            _ => None,
        };
        let consumed_query = url
            .template()
            .placeholders()
            .filter_map(query_key)
            .collect();
        let headers = resolved
            .headers
            .iter()
            .map(|(k, v)| Ok(((*k).to_owned(), Template::parse(v.as_str())?)))
            .collect::<Result<_, ExecutorError>>()?;
        let query = resolved
            .query
            .iter()
            .map(|(k, v)| Ok(((*k).to_owned(), ValueTemplate::parse(&v.0)?)))
            .collect::<Result<_, ExecutorError>>()?;
        let body_format = method.body_format.unwrap_or(BodyFormat::Json);
        let body = match &method.body {
            None => None,
            Some(b) => Some(match (&b.0, body_format) {
                (Value::String(text), BodyFormat::Raw | BodyFormat::Xml)
                    if text.contains("{{#") =>
                {
                    BodyTemplate::Text(TextTemplate::compile(text)?)
                }
                (value, _) => BodyTemplate::Values(ValueTemplate::parse(value)?),
            }),
        };
        Ok(Self {
            http_method: resolved.http_method,
            url,
            base,
            headers,
            query,
            consumed_query,
            array_format: resolved.query_array_format.unwrap_or(DEFAULT_ARRAY_FORMAT),
            body,
            body_format,
            body_format_config: method.body_format_config.clone(),
            add_query_to_body: method.add_query_to_body == Some(true),
            ignore_body: method.ignore_body == Some(true),
            set_body_to_null: method.set_body_to_null == Some(true),
        })
    }

    /// The HTTP method.
    pub(crate) fn http_method(&self) -> HttpMethod {
        self.http_method
    }

    /// The array format of query strings and form bodies.
    pub(crate) fn array_format(&self) -> QueryArrayFormat {
        self.array_format
    }

    /// Renders the request for `data` (see [`crate::request_data`]) and the caller's input.
    ///
    /// The caller's query parameters are forwarded (except those the URL
    /// consumes, like `{{query.owner}}`), and the config's query parameters
    /// are rendered over them. The body is the method's `body` template
    /// rendered, else the caller's body; `add_query_to_body` merges the
    /// caller's query into an object body.
    ///
    /// # Errors
    ///
    /// [`ExecutorError::Url`] when the URL cannot be rendered safely,
    /// [`ExecutorError::Body`] when the body cannot be encoded.
    pub(crate) fn prepare(
        &self,
        data: &Value,
        input: &CallInput,
    ) -> Result<PreparedRequest, ExecutorError> {
        let mut url = match &input.path {
            None => self.url.render_url(data)?,
            Some(path) => self.url_with_path(data, path)?,
        };

        let mut query: Map<String, Value> = Map::new();
        if !self.add_query_to_body {
            for (key, value) in &input.query {
                if !self.consumed_query.iter().any(|k| k == key) {
                    query.insert(key.clone(), value.clone());
                }
            }
        }
        for (key, template) in &self.query {
            match template.render(data) {
                Some(value) => {
                    query.insert(key.clone(), value);
                }
                None => {
                    query.remove(key);
                }
            }
        }
        if !query.is_empty() {
            let pairs = flatten_query(
                query.iter().map(|(k, v)| (k.as_str(), v)),
                self.array_format,
            );
            url.query_pairs_mut().extend_pairs(pairs);
        }

        let text = |value: Value| match value {
            Value::String(s) => s,
            other => other.to_string(),
        };
        let mut headers: Vec<(String, String)> = self
            .headers
            .iter()
            .filter_map(|(name, template)| template.render(data).map(|v| (name.clone(), text(v))))
            .collect();
        for (name, value) in &input.headers {
            headers.retain(|(existing, _)| !existing.eq_ignore_ascii_case(name));
            headers.push((name.clone(), text(value.clone())));
        }

        let body = self.prepare_body(data, input)?;
        Ok(PreparedRequest {
            method: self.http_method,
            url,
            headers,
            body,
        })
    }

    /// The rendered base URL with `path` instead of the method's path.
    fn url_with_path(&self, data: &Value, path: &str) -> Result<url::Url, ExecutorError> {
        let refuse = |why: &str| {
            ExecutorError::Config(format!("the call's path `{path}` cannot be used: {why}"))
        };
        if !path.starts_with('/') || path.starts_with("//") || path.contains(['?', '#']) {
            return Err(refuse(
                "it must be a path starting with a single `/`, without query or fragment",
            ));
        }
        let Some(base) = &self.base else {
            return Err(refuse("the method's own path is an absolute URL"));
        };
        let base = base.render_url(data)?;
        let joined = join_url(base.as_str(), path);
        let url = url::Url::parse(&joined).map_err(|e| refuse(&e.to_string()))?;
        if url.host_str() != base.host_str() || url.port() != base.port() {
            return Err(refuse("it would change the host"));
        }
        Ok(url)
    }

    fn prepare_body(&self, data: &Value, input: &CallInput) -> Result<EncodedBody, ExecutorError> {
        if self.ignore_body {
            return Ok(EncodedBody::Empty);
        }
        if self.set_body_to_null {
            return Ok(EncodedBody::Json(b"null".to_vec()));
        }
        let mut value = match &self.body {
            Some(BodyTemplate::Text(t)) => {
                let text = t
                    .render(data)
                    .map_err(|e| ExecutorError::Body(e.to_string()))?;
                return encode_body(
                    &Value::String(text),
                    self.body_format,
                    None,
                    self.array_format,
                );
            }
            Some(BodyTemplate::Values(t)) => t.render(data),
            None => input.body.clone(),
        };
        if self.add_query_to_body && !input.query.is_empty() {
            let object = value.get_or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(map) = object {
                for (k, v) in &input.query {
                    map.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
        }
        match value {
            None => Ok(EncodedBody::Empty),
            Some(value) => encode_body(
                &value,
                self.body_format,
                self.body_format_config.as_ref(),
                self.array_format,
            ),
        }
    }
}

/// `base` + `path` with exactly one `/` between them.
fn join_url(base: &str, path: &str) -> String {
    match (base.ends_with('/'), path.starts_with('/')) {
        _ if path.is_empty() => base.to_owned(),
        (true, true) => format!("{base}{}", &path[1..]),
        (false, false) => format!("{base}/{path}"),
        _ => format!("{base}{path}"),
    }
}

/// `owner` for a placeholder reading `query.owner` in its first alternative.
fn query_key(placeholder: &str) -> Option<String> {
    let inner = placeholder.trim_start_matches("{{").trim_end_matches("}}");
    let first = inner.split(['|', ':', '?']).next()?.trim();
    first
        .strip_prefix("query.")
        .map(|rest| rest.split('.').next().unwrap_or(rest).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use patchbay_config::load_integration_config;
    use serde_json::json;

    fn compile(config: &str, resource: &str, method: &str) -> CompiledMethod {
        let config = load_integration_config(config).unwrap();
        CompiledMethod::compile(&config.method(resource, method).unwrap()).unwrap()
    }

    #[test]
    fn renders_url_query_headers_and_body() {
        let m = compile(
            r#"{"base_url": "https://{{subdomain}}.example.com/api/", "headers": {"X-Key": "{{api_key}}", "X-Opt": "{{nope:undefined}}"},
                "query": {"per_page": "{{query.limit:int?:50:int}}"}, "query_array_format": "brackets",
                "resources": {"issues": {"create": {"method": "post", "path": "/repos/{{query.owner}}/issues", "body": {"title": "{{body.title}}", "n": "{{body.n:int}}"}}}}}"#,
            "issues",
            "create",
        );
        let context = json!({"subdomain": "acme", "api_key": "k1"});
        let input = CallInput::new()
            .query("owner", "o/x")
            .query("labels", json!(["a", "b"]))
            .body(json!({"title": "Hi", "n": "3"}));
        let data = crate::request_data(context.as_object().unwrap(), &input);
        let req = m.prepare(&data, &input).unwrap();
        assert_eq!(req.method, HttpMethod::Post);
        assert_eq!(
            req.url.as_str(),
            "https://acme.example.com/api/repos/o%2Fx/issues?labels%5B%5D=a&labels%5B%5D=b&per_page=50"
        );
        assert_eq!(req.headers, vec![("X-Key".to_owned(), "k1".to_owned())]);
        assert_eq!(
            req.body,
            EncodedBody::Json(br#"{"title":"Hi","n":3}"#.to_vec())
        );
    }

    #[test]
    fn caller_body_passes_through_and_query_can_move_to_the_body() {
        let m = compile(
            r#"{"base_url": "https://x.test", "resources": {"s": {"search": {"method": "post", "path": "/search", "add_query_to_body": true}}}}"#,
            "s",
            "search",
        );
        let input = CallInput::new()
            .query("q", "term")
            .body(json!({"page_size": 10}));
        let data = crate::request_data(&Map::new(), &input);
        let req = m.prepare(&data, &input).unwrap();
        assert_eq!(req.url.as_str(), "https://x.test/search");
        assert_eq!(
            req.body,
            EncodedBody::Json(br#"{"page_size":10,"q":"term"}"#.to_vec())
        );
    }

    #[test]
    fn raw_bodies_with_blocks_use_handlebars() {
        let m = compile(
            r#"{"base_url": "https://x.test", "resources": {"s": {"create": {"method": "post", "path": "/s", "body_format": "xml", "body": "<ids>{{#each body.ids}}<id>{{this}}</id>{{/each}}</ids>"}}}}"#,
            "s",
            "create",
        );
        let input = CallInput::new().body(json!({"ids": [1, 2]}));
        let data = crate::request_data(&Map::new(), &input);
        let EncodedBody::Text { text, content_type } = m.prepare(&data, &input).unwrap().body
        else {
            panic!()
        };
        assert_eq!(text, "<ids><id>1</id><id>2</id></ids>");
        assert!(content_type.starts_with("application/xml"));
    }

    #[test]
    fn join_url_puts_one_slash() {
        assert_eq!(join_url("https://a/", "/b"), "https://a/b");
        assert_eq!(join_url("https://a", "b"), "https://a/b");
        assert_eq!(join_url("https://a", "/b"), "https://a/b");
        assert_eq!(join_url("https://a", ""), "https://a");
        assert_eq!(query_key("{{ query.owner | x }}").as_deref(), Some("owner"));
        assert_eq!(query_key("{{id}}"), None);
    }
}
