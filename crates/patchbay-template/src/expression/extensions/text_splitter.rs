//! `$recursiveCharacterTextSplitter(text, options)`: LangChain's
//! `RecursiveCharacterTextSplitter`, which the package wraps.
//!
//! The text is split on the first separator it contains (`"\n\n"`, `"\n"`, `" "`, then
//! every character), pieces still too long are split again with the remaining separators,
//! and neighbouring pieces are merged into chunks of at most `chunkSize` characters that
//! repeat up to `chunkOverlap` characters of the previous chunk. Lengths are JavaScript
//! string lengths (UTF-16 code units), so the work is done on UTF-16 text.

use serde_json::{Map, Value};

use super::js::{is_truthy, number_to_js_string};
use super::{Args, ExtensionError, Outcome};

/// The most chunks one call may return, and the most UTF-16 units they may hold together.
const MAX_CHUNKS: usize = 1_000_000;
const MAX_OUTPUT_UNITS: usize = 32 * 1024 * 1024;
/// The most separators (each one can be a level of recursion).
const MAX_SEPARATORS: usize = 100;

type Text = Vec<u16>;

/// The splitter's settings, as LangChain reads them from the options object.
struct Splitter {
    chunk_size: f64,
    chunk_overlap: f64,
    keep_separator: bool,
    /// The separators to try, in order.
    separators: Vec<Text>,
    /// What has been produced so far, for the size limits.
    produced_chunks: usize,
    produced_units: usize,
}

/// A numeric option: a number, or the default when `null`/missing (`??`).
fn number_option(
    args: &Args<'_>,
    options: &Map<String, Value>,
    key: &str,
    default: f64,
) -> Result<f64, ExtensionError> {
    match options.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Number(number)) => Ok(number.as_f64().unwrap_or(f64::NAN)),
        Some(_) => Err(args.wrong(
            1,
            "an options object with numeric chunkSize and chunkOverlap",
        )),
    }
}

