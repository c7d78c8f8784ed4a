//! Link tokens and the connect pages, end to end: a real server on loopback
//! over a SQLite store, the provider simulator as Salesforce (OAuth with PKCE,
//! a post-install action) and Zendesk (an API key form with a validation
//! action), driven over HTTP and, in the `browser_*` tests, by a real headless
//! Chromium through ChromeDriver.
//!
//! The browser tests need Debian's `chromium` and `chromium-driver` packages
//! (`.ci/run` installs them; `PATCHBAY_TEST_CHROMIUM` and
//! `PATCHBAY_TEST_CHROMEDRIVER` point at other binaries). Without them the
//! tests fail when `CI=true` and are otherwise reported ignored, saying why
//! (`docs/testing.md`).

mod support;

use std::time::Duration;

use fantoccini::Locator;
use patchbay::simulator::{Provider, RunningSimulator};
use patchbay_server::store::OutboxDelivery;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use patchbay_testkit::{Runtime::CurrentThread, tokio_test};
use support::TestServer;
use support::browser::{CHROMIUM, browser, chromedriver, wait_for_text};
use support::connect::{hidden, start_simulator};

const ZENDESK_TOKEN: &str = "zendesk-api-token";

/// A server with its public URL and a client that follows no redirects (so
/// each hop of the flow is visible), and the simulator.
struct Rig {
    server: TestServer,
    sim: RunningSimulator,
    /// The browser binding a connect page gave this "browser": the CSRF
    /// cookie (`name=value`) and the form's `csrf_token`, which every submit
    /// sends back as a browser would.
    binding: std::sync::Mutex<Option<(String, String)>>,
}

impl std::ops::Deref for Rig {
    type Target = TestServer;

    fn deref(&self) -> &TestServer {
        &self.server
    }
}

impl Rig {
    async fn start() -> Self {
        let sim = start_simulator().await;
        let server = TestServer::builder()
            .public_url()
            .no_redirects()
            .start()
            .await;
        Self {
            server,
            sim,
            binding: std::sync::Mutex::new(None),
        }
    }

    /// Installs `provider`'s catalog config pointed at the simulator; see
    /// [`TestServer::install_simulated`].
    async fn install(&self, provider: Provider) -> String {
        self.server.install_simulated(&self.sim, provider).await
    }

    async fn link_token(&self, body: Value) -> String {
        self.server.link_token(body).await
    }

    async fn get(&self, url: &str, cookie: Option<&str>) -> reqwest::Response {
        let mut request = self.client.get(url);
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        request.send().await.unwrap()
    }

    /// GETs a connect page with the browser's CSRF cookie, keeping the
    /// binding it hands out (a new cookie, a form's `csrf_token`).
    async fn page(&self, token: &str, extra: &str) -> (StatusCode, String) {
        let cookie = self.binding().map(|(cookie, _)| cookie);
        let response = self
            .get(
                &format!("{}/connect-account?link_token={token}{extra}", self.base),
                cookie.as_deref(),
            )
            .await;
        let status = response.status();
        let set_cookie = response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("patchbay_csrf="))
            .map(|v| v.split(';').next().unwrap().to_owned());
        let html = response.text().await.unwrap();
        let mut binding = self.binding.lock().unwrap();
        if let Some(cookie) = set_cookie.or(cookie) {
            let token = html
                .contains(r#"name="csrf_token""#)
                .then(|| hidden(&html, "csrf_token"))
                .or_else(|| binding.as_ref().map(|(_, token)| token.clone()))
                .unwrap_or_default();
            *binding = Some((cookie, token));
        }
        (status, html)
    }

    fn binding(&self) -> Option<(String, String)> {
        self.binding.lock().unwrap().clone()
    }

