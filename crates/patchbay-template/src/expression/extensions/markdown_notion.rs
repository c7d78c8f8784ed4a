//! `$convertMarkdownToNotion(markdown)`: markdown → `{children: [Notion blocks]}` as
//! truto-jsonata 3.0.6 builds it from marked's tokens ([`super::markdown_tokens`]).
//!
//! Headings become `heading_<depth>`, paragraphs `paragraph` (images in them are moved
//! after the paragraph as `image` blocks), lists `bulleted_list_item` /
//! `numbered_list_item` / `to_do` (the first item decides), blockquotes `callout` (from
//! their first paragraph), code `code` (`language` "plain text" when none), tables `table`
//! with `table_row`s, rules `divider`, and every blank-line `space` token an empty-line
//! paragraph. Rich text is split at line breaks (a `"\n"` item between the lines) and into
//! pieces of at most 2000 characters; `**`/`_`/`` ` `` set `bold`/`italic`/`code`
//! annotations and links set `text.link.url`.

use serde_json::{Map, Value, json};

use super::bounds::MAX_DEPTH;
use super::markdown_tokens::{Block, Inline, Item, decode_html_entities, lex, markdown_argument};
use super::{Args, Outcome};

/// `$convertMarkdownToNotion(markdown)`.
pub(crate) fn convert_markdown_to_notion(args: &Args<'_>) -> Outcome {
    let markdown = markdown_argument(args)?;
    let blocks =
        lex(markdown, "convertMarkdownToNotion").map_err(|message| args.failed(message))?;
    let children = blocks_to_notion(&blocks, 0).map_err(|message| args.failed(message))?;
    Ok(Some(json!({ "children": children })))
}

/// `text.match(/.{1,2000}/g)`: runs of characters other than line terminators, in pieces
/// of at most 2000 UTF-16 units; `None` when there is no such character.
fn chunk_text(text: &str) -> Option<Vec<String>> {
    let mut chunks = Vec::new();
    let mut current = String::new();
    let mut units = 0;
    for c in text.chars() {
        if matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}') {
            if !current.is_empty() {
                chunks.push(std::mem::take(&mut current));
                units = 0;
            }
            continue;
        }
        if units + c.len_utf16() > 2000 {
            chunks.push(std::mem::take(&mut current));
            units = 0;
        }
        current.push(c);
        units += c.len_utf16();
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    (!chunks.is_empty()).then_some(chunks)
}

/// Rich text for `text`: lines split at `\n`, each chunked, with a `separator` item
/// between the lines; `code` adds the code annotation.
fn rich_text(text: &str, separator: &str, code: bool) -> Vec<Value> {
    let lines: Vec<Vec<String>> = text.split('\n').filter_map(chunk_text).collect();
    let mut out = Vec::new();
    let item = |content: &str| {
        let mut item = json!({"type": "text", "text": {"content": content}});
        if code && let Value::Object(map) = &mut item {
            map.insert("annotations".to_owned(), json!({"code": true}));
        }
        item
    };
    for (index, line) in lines.iter().enumerate() {
        if index > 0 {
            out.push(json!({"type": "text", "text": {"content": separator}}));
        }
        for chunk in line {
            out.push(item(chunk));
        }
    }
    out
}

