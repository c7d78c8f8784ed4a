//! Placeholders inside URLs, encoded for where they stand.

use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

use crate::placeholder::RenderedPart;
use crate::{Template, TemplateError};

/// Characters escaped in a path segment: everything but unreserved characters
/// (`A-Z a-z 0-9 - . _ ~`) and the sub-delimiters that are safe inside a segment.
/// `/`, `?`, `#` and `%` are always escaped, so a value stays one segment.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'!')
    .remove(b'$')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b',')
    .remove(b';')
    .remove(b':')
    .remove(b'@');

/// Characters escaped in a query value or fragment: everything but unreserved
/// characters, so `&`, `=`, `+` and `#` in a value cannot split or end it.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Where in a URL a placeholder stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UrlPosition {
    /// At the start, before `scheme://`: the value must be an absolute
    /// `http(s)` URL (e.g. Salesforce's `{{instance_url}}`), inserted as is.
    Start,
    /// In the host: the value must be host labels (`acme`, `eu.acme`), never
    /// anything that could end the host or add user info.
    Host,
    /// In the port: digits only.
    Port,
    /// In the path: percent-encoded as one path segment.
    Path,
    /// In the query string: percent-encoded as a component.
    Query,
    /// In the fragment: percent-encoded as a component.
    Fragment,
}

impl fmt::Display for UrlPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Start => "URL start",
            Self::Host => "host",
            Self::Port => "port",
            Self::Path => "path",
            Self::Query => "query string",
            Self::Fragment => "fragment",
        })
    }
}

/// A URL that cannot be rendered safely.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// The URL template itself does not parse.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// A placeholder found no value, so the URL would contain `{{...}}`.
    #[error("placeholder `{placeholder}` in the {position} of the URL has no value")]
    MissingValue {
        /// The placeholder.
        placeholder: String,
        /// Where it stands.
        position: UrlPosition,
    },
    /// A value would change the URL's structure (host, path segments).
    #[error("the value of `{placeholder}` cannot be used in the {position} of the URL: {reason}")]
    UnsafeValue {
        /// The placeholder.
        placeholder: String,
        /// Where it stands.
        position: UrlPosition,
        /// What is wrong with the value (the value itself is not repeated,
        /// since it may be sensitive).
        reason: &'static str,
    },
    /// The rendered text is not a valid URL.
    #[error("the rendered URL is not valid: {reason}")]
    Invalid {
        /// What the URL parser reported.
        reason: String,
    },
}

/// A URL (or path) template whose placeholders are encoded for their position.
///
/// Path values are one segment each (`a/b` → `a%2Fb`; `.` and `..` rejected),
/// query values are fully escaped, and host values must be plain host labels, so
/// `https://{{subdomain}}.example.com` can never point anywhere but a
/// subdomain of `example.com`.
///
/// ```
/// use patchbay_template::{UrlError, UrlTemplate};
/// use serde_json::json;
///
/// let t = UrlTemplate::parse("https://{{subdomain}}.example.com/users/{{id}}?q={{q}}").unwrap();
/// let url = t.render(&json!({"subdomain": "acme", "id": "a/b", "q": "x&y=1"})).unwrap();
/// assert_eq!(url, "https://acme.example.com/users/a%2Fb?q=x%26y%3D1");
///
/// let err = t.render(&json!({"subdomain": "evil.com/", "id": 1, "q": ""})).unwrap_err();
/// assert!(matches!(err, UrlError::UnsafeValue { .. }));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct UrlTemplate {
    template: Template,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    SchemeSlash(u8),
    Host,
    Port,
    Path,
    Query,
    Fragment,
}

impl State {
    fn position(self) -> UrlPosition {
        match self {
            Self::Start | Self::SchemeSlash(_) => UrlPosition::Start,
            Self::Host => UrlPosition::Host,
            Self::Port => UrlPosition::Port,
            Self::Path => UrlPosition::Path,
            Self::Query => UrlPosition::Query,
            Self::Fragment => UrlPosition::Fragment,
        }
    }

