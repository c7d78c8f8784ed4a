//! `$dependencyGraph(array, parentKey, key)` and the methods of its result: npm
//! `dependency-graph` 1.0.0's `DepGraph`, as truto-jsonata builds and wraps it.
//!
//! Each member of `array` is a node, identified by its value at `key`; a member whose value
//! at `parentKey` names another member (looked up by text, as lodash `keyBy` keys are)
//! depends on that member. The package returns an object of functions; the expression
//! calls them as methods:
//!
//! ```text
//! ($g := $dependencyGraph(records, "parent_id", "id"); $g.overallOrder())
//! ```
//!
//! Host functions return JSON, so the graph here is a JSON object (`nodes`,
//! `outgoingEdges`, `incomingEdges`; see [`Graph::to_json`]) and the methods are host
//! functions that take the graph as their first argument. The backends put it there: for
//! jsonata-core the compiled expression gets `$` (the context, which is the graph in
//! `$g.overallOrder()`) inserted as the first argument of calls named like a method; for
//! jsonata-rs the graph object carries the methods as function-valued fields, which receive
//! their context.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::collections::{cast_path, get_path};
use super::js::is_truthy;
use super::{Args, ExtensionError, Outcome};

/// The most nodes a graph may have (the engine's sequence limit).
const MAX_NODES: usize = 1_000_000;

/// A node's identity: its value at `key`, `None` for `undefined`. Primitives compare as
/// JavaScript's `SameValueZero` does; objects and arrays by value (JavaScript: by
/// identity).
type NodeKey = Option<Value>;

fn same_key(left: &NodeKey, right: &NodeKey) -> bool {
    match (left, right) {
        (Some(Value::Number(a)), Some(Value::Number(b))) => a.as_f64() == b.as_f64(),
        _ => left == right,
    }
}

/// `String(value)` as JavaScript prints node keys in messages and `keyBy` keys.
fn key_text(key: &NodeKey) -> String {
    match key {
        None => "undefined".to_owned(),
        Some(Value::Object(_)) => "[object Object]".to_owned(),
        Some(value) => super::js::to_js_string(value).unwrap_or_default(),
    }
}

/// A node key as `Array.prototype.join` prints it (`null`/`undefined` as empty text).
fn joined_text(key: &NodeKey) -> String {
    match key {
        None | Some(Value::Null) => String::new(),
        other => key_text(other),
    }
}

/// The graph: nodes in insertion order, each with its data and its edges (indices).
#[derive(Debug, Default)]
struct Graph {
    keys: Vec<NodeKey>,
    data: Vec<Value>,
    outgoing: Vec<Vec<usize>>,
    incoming: Vec<Vec<usize>>,
    /// [`hash_key`] → index into `keys`.
    index: HashMap<String, usize>,
}

/// A text that is equal for two keys exactly when [`same_key`] says they are equal.
fn hash_key(key: &NodeKey) -> String {
    match key {
        None => "u".to_owned(),
        Some(Value::Number(number)) => {
            let number = number.as_f64().unwrap_or(f64::NAN);
            let number = if number == 0.0 { 0.0 } else { number };
            format!("n{}", number.to_bits())
        }
        Some(value) => format!("v{value}"),
    }
}

impl Graph {
    fn index_of(&self, key: &NodeKey) -> Option<usize> {
        self.index
            .get(&hash_key(key))
            .copied()
            .filter(|&index| same_key(&self.keys[index], key))
    }

    fn add_node(&mut self, key: NodeKey, data: Value) -> usize {
        if let Some(index) = self.index_of(&key) {
            return index;
        }
        self.index.insert(hash_key(&key), self.keys.len());
        self.keys.push(key);
        self.data.push(data);
        self.outgoing.push(Vec::new());
        self.incoming.push(Vec::new());
        self.keys.len() - 1
    }

    fn add_dependency(&mut self, from: usize, to: usize) {
        if !self.outgoing[from].contains(&to) {
            self.outgoing[from].push(to);
        }
        if !self.incoming[to].contains(&from) {
            self.incoming[to].push(from);
        }
    }

    /// The JSON form: `{"nodes": [[[key] or [], data], …], "outgoingEdges": [[index, …], …],
    /// "incomingEdges": […]}`.
    fn to_json(&self) -> Value {
        let nodes = self
            .keys
            .iter()
            .zip(&self.data)
            .map(|(key, data)| {
                let key = Value::Array(key.iter().cloned().collect());
                Value::Array(vec![key, data.clone()])
            })
            .collect();
        let edges = |lists: &[Vec<usize>]| {
            Value::Array(
                lists
                    .iter()
                    .map(|list| {
                        Value::Array(list.iter().map(|&index| Value::from(index)).collect())
                    })
                    .collect(),
            )
        };
        let mut object = Map::new();
        object.insert("nodes".to_owned(), Value::Array(nodes));
        object.insert("outgoingEdges".to_owned(), edges(&self.outgoing));
        object.insert("incomingEdges".to_owned(), edges(&self.incoming));
        Value::Object(object)
    }

