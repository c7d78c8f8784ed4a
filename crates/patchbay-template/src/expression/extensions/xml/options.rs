//! xml-js options, read as its `options-helper` does: a flag counts only when it is a
//! boolean, a key name only when it is a string, and `spaces` only when it is a number or
//! a string.

use serde_json::{Map, Value};

use crate::expression::extensions::bounds::MAX_TEXT_BYTES;

/// `alwaysArray`: every element/field in an array, or only the named ones.
#[derive(Debug, Clone)]
pub(super) enum AlwaysArray {
    All(bool),
    Names(Vec<String>),
}

impl AlwaysArray {
    pub(super) fn applies_to(&self, key: &str) -> bool {
        match self {
            AlwaysArray::All(flag) => *flag,
            AlwaysArray::Names(names) => names.iter().any(|name| name == key),
        }
    }
}

/// The key names of the object form (`_text` or `text`, …).
#[derive(Debug, Clone)]
pub(super) struct Keys {
    pub(super) declaration: String,
    pub(super) instruction: String,
    pub(super) attributes: String,
    pub(super) text: String,
    pub(super) comment: String,
    pub(super) cdata: String,
    pub(super) doctype: String,
    pub(super) kind: String,
    pub(super) name: String,
    pub(super) elements: String,
    /// `parentKey` as given; the reader defaults it, the writer does not.
    pub(super) parent: Option<String>,
}

/// The options both directions use.
#[derive(Debug, Clone)]
pub(super) struct Options {
    pub(super) compact: bool,
    pub(super) ignore_declaration: bool,
    pub(super) ignore_instruction: bool,
    pub(super) ignore_attributes: bool,
    pub(super) ignore_text: bool,
    pub(super) ignore_comment: bool,
    pub(super) ignore_cdata: bool,
    pub(super) ignore_doctype: bool,
    pub(super) always_children: bool,
    pub(super) add_parent: bool,
    pub(super) trim: bool,
    pub(super) native_type: bool,
    pub(super) native_type_attributes: bool,
    pub(super) sanitize: bool,
    pub(super) instruction_has_attributes: bool,
    pub(super) capture_spaces_between_elements: bool,
    pub(super) always_array: AlwaysArray,
    pub(super) spaces: String,
    pub(super) indent_text: bool,
    pub(super) indent_cdata: bool,
    pub(super) indent_attributes: bool,
    pub(super) indent_instruction: bool,
    pub(super) full_tag_empty_element: bool,
    pub(super) no_quotes_for_native_attributes: bool,
    pub(super) keys: Keys,
}

impl Options {
    /// The options for an `options` argument. When it is `undefined` the package's default
    /// `{compact: true, spaces: 4}` applies. An argument that is not an object (`null`, a
    /// number) copies no options, so everything is off, `compact` included. A string copies
    /// its characters under the keys `"0"`, `"1"`, …, which name no option either.
    pub(super) fn from_arg(value: Option<&Value>) -> Result<Options, String> {
        let empty = Map::new();
        let map = match value {
            None => {
                let mut defaults = Map::new();
                defaults.insert("compact".to_owned(), Value::Bool(true));
                defaults.insert("spaces".to_owned(), Value::from(4));
                return Options::from_map(&defaults);
            }
            Some(Value::Object(map)) => map,
            _ => &empty,
        };
        Options::from_map(map)
    }

    fn from_map(map: &Map<String, Value>) -> Result<Options, String> {
        let flag = |name: &str| matches!(map.get(name), Some(Value::Bool(true)));
        let compact = flag("compact");
        let key = |name: &str| match map.get(&format!("{name}Key")) {
            Some(Value::String(custom)) => custom.clone(),
            _ if compact => format!("_{name}"),
            _ => name.to_owned(),
        };
        let always_array = match map.get("alwaysArray") {
            Some(Value::Bool(flag)) => AlwaysArray::All(*flag),
            Some(Value::Array(items)) => AlwaysArray::Names(
                items
                    .iter()
                    .filter_map(|item| item.as_str().map(str::to_owned))
                    .collect(),
            ),
            _ => AlwaysArray::All(false),
        };
        let spaces = match map.get("spaces") {
            Some(Value::String(text)) => text.clone(),
            Some(Value::Number(number)) => {
                // `Array(n + 1).join(' ')`: a length that is not a whole number in
                // [0, 2^32) is a RangeError.
                let count = number.as_f64().unwrap_or(f64::NAN) + 1.0;
                if !(count.fract() == 0.0 && (0.0..4_294_967_296.0).contains(&count)) {
                    return Err("Invalid array length".to_owned());
                }
                let count = count as usize;
                if count > MAX_TEXT_BYTES {
                    return Err(format!(
                        "spaces is more than the limit of {MAX_TEXT_BYTES} characters"
                    ));
                }
                " ".repeat(count.saturating_sub(1))
            }
            _ => String::new(),
        };
        Ok(Options {
            compact,
            ignore_declaration: flag("ignoreDeclaration"),
            ignore_instruction: flag("ignoreInstruction"),
            ignore_attributes: flag("ignoreAttributes"),
            ignore_text: flag("ignoreText"),
            ignore_comment: flag("ignoreComment"),
            ignore_cdata: flag("ignoreCdata"),
            ignore_doctype: flag("ignoreDoctype"),
            always_children: flag("alwaysChildren"),
            add_parent: flag("addParent"),
            trim: flag("trim"),
            native_type: flag("nativeType"),
            native_type_attributes: flag("nativeTypeAttributes"),
            sanitize: flag("sanitize"),
            instruction_has_attributes: flag("instructionHasAttributes"),
            capture_spaces_between_elements: flag("captureSpacesBetweenElements"),
            always_array,
            spaces,
            indent_text: flag("indentText"),
            indent_cdata: flag("indentCdata"),
            indent_attributes: flag("indentAttributes"),
            indent_instruction: flag("indentInstruction"),
            full_tag_empty_element: flag("fullTagEmptyElement"),
            no_quotes_for_native_attributes: flag("noQuotesForNativeAttributes"),
            keys: Keys {
                declaration: key("declaration"),
                instruction: key("instruction"),
                attributes: key("attributes"),
                text: key("text"),
                comment: key("comment"),
                cdata: key("cdata"),
                doctype: key("doctype"),
                kind: key("type"),
                name: key("name"),
                elements: key("elements"),
                parent: match map.get("parentKey") {
                    Some(Value::String(custom)) => Some(custom.clone()),
                    _ => None,
                },
            },
        })
    }
}
