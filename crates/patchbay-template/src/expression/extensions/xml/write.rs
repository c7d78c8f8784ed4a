//! xml-js object form → XML text (`js2xml`).
//!
//! Object members are visited in JavaScript's `for…in` order (integer-like keys first,
//! ascending, then the others in insertion order); arrays visit their indices and strings
//! their characters, as `for…in` does. Values are printed with JavaScript's `String()`.

use std::cell::Cell;

use serde_json::{Map, Value};

use super::options::Options;
use crate::expression::extensions::bounds::{MAX_DEPTH, MAX_TEXT_BYTES};
use crate::expression::extensions::js::{array_index, is_truthy, js_entries, js_string};

/// Prints `value` (`None` = `undefined`) as XML text.
pub(super) fn write(value: Option<&Value>, options: &Options) -> Result<Option<String>, String> {
    let mut writer = Writer {
        options,
        written: Cell::new(0),
    };
    let text = if options.compact {
        writer.elements_compact(value, 0, true)?
    } else {
        let Some(Value::Object(root)) = value else {
            return Ok(Some(String::new()));
        };
        let mut out = String::new();
        if let Some(declaration) = root.get(&options.keys.declaration)
            && is_truthy(Some(declaration))
        {
            out.push_str(&writer.declaration(declaration, 0)?);
        }
        if let Some(elements) = root.get(&options.keys.elements)
            && js_length(elements) > 0
        {
            let first = out.is_empty();
            out.push_str(&writer.elements(elements, 0, first)?.unwrap_or_default());
        }
        out
    };
    writer.check()?;
    Ok(Some(text))
}

/// `value.length` where it has one (strings count UTF-16 units), else 0.
fn js_length(value: &Value) -> usize {
    match value {
        Value::Array(items) => items.len(),
        Value::String(text) => text.encode_utf16().count(),
        _ => 0,
    }
}

/// The own enumerable members `for…in` visits: object members, array indices, string
/// characters (as one-character strings); nothing for other values.
fn own_members(value: Option<&Value>) -> Vec<(String, Value)> {
    match value {
        Some(Value::Object(map)) => js_entries(map)
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value.clone()))
            .collect(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(index, item)| (index.to_string(), item.clone()))
            .collect(),
        Some(Value::String(text)) => text
            .chars()
            .enumerate()
            .map(|(index, c)| (index.to_string(), Value::String(c.to_string())))
            .collect(),
        _ => Vec::new(),
    }
}

/// `value[key]` as JavaScript reads it (string characters by index included).
fn member<'v>(value: &'v Value, key: &str) -> Option<&'v Value> {
    match value {
        Value::Object(map) => map.get(key),
        Value::Array(items) => array_index(key).and_then(|index| items.get(index as usize)),
        _ => None,
    }
}

/// Writes XML; every piece of text it makes is counted once (in `written`) towards the
/// output limit, so that the work stays bounded even before the result is assembled.
struct Writer<'o> {
    options: &'o Options,
    written: Cell<usize>,
}