    /// Reads [`Graph::to_json`]'s form back; `None` for anything else.
    fn from_json(value: &Value) -> Option<Self> {
        let Value::Object(object) = value else {
            return None;
        };
        let Value::Array(nodes) = object.get("nodes")? else {
            return None;
        };
        let mut graph = Graph::default();
        for node in nodes {
            let Value::Array(pair) = node else {
                return None;
            };
            let [Value::Array(key), data] = pair.as_slice() else {
                return None;
            };
            if key.len() > 1 {
                return None;
            }
            let key = key.first().cloned();
            graph
                .index
                .entry(hash_key(&key))
                .or_insert(graph.keys.len());
            graph.keys.push(key);
            graph.data.push(data.clone());
        }
        let edges = |name: &str| -> Option<Vec<Vec<usize>>> {
            let Value::Array(lists) = object.get(name)? else {
                return None;
            };
            if lists.len() != graph.keys.len() {
                return None;
            }
            lists
                .iter()
                .map(|list| {
                    let Value::Array(list) = list else {
                        return None;
                    };
                    list.iter()
                        .map(|index| {
                            index
                                .as_u64()
                                .and_then(|index| usize::try_from(index).ok())
                                .filter(|index| *index < graph.keys.len())
                        })
                        .collect()
                })
                .collect()
        };
        let outgoing = edges("outgoingEdges")?;
        let incoming = edges("incomingEdges")?;
        graph.outgoing = outgoing;
        graph.incoming = incoming;
        Some(graph)
    }

    /// `createDFS`: a depth-first walk from `start` along `edges` that appends each node
    /// after the nodes it leads to (only leaves when `leaves_only`), skipping `visited`
    /// ones, and fails on a cycle with its path.
    fn walk(
        &self,
        edges: &[Vec<usize>],
        start: usize,
        leaves_only: bool,
        visited: &mut [bool],
        on_path: &mut [bool],
        result: &mut Vec<usize>,
    ) -> Result<(), String> {
        if visited[start] {
            return Ok(());
        }
        let mut path: Vec<usize> = Vec::new();
        // (node, processed)
        let mut todo: Vec<(usize, bool)> = vec![(start, false)];
        while let Some(&(node, processed)) = todo.last() {
            if processed {
                todo.pop();
                path.pop();
                on_path[node] = false;
                visited[node] = true;
                if !leaves_only || edges[node].is_empty() {
                    result.push(node);
                }
                continue;
            }
            if visited[node] {
                todo.pop();
                continue;
            }
            if on_path[node] {
                path.push(node);
                let names: Vec<String> = path
                    .iter()
                    .map(|&index| joined_text(&self.keys[index]))
                    .collect();
                return Err(format!("Dependency Cycle Found: {}", names.join(" -> ")));
            }
            on_path[node] = true;
            path.push(node);
            let top = todo.len() - 1;
            todo[top].1 = true;
            for &next in edges[node].iter().rev() {
                todo.push((next, false));
            }
        }
        Ok(())
    }

    /// `overallOrder(leavesOnly)`: every node after the nodes it depends on; fails on a
    /// cycle.
    fn overall_order(&self, leaves_only: bool) -> Result<Vec<usize>, String> {
        let mut on_path = vec![false; self.keys.len()];
        let mut visited = vec![false; self.keys.len()];
        let mut ignored = Vec::new();
        for start in 0..self.keys.len() {
            self.walk(
                &self.outgoing,
                start,
                false,
                &mut visited,
                &mut on_path,
                &mut ignored,
            )?;
        }
        let mut visited = vec![false; self.keys.len()];
        let mut result = Vec::new();
        for start in 0..self.keys.len() {
            if self.incoming[start].is_empty() {
                self.walk(
                    &self.outgoing,
                    start,
                    leaves_only,
                    &mut visited,
                    &mut on_path,
                    &mut result,
                )?;
            }
        }
        Ok(result)
    }

    /// `dependenciesOf(node)` (`outgoing`) or `dependantsOf(node)` (`incoming`).
    fn reachable(&self, edges: &[Vec<usize>], start: usize) -> Result<Vec<usize>, String> {
        let mut visited = vec![false; self.keys.len()];
        let mut on_path = vec![false; self.keys.len()];
        let mut result = Vec::new();
        self.walk(edges, start, false, &mut visited, &mut on_path, &mut result)?;
        result.retain(|&index| index != start);
        Ok(result)
    }
}

/// lodash `get(item, path)`; `path` `undefined` reads the key `"undefined"`.
fn get(item: &Value, path: Option<&Value>) -> NodeKey {
    let segments = match path {
        None => Some(vec!["undefined".to_owned()]),
        Some(Value::Object(_)) => None,
        Some(path) => cast_path(path, Some(item)),
    }?;
    if segments.is_empty() {
        return None;
    }
    get_path(item, &segments)
}

