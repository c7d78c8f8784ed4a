//! `$convertNotionToMarkdown(blocks[, linkChildPages])`: Notion API blocks → markdown, as
//! truto-jsonata 3.0.6 writes it.
//!
//! The package works on a flat list of blocks (as the Notion API pages them): a list item
//! followed by a non-list block gets an empty paragraph after it, blocks whose `parent.type`
//! is `block_id` are printed only as children (found through their `parent_id`), numbered
//! list items are numbered per run, and each block type has its own template (headings
//! `# `, lists `- ` / `1. ` with tab indentation, to-dos `- [X] `, quotes and callouts `> `,
//! code fences, tables as pipe tables, `---` dividers, links for files, embeds and
//! bookmarks). Rich text is printed with its annotations (`**bold**`, `_italic_`,
//! `~~strike~~`, `` `code` ``) or as a link when it has an `href`.
//!
//! JavaScript's template-string conversions are kept, quirks included: a missing value
//! prints as `undefined`, an array as its members joined with `,`, and a bookmark's link
//! target is the literal text `data.url`.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::bounds::{Budget, MAX_DEPTH, MAX_TEXT_BYTES};
use super::js::{is_truthy, js_string, number_to_js_string};
use super::{Args, Outcome};

/// `$convertNotionToMarkdown(blocks, linkChildPages = false)`.
pub(crate) fn convert_notion_to_markdown(args: &Args<'_>) -> Outcome {
    let blocks: Vec<Option<Value>> = match args.get(0) {
        Some(Value::Array(items)) => items.iter().cloned().map(Some).collect(),
        other => vec![other.cloned()],
    };
    let link_child_pages = is_truthy(args.get(1));
    let mut converter = Converter {
        link_child_pages,
        budget: Budget::new("convertNotionToMarkdown"),
        written: 0,
    };
    converter
        .convert(blocks)
        .map(|text| Some(Value::String(text)))
        .map_err(|message| args.failed(message))
}

/// `${value}` in a JavaScript template string (`None` = `undefined`).
fn template(value: Option<&Value>) -> String {
    match value {
        None => "undefined".to_owned(),
        Some(Value::Number(number)) => number_to_js_string(number.as_f64().unwrap_or(f64::NAN)),
        Some(other) => js_string(other),
    }
}

/// Lodash's `join`: members printed with `String()`, `null`/`undefined` as empty text.
fn join(items: &[Option<Value>], separator: &str) -> String {
    items
        .iter()
        .map(|item| match item {
            None | Some(Value::Null) => String::new(),
            Some(other) => template(Some(other)),
        })
        .collect::<Vec<_>>()
        .join(separator)
}

/// `value.field` for any value (`None` when it is not an object or lacks the field).
fn field<'v>(value: Option<&'v Value>, name: &str) -> Option<&'v Value> {
    match value {
        Some(Value::Object(map)) => map.get(name),
        _ => None,
    }
}

/// `value.field` where JavaScript would throw on `undefined`/`null`.
fn strict_field<'v>(value: Option<&'v Value>, name: &str) -> Result<Option<&'v Value>, String> {
    match value {
        None | Some(Value::Null) => Err(format!(
            "Cannot read properties of {} (reading '{name}')",
            if value.is_none() { "undefined" } else { "null" }
        )),
        other => Ok(field(other, name)),
    }
}

/// One rich-text item as the package formats it (`None` = `undefined`).
fn format_plain_text(item: Option<&Value>) -> Result<Option<Value>, String> {
    if !is_truthy(item) {
        return Ok(None);
    }
    let plain = field(item, "plain_text");
    if let Some(href) = field(item, "href")
        && is_truthy(Some(href))
    {
        let Value::String(href) = href else {
            return Err("x.href.startsWith is not a function".to_owned());
        };
        let target = if href.starts_with('/') {
            format!("https://www.notion.so{href}")
        } else {
            href.clone()
        };
        return Ok(Some(Value::String(format!(
            "[{}]({target})",
            template(plain)
        ))));
    }
    let annotations = field(item, "annotations");
    let on = |name: &str| is_truthy(field(annotations, name));
    let mut text = plain.cloned();
    let mut wrap = |marker: &str, closing: &str| {
        text = Some(Value::String(format!(
            "{marker}{}{closing}",
            template(text.as_ref())
        )));
    };
    if on("code") {
        wrap("`", "`");
    }
    if on("bold") {
        wrap("**", "**");
    }
    if on("italic") {
        wrap("_", "_");
    }
    if on("underline") {
        wrap("_", "_");
    }
    if on("strikethrough") {
        wrap("~~", "~~");
    }
    Ok(text)
}