impl Writer<'_> {
    /// Counts `text` towards the output limit (checked by [`Writer::check`]).
    fn count(&self, text: &str) {
        self.written
            .set(self.written.get().saturating_add(text.len()));
    }

    /// Fails once more than the output limit was written.
    fn check(&self) -> Result<(), String> {
        if self.written.get() > MAX_TEXT_BYTES {
            return Err(format!(
                "the XML text would be more than the limit of {MAX_TEXT_BYTES} bytes"
            ));
        }
        Ok(())
    }

    fn indentation(&self, depth: usize, first_line: bool) -> String {
        let spaces = &self.options.spaces;
        let newline = if !first_line && !spaces.is_empty() {
            "\n"
        } else {
            ""
        };
        // Counted before it is built: a deep indentation is itself the large part.
        self.written.set(
            self.written
                .get()
                .saturating_add(spaces.len().saturating_mul(depth)),
        );
        if self.written.get() > MAX_TEXT_BYTES {
            return String::new();
        }
        format!("{newline}{}", spaces.repeat(depth))
    }

    fn attributes(&mut self, attributes: Option<&Value>, depth: usize) -> Result<String, String> {
        if self.options.ignore_attributes {
            return Ok(String::new());
        }
        let mut out = String::new();
        let indent = !self.options.spaces.is_empty() && self.options.indent_attributes;
        let members = own_members(attributes);
        for (key, value) in &members {
            if value.is_null() {
                continue;
            }
            let quote = if self.options.no_quotes_for_native_attributes && !value.is_string() {
                ""
            } else {
                "\""
            };
            let text = js_string(value).replace('"', "&quot;");
            if indent {
                out.push_str(&self.indentation(depth + 1, false));
            } else {
                out.push(' ');
            }
            out.push_str(&format!("{key}={quote}{text}{quote}"));
        }
        if indent && matches!(attributes, Some(Value::Object(map)) if !map.is_empty()) {
            out.push_str(&self.indentation(depth, false));
        }
        self.count(&out);
        self.check()?;
        Ok(out)
    }

    fn declaration(&mut self, declaration: &Value, depth: usize) -> Result<String, String> {
        if self.options.ignore_declaration {
            return Ok(String::new());
        }
        let attributes = member(declaration, &self.options.keys.attributes);
        Ok(format!("<?xml{}?>", self.attributes(attributes, depth)?))
    }

    fn instruction(&mut self, instruction: &Value, depth: usize) -> Result<String, String> {
        if self.options.ignore_instruction {
            return Ok(String::new());
        }
        let members = own_members(Some(instruction));
        let (name, value) = match members.first() {
            Some((name, value)) => (name.clone(), Some(value.clone())),
            None => ("undefined".to_owned(), None),
        };
        match value {
            Some(Value::Null) => Err("Cannot read properties of null".to_owned()),
            Some(inner @ (Value::Object(_) | Value::Array(_))) => {
                let attributes = member(&inner, &self.options.keys.attributes);
                Ok(format!("<?{name}{}?>", self.attributes(attributes, depth)?))
            }
            other => {
                let body = match other.as_ref() {
                    Some(value) if is_truthy(Some(value)) => js_string(value),
                    _ => String::new(),
                };
                let body = if body.is_empty() {
                    body
                } else {
                    format!(" {body}")
                };
                Ok(format!("<?{name}{body}?>"))
            }
        }
    }

    fn comment(&self, comment: Option<&Value>) -> String {
        if self.options.ignore_comment {
            return String::new();
        }
        let comment = format!(
            "<!--{}-->",
            comment.map_or("undefined".to_owned(), js_string)
        );
        self.count(&comment);
        comment
    }

    fn cdata(&self, cdata: Option<&Value>) -> Result<String, String> {
        if self.options.ignore_cdata {
            return Ok(String::new());
        }
        match cdata {
            // `String#replace` with a string pattern replaces the first occurrence only.
            Some(Value::String(text)) => {
                let cdata = format!("<![CDATA[{}]]>", text.replacen("]]>", "]]]]><![CDATA[>", 1));
                self.count(&cdata);
                Ok(cdata)
            }
            _ => Err("cdata.replace is not a function".to_owned()),
        }
    }

    fn doctype(&self, doctype: Option<&Value>) -> String {
        if self.options.ignore_doctype {
            return String::new();
        }
        let doctype = format!(
            "<!DOCTYPE {}>",
            doctype.map_or("undefined".to_owned(), js_string)
        );
        self.count(&doctype);
        doctype
    }

    fn text(&self, text: Option<&Value>) -> String {
        if self.options.ignore_text {
            return String::new();
        }
        let text = text.map_or("undefined".to_owned(), js_string);
        let text = text
            .replace("&amp;", "&")
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        self.count(&text);
        text
    }

    // ---- compact form ----

    /// xml-js's `hasContentCompact`.
    fn has_content_compact(&self, element: &Value, any_content: bool) -> bool {
        let keys = &self.options.keys;
        for (key, _) in own_members(Some(element)) {
            if key == keys.attributes || keys.parent.as_deref() == Some(key.as_str()) {
                continue;
            }
            if key == keys.text {
                if self.options.indent_text || any_content {
                    return true;
                }
            } else if key == keys.cdata {
                if self.options.indent_cdata || any_content {
                    return true;
                }
            } else if key == keys.instruction {
                if self.options.indent_instruction || any_content {
                    return true;
                }
            } else {
                return true;
            }
        }
        false
    }

    fn elements_compact(
        &mut self,
        element: Option<&Value>,
        depth: usize,
        mut first_line: bool,
    ) -> Result<String, String> {
        if depth > MAX_DEPTH {
            return Err(format!("the value nests deeper than {MAX_DEPTH} levels"));
        }
        let keys = self.options.keys.clone();
        let mut parts: Vec<String> = Vec::new();
        for (key, value) in own_members(element) {
            let nodes: Vec<Value> = match value {
                Value::Array(items) => items,
                other => vec![other],
            };
            for node in &nodes {
                let part = if key == keys.declaration {
                    self.declaration(node, depth)?
                } else if key == keys.instruction {
                    let indent = if self.options.indent_instruction {
                        self.indentation(depth, first_line)
                    } else {
                        String::new()
                    };
                    format!("{indent}{}", self.instruction(node, depth)?)
                } else if key == keys.attributes || keys.parent.as_deref() == Some(key.as_str()) {
                    continue;
                } else if key == keys.text {
                    let indent = if self.options.indent_text {
                        self.indentation(depth, first_line)
                    } else {
                        String::new()
                    };
                    format!("{indent}{}", self.text(Some(node)))
                } else if key == keys.cdata {
                    let indent = if self.options.indent_cdata {
                        self.indentation(depth, first_line)
                    } else {
                        String::new()
                    };
                    format!("{indent}{}", self.cdata(Some(node))?)
                } else if key == keys.doctype {
                    format!(
                        "{}{}",
                        self.indentation(depth, first_line),
                        self.doctype(Some(node))
                    )
                } else if key == keys.comment {
                    format!(
                        "{}{}",
                        self.indentation(depth, first_line),
                        self.comment(Some(node))
                    )
                } else {
                    let indent = self.has_content_compact(node, false);
                    format!(
                        "{}{}",
                        self.indentation(depth, first_line),
                        self.element_compact(node, &key, depth, indent)?
                    )
                };
                self.check()?;
                parts.push(part);
                first_line = false;
            }
        }
        Ok(parts.concat())
    }

    fn element_compact(
        &mut self,
        element: &Value,
        name: &str,
        depth: usize,
        indent: bool,
    ) -> Result<String, String> {
        let empty_tag = |full: bool| {
            if full {
                format!("<{name}></{name}>")
            } else {
                format!("<{name}/>")
            }
        };
        if element.is_null() || element.as_str() == Some("") {
            return Ok(empty_tag(self.options.full_tag_empty_element));
        }
        let mut out = String::new();
        // The opening and closing tags.
        self.count(name);
        self.count(name);
        if !name.is_empty() {
            out.push('<');
            out.push_str(name);
            if !matches!(element, Value::Object(_) | Value::Array(_)) {
                out.push_str(&format!(">{}</{name}>", self.text(Some(element))));
                return Ok(out);
            }
            let attributes = member(element, &self.options.keys.attributes);
            if let Some(attributes) = attributes
                && is_truthy(Some(attributes))
            {
                out.push_str(&self.attributes(Some(attributes), depth)?);
            }
            let preserve = attributes
                .and_then(|attributes| member(attributes, "xml:space"))
                .is_some_and(|space| space.as_str() == Some("preserve"));
            let closing = self.has_content_compact(element, true)
                || preserve
                || self.options.full_tag_empty_element;
            if !closing {
                out.push_str("/>");
                return Ok(out);
            }
            out.push('>');
        }
        out.push_str(&self.elements_compact(Some(element), depth + 1, false)?);
        if !name.is_empty() {
            if indent {
                out.push_str(&self.indentation(depth, false));
            }
            out.push_str(&format!("</{name}>"));
        }
        Ok(out)
    }

    // ---- non-compact form ----

    /// xml-js's `hasContent` (it reads `elements` and the type under `typeKey`).
    fn has_content(&self, element: &Value) -> bool {
        let Some(Value::Array(children)) = member(element, "elements") else {
            return false;
        };
        for child in children {
            match member(child, &self.options.keys.kind).and_then(Value::as_str) {
                Some("text") if !self.options.indent_text => {}
                Some("cdata") if !self.options.indent_cdata => {}
                Some("instruction") if !self.options.indent_instruction => {}
                _ => return true,
            }
        }
        false
    }

    /// xml-js's `writeElements`, a reduce whose accumulator turns `undefined` after an
    /// unknown node type (and then prints as `"undefined"`).
    fn elements(
        &mut self,
        elements: &Value,
        depth: usize,
        first_line: bool,
    ) -> Result<Option<String>, String> {
        if depth > MAX_DEPTH {
            return Err(format!("the value nests deeper than {MAX_DEPTH} levels"));
        }
        let Value::Array(items) = elements else {
            return Err("elements.reduce is not a function".to_owned());
        };
        let keys = self.options.keys.clone();
        let mut xml: Option<String> = Some(String::new());
        for element in items {
            let empty_so_far = xml.as_deref().is_none_or(str::is_empty);
            let indent = self.indentation(depth, first_line && empty_so_far);
            let prefix = xml.clone().unwrap_or_else(|| "undefined".to_owned());
            let part = match member(element, "type").and_then(Value::as_str) {
                Some("element") => Some(format!("{indent}{}", self.element(element, depth)?)),
                Some("comment") => Some(format!(
                    "{indent}{}",
                    self.comment(member(element, &keys.comment))
                )),
                Some("doctype") => Some(format!(
                    "{indent}{}",
                    self.doctype(member(element, &keys.doctype))
                )),
                Some("cdata") => {
                    let indent = if self.options.indent_cdata {
                        indent
                    } else {
                        String::new()
                    };
                    Some(format!(
                        "{indent}{}",
                        self.cdata(member(element, &keys.cdata))?
                    ))
                }
                Some("text") => {
                    let indent = if self.options.indent_text {
                        indent
                    } else {
                        String::new()
                    };
                    Some(format!(
                        "{indent}{}",
                        self.text(member(element, &keys.text))
                    ))
                }
                Some("instruction") => {
                    let name =
                        member(element, &keys.name).map_or("undefined".to_owned(), js_string);
                    let body =
                        if member(element, &keys.attributes).is_some_and(|a| is_truthy(Some(a))) {
                            element.clone()
                        } else {
                            member(element, &keys.instruction)
                                .cloned()
                                .unwrap_or(Value::Null)
                        };
                    let mut instruction = Map::new();
                    instruction.insert(name, body);
                    let indent = if self.options.indent_instruction {
                        indent
                    } else {
                        String::new()
                    };
                    Some(format!(
                        "{indent}{}",
                        self.instruction(&Value::Object(instruction), depth)?
                    ))
                }
                _ => None,
            };
            xml = part.map(|part| format!("{prefix}{part}"));
            self.check()?;
        }
        Ok(xml)
    }

    fn element(&mut self, element: &Value, depth: usize) -> Result<String, String> {
        let name = member(element, "name").map_or("undefined".to_owned(), js_string);
        self.count(&name);
        self.count(&name);
        let mut out = format!("<{name}");
        let attributes = member(element, &self.options.keys.attributes);
        if let Some(attributes) = attributes
            && is_truthy(Some(attributes))
        {
            out.push_str(&self.attributes(Some(attributes), depth)?);
        }
        let children = member(element, &self.options.keys.elements);
        let has_children = children.is_some_and(|children| js_length(children) > 0);
        let preserve = attributes
            .and_then(|attributes| member(attributes, "xml:space"))
            .is_some_and(|space| space.as_str() == Some("preserve"));
        if !(has_children || preserve || self.options.full_tag_empty_element) {
            out.push_str("/>");
            return Ok(out);
        }
        out.push('>');
        if has_children && let Some(children) = children {
            out.push_str(
                &self
                    .elements(children, depth + 1, false)?
                    .unwrap_or_default(),
            );
        }
        if !self.options.spaces.is_empty() && self.has_content(element) {
            out.push('\n');
            out.push_str(&self.options.spaces.repeat(depth));
        }
        out.push_str(&format!("</{name}>"));
        Ok(out)
    }
}
