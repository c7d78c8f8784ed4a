//! turndown's conversion pass with its default rules and the gfm plugin's rules, in
//! turndown's order: blank elements first, then the plugin's rules (task-list boxes, table
//! parts, strikethrough, highlighted code), then the default rules, then the default
//! replacement (a block's content between blank lines, an inline element's content as is).

use std::cell::RefCell;
use std::collections::HashMap;

use super::dom::Dom;
use super::whitespace::{is_block, is_void};
use crate::expression::extensions::bounds::MAX_TEXT_BYTES;
use crate::expression::extensions::js::{is_js_space, js_trim, number_to_js_string};

const MEANINGFUL_WHEN_BLANK: &[&str] = &[
    "A", "TABLE", "THEAD", "TBODY", "TFOOT", "TH", "TD", "IFRAME", "SCRIPT", "AUDIO", "VIDEO",
];

/// Per-node facts computed once, bottom-up.
#[derive(Clone, Copy, Default)]
struct Facts {
    /// `textContent` is only white space (JavaScript `\s`).
    blank_text: bool,
    has_void: bool,
    has_meaningful: bool,
}

pub(super) struct Converter<'d> {
    dom: &'d Dom,
    facts: Vec<Facts>,
    written: usize,
    /// Column counts of the tables seen, which every heading row of a table needs.
    column_counts: RefCell<HashMap<usize, usize>>,
}

/// `a + b` joined as turndown's `join`: the newlines at the seam are replaced by as many
/// as the larger side had, at most two.
fn join(output: &mut String, replacement: &str) {
    let left = output.trim_end_matches('\n').len();
    let right = replacement.trim_start_matches('\n');
    let newlines = (output.len() - left)
        .max(replacement.len() - right.len())
        .min(2);
    output.truncate(left);
    output.push_str(&"\n\n"[..newlines]);
    output.push_str(right);
}

/// turndown's markdown escapes for text.
fn escape(text: &str) -> String {
    let mut text = text.replace('\\', "\\\\").replace('*', "\\*");
    if text.starts_with('-') {
        text.insert(0, '\\');
    }
    if text.starts_with("+ ") {
        text.insert(0, '\\');
    }
    if text.starts_with('=') {
        text.insert(0, '\\');
    }
    let hashes = text.len() - text.trim_start_matches('#').len();
    if (1..=6).contains(&hashes) && text[hashes..].starts_with(' ') {
        text.insert(0, '\\');
    }
    let mut text = text.replace('`', "\\`");
    if text.starts_with("~~~") {
        text.insert(0, '\\');
    }
    let mut text = text.replace('[', "\\[").replace(']', "\\]");
    if text.starts_with('>') {
        text.insert(0, '\\');
    }
    let text = text.replace('_', "\\_");
    let digits = text.len() - text.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if digits > 0 && text[digits..].starts_with(". ") {
        format!("{}\\{}", &text[..digits], &text[digits..])
    } else {
        text
    }
}

/// `cleanAttribute`: runs of line breaks (with the white space after them) become one
/// line break.
fn clean_attribute(value: Option<&str>) -> String {
    let Some(value) = value else {
        return String::new();
    };
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\n' {
            // `(\n+\s*)+` → "\n"
            while chars.peek().is_some_and(|c| is_js_space(*c)) {
                chars.next();
            }
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    out
}

/// UTF-16 length, as JavaScript's `length`.
fn js_len(text: &str) -> usize {
    text.encode_utf16().count()
}

