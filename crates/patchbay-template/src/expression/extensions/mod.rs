//! Host functions from `@truto/truto-jsonata` 3.0.6, registered on both JSONata backends.
//!
//! Truto's configs call extension functions such as `$sign`, `$base64encode` or `$groupBy`
//! next to the JSONata built-ins. This module implements the subset a request engine needs
//! once, on `serde_json` values (`Extension::call`); `core.rs` and `rs.rs` only adapt
//! their value types to it. Behaviour follows the npm package as observed by running it;
//! the deliberate differences are listed in `docs/jsonata.md`.
//!
//! Calling convention shared by every function here:
//! * arguments arrive as `Option<Value>`, `None` being JSONata `undefined`;
//! * the result is `Ok(None)` for `undefined`;
//! * numbers that JavaScript would return as `NaN` or `±Infinity` become `null`;
//! * a wrong argument type is [`ExtensionError::Argument`] (JSONata code `T0410`), and a
//!   failure of the function itself (bad base64, invalid URL, …) is
//!   [`ExtensionError::Failed`], which has no JSONata code, as a JavaScript `Error` thrown
//!   by a registered function has none.

mod bounds;
mod collections;
mod crypto;
mod csv;
mod currency;
#[cfg(feature = "jsonata-core")]
pub(crate) mod date_builtins;
#[cfg(feature = "jsonata-core")]
mod dates;
mod dep_graph;
mod graph;
mod html_markdown;
pub(crate) mod js;
mod lodash;
mod luxon;
mod markdown_adf;
mod markdown_gdocs;
mod markdown_html;
mod markdown_notion;
mod markdown_slack;
mod markdown_tokens;
mod mime;
mod notion;
mod notion_md;
mod query;
mod similarity;
mod sql;
mod text_splitter;
mod v8_sort;
mod values;
mod web;
mod xml;

use std::cell::RefCell;

use serde_json::Value;

/// Why an extension function failed.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExtensionError {
    /// An argument has a type the function cannot use (JSONata code `T0410`).
    #[error("T0410: argument {position} of function ${function} must be {expected}")]
    Argument {
        /// The function name without `$`.
        function: &'static str,
        /// The 1-based argument position.
        position: usize,
        /// What the function accepts there.
        expected: &'static str,
    },
    /// The function rejected its input with a JSONata error code, as jsonata-js's
    /// built-ins do (`D3140` for a malformed URL).
    #[error("{code}: {message}")]
    Coded {
        /// The function name without `$`.
        function: &'static str,
        /// The JSONata error code.
        code: &'static str,
        /// What went wrong.
        message: String,
    },
    /// The function rejected its input, as the JavaScript implementation throws.
    #[error("${function}: {message}")]
    Failed {
        /// The function name without `$`.
        function: &'static str,
        /// What went wrong.
        message: String,
    },
}

impl ExtensionError {
    /// The JSONata error code: `"T0410"` for argument errors, the code of a coded error,
    /// `None` otherwise.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            ExtensionError::Argument { .. } => Some("T0410"),
            ExtensionError::Coded { code, .. } => Some(code),
            ExtensionError::Failed { .. } => None,
        }
    }

    pub(crate) fn failed(function: &'static str, message: impl Into<String>) -> Self {
        ExtensionError::Failed {
            function,
            message: message.into(),
        }
    }
}

/// The result of an extension: `Ok(None)` is JSONata `undefined`.
pub(crate) type Outcome = Result<Option<Value>, ExtensionError>;

/// The evaluated arguments of one call, with typed accessors that produce argument errors.
pub(crate) struct Args<'a> {
    function: &'static str,
    values: &'a [Option<Value>],
    /// Bit `i` is set when argument `i` was a function (a lambda or a function reference),
    /// which `values` holds as `undefined`.
    functions: u64,
}

impl<'a> Args<'a> {
    pub(crate) fn new(function: &'static str, values: &'a [Option<Value>]) -> Self {
        Args {
            function,
            values,
            functions: 0,
        }
    }

    /// Whether argument `index` (0-based) was a function rather than a value.
    pub(crate) fn is_function(&self, index: usize) -> bool {
        index < 64 && self.functions & (1 << index) != 0
    }

