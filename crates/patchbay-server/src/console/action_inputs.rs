//! Step 9 of the integration form: `actions` as repeatable groups, one per
//! action and, within it, one per step, instead of one JSON text area.
//!
//! An action is one step (`{type, config}`) or `{steps: [...]}`
//! (`patchbay-config`'s `Action`); a hidden input remembers the first so a
//! one-step action is written back as it was. Each step has its type and the
//! inputs of that type: the JSONata expression of a `transform`, the HTTP
//! method and path of a `request`, the keys and values of a `set_context`
//! (name/value rows). Every other key of a step is in the step's own JSON
//! text area; an action the groups cannot hold exactly stays whole in the
//! field's JSON text area, "Other actions". So going from the raw JSON to the
//! inputs and back ([`split`], [`join`]) gives the same config.
//!
//! Inputs: `actions-{a}-name`, `actions-{a}-single`,
//! `actions-{a}-steps-{s}-type`, `-expression`, `-method`, `-path`,
//! `-context-{c}-name` / `-value` and `-more`. Rows left blank are ignored.

use serde_json::{Map, Value};

use super::nested::{
    MORE, group_named, indexes, is_blank, join_pairs, merge_missing, pair_input, parse_more, plain,
    put_more, segments, split_pairs, take_input, text, with_more,
};
use super::structured::{Inputs, Problem};

/// The field's key (and its JSON text area's name).
pub(super) const FIELD: &str = "actions";

/// The step types (`patchbay-config`'s `ActionStep`).
pub(super) const STEP_TYPES: &[&str] = &[
    "get_context",
    "transform",
    "update_context",
    "set_context",
    "request",
    "form",
];

/// The reserved action names (any other runs on demand).
pub(super) const ACTION_NAMES: [&str; 2] = ["post_install", "validation"];

/// The prefix of action `a`'s inputs.
pub(super) fn action_prefix(a: usize) -> String {
    format!("{FIELD}-{a}")
}

/// The prefix of the inputs of step `s` of action `a`.
pub(super) fn step_prefix(a: usize, s: usize) -> String {
    format!("{FIELD}-{a}-steps-{s}")
}

/// The hidden input saying action `a` was written as one step.
pub(super) fn single_input(a: usize) -> String {
    format!("{}-single", action_prefix(a))
}

/// The steps of `action`, and whether it is written as one step; `None`
/// when the groups cannot hold it.
fn steps_of(action: &Value) -> Option<(Vec<&Map<String, Value>>, bool)> {
    let action = action.as_object()?;
    match action.get("steps") {
        Some(Value::Array(steps)) if action.len() == 1 => {
            let steps: Option<Vec<_>> = steps.iter().map(Value::as_object).collect();
            Some((steps?, false))
        }
        Some(_) => None,
        None if action.is_empty() => None,
        None => Some((vec![action], true)),
    }
}

/// Spreads `actions` over the groups; answers their inputs and what no group
/// holds.
pub(super) fn split(value: &Value) -> (Inputs, Option<Value>) {
    let mut inputs = Inputs::new();
    let Some(actions) = value.as_object() else {
        return (inputs, Some(value.clone()));
    };
    let mut rest = Map::new();
    let mut a = 0;
    for (name, action) in actions {
        let Some((steps, single)) = steps_of(action).filter(|_| plain(name)) else {
            rest.insert(name.clone(), action.clone());
            continue;
        };
        inputs.insert(format!("{}-name", action_prefix(a)), name.clone());
        if single {
            inputs.insert(single_input(a), "true".to_owned());
        }
        for (s, step) in steps.into_iter().enumerate() {
            let prefix = step_prefix(a, s);
            let mut step = step.clone();
            split_step(&prefix, &mut step, &mut inputs);
            put_more(&prefix, &step, &mut inputs);
        }
        a += 1;
    }
    let rest = (!rest.is_empty() || actions.is_empty()).then_some(Value::Object(rest));
    (inputs, rest)
}