impl<'d> Converter<'d> {
    pub(super) fn new(dom: &'d Dom) -> Self {
        let mut facts = vec![Facts::default(); dom.nodes.len()];
        // Post-order over the live tree: children before parents.
        let mut order = Vec::new();
        let mut stack = vec![0usize];
        while let Some(node) = stack.pop() {
            order.push(node);
            stack.extend(dom.children(node));
        }
        for &node in order.iter().rev() {
            let mut fact = Facts {
                blank_text: dom
                    .text(node)
                    .is_none_or(|text| text.chars().all(is_js_space)),
                has_void: false,
                has_meaningful: false,
            };
            for child in dom.children(node) {
                let child_fact = facts.get(child).copied().unwrap_or_default();
                fact.blank_text &= child_fact.blank_text;
                fact.has_void |= child_fact.has_void || is_void(dom, child);
                fact.has_meaningful |=
                    child_fact.has_meaningful || MEANINGFUL_WHEN_BLANK.contains(&dom.name(child));
            }
            if let Some(slot) = facts.get_mut(node) {
                *slot = fact;
            }
        }
        Converter {
            dom,
            facts,
            written: 0,
            column_counts: RefCell::new(HashMap::new()),
        }
    }

    fn fact(&self, node: usize) -> Facts {
        self.facts.get(node).copied().unwrap_or_default()
    }

    fn is_blank(&self, node: usize) -> bool {
        let name = self.dom.name(node);
        let fact = self.fact(node);
        !is_void(self.dom, node)
            && !MEANINGFUL_WHEN_BLANK.contains(&name)
            && fact.blank_text
            && !fact.has_void
            && !fact.has_meaningful
    }

    /// turndown's `process`: the children's replacements joined.
    pub(super) fn process(
        &mut self,
        parent: usize,
        parent_is_code: bool,
    ) -> Result<String, String> {
        let mut output = String::new();
        for child in self.dom.children(parent) {
            let replacement = if let Some(text) = self.dom.text(child) {
                if parent_is_code {
                    text.to_owned()
                } else {
                    escape(text)
                }
            } else if self.dom.is_element(child) {
                let is_code = self.dom.name(child) == "CODE" || parent_is_code;
                self.replacement_for_node(child, is_code)?
            } else {
                String::new()
            };
            join(&mut output, &replacement);
            self.written += replacement.len();
            if self.written > MAX_TEXT_BYTES * 4 {
                return Err(format!(
                    "the markdown would be more than the limit of {MAX_TEXT_BYTES} bytes"
                ));
            }
        }
        if output.len() > MAX_TEXT_BYTES {
            return Err(format!(
                "the markdown would be more than the limit of {MAX_TEXT_BYTES} bytes"
            ));
        }
        Ok(output)
    }

    fn replacement_for_node(&mut self, node: usize, is_code: bool) -> Result<String, String> {
        let content = self.process(node, is_code)?;
        let (leading, trailing) = self.flanking_whitespace(node);
        let content = if leading.is_empty() && trailing.is_empty() {
            content
        } else {
            js_trim(&content).to_owned()
        };
        let replaced = self.rule(node, content);
        Ok(format!("{leading}{replaced}{trailing}"))
    }

    /// The leading (or trailing) white-space run of `node`'s `textContent`.
    fn edge_whitespace(&self, node: usize, leading: bool) -> String {
        let mut run = String::new();
        let mut stack = vec![node];
        while let Some(current) = stack.pop() {
            if let Some(text) = self.dom.text(current) {
                if leading {
                    let ws: String = text.chars().take_while(|c| is_js_space(*c)).collect();
                    let whole = ws.len() == text.len();
                    run.push_str(&ws);
                    if !whole {
                        return run;
                    }
                } else {
                    let ws: Vec<char> =
                        text.chars().rev().take_while(|c| is_js_space(*c)).collect();
                    let whole = ws.iter().map(|c| c.len_utf8()).sum::<usize>() == text.len();
                    let ws: String = ws.into_iter().rev().collect();
                    run.insert_str(0, &ws);
                    if !whole {
                        return run;
                    }
                }
            }
            let children = self.dom.children(current);
            if leading {
                stack.extend(children.into_iter().rev());
            } else {
                stack.extend(children);
            }
        }
        run
    }

