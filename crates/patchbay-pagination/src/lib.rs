//! Pagination for Patchbay: the pure decision layer between a method's
//! `pagination` config and the request executor.
//!
//! * [`Paginator`] is built once per method from its [`Pagination`](patchbay_config::Pagination)
//!   config (paths parsed, JSONata compiled).
//! * [`Paginator::start`] begins a list call: a [`PageState`] plus the first
//!   request's changes ([`PageRequest`]).
//! * After each response, [`PageState::next`] returns [`Step::Next`] with the
//!   next request's changes, [`Step::Done`], or [`Step::RepeatedPage`]; and
//!   [`PageState::next_cursor`] is the opaque cursor a caller can resume from.
//! * Loop safety: a repeated cursor/link/values set, an empty page that still
//!   points onward, and a page bound are errors ([`PaginationError`]), never an
//!   endless loop.
//! * [`Records`] / [`take_records`] apply `response_path` to a body.
//!
//! Formats: `page`, `offset`, `cursor` (query or body, token or link, body or
//! header), `link_header` (RFC 8288, see [`parse_link_header`]), `range`
//! (`Range`/`Content-Range`) and `dynamic` (JSONata). See
//! `docs/guides/pagination.md` for each key and the providers that use it.
#![warn(missing_docs, unreachable_pub)]

mod error;
mod link;
mod paginator;
mod path;
mod records;
mod request;
mod strategy;
mod token;
mod truthy;

pub use error::PaginationError;
pub use link::{Link, find_rel, parse_link_header};
pub use paginator::{DEFAULT_MAX_PAGES, PageState, Paginator, StartOptions, Step};
pub use path::DottedPath;
pub use records::{Records, take_records};
pub use request::{NextUrl, PageRequest, PageResponse};
