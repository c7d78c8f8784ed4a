//! Finding the account an install-level webhook is for
//! (`context_lookup_field_name` / `context_lookup_field_value`).

use axum::http::StatusCode;
use patchbay::config::IntegratedAccount;
use patchbay::template::expression::{Bindings, Expression};
use patchbay::webhook::{InboundRequest, request_input};
use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{AccountFilter, PageRequest};

/// Accounts read per page while routing an install-level webhook.
pub const LOOKUP_PAGE_SIZE: u32 = 500;

/// Evaluates `context_lookup_field_value` (JSONata over the request, with
/// `$context` = the host variables); `None` when it yields nothing.
pub(super) fn lookup_value(
    expression: &Expression,
    request: &InboundRequest,
    context: &Value,
) -> ApiResult<Option<Value>> {
    let value = expression
        .evaluate(
            &request_input(request),
            &Bindings::new().with("context", context.clone()),
        )
        .map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("`context_lookup_field_value` failed: {e}"),
            )
        })?;
    Ok(value.filter(|v| !v.is_null()))
}

/// The oldest account of `install_id` whose context at `field_name` (dotted
/// path) equals `wanted`, reading [`LOOKUP_PAGE_SIZE`] accounts at a time.
pub(super) async fn find_account(
    state: &AppState,
    env: &str,
    install_id: &str,
    field_name: &str,
    wanted: &Value,
) -> ApiResult<Option<IntegratedAccount>> {
    let filter = AccountFilter {
        environment_integration_id: Some(install_id.to_owned()),
        ..Default::default()
    };
    let mut page = PageRequest {
        limit: Some(LOOKUP_PAGE_SIZE),
        cursor: None,
    };
    loop {
        let accounts = state.store.list_accounts(env, &filter, &page).await?;
        if let Some(account) = accounts.result.into_iter().find(|account| {
            context_field(&account.context, field_name).is_some_and(|v| same_value(v, wanted))
        }) {
            return Ok(Some(account));
        }
        match accounts.next_cursor {
            Some(cursor) => page.cursor = Some(cursor),
            None => return Ok(None),
        }
    }
}

/// The context value at `path` (`team.id` walks into `team`).
fn context_field<'a>(context: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    if let Some(value) = context.get(path) {
        return Some(value);
    }
    let mut parts = path.split('.');
    let mut value = context.get(parts.next()?)?;
    for part in parts {
        value = value.get(part)?;
    }
    Some(value)
}

/// Equal JSON, or a string and a number with the same text.
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(s), Value::Number(n)) | (Value::Number(n), Value::String(s)) => {
            *s == n.to_string()
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value, json};

    use super::{context_field, same_value};

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn context_lookup_walks_paths_and_compares_text() {
        let context = map(json!({"team": {"id": 42}, "a.b": "flat"}));
        assert_eq!(context_field(&context, "team.id"), Some(&json!(42)));
        assert_eq!(context_field(&context, "a.b"), Some(&json!("flat")));
        assert_eq!(context_field(&context, "team.nope"), None);
        assert!(same_value(&json!(42), &json!("42")));
        assert!(!same_value(&json!(true), &json!("true")));
    }
}