/// `set(child, path, value)` on an object.
fn set_path(child: &mut Value, path: &[&str], value: Value) {
    let mut current = child;
    for (index, key) in path.iter().enumerate() {
        let Value::Object(map) = current else {
            return;
        };
        if index == path.len() - 1 {
            map.insert((*key).to_owned(), value);
            return;
        }
        let entry = map
            .entry((*key).to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        current = entry;
    }
}

fn inlines_to_notion(tokens: &[Inline], depth: usize) -> Result<Vec<Value>, String> {
    if depth > MAX_DEPTH {
        return Err(format!("the markdown nests deeper than {MAX_DEPTH} levels"));
    }
    let mut out = Vec::new();
    for token in tokens {
        match token {
            Inline::Text(text, _) | Inline::Escape(text) | Inline::Html(text) => {
                // marked 14 escapes text in its tokens; the package decodes that again, and
                // entity references written in the source with it.
                if !text.is_empty() {
                    out.extend(rich_text(&decode_html_entities(text), "\n", false));
                }
            }
            Inline::Codespan(text, _) => {
                if !text.is_empty() {
                    out.extend(rich_text(text, "\n", true));
                }
            }
            Inline::Br(_) => {}
            Inline::Image { href, .. } => out.push(image(href)),
            Inline::Strong { tokens: inner, .. } | Inline::Em { tokens: inner, .. } => {
                let annotation = if matches!(token, Inline::Strong { .. }) {
                    "bold"
                } else {
                    "italic"
                };
                let mut children = inlines_to_notion(inner, depth + 1)?;
                for child in &mut children {
                    set_path(child, &["annotations", annotation], Value::Bool(true));
                }
                out.extend(children);
            }
            Inline::Del { tokens: inner, .. } => out.extend(inlines_to_notion(inner, depth + 1)?),
            Inline::Link { href, tokens, .. } => {
                let mut children = inlines_to_notion(tokens, depth + 1)?;
                for child in &mut children {
                    if child.get("text").is_some_and(|text| !text.is_null()) {
                        set_path(child, &["text", "link", "url"], Value::String(href.clone()));
                    }
                }
                out.extend(children);
            }
        }
    }
    Ok(out)
}

fn image(href: &str) -> Value {
    json!({"type": "image", "image": {"type": "external", "external": {"url": href}}})
}

fn list_items(ordered: bool, items: &[Item], depth: usize) -> Result<Vec<Value>, String> {
    let kind = match items.first() {
        Some(first) if first.task => "to_do",
        _ if ordered => "numbered_list_item",
        _ => "bulleted_list_item",
    };
    let mut out = Vec::new();
    for item in items {
        let children = blocks_to_notion(&item.tokens, depth + 1)?;
        let (text, nested): (Vec<Value>, Vec<Value>) = children
            .into_iter()
            .partition(|child| child.get("type").and_then(Value::as_str) == Some("text"));
        let mut body = Map::new();
        if !text.is_empty() {
            body.insert("rich_text".to_owned(), Value::Array(text));
        }
        if !nested.is_empty() {
            body.insert("children".to_owned(), Value::Array(nested));
        }
        if kind == "to_do"
            && let Some(checked) = item.checked
        {
            body.insert("checked".to_owned(), Value::Bool(checked));
        }
        let mut block = Map::new();
        block.insert("type".to_owned(), Value::String(kind.to_owned()));
        block.insert(kind.to_owned(), Value::Object(body));
        out.push(Value::Object(block));
    }
    Ok(out)
}

fn blocks_to_notion(blocks: &[Block], depth: usize) -> Result<Vec<Value>, String> {
    if depth > MAX_DEPTH {
        return Err(format!("the markdown nests deeper than {MAX_DEPTH} levels"));
    }
    let mut out = Vec::new();
    for block in blocks {
        match block {
            Block::Hr => out.push(json!({"type": "divider", "divider": {}})),
            Block::Space(_) => out.push(json!({
                "type": "paragraph",
                "paragraph": {"rich_text": [{"type": "text", "text": {"content": "\n"}}]}
            })),
            Block::Paragraph { tokens } => {
                let children = inlines_to_notion(tokens, depth + 1)?;
                let (images, other): (Vec<Value>, Vec<Value>) = children
                    .into_iter()
                    .partition(|child| child.get("type").and_then(Value::as_str) == Some("image"));
                if !other.is_empty() {
                    out.push(json!({"type": "paragraph", "paragraph": {"rich_text": other}}));
                }
                out.extend(images);
            }
            Block::Text { tokens } => out.extend(inlines_to_notion(tokens, depth + 1)?),
            Block::Heading {
                depth: level,
                tokens,
                ..
            } => {
                let kind = format!("heading_{level}");
                let rich = inlines_to_notion(tokens, depth + 1)?;
                let mut map = Map::new();
                map.insert("type".to_owned(), Value::String(kind.clone()));
                map.insert(kind, json!({ "rich_text": rich }));
                out.push(Value::Object(map));
            }
            Block::Code { lang, text, .. } => {
                let language = match lang {
                    Some(lang) if !lang.is_empty() => lang.clone(),
                    _ => "plain text".to_owned(),
                };
                out.push(json!({
                    "type": "code",
                    "code": {"rich_text": rich_text(text, "\n\n", false), "language": language}
                }));
            }
            Block::Table { header, rows } => {
                let mut header_cells = Vec::new();
                for cell in header {
                    header_cells.extend(inlines_to_notion(cell, depth + 1)?);
                }
                let mut table_rows = vec![json!({
                    "type": "table_row",
                    "table_row": {"cells": header_cells.into_iter().map(|x| json!([x])).collect::<Vec<_>>()}
                })];
                for row in rows {
                    let cells = row
                        .iter()
                        .map(|cell| inlines_to_notion(cell, depth + 1).map(Value::Array))
                        .collect::<Result<Vec<_>, _>>()?;
                    table_rows.push(json!({"type": "table_row", "table_row": {"cells": cells}}));
                }
                out.push(json!({
                    "type": "table",
                    "table": {
                        "table_width": header.len(),
                        "has_column_header": true,
                        "has_row_header": false,
                        "children": table_rows
                    }
                }));
            }
            Block::List { ordered, items, .. } => out.extend(list_items(*ordered, items, depth)?),
            Block::Blockquote { tokens, .. } => {
                // The package reads `token.tokens[0].tokens`: the inline tokens of the
                // first block, whatever it is.
                let rich = match tokens.first() {
                    Some(
                        Block::Paragraph { tokens }
                        | Block::Text { tokens }
                        | Block::Heading { tokens, .. },
                    ) => inlines_to_notion(tokens, depth + 1)?,
                    _ => Vec::new(),
                };
                out.push(json!({"type": "callout", "callout": {"rich_text": rich}}));
            }
            Block::Html { text } => {
                if !text.is_empty() {
                    out.extend(rich_text(&decode_html_entities(text), "\n", false));
                }
            }
        }
    }
    Ok(out)
}
