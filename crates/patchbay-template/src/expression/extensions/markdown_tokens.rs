//! A token tree shaped like the one `marked` 14's lexer (`marked.Lexer.lex`) produces, built
//! from `pulldown-cmark` events. truto-jsonata's markdown → Notion conversion walks marked's
//! tokens, so it is ported onto this tree.
//!
//! What is reproduced of marked's lexer: `space` tokens where a paragraph, list,
//! blockquote, fenced code block or rule is followed by a blank line (and for blank lines
//! at the start of the text); list items whose first block is a `text` token (tight or
//! loose); adjacent text merged into one token (soft line breaks as `\n`) except backslash
//! escapes, which are tokens of their own; GFM bare URL, `www.` and e-mail autolinks as
//! `link` tokens; the code block language as the whole info string.

use std::ops::Range;

use pulldown_cmark::{CodeBlockKind, Event, LinkType, Options, Parser, Tag, TagEnd};

use serde_json::Value;

use super::bounds::{Budget, MAX_DEPTH, MAX_TEXT_BYTES};
use super::markdown_html::find_autolinks;
use super::{Args, ExtensionError};

/// A block token.
#[derive(Debug, Clone)]
pub(crate) enum Block {
    /// Blank lines; `raw` is marked's (the line breaks and blank lines).
    Space(String),
    /// `text` is the heading's source text without its `#` marks.
    Heading {
        depth: u8,
        text: String,
        tokens: Vec<Inline>,
    },
    Paragraph {
        tokens: Vec<Inline>,
    },
    /// The `text` token that starts a list item.
    Text {
        tokens: Vec<Inline>,
    },
    /// `lang` is `None` for indented code.
    Code {
        lang: Option<String>,
        text: String,
        raw: String,
    },
    Blockquote {
        raw: String,
        tokens: Vec<Block>,
    },
    /// `start` is the first number of an ordered list.
    List {
        ordered: bool,
        start: Option<u64>,
        items: Vec<Item>,
    },
    Table {
        header: Vec<Vec<Inline>>,
        rows: Vec<Vec<Vec<Inline>>>,
    },
    Hr,
    Html {
        text: String,
    },
}

/// A list item: `task`/`checked` as marked sets them.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub(crate) task: bool,
    pub(crate) checked: Option<bool>,
    pub(crate) tokens: Vec<Block>,
}

/// An inline token. Text is kept as marked 15 keeps it: entity references as written,
/// everything else literal. `raw` is the source text between the delimiters (marked's
/// `text` of the token).
#[derive(Debug, Clone)]
pub(crate) enum Inline {
    /// The text and its source.
    Text(String, String),
    Escape(String),
    Strong {
        raw: String,
        tokens: Vec<Inline>,
    },
    /// `source` is the whole source text, delimiters included (marked's `raw`).
    Em {
        raw: String,
        source: String,
        tokens: Vec<Inline>,
    },
    Del {
        raw: String,
        source: String,
        tokens: Vec<Inline>,
    },
    /// The code and its source with the backticks.
    Codespan(String, String),
    Link {
        href: String,
        raw: String,
        tokens: Vec<Inline>,
    },
    Image {
        href: String,
        text: String,
    },
    /// A hard line break and its source.
    Br(String),
    Html(String),
}

/// Lexes `markdown` (GFM) into marked-shaped block tokens.
/// The markdown text of a `convert*` call: its first argument, which must be a string of at
/// most [`MAX_TEXT_BYTES`] bytes (the package fails with "src.replace is not a function" on
/// anything else, as marked does).
///
/// # Errors
/// The package's failure for a non-string, the size limit's for a long text.
pub(crate) fn markdown_argument<'a>(args: &Args<'a>) -> Result<&'a str, ExtensionError> {
    let markdown = match args.get(0) {
        Some(Value::String(text)) => text,
        _ => return Err(args.failed("src.replace is not a function")),
    };
    if markdown.len() > MAX_TEXT_BYTES {
        return Err(args.failed(format!(
            "the markdown is {} bytes, more than the limit of {MAX_TEXT_BYTES}",
            markdown.len()
        )));
    }
    Ok(markdown)
}

