//! One page of an entry from the [`PageSource`]: proxy resources with
//! [`PageSource::proxy_page`], unified resources with [`PageSource::unified_page`].

use patchbay_template::Bindings;
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use crate::plan::{Query, Request, Target};
use crate::source::{FetchedPage, PageRequest, PageSource, SourceError};

/// What one request of an entry sends, rendered from the scope.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Rendered {
    pub(crate) id: Option<String>,
    pub(crate) query: Map<String, Value>,
    pub(crate) body: Option<Value>,
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
                    patchbay_config::json_kind(&other)
                ));
            }
        };
        Ok(Rendered {
            id,
            query,
            body: self.body.as_ref().and_then(|b| b.render(scope)),
        })
    }

    /// Fetches the page at `cursor` for `account_id` from `source`. Cancelling `cancel`
    /// drops the call.
    pub(crate) async fn fetch(
        &self,
        source: &dyn PageSource,
        account_id: &str,
        rendered: Rendered,
        cursor: Option<String>,
        limit: Option<u64>,
        cancel: &CancellationToken,
    ) -> Result<FetchedPage, Fetch> {
        let mut request = PageRequest {
            id: rendered.id,
            query: rendered.query,
            body: rendered.body,
            cursor,
            limit,
        };
        let call = async {
            match &self.target {
                Target::Proxy { resource } => {
                    source
                        .proxy_page(account_id, resource, &self.method, request)
                        .await
                }
                Target::Unified { model, resource } => {
                    if let Some(format) = &self.response_format {
                        request
                            .query
                            .insert("truto_response_format".into(), format.clone().into());
                    }
                    source
                        .unified_page(account_id, model, resource, &self.method, request)
                        .await
                }
            }
        };
        tokio::select! {
            biased;
            () = cancel.cancelled() => Err(Fetch::Cancelled),
            result = call => result.map_err(Fetch::Failed),
        }
    }
}

/// Why a fetch returned no page.
#[derive(Debug)]
pub(crate) enum Fetch {
    /// The run was cancelled during the call.
    Cancelled,
    /// The source failed.
    Failed(SourceError),
}
