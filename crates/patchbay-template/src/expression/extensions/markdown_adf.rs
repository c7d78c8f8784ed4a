//! `$convertMarkdownToAdf(markdown)`: markdown → Atlassian Document Format (Jira,
//! Confluence) as truto-jsonata 3.0.6 builds it with `marklassian` 1.0.2 (on marked 15's
//! tokens, [`super::markdown_tokens`]).
//!
//! `{version: 1, type: "doc", content}` with `paragraph`, `heading` (`attrs.level`),
//! `bulletList` / `orderedList` (`attrs.order`) of `listItem`s, `codeBlock`
//! (`attrs.language`, "text" when none), `blockquote`, `rule` and `table` /
//! `tableRow` / `tableHeader` / `tableCell`; an image alone in a paragraph, or images
//! between its text, become `mediaSingle` nodes. Inline text carries `em`, `strong`,
//! `strike`, `code` and `link` marks (inside code only `code` and `link` are kept); line
//! breaks become `hardBreak`, soft breaks and runs of white space one space. Blank lines,
//! HTML, escapes and images inside headings or emphasis produce nothing, as in marklassian.

use serde_json::{Map, Value, json};

use super::bounds::MAX_DEPTH;
use super::markdown_tokens::{Block, Inline, Item, lex, markdown_argument};
use super::{Args, Outcome};

/// `$convertMarkdownToAdf(markdown)`.
pub(crate) fn convert_markdown_to_adf(args: &Args<'_>) -> Outcome {
    let markdown = markdown_argument(args)?;
    let blocks = lex(markdown, "convertMarkdownToAdf").map_err(|message| args.failed(message))?;
    let content = blocks_to_adf(&blocks, 0).map_err(|message| args.failed(message))?;
    Ok(Some(
        json!({"version": 1, "type": "doc", "content": content}),
    ))
}

/// marklassian's `getSafeText`: a single child with text speaks for its parent; otherwise
/// the token's text with line breaks and white-space runs made single spaces.
fn safe_text(token: &Inline) -> String {
    if let Some(children) = children(token)
        && children.len() == 1
        && let Some(only) = children.first()
        && has_text(only)
    {
        return safe_text(only);
    }
    match text_of(token) {
        Some(text) => {
            let text = text.strip_suffix('\n').unwrap_or(text);
            collapse_spaces(&text.replace('\n', " "))
        }
        None => String::new(),
    }
}

/// `text.replace(/\s+/g, " ")`.
fn collapse_spaces(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_space = false;
    for c in text.chars() {
        if super::js::is_js_space(c) {
            if !in_space {
                out.push(' ');
            }
            in_space = true;
        } else {
            out.push(c);
            in_space = false;
        }
    }
    out
}

fn children(token: &Inline) -> Option<&[Inline]> {
    match token {
        Inline::Strong { tokens, .. }
        | Inline::Em { tokens, .. }
        | Inline::Del { tokens, .. }
        | Inline::Link { tokens, .. } => Some(tokens),
        _ => None,
    }
}

/// marked's `text` of a token (`None` for `br`, which has none).
fn text_of(token: &Inline) -> Option<&str> {
    match token {
        Inline::Text(text, _)
        | Inline::Escape(text)
        | Inline::Codespan(text, _)
        | Inline::Html(text) => Some(text),
        Inline::Strong { raw, .. }
        | Inline::Em { raw, .. }
        | Inline::Del { raw, .. }
        | Inline::Link { raw, .. } => Some(raw),
        Inline::Image { text, .. } => Some(text),
        Inline::Br(_) => None,
    }
}

fn has_text(token: &Inline) -> bool {
    text_of(token).is_some()
}

/// marklassian's `getMarks`: the marks of `token` and of its only child, recursively, in
/// the order they were first set; with `code` only `link` and `code` are kept.
fn marks(token: &Inline, mut found: Vec<(&'static str, Value)>) -> Vec<Value> {
    let mut set = |name: &'static str, value: Value, replace: bool| {
        if let Some(slot) = found.iter_mut().find(|(key, _)| *key == name) {
            if replace {
                slot.1 = value;
            }
        } else {
            found.push((name, value));
        }
    };
    match token {
        Inline::Em { .. } => set("em", json!({"type": "em"}), false),
        Inline::Strong { .. } => set("strong", json!({"type": "strong"}), false),
        Inline::Del { .. } => set("strike", json!({"type": "strike"}), false),
        Inline::Link { href, .. } => set(
            "link",
            json!({"type": "link", "attrs": {"href": href}}),
            true,
        ),
        Inline::Codespan(..) => set("code", json!({"type": "code"}), false),
        _ => {}
    }
    if let Some(children) = children(token)
        && children.len() == 1
        && let Some(only) = children.first()
    {
        return marks(only, found);
    }
    let has_code = found.iter().any(|(key, _)| *key == "code");
    found
        .into_iter()
        .filter(|(key, _)| !has_code || *key == "link" || *key == "code")
        .map(|(_, value)| value)
        .collect()
}

fn text_node(text: String, marks: Option<Vec<Value>>) -> Value {
    let mut node = Map::new();
    node.insert("type".to_owned(), Value::String("text".to_owned()));
    node.insert("text".to_owned(), Value::String(text));
    if let Some(marks) = marks {
        node.insert("marks".to_owned(), Value::Array(marks));
    }
    Value::Object(node)
}