pub(crate) fn lex(markdown: &str, function: &'static str) -> Result<Vec<Block>, String> {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let events: Vec<(Event<'_>, Range<usize>)> = Parser::new_ext(markdown, options)
        .into_offset_iter()
        .collect();
    let mut budget = Budget::new(function);
    for _ in &events {
        budget.take().map_err(|error| error.to_string())?;
    }
    let mut builder = Builder {
        source: markdown,
        events,
        position: 0,
        task_marker: None,
        quote_depth: 0,
        item_indent: 0,
    };
    let mut blocks = builder.blocks(None, 0)?;
    // Blank lines at the very start are a `space` token (`/^(?:[ \t]*(?:\n|$))+/`).
    let first_line = markdown.split('\n').next().unwrap_or_default();
    if !markdown.is_empty() && first_line.trim_matches([' ', '\t']).is_empty() {
        blocks.insert(0, Block::Space(leading_blank_lines(markdown).to_owned()));
    }
    Ok(blocks)
}

struct Builder<'s> {
    source: &'s str,
    events: Vec<(Event<'s>, Range<usize>)>,
    position: usize,
    /// The task-list marker seen in the list item being read.
    task_marker: Option<bool>,
    /// How many blockquotes enclose the blocks being read.
    quote_depth: usize,
    /// The column where the content of the enclosing list item starts (0 outside lists):
    /// marked reads an item's content with that indentation removed from every line.
    item_indent: usize,
}

/// The source range of the `Start(Item)` event just read (`position` is past it).
fn range_of_item(events: &[(Event<'_>, Range<usize>)], position: usize) -> Range<usize> {
    position
        .checked_sub(1)
        .and_then(|index| events.get(index))
        .map_or(0..0, |(_, range)| range.clone())
}

/// The `space` token after the block `start..end`, when a blank line follows it inside
/// the same container: marked's raw text of it, from the line break ending the block to the
/// start of the next line with text. Inside `quote_depth` blockquotes a line counts only
/// with its `>` markers, which are not part of the raw text.
fn blank_line_after(source: &str, start: usize, end: usize, quote_depth: usize) -> Option<String> {
    let block = source.get(start..end).unwrap_or_default();
    let end = start + block.trim_end().len();
    let rest = source.get(end..).unwrap_or_default();
    let mut lines = rest.split_inclusive('\n');
    // The rest of the block's last line, then at least one blank line.
    let first = lines.next()?;
    if !first.trim().is_empty() || !first.ends_with('\n') {
        return None;
    }
    let mut raw = "\n".to_owned();
    let mut blank = false;
    for line in lines {
        let Some(inner) = strip_quote_markers(line, quote_depth) else {
            break;
        };
        if !inner.trim().is_empty() {
            break;
        }
        raw.push_str(inner);
        blank = true;
    }
    blank.then_some(raw)
}

/// `line` without `depth` blockquote markers (`>` and one optional space each); `None` when
/// it lacks them.
fn strip_quote_markers(line: &str, depth: usize) -> Option<&str> {
    let mut rest = line;
    for _ in 0..depth {
        rest = rest.trim_start_matches([' ', '\t']).strip_prefix('>')?;
        rest = rest.strip_prefix(' ').unwrap_or(rest);
    }
    Some(rest)
}

/// The blank lines at the start of the text (marked's leading `space` token).
fn leading_blank_lines(markdown: &str) -> &str {
    let mut length = 0;
    for line in markdown.split_inclusive('\n') {
        if !line.trim_matches([' ', '\t', '\n']).is_empty() {
            break;
        }
        length += line.len();
    }
    &markdown[..length]
}

/// A heading's text as marked reads it: without the opening `#`s and a closing `#` run,
/// or without the setext underline.
fn heading_text(source: &str) -> String {
    let source = source.trim_end_matches('\n');
    let trimmed = source.trim_start();
    if let Some(rest) = trimmed.strip_prefix('#') {
        let rest = rest.trim_start_matches('#');
        let rest = rest.trim();
        // A closing run of `#` preceded by a space (or the whole text) is dropped.
        let without = rest.trim_end_matches('#');
        let text = if without.is_empty() || without.ends_with([' ', '\t']) {
            without.trim_end()
        } else {
            rest
        };
        return text.to_owned();
    }
    // Setext: every line but the underline.
    let lines: Vec<&str> = source.lines().collect();
    let body = &lines[..lines.len().saturating_sub(1)];
    body.iter()
        .map(|line| line.trim())
        .collect::<Vec<_>>()
        .join("\n")
}

/// truto-jsonata's `decodeHtmlEntities`: the entities marked's escaping produces, back to
/// characters.
pub(crate) fn decode_html_entities(text: &str) -> String {
    const ENTITIES: [(&str, &str); 9] = [
        ("&amp;", "&"),
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&quot;", "\""),
        ("&#39;", "'"),
        ("&#x2F;", "/"),
        ("&#x5C;", "\\"),
        ("&#x60;", "`"),
        ("&#x3D;", "="),
    ];
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'outer: while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        for (entity, character) in ENTITIES {
            if let Some(after) = rest.strip_prefix(entity) {
                out.push_str(character);
                rest = after;
                continue 'outer;
            }
        }
        out.push('&');
        rest = &rest[1..];
    }
    out.push_str(rest);
    out
}

