//! JavaScript built-ins that Truto's functions rest on, on plain text and bytes, shared by
//! both backends: ECMAScript's URI functions and the browser's `btoa`/`atob`.

pub(crate) mod base64;
pub(crate) mod url;
