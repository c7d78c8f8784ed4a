//! The events a call queues: their type, their owner and their payload.

use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::error::ApiResult;
use crate::state::AppState;

/// The event type a transformed event is queued as: `record:<action>`.
///
/// `<action>` is the event's `event` field, or else its `event_type` field,
/// when that is a string (a leading `record:` is dropped, so `record:created`
/// and `created` are the same); lower-cased, every character other than
/// ASCII letters, digits and `_` replaced by `_` (so outbound webhooks can
/// subscribe to it exactly: `customer.created` → `record:customer_created`),
/// at most 64 characters. Truto's own actions are `created`, `updated` and
/// `deleted`. An event without such a field is `record:received`.
pub fn record_event_type(event: &Map<String, Value>) -> String {
    let name = ["event", "event_type"]
        .iter()
        .find_map(|key| event.get(*key).and_then(Value::as_str))
        .map(|name| name.trim())
        .map(|name| name.strip_prefix("record:").unwrap_or(name))
        .unwrap_or_default();
    let action: String = name
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if action.is_empty() {
        "record:received".to_owned()
    } else {
        format!("record:{action}")
    }
}

/// Where the events of a call belong.
#[derive(Debug, Clone, PartialEq)]
pub struct EventOwner {
    /// The install.
    pub environment_integration_id: String,
    /// The account and its tenant, `None` for an install-level event.
    pub account: Option<(String, String)>,
}

/// The queued payload of `event`: the event's own fields plus
/// `environment_integration_id` and, for an account, `integrated_account_id`
/// and `tenant_id`. These keys are set by the server and replace any the
/// event carries, so a provider payload cannot claim another account.
pub fn event_payload(mut event: Map<String, Value>, owner: &EventOwner) -> Value {
    event.insert(
        "environment_integration_id".into(),
        Value::String(owner.environment_integration_id.clone()),
    );
    if let Some((account_id, tenant_id)) = &owner.account {
        event.insert(
            "integrated_account_id".into(),
            Value::String(account_id.clone()),
        );
        event.insert("tenant_id".into(), Value::String(tenant_id.clone()));
    }
    Value::Object(event)
}

/// Queues `events` for `owner` in `env` and answers `{ok, events}`.
pub(super) async fn queue(
    state: &AppState,
    env: &str,
    events: Vec<Value>,
    owner: &EventOwner,
) -> ApiResult<Response> {
    let count = events.len();
    for event in events {
        let Value::Object(event) = event else {
            continue; // the handler returns objects only
        };
        let event_type = record_event_type(&event);
        state
            .store
            .enqueue_event(env, &event_type, &event_payload(event, owner))
            .await?;
    }
    Ok(axum::Json(json!({"ok": true, "events": count})).into_response())
}

/// The answer to a verified call that queues nothing (its install-level
/// lookup found no account): `{"ok": true, "events": 0}`.
pub(super) fn nothing_queued() -> Response {
    axum::Json(json!({"ok": true, "events": 0})).into_response()
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value, json};

    use super::{EventOwner, event_payload, record_event_type};

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn event_types_are_record_actions() {
        for (event, expected) in [
            (
                json!({"event": "created", "resource": "contacts"}),
                "record:created",
            ),
            (json!({"event": "record:updated"}), "record:updated"),
            (
                json!({"event_type": "customer.created"}),
                "record:customer_created",
            ),
            (
                json!({"event": {"type": "message"}, "event_type": "Deleted"}),
                "record:deleted",
            ),
            (json!({"raw": 1}), "record:received"),
            (json!({"event": "  "}), "record:received"),
        ] {
            assert_eq!(record_event_type(&map(event)), expected);
        }
    }

    #[test]
    fn payload_fields_come_from_the_server() {
        let owner = EventOwner {
            environment_integration_id: "ei".into(),
            account: Some(("acc".into(), "t1".into())),
        };
        let payload = event_payload(
            map(json!({"event": "created", "tenant_id": "evil"})),
            &owner,
        );
        assert_eq!(
            payload,
            json!({"event": "created", "tenant_id": "t1", "environment_integration_id": "ei", "integrated_account_id": "acc"})
        );
    }
}