impl<'s> Builder<'s> {
    fn next(&mut self) -> Option<(Event<'s>, Range<usize>)> {
        let item = self.events.get(self.position).cloned();
        self.position += 1;
        item
    }

    /// Block tokens until the end tag `until` (or the end of the events).
    fn blocks(&mut self, until: Option<TagEnd>, depth: usize) -> Result<Vec<Block>, String> {
        if depth > MAX_DEPTH {
            return Err(format!("the markdown nests deeper than {MAX_DEPTH} levels"));
        }
        let mut blocks = Vec::new();
        while let Some((event, range)) = self.next() {
            let (block, spaced) = match event {
                Event::End(end) if Some(end) == until => return Ok(blocks),
                Event::Start(Tag::Paragraph) => {
                    let mut tokens = self.inlines(TagEnd::Paragraph, depth + 1)?;
                    // marked keeps the spaces at the end of the paragraph's last line.
                    let source = self.source.get(range.clone()).unwrap_or_default();
                    let last_line = source.trim_end_matches(['\n', '\r']);
                    let kept = &last_line[last_line.trim_end_matches([' ', '\t']).len()..];
                    if !kept.is_empty()
                        && let Some(Inline::Text(text, raw)) = tokens.last_mut()
                    {
                        text.push_str(kept);
                        raw.push_str(kept);
                    }
                    (Block::Paragraph { tokens }, true)
                }
                Event::Start(Tag::Heading { level, .. }) => {
                    let text = heading_text(self.source.get(range.clone()).unwrap_or_default());
                    let tokens = self.inlines(TagEnd::Heading(level), depth + 1)?;
                    (
                        Block::Heading {
                            depth: level as u8,
                            text,
                            tokens,
                        },
                        false,
                    )
                }
                Event::Start(Tag::CodeBlock(kind)) => {
                    let mut text = String::new();
                    while let Some((event, _)) = self.next() {
                        match event {
                            Event::Text(chunk) => text.push_str(&chunk),
                            Event::End(TagEnd::CodeBlock) => break,
                            _ => {}
                        }
                    }
                    let text = text.strip_suffix('\n').unwrap_or(&text).to_owned();
                    let raw = self.block_raw(&range);
                    match kind {
                        CodeBlockKind::Fenced(info) => (
                            Block::Code {
                                lang: Some(info.trim().to_owned()),
                                text,
                                raw,
                            },
                            true,
                        ),
                        CodeBlockKind::Indented => (
                            Block::Code {
                                lang: None,
                                text,
                                raw,
                            },
                            false,
                        ),
                    }
                }
                Event::Start(Tag::BlockQuote(kind)) => (
                    Block::Blockquote {
                        raw: self.block_raw(&range),
                        tokens: {
                            self.quote_depth += 1;
                            let inner = self.blocks(Some(TagEnd::BlockQuote(kind)), depth + 1);
                            self.quote_depth -= 1;
                            inner?
                        },
                    },
                    true,
                ),
                Event::Start(Tag::List(start)) => {
                    let ordered = start.is_some();
                    let first_number = start;
                    let mut items = Vec::new();
                    while let Some((event, _)) = self.next() {
                        match event {
                            Event::Start(Tag::Item) => {
                                let outer = self.item_indent;
                                self.item_indent = self
                                    .content_column(&range_of_item(&self.events, self.position));
                                let item = self.item(depth + 1);
                                self.item_indent = outer;
                                items.push(item?);
                            }
                            Event::End(TagEnd::List(_)) => break,
                            _ => {}
                        }
                    }
                    (
                        Block::List {
                            ordered,
                            start: first_number,
                            items,
                        },
                        true,
                    )
                }
                Event::Start(Tag::Table(_)) => (self.table(depth + 1)?, false),
                Event::Start(Tag::HtmlBlock) => {
                    let mut text = String::new();
                    let mut end = range.end;
                    while let Some((event, event_range)) = self.next() {
                        match event {
                            Event::Html(chunk) | Event::Text(chunk) => {
                                text.push_str(&chunk);
                                end = event_range.end;
                            }
                            Event::End(TagEnd::HtmlBlock) => break,
                            _ => {}
                        }
                    }
                    // marked's HTML token takes the blank lines after it along.
                    let after = self.source.get(end..).unwrap_or_default();
                    let blank = after.len() - after.trim_start_matches([' ', '\t', '\n']).len();
                    let blank = &after[..blank];
                    if let Some(last) = blank.rfind('\n') {
                        text.push_str(&blank[..=last]);
                    }
                    (Block::Html { text }, false)
                }
                Event::Rule => (Block::Hr, true),
                Event::Start(Tag::Item) => (
                    Block::List {
                        ordered: false,
                        start: None,
                        items: vec![self.item(depth + 1)?],
                    },
                    false,
                ),
                Event::TaskListMarker(checked) => {
                    self.task_marker = Some(checked);
                    continue;
                }
                Event::Start(tag) if is_inline_tag(&tag) => {
                    self.position -= 1;
                    let tokens = self.loose_inlines(depth + 1)?;
                    (Block::Text { tokens }, false)
                }
                Event::Text(_)
                | Event::Code(_)
                | Event::InlineHtml(_)
                | Event::SoftBreak
                | Event::HardBreak => {
                    // Inline content directly in a tight list item.
                    self.position -= 1;
                    let tokens = self.loose_inlines(depth + 1)?;
                    (Block::Text { tokens }, false)
                }
                _ => continue,
            };
            let end = self.block_end(range.end);
            blocks.push(block);
            if spaced
                && let Some(raw) = blank_line_after(self.source, range.start, end, self.quote_depth)
            {
                blocks.push(Block::Space(raw));
            }
        }
        Ok(blocks)
    }