    /// The first (or last) character of `node`'s `textContent`.
    fn edge_char(&self, node: usize, first: bool) -> Option<char> {
        let mut stack = vec![node];
        while let Some(current) = stack.pop() {
            if let Some(text) = self.dom.text(current) {
                let c = if first {
                    text.chars().next()
                } else {
                    text.chars().next_back()
                };
                if c.is_some() {
                    return c;
                }
            }
            let children = self.dom.children(current);
            if first {
                stack.extend(children.into_iter().rev());
            } else {
                stack.extend(children);
            }
        }
        None
    }

    fn is_flanked(&self, node: usize, left: bool) -> bool {
        let sibling = if left {
            self.dom.previous_sibling(node)
        } else {
            self.dom.next_sibling(node)
        };
        let Some(sibling) = sibling else {
            return false;
        };
        let edge = if let Some(text) = self.dom.text(sibling) {
            if left {
                text.chars().next_back()
            } else {
                text.chars().next()
            }
        } else if self.dom.is_element(sibling) && !is_block(self.dom, sibling) {
            self.edge_char(sibling, !left)
        } else {
            return false;
        };
        edge == Some(' ')
    }

    /// turndown's `flankingWhitespace`: the white space moved outside an inline element's
    /// markup. ASCII white space is dropped where the neighbour already has a space.
    fn flanking_whitespace(&self, node: usize) -> (String, String) {
        if is_block(self.dom, node) {
            return (String::new(), String::new());
        }
        let is_ascii_space = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n');
        let all_blank = self.fact(node).blank_text;
        let leading_run = self.edge_whitespace(node, true);
        let trailing_run = if all_blank {
            String::new()
        } else {
            self.edge_whitespace(node, false)
        };
        let ascii_lead_len =
            leading_run.len() - leading_run.trim_start_matches(is_ascii_space).len();
        let mut leading = leading_run.clone();
        if ascii_lead_len > 0 && self.is_flanked(node, true) {
            leading = leading_run[ascii_lead_len..].to_owned();
        }
        let ascii_trail_len =
            trailing_run.len() - trailing_run.trim_end_matches(is_ascii_space).len();
        let mut trailing = trailing_run.clone();
        if ascii_trail_len > 0 && self.is_flanked(node, false) {
            trailing = trailing_run[..trailing_run.len() - ascii_trail_len].to_owned();
        }
        (leading, trailing)
    }

