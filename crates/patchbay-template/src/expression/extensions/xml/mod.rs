//! `$xmlToJs` and `$jsToXml`: npm `xml-js` 1.6.11 (`xml2js` / `js2xml`) as truto-jsonata
//! 3.0.6 calls it, with its options.
//!
//! * [`options`] reads the options object the way xml-js's option helpers do.
//! * [`read`] tokenises with `quick-xml` and builds xml-js's compact (`_text`,
//!   `_attributes`, …) or non-compact (`elements`) form, checking well-formedness as the
//!   package's strict `sax` parser does.
//! * [`write`] prints either form back to XML text.
//!
//! Hostile input: DTD entity declarations are never expanded (a reference to one is an
//! error, as in sax), and nesting, node count and text size are bounded (see
//! [`super::bounds`]).

mod entities;
mod options;
mod read;
mod write;

use serde_json::Value;

use super::{Args, Outcome};

/// `$xmlToJs(xml[, options])`: the xml-js object form of an XML text.
///
/// Without `options` the package uses `{compact: true, spaces: 4}`. A non-string `xml`
/// parses as nothing (`{}`), as sax reads no characters from it; `undefined` fails.
pub(crate) fn xml_to_js(args: &Args<'_>) -> Outcome {
    let options =
        options::Options::from_arg(args.get(1)).map_err(|message| args.failed(message))?;
    match args.get(0) {
        None => Err(args.failed("Cannot read properties of undefined (reading 'length')")),
        Some(Value::String(text)) => read::parse(text, &options)
            .map(Some)
            .map_err(|message| args.failed(message)),
        Some(Value::Object(_)) => Err(args.failed("Non-whitespace before first tag.")),
        Some(Value::Array(items)) => {
            // sax reads `String(array)`.
            let text = super::js::to_js_string(&Value::Array(items.clone()))
                .ok_or_else(|| args.failed("Non-whitespace before first tag."))?;
            read::parse(&text, &options)
                .map(Some)
                .map_err(|message| args.failed(message))
        }
        Some(_) => Ok(Some(Value::Object(serde_json::Map::new()))),
    }
}

/// `$jsToXml(value[, options])`: XML text from the xml-js object form.
///
/// Without `options` the package uses `{compact: true, spaces: 4}`.
pub(crate) fn js_to_xml(args: &Args<'_>) -> Outcome {
    let options =
        options::Options::from_arg(args.get(1)).map_err(|message| args.failed(message))?;
    write::write(args.get(0), &options)
        .map(|text| text.map(Value::String))
        .map_err(|message| args.failed(message))
}