/// `$dependencyGraph(array, parentKey, key)`: the graph of the members of `array` (see the
/// module notes). Its methods: `overallOrder(leavesOnly)`, `dependenciesOf(node)`,
/// `dependantsOf(node)`, `hasNode(node)`, `getNodeData(node)`, `clone()`.
pub(crate) fn dependency_graph(args: &Args<'_>) -> Outcome {
    let Some(Value::Array(items)) = args.get(0) else {
        return Err(args.failed("array.forEach is not a function"));
    };
    if items.len() > MAX_NODES {
        return Err(args.failed(format!("more than {MAX_NODES} nodes")));
    }
    let parent_key = args.get(1);
    let key = args.get(2);
    // lodash `keyBy(array, item => get(item, key))`: the last member for each key text.
    let mut keyed: HashMap<String, usize> = HashMap::new();
    for (index, item) in items.iter().enumerate() {
        keyed.insert(key_text(&get(item, key)), index);
    }
    let mut graph = Graph::default();
    for item in items {
        let parent = get(item, parent_key);
        let value = get(item, key);
        let own = graph.add_node(value, item.clone());
        let parent_item = keyed
            .get(&key_text(&parent))
            .map(|&index| &items[index])
            .filter(|parent_item| is_truthy(Some(parent_item)));
        if let Some(parent_item) = parent_item {
            let parent = graph.add_node(parent, parent_item.clone());
            graph.add_dependency(own, parent);
        }
    }
    Ok(Some(graph.to_json()))
}

/// The graph a method was called on (its first argument).
fn receiver(args: &Args<'_>) -> Result<Graph, ExtensionError> {
    args.get(0)
        .and_then(Graph::from_json)
        .ok_or_else(|| args.failed("is a method of a $dependencyGraph result"))
}

/// The node named by method argument `index` (`None` = `undefined`).
fn node(args: &Args<'_>, graph: &Graph, index: usize) -> Result<usize, ExtensionError> {
    let key: NodeKey = args.get(index).cloned();
    graph
        .index_of(&key)
        .ok_or_else(|| args.failed(format!("Node does not exist: {}", key_text(&key))))
}

fn keys_of(graph: &Graph, nodes: &[usize]) -> Value {
    Value::Array(
        nodes
            .iter()
            .map(|&index| graph.keys[index].clone().unwrap_or(Value::Null))
            .collect(),
    )
}

/// `g.overallOrder(leavesOnly)`: the node keys, each after those it depends on (only the
/// nodes without dependencies when `leavesOnly` is truthy). Fails on a cycle with
/// "Dependency Cycle Found: a -> b -> a".
pub(crate) fn overall_order(args: &Args<'_>) -> Outcome {
    let graph = receiver(args)?;
    let order = graph
        .overall_order(is_truthy(args.get(1)))
        .map_err(|message| args.failed(message))?;
    Ok(Some(keys_of(&graph, &order)))
}

/// `g.dependenciesOf(node)`: the keys of every node `node` depends on, directly or not,
/// deepest first. Fails for an unknown node and on a cycle.
pub(crate) fn dependencies_of(args: &Args<'_>) -> Outcome {
    let graph = receiver(args)?;
    let start = node(args, &graph, 1)?;
    let found = graph
        .reachable(&graph.outgoing, start)
        .map_err(|message| args.failed(message))?;
    Ok(Some(keys_of(&graph, &found)))
}

/// `g.dependantsOf(node)`: the keys of every node that depends on `node`.
pub(crate) fn dependants_of(args: &Args<'_>) -> Outcome {
    let graph = receiver(args)?;
    let start = node(args, &graph, 1)?;
    let found = graph
        .reachable(&graph.incoming, start)
        .map_err(|message| args.failed(message))?;
    Ok(Some(keys_of(&graph, &found)))
}

/// `g.hasNode(node)`.
pub(crate) fn has_node(args: &Args<'_>) -> Outcome {
    let graph = receiver(args)?;
    let key: NodeKey = args.get(1).cloned();
    Ok(Some(Value::Bool(graph.index_of(&key).is_some())))
}

/// `g.getNodeData(node)`: the member of `array` the node stands for.
pub(crate) fn get_node_data(args: &Args<'_>) -> Outcome {
    let graph = receiver(args)?;
    let index = node(args, &graph, 1)?;
    Ok(Some(graph.data[index].clone()))
}

/// `g.clone()`: the same graph.
pub(crate) fn clone(args: &Args<'_>) -> Outcome {
    Ok(Some(receiver(args)?.to_json()))
}

/// Whether `value` is a graph object, so that jsonata-rs can give it its methods.
#[cfg_attr(not(feature = "jsonata-rs"), allow(dead_code))]
pub(crate) fn is_graph(value: &Value) -> bool {
    matches!(value, Value::Object(object)
        if object.len() == 3
            && ["nodes", "outgoingEdges", "incomingEdges"]
                .iter()
                .all(|name| matches!(object.get(*name), Some(Value::Array(_)))))
}
