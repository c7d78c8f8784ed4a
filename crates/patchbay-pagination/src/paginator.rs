//! [`Paginator`] (one per method, built once) and [`PageState`] (one per list call).

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use patchbay_config::Pagination;
use patchbay_template::expression::{Bindings, Expression, headers_json};
use serde_json::{Map, Value, json};

use crate::PaginationError;
use crate::error::{kind, redact_link};
use crate::link::find_rel;
use crate::path::DottedPath;
use crate::request::{NextUrl, PageRequest, PageResponse};
use crate::strategy::{
    CursorStrategy, DEFAULT_RANGE_SIZE, DynamicStrategy, LinkHeaderStrategy, OffsetStrategy,
    PageStrategy, RangeStrategy, Strategy,
};
use crate::token::{self, Position};
use crate::truthy::is_truthy;

/// Default bound on pages fetched by one list call.
pub const DEFAULT_MAX_PAGES: u64 = 10_000;

/// The pagination of one method, built once from its config (dotted paths parsed,
/// JSONata compiled). Cheap to clone and `Send + Sync`.
///
/// ```
/// use patchbay_config::{CursorConfig, Pagination};
/// use patchbay_pagination::{PageResponse, Paginator, StartOptions, Step};
/// use serde_json::json;
///
/// // Slack: `cursor`/`limit` in the query, `response_metadata.next_cursor` ("" on the last page).
/// let config = Pagination::Cursor(CursorConfig {
///     cursor_path: "response_metadata.next_cursor".into(),
///     cursor_key: Some("cursor".into()),
///     limit_key: Some("limit".into()),
///     max_limit: Some(200),
///     ..Default::default()
/// });
/// let paginator = Paginator::new(&config, None)?;
/// let (mut state, first) = paginator.start(StartOptions { limit: Some(500), ..Default::default() })?;
/// assert_eq!(first.query_value("limit"), Some(&json!(200)));
///
/// let headers = http::HeaderMap::new();
/// let body = json!({"ok": true, "channels": [{"id": "C1"}], "response_metadata": {"next_cursor": "dGVhbTpDMDYx"}});
/// let Step::Next(second) = state.next(&PageResponse { status: 200, headers: &headers, body: &body, record_count: 1 })? else { panic!() };
/// assert_eq!(second.query_value("cursor"), Some(&json!("dGVhbTpDMDYx")));
/// let resume_from = state.next_cursor().map(str::to_owned);
/// assert!(resume_from.is_some());
///
/// let last = json!({"ok": true, "channels": [{"id": "C2"}], "response_metadata": {"next_cursor": ""}});
/// assert_eq!(state.next(&PageResponse { status: 200, headers: &headers, body: &last, record_count: 1 })?, Step::Done);
/// assert_eq!(state.next_cursor(), None);
/// # Ok::<(), patchbay_pagination::PaginationError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Paginator {
    inner: Arc<Inner>,
}

#[derive(Debug, Clone)]
struct Inner {
    strategy: Strategy,
    pagination_path: Option<DottedPath>,
    max_pages: Option<u64>,
}

/// Per-call inputs of [`Paginator::start`].
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// Requested page size; capped at the config's `max_limit`. Without it,
    /// `max_limit` is used (when configured).
    pub limit: Option<u64>,
    /// A `next_cursor` from an earlier call, to continue from there.
    pub resume: Option<String>,
    /// `dynamic` scope: the caller's query (an object).
    pub query: Value,
    /// `dynamic` scope: the request URL.
    pub url: String,
    /// `dynamic` scope: the request options (`method`, `headers`, `body`, ...).
    pub request_options: Value,
}

/// What to do after a page.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Request the next page with these changes (the page's records are valid).
    Next(PageRequest),
    /// This was the last page (its records are valid).
    Done,
    /// `use_content_hash`: this page repeats an earlier one. Discard its records and stop.
    RepeatedPage,
}