    /// Argument `index` (0-based); `None` when it is `undefined` or was not passed.
    pub(crate) fn get(&self, index: usize) -> Option<&'a Value> {
        self.values.get(index).and_then(Option::as_ref)
    }

    /// All arguments, `undefined` ones included.
    pub(crate) fn all(&self) -> &'a [Option<Value>] {
        self.values
    }

    /// An argument error for argument `index` (0-based).
    pub(crate) fn wrong(&self, index: usize, expected: &'static str) -> ExtensionError {
        ExtensionError::Argument {
            function: self.function,
            position: index + 1,
            expected,
        }
    }

    /// A failure of this function.
    pub(crate) fn failed(&self, message: impl Into<String>) -> ExtensionError {
        ExtensionError::failed(self.function, message)
    }

    /// Argument `index` as JavaScript's `String(x)` would give it, with `undefined` as
    /// `on_undefined`. Objects are an argument error.
    pub(crate) fn text(&self, index: usize, on_undefined: &str) -> Result<String, ExtensionError> {
        match self.get(index) {
            None => Ok(on_undefined.to_owned()),
            Some(value) => js::to_js_string(value)
                .ok_or_else(|| self.wrong(index, "a string, number, boolean or null")),
        }
    }
}

/// One host function: its JSONata name (without `$`), the number of parameters it declares
/// (what jsonata-rs passes to a callback-style caller), and its implementation.
#[derive(Clone, Copy)]
pub(crate) struct Extension {
    pub(crate) name: &'static str,
    #[cfg_attr(not(feature = "jsonata-rs"), allow(dead_code))]
    pub(crate) arity: usize,
    implementation: fn(&Args<'_>) -> Outcome,
}

impl std::fmt::Debug for Extension {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

impl Extension {
    const fn new(
        name: &'static str,
        arity: usize,
        implementation: fn(&Args<'_>) -> Outcome,
    ) -> Self {
        Extension {
            name,
            arity,
            implementation,
        }
    }

    /// Runs the function on `args` (`None` = `undefined`). Bit `i` of `functions` marks
    /// argument `i` (passed as `None`) as a function. Functions cannot be called from
    /// here; the few extensions that take one mimic what the package does with it.
    ///
    /// # Errors
    /// [`ExtensionError`] for argument types the function cannot use and for inputs it
    /// rejects.
    pub(crate) fn call_marked(&self, args: &[Option<Value>], functions: u64) -> Outcome {
        let mut arguments = Args::new(self.name, args);
        arguments.functions = functions;
        (self.implementation)(&arguments)
    }
}

/// Every extension function, in documentation order. None of these names is a JSONata
/// built-in (`tests/extensions.rs` checks this on both engines). The package's
/// `$base64encode`/`$base64decode` replace JSONata built-ins of the same name, so they are
/// left out: the built-ins answer to those names (without the `urlSafe` argument).
pub(crate) const EXTENSIONS: &[Extension] = &[
    Extension::new("sign", 4, crypto::sign),
    Extension::new("digest", 3, crypto::digest),
    Extension::new("toNumber", 1, values::to_number),
    Extension::new("jsonParse", 1, values::json_parse),
    Extension::new("firstNonEmpty", usize::MAX, values::first_non_empty),
    Extension::new("removeEmpty", 1, values::remove_empty),
    Extension::new("removeEmptyItems", 1, values::remove_empty_items),
    Extension::new("mapValues", 4, values::map_values),
    Extension::new("uuid", 0, values::uuid),
    Extension::new("parseUrl", 1, web::parse_url),
    Extension::new("parseQuery", 2, query::parse_query),
    Extension::new("stringifyQuery", 2, query::stringify_query),
    Extension::new("pick", 2, collections::pick),
    Extension::new("omit", 2, collections::omit),
    Extension::new("compact", 1, collections::compact),
    Extension::new("groupBy", 2, collections::group_by),
    Extension::new("keyBy", 2, collections::key_by),
    Extension::new("chunk", 2, collections::chunk),
    Extension::new("flatten", 1, collections::flatten),
    Extension::new("values", 1, collections::values),
    Extension::new("difference", 2, collections::difference),
    Extension::new("wrap", 3, collections::wrap),
    Extension::new("orderBy", 3, lodash::order_by),
    Extension::new("find", 2, lodash::find),
    Extension::new("lofilter", 2, lodash::lofilter),
    Extension::new("flattenDeep", 1, lodash::flatten_deep),
    Extension::new("flattenDepth", 2, lodash::flatten_depth),
    Extension::new("diceCoefficient", 2, similarity::dice_coefficient),
    Extension::new("mostSimilar", 3, similarity::most_similar),
    Extension::new("sortNodes", 4, graph::sort_nodes),
    Extension::new("zipSqlResponse", 3, graph::zip_sql_response),
    Extension::new("getMimeType", 1, mime::get_mime_type),
    Extension::new("getDataUri", 2, mime::get_data_uri),
    Extension::new(
        "recursiveCharacterTextSplitter",
        2,
        text_splitter::recursive_character_text_splitter,
    ),
    Extension::new("dependencyGraph", 3, dep_graph::dependency_graph),
    Extension::new("convertQueryToSql", 6, sql::convert_query_to_sql),
    Extension::new("convertCurrencyToSubunit", 2, currency::to_subunit),
    Extension::new("convertCurrencyFromSubunit", 2, currency::from_subunit),
    Extension::new("dtFromIso", 2, luxon::dt_from_iso),
    Extension::new("dtFromFormat", 3, luxon::dt_from_format),
    Extension::new("xmlToJs", 2, xml::xml_to_js),
    Extension::new("jsToXml", 2, xml::js_to_xml),
    Extension::new("jsonToCsv", 2, csv::json_to_csv),
    Extension::new(
        "convertHtmlToMarkdown",
        1,
        html_markdown::convert_html_to_markdown,
    ),
    Extension::new(
        "convertMarkdownToAdf",
        1,
        markdown_adf::convert_markdown_to_adf,
    ),
    Extension::new(
        "convertMarkdownToGoogleDocs",
        2,
        markdown_gdocs::convert_markdown_to_google_docs,
    ),
    Extension::new(
        "convertMarkdownToHtml",
        2,
        markdown_html::convert_markdown_to_html,
    ),
    Extension::new(
        "convertMarkdownToNotion",
        1,
        markdown_notion::convert_markdown_to_notion,
    ),
    Extension::new(
        "convertMarkdownToSlack",
        1,
        markdown_slack::convert_markdown_to_slack,
    ),
    Extension::new(
        "convertNotionToMarkdown",
        2,
        notion::convert_notion_to_markdown,
    ),
    Extension::new("convertNotionToMd", 1, notion_md::convert_notion_to_md),
];

/// The methods of a `$dependencyGraph` result. They are called as `g.overallOrder()` and
/// take the graph as their first argument: jsonata-core expressions that use
/// `$dependencyGraph` get the context (`$`) inserted as the first argument of calls with
/// these names, and on jsonata-rs a graph object carries them as fields and the adapter
/// passes the call's context. They are registered only with `$dependencyGraph`.
pub(crate) const GRAPH_METHODS: &[Extension] = &[
    Extension::new("overallOrder", 2, dep_graph::overall_order),
    Extension::new("dependenciesOf", 2, dep_graph::dependencies_of),
    Extension::new("dependantsOf", 2, dep_graph::dependants_of),
    Extension::new("hasNode", 2, dep_graph::has_node),
    Extension::new("getNodeData", 2, dep_graph::get_node_data),
    Extension::new("clone", 1, dep_graph::clone),
];

/// Whether `extension` is one of the [`GRAPH_METHODS`].
pub(crate) fn is_graph_method(extension: &Extension) -> bool {
    GRAPH_METHODS
        .iter()
        .any(|method| method.name == extension.name)
}

/// Whether `value` is a `$dependencyGraph` result, which jsonata-rs gives its methods.
#[cfg_attr(not(feature = "jsonata-rs"), allow(dead_code))]
pub(crate) fn is_graph(value: &Value) -> bool {
    dep_graph::is_graph(value)
}

/// The bit mask [`Extension::call_marked`] takes, from one flag per argument (`true` for a
/// function). Arguments past the 64th are never marked.
pub(crate) fn function_mask(is_function: impl Iterator<Item = bool>) -> u64 {
    is_function
        .take(64)
        .enumerate()
        .filter(|(_, function)| *function)
        .fold(0, |mask, (index, _)| mask | (1 << index))
}

/// The extension or graph method called `name` (without `$`).
#[cfg_attr(not(feature = "jsonata-rs"), allow(dead_code))]
pub(crate) fn find(name: &str) -> Option<&'static Extension> {
    EXTENSIONS
        .iter()
        .chain(GRAPH_METHODS)
        .find(|extension| extension.name == name)
}

/// Milliseconds since the epoch now: the instant every `$now()`/`$millis()` of one
/// evaluation returns.
#[cfg(feature = "jsonata-core")]
pub(crate) fn now_millis() -> f64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    // Whole milliseconds, as JavaScript's `Date.now()`.
    (since_epoch.as_millis() as f64).trunc()
}

/// The names of all extension functions (without `$`), in documentation order.
pub fn names() -> impl Iterator<Item = &'static str> {
    EXTENSIONS.iter().map(|extension| extension.name)
}

