//! The harness the server's HTTP tests share: a real server on loopback over a
//! SQLite store, and request helpers that record every answer.
//!
//! Each test binary compiles this module on its own and uses only part of it,
//! hence the `allow` below.
#![allow(dead_code)]

pub mod browser;
pub mod connect;
pub mod inbound;
pub mod postgres;
pub mod process;
pub mod prometheus;
pub mod redis;

use std::path::Path;
use std::sync::{Arc, Mutex};

use patchbay_server::AppState;
use patchbay_server::store::{NewWebhook, Store, open_store};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running server, its store and the token of its default environment.
pub struct TestServer {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The bootstrap API token (or the earlier start's, on a restart).
    pub token: String,
    /// The default environment, which `token` belongs to.
    pub environment_id: String,
    pub store: Arc<Store>,
    /// The server's facades (for their counters).
    pub runtimes: Arc<patchbay_server::runtime::Runtimes>,
    /// The server's executor of sync job runs.
    pub sync: Arc<patchbay_server::sync::SyncRuns>,
    pub client: reqwest::Client,
    /// Every response body sent through [`TestServer::request`], in order, to
    /// check what left the server.
    pub seen: Mutex<Vec<String>>,
    stop: oneshot::Sender<()>,
    served: JoinHandle<()>,
    engine: patchbay_server::sync::SyncEngine,
    /// The data dir when the server owns it (see [`Builder::data_dir`]).
    _dir: Option<tempfile::TempDir>,
}

/// How a [`TestServer`] starts; [`TestServer::start`] takes every default.
#[derive(Default)]
pub struct Builder<'a> {
    data_dir: Option<&'a Path>,
    token: Option<String>,
    public_url: bool,
    no_redirects: bool,
    destinations: Option<patchbay::egress::DestinationPolicy>,
    cors: Option<patchbay_server::CorsOrigins>,
    public_url_at: Option<String>,
    console: Option<patchbay_server::console::ConsoleOptions>,
    store: Option<Arc<Store>>,
    sync: Option<patchbay_server::sync::SyncOptions>,
}

impl<'a> Builder<'a> {
    /// Serves over the data dir `dir` (bootstrapping it on first use) instead
    /// of a temp dir of its own, so a later start can reuse it.
    pub fn data_dir(mut self, dir: &'a Path) -> Self {
        self.data_dir = Some(dir);
        self
    }

    /// The token of an earlier start over the same data dir, which is
    /// bootstrapped already.
    pub fn token(mut self, token: String) -> Self {
        self.token = Some(token);
        self
    }

    /// Sets the server's public URL to its own loopback address.
    pub fn public_url(mut self) -> Self {
        self.public_url = true;
        self
    }

    /// Sets the server's public URL to `url` (e.g. an https URL of a proxy in front).
    pub fn public_url_at(mut self, url: &str) -> Self {
        self.public_url_at = Some(url.to_owned());
        self
    }

    /// Signs people in to the console as `options` says.
    pub fn console(mut self, options: patchbay_server::console::ConsoleOptions) -> Self {
        self.console = Some(options);
        self
    }

    /// The server's destination policy instead of the tests' default, which
    /// allows loopback (where the simulator and wiremock listen).
    pub fn destinations(mut self, policy: patchbay::egress::DestinationPolicy) -> Self {
        self.destinations = Some(policy);
        self
    }

    /// Lets browser scripts of `origins` call the API (CORS).
    pub fn cors(mut self, origins: patchbay_server::CorsOrigins) -> Self {
        self.cors = Some(origins);
        self
    }

