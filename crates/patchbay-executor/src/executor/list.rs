//! Lists: pages, the page-by-page walk and the record stream.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};

use futures_util::Stream;
use patchbay_pagination::{
    PageRequest, PageResponse, PageState, PaginationError, StartOptions, Step, take_records,
};
use patchbay_template::Template;
use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;

use crate::ExecutorError;
use crate::body::EncodedBody;
use crate::input::{CallInput, request_data};
use crate::method::PreparedRequest;
use crate::plan::{CompiledIntegration, MethodPlan};
use crate::query::flatten_query;

use super::*;

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The page's records (`response_path` applied).
    pub records: Vec<Value>,
    /// Pass back as [`ListOptions::cursor`] to get the next page; `None` on the last page.
    pub next_cursor: Option<String>,
    /// Pass back as [`ListOptions::cursor`] to get the previous page: set when
    /// the `cursor` pagination config has `prev_cursor_path` and the
    /// provider's answer holds a previous cursor there; `None` otherwise.
    pub prev_cursor: Option<String>,
}

/// Options of a list call.
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    /// Page size (capped at the config's `max_limit`).
    pub limit: Option<u64>,
    /// A `next_cursor` from an earlier call, to resume.
    pub cursor: Option<String>,
    /// Cancels waits and requests of the call.
    pub cancel: Option<CancellationToken>,
}

/// Applies a paginator's changes to a prepared request.
pub(super) fn apply_page(
    prepared: &mut PreparedRequest,
    page: &PageRequest,
    data: &Value,
    plan: &MethodPlan,
) -> Result<(), ExecutorError> {
    if let Some(next) = &page.url {
        prepared.url = next.resolve(prepared.url.as_str(), false)?;
    } else if !page.query.is_empty() {
        let pairs = flatten_query(
            page.query.iter().map(|(k, v)| (k.as_str(), v)),
            plan.method.array_format(),
        );
        let replaced = |key: &str| {
            page.query
                .iter()
                .any(|(k, _)| key == k || key.starts_with(&format!("{k}[")))
        };
        let kept: Vec<(String, String)> = prepared
            .url
            .query_pairs()
            .filter(|(k, _)| !replaced(k))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        prepared.url.set_query(None);
        let all: Vec<(String, String)> = kept.into_iter().chain(pairs).collect();
        if !all.is_empty() {
            prepared.url.query_pairs_mut().extend_pairs(all);
        }
    }
    if !page.body.is_empty() {
        prepared.body = match std::mem::replace(&mut prepared.body, EncodedBody::Empty) {
            EncodedBody::Empty => {
                EncodedBody::Json(serde_json::to_vec(&page.body).expect("JSON serializes"))
            }
            EncodedBody::Json(bytes) => {
                let mut value: Value =
                    serde_json::from_slice(&bytes).unwrap_or(Value::Object(Map::new()));
                match value.as_object_mut() {
                    Some(object) => object.extend(page.body.clone()),
                    None => {
                        return Err(ExecutorError::Body(
                            "pagination needs an object body to add its keys to".into(),
                        ));
                    }
                }
                EncodedBody::Json(serde_json::to_vec(&value).expect("JSON serializes"))
            }
            EncodedBody::Form(mut pairs) | EncodedBody::Multipart(mut pairs) => {
                pairs.retain(|(k, _)| !page.body.contains_key(k));
                pairs.extend(flatten_query(
                    page.body.iter().map(|(k, v)| (k.as_str(), v)),
                    plan.method.array_format(),
                ));
                EncodedBody::Form(pairs)
            }
            EncodedBody::Text { .. } => {
                return Err(ExecutorError::Body(
                    "pagination cannot add keys to a text body".into(),
                ));
            }
        };
    }
    for (name, value) in &page.headers {
        prepared
            .headers
            .retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        prepared.headers.push((name.clone(), value.clone()));
    }
    for (name, source) in &page.templated_headers {
        let value = Template::parse(source)?.render_to_string(data);
        prepared
            .headers
            .retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        prepared.headers.push((name.clone(), value));
    }
    Ok(())
}