/// `array.map(f)` where JavaScript needs a real array.
fn map_items<T>(
    value: Option<&Value>,
    what: &str,
    mut f: impl FnMut(Option<&Value>) -> Result<T, String>,
) -> Result<Vec<T>, String> {
    match value {
        Some(Value::Array(items)) => items.iter().map(|item| f(Some(item))).collect(),
        _ => Err(format!("{what}.map is not a function")),
    }
}

fn caption_text(data: Option<&Value>, fallback: &str) -> Result<String, String> {
    match field(data, "caption") {
        Some(caption) if is_truthy(Some(caption)) => {
            let texts = map_items(Some(caption), "data.caption", |item| {
                Ok(field(item, "plain_text").cloned())
            })?;
            if texts.is_empty() {
                Ok(fallback.to_owned())
            } else {
                Ok(join(&texts, ","))
            }
        }
        _ => Ok(fallback.to_owned()),
    }
}

fn file_url(data: Option<&Value>) -> String {
    if let Some(file) = field(data, "file")
        && is_truthy(Some(file))
    {
        return template(field(Some(file), "url"));
    }
    if let Some(external) = field(data, "external")
        && is_truthy(Some(external))
    {
        return template(field(Some(external), "url"));
    }
    String::new()
}

const LIST_TYPES: [&str; 3] = ["to_do", "numbered_list_item", "bulleted_list_item"];

fn block_type(block: Option<&Value>) -> Option<&str> {
    field(block, "type").and_then(Value::as_str)
}

struct Converter {
    link_child_pages: bool,
    budget: Budget,
    written: usize,
}

impl Converter {
    fn convert(&mut self, blocks: Vec<Option<Value>>) -> Result<String, String> {
        // insertNewLinesBetweenLists
        let mut all: Vec<Option<Value>> = Vec::with_capacity(blocks.len());
        for (index, block) in blocks.iter().enumerate() {
            if block.is_none() || block.as_ref().is_some_and(Value::is_null) {
                return Err("Cannot read properties of undefined (reading 'type')".to_owned());
            }
            all.push(block.clone());
            let is_list =
                |b: Option<&Value>| block_type(b).is_some_and(|kind| LIST_TYPES.contains(&kind));
            let next = blocks.get(index + 1).and_then(Option::as_ref);
            if is_list(block.as_ref()) && !is_list(next) {
                all.push(Some(serde_json::json!({
                    "type": "paragraph",
                    "paragraph": {"rich_text": [], "color": "default"}
                })));
            }
        }
        let parents: Vec<&Value> = all
            .iter()
            .flatten()
            .filter(|block| block_type(field(Some(block), "parent")) != Some("block_id"))
            .collect();
        // The blocks by `parent_id`, in order, so that finding a block's children does not
        // scan every block.
        let mut by_parent: HashMap<String, Vec<usize>> = HashMap::new();
        for (index, block) in all.iter().enumerate() {
            if let Some(key) = id_key(block.as_ref().and_then(|b| field(Some(b), "parent_id"))) {
                by_parent.entry(key).or_default().push(index);
            }
        }
        let resolved = parents
            .into_iter()
            .map(|block| self.resolve_children(block, &all, &by_parent, 0))
            .collect::<Result<Vec<_>, _>>()?;
        let numbered = number_ordered_lists(resolved, 0)?;
        let mut parts = Vec::with_capacity(numbered.len());
        for block in &numbered {
            parts.push(self.block(Some(block), 1, 0)?);
        }
        Ok(join(&parts, ""))
    }

