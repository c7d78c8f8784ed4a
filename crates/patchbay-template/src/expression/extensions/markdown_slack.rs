//! `$convertMarkdownToSlack(markdown)`: markdown → Slack Block Kit blocks as
//! truto-jsonata 3.0.6 builds them from marked 14's tokens ([`super::markdown_tokens`]).
//!
//! Paragraphs become `section` blocks of `mrkdwn` text written from the tokens' source:
//! `**strong**` is rewritten to `*strong*` and links to `<href|text>`, everything else
//! (emphasis, code spans, escapes, HTML, line breaks) is kept as written. Images become
//! `image` blocks, headings `header` blocks of `plain_text`, lists one `section` with a
//! `•` or `1.` line per item, blockquotes and code blocks a `section` of their source,
//! rules `divider`, and every blank-line (`space`) token a `section` holding `"\n"`.
//! Tables and HTML blocks produce nothing, as in the package.

use serde_json::{Value, json};

use super::bounds::MAX_DEPTH;
use super::markdown_tokens::{Block, Inline, Item, lex, markdown_argument};
use super::{Args, Outcome};

/// `$convertMarkdownToSlack(markdown)`.
pub(crate) fn convert_markdown_to_slack(args: &Args<'_>) -> Outcome {
    let markdown = markdown_argument(args)?;
    let blocks = lex(markdown, "convertMarkdownToSlack").map_err(|message| args.failed(message))?;
    let parts = blocks_to_slack(&blocks, 0).map_err(|message| args.failed(message))?;
    let blocks: Vec<Value> = parts
        .into_iter()
        .filter_map(|part| match part {
            Part::Block(block) => Some(block),
            Part::Text(_) => None,
        })
        .collect();
    Ok(Some(Value::Array(blocks)))
}

/// What the package's reducer collects: text pieces and blocks.
enum Part {
    Text(String),
    Block(Value),
}

fn section(text: String) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": text}})
}

fn inlines_to_slack(tokens: &[Inline]) -> Vec<Part> {
    tokens
        .iter()
        .map(|token| match token {
            Inline::Text(_, raw) => Part::Text(raw.clone()),
            Inline::Escape(text) => Part::Text(format!("\\{text}")),
            Inline::Strong { raw, .. } => Part::Text(format!("*{raw}*")),
            Inline::Link { href, raw, .. } => Part::Text(format!("<{href}|{raw}>")),
            Inline::Image { href, text } => {
                Part::Block(json!({"type": "image", "image_url": href, "alt_text": text}))
            }
            Inline::Em { source, .. } | Inline::Del { source, .. } => Part::Text(source.clone()),
            Inline::Codespan(_, raw) | Inline::Br(raw) | Inline::Html(raw) => {
                Part::Text(raw.clone())
            }
        })
        .collect()
}

/// A paragraph or `text` token: its text pieces joined in one section, then its blocks.
fn text_block(tokens: &[Inline]) -> Vec<Part> {
    let mut text = String::new();
    let mut has_text = false;
    let mut blocks = Vec::new();
    for part in inlines_to_slack(tokens) {
        match part {
            Part::Text(piece) => {
                has_text = true;
                text.push_str(&piece);
            }
            Part::Block(block) => blocks.push(Part::Block(block)),
        }
    }
    let mut out = Vec::new();
    if has_text {
        out.push(Part::Block(section(text)));
    }
    out.extend(blocks);
    out
}

/// A list as one section: a `•` or `N.` line per block with text, numbered in order.
fn list(ordered: bool, items: &[Item], depth: usize) -> Result<Value, String> {
    let mut lines = Vec::new();
    for item in items {
        for part in blocks_to_slack(&item.tokens, depth + 1)? {
            let Part::Block(block) = part else {
                continue;
            };
            let Some(text) = block
                .get("text")
                .and_then(|text| text.get("text"))
                .and_then(Value::as_str)
                .filter(|text| !text.is_empty())
            else {
                continue;
            };
            let marker = if ordered {
                format!("{}.", lines.len() + 1)
            } else {
                "•".to_owned()
            };
            lines.push(format!("{marker} {text}"));
        }
    }
    Ok(section(lines.join("\n")))
}

fn blocks_to_slack(blocks: &[Block], depth: usize) -> Result<Vec<Part>, String> {
    if depth > MAX_DEPTH {
        return Err(format!("the markdown nests deeper than {MAX_DEPTH} levels"));
    }
    let mut out = Vec::new();
    for block in blocks {
        match block {
            Block::Hr => out.push(Part::Block(json!({"type": "divider"}))),
            Block::Space(_) => out.push(Part::Block(section("\n".to_owned()))),
            Block::Paragraph { tokens } | Block::Text { tokens } => out.extend(text_block(tokens)),
            Block::Heading { text, .. } => out.push(Part::Block(json!({
                "type": "header",
                "text": {"type": "plain_text", "text": text, "emoji": true}
            }))),
            Block::List { ordered, items, .. } => {
                out.push(Part::Block(list(*ordered, items, depth)?));
            }
            Block::Blockquote { raw, .. } | Block::Code { raw, .. } => {
                out.push(Part::Block(section(raw.clone())));
            }
            Block::Html { text } => out.push(Part::Text(text.clone())),
            Block::Table { .. } => out.push(Part::Text(String::new())),
        }
    }
    Ok(out)
}