impl Paginator {
    /// Builds the paginator of a method. `pagination_path` (the method's) is the
    /// dotted path of the object that `cursor_path` and `has_next_path` are
    /// relative to.
    ///
    /// # Errors
    /// [`PaginationError::InvalidPath`] or [`PaginationError::Compile`] for a bad config.
    pub fn new(
        config: &Pagination,
        pagination_path: Option<&str>,
    ) -> Result<Self, PaginationError> {
        let pagination_path = pagination_path
            .map(DottedPath::parse)
            .transpose()?
            .filter(|p| !p.is_root());
        Ok(Self {
            inner: Arc::new(Inner {
                strategy: Strategy::from_config(config)?,
                pagination_path,
                max_pages: Some(DEFAULT_MAX_PAGES),
            }),
        })
    }

    /// Sets the bound on pages per list call (`None`: unbounded). Reaching it is
    /// [`PaginationError::MaxPagesReached`], which carries the cursor to resume from.
    pub fn with_max_pages(self, max_pages: Option<u64>) -> Self {
        let mut inner = Arc::unwrap_or_clone(self.inner);
        inner.max_pages = max_pages;
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The format name (`page`, `offset`, `cursor`, `link_header`, `range`, `dynamic`).
    pub fn format(&self) -> &'static str {
        self.inner.strategy.format()
    }

    /// The page-size bound of the config, if any.
    pub fn max_limit(&self) -> Option<u64> {
        self.inner.strategy.max_limit()
    }

    /// Starts a list call: the state machine plus the first request's changes.
    ///
    /// # Errors
    /// [`PaginationError::InvalidCursor`] / [`PaginationError::CursorFormatMismatch`]
    /// for a bad `resume` cursor, and expression errors of `dynamic`.
    pub fn start(
        &self,
        options: StartOptions,
    ) -> Result<(PageState, PageRequest), PaginationError> {
        let format = self.format();
        let limit = options
            .limit
            .map(|l| l.max(1))
            .map(|l| self.max_limit().map_or(l, |m| l.min(m)))
            .or(self.max_limit());
        let mut state = PageState {
            paginator: self.clone(),
            limit,
            pages: 0,
            pending: None,
            next_cursor: None,
            prev_cursor: None,
            seen_positions: HashSet::new(),
            seen_pages: HashSet::new(),
            finished: false,
            scope: Scope {
                query: options.query,
                url: options.url,
                request_options: options.request_options,
            },
        };
        let position = match options.resume {
            Some(cursor) => {
                let position = token::decode(format, &cursor)?;
                state.seen_positions.insert(hash_of(&position));
                state.next_cursor = Some(cursor);
                Some(position)
            }
            None => state.initial_position()?,
        };
        let request = state.request_for(position.as_ref(), true)?;
        state.pending = position;
        Ok((state, request))
    }
}

#[derive(Debug)]
struct Scope {
    query: Value,
    url: String,
    request_options: Value,
}

/// The pagination state of one list call. Feed it every page's response with
/// [`next`](Self::next) **before** handing the page's records to the caller
/// (a [`Step::RepeatedPage`] means the records must be dropped).
///
/// Memory is bounded by the number of pages (one 8-byte hash per page for loop
/// detection), never by the number of records.
#[derive(Debug)]
pub struct PageState {
    paginator: Paginator,
    limit: Option<u64>,
    pages: u64,
    pending: Option<Position>,
    next_cursor: Option<String>,
    prev_cursor: Option<String>,
    seen_positions: HashSet<u64>,
    seen_pages: HashSet<u64>,
    finished: bool,
    scope: Scope,
}

impl PageState {
    /// The page size sent to the provider (after capping at `max_limit`).
    pub fn limit(&self) -> Option<u64> {
        self.limit
    }

    /// Number of responses processed so far.
    pub fn pages(&self) -> u64 {
        self.pages
    }

    /// The opaque, URL-safe cursor of the page that has not been fetched yet:
    /// passing it as [`StartOptions::resume`] continues exactly there. `None`
    /// after the last page (and for `dynamic` when
    /// `get_cursor_from_response_expression` yields nothing).
    pub fn next_cursor(&self) -> Option<&str> {
        self.next_cursor.as_deref()
    }

    /// The opaque cursor of the page before the last one processed, when the
    /// `cursor` config has a `prev_cursor_path` and the provider's answer held
    /// a previous cursor there: passing it as [`StartOptions::resume`] fetches
    /// that page. `None` otherwise.
    pub fn prev_cursor(&self) -> Option<&str> {
        self.prev_cursor.as_deref()
    }