    /// resolveChildren: a block with `has_children` gets the blocks whose `parent_id` is
    /// its `id` as `children`.
    fn resolve_children(
        &mut self,
        block: &Value,
        all: &[Option<Value>],
        by_parent: &HashMap<String, Vec<usize>>,
        depth: usize,
    ) -> Result<Value, String> {
        if depth > MAX_DEPTH {
            return Err("Maximum call stack size exceeded".to_owned());
        }
        self.budget.take().map_err(|error| error.to_string())?;
        if !is_truthy(field(Some(block), "has_children")) {
            return Ok(block.clone());
        }
        let mut children = Vec::new();
        let indices = id_key(field(Some(block), "id"))
            .and_then(|key| by_parent.get(&key))
            .map_or(&[][..], Vec::as_slice);
        for index in indices {
            if let Some(Some(candidate)) = all.get(*index) {
                children.push(self.resolve_children(candidate, all, by_parent, depth + 1)?);
            }
        }
        let mut copy = match block {
            Value::Object(map) => map.clone(),
            _ => Map::new(),
        };
        copy.insert("children".to_owned(), Value::Array(children));
        Ok(Value::Object(copy))
    }

    fn children(
        &mut self,
        block: Option<&Value>,
        level: usize,
        depth: usize,
        separator: &str,
    ) -> Result<String, String> {
        let parts = match field(block, "children") {
            Some(Value::Array(children)) => children
                .iter()
                .map(|child| self.block(Some(child), level, depth + 1))
                .collect::<Result<Vec<_>, _>>()?,
            _ => Vec::new(),
        };
        Ok(join(&parts, separator))
    }

    fn block(
        &mut self,
        block: Option<&Value>,
        level: usize,
        depth: usize,
    ) -> Result<Option<Value>, String> {
        if depth > MAX_DEPTH {
            return Err("Maximum call stack size exceeded".to_owned());
        }
        self.budget.take().map_err(|error| error.to_string())?;
        let kind_value = strict_field(block, "type")?;
        let kind = kind_value.map_or("undefined".to_owned(), |k| template(Some(k)));
        let data = field(block, &kind);
        let rich_text = strict_field(data, "rich_text")?;
        let plain: Vec<Option<Value>> = match rich_text {
            Some(value) if is_truthy(Some(value)) => {
                map_items(Some(value), "data.rich_text", format_plain_text)?
            }
            _ => Vec::new(),
        };
        let text = join(&plain, "");
        let n3 = "\n\n";
        let tabs = "\t".repeat(level);
        let out = match kind.as_str() {
            "bookmark" => format!("[{}](data.url){n3}", template(field(data, "url"))),
            "bulleted_list_item" | "numbered_list_item" | "to_do" => {
                let child = self.children(block, level + 1, depth, &tabs)?;
                let marker = match kind.as_str() {
                    "bulleted_list_item" => "- ".to_owned(),
                    "numbered_list_item" => format!("{}. ", template(field(block, "number"))),
                    _ => format!(
                        "- [{}] ",
                        if is_truthy(field(data, "checked")) {
                            "X"
                        } else {
                            " "
                        }
                    ),
                };
                let child = if child.is_empty() {
                    child
                } else {
                    format!("{tabs}{child}")
                };
                format!("{marker}{text}\n{child}")
            }
            "quote" | "callout" => format!("> {text}{n3}"),
            "code" => format!(
                "```{}\n{}\n```{n3}",
                template(field(data, "language")),
                join(&plain, ",")
            ),
            "divider" => format!("---{n3}"),
            "embed" => format!(
                "[{}]({}){n3}",
                caption_text(data, "Embed")?,
                template(field(data, "url"))
            ),
            "equation" => return Ok(field(data, "expression").cloned()),
            "paragraph" => format!("{text}{n3}"),
            "video" | "pdf" | "file" => {
                format!("[{}]({}){n3}", caption_text(data, "File")?, file_url(data))
            }
            "heading_1" | "heading_2" | "heading_3" | "heading_4" | "heading_5" | "heading_6" => {
                let count = kind["heading_".len()..].parse::<usize>().unwrap_or(1);
                format!("{} {text}{n3}", "#".repeat(count))
            }
            "image" => format!(
                "![{}]({}){n3}",
                caption_text(data, "Image")?,
                file_url(data)
            ),
            "child_page" => {
                let title = match field(data, "title") {
                    Some(title) if is_truthy(Some(title)) => template(Some(title)),
                    _ => "Untitled Page".to_owned(),
                };
                if self.link_child_pages {
                    let id = match field(block, "id") {
                        Some(Value::String(id)) => id.replace('-', ""),
                        _ => return Err("block3.id.replace is not a function".to_owned()),
                    };
                    format!("[{title}](https://www.notion.so/{id}){n3}")
                } else {
                    let child = self.children(block, level, depth, "")?;
                    format!("{title}{n3}{child}")
                }
            }
            "table" => match field(block, "children") {
                Some(children) if is_truthy(Some(children)) => self.table(children, data)?,
                _ => "Table as CSV\n".to_owned(),
            },
            "table_row" => format!("{}\n", row_text(strict_field(data, "cells")?)?),
            _ => {
                let child = self.children(block, level, depth, "")?;
                format!("{text}{n3}{child}")
            }
        };
        self.written += out.len();
        if self.written > MAX_TEXT_BYTES {
            return Err(format!(
                "the markdown would be more than the limit of {MAX_TEXT_BYTES} bytes"
            ));
        }
        Ok(Some(Value::String(out)))
    }