/// The extensions an expression can call, found once at compile time so that evaluations
/// only register those.
///
/// A JSONata function is reachable only through a `$name` token in the source, so the scan
/// looks for `$` followed by an extension name and a non-identifier character. Tokens
/// inside string literals also count (harmless extra registrations). An expression that
/// uses `$eval` can reach any name, so it gets every extension.
pub(crate) fn used_by(source: &str) -> Vec<&'static Extension> {
    let mut used: Vec<&'static Extension> = Vec::new();
    let mut rest = source;
    while let Some(dollar) = rest.find('$') {
        let after = &rest[dollar + 1..];
        let end = after
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        let name = &after[..end];
        if name == "eval" {
            return EXTENSIONS.iter().chain(GRAPH_METHODS).collect();
        }
        if let Some(extension) = EXTENSIONS.iter().find(|extension| extension.name == name)
            && !used.iter().any(|known| known.name == extension.name)
        {
            used.push(extension);
            if extension.name == "dependencyGraph" {
                used.extend(GRAPH_METHODS);
            }
        }
        rest = &after[end..];
    }
    used
}

thread_local! {
    /// The last extension error raised on this thread, so the backend can report it intact
    /// (the engines only carry a message string through their own error types).
    static LAST_ERROR: RefCell<Option<ExtensionError>> = const { RefCell::new(None) };
}