    /// The source offset where the block just read ends (the last event's end).
    fn block_end(&self, fallback: usize) -> usize {
        self.position
            .checked_sub(1)
            .and_then(|index| self.events.get(index))
            .map_or(fallback, |(_, range)| range.end)
    }

    /// A block's raw text as marked has it: from the start of its first line (indentation
    /// included) to its end, without the enclosing list items' indentation on each line
    /// and without trailing line breaks.
    fn block_raw(&self, range: &Range<usize>) -> String {
        let line_start = self
            .source
            .get(..range.start)
            .and_then(|before| before.rfind('\n'))
            .map_or(0, |newline| newline + 1);
        let text = self
            .source
            .get(line_start..range.end)
            .unwrap_or_default()
            .trim_end_matches('\n');
        if self.item_indent == 0 {
            return text.to_owned();
        }
        text.split('\n')
            .map(|line| {
                let spaces = line.len() - line.trim_start_matches(' ').len();
                &line[spaces.min(self.item_indent)..]
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The column where the content of the list item starting at `range` begins: after
    /// its marker and the spaces that follow it (one when five or more follow).
    fn content_column(&self, range: &Range<usize>) -> usize {
        let line_start = self
            .source
            .get(..range.start)
            .and_then(|before| before.rfind('\n'))
            .map_or(0, |newline| newline + 1);
        let line = self.source.get(line_start..).unwrap_or_default();
        let line = line.split('\n').next().unwrap_or_default();
        let indent = line.len() - line.trim_start_matches(' ').len();
        let rest = &line[indent..];
        let marker = rest
            .find(|c: char| !c.is_ascii_digit())
            .filter(|digits| *digits > 0)
            .map_or(1, |digits| digits + 1);
        let after = rest.get(marker..).unwrap_or_default();
        let spaces = after.len() - after.trim_start_matches(' ').len();
        let spaces = if (1..=4).contains(&spaces) { spaces } else { 1 };
        indent + marker + spaces
    }

    /// The source of `range` without `width` delimiter characters on each side.
    fn delimited(&self, range: &Range<usize>, width: usize) -> String {
        let source = self.source.get(range.clone()).unwrap_or_default();
        source
            .get(width..source.len().saturating_sub(width))
            .unwrap_or_default()
            .to_owned()
    }

    fn item(&mut self, depth: usize) -> Result<Item, String> {
        let outer = self.task_marker.take();
        let mut tokens = self.blocks(Some(TagEnd::Item), depth)?;
        let marker = std::mem::replace(&mut self.task_marker, outer);
        let task = marker.is_some();
        let checked = marker;
        // In a list item marked reads paragraphs as `text` tokens, except one that
        // follows a nested list.
        let mut after_list = false;
        for token in &mut tokens {
            match token {
                Block::Paragraph { tokens: inline } if !after_list => {
                    let inline = std::mem::take(inline);
                    *token = Block::Text { tokens: inline };
                }
                Block::List { .. } => after_list = true,
                Block::Space(_) => {}
                _ => after_list = false,
            }
        }
        // marked keeps the blank lines between items out of the items' tokens.
        while matches!(tokens.last(), Some(Block::Space(_))) {
            tokens.pop();
        }
        Ok(Item {
            task,
            checked,
            tokens,
        })
    }

    fn table(&mut self, depth: usize) -> Result<Block, String> {
        let mut header = Vec::new();
        let mut rows: Vec<Vec<Vec<Inline>>> = Vec::new();
        let mut in_head = false;
        while let Some((event, _)) = self.next() {
            match event {
                Event::Start(Tag::TableHead) => in_head = true,
                Event::End(TagEnd::TableHead) => in_head = false,
                Event::Start(Tag::TableRow) => rows.push(Vec::new()),
                Event::Start(Tag::TableCell) => {
                    let cell = self.inlines(TagEnd::TableCell, depth)?;
                    if in_head {
                        header.push(cell);
                    } else if let Some(row) = rows.last_mut() {
                        row.push(cell);
                    }
                }
                Event::End(TagEnd::Table) => break,
                _ => {}
            }
        }
        // marked pads short rows with empty cells.
        for row in &mut rows {
            while row.len() < header.len() {
                row.push(Vec::new());
            }
            row.truncate(header.len());
        }
        Ok(Block::Table { header, rows })
    }

    /// Inline events up to the next block boundary (content of a tight list item).
    fn loose_inlines(&mut self, depth: usize) -> Result<Vec<Inline>, String> {
        let mut collector = Inlines::default();
        while let Some((event, range)) = self.events.get(self.position).cloned() {
            let is_inline = match &event {
                Event::Start(tag) => is_inline_tag(tag),
                Event::End(tag) => is_inline_end(tag),
                Event::Text(_)
                | Event::Code(_)
                | Event::InlineHtml(_)
                | Event::SoftBreak
                | Event::HardBreak => true,
                _ => false,
            };
            if !is_inline {
                break;
            }
            self.position += 1;
            self.inline_event(&mut collector, event, range, depth)?;
        }
        Ok(collector.finish(self.source))
    }

    /// Inline tokens until the end tag `until`.
    fn inlines(&mut self, until: TagEnd, depth: usize) -> Result<Vec<Inline>, String> {
        let mut collector = Inlines::default();
        while let Some((event, range)) = self.next() {
            if let Event::End(end) = &event
                && *end == until
            {
                break;
            }
            self.inline_event(&mut collector, event, range, depth)?;
        }
        Ok(collector.finish(self.source))
    }

    fn inline_event(
        &mut self,
        collector: &mut Inlines,
        event: Event<'s>,
        range: Range<usize>,
        depth: usize,
    ) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(format!("the markdown nests deeper than {MAX_DEPTH} levels"));
        }
        match event {
            Event::Text(text) => {
                let source = self.source.get(range.clone()).unwrap_or_default();
                let escaped =
                    range.start > 0 && self.source.get(range.start - 1..range.start) == Some("\\");
                if escaped && let Some(first) = text.chars().next() {
                    // A backslash escape is a token of its own in marked.
                    collector.flush(self.source);
                    collector.tokens.push(Inline::Escape(first.to_string()));
                    let rest = &text[first.len_utf8()..];
                    if !rest.is_empty() {
                        let rest_range = range.start + first.len_utf8()..range.end;
                        collector.push_text(rest, rest_range);
                    }
                } else if source.starts_with('&') && source != &*text {
                    // An entity reference: marked keeps it as written.
                    collector.push_text(source, range);
                } else {
                    collector.push_text(&text, range);
                }
            }
            Event::SoftBreak => collector.push_text("\n", range),
            Event::HardBreak => {
                collector.flush(self.source);
                let raw = self.source.get(range).unwrap_or_default().to_owned();
                collector.tokens.push(Inline::Br(raw));
            }
            Event::Code(code) => {
                collector.flush(self.source);
                let raw = self.source.get(range).unwrap_or_default().to_owned();
                collector
                    .tokens
                    .push(Inline::Codespan(code.to_string(), raw));
            }
            Event::InlineHtml(html) | Event::Html(html) => {
                collector.flush(self.source);
                collector.tokens.push(Inline::Html(html.to_string()));
            }
            Event::Start(Tag::Emphasis) => {
                collector.flush(self.source);
                let raw = self.delimited(&range, 1);
                let source = self.source.get(range).unwrap_or_default().to_owned();
                let tokens = self.inlines(TagEnd::Emphasis, depth + 1)?;
                collector.tokens.push(Inline::Em {
                    raw,
                    source,
                    tokens,
                });
            }
            Event::Start(Tag::Strong) => {
                collector.flush(self.source);
                let raw = self.delimited(&range, 2);
                let tokens = self.inlines(TagEnd::Strong, depth + 1)?;
                collector.tokens.push(Inline::Strong { raw, tokens });
            }
            Event::Start(Tag::Strikethrough) => {
                collector.flush(self.source);
                let source = self.source.get(range.clone()).unwrap_or_default();
                let tildes = source.len() - source.trim_start_matches('~').len();
                let raw = self.delimited(&range, tildes.clamp(1, 2));
                let source = source.to_owned();
                let tokens = self.inlines(TagEnd::Strikethrough, depth + 1)?;
                collector.tokens.push(Inline::Del {
                    raw,
                    source,
                    tokens,
                });
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                ..
            }) => {
                collector.flush(self.source);
                let href = if link_type == LinkType::Email {
                    format!("mailto:{dest_url}")
                } else {
                    dest_url.to_string()
                };
                let mut inner_collector = Inlines {
                    in_link: true,
                    ..Inlines::default()
                };
                while let Some((event, range)) = self.next() {
                    if matches!(event, Event::End(TagEnd::Link)) {
                        break;
                    }
                    self.inline_event(&mut inner_collector, event, range, depth + 1)?;
                }
                let tokens = inner_collector.finish(self.source);
                let raw = link_label(self.source.get(range).unwrap_or_default());
                collector.tokens.push(Inline::Link { href, raw, tokens });
            }
            Event::Start(Tag::Image { dest_url, .. }) => {
                collector.flush(self.source);
                let mut text = String::new();
                while let Some((event, _)) = self.next() {
                    match event {
                        Event::End(TagEnd::Image) => break,
                        Event::Text(chunk) | Event::Code(chunk) => text.push_str(&chunk),
                        _ => {}
                    }
                }
                collector.tokens.push(Inline::Image {
                    href: dest_url.to_string(),
                    text,
                });
            }
            Event::TaskListMarker(checked) => self.task_marker = Some(checked),
            _ => {}
        }
        Ok(())
    }
}

