//! `GET /log`: the environment's request logs (see [`crate::request_logs`]), newest first.

use axum::Json;
use axum::extract::{RawQuery, State};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::auth::Env;
use crate::error::{ApiError, ApiResult};
use crate::query::QueryParams;
use crate::routes::responses::{AuthedErrors, ListErrors};
use crate::state::AppState;
use crate::store::{LogQuery, LogType, PageRequest, RequestLog};

/// The most logs one page holds (Truto's limit).
pub const MAX_LOG_PAGE: u32 = 100;

/// The widest time window one query may span (Truto's: a month).
const MAX_WINDOW_DAYS: i64 = 31;

/// The `log_type_filter[...]` keys each kind accepts.
fn filters_of(log_type: LogType) -> &'static [&'static str] {
    match log_type {
        LogType::UnifiedProxyApi => &[
            "request_type",
            "integrated_account_id",
            "integration",
            "environment_id",
        ],
        LogType::Webhook => &["webhook_id", "environment_id"],
    }
}

/// One request log.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = RequestLog)]
pub struct LogView {
    /// The log's id.
    #[serde(rename = "_id")]
    pub id: String,
    /// When the logged request started (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub timestamp: DateTime<Utc>,
    /// `unified_proxy_api` or `webhook`.
    pub log_type: String,
    /// What was logged. `unified_proxy_api`: `environment_id`, `integrated_account_id`,
    /// `integration`, `resource`, `method`, `request_type` (`proxy`, `unified`, `mcp`),
    /// `http_method`, `http_url` (without its query), `http_status_code`, `duration` and
    /// `fetch_duration` (milliseconds), `attempts` (`http_status_code`, `duration`,
    /// `retry_reason`) and `message` (why it failed). `webhook`: `webhook_id`, `event`,
    /// `event_id`, `delivery_id`, `attempt`, `http_url` (query values masked),
    /// `webhook_endpoint_status`, `webhook_successful`, `duration`, `message`. Empty fields
    /// are left out.
    #[schema(value_type = Object)]
    pub metadata: Value,
}

impl From<RequestLog> for LogView {
    fn from(log: RequestLog) -> Self {
        Self {
            id: log.id,
            timestamp: log.created_at,
            log_type: log.log_type,
            metadata: log.metadata,
        }
    }
}

/// One page of request logs, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = RequestLogPage)]
pub struct LogPage {
    /// The logs.
    pub result: Vec<LogView>,
    /// Pass it back as `next_cursor` for the next (older) page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// `GET /log?log_type=...` → `{result, next_cursor}`.
#[utoipa::path(
    get,
    path = "/log",
    operation_id = "list_logs",
    summary = "List request logs",
    description = "The environment's request logs of one `log_type`, newest first: \
        `unified_proxy_api` (one per upstream call of a proxy, unified or action request, \
        each page of a list apart, with every attempt and the reason of each retry) or \
        `webhook`. `created_at[gt]` / `created_at[lt]` (RFC 3339) bound the time: with \
        `created_at[gt]`, `created_at[lt]` is required and at most 31 days later. \
        `log_type_filter[KEY]=VALUE` keeps the logs whose KEY equals VALUE; \
        `unified_proxy_api` takes `request_type`, `integrated_account_id`, `integration`; \
        `webhook` takes `webhook_id`. `limit` is 1 to 100 (default 100). URLs are logged \
        without their query and no header or body is kept.",
    tag = "logs",
    params(
        ("log_type" = String, Query, description = "`unified_proxy_api` or `webhook`."),
        ("created_at[gt]" = Option<String>, Query, description = "Only logs after this time (RFC 3339)."),
        ("created_at[lt]" = Option<String>, Query, description = "Only logs before this time (RFC 3339); required with `created_at[gt]`."),
        ("log_type_filter" = Option<Object>, Query, style = DeepObject, explode, description = "`log_type_filter[KEY]=VALUE` filters."),
        ("limit" = Option<u32>, Query, description = "At most this many logs (1 to 100, default 100)."),
        ("next_cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page."),
    ),
    responses(
        (status = 200, description = "One page of logs, newest first.", body = LogPage),
        ListErrors,
        AuthedErrors,
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    Env(env): Env,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<LogPage>> {
    let params = QueryParams::parse(raw.as_deref())?;
    let (query, page) = log_query(&params, &env)?;
    let page = state.store.list_request_logs(&env, &query, &page).await?;
    Ok(Json(LogPage {
        result: page.result.into_iter().map(LogView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

fn time_param(params: &QueryParams, key: &str) -> ApiResult<Option<DateTime<Utc>>> {
    params
        .get(key)
        .filter(|v| !v.is_empty())
        .map(|text| {
            DateTime::parse_from_rfc3339(text)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| {
                    ApiError::bad_request(format!(
                        "the query parameter `{key}` must be an RFC 3339 time such as \
                         2026-01-31T12:00:00Z, not `{text}`: {e}"
                    ))
                })
        })
        .transpose()
}

/// The store query of `GET /log`'s parameters, checked.
fn log_query(params: &QueryParams, environment_id: &str) -> ApiResult<(LogQuery, PageRequest)> {
    let name = params.required("log_type")?;
    let log_type = LogType::parse(name).ok_or_else(|| {
        let known: Vec<&str> = LogType::ALL.iter().map(|t| t.as_str()).collect();
        ApiError::bad_request(format!(
            "the query parameter `log_type` must be one of {}, not `{name}`",
            known.join(", ")
        ))
    })?;
    let mut query = LogQuery::new(log_type);
    query.created_after = time_param(params, "created_at[gt]")?;
    query.created_before = time_param(params, "created_at[lt]")?;
    if let Some(after) = query.created_after {
        let Some(before) = query.created_before else {
            return Err(ApiError::bad_request(
                "`created_at[lt]` is required with `created_at[gt]`",
            ));
        };
        if before - after > Duration::days(MAX_WINDOW_DAYS) {
            return Err(ApiError::bad_request(format!(
                "`created_at[gt]` and `created_at[lt]` may be at most {MAX_WINDOW_DAYS} days apart"
            )));
        }
    }
    let allowed = filters_of(log_type);
    for (key, value) in params.without(&[]) {
        let Some(filter) = key
            .strip_prefix("log_type_filter[")
            .and_then(|k| k.strip_suffix(']'))
        else {
            continue;
        };
        if !allowed.contains(&filter) {
            return Err(ApiError::bad_request(format!(
                "`log_type_filter[{filter}]` is not a filter of `{}` logs; use one of: {}",
                log_type.as_str(),
                allowed.join(", ")
            )));
        }
        let value = Some(value.to_owned());
        match filter {
            "request_type" => query.request_type = value,
            "integrated_account_id" => query.integrated_account_id = value,
            "integration" => query.integration = value,
            "webhook_id" => query.webhook_id = value,
            // The token's environment is the only one it can read.
            "environment_id" if value.as_deref() != Some(environment_id) => {
                return Err(ApiError::bad_request(
                    "`log_type_filter[environment_id]` must be the token's own environment",
                ));
            }
            _ => {}
        }
    }
    let mut page = params.page()?;
    match page.limit {
        Some(limit) if limit > MAX_LOG_PAGE => {
            return Err(ApiError::bad_request(format!(
                "the query parameter `limit` must be a number from 1 to {MAX_LOG_PAGE} for logs, not `{limit}`"
            )));
        }
        None => page.limit = Some(MAX_LOG_PAGE),
        Some(_) => {}
    }
    Ok((query, page))
}
