//! A small mutable DOM for the HTML → markdown conversion: the HTML5 parse of `scraper`
//! (html5ever, the same tree-building algorithm as the package's `domino`) copied into an
//! arena, so that turndown's whitespace pass can edit text and remove nodes.

use scraper::Html;
use scraper::node::Node as ParsedNode;

use crate::expression::extensions::bounds::{MAX_DEPTH, MAX_ITEMS};

/// What a node is.
#[derive(Debug, Clone)]
pub(super) enum Kind {
    Document,
    /// An element: its `nodeName` (upper-case for HTML elements) and attributes.
    Element {
        name: String,
        attributes: Vec<(String, String)>,
    },
    Text(String),
    /// Comments, doctypes and processing instructions (turndown drops them).
    Other,
}

/// One node, linked to its parent and siblings so that removing it is O(1).
#[derive(Debug, Clone)]
pub(super) struct Node {
    pub(super) kind: Kind,
    parent: Option<usize>,
    first_child: Option<usize>,
    last_child: Option<usize>,
    previous: Option<usize>,
    next: Option<usize>,
    /// Position among the parent's child nodes / element children, set by
    /// [`Dom::index_children`] once the tree no longer changes.
    child_index: usize,
    element_index: usize,
}

impl Node {
    fn new(kind: Kind, parent: Option<usize>) -> Self {
        Node {
            kind,
            parent,
            first_child: None,
            last_child: None,
            previous: None,
            next: None,
            child_index: 0,
            element_index: 0,
        }
    }
}

/// The document tree; node 0 is the document.
#[derive(Debug)]
pub(super) struct Dom {
    pub(super) nodes: Vec<Node>,
}

impl Dom {
    /// Parses `html` as a whole document (`domino.createDocument`). Fails past
    /// [`MAX_ITEMS`] nodes or [`MAX_DEPTH`] levels.
    pub(super) fn parse(html: &str) -> Result<Dom, String> {
        let parsed = Html::parse_document(html);
        let mut dom = Dom {
            nodes: vec![Node::new(Kind::Document, None)],
        };
        // (parsed node, arena parent, depth), walked without recursion.
        let root = parsed.tree.root();
        let mut stack: Vec<(_, usize, usize)> = root
            .children()
            .rev()
            .map(|child| (child, 0usize, 1usize))
            .collect();
        while let Some((node, parent, depth)) = stack.pop() {
            if depth > MAX_DEPTH {
                return Err(format!("the HTML nests deeper than {MAX_DEPTH} elements"));
            }
            if dom.nodes.len() >= MAX_ITEMS {
                return Err(format!("the HTML has more than {MAX_ITEMS} nodes"));
            }
            let kind = match node.value() {
                ParsedNode::Element(element) => {
                    let local = element.name();
                    let html_namespace = element.name.ns.as_ref() == "http://www.w3.org/1999/xhtml";
                    let name = if html_namespace {
                        local.to_ascii_uppercase()
                    } else {
                        local.to_owned()
                    };
                    Kind::Element {
                        name,
                        attributes: element
                            .attrs()
                            .map(|(key, value)| (key.to_owned(), value.to_owned()))
                            .collect(),
                    }
                }
                ParsedNode::Text(text) => Kind::Text(text.to_string()),
                _ => Kind::Other,
            };
            let index = dom.nodes.len();
            dom.nodes.push(Node::new(kind, Some(parent)));
            dom.append(parent, index);
            // `<template>` contents live in a fragment of their own in the DOM; they are
            // not children there, so they are skipped here too.
            let is_template =
                matches!(&dom.nodes[index].kind, Kind::Element { name, .. } if name == "TEMPLATE");
            if !is_template {
                for child in node.children().rev() {
                    stack.push((child, index, depth + 1));
                }
            }
        }
        Ok(dom)
    }

    pub(super) fn name(&self, node: usize) -> &str {
        match self.nodes.get(node).map(|n| &n.kind) {
            Some(Kind::Element { name, .. }) => name,
            Some(Kind::Text(_)) => "#text",
            Some(Kind::Document) => "#document",
            _ => "#other",
        }
    }

    pub(super) fn is_element(&self, node: usize) -> bool {
        matches!(
            self.nodes.get(node).map(|n| &n.kind),
            Some(Kind::Element { .. })
        )
    }

    pub(super) fn text(&self, node: usize) -> Option<&str> {
        match self.nodes.get(node).map(|n| &n.kind) {
            Some(Kind::Text(text)) => Some(text),
            _ => None,
        }
    }

    pub(super) fn set_text(&mut self, node: usize, value: String) {
        if let Some(Node {
            kind: Kind::Text(text),
            ..
        }) = self.nodes.get_mut(node)
        {
            *text = value;
        }
    }

