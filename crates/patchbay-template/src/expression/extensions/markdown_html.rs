//! `$convertMarkdownToHtml(markdown[, options])`: markdown → HTML as truto-jsonata 3.0.6
//! writes it with `marked` 14.1.3 (GFM on, no header ids).
//!
//! `pulldown-cmark` parses (CommonMark with tables, strikethrough and task lists); this
//! module prints its events the way marked's renderer prints the same constructs: `\n`
//! after every block tag, `<pre><code class="language-x">`, tight list items without
//! `<p>`, `<input … type="checkbox">` task markers, `<table>` with `align` attributes and
//! `<tbody>` only when there are rows, `<br>` / `<hr>` / `<img …>` without a slash, text
//! escaped with `&quot;` and `&#39;` (entity references written in the source are kept),
//! link targets passed through `encodeURI`, and GFM's bare URL, `www.` and e-mail
//! autolinks.
//!
//! Options: `breaks` (soft line breaks become `<br>`) and `gfm` (`false` turns tables,
//! strikethrough, task lists and bare autolinks off). Where CommonMark and marked read the
//! same text differently the output follows CommonMark; `docs/jsonata.md` lists the known
//! cases.

use std::ops::Range;

use pulldown_cmark::{Alignment, CodeBlockKind, Event, LinkType, Options, Parser, Tag, TagEnd};
use serde_json::Value;

use super::bounds::{Budget, MAX_TEXT_BYTES};
use super::js::is_truthy;
use super::{Args, Outcome};

/// `$convertMarkdownToHtml(markdown, options)`.
pub(crate) fn convert_markdown_to_html(args: &Args<'_>) -> Outcome {
    let markdown = match args.get(0) {
        Some(Value::String(text)) => text,
        None | Some(Value::Null) => {
            return Err(args.failed("marked(): input parameter is undefined or null"));
        }
        Some(_) => {
            return Err(args.failed("marked(): input parameter is not a string"));
        }
    };
    if markdown.len() > MAX_TEXT_BYTES {
        return Err(args.failed(format!(
            "the markdown is {} bytes, more than the limit of {MAX_TEXT_BYTES}",
            markdown.len()
        )));
    }
    let options = match args.get(1) {
        Some(Value::Object(map)) => Settings {
            gfm: map.get("gfm").is_none_or(|gfm| is_truthy(Some(gfm))),
            breaks: is_truthy(map.get("breaks")),
        },
        _ => Settings {
            gfm: true,
            breaks: false,
        },
    };
    render(markdown, options)
        .map(|html| Some(Value::String(html)))
        .map_err(|message| args.failed(message))
}

#[derive(Clone, Copy)]
struct Settings {
    gfm: bool,
    breaks: bool,
}