/// Remembers `error` as the one an extension just raised on this thread.
pub(crate) fn stash_error(error: ExtensionError) {
    LAST_ERROR.with(|slot| *slot.borrow_mut() = Some(error));
}

/// Takes the error stashed by the last failing extension call on this thread, if any.
pub(crate) fn take_stashed_error() -> Option<ExtensionError> {
    LAST_ERROR.with(|slot| slot.borrow_mut().take())
}

/// The error to report for an evaluation that failed with `engine_message`: the stashed
/// extension error when the engine's message is (or ends with) that error's text.
pub(crate) fn stashed_error_for(engine_message: &str) -> Option<ExtensionError> {
    take_stashed_error().filter(|error| engine_message.contains(&error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        for (index, extension) in EXTENSIONS.iter().enumerate() {
            assert!(
                EXTENSIONS[..index]
                    .iter()
                    .all(|other| other.name != extension.name),
                "{} listed twice",
                extension.name
            );
        }
    }

    #[test]
    fn scan_finds_called_names_only() {
        let names = |source: &str| -> Vec<&str> {
            used_by(source)
                .iter()
                .map(|extension| extension.name)
                .collect()
        };
        assert_eq!(
            names("$sign(a, 'SHA-256', $s) & $signature & $uuid()"),
            ["sign", "uuid"]
        );
        assert_eq!(names("$string(x).$values"), ["values"]);
        assert!(names("$sum(x)").is_empty());
        assert_eq!(
            names("$eval(x)").len(),
            EXTENSIONS.len() + GRAPH_METHODS.len()
        );
        assert_eq!(
            names("$dependencyGraph(x, 'p', 'id').overallOrder()"),
            [
                "dependencyGraph",
                "overallOrder",
                "dependenciesOf",
                "dependantsOf",
                "hasNode",
                "getNodeData",
                "clone"
            ]
        );
    }
}
