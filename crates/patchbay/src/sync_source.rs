//! [`PageSource`] for [`Patchbay`]: sync job runs fetch proxy pages with
//! [`Patchbay::list_page`] and unified pages with [`Patchbay::unified`], and read accounts
//! from the facade's [`AccountStore`](crate::AccountStore).

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use patchbay_config::IntegratedAccount;
use patchbay_executor::{CallInput, ExecutorError, ListOptions};
use patchbay_ratelimit::{GiveUp, parse_retry_after};
use patchbay_sync::{FetchedPage, PageRequest, PageSource, SourceError};
use patchbay_unified::UnifiedRequest;
use serde_json::Value;

use crate::error::{Error, ErrorKind};
use crate::facade::Patchbay;
use crate::unified_calls::UnifiedBody;

#[async_trait]
impl PageSource for Patchbay {
    async fn account(&self, account_id: &str) -> Result<Option<IntegratedAccount>, SourceError> {
        self.accounts()
            .get(account_id)
            .await
            .map_err(|e| SourceError::Other(Box::new(Error::Store(e))))
    }

    async fn proxy_page(
        &self,
        account_id: &str,
        resource: &str,
        method: &str,
        request: PageRequest,
    ) -> Result<FetchedPage, SourceError> {
        let input = CallInput {
            id: request.id,
            query: request.query,
            body: request.body,
            ..CallInput::default()
        };
        let options = ListOptions {
            limit: request.limit,
            cursor: request.cursor,
            cancel: None,
        };
        let page = self
            .list_page(account_id, resource, method, &input, options)
            .await
            .map_err(source_error)?;
        Ok(FetchedPage {
            records: page.records,
            next_cursor: page.next_cursor,
        })
    }

    async fn unified_page(
        &self,
        account_id: &str,
        model: &str,
        resource: &str,
        method: &str,
        request: PageRequest,
    ) -> Result<FetchedPage, SourceError> {
        let mut query = request.query;
        if let Some(cursor) = request.cursor {
            query.insert("next_cursor".into(), cursor.into());
        }
        if let Some(limit) = request.limit {
            query.entry("limit").or_insert(limit.into());
        }
        let request = UnifiedRequest {
            id: request.id,
            query,
            body: request.body,
            ..UnifiedRequest::default()
        };
        let answer = self
            .unified(account_id, model, resource, method, request)
            .await
            .map_err(source_error)?;
        Ok(match answer.body {
            UnifiedBody::List(list) => FetchedPage {
                records: match list.result {
                    Value::Array(records) => records,
                    Value::Object(keyed) => keyed.into_iter().map(|(_, v)| v).collect(),
                    Value::Null => Vec::new(),
                    other => vec![other],
                },
                next_cursor: list.next_cursor,
            },
            UnifiedBody::Item(item) => FetchedPage {
                records: vec![item],
                next_cursor: None,
            },
        })
    }
}

/// The sync classification of a facade error, by its [`ErrorKind`].
fn source_error(error: Error) -> SourceError {
    match error.kind() {
        ErrorKind::RateLimited => SourceError::RateLimited {
            retry_after: rate_limit_wait(&error),
            error: Box::new(error),
        },
        ErrorKind::Auth => SourceError::Auth(Box::new(error)),
        ErrorKind::NotFound => SourceError::NotFound(Box::new(error)),
        ErrorKind::Config => SourceError::Config(Box::new(error)),
        ErrorKind::Provider | ErrorKind::Caller | ErrorKind::Transport => {
            SourceError::Request(Box::new(error))
        }
        _ => SourceError::Other(Box::new(error)),
    }
}

/// How long to wait before trying a rate-limited request again: the wait the provider
/// asked for (beyond what the facade's retry policy waits by itself), the account's
/// pause, or the answer's `Retry-After`; `None` when none of them says.
fn rate_limit_wait(error: &Error) -> Option<Duration> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facade_errors_keep_what_a_run_does_about_them() {
        let paused = source_error(Error::Executor(ExecutorError::AccountPaused {
            required: Duration::from_secs(9),
            max: Duration::from_secs(1),
        }));
        assert!(
            matches!(paused, SourceError::RateLimited { retry_after: Some(wait), .. } if wait == Duration::from_secs(9)),
            "{paused:?}"
        );
        let in_flight = source_error(Error::Executor(ExecutorError::TooManyInFlight {
            limit: 1,
            waited: Duration::from_secs(1),
        }));
        assert!(
            matches!(
                in_flight,
                SourceError::RateLimited {
                    retry_after: None,
                    ..
                }
            ),
            "{in_flight:?}"
        );
        let cases = [
            (Error::UnknownAccount("acct-1".into()), "NotFound"),
            (Error::Executor(ExecutorError::Config("x".into())), "Config"),
            (Error::Executor(ExecutorError::Body("x".into())), "Request"),
            (Error::SandboxWrite("acct-1".into()), "Request"),
            (Error::Executor(ExecutorError::Cancelled), "Other"),
        ];
        for (error, variant) in cases {
            let message = error.to_string();
            let mapped = source_error(error);
            assert!(
                format!("{mapped:?}").starts_with(variant),
                "{message}: {mapped:?}"
            );
            assert_eq!(mapped.to_string(), message, "the message is the facade's");
        }
    }
}