    fn rule(&self, node: usize, content: String) -> String {
        let dom = self.dom;
        let name = dom.name(node);
        if self.is_blank(node) {
            return if is_block(dom, node) {
                "\n\n".to_owned()
            } else {
                String::new()
            };
        }
        // gfm plugin rules (checked first).
        if name == "INPUT"
            && dom
                .attribute(node, "type")
                .is_some_and(|kind| kind.eq_ignore_ascii_case("checkbox"))
            && dom.parent(node).is_some_and(|p| dom.name(p) == "LI")
        {
            let checked = dom.attribute(node, "checked").is_some();
            return format!("{} ", if checked { "[x]" } else { "[ ]" });
        }
        match name {
            "COLGROUP" | "COL" | "CAPTION" => return String::new(),
            "THEAD" | "TBODY" | "TFOOT" => return content,
            "TABLE" => return self.table(node, &content),
            "TR" => return self.table_row(node, &content),
            "TH" | "TD" => return self.table_cell(node, &content),
            "DEL" | "S" | "STRIKE" => return format!("~~{content}~~"),
            _ => {}
        }
        if name == "DIV"
            && let Some(language) = highlight_language(dom.attribute(node, "class").unwrap_or(""))
            && let Some(first) = dom.first_child(node)
            && dom.name(first) == "PRE"
        {
            return format!("\n\n```{language}\n{}\n```\n\n", dom.text_content(first));
        }
        // Default rules.
        match name {
            "P" => format!("\n\n{content}\n\n"),
            "BR" => "  \n".to_owned(),
            "H1" | "H2" => {
                let underline = if name == "H1" { "=" } else { "-" };
                format!("\n\n{content}\n{}\n\n", underline.repeat(js_len(&content)))
            }
            "H3" | "H4" | "H5" | "H6" => {
                let level = name[1..].parse::<usize>().unwrap_or(3);
                format!("\n\n{} {content}\n\n", "#".repeat(level))
            }
            "BLOCKQUOTE" => {
                let inner = content.trim_matches('\n');
                let quoted: Vec<String> =
                    inner.split('\n').map(|line| format!("> {line}")).collect();
                format!("\n\n{}\n\n", quoted.join("\n"))
            }
            "UL" | "OL" => {
                let parent = dom.parent(node);
                let last_in_item = parent.is_some_and(|p| {
                    dom.name(p) == "LI" && dom.last_element_child(p) == Some(node)
                });
                if last_in_item {
                    format!("\n{content}")
                } else {
                    format!("\n\n{content}\n\n")
                }
            }
            "LI" => self.list_item(node, &content),
            "PRE"
                if dom
                    .first_child(node)
                    .is_some_and(|first| dom.name(first) == "CODE") =>
            {
                let code = dom
                    .first_child(node)
                    .map(|first| dom.text_content(first))
                    .unwrap_or_default();
                format!("\n\n    {}\n\n", code.replace('\n', "\n    "))
            }
            "HR" => "\n\n* * *\n\n".to_owned(),
            "A" if dom
                .attribute(node, "href")
                .is_some_and(|href| !href.is_empty()) =>
            {
                let href = dom
                    .attribute(node, "href")
                    .unwrap_or("")
                    .replace('(', "\\(")
                    .replace(')', "\\)");
                let title = clean_attribute(dom.attribute(node, "title"));
                let title = if title.is_empty() {
                    title
                } else {
                    format!(" \"{}\"", title.replace('"', "\\\""))
                };
                format!("[{content}]({href}{title})")
            }
            "EM" | "I" => {
                if js_trim(&content).is_empty() {
                    String::new()
                } else {
                    format!("_{content}_")
                }
            }
            "STRONG" | "B" => {
                if js_trim(&content).is_empty() {
                    String::new()
                } else {
                    format!("**{content}**")
                }
            }
            "CODE" if !self.is_code_block(node) => inline_code(&content),
            "IMG" => {
                let alt = clean_attribute(dom.attribute(node, "alt"));
                let src = dom.attribute(node, "src").unwrap_or("");
                let title = clean_attribute(dom.attribute(node, "title"));
                let title = if title.is_empty() {
                    title
                } else {
                    format!(" \"{title}\"")
                };
                if src.is_empty() {
                    String::new()
                } else {
                    format!("![{alt}]({src}{title})")
                }
            }
            _ => {
                if is_block(dom, node) {
                    format!("\n\n{content}\n\n")
                } else {
                    content
                }
            }
        }
    }

    /// A `<code>` that is the only child of a `<pre>` is a code block, not inline code.
    fn is_code_block(&self, node: usize) -> bool {
        let dom = self.dom;
        let has_siblings = dom.previous_sibling(node).is_some() || dom.next_sibling(node).is_some();
        dom.parent(node).is_some_and(|p| dom.name(p) == "PRE") && !has_siblings
    }

    fn list_item(&self, node: usize, content: &str) -> String {
        let dom = self.dom;
        let content = content.trim_start_matches('\n');
        let trimmed = content.trim_end_matches('\n');
        let content = if trimmed.len() < content.len() {
            format!("{trimmed}\n")
        } else {
            trimmed.to_owned()
        };
        let content = content.replace('\n', "\n    ");
        let mut prefix = "*   ".to_owned();
        if let Some(parent) = dom.parent(node)
            && dom.name(parent) == "OL"
        {
            let index = dom.element_index(node);
            let number = match dom.attribute(parent, "start") {
                Some(start) if !start.is_empty() => {
                    let start = js_number(start);
                    number_to_js_string(start + index as f64)
                }
                _ => (index + 1).to_string(),
            };
            prefix = format!("{number}.  ");
        }
        let newline = if dom.next_sibling(node).is_some() && !content.ends_with('\n') {
            "\n"
        } else {
            ""
        };
        format!("{prefix}{content}{newline}")
    }