/// The page-by-page walk of a list call.
pub(super) struct PageWalk {
    state: Option<PageState>,
    next: Option<PageRequest>,
    /// Whether the next request is a follow-up page (a later page, or the
    /// first one of a call resumed from a cursor).
    follow_up: bool,
    /// Set when the page bound (`max_pages`) was reached on the page just returned: the
    /// next fetch reports it, after that page's records were delivered.
    stopped: Option<PaginationError>,
}

/// The pagination part of one request.
pub(super) struct PageCall<'a> {
    pub(super) request: &'a PageRequest,
    pub(super) follow_up: bool,
}

impl PageWalk {
    pub(super) fn start(
        plan: &MethodPlan,
        account: AccountRef<'_>,
        input: &CallInput,
        options: &ListOptions,
        max_pages: Option<u64>,
    ) -> Result<Self, ExecutorError> {
        match &plan.paginator {
            None => Ok(Self {
                state: None,
                next: Some(PageRequest::default()),
                follow_up: false,
                stopped: None,
            }),
            Some(paginator) => {
                // Only `dynamic` pagination reads the request URL (its expressions'
                // `url` scope); other formats skip rendering the request for it.
                let url = if paginator.format() == "dynamic" {
                    let data = request_data(account.context, input);
                    plan.method
                        .prepare(&data, input)
                        .map(|p| p.url.to_string())
                        .unwrap_or_default()
                } else {
                    String::new()
                };
                let paginator = match max_pages {
                    Some(max) => Cow::Owned(paginator.clone().with_max_pages(Some(max))),
                    None => Cow::Borrowed(paginator),
                };
                let (state, first) = paginator.start(StartOptions {
                    limit: options.limit,
                    resume: options.cursor.clone(),
                    query: Value::Object(input.query.clone()),
                    url,
                    request_options: json!({"method": plan.method.http_method().as_str()}),
                })?;
                Ok(Self {
                    state: Some(state),
                    next: Some(first),
                    follow_up: options.cursor.is_some(),
                    stopped: None,
                })
            }
        }
    }

    /// Fetches the next page; `None` when the walk is over.
    pub(super) async fn fetch(
        &mut self,
        executor: &Executor,
        integration: &CompiledIntegration,
        plan: &MethodPlan,
        account: AccountRef<'_>,
        input: &CallInput,
        cancel: &CancellationToken,
    ) -> Result<Option<Page>, ExecutorError> {
        if let Some(stopped) = self.stopped.take() {
            return Err(stopped.into());
        }
        let Some(request) = self.next.take() else {
            return Ok(None);
        };
        let page_request = self.state.as_ref().map(|_| PageCall {
            request: &request,
            follow_up: self.follow_up,
        });
        self.follow_up = true;
        let mut response = executor
            .execute(integration, plan, account, input, page_request, cancel)
            .await?;
        let Some(state) = &mut self.state else {
            return Ok(Some(Page {
                records: take_records(&mut response.body, plan.response_path.as_ref()),
                next_cursor: None,
                prev_cursor: None,
            }));
        };
        // The paginator sees the whole body, records included: `dynamic`
        // expressions read them (Stripe's `body.data[-1].id`). Records are
        // taken out only afterwards, so the page is never copied.
        let record_count = match plan
            .response_path
            .as_ref()
            .map_or(Some(&response.body), |path| path.get(&response.body))
        {
            None | Some(Value::Null) => 0,
            Some(Value::Array(items)) => items.len(),
            Some(_) => 1,
        };
        let view = PageResponse {
            status: response.status,
            headers: &response.headers,
            body: &response.body,
            record_count,
        };
        let step = match state.next(&view) {
            Ok(step) => step,
            // The bound stops the walk after this page, not instead of it: its records go
            // out with the cursor of the next page, and the next fetch reports the bound.
            Err(PaginationError::MaxPagesReached { max, next_cursor }) => {
                let records = take_records(&mut response.body, plan.response_path.as_ref());
                self.stopped = Some(PaginationError::MaxPagesReached {
                    max,
                    next_cursor: next_cursor.clone(),
                });
                return Ok(Some(Page {
                    records,
                    next_cursor,
                    prev_cursor: state.prev_cursor().map(str::to_owned),
                }));
            }
            Err(error) => return Err(error.into()),
        };
        let records = take_records(&mut response.body, plan.response_path.as_ref());
        let prev_cursor = state.prev_cursor().map(str::to_owned);
        match step {
            Step::Next(next) => {
                self.next = Some(next);
                Ok(Some(Page {
                    records,
                    next_cursor: state.next_cursor().map(str::to_owned),
                    prev_cursor,
                }))
            }
            Step::Done => Ok(Some(Page {
                records,
                next_cursor: None,
                prev_cursor,
            })),
            Step::RepeatedPage => Ok(Some(Page {
                records: Vec::new(),
                next_cursor: None,
                prev_cursor: None,
            })),
        }
    }
}

