//! `$parseQuery` and `$stringifyQuery`: the `qs` library (6.15) with its default options.

use serde_json::{Map, Value};

use super::js::{OBJECT_PROTOTYPE_NAMES, to_js_string};
use super::{Args, ExtensionError, Outcome};

/// `qs` defaults: nesting depth, highest array index, parameter count.
const DEPTH: usize = 5;
const ARRAY_LIMIT: usize = 20;
const PARAMETER_LIMIT: usize = 1000;

/// Rejects a non-empty options argument: only the `qs` defaults are implemented.
fn no_options(args: &Args<'_>) -> Result<(), ExtensionError> {
    match args.get(1) {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Object(map)) if map.is_empty() => Ok(()),
        Some(_) => Err(args.wrong(1, "absent: `qs` options are not supported")),
    }
}

/// `$stringifyQuery(object)`: `qs.stringify` with default options.
///
/// Nested values use bracket keys with indices (`a[0]=1&b[c]=2`), brackets included in the
/// percent-encoding (`a%5B0%5D=1`); everything but `A-Z a-z 0-9 - _ . ~` is
/// percent-encoded as UTF-8 (spaces as `%20`); `null` gives `key=`; empty arrays and objects
/// are left out; numbers print as in JavaScript. A non-object argument gives `""`. An
/// options argument is an error (only the defaults are supported).
pub(crate) fn stringify_query(args: &Args<'_>) -> Outcome {
    no_options(args)?;
    let mut pairs = Vec::new();
    match args.get(0) {
        Some(Value::Object(map)) => {
            for (key, value) in map {
                stringify_into(&mut pairs, key.clone(), value);
            }
        }
        Some(Value::Array(items)) => {
            for (index, value) in items.iter().enumerate() {
                stringify_into(&mut pairs, index.to_string(), value);
            }
        }
        _ => {}
    }
    Ok(Some(Value::String(pairs.join("&"))))
}

fn stringify_into(pairs: &mut Vec<String>, prefix: String, value: &Value) {
    match value {
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                stringify_into(pairs, format!("{prefix}[{index}]"), item);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                stringify_into(pairs, format!("{prefix}[{key}]"), item);
            }
        }
        Value::Null => pairs.push(format!("{}=", encode(&prefix))),
        scalar => {
            let text = to_js_string(scalar).unwrap_or_default();
            pairs.push(format!("{}={}", encode(&prefix), encode(&text)));
        }
    }
}

/// `qs`'s RFC 3986 encoder: unreserved characters stay, all else is `%XX` of UTF-8.
fn encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// A value while `qs.parse` builds it: arrays may have holes until the final compaction.
#[derive(Clone, Debug)]
enum Node {
    Text(String),
    List(Vec<Option<Node>>),
    Map(Vec<(String, Node)>),
}

impl Node {
    fn is_container(&self) -> bool {
        matches!(self, Node::List(_) | Node::Map(_))
    }

    /// The JSON value, with array holes removed (`qs`'s `compact`).
    fn into_json(self) -> Value {
        match self {
            Node::Text(text) => Value::String(text),
            Node::List(items) => {
                Value::Array(items.into_iter().flatten().map(Node::into_json).collect())
            }
            Node::Map(entries) => Value::Object(
                entries
                    .into_iter()
                    .map(|(key, node)| (key, node.into_json()))
                    .collect::<Map<String, Value>>(),
            ),
        }
    }
}

fn map_get_mut<'m>(entries: &'m mut [(String, Node)], key: &str) -> Option<&'m mut Node> {
    entries
        .iter_mut()
        .find(|(existing, _)| existing == key)
        .map(|(_, node)| node)
}

