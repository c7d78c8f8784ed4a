//! What the binary logs and traces, and where it goes.
//!
//! * **Logs** go to stderr, as text (default) or one JSON object per line
//!   (`PATCHBAY_LOG_FORMAT=json`), filtered by `RUST_LOG` (default `info`).
//! * **Spans**: every API request runs in a span `http.request` (method, route template,
//!   status, duration) that ends with one `request` event; every upstream attempt runs in
//!   the engine's `patchbay.attempt` span (attempt number, method, URL without its query,
//!   status, verdict, retry reason and wait) inside it.
//! * **Trace export**: with `OTEL_EXPORTER_OTLP_ENDPOINT` set (e.g.
//!   `http://otel-collector:4318`), spans are exported over OTLP/HTTP (protobuf, to
//!   `{endpoint}/v1/traces`) in batches, as service `OTEL_SERVICE_NAME` (default
//!   `patchbay-server`); the standard `OTEL_EXPORTER_OTLP_*` variables (headers, timeout)
//!   apply. [`Telemetry::shutdown`] exports what is left before the process exits.
//!
//! No span or event holds a secret: routes are templates, URLs lose their query, and
//! tokens, bodies and headers are never recorded.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Instrument as _;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable text (colours only on a terminal).
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

impl LogFormat {
    /// `PATCHBAY_LOG_FORMAT` (`text` or `json`; unset: text).
    ///
    /// # Errors
    ///
    /// A message naming the variable for any other value.
    pub fn from_env() -> Result<Self, String> {
        match std::env::var("PATCHBAY_LOG_FORMAT") {
            Err(_) => Ok(Self::Text),
            Ok(text) => match text.trim().to_ascii_lowercase().as_str() {
                "" | "text" => Ok(Self::Text),
                "json" => Ok(Self::Json),
                other => Err(format!(
                    "PATCHBAY_LOG_FORMAT=`{other}` must be `text` or `json`"
                )),
            },
        }
    }
}

/// The installed tracing setup; [`shutdown`](Self::shutdown) exports the spans still
/// buffered.
#[derive(Debug)]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Exports the spans still buffered (when exporting) and stops the exporter. Runs the
    /// blocking export off the async runtime.
    pub async fn shutdown(self) {
        if let Some(provider) = self.provider {
            let flushed = tokio::task::spawn_blocking(move || provider.shutdown()).await;
            if let Ok(Err(error)) = flushed {
                eprintln!("patchbay-server: exporting the last spans failed: {error}");
            }
        }
    }
}

/// Installs the process's subscriber: `RUST_LOG` filtering (default `info`), logs to
/// stderr in `format`, and OTLP span export when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
///
/// # Errors
///
/// A message when the exporter cannot be built (e.g. an invalid endpoint URL).
pub fn init(format: LogFormat) -> Result<Telemetry, String> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let provider = match std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT") {
        Ok(endpoint) if !endpoint.trim().is_empty() => Some(otlp_provider()?),
        _ => None,
    };
    let otel = provider.as_ref().map(|provider| {
        tracing_opentelemetry::layer().with_tracer(provider.tracer("patchbay-server"))
    });
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let registry = tracing_subscriber::registry().with(filter).with(otel);
    let installed = match format {
        LogFormat::Text => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_ansi(ansi),
            )
            .try_init(),
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_writer(std::io::stderr),
            )
            .try_init(),
    };
    installed.map_err(|e| format!("cannot install the log subscriber: {e}"))?;
    Ok(Telemetry { provider })
}

/// The tracer provider exporting over OTLP/HTTP (protobuf) to the endpoint of the
/// standard variables, as service `OTEL_SERVICE_NAME` (default `patchbay-server`).
fn otlp_provider() -> Result<SdkTracerProvider, String> {
    use opentelemetry_otlp::{Protocol, WithExportConfig as _};
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .build()
        .map_err(|e| format!("OTEL_EXPORTER_OTLP_ENDPOINT: cannot build the exporter: {e}"))?;
    let service = std::env::var("OTEL_SERVICE_NAME")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "patchbay-server".to_owned());
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(service)
        .build();
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}

/// Middleware: runs each API request in an `http.request` span (method, route template,
/// then status and duration), logs one `request` event when it is answered, and records
/// the request's metrics (`metrics::record_request`).
pub async fn trace_requests(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let method = request.method().clone();
    let span = tracing::info_span!(
        "http.request",
        http.request.method = %request.method(),
        http.route = %route,
        http.response.status_code = tracing::field::Empty,
        duration_ms = tracing::field::Empty,
    );
    let started = Instant::now();
    let response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    crate::metrics::record_request(&route, method.as_str(), status, elapsed);
    let duration_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
    span.record("http.response.status_code", status);
    span.record("duration_ms", duration_ms);
    tracing::info!(parent: &span, status, duration_ms, "request");
    response
}
