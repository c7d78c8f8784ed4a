//! `$convertHtmlToMarkdown(html)`: HTML → markdown as truto-jsonata 3.0.6 writes it with
//! turndown 7.2 and `@truto/turndown-plugin-gfm`, default options (setext `=`/`-`
//! headings for levels 1–2, `*` bullets with three spaces, `1.` with two, indented code
//! blocks, `_em_`, `**strong**`, `* * *` rules, inline links, `~~strike~~`, pipe tables,
//! `[x]` task boxes).
//!
//! The text is parsed as a whole document ([`dom`]), so `<head>` text (a `<title>`,
//! `<style>` or `<script>` body) is part of the output, as in the package. Then, as
//! turndown does: white space is collapsed the way a browser lays it out ([`whitespace`]),
//! and every node is replaced bottom-up by its rule, blocks joined with at most one blank
//! line and text escaped against markdown syntax ([`rules`]).

mod dom;
mod rules;
mod whitespace;

use serde_json::Value;

use super::bounds::MAX_TEXT_BYTES;
use super::js::js_string;
use super::{Args, Outcome};

/// `$convertHtmlToMarkdown(html)`. `undefined`/`null` give `""`; other values are read
/// through `String()` (an object as `[object Object]`).
pub(crate) fn convert_html_to_markdown(args: &Args<'_>) -> Outcome {
    let html = match args.get(0) {
        None | Some(Value::Null) => return Ok(Some(Value::String(String::new()))),
        Some(Value::String(text)) => text.clone(),
        // Objects too: an input object prints as `[object Object]`, as in the package.
        Some(other) => js_string(other),
    };
    if html.len() > MAX_TEXT_BYTES {
        return Err(args.failed(format!(
            "the HTML is {} bytes, more than the limit of {MAX_TEXT_BYTES}",
            html.len()
        )));
    }
    convert(&html)
        .map(|markdown| Some(Value::String(markdown)))
        .map_err(|message| args.failed(message))
}

fn convert(html: &str) -> Result<String, String> {
    let mut dom = dom::Dom::parse(html)?;
    whitespace::collapse(&mut dom, 0);
    dom.index_children();
    let output = rules::Converter::new(&dom).process(0, false)?;
    Ok(post_process(&output))
}

/// turndown's `postProcess`: leading tabs/newlines and trailing white space removed.
fn post_process(output: &str) -> String {
    let start = output.trim_start_matches(['\t', '\r', '\n']);
    start
        .trim_end_matches(|c: char| matches!(c, '\t' | '\r' | '\n') || super::js::is_js_space(c))
        .to_owned()
}
