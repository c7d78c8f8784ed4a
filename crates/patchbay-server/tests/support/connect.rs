//! Helpers of the connect-page tests: the provider simulator as Salesforce
//! (OAuth) and Zendesk (an API key form), its catalog configs installed on a
//! [`TestServer`], and reading the pages' forms.

use patchbay::simulator::{Provider, RunningSimulator, Simulator};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::TestServer;

/// The simulator serving Salesforce and Zendesk.
pub async fn start_simulator() -> RunningSimulator {
    Simulator::builder()
        .provider(Provider::Salesforce)
        .provider(Provider::Zendesk)
        .start()
        .await
        .expect("simulator starts")
}

/// The catalog's config of `slug` (`examples/catalog/<slug>.json`).
pub fn catalog_json(slug: &str) -> Value {
    let path = format!(
        "{}/../../examples/catalog/{slug}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).expect("catalog file")).expect("JSON")
}

impl TestServer {
    /// Creates and installs `provider`'s catalog config pointed at `sim`, with
    /// the simulator's OAuth app (`<slug>-client-id`/`-secret`) for an OAuth
    /// provider; answers the install id.
    pub async fn install_simulated(&self, sim: &RunningSimulator, provider: Provider) -> String {
        let slug = provider.slug();
        let catalog = catalog_json(slug);
        let mut overlay = sim.catalog_override(provider, &catalog);
        if catalog["credentials"]["format"] == "oauth2" {
            overlay["credentials"]["config"]["client"] = json!({
                "id": format!("{slug}-client-id"),
                "secret": format!("{slug}-client-secret"),
            });
        }
        self.install(json!({"name": slug, "config": catalog}), Some(overlay))
            .await
            .install_id
    }

    /// Creates a link token with `body` (a `POST /link-token` body), checks
    /// that its `link_url` is this server's connect page, and answers the
    /// token.
    pub async fn link_token(&self, body: Value) -> String {
        let (status, answer) = self.send(Method::POST, "/link-token", Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        let url = answer["link_url"].as_str().unwrap();
        assert!(
            url.starts_with(&format!("{}/connect-account?link_token=", self.base)),
            "{url}"
        );
        answer["link_token"].as_str().unwrap().to_owned()
    }

    /// A [`link_token`](Self::link_token) connecting a new account of
    /// `tenant` to the install `install_id` only.
    pub async fn link_token_for(&self, tenant: &str, install_id: &str) -> String {
        self.link_token(json!({"tenant_id": tenant, "environment_integration_id": install_id}))
            .await
    }
}

/// The `value` of the hidden input `name` in `html`.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!(r#"name="{name}" value=""#);
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}
