//! XML text → xml-js object form (`xml2js`).
//!
//! `quick-xml` tokenises; this module applies the rules of the package's strict `sax`
//! parser on top (text outside the root element, entity references, empty comments and
//! CDATA sections that emit nothing) and builds the object exactly as xml-js does: in
//! compact form a repeated element or field turns into an array where it first appeared,
//! and text split by child elements or comments becomes an array of texts.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use serde_json::{Map, Value};

use super::entities::ENTITIES;
use super::options::Options;
use crate::expression::extensions::bounds::{Budget, MAX_DEPTH, MAX_TEXT_BYTES};
use crate::expression::extensions::js::{is_truthy, js_trim};
use crate::expression::extensions::values::js_to_number;
use crate::expression::value::number_to_json;

/// Parses `xml` into the xml-js object form selected by `options`. The error is the
/// message the package's parser would give (or a bound that was exceeded).
pub(super) fn parse(xml: &str, options: &Options) -> Result<Value, String> {
    if xml.len() > MAX_TEXT_BYTES {
        return Err(format!(
            "the XML text is {} bytes, more than the limit of {MAX_TEXT_BYTES}",
            xml.len()
        ));
    }
    if options.add_parent {
        return Err("addParent makes a circular structure, which has no JSON form".to_owned());
    }
    let xml = xml.strip_prefix('\u{feff}').unwrap_or(xml);
    let mut reader = Reader::from_str(xml);
    let config = reader.config_mut();
    config.check_end_names = true;
    config.check_comments = true;
    config.allow_dangling_amp = false;
    config.expand_empty_elements = false;
    config.trim_text(false);
    let mut builder = Builder::new(options);
    loop {
        let event = reader.read_event().map_err(|error| error.to_string())?;
        builder.budget.take().map_err(|error| error.to_string())?;
        match event {
            Event::Eof => break,
            Event::Start(start) => builder.open(&start, false)?,
            Event::Empty(start) => builder.open(&start, true)?,
            Event::End(_) => builder.close()?,
            Event::Text(text) => {
                let text = std::str::from_utf8(&text).map_err(|error| error.to_string())?;
                builder.text(text)?;
            }
            Event::GeneralRef(reference) => {
                let name = std::str::from_utf8(&reference).map_err(|error| error.to_string())?;
                builder.outside_root_check("&")?;
                let decoded = decode_entity(name)?;
                builder.pending_text.push_str(&decoded);
            }
            Event::CData(cdata) => {
                let cdata = std::str::from_utf8(&cdata).map_err(|error| error.to_string())?;
                if !cdata.is_empty() {
                    builder.flush_text()?;
                    builder.cdata(cdata);
                }
            }
            Event::Comment(comment) => {
                let comment = std::str::from_utf8(&comment).map_err(|error| error.to_string())?;
                if !comment.is_empty() {
                    builder.flush_text()?;
                    builder.comment(comment);
                }
            }
            Event::Decl(decl) => {
                let raw = std::str::from_utf8(&decl).map_err(|error| error.to_string())?;
                builder.flush_text()?;
                builder.instruction(raw)?;
            }
            Event::PI(pi) => {
                let raw = std::str::from_utf8(&pi).map_err(|error| error.to_string())?;
                builder.flush_text()?;
                builder.instruction(raw)?;
            }
            Event::DocType(doctype) => {
                let raw = std::str::from_utf8(&doctype).map_err(|error| error.to_string())?;
                if builder.saw_root || builder.saw_doctype {
                    return Err("Inappropriately located doctype declaration".to_owned());
                }
                builder.saw_doctype = true;
                builder.flush_text()?;
                builder.doctype(raw);
            }
        }
    }
    builder.finish()
}

/// One open element: its name (compact form) and the object being built.
struct Open {
    name: String,
    node: Map<String, Value>,
}

struct Builder<'o> {
    options: &'o Options,
    root: Map<String, Value>,
    stack: Vec<Open>,
    pending_text: String,
    saw_markup: bool,
    saw_root: bool,
    closed_root: bool,
    saw_doctype: bool,
    budget: Budget,
}

/// sax's whitespace: space, tab, line feed, carriage return.
fn is_sax_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// xml-js's `nativeType`: `Number(text)` when that is a number, `true`/`false` in any case,
/// otherwise the text.
fn native_type(text: &str) -> Value {
    let number = js_to_number(Some(&Value::String(text.to_owned())));
    if !number.is_nan() {
        return number_to_json(number).unwrap_or(Value::Null);
    }
    match text.to_lowercase().as_str() {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => Value::String(text.to_owned()),
    }
}