    /// Advances over literal URL text.
    fn advance(mut self, text: &str) -> Self {
        for c in text.chars() {
            self = match (self, c) {
                (Self::Start, '/') => Self::Path,
                (Self::Start, ':') => Self::SchemeSlash(0),
                (Self::Start, '?') => Self::Query,
                (Self::Start, '#') => Self::Fragment,
                (Self::Start, _) => Self::Start,
                (Self::SchemeSlash(n), '/') if n < 1 => Self::SchemeSlash(n + 1),
                (Self::SchemeSlash(_), '/') => Self::Host,
                (Self::SchemeSlash(_), _) => Self::Path,
                (Self::Host | Self::Port, '/') => Self::Path,
                (Self::Host | Self::Port | Self::Path, '?') => Self::Query,
                (Self::Host | Self::Port | Self::Path | Self::Query, '#') => Self::Fragment,
                (Self::Host, ':') => Self::Port,
                (state, _) => state,
            };
        }
        self
    }
}

impl UrlTemplate {
    /// Parses a URL template: an absolute URL (`https://{{sub}}.x.com/a`), a URL
    /// that starts with a placeholder (`{{instance_url}}/services`), or a path
    /// (`/users/{{id}}`).
    ///
    /// # Errors
    ///
    /// [`TemplateError`] when a placeholder does not parse.
    pub fn parse(source: &str) -> Result<Self, TemplateError> {
        Ok(Self {
            template: Template::parse(source)?,
        })
    }

    /// The template text.
    pub fn source(&self) -> &str {
        self.template.source()
    }

    /// The underlying placeholder template.
    pub fn template(&self) -> &Template {
        &self.template
    }

    /// Renders the URL text.
    ///
    /// # Errors
    ///
    /// [`UrlError::MissingValue`] when a placeholder has no value;
    /// [`UrlError::UnsafeValue`] when a value would change the host (`evil.com/`,
    /// `a@b`, `x#`, `..`), or is `.`, `..` or empty in the path; or an invalid
    /// URL at the start. Error messages name the placeholder and position but
    /// never repeat the value.
    pub fn render(&self, data: &Value) -> Result<String, UrlError> {
        let mut state = State::Start;
        self.template.render_with(data, |out, part| {
            match part {
                RenderedPart::Literal(text) => {
                    out.push_str(text);
                    state = state.advance(text);
                }
                RenderedPart::Value { placeholder, value } => {
                    let position = state.position();
                    let text = match value {
                        None => String::new(),
                        Some(Value::String(s)) if s == placeholder => {
                            return Err(UrlError::MissingValue { placeholder: placeholder.to_owned(), position });
                        }
                        Some(Value::String(s)) => s,
                        Some(other) => crate::placeholder::to_js_string(&other),
                    };
                    let unsafe_value =
                        |reason| UrlError::UnsafeValue { placeholder: placeholder.to_owned(), position, reason };
                    match state {
                        State::Start | State::SchemeSlash(_) => {
                            let parsed = url::Url::parse(&text)
                                .map_err(|_| unsafe_value("expected an absolute http(s) URL"))?;
                            if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
                                return Err(unsafe_value("expected an absolute http(s) URL"));
                            }
                            out.push_str(&text);
                            state = State::Start.advance(&text);
                        }
                        State::Host => {
                            check_host_labels(&text).map_err(unsafe_value)?;
                            out.push_str(&text);
                        }
                        State::Port => {
                            if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
                                return Err(unsafe_value("a port must be digits"));
                            }
                            out.push_str(&text);
                        }
                        State::Path => {
                            match text.as_str() {
                                "" => return Err(unsafe_value("an empty path value would change which resource the URL names")),
                                "." | ".." => return Err(unsafe_value("`.` and `..` would change the path")),
                                _ => {}
                            }
                            out.extend(utf8_percent_encode(&text, PATH_SEGMENT));
                        }
                        State::Query | State::Fragment => out.extend(utf8_percent_encode(&text, COMPONENT)),
                    }
                }
            }
            Ok(())
        })
    }

    /// Renders and parses an absolute URL.
    ///
    /// # Errors
    ///
    /// As [`UrlTemplate::render`], plus [`UrlError::Invalid`] when the result is
    /// not an absolute URL.
    pub fn render_url(&self, data: &Value) -> Result<url::Url, UrlError> {
        let text = self.render(data)?;
        url::Url::parse(&text).map_err(|e| UrlError::Invalid {
            reason: e.to_string(),
        })
    }
}