    /// Whether the list has ended (done or failed).
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Decides what follows `response`.
    ///
    /// # Errors
    /// The loop guards ([`PaginationError::RepeatedCursor`],
    /// [`PaginationError::EmptyPageWithCursor`], [`PaginationError::MaxPagesReached`])
    /// and expression or cursor errors. After an error the state is finished.
    pub fn next(&mut self, response: &PageResponse<'_>) -> Result<Step, PaginationError> {
        if self.finished {
            return Ok(Step::Done);
        }
        self.prev_cursor = self.prev_cursor_in(response);
        let result = self.advance(response);
        if !matches!(result, Ok(Step::Next(_))) {
            self.finished = true;
            if !matches!(result, Err(PaginationError::MaxPagesReached { .. })) {
                self.next_cursor = None;
            }
        }
        result
    }

    fn advance(&mut self, response: &PageResponse<'_>) -> Result<Step, PaginationError> {
        self.pages += 1;
        let page = self.pages;
        if self.use_content_hash() && !self.seen_pages.insert(hash_of(response.body)) {
            return Ok(Step::RepeatedPage);
        }
        let (position, display_cursor) = match self.position_after(response)? {
            Some(found) => found,
            None => return Ok(Step::Done),
        };
        if response.record_count == 0 && self.guards_empty_pages() {
            return Err(PaginationError::EmptyPageWithCursor { page });
        }
        if !self.seen_positions.insert(hash_of(&position)) {
            return Err(PaginationError::RepeatedCursor {
                page,
                cursor: redact_link(&describe(&position), 120),
            });
        }
        let format = self.paginator.format();
        self.next_cursor = display_cursor.then(|| token::encode(format, &position));
        if let Some(max) = self.paginator.inner.max_pages
            && page >= max
        {
            return Err(PaginationError::MaxPagesReached {
                max,
                next_cursor: self.next_cursor.clone(),
            });
        }
        let request = self.request_for(Some(&position), false)?;
        self.pending = Some(position);
        Ok(Step::Next(request))
    }

    /// The previous-page cursor of `response` as an opaque token (`cursor`
    /// format with `prev_cursor_path` only).
    fn prev_cursor_in(&self, response: &PageResponse<'_>) -> Option<String> {
        let Strategy::Cursor(s) = &self.paginator.inner.strategy else {
            return None;
        };
        let raw = self
            .pagination_root(response.body)
            .and_then(|root| s.prev_cursor_path.as_ref()?.get(root))?;
        let position = match (s.is_link, raw) {
            (_, Value::String(text)) if text.trim().is_empty() => return None,
            (true, Value::String(link)) => Position::Link(link.trim().to_owned()),
            (false, Value::String(text)) => Position::Cursor(Value::String(text.trim().to_owned())),
            (_, number @ Value::Number(_)) => Position::Cursor(number.clone()),
            _ => return None,
        };
        Some(token::encode(self.paginator.format(), &position))
    }

    fn use_content_hash(&self) -> bool {
        matches!(&self.paginator.inner.strategy, Strategy::Cursor(c) if c.use_content_hash)
    }

    /// Formats whose "next" comes from the provider (not from counting records),
    /// where an empty page that still points onward signals a loop.
    fn guards_empty_pages(&self) -> bool {
        match &self.paginator.inner.strategy {
            Strategy::Cursor(c) => !c.allow_empty_page_cursor,
            Strategy::LinkHeader(_) | Strategy::Dynamic(_) => true,
            Strategy::Page(_) | Strategy::Offset(_) | Strategy::Range(_) => false,
        }
    }