/// A link's label as written: between `[` and its `]`, or inside `<…>` for an autolink.
fn link_label(source: &str) -> String {
    if let Some(inner) = source.strip_prefix('<') {
        return inner.strip_suffix('>').unwrap_or(inner).to_owned();
    }
    let Some(inner) = source.strip_prefix('[') else {
        return source.to_owned();
    };
    let mut depth = 0usize;
    let mut escaped = false;
    for (index, c) in inner.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '[' => depth += 1,
            ']' if depth == 0 => return inner[..index].to_owned(),
            ']' => depth -= 1,
            _ => {}
        }
    }
    inner.to_owned()
}

fn is_inline_tag(tag: &Tag<'_>) -> bool {
    matches!(
        tag,
        Tag::Emphasis | Tag::Strong | Tag::Strikethrough | Tag::Link { .. } | Tag::Image { .. }
    )
}

fn is_inline_end(tag: &TagEnd) -> bool {
    matches!(
        tag,
        TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough | TagEnd::Link | TagEnd::Image
    )
}

/// Collects inline tokens, merging adjacent text (and splitting out bare autolinks).
#[derive(Default)]
struct Inlines {
    tokens: Vec<Inline>,
    text: String,
    /// The source range the pending text covers.
    range: Option<Range<usize>>,
    in_link: bool,
}