/// `$parseQuery(text)`: `qs.parse` with default options.
///
/// `a=1&b=x+y` → strings (`+` is a space, `%XX` is UTF-8; badly encoded text stays as
/// written); repeated keys and `a[]=` collect into arrays; `a[b][c]=` nests objects up to
/// depth 5 (deeper brackets stay in the last key); `a[0]=` with an index below 20 builds
/// arrays (holes removed), larger indices become object keys; keys named like
/// `Object.prototype` members (`toString`, `__proto__`, …) are dropped. A leading `?` is
/// kept in the first key, as in `qs`. An object argument is returned as it is; any other
/// non-string gives `{}`. An options argument is an error (only the defaults are supported).
///
/// Not reproduced: `qs`'s overflow objects when one key repeats more than 20 times (an
/// array is returned instead).
pub(crate) fn parse_query(args: &Args<'_>) -> Outcome {
    no_options(args)?;
    let text = match args.get(0) {
        Some(Value::String(text)) => text,
        Some(object @ Value::Object(_)) => return Ok(Some(object.clone())),
        _ => return Ok(Some(Value::Object(Map::new()))),
    };
    let mut result = Node::Map(Vec::new());
    for (key, value) in parse_values(text) {
        if key.is_empty() {
            continue;
        }
        let Some(segments) = split_key(&key) else {
            continue;
        };
        let parsed = parse_object(&segments, value);
        result = merge(result, parsed);
    }
    Ok(Some(result.into_json()))
}

/// The decoded `key → value` pairs, repeated keys combined into lists.
fn parse_values(text: &str) -> Vec<(String, Node)> {
    let cleaned = replace_ignore_case(&replace_ignore_case(text, "%5B", "["), "%5D", "]");
    let mut pairs: Vec<(String, Node)> = Vec::new();
    for part in cleaned.split('&').take(PARAMETER_LIMIT) {
        let position = match part.find("]=") {
            Some(bracket) => Some(bracket + 1),
            None => part.find('='),
        };
        let (key, value) = match position {
            None => (decode(part), String::new()),
            Some(at) => (decode(&part[..at]), decode(&part[at + 1..])),
        };
        match map_get_mut(&mut pairs, &key) {
            Some(existing) => {
                let previous = std::mem::replace(existing, Node::List(Vec::new()));
                *existing = combine(previous, Node::Text(value));
            }
            None => pairs.push((key, Node::Text(value))),
        }
    }
    pairs
}

/// `[].concat(a, b)`.
fn combine(first: Node, second: Node) -> Node {
    let mut items = match first {
        Node::List(items) => items,
        other => vec![Some(other)],
    };
    match second {
        Node::List(more) => items.extend(more),
        other => items.push(Some(other)),
    }
    Node::List(items)
}

fn replace_ignore_case(text: &str, needle: &str, replacement: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let needle = needle.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (at, _) in lower.match_indices(&needle) {
        out.push_str(&text[last..at]);
        out.push_str(replacement);
        last = at + needle.len();
    }
    out.push_str(&text[last..]);
    out
}

/// `+` → space, then `decodeURIComponent`; text that does not decode stays (with spaces).
fn decode(text: &str) -> String {
    let spaced = text.replace('+', " ");
    let bytes = spaced.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] == b'%' {
            let high = bytes.get(at + 1).and_then(|b| char::from(*b).to_digit(16));
            let low = bytes.get(at + 2).and_then(|b| char::from(*b).to_digit(16));
            let (Some(high), Some(low)) = (high, low) else {
                return spaced;
            };
            decoded.push(u8::try_from(high * 16 + low).unwrap_or(0));
            at += 3;
        } else {
            decoded.push(bytes[at]);
            at += 1;
        }
    }
    String::from_utf8(decoded).unwrap_or(spaced)
}

