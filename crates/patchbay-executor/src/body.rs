//! Encoding request bodies in a method's `body_format`.

use patchbay_config::json_kind;
use patchbay_config::{BodyFormat, QueryArrayFormat};
use serde_json::Value;

use crate::ExecutorError;
use crate::query::flatten_query;

/// A request body ready to send.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum EncodedBody {
    /// No body.
    Empty,
    /// `application/json`.
    Json(Vec<u8>),
    /// `application/x-www-form-urlencoded` pairs.
    Form(Vec<(String, String)>),
    /// `multipart/form-data` text fields.
    Multipart(Vec<(String, String)>),
    /// A text body with its content type.
    Text {
        /// The body.
        text: String,
        /// Its `Content-Type`.
        content_type: &'static str,
    },
}

/// Encodes `value` as `format`.
///
/// `json` serializes the value; `form` and `multipart` flatten an object like a
/// query string (nested keys in brackets, arrays per `array_format`); `raw`
/// sends a string as is (other values as JSON text); `xml` sends a string as is,
/// or writes an object as XML elements (one top-level key is the root, or
/// `body_format_config.root` names it).
///
/// # Errors
///
/// [`ExecutorError::Body`] when a form or multipart body is not an object.
pub(crate) fn encode_body(
    value: &Value,
    format: BodyFormat,
    format_config: Option<&Value>,
    array_format: QueryArrayFormat,
) -> Result<EncodedBody, ExecutorError> {
    Ok(match format {
        BodyFormat::Json => {
            EncodedBody::Json(serde_json::to_vec(value).expect("a JSON value serializes"))
        }
        BodyFormat::Form | BodyFormat::Multipart => {
            let Value::Object(map) = value else {
                return Err(ExecutorError::Body(format!(
                    "a {} body must be an object, found {}",
                    if format == BodyFormat::Form {
                        "form"
                    } else {
                        "multipart"
                    },
                    json_kind(value)
                )));
            };
            let pairs = flatten_query(map.iter().map(|(k, v)| (k.as_str(), v)), array_format);
            if format == BodyFormat::Form {
                EncodedBody::Form(pairs)
            } else {
                EncodedBody::Multipart(pairs)
            }
        }
        BodyFormat::Raw => EncodedBody::Text {
            text: match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            },
            content_type: "text/plain; charset=utf-8",
        },
        BodyFormat::Xml => {
            let text = match value {
                Value::String(s) => s.clone(),
                other => {
                    let root = format_config
                        .and_then(|c| c.get("root"))
                        .and_then(Value::as_str);
                    to_xml(other, root)
                }
            };
            EncodedBody::Text {
                text,
                content_type: "application/xml; charset=utf-8",
            }
        }
    })
}

/// Writes a JSON value as XML elements.
fn to_xml(value: &Value, root: Option<&str>) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    match (root, value) {
        (Some(root), _) => element(&mut out, root, value),
        (None, Value::Object(map)) if map.len() == 1 => {
            let (name, inner) = map.iter().next().expect("one entry");
            element(&mut out, name, inner);
        }
        (None, _) => element(&mut out, "root", value),
    }
    out
}

fn element(out: &mut String, name: &str, value: &Value) {
    match value {
        Value::Array(items) => items.iter().for_each(|item| element(out, name, item)),
        Value::Object(map) => {
            out.push_str(&format!("<{name}>"));
            for (key, item) in map {
                element(out, key, item);
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::Null => out.push_str(&format!("<{name}/>")),
        scalar => {
            let text = match scalar {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            out.push_str(&format!("<{name}>{}</{name}>", escape_xml(&text)));
        }
    }
}

fn escape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

impl EncodedBody {
    /// The body as a JSON value, for call reports: JSON as parsed (text when it does not
    /// parse), form and multipart fields as an object, text as a string; `None` when empty.
    pub(crate) fn as_value(&self) -> Option<serde_json::Value> {
        use serde_json::Value;
        match self {
            EncodedBody::Empty => None,
            EncodedBody::Json(bytes) => Some(
                serde_json::from_slice(bytes)
                    .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned())),
            ),
            EncodedBody::Form(fields) | EncodedBody::Multipart(fields) => Some(Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect(),
            )),
            EncodedBody::Text { text, .. } => Some(Value::String(text.clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn xml_bodies_escape_text_and_repeat_arrays() {
        let body = encode_body(
            &json!({"order": {"id": 1, "note": "a<b & c", "item": ["x", "y"]}}),
            BodyFormat::Xml,
            None,
            QueryArrayFormat::Indices,
        )
        .unwrap();
        let EncodedBody::Text { text, .. } = body else {
            panic!()
        };
        assert_eq!(
            text,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><order><id>1</id><note>a&lt;b &amp; c</note><item>x</item><item>y</item></order>"
        );
    }

    #[test]
    fn form_bodies_must_be_objects() {
        let err = encode_body(
            &json!([1]),
            BodyFormat::Form,
            None,
            QueryArrayFormat::Indices,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot encode the request body: a form body must be an object, found an array"
        );
        let ok = encode_body(
            &json!({"a": [1, 2], "b": "x y"}),
            BodyFormat::Form,
            None,
            QueryArrayFormat::Brackets,
        )
        .unwrap();
        assert_eq!(
            ok,
            EncodedBody::Form(vec![
                ("a[]".into(), "1".into()),
                ("a[]".into(), "2".into()),
                ("b".into(), "x y".into())
            ])
        );
    }
}
