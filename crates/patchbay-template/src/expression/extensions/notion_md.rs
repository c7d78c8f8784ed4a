//! `$convertNotionToMd(block)`: one Notion block → markdown, as truto-jsonata 3.0.6 writes
//! it with `json2md`.
//!
//! Unlike `$convertNotionToMarkdown`, rich text is plain (only links are kept, no
//! annotations), and the layout is json2md's: a paragraph is `"\n" + text + "\n"` (every
//! line of it preceded by a line break), headings `# …` with the items on separate lines,
//! quotes `> …` per item, list items ` - …` / ` 1. …` with the trailing white space
//! trimmed and `" \n"` added, code fences, `[title](url)` links for bookmarks, embeds and
//! files, `![alt](url "title")` for images, and `<strong>`/`<em>`/`<u>`/`<strike>` tags in
//! text rewritten to markdown. A missing value fails where json2md fails on `undefined`.

use serde_json::Value;

use super::js::{is_truthy, js_string};
use super::{Args, Outcome};

/// `$convertNotionToMd(block)`.
pub(crate) fn convert_notion_to_md(args: &Args<'_>) -> Outcome {
    convert(args.get(0))
        .map(|text| Some(Value::String(text)))
        .map_err(|message| args.failed(message))
}

const UNDEFINED_OBJECT: &str = "Cannot convert undefined or null to object";

/// `${value}` / `String(value)` (`None` = `undefined`).
fn template(value: Option<&Value>) -> String {
    value.map_or_else(|| "undefined".to_owned(), js_string)
}

/// `indento(text, 1, prefix)`: `prefix` at the start of every line.
fn indento(text: &str, prefix: &str) -> String {
    if prefix.is_empty() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + prefix.len());
    out.push_str(prefix);
    for c in text.chars() {
        out.push(c);
        if matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}') {
            out.push_str(prefix);
        }
    }
    out
}

/// `json2md(value, prefix)` for the values the block mapping passes: texts and numbers
/// (prefixed per line), booleans (nothing); `undefined`/`null` fail as in json2md.
fn json2md_scalar(value: Option<&Value>, prefix: &str) -> Result<String, String> {
    match value {
        Some(Value::String(text)) => Ok(indento(text, prefix)),
        Some(number @ Value::Number(_)) => Ok(indento(&js_string(number), prefix)),
        Some(Value::Bool(_)) => Ok(String::new()),
        None | Some(Value::Null) => Err(UNDEFINED_OBJECT.to_owned()),
        Some(Value::Array(items)) => {
            let parts = items
                .iter()
                .map(|item| json2md_scalar(Some(item), "").map(|text| indento(&text, prefix)))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(parts.join("\n"))
        }
        Some(Value::Object(map)) => Err(format!(
            "There is no such converter: {}",
            map.keys().next().map_or("undefined", String::as_str)
        )),
    }
}

/// json2md's `parseTextFormat`: HTML emphasis tags to markdown.
fn parse_text_format(text: &str) -> String {
    const TAGS: [(&str, &str); 6] = [
        ("strong", "**"),
        ("bold", "**"),
        ("em", "*"),
        ("italic", "*"),
        ("u", "_"),
        ("strike", "~~"),
    ];
    let mut out = text.to_owned();
    for (tag, marker) in TAGS {
        let mut result = String::with_capacity(out.len());
        let mut rest = out.as_str();
        while let Some(position) = rest.find('<') {
            result.push_str(&rest[..position]);
            let after = &rest[position + 1..];
            let after_slash = after.strip_prefix('/').unwrap_or(after);
            let matches = after_slash.len() > tag.len()
                && after_slash.is_char_boundary(tag.len())
                && after_slash[..tag.len()].eq_ignore_ascii_case(tag)
                && after_slash[tag.len()..].starts_with('>');
            if matches {
                result.push_str(marker);
                rest = &after_slash[tag.len() + 1..];
            } else {
                result.push('<');
                rest = after;
            }
        }
        result.push_str(rest);
        out = result;
    }
    out
}

/// json2md's `indent(content, spaces, true)`: every line but the first indented.
fn indent_after_first(content: &str, spaces: usize) -> String {
    let mut lines = content.split('\n');
    let first = lines.next().unwrap_or_default();
    let pad = " ".repeat(spaces);
    let rest: Vec<String> = lines.map(|line| format!("{pad}{line}")).collect();
    if rest.is_empty() {
        first.to_owned()
    } else {
        format!("{first}\n{}", rest.join("\n"))
    }
}

/// `ul` / `ol` items, trimmed, then `" \n"`.
fn list(items: &[Option<Value>], ordered: bool) -> Result<String, String> {
    let mut out = String::new();
    for (index, item) in items.iter().enumerate() {
        let marker = if ordered {
            format!("\n {}. ", index + 1)
        } else {
            "\n - ".to_owned()
        };
        let body = json2md_scalar(item.as_ref(), "")?;
        out.push_str(&marker);
        out.push_str(&parse_text_format(&indent_after_first(&body, 4)));
    }
    Ok(format!("{} \n", out.trim_matches(super::js::is_js_space)))
}

fn paragraph(text: &str) -> String {
    format!("{}\n", parse_text_format(&indento(text, "\n")))
}