pub(super) struct ListState {
    pub(super) executor: Executor,
    pub(super) integration: CompiledIntegration,
    pub(super) account: AccountData,
    pub(super) input: CallInput,
    pub(super) options: ListOptions,
    pub(super) cancel: CancellationToken,
    pub(super) walk: Option<PageWalk>,
    pub(super) buffer: VecDeque<Value>,
    pub(super) pending_cursor: Option<Option<String>>,
    pub(super) cursor: Arc<Mutex<Option<String>>>,
    pub(super) finished: bool,
}

impl ListState {
    pub(super) async fn next_record(
        &mut self,
        plan: &MethodPlan,
    ) -> Option<Result<Value, ExecutorError>> {
        loop {
            if let Some(record) = self.buffer.pop_front() {
                if self.buffer.is_empty()
                    && let Some(cursor) = self.pending_cursor.take()
                {
                    *self.cursor.lock().unwrap_or_else(|e| e.into_inner()) = cursor;
                }
                return Some(Ok(record));
            }
            if self.finished {
                return None;
            }
            if self.walk.is_none() {
                match PageWalk::start(
                    plan,
                    self.account.as_account_ref(),
                    &self.input,
                    &self.options,
                    self.executor.inner.max_pages,
                ) {
                    Ok(walk) => self.walk = Some(walk),
                    Err(e) => {
                        self.finished = true;
                        return Some(Err(e));
                    }
                }
            }
            let walk = self.walk.as_mut().expect("started");
            let account = self.account.as_account_ref();
            match walk
                .fetch(
                    &self.executor,
                    &self.integration,
                    plan,
                    account,
                    &self.input,
                    &self.cancel,
                )
                .await
            {
                Ok(Some(page)) => {
                    if page.next_cursor.is_none() {
                        self.finished = true;
                    }
                    if page.records.is_empty() {
                        *self.cursor.lock().unwrap_or_else(|e| e.into_inner()) = page.next_cursor;
                    } else {
                        self.pending_cursor = Some(page.next_cursor);
                        self.buffer.extend(page.records);
                    }
                }
                Ok(None) => {
                    self.finished = true;
                }
                Err(e) => {
                    self.finished = true;
                    return Some(Err(e));
                }
            }
        }
    }
}

/// The records of a list call, streamed page by page.
pub struct RecordStream {
    pub(super) inner: Pin<Box<dyn Stream<Item = Result<Value, ExecutorError>> + Send>>,
    pub(super) cursor: Arc<Mutex<Option<String>>>,
}

impl RecordStream {
    pub(super) fn failed(error: ExecutorError, cursor: Arc<Mutex<Option<String>>>) -> Self {
        Self {
            inner: Box::pin(futures_util::stream::once(async move { Err(error) })),
            cursor,
        }
    }

    /// The cursor to resume after the records yielded so far, or `None` when
    /// the list is complete.
    pub fn next_cursor(&self) -> Option<String> {
        self.cursor
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Stream for RecordStream {
    type Item = Result<Value, ExecutorError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl std::fmt::Debug for RecordStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordStream")
            .field("next_cursor", &self.next_cursor())
            .finish_non_exhaustive()
    }
}
