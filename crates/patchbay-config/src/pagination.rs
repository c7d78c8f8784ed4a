//! `pagination`: how list methods walk through pages.
//!
//! Every format ends up as an opaque `next_cursor` for callers. Key names follow
//! Truto's `*_key` convention (`page_key`, `cursor_key`, `limit_key`).

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::languages::{Jsonata, TemplateString};
use crate::tagged::tagged_union;

/// A pagination strategy.
#[derive(Debug, Clone, PartialEq)]
pub enum Pagination {
    /// Page numbers: `?page=2&per_page=100`.
    Page(PageConfig),
    /// Offsets: `?offset=200&limit=100`.
    Offset(OffsetConfig),
    /// A cursor taken from each response (a token, or a link to the next page).
    Cursor(CursorConfig),
    /// RFC 8288 `Link: <...>; rel="next"` response headers.
    LinkHeader(Option<LinkHeaderConfig>),
    /// HTTP `Range` requests (`Range: items=0-99`, `Content-Range` replies).
    Range(RangeConfig),
    /// JSONata expressions compute each next request.
    Dynamic(DynamicConfig),
}

tagged_union!(Pagination {
    tag: "format",
    content: "config",
    Page = "page" => required(PageConfig),
    Offset = "offset" => required(OffsetConfig),
    Cursor = "cursor" => required(CursorConfig),
    LinkHeader = "link_header" => optional(LinkHeaderConfig),
    Range = "range" => required(RangeConfig),
    Dynamic = "dynamic" => required(DynamicConfig),
});

impl Pagination {
    /// The format name as written in configs.
    pub fn format_name(&self) -> &'static str {
        match self {
            Self::Page(_) => "page",
            Self::Offset(_) => "offset",
            Self::Cursor(_) => "cursor",
            Self::LinkHeader(_) => "link_header",
            Self::Range(_) => "range",
            Self::Dynamic(_) => "dynamic",
        }
    }
}

/// The config of `page` pagination.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PageConfig {
    /// Query (or body) key of the page number. Default `page`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_key: Option<String>,
    /// Query (or body) key of the page size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_key: Option<String>,
    /// Largest page size the provider accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_limit: Option<u64>,
    /// Number of the first page. Default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_page: Option<i64>,
    /// Send the page parameters in the body instead of the query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_to_body: Option<bool>,
    /// Path of a truthy "there is a next page" flag in the response body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_next_path: Option<String>,
}

/// The config of `offset` pagination.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OffsetConfig {
    /// Query (or body) key of the offset. Default `offset`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset_key: Option<String>,
    /// Query (or body) key of the page size. Default `limit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_key: Option<String>,
    /// Largest page size the provider accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_limit: Option<u64>,
    /// Send the offset parameters in the body instead of the query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_to_body: Option<bool>,
    /// Path of a truthy "there is a next page" flag in the response body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_next_path: Option<String>,
}

/// The config of `cursor` pagination (field list of Truto's
/// `IntegrationCursorPaginationConfig`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CursorConfig {
    /// Dotted path of the next cursor in the response body (or header, see
    /// `cursor_path_object`), e.g. `meta.after_cursor` or `nextRecordsUrl`.
    pub cursor_path: String,
    /// Dotted path of the previous cursor; list pages then carry a
    /// `prev_cursor` that leads back to the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev_cursor_path: Option<String>,
    /// Query (or body) key the cursor is sent in, e.g. `page[after]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor_key: Option<String>,
    /// Dotted path of a truthy (or `"true"`) "there is a next page" flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_next_path: Option<String>,
    /// Query (or body) key of the page size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_key: Option<String>,
    /// Largest page size the provider accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_limit: Option<u64>,
    /// The cursor is a full URL (or path) to request next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_link: Option<bool>,
    /// With `is_link`: use the link's path (and query) against the base URL,
    /// as for Salesforce's `nextRecordsUrl`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_path: Option<bool>,
    /// Extra headers sent with page requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<IndexMap<String, TemplateString>>,
    /// Send the cursor in the request body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_to_body: Option<bool>,
    /// Send the cursor in the query string (the default for GET).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_to_query: Option<bool>,
    /// Type the limit is sent as (`string` or `number`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_data_type: Option<String>,
    /// Do not send the limit on page requests after the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_limit_in_pagination: Option<bool>,
    /// Where `cursor_path` points: `body` (default) or `header`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor_path_object: Option<CursorSource>,
    /// Stop when a page's content repeats (providers that loop on the last page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_content_hash: Option<bool>,
    /// The cursor is already URL-encoded: send it as is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_cursor_url_encoded: Option<bool>,
    /// Keep going when a page is empty but has a next cursor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_empty_page_cursor: Option<bool>,
}

/// Where a cursor is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CursorSource {
    /// The response body.
    Body,
    /// A response header.
    Header,
}

/// The config of `link_header` pagination.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkHeaderConfig {
    /// Query key of the page size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_key: Option<String>,
    /// Largest page size the provider accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_limit: Option<u64>,
    /// The link relation to follow. Default `next`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rel: Option<String>,
}

/// The config of `range` pagination.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RangeConfig {
    /// The range unit, as in `Range: items=0-99`. Default `items`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Items per request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_limit: Option<u64>,
}

/// The config of `dynamic` pagination: JSONata decides everything.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DynamicConfig {
    /// Initial `paginationValues` (merged into the first request's query). Sees
    /// `query`, `url`, `requestOptions`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_initial_pagination_values_expression: Option<Jsonata>,
    /// Next `paginationValues` from the last response; `null` ends the loop.
    /// Also sees `response`, `body`, `paginationValues`.
    pub get_pagination_values_expression: Jsonata,
    /// The cursor reported to callers as `next_cursor`; undefined means none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_cursor_from_response_expression: Option<Jsonata>,
}