fn field<'v>(value: Option<&'v Value>, name: &str) -> Option<&'v Value> {
    match value {
        Some(Value::Object(map)) => map.get(name),
        _ => None,
    }
}

/// `items.join(sep)`: `null`/`undefined` as empty text.
fn join(items: &[Option<Value>], separator: &str) -> String {
    items
        .iter()
        .map(|item| match item {
            None | Some(Value::Null) => String::new(),
            Some(value) => js_string(value),
        })
        .collect::<Vec<_>>()
        .join(separator)
}

fn file_url(data: Option<&Value>) -> String {
    if let Some(file) = field(data, "file").filter(|file| is_truthy(Some(file))) {
        return template(field(Some(file), "url"));
    }
    if let Some(external) = field(data, "external").filter(|e| is_truthy(Some(e))) {
        return template(field(Some(external), "url"));
    }
    String::new()
}

fn convert(block: Option<&Value>) -> Result<String, String> {
    let kind = match field(block, "type") {
        Some(kind) => js_string(kind),
        None if block.is_some_and(|b| !b.is_null()) => "undefined".to_owned(),
        None => return Err("Cannot read properties of undefined (reading 'type')".to_owned()),
    };
    let data = field(block, &kind);
    if data.is_none_or(Value::is_null) {
        return Err("Cannot read properties of undefined (reading 'rich_text')".to_owned());
    }
    let plain: Vec<Option<Value>> = match field(data, "rich_text") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                if !is_truthy(Some(item)) {
                    return Ok(None);
                }
                let text = field(Some(item), "plain_text");
                match field(Some(item), "href").filter(|href| is_truthy(Some(href))) {
                    Some(Value::String(href)) => {
                        let target = if href.starts_with('/') {
                            format!("https://www.notion.so{href}")
                        } else {
                            href.clone()
                        };
                        Ok(Some(Value::String(format!(
                            "[{}]({target})",
                            template(text)
                        ))))
                    }
                    Some(_) => Err("x.href.startsWith is not a function".to_owned()),
                    None => Ok(text.cloned()),
                }
            })
            .collect::<Result<_, String>>()?,
        Some(other) if is_truthy(Some(other)) => {
            return Err("data.rich_text.map is not a function".to_owned());
        }
        _ => Vec::new(),
    };
    let caption: Vec<Option<Value>> = match field(data, "caption") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| field(Some(item), "plain_text").cloned())
            .collect(),
        Some(other) if is_truthy(Some(other)) => {
            return Err("data.caption.map is not a function".to_owned());
        }
        _ => Vec::new(),
    };
    let caption_or = |fallback: &str| {
        if caption.is_empty() {
            fallback.to_owned()
        } else {
            join(&caption, ",")
        }
    };
    let link = |title: String, source: String| format!("[{title}]({source})\n");
    Ok(match kind.as_str() {
        "bookmark" => link(template(field(data, "url")), template(field(data, "url"))),
        "bulleted_list_item" => list(&plain, false)?,
        "numbered_list_item" => list(&plain, true)?,
        "quote" | "callout" => {
            let lines = plain
                .iter()
                .map(|item| json2md_scalar(item.as_ref(), "").map(|text| indento(&text, "> ")))
                .collect::<Result<Vec<_>, _>>()?;
            format!("{}\n", lines.join("\n"))
        }
        "code" => {
            let language = match field(data, "language") {
                Some(language) if is_truthy(Some(language)) => js_string(language),
                _ => String::new(),
            };
            format!("```{language}\n{}\n```\n", join(&plain, "\n"))
        }
        "divider" => "--- \n".to_owned(),
        "embed" => link(caption_or("Embed"), template(field(data, "url"))),
        "equation" => paragraph(&json2md_scalar(field(data, "expression"), "")?),
        "paragraph" => paragraph(&join(&plain, "")),
        "video" | "pdf" | "file" => link(caption_or("File"), file_url(data)),
        "heading_1" | "heading_2" | "heading_3" | "heading_4" | "heading_5" | "heading_6" => {
            let level = kind["heading_".len()..].parse::<usize>().unwrap_or(1);
            let lines = plain
                .iter()
                .map(|item| json2md_scalar(item.as_ref(), ""))
                .collect::<Result<Vec<_>, _>>()?;
            format!("{} {}\n", "#".repeat(level), lines.join("\n"))
        }
        "image" => {
            let label = caption_or("Image");
            format!("![{label}]({} \"{label}\")\n", file_url(data))
        }
        "table" => paragraph("Tabular values as CSV"),
        "table_row" => {
            let cells = match field(data, "cells") {
                Some(Value::Array(cells)) => cells
                    .iter()
                    .map(|cell| match cell {
                        Value::Array(parts) => field(parts.first(), "plain_text").cloned(),
                        _ => None,
                    })
                    .collect::<Vec<_>>(),
                _ => return Err("data.cells.map is not a function".to_owned()),
            };
            paragraph(&join(&cells, ","))
        }
        "to_do" => format!(
            "- [{}] {}\n",
            if is_truthy(field(data, "checked")) {
                "X"
            } else {
                " "
            },
            join(&plain, "")
        ),
        _ => paragraph(&join(&plain, "")),
    })
}
