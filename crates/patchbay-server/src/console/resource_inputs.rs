//! Step 8 of the integration form: `resources` as repeatable groups, one per
//! resource and, within it, one per method, instead of one JSON text area.
//!
//! A method's HTTP method, path, response path and query parameters (as
//! name/value rows) have inputs; every other key of the method (body,
//! pagination, headers, ...) is in the method's own JSON text area, and a
//! resource the groups cannot hold exactly (not an object of objects, or a
//! name with surrounding spaces) stays whole in the field's JSON text area,
//! "Other resources". So going from the raw JSON to the inputs and back
//! ([`split`], [`join`]) gives the same config.
//!
//! Inputs: `resources-{r}-name`, `resources-{r}-methods-{m}-name`, `-method`,
//! `-path`, `-response_path`, `-query-{q}-name` / `-value` and `-more`. Rows
//! left blank are ignored.

use serde_json::{Map, Value};

use super::nested::{
    MORE, group_named, indexes, is_blank, join_pairs, pair_input, parse_more, plain, put_more,
    segments, split_pairs, take_input, text, with_more,
};
use super::structured::{Inputs, Problem};

/// The field's key (and its JSON text area's name).
pub(super) const FIELD: &str = "resources";

/// The HTTP methods a method can use (`patchbay-config`'s `HttpMethod`).
pub(super) const HTTP_METHODS: &[&str] =
    &["get", "post", "put", "patch", "delete", "head", "options"];

/// The method names of the proxy API's verbs (any other is a custom method).
pub(super) const METHOD_NAMES: [&str; 5] = ["list", "get", "create", "update", "delete"];

/// The keys of a method with a single input: (key, label).
pub(super) const METHOD_KEYS: [(&str, &str); 3] = [
    ("method", "HTTP method"),
    ("path", "Path"),
    ("response_path", "Response path"),
];

/// The prefix of resource `r`'s inputs.
pub(super) fn resource_prefix(r: usize) -> String {
    format!("{FIELD}-{r}")
}

/// The prefix of the inputs of method `m` of resource `r`.
pub(super) fn method_prefix(r: usize, m: usize) -> String {
    format!("{FIELD}-{r}-methods-{m}")
}

/// Spreads `resources` over the groups; answers their inputs and what no
/// group holds.
pub(super) fn split(value: &Value) -> (Inputs, Option<Value>) {
    let mut inputs = Inputs::new();
    let Some(resources) = value.as_object() else {
        return (inputs, Some(value.clone()));
    };
    let mut rest = Map::new();
    let mut r = 0;
    for (name, resource) in resources {
        let methods = resource
            .as_object()
            .filter(|m| plain(name) && m.iter().all(|(k, v)| plain(k) && v.is_object()));
        let Some(methods) = methods else {
            rest.insert(name.clone(), resource.clone());
            continue;
        };
        inputs.insert(format!("{}-name", resource_prefix(r)), name.clone());
        for (m, (method_name, method)) in methods.iter().enumerate() {
            let prefix = method_prefix(r, m);
            inputs.insert(format!("{prefix}-name"), method_name.clone());
            let mut method = method.as_object().cloned().unwrap_or_default();
            split_method(&prefix, &mut method, &mut inputs);
            put_more(&prefix, &method, &mut inputs);
        }
        r += 1;
    }
    let rest = (!rest.is_empty() || resources.is_empty()).then_some(Value::Object(rest));
    (inputs, rest)
}

/// Moves the keys of `method` its inputs hold exactly into `inputs`.
fn split_method(prefix: &str, method: &mut Map<String, Value>, inputs: &mut Inputs) {
    for (key, _) in METHOD_KEYS {
        take_input(method, key, prefix, inputs);
    }
    let rows = method
        .get("query")
        .and_then(Value::as_object)
        .and_then(|query| split_pairs(&format!("{prefix}-query"), query));
    if let Some(rows) = rows {
        method.shift_remove("query");
        inputs.extend(rows);
    }
}

/// The method the inputs `prefix` make (empty when all are blank).
fn join_method(inputs: &Inputs, prefix: &str, problems: &mut Vec<Problem>) -> Map<String, Value> {
    let mut method = Map::new();
    for (key, _) in METHOD_KEYS {
        let typed = text(inputs, &format!("{prefix}-{key}")).trim();
        if !typed.is_empty() {
            method.insert(key.to_owned(), Value::String(typed.to_owned()));
        }
        if key == "path"
            && let Some(query) = join_pairs(inputs, &format!("{prefix}-query"), problems)
        {
            method.insert("query".to_owned(), Value::Object(query));
        }
    }
    if let Some(more) = parse_more(inputs, &format!("{prefix}-{MORE}"), problems) {
        super::nested::merge_missing(&mut method, more);
    }
    method
}