    fn table_cell(&self, node: usize, content: &str) -> String {
        let dom = self.dom;
        let index = dom.child_index(node);
        let prefix = if index == 0 { "| " } else { " " };
        let colspan = dom
            .attribute(node, "colspan")
            .map(parse_int)
            .unwrap_or(Some(1))
            .filter(|span| *span >= 1)
            .unwrap_or(1);
        let mut out = format!("{prefix}{} |", clean_cell(content));
        for _ in 1..colspan.min(1000) {
            out.push_str("   |");
        }
        out
    }

    fn is_heading_row(&self, row: usize) -> bool {
        let dom = self.dom;
        let Some(parent) = dom.parent(row) else {
            return false;
        };
        if dom.name(parent) == "THEAD" {
            return true;
        }
        if dom.first_child(parent) == Some(row) && matches!(dom.name(parent), "TABLE" | "TBODY") {
            let cells = dom.element_children(row);
            return !cells.is_empty() && cells.iter().all(|cell| dom.name(*cell) == "TH");
        }
        false
    }

    fn column_count(&self, table: usize) -> usize {
        if let Some(count) = self.column_counts.borrow().get(&table) {
            return *count;
        }
        let count = self.count_columns(table);
        self.column_counts.borrow_mut().insert(table, count);
        count
    }

    fn count_columns(&self, table: usize) -> usize {
        let dom = self.dom;
        let mut widest = 0;
        for row in dom.table_rows(table) {
            let mut count = 0usize;
            for cell in dom.children(row) {
                if matches!(dom.name(cell), "TD" | "TH") {
                    let span = dom.attribute(cell, "colspan").map_or(Some(1), parse_int);
                    count += span.map_or(1, |span| span.clamp(1, 1000));
                }
            }
            widest = widest.max(count);
        }
        widest
    }

    fn table_row(&self, node: usize, content: &str) -> String {
        if js_trim(content).is_empty() {
            return String::new();
        }
        let mut border = String::new();
        if self.is_heading_row(node)
            && let Some(table) = self.dom.closest(node, "TABLE")
        {
            for index in 0..self.column_count(table) {
                border.push_str(if index == 0 { "| --- |" } else { " --- |" });
            }
        }
        if border.is_empty() {
            format!("\n{content}")
        } else {
            format!("\n{content}\n{border}")
        }
    }

    fn skip_table(&self, table: usize) -> bool {
        let dom = self.dom;
        let rows = dom.table_rows(table);
        if rows.is_empty() {
            return true;
        }
        let mut total = 0;
        let mut with_content = 0;
        for row in rows {
            for cell in dom.children(row) {
                if matches!(dom.name(cell), "TD" | "TH") {
                    total += 1;
                    if !self.fact(cell).blank_text {
                        with_content += 1;
                    }
                }
            }
        }
        total == 0 || (total == 1 && with_content == 0)
    }

    fn table(&self, node: usize, content: &str) -> String {
        if self.skip_table(node) {
            return String::new();
        }
        let mut collapsed = String::with_capacity(content.len());
        for c in content.chars() {
            if c == '\n' && collapsed.ends_with('\n') {
                continue;
            }
            collapsed.push(c);
        }
        let collapsed = js_trim(&collapsed);
        if collapsed.is_empty() {
            return String::new();
        }
        let lines: Vec<&str> = collapsed
            .split('\n')
            .filter(|line| !js_trim(line).is_empty())
            .collect();
        if lines.is_empty() {
            return String::new();
        }
        let has_separator = lines.len() >= 2 && has_header_separator(lines[1]);
        let mut result = lines.join("\n");
        if !has_separator {
            let columns = lines[0].matches('|').count().saturating_sub(1);
            if columns > 0 {
                let separator = format!("|{}", " --- |".repeat(columns));
                let mut all = vec![lines[0].to_owned(), separator];
                all.extend(lines[1..].iter().map(|line| (*line).to_owned()));
                result = all.join("\n");
            }
        }
        format!("\n\n{result}\n\n")
    }
}

