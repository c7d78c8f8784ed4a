//! `$convertMarkdownToGoogleDocs(markdown[, startIndex])`: markdown → a Google Docs
//! `batchUpdate` body, `{requests: [...inserts, ...formats]}`, as truto-jsonata 3.0.6
//! builds it from marked 14's tokens ([`super::markdown_tokens`]).
//!
//! Text is inserted with `insertText` at a running index (starting at `startIndex`, 1 by
//! default, counted in UTF-16 units as JavaScript does); headings add a line break and an
//! `updateParagraphStyle` (`HEADING_n`), emphasis, strong text and links add
//! `updateTextStyle` requests (merged when their ranges are equal), top-level lists a
//! `createParagraphBullets` request placed first, tables an `insertTable`, images an
//! `insertInlineImage`, rules two line breaks and blank lines their own line breaks. Nested
//! list items are indented with tabs, which shift the later style ranges.

use serde_json::{Value, json};

use super::bounds::MAX_DEPTH;
use super::markdown_tokens::{Block, Inline, Item, decode_html_entities, lex, markdown_argument};
use super::{Args, Outcome};
use crate::expression::value::number_to_json;

/// `$convertMarkdownToGoogleDocs(markdown, currentCounter = 1)`.
pub(crate) fn convert_markdown_to_google_docs(args: &Args<'_>) -> Outcome {
    let markdown = markdown_argument(args)?;
    let counter = match args.get(1) {
        None => 1.0,
        Some(Value::Number(number)) => number.as_f64().unwrap_or(1.0),
        Some(_) => return Err(args.wrong(1, "a number")),
    };
    let blocks =
        lex(markdown, "convertMarkdownToGoogleDocs").map_err(|message| args.failed(message))?;
    let mut state = State {
        counter,
        offset: 0.0,
        inserts: Vec::new(),
        formats: Vec::new(),
    };
    state
        .blocks(&blocks, 0, 0)
        .map_err(|message| args.failed(message))?;
    let mut requests = state.inserts;
    requests.extend(merge_formats(state.formats));
    Ok(Some(json!({ "requests": requests })))
}

fn number(value: f64) -> Value {
    number_to_json(value).unwrap_or(Value::Null)
}

/// JavaScript's `length`.
fn units(text: &str) -> f64 {
    text.encode_utf16().count() as f64
}

struct State {
    counter: f64,
    offset: f64,
    inserts: Vec<Value>,
    formats: Vec<Value>,
}

