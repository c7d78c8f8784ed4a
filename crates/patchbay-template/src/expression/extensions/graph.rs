//! Record-set helpers: `$sortNodes` (a parent/child list in tree order) and
//! `$zipSqlResponse` (column names zipped onto row arrays).

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::collections::{cast_path, get_path, to_array};
use super::js::{is_truthy, to_js_string};
use super::lodash::{SortBy, sort_by};
use super::{Args, ExtensionError, Outcome};

/// The most members `$sortNodes` visits or returns (the engine's sequence limit).
const MAX_ITEMS: usize = 1_000_000;

/// A JavaScript `Map` key as `SameValueZero` compares it. A container is identified by
/// where it sits (the node and the path to it), standing in for object identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum NodeKey {
    Undefined,
    Null,
    Bool(bool),
    Number(u64),
    Text(String),
    Container(usize, Vec<String>),
}

/// lodash `get(node, path)` as a map key; `node_index` identifies containers.
fn key_at(node: &Value, path: &Value, node_index: usize) -> (NodeKey, bool) {
    let segments = match path {
        Value::Object(_) => None,
        other => cast_path(other, Some(node)),
    };
    let found = segments
        .as_ref()
        .filter(|segments| !segments.is_empty())
        .and_then(|segments| get_path(node, segments));
    let truthy = is_truthy(found.as_ref());
    let key = match found {
        None => NodeKey::Undefined,
        Some(Value::Null) => NodeKey::Null,
        Some(Value::Bool(flag)) => NodeKey::Bool(flag),
        Some(Value::Number(number)) => {
            // SameValueZero: -0 and 0 are one key.
            let number = number.as_f64().unwrap_or(f64::NAN);
            let number = if number == 0.0 { 0.0 } else { number };
            NodeKey::Number(number.to_bits())
        }
        Some(Value::String(text)) => NodeKey::Text(text),
        Some(Value::Array(_) | Value::Object(_)) => {
            NodeKey::Container(node_index, segments.unwrap_or_default())
        }
    };
    (key, truthy)
}

/// `{...node, children: []}`: an object's copy, an array's or a text's members under index
/// keys, `{}` for anything else.
fn spread(node: &Value) -> Map<String, Value> {
    match node {
        Value::Object(map) => map.clone(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(index, item)| (index.to_string(), item.clone()))
            .collect(),
        Value::String(text) => text
            .chars()
            .enumerate()
            .map(|(index, c)| (index.to_string(), Value::String(c.to_string())))
            .collect(),
        _ => Map::new(),
    }
}