impl Splitter {
    fn new(args: &Args<'_>) -> Result<Self, ExtensionError> {
        let defaults = args.get(1).is_none() && !args.is_function(1);
        let empty = Map::new();
        let options = match args.get(1) {
            _ if defaults => &empty,
            Some(Value::Object(options)) => options,
            // `fields?.x` of anything else (`null` too) reads nothing.
            _ => &empty,
        };
        let (size, overlap) = if defaults {
            (200.0, 60.0)
        } else {
            (1000.0, 200.0)
        };
        let chunk_size = number_option(args, options, "chunkSize", size)?;
        let chunk_overlap = number_option(args, options, "chunkOverlap", overlap)?;
        if chunk_overlap >= chunk_size {
            return Err(args.failed("Cannot have chunkOverlap >= chunkSize"));
        }
        let keep_separator = match options.get("keepSeparator") {
            None | Some(Value::Null) => true,
            Some(flag) => is_truthy(Some(flag)),
        };
        let separators = match options.get("separators") {
            None | Some(Value::Null) => ["\n\n", "\n", " ", ""]
                .iter()
                .map(|separator| separator.encode_utf16().collect())
                .collect(),
            Some(Value::Array(list)) if list.is_empty() => Vec::new(),
            Some(Value::Array(list)) if list.len() > MAX_SEPARATORS => {
                return Err(args.failed(format!("more than {MAX_SEPARATORS} separators")));
            }
            Some(Value::Array(list)) => list
                .iter()
                .map(|separator| match separator {
                    Value::String(text) => Ok(text.encode_utf16().collect()),
                    _ => Err(args.wrong(1, "an options object whose separators are strings")),
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(args.wrong(1, "an options object whose separators are strings")),
        };
        Ok(Splitter {
            chunk_size,
            chunk_overlap,
            keep_separator,
            separators,
            produced_chunks: 0,
            produced_units: 0,
        })
    }

    /// LangChain `_splitText`: split on the first separator present, merge the short
    /// pieces, recurse into the long ones with the separators after it.
    // Lengths of texts held in memory are exact in f64.
    #[allow(clippy::cast_precision_loss)]
    fn split(
        &mut self,
        args: &Args<'_>,
        text: &[u16],
        from: usize,
    ) -> Result<Vec<Text>, ExtensionError> {
        // The separators left are `separators[from..]`. Its last one is the fallback; an
        // empty list (which the recursion reaches after the last separator matched) has
        // none: `undefined`, which splits into characters.
        let remaining = self.separators.len().saturating_sub(from);
        let mut separator: Option<Text> = if remaining > 0 {
            self.separators.last().cloned()
        } else {
            None
        };
        let mut next: Option<usize> = None;
        for offset in 0..remaining {
            let candidate = &self.separators[from + offset];
            if candidate.is_empty() {
                separator = Some(candidate.clone());
                break;
            }
            if contains(text, candidate) {
                separator = Some(candidate.clone());
                next = Some(from + offset + 1);
                break;
            }
        }
        let pieces = self.split_on(text, separator.as_deref().unwrap_or(&[]));
        // The separator the merge joins with: none when separators are kept in the pieces.
        let join_with: Option<Text> = if self.keep_separator {
            Some(Vec::new())
        } else {
            separator.clone()
        };
        let mut chunks = Vec::new();
        let mut short: Vec<Text> = Vec::new();
        for piece in pieces {
            if (piece.len() as f64) < self.chunk_size {
                short.push(piece);
                continue;
            }
            if !short.is_empty() {
                let merged = self.merge(args, &std::mem::take(&mut short), join_with.as_deref())?;
                chunks.extend(merged);
            }
            match next {
                Some(next) => chunks.extend(self.split(args, &piece, next)?),
                None => {
                    self.count(args, &piece)?;
                    chunks.push(piece);
                }
            }
        }
        if !short.is_empty() {
            chunks.extend(self.merge(args, &short, join_with.as_deref())?);
        }
        Ok(chunks)
    }

    /// LangChain `splitOnSeparator`: before each occurrence (kept separators) or on it;
    /// every code unit for the empty separator; empty pieces dropped.
    fn split_on(&self, text: &[u16], separator: &[u16]) -> Vec<Text> {
        if separator.is_empty() {
            return text.iter().map(|unit| vec![*unit]).collect();
        }
        let mut pieces = Vec::new();
        let mut start = 0;
        for at in occurrences(text, separator) {
            if self.keep_separator {
                // `text.split(/(?=separator)/)`: a cut wherever the separator starts,
                // except at the very beginning.
                if at > 0 {
                    pieces.push(text[start..at].to_vec());
                    start = at;
                }
            } else if at >= start {
                // `text.split(separator)`: non-overlapping occurrences, left to right.
                pieces.push(text[start..at].to_vec());
                start = at + separator.len();
            }
        }
        pieces.push(text[start..].to_vec());
        pieces
            .into_iter()
            .filter(|piece| !piece.is_empty())
            .collect()
    }

    /// LangChain `mergeSplits`: greedy chunks up to `chunkSize`, each starting with the
    /// tail (at most `chunkOverlap` long) of the previous one.
    #[allow(clippy::cast_precision_loss)]
    fn merge(
        &mut self,
        args: &Args<'_>,
        pieces: &[Text],
        separator: Option<&[u16]>,
    ) -> Result<Vec<Text>, ExtensionError> {
        let Some(separator) = separator else {
            return Err(args.failed("Cannot read properties of undefined (reading 'length')"));
        };
        let mut chunks = Vec::new();
        let mut current: std::collections::VecDeque<&Text> = std::collections::VecDeque::new();
        let mut total = 0.0_f64;
        let separator_length = separator.len() as f64;
        for piece in pieces {
            let length = piece.len() as f64;
            if total + length + current.len() as f64 * separator_length > self.chunk_size
                && !current.is_empty()
            {
                if let Some(chunk) = join_trimmed(&current, separator) {
                    self.count(args, &chunk)?;
                    chunks.push(chunk);
                }
                while total > self.chunk_overlap
                    || (total + length + current.len() as f64 * separator_length > self.chunk_size
                        && total > 0.0)
                {
                    let Some(first) = current.pop_front() else {
                        return Err(
                            args.failed("Cannot read properties of undefined (reading 'length')")
                        );
                    };
                    total -= first.len() as f64;
                }
            }
            current.push_back(piece);
            total += length;
        }
        if let Some(chunk) = join_trimmed(&current, separator) {
            self.count(args, &chunk)?;
            chunks.push(chunk);
        }
        Ok(chunks)
    }

    /// Counts one produced chunk against the size limits.
    fn count(&mut self, args: &Args<'_>, chunk: &[u16]) -> Result<(), ExtensionError> {
        self.produced_chunks += 1;
        self.produced_units += chunk.len();
        if self.produced_chunks > MAX_CHUNKS || self.produced_units > MAX_OUTPUT_UNITS {
            return Err(args.failed(format!(
                "the chunks would exceed {MAX_CHUNKS} chunks or {MAX_OUTPUT_UNITS} characters"
            )));
        }
        Ok(())
    }
}

/// Whether `text` contains `part` (UTF-16).
fn contains(text: &[u16], part: &[u16]) -> bool {
    part.is_empty() || !occurrences(text, part).is_empty()
}

/// Every position where `pattern` (not empty) starts in `text`, overlapping ones included,
/// in linear time (Knuth–Morris–Pratt), so long separators cannot make the search
/// quadratic.
fn occurrences(text: &[u16], pattern: &[u16]) -> Vec<usize> {
    let mut failure = vec![0_usize; pattern.len()];
    let mut matched = 0;
    for index in 1..pattern.len() {
        while matched > 0 && pattern[index] != pattern[matched] {
            matched = failure[matched - 1];
        }
        if pattern[index] == pattern[matched] {
            matched += 1;
        }
        failure[index] = matched;
    }
    let mut found = Vec::new();
    matched = 0;
    for (index, unit) in text.iter().enumerate() {
        while matched > 0 && *unit != pattern[matched] {
            matched = failure[matched - 1];
        }
        if *unit == pattern[matched] {
            matched += 1;
        }
        if matched == pattern.len() {
            found.push(index + 1 - pattern.len());
            matched = failure[matched - 1];
        }
    }
    found
}

/// JavaScript `String.prototype.trim` whitespace: `WhiteSpace` and `LineTerminator`.
fn is_js_space(unit: u16) -> bool {
    matches!(
        unit,
        0x09..=0x0D | 0x20 | 0xA0 | 0x1680 | 0x2000..=0x200A | 0x2028 | 0x2029 | 0x202F | 0x205F
            | 0x3000 | 0xFEFF
    )
}

/// `docs.join(separator).trim()`, or `None` when that is empty.
fn join_trimmed(pieces: &std::collections::VecDeque<&Text>, separator: &[u16]) -> Option<Text> {
    let mut joined = Vec::new();
    for (index, piece) in pieces.iter().enumerate() {
        if index > 0 {
            joined.extend_from_slice(separator);
        }
        joined.extend_from_slice(piece);
    }
    let start = joined.iter().position(|unit| !is_js_space(*unit))?;
    let end = joined.iter().rposition(|unit| !is_js_space(*unit))?;
    Some(joined[start..=end].to_vec())
}

/// The text the package splits: strings as they are, objects and arrays as
/// `JSON.stringify(value, null, 2)`, `null`/`undefined` as empty text, other values as
/// `String(value)`.
fn text_of(value: Option<&Value>) -> Result<String, serde_json::Error> {
    Ok(match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(Value::Bool(flag)) => flag.to_string(),
        Some(Value::Number(number)) => number_to_js_string(number.as_f64().unwrap_or(f64::NAN)),
        Some(container) => serde_json::to_string_pretty(container)?,
    })
}

/// `$recursiveCharacterTextSplitter(text, options = {chunkSize: 200, chunkOverlap: 60})`:
/// the text in chunks (see the module notes). `options` may set `chunkSize` and
/// `chunkOverlap` (LangChain's defaults, 1000 and 200, apply to the ones an options object
/// leaves out), `keepSeparator` (default `true`) and `separators` (strings); a
/// `lengthFunction` cannot be given. Fails when `chunkOverlap >= chunkSize`.
pub(crate) fn recursive_character_text_splitter(args: &Args<'_>) -> Outcome {
    let text = text_of(args.get(0)).map_err(|error| args.failed(error.to_string()))?;
    let mut splitter = Splitter::new(args)?;
    let units: Text = text.encode_utf16().collect();
    let chunks = splitter.split(args, &units, 0)?;
    Ok(Some(Value::Array(
        chunks
            .iter()
            .map(|chunk| Value::String(String::from_utf16_lossy(chunk)))
            .collect(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(text: &str) -> Text {
        text.encode_utf16().collect()
    }

    #[test]
    fn occurrences_overlap_and_split_does_not() {
        assert_eq!(occurrences(&units("aaaa"), &units("aa")), [0, 1, 2]);
        assert_eq!(occurrences(&units("abcab"), &units("ab")), [0, 3]);
        assert!(occurrences(&units("abc"), &units("abcd")).is_empty());
        let splitter = |keep_separator| Splitter {
            chunk_size: 10.0,
            chunk_overlap: 0.0,
            keep_separator,
            separators: Vec::new(),
            produced_chunks: 0,
            produced_units: 0,
        };
        // JavaScript: "xaaaay".split("aa") → ["x", "", "y"]; empty pieces are dropped.
        assert_eq!(
            splitter(false).split_on(&units("xaaaay"), &units("aa")),
            [units("x"), units("y")]
        );
        // "a\n\n\nb".split(/(?=\n\n)/) → ["a", "\n", "\n\nb"].
        assert_eq!(
            splitter(true).split_on(&units("a\n\n\nb"), &units("\n\n")),
            [units("a"), units("\n"), units("\n\nb")]
        );
    }
}
