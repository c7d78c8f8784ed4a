//! JavaScript built-ins that Truto's functions rest on, on plain text and bytes, shared by
//! both backends: ECMAScript's URI functions and the browser's `btoa`/`atob`.

// truto-jsonata's base64 pair replaces built-ins only on jsonata-core.
#[cfg(feature = "jsonata-core")]
pub(crate) mod base64;
pub(crate) mod url;
