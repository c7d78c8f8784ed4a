//! turndown's `collapseWhitespace`: the white space a browser would not render is
//! removed from the text nodes before conversion.
//!
//! Runs of space, tab, carriage return and line feed become one space; a space at the
//! start of a text node is dropped after a block boundary or another space; a space
//! before a block element or `<br>` is dropped; `<pre>` contents are left alone. Nodes that
//! are neither text nor elements (comments, doctypes) are removed, and so are text nodes
//! that end up empty.

use super::dom::Dom;

/// turndown's block elements.
pub(super) const BLOCK_ELEMENTS: &[&str] = &[
    "ADDRESS",
    "ARTICLE",
    "ASIDE",
    "AUDIO",
    "BLOCKQUOTE",
    "BODY",
    "CANVAS",
    "CENTER",
    "DD",
    "DIR",
    "DIV",
    "DL",
    "DT",
    "FIELDSET",
    "FIGCAPTION",
    "FIGURE",
    "FOOTER",
    "FORM",
    "FRAMESET",
    "H1",
    "H2",
    "H3",
    "H4",
    "H5",
    "H6",
    "HEADER",
    "HGROUP",
    "HR",
    "HTML",
    "ISINDEX",
    "LI",
    "MAIN",
    "MENU",
    "NAV",
    "NOFRAMES",
    "NOSCRIPT",
    "OL",
    "OUTPUT",
    "P",
    "PRE",
    "SECTION",
    "TABLE",
    "TBODY",
    "TD",
    "TFOOT",
    "TH",
    "THEAD",
    "TR",
    "UL",
];

/// turndown's void elements.
pub(super) const VOID_ELEMENTS: &[&str] = &[
    "AREA", "BASE", "BR", "COL", "COMMAND", "EMBED", "HR", "IMG", "INPUT", "KEYGEN", "LINK",
    "META", "PARAM", "SOURCE", "TRACK", "WBR",
];

pub(super) fn is_block(dom: &Dom, node: usize) -> bool {
    BLOCK_ELEMENTS.contains(&dom.name(node))
}

pub(super) fn is_void(dom: &Dom, node: usize) -> bool {
    VOID_ELEMENTS.contains(&dom.name(node))
}

fn is_pre(dom: &Dom, node: usize) -> bool {
    dom.name(node) == "PRE"
}

/// turndown's `next`: the following node of the walk, not entering `<pre>` and not
/// re-entering a node whose children were just left.
fn next(dom: &Dom, previous: Option<usize>, current: usize) -> Option<usize> {
    let left_children = previous.is_some_and(|p| dom.parent(p) == Some(current));
    if left_children || is_pre(dom, current) {
        return dom.next_sibling(current).or_else(|| dom.parent(current));
    }
    dom.first_child(current)
        .or_else(|| dom.next_sibling(current))
        .or_else(|| dom.parent(current))
}

/// Collapses the white space under `root`.
pub(super) fn collapse(dom: &mut Dom, root: usize) {
    if dom.first_child(root).is_none() || is_pre(dom, root) {
        return;
    }
    let mut previous_text: Option<usize> = None;
    let mut keep_leading = false;
    let mut previous: Option<usize> = None;
    let mut node = next(dom, previous, root);
    while let Some(current) = node {
        if current == root {
            break;
        }
        if let Some(data) = dom.text(current) {
            let mut text = collapse_runs(data);
            let after_space = previous_text
                .and_then(|p| dom.text(p))
                .is_none_or(|p| p.ends_with(' '));
            if after_space && !keep_leading && text.starts_with(' ') {
                text.remove(0);
            }
            if text.is_empty() {
                node = dom.remove(current);
                continue;
            }
            dom.set_text(current, text);
            previous_text = Some(current);
        } else if dom.is_element(current) {
            if is_block(dom, current) || dom.name(current) == "BR" {
                if let Some(p) = previous_text {
                    trim_trailing_space(dom, p);
                }
                previous_text = None;
                keep_leading = false;
            } else if is_void(dom, current) || is_pre(dom, current) {
                previous_text = None;
                keep_leading = true;
            } else if previous_text.is_some() {
                keep_leading = false;
            }
        } else {
            node = dom.remove(current);
            continue;
        }
        let following = next(dom, previous, current);
        previous = Some(current);
        node = following;
    }
    if let Some(p) = previous_text {
        trim_trailing_space(dom, p);
        if dom.text(p).is_some_and(str::is_empty) {
            dom.remove(p);
        }
    }
}

fn trim_trailing_space(dom: &mut Dom, node: usize) {
    if let Some(text) = dom.text(node)
        && let Some(trimmed) = text.strip_suffix(' ')
    {
        let trimmed = trimmed.to_owned();
        dom.set_text(node, trimmed);
    }
}

/// `text.replace(/[ \r\n\t]+/g, ' ')`.
fn collapse_runs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_run = false;
    for c in text.chars() {
        if matches!(c, ' ' | '\r' | '\n' | '\t') {
            if !in_run {
                out.push(' ');
            }
            in_run = true;
        } else {
            out.push(c);
            in_run = false;
        }
    }
    out
}