    fn pagination_root<'b>(&self, body: &'b Value) -> Option<&'b Value> {
        match &self.paginator.inner.pagination_path {
            Some(path) => path.get(body),
            None => Some(body),
        }
    }

    fn has_next(&self, path: Option<&DottedPath>, body: &Value) -> Option<bool> {
        let path = path?;
        let flag = self.pagination_root(body).and_then(|root| path.get(root));
        Some(flag.is_some_and(is_truthy))
    }

    fn initial_position(&self) -> Result<Option<Position>, PaginationError> {
        Ok(match &self.paginator.inner.strategy {
            Strategy::Page(s) => Some(Position::Page(s.initial_page)),
            Strategy::Offset(_) => Some(Position::Offset(0)),
            Strategy::Range(_) => Some(Position::Range(0)),
            Strategy::Cursor(_) | Strategy::LinkHeader(_) => None,
            Strategy::Dynamic(s) => match &s.initial {
                None => None,
                Some(expr) => {
                    let input = json!({
                        "query": self.scope.query,
                        "url": self.scope.url,
                        "requestOptions": self.scope.request_options,
                    });
                    dynamic_values(expr, &input, "get_initial_pagination_values_expression", 0)?
                        .map(Position::Dynamic)
                }
            },
        })
    }

    /// The position after `response` (and whether it may be shown as `next_cursor`), or `None` at the end.
    fn position_after(
        &self,
        response: &PageResponse<'_>,
    ) -> Result<Option<(Position, bool)>, PaginationError> {
        let count = response.record_count as u64;
        let body = response.body;
        let position = match &self.paginator.inner.strategy {
            Strategy::Page(s) => self.page_after(s, count, body),
            Strategy::Offset(s) => self.offset_after(s, count, body),
            Strategy::Cursor(s) => self.cursor_after(s, response)?,
            Strategy::LinkHeader(s) => link_after(s, response.headers),
            Strategy::Range(s) => self.range_after(s, response),
            Strategy::Dynamic(s) => return self.dynamic_after(s, response),
        };
        Ok(position.map(|p| (p, true)))
    }

    /// Whether a page of `count` records ends a counted list: an empty page, or,
    /// without a `has_next_path`, a page shorter than the limit sent.
    fn counted_end(&self, count: u64, has_next: Option<bool>, limit_sent: bool) -> bool {
        if count == 0 {
            return true;
        }
        match has_next {
            Some(flag) => !flag,
            None => limit_sent && self.limit.is_some_and(|l| count < l),
        }
    }

    fn page_after(&self, s: &PageStrategy, count: u64, body: &Value) -> Option<Position> {
        let has_next = self.has_next(s.has_next.as_ref(), body);
        if self.counted_end(count, has_next, s.limit_key.is_some()) {
            return None;
        }
        let current = match self.pending {
            Some(Position::Page(p)) => p,
            _ => s.initial_page,
        };
        Some(Position::Page(current.saturating_add(1)))
    }

    fn offset_after(&self, s: &OffsetStrategy, count: u64, body: &Value) -> Option<Position> {
        let has_next = self.has_next(s.has_next.as_ref(), body);
        if self.counted_end(count, has_next, true) {
            return None;
        }
        let current = match self.pending {
            Some(Position::Offset(o)) => o,
            _ => 0,
        };
        Some(Position::Offset(current.saturating_add(count)))
    }

    fn cursor_after(
        &self,
        s: &CursorStrategy,
        response: &PageResponse<'_>,
    ) -> Result<Option<Position>, PaginationError> {
        if self.has_next(s.has_next.as_ref(), response.body) == Some(false) {
            return Ok(None);
        }
        let header_value;
        let raw = match &s.cursor_header {
            Some(name) => {
                header_value = response
                    .headers
                    .get(name.as_str())
                    .and_then(|v| v.to_str().ok())
                    .map(|v| Value::String(v.to_owned()));
                header_value.as_ref()
            }
            None => self
                .pagination_root(response.body)
                .and_then(|root| s.cursor_path.get(root)),
        };
        let cursor = match raw {
            None | Some(Value::Null) | Some(Value::Bool(false)) => return Ok(None),
            Some(Value::String(text)) if text.trim().is_empty() => return Ok(None),
            Some(Value::String(text)) => Value::String(text.trim().to_owned()),
            Some(number @ Value::Number(_)) => number.clone(),
            Some(other) => {
                return Err(PaginationError::UnsupportedCursorValue {
                    path: s.cursor_path.as_str().to_owned(),
                    found: kind(other),
                });
            }
        };
        Ok(Some(match (s.is_link, cursor) {
            (true, Value::String(link)) => Position::Link(link),
            (_, cursor) => Position::Cursor(cursor),
        }))
    }

    fn range_after(&self, s: &RangeStrategy, response: &PageResponse<'_>) -> Option<Position> {
        // 200 means the server ignored Range and sent everything; 416 means past the end.
        if response.status != 206 || response.record_count == 0 {
            return None;
        }
        let start = match self.pending {
            Some(Position::Range(start)) => start,
            _ => 0,
        };
        let size = self.range_size(s);
        let content_range = response
            .headers
            .get(http::header::CONTENT_RANGE)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_content_range);
        match content_range {
            Some(ContentRange {
                last: Some(last),
                total,
                ..
            }) => {
                let next = last.saturating_add(1);
                match total {
                    Some(total) if next >= total => None,
                    None if (response.record_count as u64) < size => None,
                    _ => Some(Position::Range(next)),
                }
            }
            _ if (response.record_count as u64) < size => None,
            _ => Some(Position::Range(
                start.saturating_add(response.record_count as u64),
            )),
        }
    }

    fn range_size(&self, s: &RangeStrategy) -> u64 {
        self.limit
            .or(s.max_limit)
            .unwrap_or(DEFAULT_RANGE_SIZE)
            .max(1)
    }

    fn dynamic_after(
        &self,
        s: &DynamicStrategy,
        response: &PageResponse<'_>,
    ) -> Result<Option<(Position, bool)>, PaginationError> {
        let current = match &self.pending {
            Some(Position::Dynamic(values)) => values.clone(),
            _ => Value::Object(Map::new()),
        };
        let input = json!({
            "query": self.scope.query,
            "url": self.scope.url,
            "requestOptions": self.scope.request_options,
            "response": {
                "status": response.status,
                "headers": headers_json(response.headers),
                "body": response.body,
            },
            "body": response.body,
            "paginationValues": current,
        });
        let page = self.pages;
        let Some(values) =
            dynamic_values(&s.next, &input, "get_pagination_values_expression", page)?
        else {
            return Ok(None);
        };
        let shown = match &s.cursor {
            None => true,
            Some(expr) => {
                let cursor = expr.evaluate(&input, &Bindings::new()).map_err(|source| {
                    PaginationError::Evaluate {
                        field: "get_cursor_from_response_expression",
                        page,
                        source,
                    }
                })?;
                cursor.is_some_and(|c| !matches!(c, Value::Null) && c != json!(""))
            }
        };
        Ok(Some((Position::Dynamic(values), shown)))
    }

    /// The request changes for `position` (`None`: the first request without a cursor).
    fn request_for(
        &self,
        position: Option<&Position>,
        first: bool,
    ) -> Result<PageRequest, PaginationError> {
        let mut request = PageRequest::default();
        let limit = self.limit.map(|l| json!(l));
        match &self.paginator.inner.strategy {
            Strategy::Page(s) => {
                let page = match position {
                    Some(Position::Page(p)) => *p,
                    _ => s.initial_page,
                };
                set(
                    &mut request,
                    !s.add_to_body,
                    s.add_to_body,
                    &s.page_key,
                    json!(page),
                );
                if let (Some(key), Some(limit)) = (&s.limit_key, limit) {
                    set(&mut request, !s.add_to_body, s.add_to_body, key, limit);
                }
            }
            Strategy::Offset(s) => {
                let offset = match position {
                    Some(Position::Offset(o)) => *o,
                    _ => 0,
                };
                set(
                    &mut request,
                    !s.add_to_body,
                    s.add_to_body,
                    &s.offset_key,
                    json!(offset),
                );
                if let Some(limit) = limit {
                    set(
                        &mut request,
                        !s.add_to_body,
                        s.add_to_body,
                        &s.limit_key,
                        limit,
                    );
                }
            }
            Strategy::Cursor(s) => {
                request.templated_headers = s.headers.clone();
                match position {
                    Some(Position::Link(link)) => {
                        request.url = Some(NextUrl::from_link(link, s.include_path)?);
                    }
                    other => {
                        if let Some(Position::Cursor(cursor)) = other {
                            let cursor = match cursor {
                                Value::String(text) if s.cursor_url_encoded => Value::String(
                                    percent_encoding::percent_decode_str(text)
                                        .decode_utf8_lossy()
                                        .into_owned(),
                                ),
                                other => other.clone(),
                            };
                            set(&mut request, s.in_query, s.in_body, &s.cursor_key, cursor);
                        }
                        let send_limit = first || !s.ignore_limit_in_pagination;
                        if let (Some(key), Some(limit), true) =
                            (&s.limit_key, self.limit, send_limit)
                        {
                            let value = if s.limit_as_string {
                                json!(limit.to_string())
                            } else {
                                json!(limit)
                            };
                            set(&mut request, s.in_query, s.in_body, key, value);
                        }
                    }
                }
            }
            Strategy::LinkHeader(s) => match position {
                Some(Position::Link(link)) => request.url = Some(NextUrl::from_link(link, false)?),
                _ => {
                    if let (Some(key), Some(limit)) = (&s.limit_key, limit) {
                        request.query.push((key.clone(), limit));
                    }
                }
            },
            Strategy::Range(s) => {
                let start = match position {
                    Some(Position::Range(start)) => *start,
                    _ => 0,
                };
                let end = start.saturating_add(self.range_size(s) - 1);
                request
                    .headers
                    .push(("Range".into(), format!("{}={start}-{end}", s.unit)));
            }
            Strategy::Dynamic(_) => {
                if let Some(Position::Dynamic(Value::Object(values))) = position {
                    request.query = values.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                }
            }
        }
        Ok(request)
    }
}

