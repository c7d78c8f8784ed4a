//! Helpers of the inbound webhook tests: signing as a provider signs, a server
//! whose record events stay observable in the outbox, unauthenticated posts to
//! the inbound routes, and the install + account an inbound route needs.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use patchbay_server::store::OutboxDelivery;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{TestServer, id_of};

/// HMAC-SHA256 (RFC 2104) of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// [`hmac_sha256`] of `message` under the text `key`, hex-encoded.
pub fn hmac_hex(key: &str, message: &[u8]) -> String {
    hex::encode(hmac_sha256(key.as_bytes(), message))
}

/// Now, in seconds since the Unix epoch (providers' signed timestamps).
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Asserts Truto's error body (`text`) with `status` and a message containing
/// `needle`.
pub fn assert_error_text(text: &str, status: u16, needle: &str) {
    let body: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(body["statusCode"], status, "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains(needle), "`{needle}` not in {body}");
}

/// No headers, for [`TestServer::hook`] and
/// [`TestServer::post_unauthenticated`].
pub const NO_HEADERS: &[(&str, &str)] = &[];

/// An install and one of its accounts.
pub struct InstalledAccount {
    pub install_id: String,
    pub account_id: String,
}

impl TestServer {
    /// Starts with the defaults and an outbound webhook subscribed to every
    /// `record:*` event, so queued events become observable deliveries (no
    /// delivery worker runs in these tests); see [`TestServer::queued`].
    pub async fn start_observing_records() -> Self {
        let server = Self::start().await;
        server
            .subscribe("http://127.0.0.1:9/hook", &["record:*"])
            .await;
        server
    }

    /// The deliveries queued so far (claimed, so each is seen once).
    pub async fn queued(&self) -> Vec<OutboxDelivery> {
        self.store
            .claim_due(100, Duration::from_secs(60))
            .await
            .unwrap()
    }

    /// POSTs the JSON text `body` to `url` with `headers` and no API token,
    /// as a provider calls an inbound route.
    pub async fn post_unauthenticated<V: AsRef<str>>(
        &self,
        url: &str,
        headers: &[(&str, V)],
        body: &[u8],
    ) -> (StatusCode, String) {
        let mut request = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_vec());
        for (name, value) in headers {
            request = request.header(*name, value.as_ref());
        }
        self.request(request).await
    }

    /// [`post_unauthenticated`](Self::post_unauthenticated) to `path` on this
    /// server.
    pub async fn hook(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (StatusCode, String) {
        self.post_unauthenticated(&self.url(path), headers, body)
            .await
    }

    /// Creates the integration `name` with `config`, installs it with
    /// `override_` and imports an account of it for `tenant` with `context`.
    pub async fn install_with_account(
        &self,
        name: &str,
        config: Value,
        override_: Option<Value>,
        tenant: &str,
        context: Value,
    ) -> InstalledAccount {
        let install_id = self
            .install(json!({"name": name, "config": config}), override_)
            .await
            .install_id;
        let account_id = id_of(
            &self
                .import(&install_id, tenant, json!({"context": context}))
                .await,
        );
        InstalledAccount {
            install_id,
            account_id,
        }
    }
}
