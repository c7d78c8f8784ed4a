//! The data placeholders and expressions of a run see.
//!
//! At the top level: the account's context keys, `integrated_account_id`, `tenant_id`,
//! `args`, `previous_run_date`, `sync_job_run` (`id`, `started_at`) and `sync_job`
//! (`id`). Under `resources`, the current record of every ancestor entry, at its
//! resource path (`resources.ticketing.tickets`, `resources.tickets`) and at its name.

use chrono::{DateTime, SecondsFormat, Utc};
use patchbay_config::IntegratedAccount;
use serde_json::{Map, Value, json};

use crate::store::RunState;

/// `previous_run_date` of a full sync (a first run, or `ignore_previous_run`): the Unix
/// epoch, so `updated_at > previous_run_date` selects every record.
pub const FULL_SYNC_DATE: &str = "1970-01-01T00:00:00.000Z";

/// How dates are written in the scope: RFC 3339 in UTC with milliseconds, as Truto
/// writes them (`2024-01-01T00:00:00.000Z`).
pub(crate) fn iso(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The scope of a run's top-level entries.
pub(crate) fn base_scope(account: &IntegratedAccount, state: &RunState) -> Value {
    let mut scope = account_scope(account, &state.args);
    let previous = state
        .previous_run_date
        .map_or_else(|| FULL_SYNC_DATE.to_owned(), iso);
    scope.insert("previous_run_date".into(), previous.into());
    scope.insert(
        "sync_job_run".into(),
        json!({"id": state.run_id, "started_at": iso(state.started_at)}),
    );
    scope.insert("sync_job".into(), json!({"id": state.sync_job_id}));
    scope.insert("resources".into(), Value::Object(Map::new()));
    Value::Object(scope)
}

/// The scope of a run that is not started yet (its `mutex_key` rendered when it is
/// created): the account's context keys, `integrated_account_id`, `tenant_id`, `args`
/// and `sync_job` (`id`).
pub(crate) fn created_scope(
    account: &IntegratedAccount,
    job_id: &str,
    args: &Map<String, Value>,
) -> Value {
    let mut scope = account_scope(account, args);
    scope.insert("sync_job".into(), json!({"id": job_id}));
    Value::Object(scope)
}

/// The account's context keys, `integrated_account_id`, `tenant_id` and `args`.
fn account_scope(account: &IntegratedAccount, args: &Map<String, Value>) -> Map<String, Value> {
    let mut scope: Map<String, Value> = account.context.clone();
    scope.insert("integrated_account_id".into(), account.id.clone().into());
    scope.insert("tenant_id".into(), account.tenant_id.clone().into());
    scope.insert("args".into(), Value::Object(args.clone()));
    scope
}

/// `scope` with `value` at `path` (objects created on the way; a non-object on the way
/// is replaced).
pub(crate) fn with_at(scope: &Value, path: &[String], value: Value) -> Value {
    let mut scope = scope.clone();
    set_at(&mut scope, path, value);
    scope
}

/// `scope` with `record` as the current record of an entry, at each of its `keys`
/// under `resources`.
pub(crate) fn with_record(scope: &Value, keys: &[Vec<String>], record: &Value) -> Value {
    let mut scope = scope.clone();
    for key in keys {
        let mut path = Vec::with_capacity(key.len() + 1);
        path.push("resources".to_owned());
        path.extend(key.iter().cloned());
        set_at(&mut scope, &path, record.clone());
    }
    scope
}

fn set_at(target: &mut Value, path: &[String], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        *target = value;
        return;
    };
    let mut at = target;
    for key in parents {
        if !at.is_object() {
            *at = Value::Object(Map::new());
        }
        at = at
            .as_object_mut()
            .expect("made an object above")
            .entry(key.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    if !at.is_object() {
        *at = Value::Object(Map::new());
    }
    at.as_object_mut()
        .expect("made an object above")
        .insert(last.clone(), value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_land_at_their_resource_paths() {
        let scope = json!({"args": {"ids": [1, 2]}, "resources": {}});
        let keys = vec![
            vec!["ticketing".to_owned(), "tickets".to_owned()],
            vec!["t".to_owned()],
        ];
        let scope = with_record(&scope, &keys, &json!({"id": 7}));
        assert_eq!(scope["resources"]["ticketing"]["tickets"]["id"], 7);
        assert_eq!(scope["resources"]["t"]["id"], 7);
        let scope = with_at(&scope, &["args".into(), "ids".into()], json!(2));
        assert_eq!(scope["args"]["ids"], 2);
        assert_eq!(iso(DateTime::UNIX_EPOCH), FULL_SYNC_DATE);
    }
}