fn check_host_labels(text: &str) -> Result<(), &'static str> {
    if text.is_empty() {
        return Err("a host part cannot be empty");
    }
    for label in text.split('.') {
        if label.is_empty() {
            return Err("host labels cannot be empty (`..`, leading or trailing `.`)");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err("a host part may contain only letters, digits, `-` and `.`");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(t: &str, data: Value) -> Result<String, UrlError> {
        UrlTemplate::parse(t).unwrap().render(&data)
    }

    #[test]
    fn host_values_cannot_change_the_host() {
        for bad in [
            "evil.com/",
            "a@b",
            "x#",
            "..",
            "a..b",
            ".a",
            "a:80",
            "a?b",
            "a b",
            "é",
            "",
        ] {
            let err = render("https://{{s}}.example.com/api", json!({"s": bad})).unwrap_err();
            assert!(
                matches!(
                    err,
                    UrlError::UnsafeValue {
                        position: UrlPosition::Host,
                        ..
                    }
                ),
                "{bad}: {err}"
            );
            assert!(
                !err.to_string().contains(bad) || bad.is_empty() || bad == "..",
                "value leaked: {err}"
            );
        }
        assert_eq!(
            render("https://{{s}}.example.com", json!({"s": "eu-1.acme"})).unwrap(),
            "https://eu-1.acme.example.com"
        );
    }

    #[test]
    fn path_and_query_values_are_encoded_for_their_position() {
        let out = render(
            "/a/{{id}}/b?x={{q}}&y=1#{{f}}",
            json!({"id": "1 2/?#%", "q": "a b&c=d+e", "f": "x y"}),
        )
        .unwrap();
        assert_eq!(out, "/a/1%202%2F%3F%23%25/b?x=a%20b%26c%3Dd%2Be&y=1#x%20y");
        assert!(matches!(
            render("/a/{{id}}", json!({"id": ".."})),
            Err(UrlError::UnsafeValue { .. })
        ));
        assert!(matches!(
            render("/a/{{id}}", json!({"id": ""})),
            Err(UrlError::UnsafeValue { .. })
        ));
    }

    #[test]
    fn missing_values_are_errors() {
        let err = render("https://{{s}}.example.com", json!({})).unwrap_err();
        assert_eq!(
            err,
            UrlError::MissingValue {
                placeholder: "{{s}}".into(),
                position: UrlPosition::Host
            }
        );
    }

    #[test]
    fn a_leading_placeholder_is_a_whole_base_url() {
        let out = render(
            "{{instance_url}}/services/data/{{v}}",
            json!({"instance_url": "https://acme.my.salesforce.com", "v": "v59.0"}),
        )
        .unwrap();
        assert_eq!(out, "https://acme.my.salesforce.com/services/data/v59.0");
        assert!(render("{{u}}/x", json!({"u": "javascript:alert(1)"})).is_err());
        assert!(render("{{u}}/x", json!({"u": "not a url"})).is_err());
    }

    #[test]
    fn ports_must_be_digits() {
        assert_eq!(
            render("http://localhost:{{p}}/x", json!({"p": 8080})).unwrap(),
            "http://localhost:8080/x"
        );
        assert!(render("http://localhost:{{p}}/x", json!({"p": "80@evil"})).is_err());
    }
}
