//! The URL functions on jsonata-rs, which lacks them: `$encodeUrlComponent`, `$encodeUrl`,
//! `$decodeUrlComponent` and `$decodeUrl` as jsonata-js has them (see
//! [`js_builtins::url`](super::js_builtins::url)), on `serde_json` values.
//!
//! truto-jsonata's replacements of built-ins (`$join`, `$string`, `$keys`, the base64
//! pair) cannot be made on jsonata-rs: it binds its built-ins at the start of every
//! evaluation, over any host function registered under the same name.

use serde_json::Value;

use super::extensions::ExtensionError;
use super::js_builtins::url::{MALFORMED_CODE, UrlFunction, malformed_message};

/// The result of a call: `Ok(None)` is JSONata `undefined`.
type Outcome = Result<Option<Value>, ExtensionError>;

/// A function Patchbay registers on jsonata-rs besides the extensions.
#[derive(Clone, Copy)]
pub(crate) struct RsFunction {
    /// The name, without `$`.
    pub(crate) name: &'static str,
    /// The arguments a higher-order function hands it as a callback.
    pub(crate) arity: usize,
    /// Whether a call without arguments takes the context (`x.$encodeUrl()`).
    pub(crate) takes_context: bool,
    /// The function; `None` arguments are `undefined`.
    pub(crate) call: fn(&[Option<Value>]) -> Outcome,
}

impl std::fmt::Debug for RsFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "${}", self.name)
    }
}

/// Every function Patchbay registers on jsonata-rs besides the extensions.
pub(crate) const RS_FUNCTIONS: &[RsFunction] = &[
    url_function("encodeUrlComponent", |args| {
        url(UrlFunction::EncodeComponent, args)
    }),
    url_function("encodeUrl", |args| url(UrlFunction::Encode, args)),
    url_function("decodeUrlComponent", |args| {
        url(UrlFunction::DecodeComponent, args)
    }),
    url_function("decodeUrl", |args| url(UrlFunction::Decode, args)),
];

const fn url_function(name: &'static str, call: fn(&[Option<Value>]) -> Outcome) -> RsFunction {
    RsFunction {
        name,
        arity: 1,
        takes_context: true,
        call,
    }
}

/// The functions an expression can reach: those its source mentions (all of them for
/// `$eval`).
pub(crate) fn used_by(source: &str) -> Vec<&'static RsFunction> {
    let evaluates_text = source.contains("eval");
    RS_FUNCTIONS
        .iter()
        .filter(|entry| evaluates_text || source.contains(entry.name))
        .collect()
}

/// The function registered as `name`.
pub(crate) fn find(name: &str) -> Option<&'static RsFunction> {
    RS_FUNCTIONS.iter().find(|entry| entry.name == name)
}

/// A URL function: `undefined` gives `undefined`, a non-string or a second argument is
/// `T0410`, a malformed escape `D3140`. (jsonata-rs hands a callback only `arity`
/// arguments, so more than one is a direct call with too many.)
fn url(function: UrlFunction, args: &[Option<Value>]) -> Outcome {
    if args.len() > 1 {
        return Err(ExtensionError::Argument {
            function: function.name(),
            position: 2,
            expected: "absent (the function takes one argument)",
        });
    }
    match args.first() {
        None | Some(None) => Ok(None),
        Some(Some(Value::String(text))) => match function.apply(text) {
            Ok(result) => Ok(Some(Value::String(result))),
            Err(_) => Err(ExtensionError::Coded {
                function: function.name(),
                code: MALFORMED_CODE,
                message: malformed_message(function, text),
            }),
        },
        Some(Some(_)) => Err(ExtensionError::Argument {
            function: function.name(),
            position: 1,
            expected: "a string",
        }),
    }
}
