//! Every attempt of a call is a `tracing` span `patchbay.attempt` carrying its verdict and,
//! when it is retried, the reason; URLs lose their query (API keys travel there).

mod support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use patchbay_executor::{CallInput, Executor};
use patchbay_ratelimit::RetryPolicy;
use serde_json::json;
use support::{api_key_account, call, integration};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Subscriber, subscriber::with_default};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The fields of every `patchbay.attempt` span, in creation order.
#[derive(Clone, Default)]
struct Attempts(Arc<Mutex<Vec<BTreeMap<String, String>>>>);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(
            field.name().to_owned(),
            format!("{value:?}").trim_matches('"').to_owned(),
        );
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

/// The position of a span in [`Attempts`], kept in the span's extensions.
struct Slot(usize);

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Attempts {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().name() != "patchbay.attempt" {
            return;
        }
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        let mut all = self.0.lock().expect("lock");
        all.push(fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(Slot(all.len() - 1));
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let Some(slot) = span.extensions().get::<Slot>().map(|slot| slot.0) else {
            return;
        };
        let mut all = self.0.lock().expect("lock");
        values.record(&mut Fields(&mut all[slot]));
    }
}

#[test]
fn each_attempt_records_its_verdict_and_retry_reason() {
    let attempts = Attempts::default();
    let subscriber = tracing_subscriber::registry().with(attempts.clone());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    with_default(subscriber, || {
        runtime.block_on(async {
            let server = MockServer::start().await;
            Mock::given(method("GET"))
                .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
                .up_to_n_times(1)
                .mount(&server)
                .await;
            Mock::given(method("GET"))
                .respond_with(ResponseTemplate::new(503))
                .up_to_n_times(1)
                .mount(&server)
                .await;
            Mock::given(method("GET"))
                .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
                .mount(&server)
                .await;
            let integration = integration(json!({
                "base_url": server.uri(),
                "resources": {"things": {"list": {
                    "method": "get",
                    "path": "/things",
                    "query": {"api_key": "{{api_key}}"}
                }}}
            }));
            let account = api_key_account(json!({"api_key": "sk-secret-123"}));
            let executor = Executor::builder()
                .retry_policy(RetryPolicy {
                    base_delay: Duration::from_millis(1),
                    max_backoff: Duration::from_millis(2),
                    ..RetryPolicy::default()
                })
                .build();
            let response = call(
                &executor,
                &integration,
                &account,
                "things",
                "list",
                CallInput::new(),
            )
            .await
            .expect("the third attempt succeeds");
            assert_eq!(response.status, 200);
        });
    });
    let attempts = attempts.0.lock().expect("lock").clone();
    let summary: Vec<(String, String, String)> = attempts
        .iter()
        .map(|fields| {
            (
                fields.get("status").cloned().unwrap_or_default(),
                fields.get("verdict").cloned().unwrap_or_default(),
                fields.get("retry_reason").cloned().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "429".to_owned(),
                "rate_limited".to_owned(),
                "rate limited, provider asked for 0ns".to_owned()
            ),
            (
                "503".to_owned(),
                "error_status".to_owned(),
                "status 503".to_owned()
            ),
            ("200".to_owned(), "success".to_owned(), String::new()),
        ]
    );
    for (number, fields) in attempts.iter().enumerate() {
        assert_eq!(fields.get("attempt"), Some(&(number + 1).to_string()));
        assert_eq!(fields.get("method").map(String::as_str), Some("GET"));
        let url = fields.get("url").expect("url recorded");
        assert!(url.ends_with("/things?…"), "{url}");
        assert!(
            !fields.values().any(|value| value.contains("sk-secret-123")),
            "a secret leaked into the span: {fields:?}"
        );
    }
}