/// marked's `escape(text)`: `&` (unless it starts an entity reference), `<`, `>`, `"`,
/// `'`.
pub(crate) fn escape_html(text: &str, keep_entities: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for (index, c) in text.char_indices() {
        match c {
            '&' if keep_entities && entity_at(&text[index..]).is_some() => out.push('&'),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// The length of an entity reference (`&amp;`, `&#123;`, `&#x1F;`) at the start of `text`.
fn entity_at(text: &str) -> Option<usize> {
    let rest = text.strip_prefix('&')?;
    let end = rest.find(';')?;
    let body = &rest[..end];
    let valid = if let Some(hex) = body.strip_prefix("#x").or_else(|| body.strip_prefix("#X")) {
        (1..=6).contains(&hex.len()) && hex.chars().all(|c| c.is_ascii_hexdigit())
    } else if let Some(decimal) = body.strip_prefix('#') {
        (1..=7).contains(&decimal.len()) && decimal.chars().all(|c| c.is_ascii_digit())
    } else {
        !body.is_empty() && body.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    valid.then_some(end + 2)
}

/// JavaScript's `encodeURI` followed by marked's `.replace(/%25/g, '%')`.
pub(crate) fn clean_url(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    for c in url.chars() {
        let keep = c.is_ascii_alphanumeric() || ";,/?:@&=+$-_.!~*'()#".contains(c);
        if keep {
            out.push(c);
        } else {
            let mut buffer = [0u8; 4];
            for byte in c.encode_utf8(&mut buffer).bytes() {
                if byte == b'%' {
                    out.push('%');
                } else {
                    out.push_str(&format!("%{byte:02X}"));
                }
            }
        }
    }
    out
}

/// Finds GFM bare autolinks in `text`: `(start, end, href)` for `http(s)://…`, `www.…`
/// and e-mail addresses, with trailing punctuation left out as marked does.
pub(crate) fn find_autolinks(text: &str) -> Vec<(usize, usize, String)> {
    let mut found = Vec::new();
    let bytes = text.as_bytes();
    let mut index = 0;
    while index < text.len() {
        if !text.is_char_boundary(index) {
            index += 1;
            continue;
        }
        let rest = &text[index..];
        let boundary_ok = index == 0
            || !bytes
                .get(index - 1)
                .is_some_and(|b| b.is_ascii_alphanumeric());
        let scheme = ["https://", "http://", "ftp://", "www."]
            .into_iter()
            .find(|prefix| {
                rest.get(..prefix.len())
                    .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
            });
        if let Some(prefix) = scheme
            && boundary_ok
        {
            let end = rest
                .find(|c: char| c.is_whitespace() || c == '<')
                .unwrap_or(rest.len());
            let mut candidate = &rest[..end];
            // Trailing punctuation is not part of the link; a `)` only when unbalanced.
            // The parenthesis counts are kept up to date so that this stays linear.
            let opens = candidate.matches('(').count();
            let mut closes = candidate.matches(')').count();
            loop {
                let trimmed = candidate
                    .trim_end_matches(['?', '!', '.', ',', ':', '*', '_', '~', '\'', '"', ';']);
                let trimmed = if trimmed.ends_with(')') && closes > opens {
                    closes -= 1;
                    &trimmed[..trimmed.len() - 1]
                } else {
                    trimmed
                };
                if trimmed.len() == candidate.len() {
                    break;
                }
                candidate = trimmed;
            }
            let host = &candidate[prefix.len()..];
            if !host.is_empty() && host.contains(|c: char| c.is_ascii_alphanumeric()) {
                let href = if prefix.eq_ignore_ascii_case("www.") {
                    format!("http://{candidate}")
                } else {
                    candidate.to_owned()
                };
                found.push((index, index + candidate.len(), href));
                index += candidate.len();
                continue;
            }
        }
        if let Some(after_at) = rest.strip_prefix('@') {
            // Extend backwards over the local part and forwards over the domain.
            let local_start = text[..index]
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || "._+-".contains(c)))
                .map_or(0, |position| position + 1);
            let domain_end = after_at
                .find(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c)))
                .unwrap_or(after_at.len());
            let domain = after_at[..domain_end].trim_end_matches('.');
            let already = found.last().is_some_and(|(_, end, _)| *end > local_start);
            if local_start < index
                && domain.contains('.')
                && !domain.ends_with(['-', '_'])
                && !already
            {
                let end = index + 1 + domain.len();
                let address = &text[local_start..end];
                found.push((local_start, end, format!("mailto:{address}")));
                index = end;
                continue;
            }
        }
        index += rest.chars().next().map_or(1, char::len_utf8);
    }
    found
}

struct Renderer<'s> {
    source: &'s str,
    settings: Settings,
    out: String,
    /// Pending text events (merged), with the source range they cover.
    text: String,
    text_range: Option<Range<usize>>,
    /// Table state: the column alignments, whether we are in the head, the cell index.
    alignments: Vec<Alignment>,
    in_head: bool,
    cell: usize,
    row_open_cells: usize,
    body_open: bool,
    /// Inside an image: its alt text is collected instead of printed.
    image: Option<(String, String, String)>,
    link_depth: usize,
    code_block: bool,
    pending_task: Option<bool>,
    budget: Budget,
}

