//! `$truto_merge`: the npm package `deepmerge` 4.3 as `@truto/replace-placeholders` calls
//! it, on JSON values.
//!
//! deepmerge copies every object it touches into a new plain object by assignment, and it
//! skips a source key that a plain object already has through its prototype (its guard
//! against prototype pollution). On JSON data that means:
//!
//! * a source key named like an `Object.prototype` member ([`OBJECT_PROTOTYPE_NAMES`]:
//!   `constructor`, `toString`, `__proto__`, …) is dropped, unless the target object has
//!   that key itself;
//! * every object deepmerge copies (the target's objects as well as the source's, at any
//!   depth, array items included) loses those keys the same way, since each copy starts
//!   from an empty object;
//! * `__proto__` never survives: assigning it sets the copy's prototype instead of a key;
//! * where the target value is not an object (a string, a number, `null`), the source
//!   object is copied key by key without the check (`key in 5` throws, which deepmerge
//!   reads as "not there"), so prototype names stay at that level.
//!
//! Two arrays concatenate; an array and a non-array give a copy of the source; any other
//! source value replaces the target's.

use serde_json::{Map, Value};

use crate::expression::extensions::js::OBJECT_PROTOTYPE_NAMES;

fn is_prototype_name(key: &str) -> bool {
    OBJECT_PROTOTYPE_NAMES.contains(&key)
}

/// `deepmerge(target, source)`.
pub(crate) fn deepmerge(target: &Value, source: &Value) -> Value {
    match (target, source) {
        (Value::Array(target), Value::Array(source)) => {
            Value::Array(target.iter().chain(source).map(copy).collect())
        }
        (Value::Array(_), _) | (_, Value::Array(_)) => copy(source),
        (_, Value::Object(source)) => Value::Object(merge_object(target, source)),
        // deepmerge is only called with a source object here; a scalar source would be
        // copied as it is.
        _ => source.clone(),
    }
}

/// deepmerge's `cloneUnlessOtherwiseSpecified`: objects and arrays are rebuilt (and so
/// lose prototype-named keys), everything else is kept.
fn copy(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(merge_object(&Value::Array(Vec::new()), map)),
        Value::Array(items) => Value::Array(items.iter().map(copy).collect()),
        other => other.clone(),
    }
}

/// deepmerge's `mergeObject`. `target` may be any value: only an object contributes keys
/// (an array stands for "an empty object" when [`copy`] calls this).
fn merge_object(target: &Value, source: &Map<String, Value>) -> Map<String, Value> {
    let mut destination = Map::new();
    let empty = Map::new();
    let (own, is_object) = match target {
        Value::Object(map) => (map, true),
        // `copy`: an empty plain object.
        Value::Array(_) => (&empty, true),
        // `key in 5` throws: nothing is on the target.
        _ => (&empty, false),
    };
    for (key, value) in own {
        if key != "__proto__" {
            destination.insert(key.clone(), copy(value));
        }
    }
    for (key, value) in source {
        let on_target = is_object && (own.contains_key(key) || is_prototype_name(key));
        // Inherited, not own: deepmerge skips it.
        if on_target && !own.contains_key(key) {
            continue;
        }
        if key == "__proto__" {
            continue;
        }
        let merged = match own.get(key) {
            Some(existing) if matches!(value, Value::Object(_) | Value::Array(_)) => {
                deepmerge(existing, value)
            }
            _ => copy(value),
        };
        destination.insert(key.clone(), merged);
    }
    destination
}

/// Removes every `__proto__` key at any depth (what copying an object by assignment in
/// JavaScript does to them).
pub(crate) fn drop_proto_keys(value: &mut Value) {
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        match value {
            Value::Object(map) => {
                map.shift_remove("__proto__");
                stack.extend(map.values_mut());
            }
            Value::Array(items) => stack.extend(items.iter_mut()),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // Expected values from deepmerge 4.3.1 under node 20, with the inputs built by
    // `JSON.parse` (so `__proto__` is an own key).
    #[test]
    fn prototype_names_are_dropped_unless_the_target_has_them() {
        assert_eq!(
            deepmerge(
                &json!({"a": 1}),
                &json!({"constructor": 2, "toString": 3, "__proto__": 4, "k": 5})
            ),
            json!({"a": 1, "k": 5})
        );
        assert_eq!(
            deepmerge(&json!({"constructor": 1}), &json!({"constructor": 2})),
            json!({"constructor": 2})
        );
        assert_eq!(
            deepmerge(
                &json!({"arr": [{"valueOf": 1, "x": 1}]}),
                &json!({"arr": [{"toString": 2}]})
            ),
            json!({"arr": [{"x": 1}, {}]})
        );
        assert_eq!(
            deepmerge(&json!({"a": 5}), &json!({"a": {"constructor": 1}})),
            json!({"a": {"constructor": 1}})
        );
    }
}
