//! The compiled form of each pagination format (config read once, JSONata compiled).

use patchbay_config::{CursorSource, Pagination};
use patchbay_template::expression::Expression;

use crate::PaginationError;
use crate::path::DottedPath;

/// Default page size of `range` when neither the caller nor `max_limit` gives one.
pub(crate) const DEFAULT_RANGE_SIZE: u64 = 100;

#[derive(Debug, Clone)]
pub(crate) enum Strategy {
    Page(PageStrategy),
    Offset(OffsetStrategy),
    Cursor(CursorStrategy),
    LinkHeader(LinkHeaderStrategy),
    Range(RangeStrategy),
    Dynamic(DynamicStrategy),
}

#[derive(Debug, Clone)]
pub(crate) struct PageStrategy {
    pub page_key: String,
    pub limit_key: Option<String>,
    pub max_limit: Option<u64>,
    pub initial_page: i64,
    pub add_to_body: bool,
    pub has_next: Option<DottedPath>,
}

#[derive(Debug, Clone)]
pub(crate) struct OffsetStrategy {
    pub offset_key: String,
    pub limit_key: String,
    pub max_limit: Option<u64>,
    pub add_to_body: bool,
    pub has_next: Option<DottedPath>,
}

#[derive(Debug, Clone)]
pub(crate) struct CursorStrategy {
    pub cursor_path: DottedPath,
    /// `prev_cursor_path`: where the provider's previous-page cursor is.
    pub prev_cursor_path: Option<DottedPath>,
    /// Header name (lower case) when the cursor is read from a header.
    pub cursor_header: Option<String>,
    pub has_next: Option<DottedPath>,
    pub cursor_key: String,
    pub limit_key: Option<String>,
    pub max_limit: Option<u64>,
    pub is_link: bool,
    pub include_path: bool,
    pub headers: Vec<(String, String)>,
    pub in_body: bool,
    pub in_query: bool,
    pub limit_as_string: bool,
    pub ignore_limit_in_pagination: bool,
    pub use_content_hash: bool,
    pub cursor_url_encoded: bool,
    pub allow_empty_page_cursor: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct LinkHeaderStrategy {
    pub limit_key: Option<String>,
    pub max_limit: Option<u64>,
    pub rel: String,
}

#[derive(Debug, Clone)]
pub(crate) struct RangeStrategy {
    pub unit: String,
    pub max_limit: Option<u64>,
}

#[derive(Debug, Clone)]
pub(crate) struct DynamicStrategy {
    pub initial: Option<Expression>,
    pub next: Expression,
    pub cursor: Option<Expression>,
}

fn path(source: Option<&String>) -> Result<Option<DottedPath>, PaginationError> {
    source.map(|s| DottedPath::parse(s)).transpose()
}

fn compile(
    field: &'static str,
    source: &patchbay_config::Jsonata,
) -> Result<Expression, PaginationError> {
    source
        .compile()
        .map_err(|source| PaginationError::Compile { field, source })
}

impl Strategy {
    pub(crate) fn from_config(config: &Pagination) -> Result<Self, PaginationError> {
        Ok(match config {
            Pagination::Page(c) => Strategy::Page(PageStrategy {
                page_key: c.page_key.clone().unwrap_or_else(|| "page".into()),
                limit_key: c.limit_key.clone(),
                max_limit: c.max_limit,
                initial_page: c.initial_page.unwrap_or(1),
                add_to_body: c.add_to_body.unwrap_or(false),
                has_next: path(c.has_next_path.as_ref())?,
            }),
            Pagination::Offset(c) => Strategy::Offset(OffsetStrategy {
                offset_key: c.offset_key.clone().unwrap_or_else(|| "offset".into()),
                limit_key: c.limit_key.clone().unwrap_or_else(|| "limit".into()),
                max_limit: c.max_limit,
                add_to_body: c.add_to_body.unwrap_or(false),
                has_next: path(c.has_next_path.as_ref())?,
            }),
            Pagination::Cursor(c) => {
                let from_header = c.cursor_path_object == Some(CursorSource::Header);
                let add_to_body = c.add_to_body.unwrap_or(false);
                Strategy::Cursor(CursorStrategy {
                    cursor_path: DottedPath::parse(&c.cursor_path)?,
                    prev_cursor_path: path(c.prev_cursor_path.as_ref())?,
                    cursor_header: from_header.then(|| c.cursor_path.trim().to_ascii_lowercase()),
                    has_next: path(c.has_next_path.as_ref())?,
                    cursor_key: c.cursor_key.clone().unwrap_or_else(|| "cursor".into()),
                    limit_key: c.limit_key.clone(),
                    max_limit: c.max_limit,
                    is_link: c.is_link.unwrap_or(false),
                    include_path: c.include_path.unwrap_or(false),
                    headers: c
                        .headers
                        .iter()
                        .flatten()
                        .map(|(k, v)| (k.clone(), v.as_str().to_owned()))
                        .collect(),
                    in_body: add_to_body,
                    in_query: c.add_to_query.unwrap_or(!add_to_body),
                    limit_as_string: c
                        .limit_data_type
                        .as_deref()
                        .is_some_and(|t| t.eq_ignore_ascii_case("string")),
                    ignore_limit_in_pagination: c.ignore_limit_in_pagination.unwrap_or(false),
                    use_content_hash: c.use_content_hash.unwrap_or(false),
                    cursor_url_encoded: c.is_cursor_url_encoded.unwrap_or(false),
                    allow_empty_page_cursor: c.allow_empty_page_cursor.unwrap_or(false),
                })
            }
            Pagination::LinkHeader(c) => {
                let c = c.clone().unwrap_or_default();
                Strategy::LinkHeader(LinkHeaderStrategy {
                    limit_key: c.limit_key,
                    max_limit: c.max_limit,
                    rel: c.rel.unwrap_or_else(|| "next".into()),
                })
            }
            Pagination::Range(c) => Strategy::Range(RangeStrategy {
                unit: c.unit.clone().unwrap_or_else(|| "items".into()),
                max_limit: c.max_limit,
            }),
            Pagination::Dynamic(c) => Strategy::Dynamic(DynamicStrategy {
                initial: c
                    .get_initial_pagination_values_expression
                    .as_ref()
                    .map(|e| compile("get_initial_pagination_values_expression", e))
                    .transpose()?,
                next: compile(
                    "get_pagination_values_expression",
                    &c.get_pagination_values_expression,
                )?,
                cursor: c
                    .get_cursor_from_response_expression
                    .as_ref()
                    .map(|e| compile("get_cursor_from_response_expression", e))
                    .transpose()?,
            }),
        })
    }

    pub(crate) fn format(&self) -> &'static str {
        match self {
            Strategy::Page(_) => "page",
            Strategy::Offset(_) => "offset",
            Strategy::Cursor(_) => "cursor",
            Strategy::LinkHeader(_) => "link_header",
            Strategy::Range(_) => "range",
            Strategy::Dynamic(_) => "dynamic",
        }
    }

    pub(crate) fn max_limit(&self) -> Option<u64> {
        match self {
            Strategy::Page(s) => s.max_limit,
            Strategy::Offset(s) => s.max_limit,
            Strategy::Cursor(s) => s.max_limit,
            Strategy::LinkHeader(s) => s.max_limit,
            Strategy::Range(s) => s.max_limit,
            Strategy::Dynamic(_) => None,
        }
    }
}