/// `/\|\s*-+/`.
fn has_header_separator(line: &str) -> bool {
    line.match_indices('|').any(|(index, _)| {
        line[index + 1..]
            .trim_start_matches(is_js_space)
            .starts_with('-')
    })
}

/// `parseInt(text, 10)`: leading white space, a sign and the leading digits.
fn parse_int(text: &str) -> Option<usize> {
    let text = js_trim(text);
    let text = text.strip_prefix('+').unwrap_or(text);
    if let Some(negative) = text.strip_prefix('-') {
        let digits: String = negative.chars().take_while(char::is_ascii_digit).collect();
        return if digits.is_empty() { None } else { Some(0) };
    }
    let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() {
        return None;
    }
    Some(digits.parse::<usize>().unwrap_or(usize::MAX))
}

/// `Number(text)` for an ordered list's `start`.
fn js_number(text: &str) -> f64 {
    crate::expression::extensions::values::js_to_number(Some(&serde_json::Value::String(
        text.to_owned(),
    )))
}

/// The gfm plugin's `cleanCellContent`.
fn clean_cell(content: &str) -> String {
    if content.is_empty() {
        return "   ".to_owned();
    }
    let mut collapsed = String::new();
    let mut in_space = false;
    for c in js_trim(content).chars() {
        if is_js_space(c) {
            if !in_space {
                collapsed.push(' ');
            }
            in_space = true;
        } else {
            collapsed.push(c);
            in_space = false;
        }
    }
    let cleaned = collapsed.replace('|', "\\|").replace('\\', "\\\\");
    if js_trim(&cleaned).is_empty() {
        return "   ".to_owned();
    }
    let len = js_len(&cleaned);
    if len < 3 {
        format!("{cleaned}{}", " ".repeat(3 - len))
    } else {
        cleaned
    }
}

/// turndown's inline `code` rule: backtick fences longer than any run inside, padded
/// with spaces where the content starts or ends with a backtick or is space-padded.
fn inline_code(content: &str) -> String {
    if content.is_empty() {
        return String::new();
    }
    let content = content.replace("\r\n", " ").replace(['\n', '\r'], " ");
    let padded = content.starts_with(' ')
        && content.ends_with(' ')
        && content.len() >= 3
        && content[1..content.len() - 1].contains(|c: char| c != ' ');
    let extra = if content.starts_with('`') || content.ends_with('`') || padded {
        " "
    } else {
        ""
    };
    let mut runs: Vec<usize> = Vec::new();
    let mut current = 0;
    for c in content.chars() {
        if c == '`' {
            current += 1;
        } else if current > 0 {
            runs.push(current);
            current = 0;
        }
    }
    if current > 0 {
        runs.push(current);
    }
    let mut fence = 1;
    while runs.contains(&fence) {
        fence += 1;
    }
    let delimiter = "`".repeat(fence);
    format!("{delimiter}{extra}{content}{extra}{delimiter}")
}

/// The language of a `highlight-…` class (`/highlight-(?:(?:text|source)-)?([a-z0-9]+)/`).
fn highlight_language(class: &str) -> Option<String> {
    let start = class.find("highlight-")?;
    let rest = &class[start + "highlight-".len()..];
    let rest = rest
        .strip_prefix("text-")
        .or_else(|| rest.strip_prefix("source-"))
        .filter(|after| after.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit()))
        .unwrap_or(rest);
    let language: String = rest
        .chars()
        .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        .collect();
    (!language.is_empty()).then_some(language)
}