fn set(request: &mut PageRequest, in_query: bool, in_body: bool, key: &str, value: Value) {
    if in_body {
        request.body.insert(key.to_owned(), value.clone());
    }
    if in_query {
        request.query.retain(|(k, _)| k != key);
        request.query.push((key.to_owned(), value));
    }
}

fn link_after(s: &LinkHeaderStrategy, headers: &http::HeaderMap) -> Option<Position> {
    let values = headers
        .get_all(http::header::LINK)
        .iter()
        .filter_map(|v| v.to_str().ok());
    find_rel(values, &s.rel)
        .filter(|target| !target.is_empty())
        .map(Position::Link)
}

fn dynamic_values(
    expr: &Expression,
    input: &Value,
    field: &'static str,
    page: u64,
) -> Result<Option<Value>, PaginationError> {
    let result =
        expr.evaluate(input, &Bindings::new())
            .map_err(|source| PaginationError::Evaluate {
                field,
                page,
                source,
            })?;
    match result {
        None | Some(Value::Null) => Ok(None),
        Some(values @ Value::Object(_)) => Ok(Some(values)),
        Some(other) => Err(PaginationError::DynamicValuesNotObject {
            field,
            found: kind(&other),
        }),
    }
}

#[derive(Debug, PartialEq)]
struct ContentRange {
    last: Option<u64>,
    total: Option<u64>,
}