/// A token as the package's reducer sees it.
enum Token<'t> {
    Block(&'t Block),
    Inline(&'t Inline),
    Item(&'t Item),
    /// The `{type: "space", raw: "\n"}` the package puts between list items and between
    /// the blocks of one item.
    Separator,
    /// A table cell (no type, inline children).
    Cell(&'t [Inline]),
}

impl State {
    fn insert_text(&mut self, text: &str) {
        self.inserts.push(json!({
            "insertText": {"text": text, "location": {"index": number(self.counter)}}
        }));
        self.counter += units(text);
    }

    fn text_style(&mut self, style: Value, start: f64, end: f64) {
        self.formats.push(json!({
            "updateTextStyle": {
                "textStyle": style,
                "fields": "*",
                "range": {
                    "startIndex": number(start - self.offset),
                    "endIndex": number(end - self.offset)
                }
            }
        }));
    }

    fn blocks(&mut self, blocks: &[Block], level: usize, depth: usize) -> Result<(), String> {
        let tokens: Vec<Token<'_>> = blocks.iter().map(Token::Block).collect();
        self.tokens(&tokens, level, depth)
    }

    fn inlines(&mut self, inlines: &[Inline], level: usize, depth: usize) -> Result<(), String> {
        let tokens: Vec<Token<'_>> = inlines.iter().map(Token::Inline).collect();
        self.tokens(&tokens, level, depth)
    }

    fn tokens(&mut self, tokens: &[Token<'_>], level: usize, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(format!("the markdown nests deeper than {MAX_DEPTH} levels"));
        }
        for token in tokens {
            self.token(token, level, depth)?;
        }
        Ok(())
    }

    /// `tokens` with a separator between each two.
    fn with_separators<'t>(tokens: Vec<Token<'t>>) -> Vec<Token<'t>> {
        let mut out = Vec::with_capacity(tokens.len() * 2);
        for (index, token) in tokens.into_iter().enumerate() {
            if index > 0 {
                out.push(Token::Separator);
            }
            out.push(token);
        }
        out
    }

    fn token(&mut self, token: &Token<'_>, level: usize, depth: usize) -> Result<(), String> {
        match token {
            Token::Separator => self.insert_text("\n"),
            Token::Block(Block::Hr) => self.insert_text("\n\n"),
            Token::Block(Block::Space(raw)) => {
                let text = if raw.is_empty() { "\n" } else { raw.as_str() };
                self.insert_text(text);
            }
            Token::Inline(Inline::Image { href, .. }) => {
                self.inserts.push(json!({
                    "insertInlineImage": {"uri": href, "location": {"index": number(self.counter)}}
                }));
                self.counter += 1.0;
            }
            Token::Block(Block::Table { header, rows }) => {
                self.inserts.push(json!({
                    "insertTable": {
                        "columns": header.len(),
                        "rows": rows.len() + 1,
                        "location": {"index": number(self.counter)}
                    }
                }));
                self.counter += 4.0;
                let all: Vec<&Vec<Vec<Inline>>> = std::iter::once(header).chain(rows).collect();
                for (index, row) in all.iter().enumerate() {
                    for cell in row.iter() {
                        self.token(&Token::Cell(cell), level, depth + 1)?;
                        self.counter += 2.0;
                    }
                    if index + 1 < all.len() {
                        self.counter += 1.0;
                    }
                }
                self.insert_text("\n");
            }
            Token::Cell(inlines) => {
                if !inlines.is_empty() {
                    self.inlines(inlines, level, depth + 1)?;
                }
            }
            Token::Item(item) => {
                if item.tokens.is_empty() {
                    return Ok(());
                }
                if level > 1 {
                    self.insert_text(&"\t".repeat(level - 1));
                    self.offset += (level - 1) as f64;
                }
                let children: Vec<Token<'_>> = item.tokens.iter().map(Token::Block).collect();
                self.tokens(&Self::with_separators(children), level, depth + 1)?;
            }
            Token::Block(Block::List { ordered, items, .. }) => {
                if items.is_empty() {
                    return Ok(());
                }
                let start = self.counter;
                let children: Vec<Token<'_>> = items.iter().map(Token::Item).collect();
                self.tokens(&Self::with_separators(children), level + 1, depth + 1)?;
                let end = self.counter;
                if level == 0 {
                    let preset = if *ordered {
                        "NUMBERED_DECIMAL_ALPHA_ROMAN"
                    } else {
                        "BULLET_DISC_CIRCLE_SQUARE"
                    };
                    self.formats.insert(
                        0,
                        json!({
                            "createParagraphBullets": {
                                "range": {"startIndex": number(start), "endIndex": number(end)},
                                "bulletPreset": preset
                            }
                        }),
                    );
                }
            }
            Token::Block(Block::Heading {
                depth: h, tokens, ..
            }) if !tokens.is_empty() => {
                let start = self.counter;
                self.inlines(tokens, level, depth + 1)?;
                let end = self.counter;
                self.formats.push(json!({
                    "updateParagraphStyle": {
                        "paragraphStyle": {"namedStyleType": format!("HEADING_{h}")},
                        "fields": "*",
                        "range": {
                            "startIndex": number(start - self.offset),
                            "endIndex": number(end - self.offset)
                        }
                    }
                }));
                self.insert_text("\n");
            }
            Token::Block(Block::Paragraph { tokens } | Block::Text { tokens })
                if !tokens.is_empty() =>
            {
                self.inlines(tokens, level, depth + 1)?;
            }
            Token::Block(Block::Blockquote { tokens, .. }) if !tokens.is_empty() => {
                self.blocks(tokens, level, depth + 1)?;
            }
            Token::Inline(
                inline @ (Inline::Em { tokens, .. }
                | Inline::Strong { tokens, .. }
                | Inline::Del { tokens, .. }
                | Inline::Link { tokens, .. }),
            ) if !tokens.is_empty() => {
                let start = self.counter;
                self.inlines(tokens, level, depth + 1)?;
                let end = self.counter;
                match inline {
                    Inline::Em { .. } => self.text_style(json!({"italic": true}), start, end),
                    Inline::Strong { .. } => self.text_style(json!({"bold": true}), start, end),
                    Inline::Link { href, .. } => self.text_style(
                        json!({
                            "link": {"url": href},
                            "underline": true,
                            "foregroundColor": {"color": {"rgbColor": {"red": 0.1, "green": 0.33, "blue": 0.8}}}
                        }),
                        start,
                        end,
                    ),
                    _ => {}
                }
            }
            other => {
                if let Some(text) = token_text(other)
                    && !text.is_empty()
                {
                    let decoded = decode_html_entities(&text);
                    self.insert_text(&decoded);
                }
            }
        }
        Ok(())
    }
}

/// marked's `text` of a token without children (`None` where it has none).
fn token_text(token: &Token<'_>) -> Option<String> {
    match token {
        Token::Inline(inline) => match inline {
            Inline::Text(text, _) | Inline::Escape(text) | Inline::Html(text) => Some(text.clone()),
            Inline::Codespan(code, _) => Some(code.replace('&', "&amp;")),
            Inline::Strong { raw, .. }
            | Inline::Em { raw, .. }
            | Inline::Del { raw, .. }
            | Inline::Link { raw, .. } => Some(raw.clone()),
            Inline::Image { text, .. } => Some(text.clone()),
            Inline::Br(_) => None,
        },
        Token::Block(block) => match block {
            Block::Code { text, .. } | Block::Html { text } => Some(text.clone()),
            Block::Heading { text, .. } => Some(text.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// The package's merge: `updateTextStyle` requests with equal ranges become one, their
/// styles combined in order; other requests are kept.
fn merge_formats(formats: Vec<Value>) -> Vec<Value> {
    let mut merged: Vec<Value> = Vec::new();
    for format in formats {
        let range = format
            .get("updateTextStyle")
            .and_then(|style| style.get("range"))
            .cloned();
        let Some(range) = range else {
            merged.push(format);
            continue;
        };
        let existing = merged.iter_mut().find(|candidate| {
            candidate
                .get("updateTextStyle")
                .and_then(|style| style.get("range"))
                == Some(&range)
        });
        match existing {
            Some(existing) => {
                let extra = format
                    .get("updateTextStyle")
                    .and_then(|style| style.get("textStyle"))
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                if let Some(Value::Object(style)) = existing
                    .get_mut("updateTextStyle")
                    .and_then(|update| update.get_mut("textStyle"))
                {
                    for (key, value) in extra {
                        style.insert(key, value);
                    }
                }
            }
            None => merged.push(format),
        }
    }
    merged
}