    /// Serves over `store` (e.g. a Postgres one) instead of a SQLite file.
    pub fn store(mut self, store: Arc<Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// Executes sync job runs as `options` say.
    pub fn sync(mut self, options: patchbay_server::sync::SyncOptions) -> Self {
        self.sync = Some(options);
        self
    }

    /// Gives the server a client that follows no redirects.
    pub fn no_redirects(mut self) -> Self {
        self.no_redirects = true;
        self
    }

    pub async fn start(self) -> TestServer {
        let owned = match self.data_dir {
            Some(_) => None,
            None => Some(tempfile::tempdir().unwrap()),
        };
        let dir = self
            .data_dir
            .or(owned.as_ref().map(tempfile::TempDir::path))
            .unwrap();
        let store = match self.store {
            Some(store) => store,
            None => open_store(None, dir).await.unwrap(),
        };
        let (token, environment_id) = match store.bootstrap().await.unwrap() {
            Some(bootstrap) => {
                assert!(
                    store.bootstrap().await.unwrap().is_none(),
                    "bootstrap runs once"
                );
                (
                    bootstrap.token.plaintext.expose().to_owned(),
                    bootstrap.environment.id,
                )
            }
            None => {
                let token = self.token.expect("the token of the earlier start");
                let environment_id = store
                    .authenticate(&token)
                    .await
                    .unwrap()
                    .expect("the earlier token authenticates");
                (token, environment_id)
            }
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        // The tests' providers (simulator, wiremock) listen on loopback.
        let mut state = AppState::with_destinations(
            store.clone(),
            self.destinations.unwrap_or_else(|| {
                patchbay::egress::DestinationPolicy::from_allow_list("loopback").unwrap()
            }),
        );
        if self.public_url {
            state = state.with_public_url(base.parse().unwrap());
        }
        if let Some(url) = &self.public_url_at {
            state = state.with_public_url(url.parse().unwrap());
        }
        if let Some(options) = self.console {
            state = state.with_console(options);
        }
        if let Some(origins) = self.cors {
            state = state.with_cors_origins(origins);
        }
        if let Some(options) = self.sync {
            state = state.with_sync_options(options);
        }
        let (stop, stopped) = oneshot::channel::<()>();
        let runtimes = state.runtimes.clone();
        let sync = state.sync.clone();
        let engine = patchbay_server::sync::SyncEngine::start(&sync)
            .await
            .expect("the sync-job engine starts");
        let app = patchbay_server::app(state);
        // Served as the binary serves (timeouts, connection cap, client address).
        let served = tokio::spawn(async move {
            let options = patchbay_server::ServeOptions::default();
            patchbay_server::serve_router(listener, app, options, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        let mut client = reqwest::Client::builder();
        if self.no_redirects {
            client = client.redirect(reqwest::redirect::Policy::none());
        }
        TestServer {
            base,
            token,
            environment_id,
            store,
            runtimes,
            sync,
            client: client.build().unwrap(),
            seen: Mutex::new(Vec::new()),
            stop,
            served,
            engine,
            _dir: owned,
        }
    }
}

/// An integration and its install in the default environment.
pub struct Installed {
    pub integration_id: String,
    pub install_id: String,
}

/// The `id` of an API answer.
pub fn id_of(answer: &Value) -> String {
    answer["id"].as_str().unwrap().to_owned()
}

impl TestServer {
    /// Starts over a fresh temp dir, with the defaults.
    pub async fn start() -> Self {
        Self::builder().start().await
    }

    pub fn builder<'a>() -> Builder<'a> {
        Builder::default()
    }

    /// Stops serving and waits until the server has let go of its state;
    /// answers the token, for a restart over the same data dir.
    pub async fn stop(self) -> String {
        let _ = self.stop.send(());
        self.served.await.unwrap();
        self.sync.cancel_all();
        self.engine.stop(std::time::Duration::from_secs(10)).await;
        self.token
    }

    /// `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends `request`; records the body in `seen` and answers it with the status.
    pub async fn request(&self, request: reqwest::RequestBuilder) -> (StatusCode, String) {
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        self.seen.lock().unwrap().push(text.clone());
        (status, text)
    }

    /// Sends `body` (raw JSON text) with `token`; answers status and JSON body.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<String>,
    ) -> (StatusCode, Value) {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        let (status, text) = self.request(request).await;
        let value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {text}"));
        (status, value)
    }

    /// Sends `method path` with `body` and checks the answer is an error of `status`
    /// whose message contains `needle`; answers the error body.
    pub async fn expect_error(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        status: StatusCode,
        needle: &str,
    ) -> Value {
        let (got, answer) = self.send(method.clone(), path, body).await;
        assert_eq!(got, status, "{method} {path}: {answer}");
        let message = answer["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(needle),
            "{method} {path}: `{needle}` not in {answer}"
        );
        answer
    }

    /// Sends `body` with the server's token.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.send_as(&self.token, method, path, body).await
    }

    /// Sends `body` with `token`.
    pub async fn send_as(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.raw(method, path, Some(token), body.map(|b| b.to_string()))
            .await
    }

    /// PATCHes `path` with `body` (server's token), asserts `200` and answers
    /// the changed object.
    pub async fn patch_ok(&self, path: &str, body: Value) -> Value {
        let (status, answer) = self.send(Method::PATCH, path, Some(body)).await;
        assert_eq!(status, StatusCode::OK, "PATCH {path}: {answer}");
        answer
    }

    /// Asserts that no answer recorded so far contains any of `secrets`.
    pub fn assert_no_secret_answered(&self, secrets: &[&str]) {
        for text in self.seen.lock().unwrap().iter() {
            for secret in secrets {
                assert!(!text.contains(secret), "`{secret}` leaked in {text}");
            }
        }
    }

    /// A token of a second environment.
    pub async fn other_environment_token(&self) -> String {
        let env = self.store.create_environment("other").await.unwrap();
        let created = self.store.create_api_token(&env.id, "t").await.unwrap();
        created.plaintext.expose().to_owned()
    }

    /// Subscribes an active webhook at `target_url` to `event_types` in the
    /// default environment, straight in the store (so events queue up as
    /// deliveries).
    pub async fn subscribe(&self, target_url: &str, event_types: &[&str]) {
        self.store
            .create_webhook(
                &self.environment_id,
                NewWebhook {
                    target_url: target_url.into(),
                    event_types: event_types.iter().map(|t| t.to_string()).collect(),
                    is_active: true,
                },
            )
            .await
            .unwrap();
    }

    /// Creates an integration from `integration` (a `POST /integration` body)
    /// and installs it with `override_`.
    pub async fn install(&self, integration: Value, override_: Option<Value>) -> Installed {
        let (status, integration) = self
            .send(Method::POST, "/integration", Some(integration))
            .await;
        assert_eq!(status, 201, "{integration}");
        let integration_id = id_of(&integration);
        let mut body = json!({"integration_id": integration_id});
        if let Some(override_) = override_ {
            body["override"] = override_;
        }
        let (status, install) = self
            .send(Method::POST, "/environment-integration", Some(body))
            .await;
        assert_eq!(status, 201, "{install}");
        Installed {
            integration_id,
            install_id: id_of(&install),
        }
    }

    /// Installs the Slack catalog config against `sim` (its OAuth app: `slack-client-id` /
    /// `slack-client-secret`) and imports the account `acme` with an expired access token and
    /// the refresh token `xoxe-1-rt`; answers the account id. Set the simulator up with
    /// `Account::new("acme").access_token("xoxe.xoxp-expired").refresh_token("xoxe-1-rt")
    /// .expires_in(Duration::ZERO)`.
    pub async fn slack_account_with_expired_token(
        &self,
        sim: &patchbay::simulator::RunningSimulator,
    ) -> String {
        use patchbay::simulator::Provider;
        let path = format!(
            "{}/../../examples/catalog/slack.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let config: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let mut override_ = sim.catalog_override(Provider::Slack, &config);
        override_["credentials"]["config"]["client"] =
            json!({"id": "slack-client-id", "secret": "slack-client-secret"});
        let install_id = self
            .install(
                json!({"name": "slack", "category": "chat", "config": config}),
                Some(override_),
            )
            .await
            .install_id;
        let (status, account) = self
            .send(
                Method::POST,
                "/integrated-account",
                Some(json!({
                    "tenant_id": "acme",
                    "environment_integration_id": install_id,
                    "authentication_method": "oauth2",
                    "context": {"oauth": {"token": {
                        "access_token": "xoxe.xoxp-expired",
                        "refresh_token": "xoxe-1-rt",
                        "expires_at": "2020-01-01T00:00:00.000Z"
                    }}}
                })),
            )
            .await;
        assert_eq!(status, 201, "{account}");
        id_of(&account)
    }

    /// Imports an `api_key` account of `install_id` for `tenant`, with the
    /// members of `fields` (e.g. `context`, `is_sandbox`) added to the body;
    /// answers it.
    pub async fn import(&self, install_id: &str, tenant: &str, fields: Value) -> Value {
        let mut body = json!({
            "tenant_id": tenant,
            "environment_integration_id": install_id,
            "authentication_method": "api_key",
        });
        for (key, value) in fields.as_object().expect("fields is an object") {
            body[key] = value.clone();
        }
        let (status, account) = self
            .send(Method::POST, "/integrated-account", Some(body))
            .await;
        assert_eq!(status, 201, "{account}");
        account
    }
}
