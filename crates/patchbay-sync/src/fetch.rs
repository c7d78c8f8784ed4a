//! One page of an entry through the facade: proxy resources with
//! [`Patchbay::list_page`], unified resources with [`Patchbay::unified`].

use std::time::{Duration, SystemTime};

use patchbay::executor::ExecutorError;
use patchbay::ratelimit::{GiveUp, parse_retry_after};
use patchbay::template::Bindings;
use patchbay::unified::UnifiedRequest;
use patchbay::{CallInput, Error, ListOptions, Patchbay, UnifiedBody};
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use crate::plan::{Query, Request, Target};

/// What one request of an entry sends, rendered from the scope.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Rendered {
    pub(crate) id: Option<String>,
    pub(crate) query: Map<String, Value>,
    pub(crate) body: Option<Value>,
}

/// A fetched page.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Fetched {
    pub(crate) records: Vec<Value>,
    pub(crate) next_cursor: Option<String>,
}

impl Request {
    /// Renders `id`, `query` and `body` (a `recurse` request takes the `id` and `query`
    /// of `recurse.config` when it has them).
    ///
    /// # Errors
    ///
    /// A message when `query` does not render to an object or its JSONata fails.
    pub(crate) fn render(&self, scope: &Value, recursive: bool) -> Result<Rendered, String> {
        let recursion = self.recurse.as_ref().filter(|_| recursive);
        let id = recursion
            .and_then(|r| r.id.as_ref())
            .or(self.id.as_ref())
            .map(|t| t.render_to_string(scope))
            .filter(|id| !id.is_empty());
        let query = match recursion.and_then(|r| r.query.as_ref()) {
            Some(template) => template.render(scope),
            None => match &self.query {
                None => None,
                Some(Query::Template(template)) => template.render(scope),
                Some(Query::Expression(expression)) => expression
                    .evaluate(scope, &Bindings::new())
                    .map_err(|e| format!("`query` failed: {e}"))?,
            },
        };
        let query = match query {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(map)) => map,
            Some(other) => {
                return Err(format!(
                    "`query` must give an object, not {}",
                    patchbay::config::json_kind(&other)
                ));
            }
        };
        Ok(Rendered {
            id,
            query,
            body: self.body.as_ref().and_then(|b| b.render(scope)),
        })
    }

    /// Fetches the page at `cursor` for `account_id`. Cancelling `cancel` drops the call.
    pub(crate) async fn fetch(
        &self,
        patchbay: &Patchbay,
        account_id: &str,
        rendered: Rendered,
        cursor: Option<String>,
        limit: Option<u64>,
        cancel: &CancellationToken,
    ) -> Result<Fetched, Error> {
        let call = async {
            match &self.target {
                Target::Proxy { resource } => {
                    let input = CallInput {
                        id: rendered.id,
                        query: rendered.query,
                        body: rendered.body,
                        ..CallInput::default()
                    };
                    let options = ListOptions {
                        limit,
                        cursor,
                        cancel: Some(cancel.clone()),
                    };
                    let page = patchbay
                        .list_page(account_id, resource, &self.method, &input, options)
                        .await?;
                    Ok(Fetched {
                        records: page.records,
                        next_cursor: page.next_cursor,
                    })
                }
                Target::Unified { model, resource } => {
                    let mut query = rendered.query;
                    if let Some(cursor) = cursor {
                        query.insert("next_cursor".into(), cursor.into());
                    }
                    if let Some(limit) = limit {
                        query.entry("limit").or_insert(limit.into());
                    }
                    if let Some(format) = &self.response_format {
                        query.insert("truto_response_format".into(), format.clone().into());
                    }
                    let request = UnifiedRequest {
                        id: rendered.id,
                        query,
                        body: rendered.body,
                        ..UnifiedRequest::default()
                    };
                    let answer = patchbay
                        .unified(account_id, model, resource, &self.method, request)
                        .await?;
                    Ok(match answer.body {
                        UnifiedBody::List(list) => Fetched {
                            records: match list.result {
                                Value::Array(records) => records,
                                Value::Object(keyed) => keyed.into_iter().map(|(_, v)| v).collect(),
                                Value::Null => Vec::new(),
                                other => vec![other],
                            },
                            next_cursor: list.next_cursor,
                        },
                        UnifiedBody::Item(item) => Fetched {
                            records: vec![item],
                            next_cursor: None,
                        },
                    })
                }
            }
        };
        tokio::select! {
            biased;
            () = cancel.cancelled() => Err(Error::Executor(ExecutorError::Cancelled)),
            result = call => result,
        }
    }
}

/// How long to wait before trying a rate-limited request again: the wait the provider
/// asked for (beyond what the facade's retry policy waits by itself), the account's
/// pause, or the answer's `Retry-After`; `None` when none of them says.
pub(crate) fn rate_limit_wait(error: &Error) -> Option<Duration> {
    let executor = match error {
        Error::Executor(e) | Error::UnifiedProvider { source: e, .. } => e,
        _ => return None,
    };
    match executor {
        ExecutorError::RateLimited {
            reason: GiveUp::WaitTooLong { requested, .. },
            ..
        } => Some(*requested),
        ExecutorError::AccountPaused { required, .. } => Some(*required),
        other => other
            .provider_error()
            .and_then(|p| p.headers.get("retry-after"))
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now())),
    }
}