impl Inlines {
    fn push_text(&mut self, text: &str, range: Range<usize>) {
        self.text.push_str(text);
        self.range = Some(match self.range.take() {
            Some(previous) => previous.start.min(range.start)..previous.end.max(range.end),
            None => range,
        });
    }

    fn flush(&mut self, source: &str) {
        if self.text.is_empty() {
            return;
        }
        let text = std::mem::take(&mut self.text);
        let raw = self
            .range
            .take()
            .and_then(|range| source.get(range))
            .unwrap_or(&text)
            .to_owned();
        let links = if self.in_link {
            Vec::new()
        } else {
            find_autolinks(&text)
        };
        if links.is_empty() {
            self.tokens.push(Inline::Text(text, raw));
            return;
        }
        let mut last = 0;
        for (start, end, href) in links {
            if start > last {
                let piece = text[last..start].to_owned();
                self.tokens.push(Inline::Text(piece.clone(), piece));
            }
            let shown = text[start..end].to_owned();
            self.tokens.push(Inline::Link {
                href,
                raw: shown.clone(),
                tokens: vec![Inline::Text(shown.clone(), shown)],
            });
            last = end;
        }
        if last < text.len() {
            let piece = text[last..].to_owned();
            self.tokens.push(Inline::Text(piece.clone(), piece));
        }
    }

    fn finish(mut self, source: &str) -> Vec<Inline> {
        self.flush(source);
        self.tokens
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[ignore = "prints pulldown-cmark events for debugging"]
    fn print_events() {
        for text in [
            "a\\*b",
            "x &copy; &#169; y",
            "Escapes: \\# \\*",
            "Para one.\n\nPara two.",
            "trailing\n\n",
        ] {
            let events: Vec<_> = Parser::new_ext(text, Options::ENABLE_TABLES)
                .into_offset_iter()
                .collect();
            eprintln!("{text:?}: {events:?}");
        }
    }
}