/// The text of one `&name;` reference as sax decodes it: a named entity of its table
/// (exact name, then lower-cased), or a decimal/hex character reference written without
/// superfluous characters. Anything else is "Invalid character entity".
fn decode_entity(name: &str) -> Result<String, String> {
    let lookup = |key: &str| {
        ENTITIES
            .binary_search_by(|(entity, _)| entity.cmp(&key))
            .ok()
            .and_then(|index| ENTITIES.get(index))
            .and_then(|(_, code)| char::from_u32(*code))
    };
    if let Some(c) = lookup(name) {
        return Ok(c.to_string());
    }
    let lower = name.to_lowercase();
    if let Some(c) = lookup(&lower) {
        return Ok(c.to_string());
    }
    let invalid = || "Invalid character entity".to_owned();
    if !name
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '#' | ':' | '_' | '.' | '-' | '\u{b7}'))
    {
        return Err("Invalid character in entity name".to_owned());
    }
    let (digits, radix) = if let Some(hex) = lower.strip_prefix("#x") {
        (hex, 16)
    } else if let Some(decimal) = lower.strip_prefix('#') {
        (decimal, 10)
    } else {
        return Err(invalid());
    };
    // `parseInt` must have read every digit, leading zeros aside.
    let significant = digits.trim_start_matches('0');
    if significant.is_empty()
        || significant.len() > 8
        || !significant.chars().all(|c| c.is_digit(radix))
    {
        return Err(invalid());
    }
    let code = u32::from_str_radix(significant, radix).map_err(|_| invalid())?;
    if code > 0x10_ffff {
        return Err(invalid());
    }
    // A lone surrogate has no UTF-8 form; JavaScript would keep it.
    Ok(char::from_u32(code).unwrap_or('\u{fffd}').to_string())
}