    fn table(&mut self, children: &Value, data: Option<&Value>) -> Result<String, String> {
        let Value::Array(rows) = children else {
            return Err("block3.children.slice is not a function".to_owned());
        };
        let first = rows.first();
        let header_cells = strict_field(strict_field(first, "table_row")?, "cells")?;
        let header = format!("{}\n", row_text(header_cells)?);
        // lodash `repeat`: the count is truncated to an integer, below 1 gives "".
        let width = match field(data, "table_width") {
            Some(Value::Number(number)) => number.as_f64().unwrap_or(0.0),
            Some(Value::String(text)) => text.trim().parse::<f64>().unwrap_or(0.0),
            Some(Value::Bool(true)) => 1.0,
            _ => 0.0,
        };
        let width = if width.is_finite() && width >= 1.0 {
            (width.trunc() as usize).min(MAX_TEXT_BYTES / 4)
        } else {
            0
        };
        let divider = format!("|{}\n", "---|".repeat(width));
        let mut lines = Vec::new();
        for row in rows.iter().skip(1) {
            let cells = strict_field(strict_field(Some(row), "table_row")?, "cells")?;
            lines.push(row_text(cells)?);
        }
        Ok(format!("{header}{divider}{}\n\n", lines.join("\n")))
    }
}

/// `| cell | cell |` from a row's `cells` (arrays of rich text).
fn row_text(cells: Option<&Value>) -> Result<String, String> {
    let texts = map_items(cells, "cells", |cell| {
        let parts = map_items(cell, "x", format_plain_text)?;
        Ok(Some(Value::String(join(&parts, ""))))
    })?;
    Ok(format!("| {} |", join(&texts, " | ")))
}

/// A key under which JavaScript `===` equal ids are equal: `undefined`, `null`, booleans,
/// strings and numbers (by value, `0` and `-0` alike). Objects and arrays are never `===`
/// another value, so they have no key.
fn id_key(value: Option<&Value>) -> Option<String> {
    match value {
        None => Some("u".to_owned()),
        Some(Value::Null) => Some("z".to_owned()),
        Some(Value::Bool(flag)) => Some(format!("b{flag}")),
        Some(Value::String(text)) => Some(format!("s{text}")),
        Some(Value::Number(number)) => {
            let number = number.as_f64().unwrap_or(f64::NAN);
            Some(format!("n{}", number_to_js_string(number)))
        }
        Some(Value::Array(_) | Value::Object(_)) => None,
    }
}

/// numberOrderedLists: consecutive numbered list items get `number` 1, 2, …; any other
/// block restarts the count. The children of numbered items are numbered too.
fn number_ordered_lists(blocks: Vec<Value>, depth: usize) -> Result<Vec<Value>, String> {
    if depth > MAX_DEPTH {
        return Err("Maximum call stack size exceeded".to_owned());
    }
    let mut number = 0u64;
    let mut out = Vec::with_capacity(blocks.len());
    for mut block in blocks {
        if block_type(Some(&block)) != Some("numbered_list_item") {
            number = 0;
            out.push(block);
            continue;
        }
        if let Value::Object(map) = &mut block {
            if let Some(children) = map.get_mut("children")
                && is_truthy(Some(children))
            {
                if let Value::Array(items) = children.take() {
                    *children = Value::Array(number_ordered_lists(items, depth + 1)?);
                } else {
                    return Err("blocks.map is not a function".to_owned());
                }
            }
            number += 1;
            map.insert("number".to_owned(), Value::from(number));
        }
        out.push(block);
    }
    Ok(out)
}