/// marklassian's `inlineToAdf`.
fn inline_to_adf(tokens: &[Inline]) -> Vec<Value> {
    let mut out = Vec::new();
    for token in tokens {
        match token {
            Inline::Text(..) => out.push(text_node(safe_text(token), None)),
            Inline::Em { tokens, .. }
            | Inline::Strong { tokens, .. }
            | Inline::Del { tokens, .. } => {
                let initial = match token {
                    Inline::Em { .. } => ("em", json!({"type": "em"})),
                    Inline::Strong { .. } => ("strong", json!({"type": "strong"})),
                    _ => ("strike", json!({"type": "strike"})),
                };
                for child in tokens {
                    out.push(text_node(
                        safe_text(child),
                        Some(marks(child, vec![initial.clone()])),
                    ));
                }
            }
            Inline::Link { .. } | Inline::Codespan(..) => {
                out.push(text_node(safe_text(token), Some(marks(token, Vec::new()))));
            }
            Inline::Br(_) => out.push(json!({"type": "hardBreak"})),
            Inline::Escape(_) | Inline::Html(_) | Inline::Image { .. } => {}
        }
    }
    out.retain(|node| {
        !(node.get("type").and_then(Value::as_str) == Some("text")
            && node.get("text").and_then(Value::as_str) == Some(""))
    });
    out
}

fn media(href: &str, alt: &str) -> Value {
    json!({
        "type": "mediaSingle",
        "attrs": {"layout": "center"},
        "content": [{"type": "media", "attrs": {"type": "external", "url": href, "alt": alt}}]
    })
}

/// marklassian's `processParagraph`: images split the paragraph into media nodes.
fn process_paragraph(tokens: &[Inline]) -> Vec<Value> {
    if let [Inline::Image { href, text }] = tokens {
        return vec![media(href, text)];
    }
    let mut out = Vec::new();
    let mut current: Vec<Inline> = Vec::new();
    for token in tokens {
        if let Inline::Image { href, text } = token {
            if !current.is_empty() {
                out.push(json!({"type": "paragraph", "content": inline_to_adf(&current)}));
                current.clear();
            }
            out.push(media(href, text));
        } else {
            current.push(token.clone());
        }
    }
    if !current.is_empty() {
        out.push(json!({"type": "paragraph", "content": inline_to_adf(&current)}));
    }
    out
}

fn list(ordered: bool, start: Option<u64>, items: &[Item], depth: usize) -> Result<Value, String> {
    let mut node = Map::new();
    node.insert(
        "type".to_owned(),
        Value::String(if ordered { "orderedList" } else { "bulletList" }.to_owned()),
    );
    if ordered {
        // `token.start || 1`
        let order = start.filter(|start| *start != 0).unwrap_or(1);
        node.insert("attrs".to_owned(), json!({ "order": order }));
    }
    let content = items
        .iter()
        .map(|item| list_item(item, depth + 1))
        .collect::<Result<Vec<_>, _>>()?;
    node.insert("content".to_owned(), Value::Array(content));
    Ok(Value::Object(node))
}

/// marklassian's `processListItem`: the item's text becomes a paragraph, nested lists
/// lists, other blocks their own nodes.
fn list_item(item: &Item, depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err(format!("the markdown nests deeper than {MAX_DEPTH} levels"));
    }
    let mut content = Vec::new();
    let mut current: Vec<Inline> = Vec::new();
    for token in &item.tokens {
        if let Block::Text { tokens } = token {
            current.extend(tokens.iter().cloned());
            continue;
        }
        if !current.is_empty() {
            content.push(json!({"type": "paragraph", "content": inline_to_adf(&current)}));
            current.clear();
        }
        match token {
            Block::List {
                ordered,
                start,
                items,
            } => content.push(list(*ordered, *start, items, depth)?),
            other => content.extend(blocks_to_adf(std::slice::from_ref(other), depth + 1)?),
        }
    }
    if !current.is_empty() {
        content.push(json!({"type": "paragraph", "content": inline_to_adf(&current)}));
    }
    Ok(json!({"type": "listItem", "content": content}))
}

fn blocks_to_adf(blocks: &[Block], depth: usize) -> Result<Vec<Value>, String> {
    if depth > MAX_DEPTH {
        return Err(format!("the markdown nests deeper than {MAX_DEPTH} levels"));
    }
    let mut out = Vec::new();
    for block in blocks {
        match block {
            Block::Paragraph { tokens } => out.extend(process_paragraph(tokens)),
            Block::Heading {
                depth: level,
                tokens,
                ..
            } => out.push(json!({
                "type": "heading",
                "attrs": {"level": level},
                "content": inline_to_adf(tokens)
            })),
            Block::List {
                ordered,
                start,
                items,
            } => out.push(list(*ordered, *start, items, depth)?),
            Block::Code { lang, text, .. } => {
                let language = match lang {
                    Some(lang) if !lang.is_empty() => lang.clone(),
                    _ => "text".to_owned(),
                };
                out.push(json!({
                    "type": "codeBlock",
                    "attrs": {"language": language},
                    "content": [{"type": "text", "text": text}]
                }));
            }
            Block::Blockquote { tokens, .. } => out.push(json!({
                "type": "blockquote",
                "content": blocks_to_adf(tokens, depth + 1)?
            })),
            Block::Hr => out.push(json!({"type": "rule"})),
            Block::Table { header, rows } => {
                let mut content = Vec::new();
                if !header.is_empty() {
                    let cells: Vec<Value> = header
                        .iter()
                        .map(|cell| json!({"type": "tableHeader", "content": process_paragraph(cell)}))
                        .collect();
                    content.push(json!({"type": "tableRow", "content": cells}));
                }
                for row in rows {
                    let cells: Vec<Value> = row
                        .iter()
                        .map(
                            |cell| json!({"type": "tableCell", "content": process_paragraph(cell)}),
                        )
                        .collect();
                    content.push(json!({"type": "tableRow", "content": cells}));
                }
                out.push(json!({"type": "table", "content": content}));
            }
            Block::Space(_) | Block::Html { .. } | Block::Text { .. } => {}
        }
    }
    Ok(out)
}