/// Moves the keys of `step` its inputs hold exactly into `inputs`.
fn split_step(prefix: &str, step: &mut Map<String, Value>, inputs: &mut Inputs) {
    let kind = match step.get("type") {
        Some(Value::String(kind)) if STEP_TYPES.contains(&kind.as_str()) => kind.clone(),
        _ => return,
    };
    step.shift_remove("type");
    inputs.insert(format!("{prefix}-type"), kind.clone());
    match (kind.as_str(), step.get_mut("config")) {
        ("transform", Some(Value::String(expression))) if plain(expression) => {
            inputs.insert(format!("{prefix}-expression"), expression.clone());
            step.shift_remove("config");
        }
        ("request", Some(Value::Object(config))) => {
            let mut took = false;
            for key in ["method", "path"] {
                took |= take_input(config, key, prefix, inputs);
            }
            if took && config.is_empty() {
                step.shift_remove("config");
            }
        }
        ("set_context", Some(Value::Object(config))) => {
            if let Some(rows) = split_pairs(&format!("{prefix}-context"), config) {
                inputs.extend(rows);
                step.shift_remove("config");
            }
        }
        _ => {}
    }
}

/// The step the inputs `prefix` make (empty when all are blank): only the
/// inputs of its type count.
fn join_step(inputs: &Inputs, prefix: &str, problems: &mut Vec<Problem>) -> Map<String, Value> {
    let mut step = Map::new();
    let more = parse_more(inputs, &format!("{prefix}-{MORE}"), problems);
    let kind = match text(inputs, &format!("{prefix}-type")).trim() {
        "" => more
            .as_ref()
            .and_then(|m| m.get("type"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        kind => {
            step.insert("type".to_owned(), Value::String(kind.to_owned()));
            kind.to_owned()
        }
    };
    let config = match kind.as_str() {
        "transform" => Some(text(inputs, &format!("{prefix}-expression")).trim())
            .filter(|e| !e.is_empty())
            .map(|e| Value::String(e.to_owned())),
        "request" => {
            let mut config = Map::new();
            for key in ["method", "path"] {
                let typed = text(inputs, &format!("{prefix}-{key}")).trim();
                if !typed.is_empty() {
                    config.insert(key.to_owned(), Value::String(typed.to_owned()));
                }
            }
            (!config.is_empty()).then_some(Value::Object(config))
        }
        "set_context" => {
            join_pairs(inputs, &format!("{prefix}-context"), problems).map(Value::Object)
        }
        _ => None,
    };
    if let Some(config) = config {
        step.insert("config".to_owned(), config);
    }
    if let Some(more) = more {
        merge_missing(&mut step, more);
    }
    step
}

/// The steps of action `a` (blank rows left out), with their row indexes.
fn join_steps(inputs: &Inputs, a: usize, problems: &mut Vec<Problem>) -> Vec<(usize, Value)> {
    indexes(inputs, &format!("{}-steps", action_prefix(a)))
        .into_iter()
        .filter_map(|s| {
            let step = join_step(inputs, &step_prefix(a, s), problems);
            (!step.is_empty()).then_some((s, Value::Object(step)))
        })
        .collect()
}

/// The `actions` the groups make with `more` (the field's JSON text area,
/// parsed); `None` when nothing was typed. Problems name their input.
pub(super) fn join(inputs: &Inputs, more: Option<Value>) -> Result<Option<Value>, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut actions = Map::new();
    let mut typed = false;
    for a in indexes(inputs, FIELD) {
        let prefix = action_prefix(a);
        let name_input = format!("{prefix}-name");
        let name = text(inputs, &name_input).trim();
        let mut steps: Vec<Value> = join_steps(inputs, a, &mut problems)
            .into_iter()
            .map(|(_, step)| step)
            .collect();
        if name.is_empty() {
            if !steps.is_empty() || !is_blank(inputs, &format!("{prefix}-steps")) {
                problems.push((name_input, "an action name is required".to_owned()));
            }
            continue;
        }
        if actions.contains_key(name) {
            problems.push((name_input, format!("`{name}` is already an action above")));
            continue;
        }
        let action = if text(inputs, &single_input(a)) == "true" && steps.len() == 1 {
            steps.remove(0)
        } else {
            let mut action = Map::new();
            action.insert("steps".to_owned(), Value::Array(steps));
            Value::Object(action)
        };
        actions.insert(name.to_owned(), action);
        typed = true;
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    with_more(FIELD, typed.then_some(actions), more)
}

/// The input a problem at `pointer` (inside `actions`) belongs to: the input
/// of that key in its action's and step's group, the step's JSON text area
/// for the keys without one, the field's for what no group holds.
pub(super) fn locate(inputs: &Inputs, pointer: &str) -> String {
    let segments = segments(pointer);
    let Some(a) = segments
        .first()
        .and_then(|name| group_named(inputs, FIELD, name))
    else {
        return FIELD.to_owned();
    };
    let name_input = format!("{}-name", action_prefix(a));
    if segments.len() == 1 {
        return name_input;
    }
    let steps = join_steps(inputs, a, &mut Vec::new());
    let single = text(inputs, &single_input(a)) == "true" && steps.len() == 1;
    // The step's index in the config, and the keys inside it.
    let (index, inside) = if single {
        (0, &segments[1..])
    } else if segments[1] == "steps" {
        match segments.get(2).and_then(|i| i.parse::<usize>().ok()) {
            Some(i) => (i, segments.get(3..).unwrap_or_default()),
            None => (0, &segments[3.min(segments.len())..]),
        }
    } else {
        return name_input;
    };
    let Some((s, step)) = steps.get(index) else {
        return name_input;
    };
    let prefix = step_prefix(a, *s);
    let more = format!("{prefix}-{MORE}");
    let held = |key: &str| {
        let input = format!("{prefix}-{key}");
        (!text(inputs, &input).trim().is_empty()).then_some(input)
    };
    let kind = step["type"].as_str().unwrap_or_default();
    let keys: Vec<&str> = inside.iter().map(String::as_str).collect();
    let found = match (kind, keys.as_slice()) {
        (_, [] | ["type", ..]) => held("type"),
        ("transform", ["config", ..]) => held("expression"),
        ("request", ["config", key @ ("method" | "path"), ..]) => held(key),
        ("request", ["config"]) => held("path"),
        ("set_context", ["config", key, ..]) => {
            pair_input(inputs, &format!("{prefix}-context"), key)
        }
        _ => None,
    };
    found.unwrap_or(more)
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

    /// Seed 002's Salesforce `post_install`, and a one-step validation.
    fn actions() -> Value {
        json!({
            "post_install": {"steps": [
                {"type": "get_context"},
                {"type": "transform", "config": "{ 'label': $substringBefore($substringAfter(instance_url, '//'), '.') }"},
                {"type": "update_context"}
            ]},
            "validation": {"type": "request", "config": {"path": "/users/me", "pagination": null}},
            "tag": {"steps": [{"type": "set_context", "config": {"region": "{{region}}"}}]}
        })
    }

    #[test]
    fn each_step_gets_the_inputs_of_its_type() {
        let (inputs, more) = round_trip(actions());
        assert!(more.is_none(), "{more:?}");
        assert_eq!(inputs["actions-0-name"], "post_install");
        assert!(!inputs.contains_key("actions-0-single"));
        assert_eq!(inputs["actions-0-steps-1-type"], "transform");
        assert!(inputs["actions-0-steps-1-expression"].starts_with("{ 'label'"));
        assert!(
            !inputs
                .keys()
                .any(|k| k.ends_with("-more") && k.starts_with("actions-0"))
        );
        assert_eq!(inputs["actions-1-single"], "true");
        assert_eq!(inputs["actions-1-steps-0-path"], "/users/me");
        let more: Value = serde_json::from_str(&inputs["actions-1-steps-0-more"]).unwrap();
        assert_eq!(more, json!({"config": {"pagination": null}}));
        assert_eq!(inputs["actions-2-steps-0-context-0-name"], "region");
    }

    #[test]
    fn what_the_groups_cannot_hold_exactly_stays_json() {
        let (inputs, more) = round_trip(json!({
            "odd": 5,
            "listed": {"steps": [1]},
            "extra": {"steps": [], "note": "x"},
            "empty": {},
            "none": {"steps": []},
            "custom": {"type": "unknown", "config": {"a": 1}},
            "spaced": {"type": "transform", "config": " $ "},
            "deep": {"type": "set_context", "config": {"n": 1}},
            "wide": {"type": "request", "config": {"method": "GET"}}
        }));
        assert_eq!(
            more,
            Some(
                json!({"odd": 5, "listed": {"steps": [1]}, "extra": {"steps": [], "note": "x"},
                        "empty": {}})
            )
        );
        assert_eq!(inputs["actions-0-name"], "none");
        round_trip(json!({}));
        round_trip(json!("x"));
    }

    fn typed(pairs: &[(&str, &str)]) -> Inputs {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn only_the_chosen_types_inputs_count_and_blank_rows_are_ignored() {
        let inputs = typed(&[
            ("actions-0-name", "post_install"),
            ("actions-0-steps-0-type", "get_context"),
            ("actions-0-steps-0-expression", "ignored: not a transform"),
            ("actions-0-steps-1-type", "transform"),
            ("actions-0-steps-1-expression", "{ 'label': subdomain }"),
            ("actions-0-steps-1-path", "ignored too"),
            ("actions-0-steps-2-type", ""),
            ("actions-0-steps-3-type", "update_context"),
            ("actions-1-name", ""),
            ("actions-1-steps-0-type", ""),
        ]);
        assert_eq!(
            join(&inputs, None).unwrap(),
            Some(json!({"post_install": {"steps": [
                {"type": "get_context"},
                {"type": "transform", "config": "{ 'label': subdomain }"},
                {"type": "update_context"}
            ]}}))
        );
        let inputs = typed(&[
            ("actions-0-steps-0-type", "get_context"),
            ("actions-1-name", "a"),
            ("actions-2-name", "a"),
            ("actions-3-name", "b"),
            ("actions-3-steps-0-more", "{"),
        ]);
        let names: Vec<String> = join(&inputs, None)
            .unwrap_err()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(
            names,
            ["actions-0-name", "actions-2-name", "actions-3-steps-0-more"]
        );
    }

    #[test]
    fn problems_land_on_the_input_of_their_key() {
        let (inputs, _) = split(&actions());
        let at = |pointer| locate(&inputs, pointer);
        assert_eq!(
            at("/post_install/steps/1/config"),
            "actions-0-steps-1-expression"
        );
        assert_eq!(at("/post_install/steps/0/type"), "actions-0-steps-0-type");
        assert_eq!(at("/post_install/steps/2"), "actions-0-steps-2-type");
        assert_eq!(at("/post_install/steps/2/config"), "actions-0-steps-2-more");
        assert_eq!(at("/post_install/steps/9"), "actions-0-name");
        assert_eq!(at("/post_install"), "actions-0-name");
        assert_eq!(at("/validation/config/path"), "actions-1-steps-0-path");
        assert_eq!(
            at("/validation/config/pagination"),
            "actions-1-steps-0-more"
        );
        assert_eq!(
            at("/tag/steps/0/config/region"),
            "actions-2-steps-0-context-0-value"
        );
        assert_eq!(at("/other"), FIELD);
        // The index is the config's: blank rows in between do not count.
        let inputs = typed(&[
            ("actions-0-name", "p"),
            ("actions-0-steps-0-type", ""),
            ("actions-0-steps-1-type", "form"),
        ]);
        assert_eq!(locate(&inputs, "/p/steps/0/type"), "actions-0-steps-1-type");
    }
}