    /// `getAttribute(name)` (names compare ASCII case-insensitively in HTML).
    pub(super) fn attribute(&self, node: usize, name: &str) -> Option<&str> {
        match self.nodes.get(node).map(|n| &n.kind) {
            Some(Kind::Element { attributes, .. }) => attributes
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| value.as_str()),
            _ => None,
        }
    }

    fn append(&mut self, parent: usize, child: usize) {
        let last = self.nodes.get(parent).and_then(|n| n.last_child);
        if let Some(last) = last
            && let Some(last_node) = self.nodes.get_mut(last)
        {
            last_node.next = Some(child);
        }
        if let Some(child_node) = self.nodes.get_mut(child) {
            child_node.previous = last;
        }
        if let Some(parent_node) = self.nodes.get_mut(parent) {
            if parent_node.first_child.is_none() {
                parent_node.first_child = Some(child);
            }
            parent_node.last_child = Some(child);
        }
    }

    pub(super) fn parent(&self, node: usize) -> Option<usize> {
        self.nodes.get(node).and_then(|n| n.parent)
    }

    /// The child nodes, in order.
    pub(super) fn children(&self, node: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut current = self.first_child(node);
        while let Some(child) = current {
            out.push(child);
            current = self.next_sibling(child);
        }
        out
    }

    pub(super) fn first_child(&self, node: usize) -> Option<usize> {
        self.nodes.get(node).and_then(|n| n.first_child)
    }

    pub(super) fn next_sibling(&self, node: usize) -> Option<usize> {
        self.nodes.get(node).and_then(|n| n.next)
    }

    pub(super) fn previous_sibling(&self, node: usize) -> Option<usize> {
        self.nodes.get(node).and_then(|n| n.previous)
    }

    /// The element children (`children`).
    pub(super) fn element_children(&self, node: usize) -> Vec<usize> {
        self.children(node)
            .into_iter()
            .filter(|child| self.is_element(*child))
            .collect()
    }

    /// The last element child (`lastElementChild`).
    pub(super) fn last_element_child(&self, node: usize) -> Option<usize> {
        let mut current = self.nodes.get(node).and_then(|n| n.last_child);
        while let Some(child) = current {
            if self.is_element(child) {
                return Some(child);
            }
            current = self.previous_sibling(child);
        }
        None
    }

    /// Removes `node` from its parent; returns its next sibling, or else its parent
    /// (turndown's `remove`).
    pub(super) fn remove(&mut self, node: usize) -> Option<usize> {
        let (parent, previous, next) = match self.nodes.get(node) {
            Some(n) => (n.parent, n.previous, n.next),
            None => return None,
        };
        if let Some(previous) = previous
            && let Some(p) = self.nodes.get_mut(previous)
        {
            p.next = next;
        }
        if let Some(next) = next
            && let Some(n) = self.nodes.get_mut(next)
        {
            n.previous = previous;
        }
        if let Some(parent) = parent
            && let Some(p) = self.nodes.get_mut(parent)
        {
            if p.first_child == Some(node) {
                p.first_child = next;
            }
            if p.last_child == Some(node) {
                p.last_child = previous;
            }
        }
        if let Some(removed) = self.nodes.get_mut(node) {
            removed.parent = None;
            removed.previous = None;
            removed.next = None;
        }
        next.or(parent)
    }

    /// Records every node's position among its siblings; call once the tree is final.
    pub(super) fn index_children(&mut self) {
        for parent in 0..self.nodes.len() {
            let mut child_index = 0;
            let mut element_index = 0;
            let mut current = self.first_child(parent);
            while let Some(child) = current {
                let is_element = self.is_element(child);
                if let Some(node) = self.nodes.get_mut(child) {
                    node.child_index = child_index;
                    node.element_index = element_index;
                }
                child_index += 1;
                if is_element {
                    element_index += 1;
                }
                current = self.next_sibling(child);
            }
        }
    }

    /// `indexOf(parent.childNodes, node)` (after [`Dom::index_children`]).
    pub(super) fn child_index(&self, node: usize) -> usize {
        self.nodes.get(node).map_or(0, |n| n.child_index)
    }

    /// `indexOf(parent.children, node)` (after [`Dom::index_children`]).
    pub(super) fn element_index(&self, node: usize) -> usize {
        self.nodes.get(node).map_or(0, |n| n.element_index)
    }

    /// `textContent` (the document's is taken as its descendants' text).
    pub(super) fn text_content(&self, node: usize) -> String {
        let mut out = String::new();
        let mut stack = vec![node];
        while let Some(current) = stack.pop() {
            if let Some(text) = self.text(current) {
                out.push_str(text);
            }
            for child in self.children(current).into_iter().rev() {
                stack.push(child);
            }
        }
        out
    }

    /// The nearest inclusive ancestor named `name`.
    pub(super) fn closest(&self, node: usize, name: &str) -> Option<usize> {
        let mut current = Some(node);
        while let Some(candidate) = current {
            if self.name(candidate) == name {
                return Some(candidate);
            }
            current = self.parent(candidate);
        }
        None
    }

    /// `HTMLTableElement.rows`: the `tr`s of the table's `thead`s, then of its `tbody`s
    /// and its own `tr` children in tree order, then of its `tfoot`s.
    pub(super) fn table_rows(&self, table: usize) -> Vec<usize> {
        let mut head = Vec::new();
        let mut body = Vec::new();
        let mut foot = Vec::new();
        for child in self.element_children(table) {
            match self.name(child) {
                "TR" => body.push(child),
                section @ ("THEAD" | "TBODY" | "TFOOT") => {
                    let rows = self
                        .element_children(child)
                        .into_iter()
                        .filter(|row| self.name(*row) == "TR");
                    match section {
                        "THEAD" => head.extend(rows),
                        "TFOOT" => foot.extend(rows),
                        _ => body.extend(rows),
                    }
                }
                _ => {}
            }
        }
        head.into_iter().chain(body).chain(foot).collect()
    }
}