/// `items 0-24/100`, `items 0-24/*`, `items */100`.
fn parse_content_range(value: &str) -> Option<ContentRange> {
    let (_unit, rest) = value.trim().split_once(' ')?;
    let (range, total) = rest.trim().split_once('/')?;
    let total = total.trim().parse().ok();
    let last = match range.trim() {
        "*" => None,
        r => Some(r.split_once('-')?.1.trim().parse().ok()?),
    };
    Some(ContentRange { last, total })
}

fn describe(position: &Position) -> String {
    match position {
        Position::Page(p) => format!("page {p}"),
        Position::Offset(o) => format!("offset {o}"),
        Position::Range(r) => format!("range start {r}"),
        Position::Link(link) => link.clone(),
        Position::Cursor(Value::String(c)) => c.clone(),
        Position::Cursor(v) | Position::Dynamic(v) => v.to_string(),
    }
}

/// A stable hash of a serializable value, streamed (no intermediate string).
fn hash_of<T: serde::Serialize + ?Sized>(value: &T) -> u64 {
    struct HashWriter(DefaultHasher);
    impl std::io::Write for HashWriter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            buf.hash(&mut self.0);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut writer = HashWriter(DefaultHasher::new());
    // Writing into a hasher cannot fail, and these values always serialize.
    let _ = serde_json::to_writer(&mut writer, value);
    writer.0.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range_forms() {
        assert_eq!(
            parse_content_range("items 0-24/100"),
            Some(ContentRange {
                last: Some(24),
                total: Some(100)
            })
        );
        assert_eq!(
            parse_content_range("items 25-49/*"),
            Some(ContentRange {
                last: Some(49),
                total: None
            })
        );
        assert_eq!(
            parse_content_range("items */100"),
            Some(ContentRange {
                last: None,
                total: Some(100)
            })
        );
        assert_eq!(parse_content_range("garbage"), None);
    }
}
