//! The bounds every document-format extension ($xmlToJs, $jsToXml, $jsonToCsv and the
//! markdown/HTML/Notion conversions) holds its work to, so that hostile input cannot take
//! unbounded time, memory or stack.
//!
//! The numbers follow `Limits::default()`: texts the functions read or build are capped at
//! [`MAX_TEXT_BYTES`], the nodes or rows they walk at [`MAX_ITEMS`], and their recursion at
//! [`MAX_DEPTH`]. Going over a bound fails the call with a message naming the bound.

use super::ExtensionError;

/// The largest text (input or output) a format function handles: 32 MiB, the response
/// body limit, so that any response Patchbay accepts can be converted.
pub(crate) const MAX_TEXT_BYTES: usize = 32 * 1024 * 1024;

/// The most nodes, members or rows a format function reads or writes in one call.
pub(crate) const MAX_ITEMS: usize = 1_000_000;

/// The deepest nesting (elements, objects, lists) a format function follows.
pub(crate) const MAX_DEPTH: usize = 500;

/// Counts work items for one call and fails once more than [`MAX_ITEMS`] were counted.
#[derive(Debug)]
pub(crate) struct Budget {
    function: &'static str,
    used: usize,
}

impl Budget {
    pub(crate) fn new(function: &'static str) -> Self {
        Budget { function, used: 0 }
    }

    /// Counts one more item.
    pub(crate) fn take(&mut self) -> Result<(), ExtensionError> {
        self.used += 1;
        if self.used > MAX_ITEMS {
            return Err(ExtensionError::failed(
                self.function,
                format!("more than {MAX_ITEMS} nodes"),
            ));
        }
        Ok(())
    }
}