fn render(markdown: &str, settings: Settings) -> Result<String, String> {
    let mut options = Options::empty();
    if settings.gfm {
        options |=
            Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    }
    let parser = Parser::new_ext(markdown, options).into_offset_iter();
    let mut renderer = Renderer {
        source: markdown,
        settings,
        out: String::new(),
        text: String::new(),
        text_range: None,
        alignments: Vec::new(),
        in_head: false,
        cell: 0,
        row_open_cells: 0,
        body_open: false,
        image: None,
        link_depth: 0,
        code_block: false,
        pending_task: None,
        budget: Budget::new("convertMarkdownToHtml"),
    };
    for (event, range) in parser {
        renderer.budget.take().map_err(|error| error.to_string())?;
        renderer.event(event, range);
        if renderer.out.len() > MAX_TEXT_BYTES {
            return Err(format!(
                "the HTML would be more than the limit of {MAX_TEXT_BYTES} bytes"
            ));
        }
    }
    renderer.flush_text();
    Ok(renderer.out)
}

impl Renderer<'_> {
    fn push(&mut self, text: &str) {
        // Inside an image the alt text comes from the source instead.
        if self.image.is_none() {
            self.out.push_str(text);
        }
    }

    /// Prints the merged text: entity references from the source are kept, bare URLs
    /// become links (outside links and code).
    fn flush_text(&mut self) {
        let text = std::mem::take(&mut self.text);
        let Some(range) = self.text_range.take() else {
            return;
        };
        let source = self.source.get(range).unwrap_or_default();
        if source != text && source.contains('&') && self.image.is_none() {
            let printed = print_from_source(source, &text);
            self.push(&printed);
            return;
        }
        if self.settings.gfm && self.link_depth == 0 && self.image.is_none() {
            let mut printed = String::new();
            let mut last = 0;
            for (start, end, href) in find_autolinks(&text) {
                printed.push_str(&escape_html(&text[last..start], true));
                let shown = escape_html(&text[start..end], true);
                printed.push_str(&format!("<a href=\"{}\">{shown}</a>", clean_url(&href)));
                last = end;
            }
            printed.push_str(&escape_html(&text[last..], true));
            self.push(&printed);
        } else {
            let escaped = escape_html(&text, true);
            self.push(&escaped);
        }
    }

    fn event(&mut self, event: Event<'_>, range: Range<usize>) {
        if let Event::Text(text) = &event {
            if self.pending_task.is_some() {
                self.flush_text();
                self.task_marker();
            }
            self.text.push_str(text);
            self.text_range = Some(match self.text_range.take() {
                Some(previous) => previous.start.min(range.start)..previous.end.max(range.end),
                None => range,
            });
            return;
        }
        if self.code_block && matches!(event, Event::End(TagEnd::CodeBlock)) {
            // marked prints the code without its last newline, then one newline.
            let code = std::mem::take(&mut self.text);
            self.text_range = None;
            let code = code.strip_suffix('\n').unwrap_or(&code);
            let printed = format!("{}\n</code></pre>\n", escape_html(code, false));
            self.push(&printed);
            self.code_block = false;
            return;
        }
        self.flush_text();
        if !matches!(
            event,
            Event::Start(Tag::Paragraph) | Event::TaskListMarker(_)
        ) {
            self.task_marker();
        }
        match event {
            Event::Start(tag) => self.start(tag, range),
            Event::End(tag) => self.end(tag, range),
            Event::Code(code) => {
                let code = format!("<code>{}</code>", escape_html(&code, false));
                self.push(&code);
            }
            Event::Html(html) | Event::InlineHtml(html) => self.push(&html),
            Event::SoftBreak => {
                if self.settings.breaks {
                    self.push("<br>");
                } else {
                    self.push("\n");
                }
            }
            Event::HardBreak => self.push("<br>"),
            Event::Rule => self.push("<hr>\n"),
            Event::TaskListMarker(checked) => self.pending_task = Some(checked),
            Event::Text(_)
            | Event::InlineMath(_)
            | Event::DisplayMath(_)
            | Event::FootnoteReference(_) => {}
        }
    }

    fn task_marker(&mut self) {
        if let Some(checked) = self.pending_task.take() {
            let marker = if checked {
                "<input checked=\"\" disabled=\"\" type=\"checkbox\"> "
            } else {
                "<input disabled=\"\" type=\"checkbox\"> "
            };
            // In a loose item marked puts the marker before the paragraph's text, on a
            // line of its own.
            let in_paragraph = self.out.ends_with("<p>");
            self.push(marker);
            if in_paragraph {
                self.push("\n");
            }
        }
    }

    fn start(&mut self, tag: Tag<'_>, range: Range<usize>) {
        match tag {
            Tag::Paragraph => {
                self.push("<p>");
                self.task_marker();
            }
            Tag::Heading { level, .. } => {
                let open = format!("<{level}>");
                self.push(&open);
            }
            Tag::BlockQuote(_) => self.push("<blockquote>\n"),
            Tag::CodeBlock(kind) => {
                self.code_block = true;
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => info
                        .split_whitespace()
                        .next()
                        .map(str::to_owned)
                        .unwrap_or_default(),
                    CodeBlockKind::Indented => String::new(),
                };
                if lang.is_empty() {
                    self.push("<pre><code>");
                } else {
                    let open = format!(
                        "<pre><code class=\"language-{}\">",
                        escape_html(&lang, false)
                    );
                    self.push(&open);
                }
            }
            Tag::HtmlBlock => {}
            Tag::List(Some(start)) if start != 1 => {
                let open = format!("<ol start=\"{start}\">\n");
                self.push(&open);
            }
            Tag::List(Some(_)) => self.push("<ol>\n"),
            Tag::List(None) => self.push("<ul>\n"),
            Tag::Item => self.push("<li>"),
            Tag::Table(alignments) => {
                self.alignments = alignments;
                self.body_open = false;
                self.push("<table>\n");
            }
            Tag::TableHead => {
                self.in_head = true;
                self.cell = 0;
                self.push("<thead>\n<tr>\n");
            }
            Tag::TableRow => {
                if !self.body_open {
                    self.body_open = true;
                    self.push("<tbody>");
                }
                self.cell = 0;
                self.row_open_cells = 0;
                self.push("<tr>\n");
            }
            Tag::TableCell => {
                let name = if self.in_head { "th" } else { "td" };
                let align = match self.alignments.get(self.cell) {
                    Some(Alignment::Left) => " align=\"left\"",
                    Some(Alignment::Center) => " align=\"center\"",
                    Some(Alignment::Right) => " align=\"right\"",
                    _ => "",
                };
                let open = format!("<{name}{align}>");
                self.push(&open);
                self.row_open_cells += 1;
            }
            Tag::Emphasis => self.push("<em>"),
            Tag::Strong => self.push("<strong>"),
            Tag::Strikethrough => self.push("<del>"),
            Tag::Link {
                link_type,
                dest_url,
                title,
                ..
            } => {
                self.link_depth += 1;
                let href = if link_type == LinkType::Email {
                    format!("mailto:{dest_url}")
                } else {
                    dest_url.to_string()
                };
                let title = if title.is_empty() {
                    String::new()
                } else {
                    format!(" title=\"{}\"", escape_html(&title, false))
                };
                let open = format!("<a href=\"{}\"{title}>", clean_url(&href));
                self.push(&open);
            }
            Tag::Image {
                dest_url, title, ..
            } => {
                let alt = image_alt(self.source.get(range).unwrap_or_default());
                self.image = Some((clean_url(&dest_url), alt, title.to_string()));
            }
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd, range: Range<usize>) {
        match tag {
            TagEnd::Paragraph => {
                // marked keeps the spaces at the end of a paragraph's last line.
                let source = self.source.get(range).unwrap_or_default();
                let last_line = source.trim_end_matches(['\n', '\r']);
                let kept = &last_line[last_line.trim_end_matches([' ', '\t']).len()..];
                if !kept.is_empty() && !self.out.ends_with("<br>") && !self.out.ends_with('>') {
                    self.push(kept);
                }
                self.push("</p>\n");
            }
            TagEnd::Heading(level) => {
                let close = format!("</{level}>\n");
                self.push(&close);
            }
            TagEnd::BlockQuote(_) => self.push("</blockquote>\n"),
            TagEnd::CodeBlock => {}
            TagEnd::HtmlBlock => {
                // marked's HTML block takes the blank lines after it along.
                let after = self.source.get(range.end..).unwrap_or_default();
                let blank = after.len() - after.trim_start_matches([' ', '\t', '\n']).len();
                let blank = &after[..blank];
                let kept = blank.rfind('\n').map_or("", |last| &blank[..=last]);
                let kept = kept.to_owned();
                self.push(&kept);
            }
            TagEnd::List(true) => self.push("</ol>\n"),
            TagEnd::List(false) => self.push("</ul>\n"),
            TagEnd::Item => {
                self.task_marker();
                self.push("</li>\n");
            }
            TagEnd::Table => {
                if self.body_open {
                    self.push("</tbody>");
                }
                self.push("</table>\n");
            }
            TagEnd::TableHead => {
                self.in_head = false;
                self.push("</tr>\n</thead>\n");
            }
            TagEnd::TableRow => {
                // Short rows are filled with empty cells, as marked does.
                while self.row_open_cells < self.alignments.len() {
                    let align = match self.alignments.get(self.row_open_cells) {
                        Some(Alignment::Left) => " align=\"left\"",
                        Some(Alignment::Center) => " align=\"center\"",
                        Some(Alignment::Right) => " align=\"right\"",
                        _ => "",
                    };
                    let cell = format!("<td{align}></td>\n");
                    self.push(&cell);
                    self.row_open_cells += 1;
                }
                self.push("</tr>\n");
            }
            TagEnd::TableCell => {
                let name = if self.in_head { "th" } else { "td" };
                let close = format!("</{name}>\n");
                self.push(&close);
                self.cell += 1;
            }
            TagEnd::Emphasis => self.push("</em>"),
            TagEnd::Strong => self.push("</strong>"),
            TagEnd::Strikethrough => self.push("</del>"),
            TagEnd::Link => {
                self.link_depth = self.link_depth.saturating_sub(1);
                self.push("</a>");
            }
            TagEnd::Image => {
                if let Some((src, alt, title)) = self.image.take() {
                    let title = if title.is_empty() {
                        String::new()
                    } else {
                        format!(" title=\"{}\"", escape_html(&title, false))
                    };
                    let image = format!(
                        "<img src=\"{src}\" alt=\"{}\"{title}>",
                        escape_html(&alt, true)
                    );
                    self.push(&image);
                }
            }
            _ => {}
        }
    }
}

