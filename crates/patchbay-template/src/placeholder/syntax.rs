//! Finding and parsing `{{ ... }}` placeholders in a string.
//!
//! A placeholder is `{{`, one or more characters from the set
//! `[A-Za-z0-9_-./|:?]` or whitespace, then `}}`. Anything else between braces
//! (`$`, `[`, quotes, `*`, ...) means the text is not a placeholder and stays
//! literal. Inside, the grammar is
//! `path[:type][:flag...] ( | path[:type]... )* [ ?: default[:type] ]`.

use std::ops::Range;

use super::js::{is_js_whitespace, js_trim};
use super::path::Path;
use super::{PlaceholderType, TemplateError};

/// One parsed placeholder.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Placeholder {
    /// The placeholder's text, braces included (kept when nothing resolves).
    pub(crate) text: String,
    pub(crate) alternatives: Vec<Alternative>,
    pub(crate) default: Option<Default>,
    /// `:null` appears somewhere: an unresolved value becomes `null`.
    pub(crate) null_if_missing: bool,
    /// `:ignore-empty-str` appears somewhere: empty strings count as missing.
    pub(crate) ignore_empty_strings: bool,
    /// `:undefined` appears somewhere: an unresolved value becomes undefined.
    pub(crate) undefined_if_missing: bool,
}

/// One `|`-separated alternative: a path and the type to cast its value to.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Alternative {
    pub(crate) path: Path,
    pub(crate) cast: PlaceholderType,
}

/// The `?:` default: literal text (not trimmed) and its type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Default {
    pub(crate) text: String,
    pub(crate) cast: PlaceholderType,
}

/// Where the placeholders of `source` are, left to right.
pub(crate) fn find_placeholders(source: &str) -> Vec<Range<usize>> {
    let bytes = source.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while let Some(offset) = source[i..].find("{{") {
        let start = i + offset;
        let body_start = start + 2;
        let body_len = source[body_start..]
            .char_indices()
            .find(|&(_, c)| !is_placeholder_char(c))
            .map_or(source.len() - body_start, |(at, _)| at);
        let body_end = body_start + body_len;
        if body_len > 0 && bytes.get(body_end..body_end + 2) == Some(b"}}") {
            found.push(start..body_end + 2);
            i = body_end + 2;
        } else {
            i = start + 1;
        }
    }
    found
}

fn is_placeholder_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(c, '_' | '-' | '.' | '/' | '|' | ':' | '?')
        || is_js_whitespace(c)
}

/// Splits at every `:` that is followed by a word character or whitespace (the
/// type separator), leaving other colons inside the pieces.
fn split_types(text: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if c == ':' {
            let next = text[i + 1..].chars().next();
            if next.is_some_and(|n| n.is_ascii_alphanumeric() || n == '_' || is_js_whitespace(n)) {
                pieces.push(&text[start..i]);
                start = i + 1;
            }
        }
    }
    pieces.push(&text[start..]);
    pieces
}

/// Parses one placeholder's text (braces included), located at `offset` in its template.
pub(crate) fn parse_placeholder(text: &str, offset: usize) -> Result<Placeholder, TemplateError> {
    let inner = &text[2..text.len() - 2];
    let mut halves = inner.split("?:");
    let main = halves.next().unwrap_or_default();
    let default_text = halves.next().filter(|d| !d.is_empty());

    let parts: Vec<&str> = main.split('|').collect();
    let flag = |name: &str| parts.iter().any(|part| part.contains(name));

    let alternatives = parts
        .iter()
        .map(|part| {
            let pieces = split_types(part);
            let path_text = js_trim(pieces[0]);
            if path_text.is_empty() {
                return Err(TemplateError::EmptyPath {
                    placeholder: text.to_owned(),
                    offset,
                });
            }
            let cast = match pieces.get(1) {
                None => PlaceholderType::Str,
                Some(name) => parse_type(js_trim(name), text, offset)?,
            };
            Ok(Alternative {
                path: Path::parse(path_text),
                cast,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;

    let default = default_text
        .map(|d| {
            let pieces = split_types(d);
            // The default's type is not trimmed: `{{a?:1: int}}` names the type " int".
            let cast = match pieces.get(1) {
                None => PlaceholderType::Str,
                Some(name) => parse_type(name, text, offset)?,
            };
            Ok::<_, TemplateError>(Default {
                text: pieces[0].to_owned(),
                cast,
            })
        })
        .transpose()?;

    Ok(Placeholder {
        text: text.to_owned(),
        alternatives,
        default,
        null_if_missing: flag(":null"),
        ignore_empty_strings: flag(":ignore-empty-str"),
        undefined_if_missing: flag(":undefined"),
    })
}

fn parse_type(
    name: &str,
    placeholder: &str,
    offset: usize,
) -> Result<PlaceholderType, TemplateError> {
    PlaceholderType::from_name(name).ok_or_else(|| TemplateError::UnsupportedType {
        type_name: name.to_owned(),
        placeholder: placeholder.to_owned(),
        offset,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(source: &str) -> Vec<&str> {
        find_placeholders(source)
            .into_iter()
            .map(|r| &source[r])
            .collect()
    }

    #[test]
    fn finds_placeholders_like_the_reference_regex() {
        assert_eq!(
            found("a {{x}} b {{ y.z | w:int }}"),
            vec!["{{x}}", "{{ y.z | w:int }}"]
        );
        assert_eq!(found("{{{t}}}"), vec!["{{t}}"]);
        assert_eq!(found("{{$x}} {{a[0]}} {{}} {{a}"), Vec::<&str>::new());
        assert_eq!(found("{{a}}}}{{b}}"), vec!["{{a}}", "{{b}}"]);
    }

    #[test]
    fn splits_types_only_before_words() {
        assert_eq!(split_types("a:int"), vec!["a", "int"]);
        assert_eq!(split_types("a::int"), vec!["a:", "int"]);
        assert_eq!(split_types(" a : int "), vec![" a ", " int "]);
        assert_eq!(split_types("a:"), vec!["a:"]);
    }

    #[test]
    fn rejects_unknown_types_and_empty_paths() {
        assert!(matches!(
            parse_placeholder("{{a:foo}}", 0),
            Err(TemplateError::UnsupportedType { .. })
        ));
        assert!(matches!(
            parse_placeholder("{{a?:1: int}}", 0),
            Err(TemplateError::UnsupportedType { .. })
        ));
        assert!(matches!(
            parse_placeholder("{{ }}", 0),
            Err(TemplateError::EmptyPath { .. })
        ));
        assert!(parse_placeholder("{{a?:1:int}}", 0).is_ok());
    }
}