    /// POSTs the connect form as the browser that opened its page: with the
    /// CSRF cookie and `csrf_token` (opening the form's page first when this
    /// browser has none yet).
    async fn submit(&self, form: &[(&str, &str)]) -> reqwest::Response {
        if self.binding().is_none_or(|(_, token)| token.is_empty()) {
            let field = |name: &str| {
                form.iter()
                    .find(|(n, _)| *n == name)
                    .map_or("", |(_, v)| *v)
            };
            let (status, html) = self
                .page(
                    field("link_token"),
                    &format!("&integration={}", field("integration")),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "the form's page: {html}");
        }
        let (cookie, token) = self.binding().expect("a connect page set the binding");
        let mut form = form.to_vec();
        form.push(("csrf_token", &token));
        self.client
            .post(format!("{}/connect-account", self.base))
            .header(COOKIE, cookie)
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// Subscribes a webhook to every event, so the outbox records them.
    async fn record_events(&self) {
        self.subscribe("https://events.example.com/hook", &["*"])
            .await;
    }

    /// The event types queued so far, oldest first.
    async fn events(&self) -> Vec<String> {
        let mut deliveries: Vec<OutboxDelivery> = self
            .store
            .claim_due(1000, Duration::from_secs(600))
            .await
            .unwrap();
        deliveries.sort_by_key(|d| d.created_at);
        deliveries.into_iter().map(|d| d.event_type).collect()
    }
}

fn data_attr(html: &str, name: &str) -> String {
    let marker = format!(r#"{name}=""#);
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

fn main() -> std::process::ExitCode {
    patchbay_testkit::run(vec![
        tokio_test(
            "link_tokens_are_validated_with_field_paths",
            CurrentThread,
            link_tokens_are_validated_with_field_paths,
        ),
        tokio_test(
            "api_key_form_connects_once_and_reports_field_problems",
            CurrentThread,
            api_key_form_connects_once_and_reports_field_problems,
        ),
        tokio_test(
            "a_failing_validation_is_shown_and_sets_the_status",
            CurrentThread,
            a_failing_validation_is_shown_and_sets_the_status,
        ),
        tokio_test(
            "expired_and_unknown_link_tokens_get_a_page_that_says_so",
            CurrentThread,
            expired_and_unknown_link_tokens_get_a_page_that_says_so,
        ),
        tokio_test(
            "oauth_connects_with_pkce_runs_post_install_and_reconnects_keeping_the_id",
            CurrentThread,
            oauth_connects_with_pkce_runs_post_install_and_reconnects_keeping_the_id,
        ),
        tokio_test(
            "oauth_callbacks_without_the_browser_session_are_refused",
            CurrentThread,
            oauth_callbacks_without_the_browser_session_are_refused,
        ),
        tokio_test(
            "the_chooser_lists_enabled_installs",
            CurrentThread,
            the_chooser_lists_enabled_installs,
        ),
        tokio_test(
            "browser_connects_salesforce_in_a_popup_and_notifies_the_opener",
            CurrentThread,
            browser_connects_salesforce_in_a_popup_and_notifies_the_opener,
        )
        .needs(&CHROMIUM),
        tokio_test(
            "browser_refuses_a_connect_form_posted_by_another_site",
            CurrentThread,
            browser_refuses_a_connect_form_posted_by_another_site,
        )
        .needs(&CHROMIUM),
        tokio_test(
            "browser_fills_the_api_key_form_fixes_a_mistake_and_connects",
            CurrentThread,
            browser_fills_the_api_key_form_fixes_a_mistake_and_connects,
        )
        .needs(&CHROMIUM),
        tokio_test(
            "refresh_credentials_gets_new_tokens_once_and_refuses_api_keys",
            CurrentThread,
            refresh_credentials_gets_new_tokens_once_and_refuses_api_keys,
        ),
        tokio_test(
            "run_post_install_actions_sets_the_status_from_the_actions",
            CurrentThread,
            run_post_install_actions_sets_the_status_from_the_actions,
        ),
        tokio_test(
            "a_refused_api_key_marks_the_account_and_queues_authentication_error",
            CurrentThread,
            a_refused_api_key_marks_the_account_and_queues_authentication_error,
        ),
    ])
}

async fn link_tokens_are_validated_with_field_paths() {
    let rig = Rig::start().await;
    let install = rig.install(Provider::Zendesk).await;
    let cases = [
        (json!({}), "tenant_id"),
        (
            json!({"tenant_id": "t", "integrated_account_id": "a"}),
            "integrated_account_id",
        ),
        (
            json!({"tenant_id": "t", "redirect_uri": "/relative"}),
            "redirect_uri",
        ),
        (json!({"tenant_id": "t", "expires_in": 5}), "expires_in"),
        (
            json!({"tenant_id": "t", "scopes": ["ok", " "]}),
            "scopes[1]",
        ),
    ];
    for (body, path) in cases {
        let (status, answer) = rig
            .send(Method::POST, "/link-token", Some(body.clone()))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert_eq!(answer["errors"][0]["path"], path, "{body}: {answer}");
        assert_eq!(answer["statusCode"], 422);
    }
    let (status, answer) = rig
        .send(
            Method::POST,
            "/link-token",
            Some(json!({"tenant_id": "t", "colour": "red"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert!(
        answer["message"].as_str().unwrap().contains("colour"),
        "{answer}"
    );
    let (status, answer) = rig
        .send(
            Method::POST,
            "/link-token",
            Some(json!({"integrated_account_id": "nope"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    let (status, answer) = rig
        .send(
            Method::POST,
            "/link-token",
            Some(json!({"tenant_id": "t", "environment_integration_id": "missing"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    // Without a token: 401.
    let response = rig
        .client
        .post(rig.url("/link-token"))
        .json(&json!({"tenant_id": "t", "environment_integration_id": install}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

async fn api_key_form_connects_once_and_reports_field_problems() {
    let rig = Rig::start().await;
    rig.record_events().await;
    let install = rig.install(Provider::Zendesk).await;
    let token = rig
        .link_token(json!({"tenant_id": "acme", "environment_integration_id": install, "context": {"team": "support"}}))
        .await;

    let (status, html) = rig.page(&token, "").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Connect Zendesk"), "{html}");
    assert!(
        html.contains(r#"name="field.api_token" type="password""#),
        "{html}"
    );
    assert!(html.contains("acme for acme.zendesk.com"), "{html}");

    // Problems are shown next to their fields, and the password is not echoed.
    let response = rig
        .submit(&[
            ("link_token", &token),
            ("integration", &install),
            ("credential", "api_key"),
            ("field.subdomain", "ACME"),
            ("field.email", "not-an-email"),
            ("field.api_token", "typed-secret"),
        ])
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("Agent email must be an email address."),
        "{html}"
    );
    assert!(!html.contains("typed-secret"), "{html}");
    assert!(html.contains(r#"value="ACME""#), "{html}");

    // The token was not consumed by the failed attempt.
    let response = rig
        .submit(&[
            ("link_token", &token),
            ("integration", &install),
            ("credential", "api_key"),
            ("field.subdomain", "ACME"),
            ("field.email", "agent@example.com"),
            ("field.api_token", ZENDESK_TOKEN),
        ])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert_eq!(data_attr(&html, "data-status"), "active", "{html}");
    assert!(!html.contains(ZENDESK_TOKEN), "{html}");
    let account_id = data_attr(&html, "data-account");

    let account = rig
        .store
        .get_account(&rig.environment_id, &account_id)
        .await
        .unwrap();
    assert_eq!(account.tenant_id, "acme");
    assert_eq!(
        account.context["subdomain"], "acme",
        "lower-cased by the field's transform"
    );
    assert_eq!(account.context["api_token"], ZENDESK_TOKEN);
    assert_eq!(
        account.context["team"], "support",
        "the link's seed context"
    );
    assert_eq!(
        rig.events().await,
        ["integrated_account:created", "integrated_account:active"]
    );

    // Single use: the page and the form both refuse the token now.
    let (status, html) = rig.page(&token, "").await;
    assert_eq!(status, StatusCode::GONE, "{html}");
    assert!(html.contains("already used"), "{html}");
    let response = rig
        .submit(&[
            ("link_token", &token),
            ("integration", &install),
            ("credential", "api_key"),
        ])
        .await;
    assert_eq!(response.status(), StatusCode::GONE);

    // The account works through the proxy.
    let (status, list) = rig
        .send(
            Method::GET,
            &format!("/proxy/tickets?integrated_account_id={account_id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert!(!list["result"].as_array().unwrap().is_empty(), "{list}");
}

async fn a_failing_validation_is_shown_and_sets_the_status() {
    let rig = Rig::start().await;
    let install = rig.install(Provider::Zendesk).await;
    let token = rig.link_token_for("acme", &install).await;
    let response = rig
        .submit(&[
            ("link_token", &token),
            ("integration", &install),
            ("credential", "api_key"),
            ("field.subdomain", "acme"),
            ("field.email", "agent@example.com"),
            ("field.api_token", "wrong-token"),
        ])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert_eq!(
        data_attr(&html, "data-status"),
        "validation_error",
        "{html}"
    );
    assert!(html.contains("setting it up failed"), "{html}");
    let account = rig
        .store
        .get_account(&rig.environment_id, &data_attr(&html, "data-account"))
        .await
        .unwrap();
    assert_eq!(account.status.as_str(), "validation_error");
    assert!(account.last_error.is_some());
}

async fn expired_and_unknown_link_tokens_get_a_page_that_says_so() {
    let rig = Rig::start().await;
    let install = rig.install(Provider::Zendesk).await;
    let created = rig
        .store
        .create_link_token(
            &rig.environment_id,
            patchbay_server::store::NewLinkToken {
                params: patchbay_server::store::LinkParams {
                    tenant_id: Some("acme".into()),
                    environment_integration_id: Some(install),
                    ..Default::default()
                },
                ttl: Duration::from_millis(200),
            },
        )
        .await
        .unwrap();
    let token = created.token.expose().to_owned();
    let (status, _) = rig.page(&token, "").await;
    assert_eq!(status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let (status, html) = rig.page(&token, "").await;
    assert_eq!(status, StatusCode::GONE, "{html}");
    assert!(html.contains("has expired"), "{html}");
    let (status, html) = rig.page("lt_unknown", "").await;
    assert_eq!(status, StatusCode::GONE, "{html}");
    let (status, html) = rig.page("", "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    assert!(html.contains("no link_token"), "{html}");
}

/// Runs the OAuth flow hop by hop: form → provider → callback. Answers the
/// callback response and the session cookie.
async fn oauth_round_trip(rig: &Rig, token: &str, install: &str) -> (reqwest::Response, String) {
    let response = rig
        .submit(&[
            ("link_token", token),
            ("integration", install),
            ("credential", "oauth2"),
        ])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let authorize = response.headers()[LOCATION].to_str().unwrap().to_owned();
    let set_cookie = response.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"),
        "{set_cookie}"
    );
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let url = url::Url::parse(&authorize).unwrap();
    let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert!(
        authorize.starts_with(&rig.sim.authorize_url(Provider::Salesforce).unwrap()),
        "{authorize}"
    );
    assert_eq!(
        query["code_challenge_method"], "S256",
        "PKCE is on for Salesforce"
    );
    assert_eq!(
        query["redirect_uri"],
        format!("{}/connect/salesforce/callback", rig.base)
    );
    assert!(
        !authorize.contains(token),
        "the link token never goes to the provider"
    );
    let provider = rig.get(&authorize, None).await;
    assert_eq!(provider.status(), StatusCode::FOUND);
    let callback = provider.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(
        callback.starts_with(&format!("{}/connect/salesforce/callback?", rig.base)),
        "{callback}"
    );
    (rig.get(&callback, Some(&cookie)).await, cookie)
}

async fn oauth_connects_with_pkce_runs_post_install_and_reconnects_keeping_the_id() {
    let rig = Rig::start().await;
    rig.record_events().await;
    let install = rig.install(Provider::Salesforce).await;
    let token = rig
        .link_token(
            json!({"tenant_id": "globex", "redirect_uri": "https://app.example.com/done?x=1"}),
        )
        .await;
    // One install: the page goes straight to its form.
    let (status, html) = rig.page(&token, "").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(hidden(&html, "integration"), install);
    assert!(html.contains("Continue to Salesforce"), "{html}");

    let (callback, _) = oauth_round_trip(&rig, &token, &install).await;
    assert_eq!(callback.status(), StatusCode::OK);
    let cleared = callback.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let html = callback.text().await.unwrap();
    assert_eq!(data_attr(&html, "data-status"), "active", "{html}");
    assert!(
        html.contains("https://app.example.com/done?x=1&amp;integrated_account_id="),
        "{html}"
    );
    let account_id = data_attr(&html, "data-account");
    let account = rig
        .store
        .get_account(&rig.environment_id, &account_id)
        .await
        .unwrap();
    assert!(account.context["oauth"]["token"]["access_token"].is_string());
    assert!(account.context["oauth"]["token"]["refresh_token"].is_string());
    assert_eq!(
        account.context["instance_url"],
        rig.sim.provider_url(Provider::Salesforce),
        "extra token response fields are kept"
    );
    assert!(
        account.context["label"].is_string(),
        "post_install's update_context ran"
    );
    for secret in [
        account.context["oauth"]["token"]["access_token"]
            .as_str()
            .unwrap(),
        "salesforce-client-secret",
    ] {
        assert!(!html.contains(secret));
    }
    assert_eq!(
        rig.events().await,
        ["integrated_account:created", "integrated_account:active"]
    );

    // The account lists through the proxy with the tokens it got.
    let (status, list) = rig
        .send(
            Method::GET,
            &format!("/proxy/accounts?integrated_account_id={account_id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");

    // Reconnect: same id, context kept, new tokens, `updated` + `active` +
    // `reactivated` (it was needs_reauth).
    rig.send(
        Method::PATCH,
        &format!("/integrated-account/{account_id}"),
        Some(json!({"status": "needs_reauth", "context": {"kept": "yes"}})),
    )
    .await;
    rig.events().await;
    let old_access = account.context["oauth"]["token"]["access_token"].clone();
    let reauth = rig
        .link_token(json!({"integrated_account_id": account_id}))
        .await;
    let (callback, _) = oauth_round_trip(&rig, &reauth, &install).await;
    let html = callback.text().await.unwrap();
    assert_eq!(data_attr(&html, "data-account"), account_id);
    assert_eq!(data_attr(&html, "data-status"), "active");
    let again = rig
        .store
        .get_account(&rig.environment_id, &account_id)
        .await
        .unwrap();
    assert_eq!(again.context["kept"], "yes");
    assert_ne!(again.context["oauth"]["token"]["access_token"], old_access);
    assert_eq!(
        rig.events().await,
        [
            "integrated_account:updated",
            "integrated_account:active",
            "integrated_account:reactivated"
        ]
    );
    let (_, accounts) = rig.send(Method::GET, "/integrated-account", None).await;
    assert_eq!(
        accounts["result"].as_array().unwrap().len(),
        1,
        "no second account"
    );
}

async fn oauth_callbacks_without_the_browser_session_are_refused() {
    let rig = Rig::start().await;
    let install = rig.install(Provider::Salesforce).await;
    let token = rig.link_token(json!({"tenant_id": "globex"})).await;
    let response = rig
        .submit(&[
            ("link_token", &token),
            ("integration", &install),
            ("credential", "oauth2"),
        ])
        .await;
    let authorize = response.headers()[LOCATION].to_str().unwrap().to_owned();
    let set_cookie = response.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let provider = rig.get(&authorize, None).await;
    let callback = provider.headers()[LOCATION].to_str().unwrap().to_owned();

    // Another browser (no cookie).
    let response = rig.get(&callback, None).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("not started in this browser")
    );
    // A tampered cookie.
    let (name, value) = cookie.split_once('=').unwrap();
    let tampered = format!("{name}={}A", &value[..value.len() - 1]);
    let response = rig.get(&callback, Some(&tampered)).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("not valid"));
    // Another integration's callback path with this state.
    let other = callback.replace("/connect/salesforce/", "/connect/zendesk/");
    let response = rig.get(&other, Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // The provider's refusal.
    let state = url::Url::parse(&callback)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let denied = format!(
        "{}/connect/salesforce/callback?error=access_denied&error_description=User%20said%20no&state={state}",
        rig.base
    );
    let response = rig.get(&denied, Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Access was not granted (User said no)")
    );
    // None of that consumed the link token: the real callback still works...
    let response = rig.get(&callback, Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::OK);
    // ...once.
    let response = rig.get(&callback, Some(&cookie)).await;
    assert_ne!(response.status(), StatusCode::OK);
    let (_, accounts) = rig.send(Method::GET, "/integrated-account", None).await;
    assert_eq!(accounts["result"].as_array().unwrap().len(), 1);
}

async fn the_chooser_lists_enabled_installs() {
    let rig = Rig::start().await;
    let zendesk = rig.install(Provider::Zendesk).await;
    let salesforce = rig.install(Provider::Salesforce).await;
    let token = rig.link_token(json!({"tenant_id": "acme"})).await;
    let (status, html) = rig.page(&token, "").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Choose an app"), "{html}");
    assert!(html.contains(&format!("integration={zendesk}")), "{html}");
    assert!(
        html.contains(&format!("integration={salesforce}")),
        "{html}"
    );
    let (status, html) = rig.page(&token, &format!("&integration={zendesk}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Connect Zendesk"), "{html}");
}

// ---- the browser ----

/// A host app: `/` opens the connect link given as `?connect=` in a popup
/// and prints what the popup posts back; `/done` is the link's
/// `redirect_uri`, where the popup lands. Answers the app's base URL.
async fn host_app() -> String {
    const HTML: &str = r#"<!doctype html><html><body>
<button id="open">Connect</button><pre id="got"></pre>
<script>
document.getElementById('open').addEventListener('click', function () {
  window.open(new URLSearchParams(location.search).get('connect'), 'patchbay-connect', 'width=500,height=700');
});
window.addEventListener('message', function (event) {
  if (event.data && event.data.source === 'patchbay') {
    document.getElementById('got').textContent = JSON.stringify(event.data);
  }
});
</script></body></html>"#;
    let app = axum::Router::new()
        .route(
            "/",
            axum::routing::get(|| async { axum::response::Html(HTML) }),
        )
        .route(
            "/done",
            axum::routing::get(|| async { axum::response::Html("<p id=\"done\">Done</p>") }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

async fn browser_connects_salesforce_in_a_popup_and_notifies_the_opener() {
    let driver = chromedriver().await;
    let rig = Rig::start().await;
    let install = rig.install(Provider::Salesforce).await;
    let host = host_app().await;
    let token = rig
        .link_token(json!({"tenant_id": "globex", "environment_integration_id": install, "redirect_uri": format!("{host}/done")}))
        .await;
    let connect: String = url::form_urlencoded::byte_serialize(
        format!("{}/connect-account?link_token={token}", rig.base).as_bytes(),
    )
    .collect();
    let profile = tempfile::tempdir().unwrap();
    let client = browser(&driver, profile.path()).await;

    client
        .goto(&format!("{host}/?connect={connect}"))
        .await
        .unwrap();
    let opener = client.window().await.unwrap();
    client
        .find(Locator::Css("#open"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let mut popup = None;
    for _ in 0..50 {
        let windows = client.windows().await.unwrap();
        if let Some(other) = windows.into_iter().find(|w| *w != opener) {
            popup = Some(other);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    client
        .switch_to_window(popup.expect("the popup opened"))
        .await
        .unwrap();
    let button = client
        .wait()
        .for_element(Locator::Css("#connect"))
        .await
        .unwrap();
    assert_eq!(button.text().await.unwrap(), "Continue to Salesforce");
    button.click().await.unwrap();
    // Provider → callback → result page → the link's redirect_uri, in the popup.
    assert_eq!(wait_for_text(&client, "#done").await, "Done");
    let landed = client.current_url().await.unwrap();
    let query: std::collections::HashMap<_, _> = landed.query_pairs().into_owned().collect();
    assert_eq!(query["status"], "active");
    let account_id = query["integrated_account_id"].clone();

    // The result page posted to the opener, addressed to the redirect_uri's origin.
    client.switch_to_window(opener).await.unwrap();
    let got: Value = serde_json::from_str(&wait_for_text(&client, "#got").await).unwrap();
    assert_eq!(got["integrated_account_id"], account_id);
    assert_eq!(got["status"], "active");
    assert_eq!(got["tenant_id"], "globex");
    assert!(got.to_string().find("access_token").is_none(), "{got}");
    client.close().await.unwrap();

    let account = rig
        .store
        .get_account(&rig.environment_id, &account_id)
        .await
        .unwrap();
    assert_eq!(account.status.as_str(), "active");
    assert!(account.context["oauth"]["token"]["access_token"].is_string());
    assert_eq!(
        rig.sim
            .stats()
            .token_requests(Provider::Salesforce)
            .authorization_code,
        1
    );
}

/// Serves `html` at `/` on a loopback port of its own (another origin than
/// the server's); answers its URL.
async fn serve_page(html: String) -> String {
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(move || {
            let html = html.clone();
            async move { axum::response::Html(html) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

async fn browser_refuses_a_connect_form_posted_by_another_site() {
    let driver = chromedriver().await;
    let rig = Rig::start().await;
    let install = rig.install(Provider::Salesforce).await;
    // The attacker's own link token, and a CSRF token from their own visit.
    let token = rig.link_token_for("attacker", &install).await;
    let (status, _) = rig.page(&token, "").await;
    assert_eq!(status, StatusCode::OK);
    let csrf = rig.binding().map(|(_, token)| token).unwrap_or_default();
    let field = |name: &str, value: &str| {
        format!(
            r#"<input type="hidden" name="{name}" value="{}">"#,
            value.replace('"', "&quot;")
        )
    };
    let attack = serve_page(format!(
        r#"<!doctype html><html><body><form id="f" method="post" action="{}/connect-account">{}{}{}{}</form>
<script>document.getElementById('f').submit();</script></body></html>"#,
        rig.base,
        field("link_token", &token),
        field("integration", &install),
        field("credential", "oauth2"),
        field("csrf_token", &csrf),
    ))
    .await;
    let profile = tempfile::tempdir().unwrap();
    let client = browser(&driver, profile.path()).await;
    client.goto(&attack).await.unwrap();
    // The attack page has no heading; the next page's is the answer.
    let text = wait_for_text(&client, "h1").await;
    assert_eq!(text, "This form cannot be submitted");
    let landed = client.current_url().await.unwrap();
    assert_eq!(
        landed.as_str(),
        format!("{}/connect-account", rig.base),
        "the browser never went on to the provider"
    );
    let message = wait_for_text(&client, ".error").await;
    assert!(message.contains("another site"), "{message}");
    client.close().await.unwrap();
    assert_eq!(
        rig.sim
            .stats()
            .token_requests(Provider::Salesforce)
            .authorization_code,
        0
    );
    // The link token was not used up by the refused attempt.
    let (status, _) = rig.page(&token, "").await;
    assert_eq!(status, StatusCode::OK);
}

async fn browser_fills_the_api_key_form_fixes_a_mistake_and_connects() {
    let driver = chromedriver().await;
    let rig = Rig::start().await;
    let install = rig.install(Provider::Zendesk).await;
    let token = rig
        .link_token(json!({"tenant_id": "acme", "environment_integration_id": install, "redirect_uri": format!("{}/health", rig.base)}))
        .await;
    let profile = tempfile::tempdir().unwrap();
    let client = browser(&driver, profile.path()).await;
    client
        .goto(&format!("{}/connect-account?link_token={token}", rig.base))
        .await
        .unwrap();
    let type_into = |css: &'static str, text: &'static str| {
        let client = client.clone();
        async move {
            let input = client.find(Locator::Css(css)).await.unwrap();
            input.clear().await.unwrap();
            input.send_keys(text).await.unwrap();
        }
    };
    type_into("#f-subdomain", "Acme").await;
    // The input is `type="email"`, so the browser itself refuses "agent-at-example";
    // "agent@localhost" passes the browser's check but not the server's.
    type_into("#f-email", "agent@localhost").await;
    type_into("#f-api_token", ZENDESK_TOKEN).await;
    client
        .find(Locator::Css("#connect"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let problem = wait_for_text(&client, ".field-error").await;
    assert_eq!(problem, "Agent email must be an email address.");
    let kept = client.find(Locator::Css("#f-subdomain")).await.unwrap();
    assert_eq!(kept.prop("value").await.unwrap().as_deref(), Some("Acme"));
    let password = client.find(Locator::Css("#f-api_token")).await.unwrap();
    assert_eq!(password.prop("value").await.unwrap().as_deref(), Some(""));

    type_into("#f-email", "agent@example.com").await;
    type_into("#f-api_token", ZENDESK_TOKEN).await;
    client
        .find(Locator::Css("#connect"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The result page follows redirect_uri (here the server's /health).
    let mut landed = String::new();
    for _ in 0..100 {
        landed = client.current_url().await.unwrap().to_string();
        if landed.contains("/health") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let landed = url::Url::parse(&landed).unwrap();
    assert_eq!(landed.path(), "/health", "{landed}");
    let query: std::collections::HashMap<_, _> = landed.query_pairs().into_owned().collect();
    assert_eq!(query["status"], "active");
    client.close().await.unwrap();
    let account = rig
        .store
        .get_account(&rig.environment_id, &query["integrated_account_id"])
        .await
        .unwrap();
    assert_eq!(account.context["subdomain"], "acme");
}

// ---- account actions ----

/// Connects a Salesforce account through the OAuth pages; answers its id.
async fn connected_salesforce(rig: &Rig, install: &str) -> String {
    let token = rig.link_token(json!({"tenant_id": "globex"})).await;
    let (callback, _) = oauth_round_trip(rig, &token, install).await;
    data_attr(&callback.text().await.unwrap(), "data-account")
}

async fn refresh_credentials_gets_new_tokens_once_and_refuses_api_keys() {
    let rig = Rig::start().await;
    let salesforce = rig.install(Provider::Salesforce).await;
    let zendesk = rig.install(Provider::Zendesk).await;
    let account_id = connected_salesforce(&rig, &salesforce).await;
    let before = rig
        .store
        .get_account(&rig.environment_id, &account_id)
        .await
        .unwrap();

    let (status, answer) = rig
        .send(
            Method::POST,
            "/integrated-account/refresh-credentials",
            Some(json!({"id": account_id})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer, json!({"success": true}));
    assert_eq!(
        rig.sim
            .stats()
            .token_requests(Provider::Salesforce)
            .refresh_token,
        1
    );
    let after = rig
        .store
        .get_account(&rig.environment_id, &account_id)
        .await
        .unwrap();
    assert_ne!(
        after.context["oauth"]["token"]["access_token"],
        before.context["oauth"]["token"]["access_token"]
    );

    let api_key = rig
        .send(
            Method::POST,
            "/integrated-account",
            Some(json!({
                "tenant_id": "acme", "environment_integration_id": zendesk,
                "authentication_method": "api_key",
                "context": {"subdomain": "acme", "email": "agent@example.com", "api_token": ZENDESK_TOKEN}
            })),
        )
        .await
        .1;
    let (status, answer) = rig
        .send(
            Method::POST,
            "/integrated-account/refresh-credentials",
            Some(json!({"id": api_key["id"]})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("api_key credentials have no tokens")
    );
    let (status, _) = rig
        .send(
            Method::POST,
            "/integrated-account/refresh-credentials",
            Some(json!({"id": "missing"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, answer) = rig
        .send(
            Method::POST,
            "/integrated-account/refresh-credentials",
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
}

async fn run_post_install_actions_sets_the_status_from_the_actions() {
    let rig = Rig::start().await;
    rig.record_events().await;
    let zendesk = rig.install(Provider::Zendesk).await;
    let (_, account) = rig
        .send(
            Method::POST,
            "/integrated-account",
            Some(json!({
                "tenant_id": "acme", "environment_integration_id": zendesk,
                "authentication_method": "api_key",
                "context": {"subdomain": "acme", "email": "agent@example.com", "api_token": "wrong"}
            })),
        )
        .await;
    let id = account["id"].as_str().unwrap().to_owned();
    let run = || async {
        rig.send(
            Method::POST,
            "/integrated-account/run-post-install-actions",
            Some(json!({"id": id})),
        )
        .await
    };
    let (status, answer) = run().await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["status"], "validation_error", "{answer}");
    assert!(answer["last_error"].is_string(), "{answer}");
    assert!(
        answer["context"].get("api_token").is_none(),
        "secrets are not answered: {answer}"
    );

    rig.send(
        Method::PATCH,
        &format!("/integrated-account/{id}"),
        Some(json!({"context": {"api_token": ZENDESK_TOKEN}})),
    )
    .await;
    let (status, answer) = run().await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["status"], "active", "{answer}");
    let events = rig.events().await;
    assert!(
        events.contains(&"integrated_account:validation_error".to_owned()),
        "{events:?}"
    );
    assert_eq!(
        events.last().map(String::as_str),
        Some("integrated_account:active"),
        "{events:?}"
    );
}

// ---- events from calls ----

async fn a_refused_api_key_marks_the_account_and_queues_authentication_error() {
    let rig = Rig::start().await;
    rig.record_events().await;
    let zendesk = rig.install(Provider::Zendesk).await;
    let account = rig
        .import(
            &zendesk,
            "acme",
            json!({"context": {"subdomain": "acme", "email": "agent@example.com", "api_token": "revoked-token"}}),
        )
        .await;
    let id = account["id"].as_str().unwrap();
    assert_eq!(rig.events().await, ["integrated_account:created"]);

    let (status, answer) = rig
        .send(
            reqwest::Method::GET,
            &format!("/proxy/tickets?integrated_account_id={id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
    let stored = rig
        .store
        .get_account(&rig.environment_id, id)
        .await
        .unwrap();
    assert_eq!(stored.status.as_str(), "needs_reauth");
    assert!(stored.last_error.is_some());

    let deliveries = rig
        .store
        .claim_due(100, Duration::from_secs(600))
        .await
        .unwrap();
    let event = deliveries
        .iter()
        .find(|d| d.event_type == "integrated_account:authentication_error")
        .unwrap_or_else(|| panic!("no authentication_error in {deliveries:?}"));
    assert_eq!(event.payload["id"], id);
    assert_eq!(event.payload["status"], "needs_reauth");
    assert!(event.payload.get("context").is_none(), "{}", event.payload);
    assert!(!event.payload.to_string().contains("revoked-token"));
}