/// Decodes the entity references in an attribute value as sax does.
fn decode_attribute(raw: &str) -> Result<String, String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let end = after
            .find(';')
            .ok_or_else(|| "Invalid character in entity name".to_owned())?;
        out.push_str(&decode_entity(&after[..end])?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Splits the attribute part of a start tag into raw `(name, value)` pairs as sax's strict
/// mode reads it: white space may surround `=`, values must be quoted, and a name without
/// a value is an error.
fn scan_attributes(raw: &str) -> Result<Vec<(String, String)>, String> {
    let is_name = |c: char| !(is_sax_space(c) || matches!(c, '=' | '"' | '\'' | '>' | '/' | '<'));
    let mut pairs = Vec::new();
    let mut rest = raw.trim_start_matches(is_sax_space);
    while !rest.is_empty() {
        let name_end = rest.find(|c: char| !is_name(c)).unwrap_or(rest.len());
        if name_end == 0 {
            return Err("Invalid attribute name".to_owned());
        }
        let name = &rest[..name_end];
        rest = rest[name_end..].trim_start_matches(is_sax_space);
        let Some(after_eq) = rest.strip_prefix('=') else {
            return Err("Attribute without value".to_owned());
        };
        rest = after_eq.trim_start_matches(is_sax_space);
        let quote = match rest.chars().next() {
            Some(quote @ ('"' | '\'')) => quote,
            _ => return Err("Unquoted attribute value".to_owned()),
        };
        let body = &rest[1..];
        let close = body
            .find(quote)
            .ok_or_else(|| "Unquoted attribute value".to_owned())?;
        pairs.push((name.to_owned(), body[..close].to_owned()));
        let after = &body[close + 1..];
        if after.starts_with(|c: char| !is_sax_space(c)) {
            return Err("No whitespace between attributes".to_owned());
        }
        rest = after.trim_start_matches(is_sax_space);
    }
    Ok(pairs)
}

/// Finds the pseudo-attributes of a declaration or instruction body with xml-js's
/// pattern `([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|(\w+))\s*`, searched left to right.
/// An empty value is `undefined` there (`m[2] || m[3] || m[4]`), so it is left out.
fn pseudo_attributes(body: &str) -> Vec<(String, Option<String>)> {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let is_name = |c: char| is_word(c) || c == ':' || c == '-';
    let chars: Vec<char> = body.chars().collect();
    // Where each quote character last occurs: an opening quote after that has no match.
    let last_double = chars.iter().rposition(|c| *c == '"');
    let last_single = chars.iter().rposition(|c| *c == '\'');
    let mut found = Vec::new();
    let mut begin = 0;
    while begin < chars.len() {
        if !chars.get(begin).is_some_and(|c| is_name(*c)) {
            begin += 1;
            continue;
        }
        // The name is greedy, and a shorter one (or one starting later in the same run)
        // would be followed by a name character, so only the whole run can match: when
        // it does not, the search goes on after the run.
        let mut name_end = begin;
        while chars.get(name_end).is_some_and(|c| is_name(*c)) {
            name_end += 1;
        }
        let mut at = name_end;
        while chars.get(at).is_some_and(|c| c.is_whitespace()) {
            at += 1;
        }
        if chars.get(at) != Some(&'=') {
            begin = name_end;
            continue;
        }
        at += 1;
        while chars.get(at).is_some_and(|c| c.is_whitespace()) {
            at += 1;
        }
        let value_start = at;
        let value = match chars.get(at) {
            Some(quote @ ('"' | '\'')) => {
                let last = if *quote == '"' {
                    last_double
                } else {
                    last_single
                };
                if last.is_none_or(|last| last <= at) {
                    begin = name_end;
                    continue;
                }
                let Some(close) = chars[at + 1..].iter().position(|c| c == quote) else {
                    begin = name_end;
                    continue;
                };
                at = at + 1 + close + 1;
                chars[value_start + 1..at - 1].iter().collect::<String>()
            }
            Some(c) if is_word(*c) => {
                while chars.get(at).is_some_and(|c| is_word(*c)) {
                    at += 1;
                }
                chars[value_start..at].iter().collect::<String>()
            }
            _ => {
                begin = name_end;
                continue;
            }
        };
        while chars.get(at).is_some_and(|c| c.is_whitespace()) {
            at += 1;
        }
        let name: String = chars[begin..name_end].iter().collect();
        found.push((name, (!value.is_empty()).then_some(value)));
        begin = at.max(begin + 1);
    }
    found
}

impl<'o> Builder<'o> {
    fn new(options: &'o Options) -> Self {
        Builder {
            options,
            root: Map::new(),
            stack: Vec::new(),
            pending_text: String::new(),
            saw_markup: false,
            saw_root: false,
            closed_root: false,
            saw_doctype: false,
            budget: Budget::new("xmlToJs"),
        }
    }

    fn current(&mut self) -> &mut Map<String, Value> {
        match self.stack.last_mut() {
            Some(open) => &mut open.node,
            None => &mut self.root,
        }
    }

    /// sax refuses non-whitespace text before the first element and after the root closed.
    fn outside_root_check(&self, text: &str) -> Result<(), String> {
        if (self.closed_root || !self.saw_root) && text.chars().any(|c| !is_sax_space(c)) {
            return Err(if self.saw_markup {
                "Text data outside of root node.".to_owned()
            } else {
                "Non-whitespace before first tag.".to_owned()
            });
        }
        Ok(())
    }

    fn text(&mut self, text: &str) -> Result<(), String> {
        self.outside_root_check(text)?;
        // Before any markup sax skips white space instead of collecting it.
        if self.saw_markup {
            self.pending_text.push_str(text);
        }
        Ok(())
    }

    /// Emits the text collected since the last node, as sax does before every node.
    fn flush_text(&mut self) -> Result<(), String> {
        self.saw_markup = true;
        if self.pending_text.is_empty() {
            return Ok(());
        }
        let text = std::mem::take(&mut self.pending_text);
        if self.options.ignore_text {
            return Ok(());
        }
        if js_trim(&text).is_empty() && !self.options.capture_spaces_between_elements {
            return Ok(());
        }
        let text = if self.options.trim {
            js_trim(&text).to_owned()
        } else {
            text
        };
        let mut value = if self.options.native_type {
            native_type(&text)
        } else {
            Value::String(text)
        };
        if self.options.sanitize {
            match &value {
                Value::String(text) => {
                    value = Value::String(
                        text.replace('&', "&amp;")
                            .replace('<', "&lt;")
                            .replace('>', "&gt;"),
                    );
                }
                _ => return Err("text.replace is not a function".to_owned()),
            }
        }
        self.add_field("text", value);
        Ok(())
    }

    /// xml-js's `addField`: the compact form keeps one value or an array of them under the
    /// field's key; the non-compact form appends a `{type, <key>: value}` node.
    fn add_field(&mut self, kind: &str, value: Value) {
        let keys = &self.options.keys;
        let key = match kind {
            "text" => keys.text.clone(),
            "comment" => keys.comment.clone(),
            "cdata" => keys.cdata.clone(),
            "doctype" => keys.doctype.clone(),
            _ => keys.instruction.clone(),
        };
        if self.options.compact {
            let always = self.options.always_array.applies_to(&key);
            let current = self.current();
            append_compact(current, &key, value, always);
        } else {
            let mut node = Map::new();
            node.insert(
                self.options.keys.kind.clone(),
                Value::String(kind.to_owned()),
            );
            node.insert(key, value);
            self.push_node(node);
        }
    }

    /// Appends a non-compact node to the current element's `elements`.
    fn push_node(&mut self, node: Map<String, Value>) {
        let elements_key = self.options.keys.elements.clone();
        let current = self.current();
        if !current.get(&elements_key).is_some_and(is_truthy_value) {
            current.insert(elements_key.clone(), Value::Array(Vec::new()));
        }
        if let Some(Value::Array(items)) = current.get_mut(&elements_key) {
            items.push(Value::Object(node));
        }
    }

    fn attributes(&self, raw: &str) -> Result<Map<String, Value>, String> {
        let mut attributes = Map::new();
        for (name, value) in scan_attributes(raw)? {
            if attributes.contains_key(&name) {
                continue; // sax keeps the first of duplicated attributes
            }
            let value = decode_attribute(&value)?;
            attributes.insert(name, self.attribute_value(value));
        }
        Ok(attributes)
    }

    /// `trim` and `nativeTypeAttributes` applied to one attribute value.
    fn attribute_value(&self, value: String) -> Value {
        let value = if self.options.trim {
            js_trim(&value).to_owned()
        } else {
            value
        };
        if self.options.native_type_attributes {
            native_type(&value)
        } else {
            Value::String(value)
        }
    }

    fn open(&mut self, start: &BytesStart<'_>, empty: bool) -> Result<(), String> {
        self.flush_text()?;
        if self.stack.len() >= MAX_DEPTH {
            return Err(format!("the XML nests deeper than {MAX_DEPTH} elements"));
        }
        // sax allows white space after `<`; the name ends at white space.
        let content = std::str::from_utf8(start).map_err(|error| error.to_string())?;
        let content = content.trim_start_matches(is_sax_space);
        let name_end = content.find(is_sax_space).unwrap_or(content.len());
        let name = content[..name_end].to_owned();
        let attributes = self.attributes(&content[name_end..])?;
        self.saw_root = true;
        let keys = &self.options.keys;
        let mut node = Map::new();
        if !self.options.compact {
            node.insert(keys.kind.clone(), Value::String("element".to_owned()));
            node.insert(keys.name.clone(), Value::String(name.clone()));
        }
        if !self.options.ignore_attributes && !attributes.is_empty() {
            node.insert(keys.attributes.clone(), Value::Object(attributes));
        }
        if !self.options.compact && self.options.always_children {
            node.insert(keys.elements.clone(), Value::Array(Vec::new()));
        }
        self.stack.push(Open { name, node });
        if empty {
            self.close()?;
        }
        Ok(())
    }

    fn close(&mut self) -> Result<(), String> {
        self.flush_text()?;
        let Some(open) = self.stack.pop() else {
            return Err("Unmatched closing tag".to_owned());
        };
        if self.stack.is_empty() {
            self.closed_root = true;
        }
        if self.options.compact {
            let always = self.options.always_array.applies_to(&open.name);
            let current = self.current();
            // xml-js checks `name in element` (not truthiness) for `alwaysArray`.
            let always = always && !current.contains_key(&open.name);
            append_compact(current, &open.name, Value::Object(open.node), always);
        } else {
            self.push_node(open.node);
        }
        Ok(())
    }

    fn cdata(&mut self, cdata: &str) {
        if self.options.ignore_cdata {
            return;
        }
        let cdata = if self.options.trim {
            js_trim(cdata)
        } else {
            cdata
        };
        self.add_field("cdata", Value::String(cdata.to_owned()));
    }

    fn comment(&mut self, comment: &str) {
        if self.options.ignore_comment {
            return;
        }
        let comment = if self.options.trim {
            js_trim(comment)
        } else {
            comment
        };
        self.add_field("comment", Value::String(comment.to_owned()));
    }

    fn doctype(&mut self, raw: &str) {
        if self.options.ignore_doctype {
            return;
        }
        // sax keeps everything after `DOCTYPE`; xml-js drops one leading space.
        let doctype = raw.strip_prefix(' ').unwrap_or(raw);
        let doctype = if self.options.trim {
            js_trim(doctype)
        } else {
            doctype
        };
        self.add_field("doctype", Value::String(doctype.to_owned()));
    }

    /// A declaration (`<?xml …?>`) or processing instruction, from its raw content between
    /// `<?` and `?>`.
    fn instruction(&mut self, raw: &str) -> Result<(), String> {
        let name_end = raw.find(is_sax_space).unwrap_or(raw.len());
        let name = &raw[..name_end];
        let body = raw[name_end..].trim_start_matches(is_sax_space);
        let is_declaration = name.to_lowercase() == "xml";
        let mut attributes = Map::new();
        if !body.is_empty() && (is_declaration || self.options.instruction_has_attributes) {
            for (key, value) in pseudo_attributes(body) {
                match value {
                    Some(value) => {
                        let value = self.attribute_value(value);
                        attributes.insert(key, value);
                    }
                    None => {
                        attributes.remove(&key);
                    }
                }
            }
        }
        let keys = &self.options.keys;
        if is_declaration {
            if self.options.ignore_declaration {
                return Ok(());
            }
            let mut declaration = Map::new();
            if !attributes.is_empty() {
                declaration.insert(keys.attributes.clone(), Value::Object(attributes));
            }
            let key = keys.declaration.clone();
            self.current().insert(key, Value::Object(declaration));
            return Ok(());
        }
        if self.options.ignore_instruction {
            return Ok(());
        }
        let body = if self.options.trim {
            js_trim(body)
        } else {
            body
        };
        let with_attributes = self.options.instruction_has_attributes && !attributes.is_empty();
        if self.options.compact {
            let mut value = Map::new();
            if with_attributes {
                let mut inner = Map::new();
                inner.insert(keys.attributes.clone(), Value::Object(attributes));
                value.insert(name.to_owned(), Value::Object(inner));
            } else {
                value.insert(name.to_owned(), Value::String(body.to_owned()));
            }
            self.add_field("instruction", Value::Object(value));
        } else {
            let mut node = Map::new();
            node.insert(keys.kind.clone(), Value::String("instruction".to_owned()));
            node.insert(keys.name.clone(), Value::String(name.to_owned()));
            if self.options.instruction_has_attributes {
                if with_attributes {
                    node.insert(keys.attributes.clone(), Value::Object(attributes));
                }
            } else {
                node.insert(keys.instruction.clone(), Value::String(body.to_owned()));
            }
            self.push_node(node);
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Value, String> {
        if !self.stack.is_empty() {
            return Err("Unclosed root tag".to_owned());
        }
        self.flush_text()?;
        let elements_key = self.options.keys.elements.clone();
        if self.root.get(&elements_key).is_some_and(is_truthy_value)
            && let Some(elements) = self.root.shift_remove(&elements_key)
        {
            self.root.insert(elements_key, elements);
            self.root.shift_remove("text");
        }
        Ok(Value::Object(self.root))
    }
}

fn is_truthy_value(value: &Value) -> bool {
    is_truthy(Some(value))
}

/// The compact form's insertion: a first value is stored as is (or in an array under
/// `always`), a second turns the entry into an array in place.
fn append_compact(node: &mut Map<String, Value>, key: &str, value: Value, always: bool) {
    let present = node.get(key).is_some_and(is_truthy_value);
    if !present && always {
        node.insert(key.to_owned(), Value::Array(Vec::new()));
    }
    if let Some(existing) = node.get_mut(key)
        && is_truthy(Some(existing))
        && !existing.is_array()
    {
        let first = existing.take();
        *existing = Value::Array(vec![first]);
    }
    match node.get_mut(key) {
        Some(Value::Array(items)) => items.push(value),
        _ => {
            node.insert(key.to_owned(), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_decode_as_sax_does() {
        assert_eq!(decode_entity("amp").as_deref(), Ok("&"));
        assert_eq!(decode_entity("AMP").as_deref(), Ok("&"));
        assert_eq!(decode_entity("Eacute").as_deref(), Ok("É"));
        assert_eq!(decode_entity("#65").as_deref(), Ok("A"));
        assert_eq!(decode_entity("#x0042").as_deref(), Ok("B"));
        assert!(decode_entity("#0").is_err());
        assert!(decode_entity("#6a").is_err());
        assert!(decode_entity("foo").is_err());
        assert!(decode_entity("#1114112").is_err());
    }

    #[test]
    fn declaration_pseudo_attributes() {
        assert_eq!(
            pseudo_attributes("version=\"1.0\" encoding='UTF-8' standalone=yes x=\"\""),
            vec![
                ("version".to_owned(), Some("1.0".to_owned())),
                ("encoding".to_owned(), Some("UTF-8".to_owned())),
                ("standalone".to_owned(), Some("yes".to_owned())),
                ("x".to_owned(), None),
            ]
        );
    }
}
