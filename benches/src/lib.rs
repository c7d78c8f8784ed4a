//! Shared fixtures of the Patchbay benchmarks: a local paginated API server.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

/// How the local API pages its records.
#[derive(Debug, Clone, Copy)]
pub struct Dataset {
    /// Records in all.
    pub records: u64,
    /// Records per page.
    pub page_size: u64,
}

#[derive(serde::Deserialize)]
struct PageQuery {
    cursor: Option<u64>,
}

/// Record `i` of the synthetic datasets: `{id, name, email, active}`.
pub fn record(i: u64) -> Value {
    json!({"id": i, "name": format!("Record {i}"), "email": format!("user{i}@example.com"), "active": !i.is_multiple_of(3)})
}

/// One page, generated on the fly: `{"data": [...], "next": "<n>"|null}`.
async fn items(
    State(dataset): State<Dataset>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer bench-key") {
        return (
            axum::http::StatusCode::UNAUTHORIZED,
            axum::Json(json!({"message": "bad token"})),
        )
            .into_response();
    }
    let page = q.cursor.unwrap_or(0);
    let start = page * dataset.page_size;
    let end = (start + dataset.page_size).min(dataset.records);
    let data: Vec<Value> = (start..end).map(record).collect();
    let next = if end < dataset.records {
        Value::String((page + 1).to_string())
    } else {
        Value::Null
    };
    axum::Json(json!({"data": data, "next": next})).into_response()
}

/// Starts the API on 127.0.0.1 (port chosen by the OS) on the current tokio
/// runtime and returns its address.
pub async fn start_api(dataset: Dataset) -> SocketAddr {
    let app = Router::new()
        .route("/items", get(items))
        .with_state(dataset);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// The Truto-format config of the local API.
pub fn config(base_url: &str) -> Value {
    json!({
        "base_url": base_url,
        "credentials": {"format": "api_key", "config": {"fields": [{"name": "api_key", "type": "password"}]}},
        "authorization": {"format": "bearer", "config": {"token": "{{api_key}}"}},
        "pagination": {"format": "cursor", "config": {"cursor_path": "next", "cursor_key": "cursor"}},
        "error_expression": "status >= 400 ? body.message",
        "resources": {"items": {
            "list": {"path": "/items", "response_path": "data"},
            "first": {"path": "/items", "response_path": "data", "pagination": null}
        }}
    })
}

/// User + system CPU time of this whole process so far (`/proc/self/stat`, Linux), in
/// clock ticks of 10 ms: read it around many iterations, never around one.
pub fn process_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat (Linux)");
    stat_cpu(&stat).expect("utime and stime in /proc/self/stat")
}

/// The user + system CPU time (`utime` + `stime`, fields 14 and 15 of proc(5)) in the
/// text of a `/proc/<pid>[/task/<tid>]/stat` file; `None` when it is not one.
pub fn stat_cpu(stat: &str) -> Option<Duration> {
    // Counted from the state (field 3), after the `(comm)` that may hold spaces.
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10)) // USER_HZ = 100 on Linux
}

/// Resets this process's peak resident set size (`VmHWM`) to its current size (Linux
/// `/proc/self/clear_refs`, value 5), so [`peak_rss_kib`] measures from now on; `false`
/// when the kernel refuses.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// A `kB` line of `/proc/self/status` (`VmHWM`: the peak resident set size since the start
/// or the last [`reset_peak_rss`]; `VmRSS`: the current one), in KiB.
pub fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        rest.trim().trim_end_matches("kB").trim().parse().ok()
    })
}

/// The peak resident set size since the last [`reset_peak_rss`], in KiB.
pub fn peak_rss_kib() -> Option<u64> {
    status_kib("VmHWM")
}
