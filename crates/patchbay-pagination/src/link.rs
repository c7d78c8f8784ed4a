//! A lenient RFC 8288 `Link` header parser.

/// One link-value of a `Link` header: a target and its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The URI reference between `<` and `>`, as written (may be relative).
    pub target: String,
    /// Parameters in order; names lower-cased, quoted values unescaped. A
    /// parameter without a value has an empty value.
    pub params: Vec<(String, String)>,
}

impl Link {
    /// The first value of parameter `name` (case-insensitive). RFC 8288 says
    /// occurrences after the first of `rel` are ignored.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the link's `rel` holds relation `rel` (relations are a
    /// space-separated list, compared case-insensitively).
    pub fn has_rel(&self, rel: &str) -> bool {
        self.param("rel").is_some_and(|rels| {
            rels.split_ascii_whitespace()
                .any(|r| r.eq_ignore_ascii_case(rel))
        })
    }
}

/// Parses the value of one `Link` header (several comma-separated link-values).
/// Malformed link-values are skipped; the rest are still returned.
///
/// ```
/// use patchbay_pagination::parse_link_header;
///
/// let links = parse_link_header(
///     r#"<https://api.github.com/user/repos?page=2>; rel="next", <https://api.github.com/user/repos?page=5>; rel="last""#,
/// );
/// assert_eq!(links.len(), 2);
/// assert!(links[0].has_rel("next"));
/// assert_eq!(links[1].target, "https://api.github.com/user/repos?page=5");
/// ```
pub fn parse_link_header(value: &str) -> Vec<Link> {
    let mut parser = Parser {
        chars: value.chars().collect(),
        pos: 0,
    };
    let mut links = Vec::new();
    loop {
        parser.skip_while(|c| c.is_whitespace() || c == ',');
        if parser.at_end() {
            return links;
        }
        match parser.link_value() {
            Some(link) => links.push(link),
            None => parser.skip_to_next_link(),
        }
    }
}

/// The target of the first link with relation `rel` among all given `Link`
/// header values.
pub fn find_rel<'a>(header_values: impl IntoIterator<Item = &'a str>, rel: &str) -> Option<String> {
    header_values
        .into_iter()
        .flat_map(parse_link_header)
        .find(|link| link.has_rel(rel))
        .map(|link| link.target)
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_while(&mut self, pred: impl Fn(char) -> bool) {
        while self.peek().is_some_and(&pred) {
            self.pos += 1;
        }
    }

    fn take_while(&mut self, pred: impl Fn(char) -> bool) -> String {
        let start = self.pos;
        self.skip_while(pred);
        self.chars[start..self.pos].iter().collect()
    }

    /// After a malformed link-value: skip to the next comma that is outside
    /// `<...>` and quoted strings.
    fn skip_to_next_link(&mut self) {
        let mut in_angle = false;
        let mut in_quote = false;
        while let Some(c) = self.peek() {
            self.pos += 1;
            match c {
                '\\' if in_quote => self.pos += 1,
                '"' if !in_angle => in_quote = !in_quote,
                '<' if !in_quote => in_angle = true,
                '>' if !in_quote => in_angle = false,
                ',' if !in_angle && !in_quote => return,
                _ => {}
            }
        }
    }

    fn link_value(&mut self) -> Option<Link> {
        if self.peek() != Some('<') {
            return None;
        }
        self.pos += 1;
        let target = self.take_while(|c| c != '>');
        if self.peek() != Some('>') {
            return None;
        }
        self.pos += 1;
        let mut params = Vec::new();
        loop {
            self.skip_while(char::is_whitespace);
            match self.peek() {
                None => break,
                Some(',') => {
                    self.pos += 1;
                    break;
                }
                Some(';') => {
                    self.pos += 1;
                    self.skip_while(char::is_whitespace);
                    let name = self
                        .take_while(|c| !matches!(c, '=' | ';' | ',') && !c.is_whitespace())
                        .to_ascii_lowercase();
                    self.skip_while(char::is_whitespace);
                    let value = if self.peek() == Some('=') {
                        self.pos += 1;
                        self.skip_while(char::is_whitespace);
                        self.param_value()?
                    } else {
                        String::new()
                    };
                    if !name.is_empty() {
                        params.push((name, value));
                    }
                }
                Some(_) => return None,
            }
        }
        Some(Link {
            target: target.trim().to_owned(),
            params,
        })
    }

    fn param_value(&mut self) -> Option<String> {
        if self.peek() != Some('"') {
            let token = self.take_while(|c| !matches!(c, ';' | ',') && !c.is_whitespace());
            return Some(token);
        }
        self.pos += 1;
        let mut value = String::new();
        loop {
            match self.peek()? {
                '"' => {
                    self.pos += 1;
                    return Some(value);
                }
                '\\' => {
                    self.pos += 1;
                    value.push(self.peek()?);
                    self.pos += 1;
                }
                c => {
                    value.push(c);
                    self.pos += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shopify_previous_and_next() {
        let v = r#"<https://shop.myshopify.com/admin/api/2024-01/products.json?limit=50&page_info=abc>; rel="previous", <https://shop.myshopify.com/admin/api/2024-01/products.json?limit=50&page_info=def>; rel="next""#;
        assert_eq!(
            find_rel([v], "next").as_deref(),
            Some(
                "https://shop.myshopify.com/admin/api/2024-01/products.json?limit=50&page_info=def"
            )
        );
        assert!(find_rel([v], "last").is_none());
    }

    #[test]
    fn commas_inside_target_and_quoted_params() {
        let v = r#"<https://x.test/a?ids=1,2,3>; title="a, \"b\"; c"; rel="prev next", <https://x.test/b>; rel=last"#;
        let links = parse_link_header(v);
        assert_eq!(links.len(), 2);
        assert_eq!(links[0].target, "https://x.test/a?ids=1,2,3");
        assert_eq!(links[0].param("title"), Some(r#"a, "b"; c"#));
        assert!(links[0].has_rel("next") && links[0].has_rel("PREV"));
        assert!(links[1].has_rel("last"));
    }

    #[test]
    fn first_rel_wins_and_case_insensitive_names() {
        let links = parse_link_header(r#"<https://x.test/1>; REL="next"; rel="last""#);
        assert!(links[0].has_rel("next"));
        assert!(!links[0].has_rel("last"));
    }

    #[test]
    fn malformed_values_are_skipped() {
        let v = r#"garbage; rel="next", <https://x.test/ok>; rel="next""#;
        assert_eq!(find_rel([v], "next").as_deref(), Some("https://x.test/ok"));
        let unterminated = r#"<https://x.test/ok; rel="next""#;
        assert!(parse_link_header(unterminated).is_empty());
        assert!(parse_link_header("").is_empty());
        let no_rel = parse_link_header("<https://x.test/a>; anchor");
        assert_eq!(no_rel[0].param("anchor"), Some(""));
        assert!(!no_rel[0].has_rel("next"));
    }

    #[test]
    fn several_header_values() {
        let values = [
            r#"<https://x.test/1>; rel="prev""#,
            r#"<https://x.test/3>; rel="next""#,
        ];
        assert_eq!(
            find_rel(values, "next").as_deref(),
            Some("https://x.test/3")
        );
    }
}