/// `$sortNodes(array, idKey = "id", parentIdKey = "parent_id", sequenceKey = "sequence")`:
/// the members of a parent/child list in depth-first tree order, siblings sorted by
/// `sequenceKey` (lodash `sortBy`, stable). A member whose parent id is falsy or names no
/// member is a root. Members sharing an id are represented by the last of them, wherever
/// any of them appears; members in a parent cycle unreachable from a root are left out,
/// and a cycle reachable from a root fails (JavaScript overflows its stack there). The
/// results are copies of the members (objects; arrays and texts become index-keyed
/// objects, other values `{}`) without a `children` key.
pub(crate) fn sort_nodes(args: &Args<'_>) -> Outcome {
    let Some(Value::Array(nodes)) = args.get(0) else {
        return Err(args.failed("array.forEach is not a function"));
    };
    let default = |index: usize, name: &str| -> Value {
        args.get(index)
            .cloned()
            .unwrap_or_else(|| Value::String(name.to_owned()))
    };
    let id_key = default(1, "id");
    let parent_key = default(2, "parent_id");
    let sequence_key = if args.is_function(3) {
        SortBy::Function
    } else {
        SortBy::Keys(
            args.get(3)
                .cloned()
                .unwrap_or_else(|| Value::String("sequence".to_owned())),
        )
    };

    // The copies, one per id (the last member with it wins), in first-seen order.
    let mut copy_of: HashMap<NodeKey, usize> = HashMap::new();
    let mut copies: Vec<Map<String, Value>> = Vec::new();
    let mut ids = Vec::with_capacity(nodes.len());
    for (index, node) in nodes.iter().enumerate() {
        let (id, _) = key_at(node, &id_key, index);
        let copy = spread(node);
        match copy_of.get(&id) {
            Some(&slot) => copies[slot] = copy,
            None => {
                copy_of.insert(id.clone(), copies.len());
                copies.push(copy);
            }
        }
        ids.push(id);
    }
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); copies.len()];
    let mut roots = Vec::new();
    for (index, node) in nodes.iter().enumerate() {
        let (parent, truthy) = key_at(node, &parent_key, index);
        let own = copy_of.get(&ids[index]).copied().unwrap_or_default();
        match copy_of.get(&parent) {
            Some(&parent) if truthy => children[parent].push(own),
            _ => roots.push(own),
        }
    }

    // The objects the sort keys are read from, as the package sees them mid-sort.
    let with_children: Vec<Value> = copies
        .iter()
        .map(|copy| {
            let mut copy = copy.clone();
            copy.insert("children".to_owned(), Value::Array(Vec::new()));
            Value::Object(copy)
        })
        .collect();
    let sort = |list: &[usize]| -> Result<Vec<usize>, ExtensionError> {
        let values: Vec<Option<Value>> = list
            .iter()
            .map(|&copy| Some(with_children[copy].clone()))
            .collect();
        let order = sort_by(args, &values, &sequence_key)?;
        Ok(order.into_iter().map(|position| list[position]).collect())
    };
    let mut sorted_children: Vec<Option<Vec<usize>>> = vec![None; copies.len()];
    let roots = sort(&roots)?;

    // Depth-first, pre-order; `on_path` catches cycles.
    let mut result = Vec::new();
    let mut on_path = vec![false; copies.len()];
    let mut stack: Vec<(Vec<usize>, usize, Option<usize>)> = vec![(roots, 0, None)];
    while let Some((list, next, owner)) = stack.last_mut() {
        let Some(&copy) = list.get(*next) else {
            if let Some(owner) = *owner {
                on_path[owner] = false;
            }
            stack.pop();
            continue;
        };
        *next += 1;
        if result.len() >= MAX_ITEMS {
            return Err(args.failed(format!(
                "the result would have more than {MAX_ITEMS} members"
            )));
        }
        if on_path[copy] {
            return Err(args.failed("Maximum call stack size exceeded"));
        }
        let mut plain = copies[copy].clone();
        plain.shift_remove("children");
        result.push(Some(Value::Object(plain)));
        if children[copy].is_empty() {
            continue;
        }
        let ordered = match &sorted_children[copy] {
            Some(ordered) => ordered.clone(),
            None => {
                let ordered = sort(&children[copy])?;
                sorted_children[copy] = Some(ordered.clone());
                ordered
            }
        };
        on_path[copy] = true;
        stack.push((ordered, 0, Some(copy)));
    }
    Ok(Some(to_array(result)))
}

/// A property name as JavaScript makes one from a value (`String(value)`; objects give
/// `[object Object]`, `undefined` gives `undefined`).
fn property_name(value: Option<&Value>) -> String {
    match value {
        None => "undefined".to_owned(),
        Some(Value::Object(_)) => "[object Object]".to_owned(),
        Some(other) => to_js_string(other).unwrap_or_else(|| "[object Object]".to_owned()),
    }
}

/// `value[key]` for a row or column value; `None` for `undefined`. `null` fails, as
/// reading a property of `null` does in JavaScript.
fn member(
    args: &Args<'_>,
    value: Option<&Value>,
    key: &str,
) -> Result<Option<Value>, ExtensionError> {
    match value {
        None | Some(Value::Null) => Err(args.failed(format!(
            "Cannot read properties of {} (reading '{key}')",
            if value.is_none() { "undefined" } else { "null" }
        ))),
        Some(value) => {
            Ok(super::collections::property(value, key).map(std::borrow::Cow::into_owned))
        }
    }
}

/// `$zipSqlResponse(columns, rows, key)`: one object per row, mapping each column's name
/// (the column's `key` property) to the row's value at that column's position. Missing
/// row values are left out. `columns` and `rows` must be arrays.
pub(crate) fn zip_sql_response(args: &Args<'_>) -> Outcome {
    let Some(Value::Array(columns)) = args.get(0) else {
        return Err(args.failed("columns.map is not a function"));
    };
    let key = property_name(args.get(2));
    let names = columns
        .iter()
        .map(|column| Ok(property_name(member(args, Some(column), &key)?.as_ref())))
        .collect::<Result<Vec<String>, ExtensionError>>()?;
    let Some(Value::Array(rows)) = args.get(1) else {
        return Err(args.failed("data.map is not a function"));
    };
    let mut result = Vec::with_capacity(rows.len());
    for row in rows {
        let mut object = Map::new();
        for (index, name) in names.iter().enumerate() {
            match member(args, Some(row), &index.to_string())? {
                Some(value) => {
                    object.insert(name.clone(), value);
                }
                None => {
                    object.shift_remove(name);
                }
            }
        }
        result.push(Some(Value::Object(object)));
    }
    Ok(Some(to_array(result)))
}
