//! `$getMimeType` (npm `mime` 4.0.4's `getType`) and `$getDataUri`.
//!
//! The extension table is mime_guess 2.0.5's, corrected to mime 4.0.4 by the two lists in
//! [`mime_table`]: the extensions where the two disagree or that only mime knows, and the
//! extensions only mime_guess knows (mime returns `null` for them). With both lists applied
//! every extension gives mime 4.0.4's answer; `tests/extensions_collections.rs` checks a
//! sample of common ones against values captured from the package.

#[path = "mime_table.rs"]
mod mime_table;

use serde_json::Value;

use super::js::is_truthy;
use super::{Args, Outcome};

/// The media type mime 4.0.4 gives for a lower-case extension, if any.
fn type_of_extension(extension: &str) -> Option<&'static str> {
    if let Ok(index) = mime_table::DIFFERENT.binary_search_by(|(known, _)| (*known).cmp(extension))
    {
        return mime_table::DIFFERENT
            .get(index)
            .map(|(_, media_type)| *media_type);
    }
    if mime_table::UNKNOWN.binary_search(&extension).is_ok() {
        return None;
    }
    mime_guess::from_ext(extension).first_raw()
}

/// Whether `c` ends a line for a JavaScript regex `.` (which does not match it).
fn is_line_terminator(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}')
}

/// `text.replace(/^.*X/, "")` for a set of characters X: everything up to and including the
/// last X of the first line is removed.
fn strip_through_last(text: &str, is_separator: impl Fn(char) -> bool) -> &str {
    let first_line = text.find(is_line_terminator).unwrap_or(text.len());
    match text[..first_line].rfind(is_separator) {
        Some(at) => {
            let width = text[at..].chars().next().map_or(1, char::len_utf8);
            &text[at + width..]
        }
        None => text,
    }
}

fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// `$getMimeType(path)`: the media type for the extension of a file name or path
/// (`"report.PDF"` → `"application/pdf"`, `"txt"` → `"text/plain"`), or `null` when it is
/// unknown, when `path` is not text, or when a path's last segment has no dot (`"a/txt"`).
pub(crate) fn get_mime_type(args: &Args<'_>) -> Outcome {
    let Some(Value::String(path)) = args.get(0) else {
        return Ok(Some(Value::Null));
    };
    let last = strip_through_last(path, |c| c == '/' || c == '\\').to_lowercase();
    let extension = strip_through_last(&last, |c| c == '.').to_owned();
    let has_path = utf16_len(&last) < utf16_len(path);
    let has_dot = utf16_len(&extension) + 1 < utf16_len(&last);
    if !has_dot && has_path {
        return Ok(Some(Value::Null));
    }
    Ok(Some(
        type_of_extension(&extension).map_or(Value::Null, |media_type| {
            Value::String(media_type.to_owned())
        }),
    ))
}

/// `$getDataUri(file, mimeType)`: in the package, a `data:` URI of a blob, stream or byte
/// buffer. Expressions here only hold JSON values, none of which is such a file, so the call
/// always fails: with "Mime type is required" when `mimeType` is falsy, else with
/// "Unsupported file type for getDataUri", the package's errors for those cases.
pub(crate) fn get_data_uri(args: &Args<'_>) -> Outcome {
    if !is_truthy(args.get(1)) && !args.is_function(1) {
        return Err(args.failed("Mime type is required"));
    }
    Err(args.failed("Unsupported file type for getDataUri"))
}