/// The `resources` the groups make with `more` (the field's JSON text area,
/// parsed); `None` when nothing was typed. Problems name their input.
pub(super) fn join(inputs: &Inputs, more: Option<Value>) -> Result<Option<Value>, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut resources = Map::new();
    let mut typed = false;
    for r in indexes(inputs, FIELD) {
        let prefix = resource_prefix(r);
        let name_input = format!("{prefix}-name");
        let name = text(inputs, &name_input).trim();
        let mut methods = Map::new();
        for m in indexes(inputs, &format!("{prefix}-methods")) {
            let method_prefix = method_prefix(r, m);
            let method_input = format!("{method_prefix}-name");
            let method_name = text(inputs, &method_input).trim();
            let method = join_method(inputs, &method_prefix, &mut problems);
            if method_name.is_empty() {
                if !method.is_empty() || !is_blank(inputs, &method_prefix) {
                    problems.push((method_input, "a method name is required".to_owned()));
                }
            } else if methods.contains_key(method_name) {
                problems.push((
                    method_input,
                    format!("`{method_name}` is already a method of this resource"),
                ));
            } else {
                methods.insert(method_name.to_owned(), Value::Object(method));
            }
        }
        if name.is_empty() {
            if !is_blank(inputs, &prefix) {
                problems.push((name_input, "a resource name is required".to_owned()));
            }
        } else if resources.contains_key(name) {
            problems.push((name_input, format!("`{name}` is already a resource above")));
        } else {
            resources.insert(name.to_owned(), Value::Object(methods));
            typed = true;
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    with_more(FIELD, typed.then_some(resources), more)
}

/// Whether the JSON text area `name` holds the key `key`.
fn more_has(inputs: &Inputs, name: &str, key: &str) -> bool {
    serde_json::from_str::<Value>(text(inputs, name))
        .ok()
        .is_some_and(|v| v.get(key).is_some())
}

/// The input a problem at `pointer` (inside `resources`) belongs to: the
/// input of that key in its resource's and method's group, the group's JSON
/// text area for the keys without one, the field's for what no group holds.
pub(super) fn locate(inputs: &Inputs, pointer: &str) -> String {
    let segments = segments(pointer);
    let Some(r) = segments
        .first()
        .and_then(|name| group_named(inputs, FIELD, name))
    else {
        return FIELD.to_owned();
    };
    let prefix = resource_prefix(r);
    let Some(method) = segments.get(1) else {
        return format!("{prefix}-name");
    };
    let Some(m) = group_named(inputs, &format!("{prefix}-methods"), method) else {
        return format!("{prefix}-name");
    };
    let prefix = method_prefix(r, m);
    let more = format!("{prefix}-{MORE}");
    match segments.get(2).map(String::as_str) {
        None => format!("{prefix}-name"),
        Some("query") => segments
            .get(3)
            .and_then(|q| pair_input(inputs, &format!("{prefix}-query"), q))
            .unwrap_or(more),
        Some(key) if METHOD_KEYS.iter().any(|(k, _)| *k == key) => {
            let input = format!("{prefix}-{key}");
            if text(inputs, &input).trim().is_empty() && more_has(inputs, &more, key) {
                more
            } else {
                input
            }
        }
        Some(_) => more,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(value: Value) -> (Inputs, Option<Value>) {
        let (inputs, more) = split(&value);
        let joined = join(&inputs, more.clone()).unwrap();
        assert_eq!(joined, Some(value), "{inputs:?} {more:?}");
        (inputs, more)
    }

    /// Seed 002's Salesforce `accounts`.
    fn accounts() -> Value {
        json!({"accounts": {
            "list": {"path": "/services/data/v57.0/query", "query": {"q": "SELECT Id, Name FROM Account"},
                     "response_path": "records"},
            "get": {"path": "/services/data/v57.0/sobjects/Account/{{id}}", "pagination": null},
            "create": {"method": "post", "path": "/services/data/v57.0/sobjects/Account",
                       "body": {"$truto_merge": "{{body:json}}"}, "pagination": null},
            "update": {"method": "patch", "path": "/services/data/v57.0/sobjects/Account/{{id}}",
                       "body": {"$truto_merge": "{{body:json}}"}, "pagination": null}
        }})
    }

    #[test]
    fn each_method_gets_its_inputs_and_the_rest_stays_json() {
        let (inputs, more) = round_trip(accounts());
        assert!(more.is_none(), "{more:?}");
        assert_eq!(inputs["resources-0-name"], "accounts");
        assert_eq!(inputs["resources-0-methods-0-name"], "list");
        assert_eq!(
            inputs["resources-0-methods-0-path"],
            "/services/data/v57.0/query"
        );
        assert_eq!(inputs["resources-0-methods-0-response_path"], "records");
        assert_eq!(inputs["resources-0-methods-0-query-0-name"], "q");
        assert!(!inputs.contains_key("resources-0-methods-0-more"));
        assert_eq!(inputs["resources-0-methods-2-method"], "post");
        let more: Value = serde_json::from_str(&inputs["resources-0-methods-2-more"]).unwrap();
        assert_eq!(
            more,
            json!({"body": {"$truto_merge": "{{body:json}}"}, "pagination": null})
        );
    }

    #[test]
    fn what_the_groups_cannot_hold_exactly_stays_json() {
        // A resource that is not an object of objects, a name with spaces,
        // values of another type, an unknown HTTP method, an empty query.
        let (inputs, more) = round_trip(json!({
            "odd": {"list": 5},
            " spaced": {"list": {"path": "/x"}},
            "users": {"list": {"path": " /users", "method": "GET", "query": {"n": 1},
                               "response_path": 7},
                      "get": {"path": "/u", "query": {}}},
            "empty": {}
        }));
        assert_eq!(
            more,
            Some(json!({"odd": {"list": 5}, " spaced": {"list": {"path": "/x"}}}))
        );
        assert_eq!(inputs["resources-0-name"], "users");
        assert!(!inputs.contains_key("resources-0-methods-0-path"));
        assert_eq!(inputs["resources-1-name"], "empty");
        round_trip(json!({}));
        round_trip(json!([1]));
    }

    fn typed(pairs: &[(&str, &str)]) -> Inputs {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn blank_groups_are_ignored_and_half_typed_ones_reported() {
        let inputs = typed(&[
            ("resources-0-name", "tickets"),
            ("resources-0-methods-0-name", "list"),
            ("resources-0-methods-0-path", "/tickets"),
            ("resources-0-methods-0-query-0-name", ""),
            ("resources-0-methods-0-query-0-value", ""),
            ("resources-0-methods-1-name", ""),
            ("resources-0-methods-1-method", ""),
            ("resources-1-name", ""),
            ("resources-1-methods-0-name", ""),
        ]);
        assert_eq!(
            join(&inputs, None).unwrap(),
            Some(json!({"tickets": {"list": {"path": "/tickets"}}}))
        );
        assert_eq!(join(&Inputs::new(), None).unwrap(), None);

        let inputs = typed(&[
            ("resources-0-name", "tickets"),
            ("resources-0-methods-0-name", "list"),
            ("resources-0-methods-1-name", "list"),
            ("resources-0-methods-2-path", "/orphan"),
            ("resources-0-methods-3-name", "get"),
            ("resources-0-methods-3-more", "[1]"),
            ("resources-1-methods-0-name", "list"),
            ("resources-2-name", "tickets"),
        ]);
        let mut names: Vec<String> = join(&inputs, None)
            .unwrap_err()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "resources-0-methods-1-name",
                "resources-0-methods-2-name",
                "resources-0-methods-3-more",
                "resources-1-name",
                "resources-2-name"
            ]
        );
    }

    #[test]
    fn groups_and_the_json_area_merge() {
        let inputs = typed(&[
            ("resources-0-name", "a"),
            ("resources-0-methods-0-name", "list"),
            ("resources-0-methods-0-path", "/a"),
        ]);
        let joined = join(
            &inputs,
            Some(json!({"a": {"get": {"path": "/a/{{id}}"}}, "b": {}})),
        );
        assert_eq!(
            joined.unwrap(),
            Some(json!({"a": {"list": {"path": "/a"}, "get": {"path": "/a/{{id}}"}}, "b": {}}))
        );
        assert!(join(&inputs, Some(json!([]))).is_err());
    }

    #[test]
    fn problems_land_on_the_input_of_their_key() {
        let (inputs, _) = split(&accounts());
        let at = |pointer| locate(&inputs, pointer);
        assert_eq!(at("/accounts/list/path"), "resources-0-methods-0-path");
        assert_eq!(
            at("/accounts/create/method"),
            "resources-0-methods-2-method"
        );
        assert_eq!(
            at("/accounts/list/response_path"),
            "resources-0-methods-0-response_path"
        );
        assert_eq!(
            at("/accounts/list/query/q"),
            "resources-0-methods-0-query-0-value"
        );
        assert_eq!(at("/accounts/create/body"), "resources-0-methods-2-more");
        assert_eq!(
            at("/accounts/get/response_path"),
            "resources-0-methods-1-response_path"
        );
        assert_eq!(at("/accounts/list"), "resources-0-methods-0-name");
        assert_eq!(at("/accounts/nope"), "resources-0-name");
        assert_eq!(at("/accounts"), "resources-0-name");
        assert_eq!(at("/other/list/path"), FIELD);
        assert_eq!(at(""), FIELD);
        // A key typed in the method's JSON area is reported there.
        let inputs = typed(&[
            ("resources-0-name", "a"),
            ("resources-0-methods-0-name", "list"),
            ("resources-0-methods-0-more", r#"{"method": "GETT"}"#),
        ]);
        assert_eq!(
            locate(&inputs, "/a/list/method"),
            "resources-0-methods-0-more"
        );
        assert_eq!(
            locate(&inputs, "/a/list/path"),
            "resources-0-methods-0-path"
        );
    }
}