/// Prints text from its source slice, as marked does for text holding `&`: entity
/// references are kept as written, backslash escapes resolved, the rest escaped.
/// `decoded` is what the parser read, used when the slice is not plain text.
fn print_from_source(source: &str, decoded: &str) -> String {
    let mut out = String::new();
    let mut rest = source;
    while let Some(c) = rest.chars().next() {
        if c == '&'
            && let Some(len) = entity_at(rest)
        {
            out.push_str(&rest[..len]);
            rest = &rest[len..];
            continue;
        }
        if c == '\\'
            && let Some(next) = rest[1..].chars().next()
            && next.is_ascii_punctuation()
        {
            out.push_str(&escape_html(&next.to_string(), false));
            rest = &rest[1 + next.len_utf8()..];
            continue;
        }
        if matches!(c, '*' | '_' | '`' | '[' | ']' | '<' | '>' | '!' | '\n') && c != '<' {
            // Markup inside the slice: fall back to the parsed text.
            if c != '\n' {
                return escape_html(decoded, false);
            }
        }
        out.push_str(&escape_html(&c.to_string(), false));
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// An image's alt text as written: what is between `![` and its closing `]`.
fn image_alt(source: &str) -> String {
    let Some(inner) = source.strip_prefix("![") else {
        return String::new();
    };
    let mut depth = 0usize;
    for (index, c) in inner.char_indices() {
        match c {
            '[' => depth += 1,
            ']' if depth == 0 => return inner[..index].to_owned(),
            ']' => depth -= 1,
            _ => {}
        }
    }
    String::new()
}