/// `qs`'s `splitKeyIntoSegments`: the parent key then up to [`DEPTH`] bracket segments; the
/// rest of a deeper key becomes one last literal segment. `None` drops the key.
fn split_key(key: &str) -> Option<Vec<String>> {
    let mut segments = Vec::new();
    let first = key.find('[');
    let parent = first.map_or(key, |at| &key[..at]);
    if !parent.is_empty() {
        if OBJECT_PROTOTYPE_NAMES.contains(&parent) {
            return None;
        }
        segments.push(parent.to_owned());
    }
    let bytes = key.as_bytes();
    let mut open = first;
    let mut collected = 0;
    while let Some(start) = open {
        if collected >= DEPTH {
            break;
        }
        let mut level = 1;
        let mut close = None;
        for (offset, byte) in bytes[start + 1..].iter().enumerate() {
            match byte {
                b'[' => level += 1,
                b']' => {
                    level -= 1;
                    if level == 0 {
                        close = Some(start + 1 + offset);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(close) = close else {
            segments.push(format!("[{}]", &key[start..]));
            return Some(segments);
        };
        let segment = &key[start..=close];
        if OBJECT_PROTOTYPE_NAMES.contains(&&segment[1..segment.len() - 1]) {
            return None;
        }
        segments.push(segment.to_owned());
        collected += 1;
        open = key[close + 1..].find('[').map(|at| close + 1 + at);
    }
    if let Some(start) = open {
        segments.push(format!("[{}]", &key[start..]));
    }
    Some(segments)
}

/// `qs`'s `parseObject`: wraps `leaf` in the containers the segments describe.
fn parse_object(segments: &[String], leaf: Node) -> Node {
    let mut leaf = leaf;
    for root in segments.iter().rev() {
        leaf = if root == "[]" {
            combine(Node::List(Vec::new()), leaf)
        } else {
            let clean = root
                .strip_prefix('[')
                .and_then(|rest| rest.strip_suffix(']'))
                .unwrap_or(root);
            let canonical_index = clean
                .parse::<usize>()
                .ok()
                .filter(|index| index.to_string() == clean && clean.len() != root.len());
            match canonical_index {
                Some(index) if index < ARRAY_LIMIT => {
                    let mut items = vec![None; index + 1];
                    items[index] = Some(leaf);
                    Node::List(items)
                }
                _ if clean == "__proto__" => Node::Map(Vec::new()),
                _ => Node::Map(vec![(clean.to_owned(), leaf)]),
            }
        };
    }
    leaf
}

/// `qs`'s `utils.merge` with `strictMerge` (the 6.15 default).
fn merge(target: Node, source: Node) -> Node {
    if matches!(&source, Node::Text(text) if text.is_empty()) {
        return target;
    }
    if !source.is_container() {
        return match target {
            Node::List(mut items) => {
                items.push(Some(source));
                Node::List(items)
            }
            other => Node::List(vec![Some(other), Some(source)]),
        };
    }
    let target = match target {
        text @ Node::Text(_) => return combine(Node::List(vec![Some(text)]), source),
        container => container,
    };
    match (target, source) {
        (Node::List(mut items), Node::List(more)) => {
            for (index, item) in more.into_iter().enumerate() {
                let Some(item) = item else { continue };
                match items.get_mut(index) {
                    Some(slot @ Some(_)) => {
                        let existing = slot.take();
                        match existing {
                            Some(existing) if existing.is_container() && item.is_container() => {
                                *slot = Some(merge(existing, item));
                            }
                            existing => {
                                *slot = existing;
                                items.push(Some(item));
                            }
                        }
                    }
                    Some(hole) => *hole = Some(item),
                    None => {
                        items.resize(index, None);
                        items.push(Some(item));
                    }
                }
            }
            Node::List(items)
        }
        (target, source) => {
            let mut entries = match target {
                Node::List(items) => items
                    .into_iter()
                    .enumerate()
                    .filter_map(|(index, item)| Some((index.to_string(), item?)))
                    .collect(),
                Node::Map(entries) => entries,
                Node::Text(_) => Vec::new(),
            };
            let additions: Vec<(String, Node)> = match source {
                Node::List(items) => items
                    .into_iter()
                    .enumerate()
                    .filter_map(|(index, item)| Some((index.to_string(), item?)))
                    .collect(),
                Node::Map(more) => more,
                Node::Text(_) => Vec::new(),
            };
            for (key, value) in additions {
                match map_get_mut(&mut entries, &key) {
                    Some(existing) => {
                        let previous = std::mem::replace(existing, Node::Map(Vec::new()));
                        *existing = merge(previous, value);
                    }
                    None => entries.push((key, value)),
                }
            }
            Node::Map(entries)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_keys_like_qs() {
        assert_eq!(split_key("a[b][c]").expect("kept"), ["a", "[b]", "[c]"]);
        assert_eq!(split_key("a[").expect("kept"), ["a", "[[]"]);
        assert_eq!(
            split_key("a[b][c][d][e][f][g][h]").expect("kept"),
            ["a", "[b]", "[c]", "[d]", "[e]", "[f]", "[[g][h]]"]
        );
        assert!(split_key("toString").is_none());
    }

    #[test]
    fn decodes_like_decode_uri_component() {
        assert_eq!(decode("a+b%20c"), "a b c");
        assert_eq!(decode("%E0%A4%A"), "%E0%A4%A");
        assert_eq!(decode("%FF"), "%FF");
    }
}
