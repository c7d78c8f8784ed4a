//! The console (`/console`), end to end: a real server on loopback over a
//! SQLite store, driven over HTTP for its security (sign-in, the session
//! cookie, CSRF, the CSP) and, in the `browser_*` tests, by a real headless
//! Chromium through ChromeDriver for seed 001's flow: sign in, find the
//! account, re-authorize it with a magic link against the provider simulator.
//!
//! The browser tests need Debian's `chromium` and `chromium-driver` packages
//! (see `support::browser`). With `PATCHBAY_CONSOLE_SCREENSHOTS=1` they also
//! write a screenshot of each page to `docs/console/` (normal runs write
//! nothing).

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use fantoccini::Locator;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use patchbay::simulator::{Provider, RunningSimulator};
use patchbay_server::console::ConsoleOptions;
use patchbay_server::delivery::DeliveryOptions;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_SECURITY_POLICY, COOKIE, LOCATION, SET_COOKIE};
use serde_json::json;

use patchbay_testkit::{Runtime::CurrentThread, tokio_test};
use support::TestServer;
use support::browser::{CHROMIUM, browser, chromedriver, wait_for_text};
use support::connect::{hidden, start_simulator};

const PASSWORD: &str = "a console password";

fn main() -> std::process::ExitCode {
    patchbay_testkit::run(vec![
        tokio_test(
            "pages_need_a_session_and_send_people_to_sign_in",
            CurrentThread,
            pages_need_a_session_and_send_people_to_sign_in,
        ),
        tokio_test(
            "a_bad_token_is_refused_and_a_good_one_gets_a_strict_session_cookie",
            CurrentThread,
            a_bad_token_is_refused_and_a_good_one_gets_a_strict_session_cookie,
        ),
        tokio_test(
            "sign_in_attempts_are_limited_per_client",
            CurrentThread,
            sign_in_attempts_are_limited_per_client,
        ),
        tokio_test(
            "sign_in_attempts_are_limited_across_servers_on_one_store",
            CurrentThread,
            sign_in_attempts_are_limited_across_servers_on_one_store,
        ),
        tokio_test(
            "the_session_cookie_is_secure_behind_an_https_public_url",
            CurrentThread,
            the_session_cookie_is_secure_behind_an_https_public_url,
        ),
        tokio_test(
            "revoking_the_token_ends_the_session_and_signing_out_clears_it",
            CurrentThread,
            revoking_the_token_ends_the_session_and_signing_out_clears_it,
        ),
        tokio_test(
            "the_console_password_signs_in_to_a_named_environment",
            CurrentThread,
            the_console_password_signs_in_to_a_named_environment,
        ),
        tokio_test(
            "forms_without_the_csrf_token_or_from_another_site_are_refused",
            CurrentThread,
            forms_without_the_csrf_token_or_from_another_site_are_refused,
        ),
        tokio_test(
            "pages_carry_the_nonce_csp_and_scripts_use_its_nonce",
            CurrentThread,
            pages_carry_the_nonce_csp_and_scripts_use_its_nonce,
        ),
        tokio_test(
            "account_pages_filter_and_never_show_secrets",
            CurrentThread,
            account_pages_filter_and_never_show_secrets,
        ),
        tokio_test(
            "account_pages_list_the_events_about_the_account_newest_first",
            CurrentThread,
            account_pages_list_the_events_about_the_account_newest_first,
        ),
        tokio_test(
            "the_catalog_installs_a_bundled_config_in_one_step",
            CurrentThread,
            the_catalog_installs_a_bundled_config_in_one_step,
        ),
        tokio_test(
            "webhooks_show_deliveries_with_retries_and_send_tests",
            CurrentThread,
            webhooks_show_deliveries_with_retries_and_send_tests,
        ),
        tokio_test(
            "the_integration_form_reports_every_problem_at_once_and_saves_nothing",
            CurrentThread,
            the_integration_form_reports_every_problem_at_once_and_saves_nothing,
        ),
        tokio_test(
            "the_integration_form_saves_through_its_inputs_without_scripts",
            CurrentThread,
            the_integration_form_saves_through_its_inputs_without_scripts,
        ),
        tokio_test(
            "the_integration_form_takes_resources_and_actions_in_groups_without_scripts",
            CurrentThread,
            the_integration_form_takes_resources_and_actions_in_groups_without_scripts,
        ),
        tokio_test(
            "browser_signs_in_filters_and_reauthorizes_an_account_with_the_magic_link",
            CurrentThread,
            browser_signs_in_filters_and_reauthorizes_an_account_with_the_magic_link,
        )
        .needs(&CHROMIUM),
        tokio_test(
            "browser_creates_the_seed_002_salesforce_integration_through_the_form",
            CurrentThread,
            browser_creates_the_seed_002_salesforce_integration_through_the_form,
        )
        .needs(&CHROMIUM),
    ])
}

// ---- HTTP ----

/// A server whose client follows no redirects, and a browser's cookies for it.
struct Rig {
    server: TestServer,
}

impl std::ops::Deref for Rig {
    type Target = TestServer;

    fn deref(&self) -> &TestServer {
        &self.server
    }
}

/// The `name=value` of the `Set-Cookie` of `name` in `response`, and the
/// whole header.
fn set_cookie(response: &reqwest::Response, name: &str) -> Option<(String, String)> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| (v.split(';').next().unwrap().to_owned(), v.to_owned()))
}

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

impl Rig {
    async fn start() -> Self {
        Self::with(TestServer::builder()).await
    }

    /// Installs the catalog's Zendesk; answers the install id.
    async fn install_zendesk(&self) -> String {
        self.install(
            json!({"name": "zendesk", "config": support::connect::catalog_json("zendesk")}),
            None,
        )
        .await
        .install_id
    }

    async fn with(builder: support::Builder<'_>) -> Self {
        Self {
            server: builder.no_redirects().start().await,
        }
    }

    async fn get(&self, path: &str, cookie: Option<&str>) -> reqwest::Response {
        let mut request = self.client.get(self.url(path));
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        request.send().await.unwrap()
    }

    async fn post(
        &self,
        path: &str,
        cookie: Option<&str>,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = self.client.post(self.url(path)).form(form);
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        request.send().await.unwrap()
    }

    /// Opens the sign-in page: the binding cookie (`name=value`) and the form's token.
    async fn sign_in_form(&self) -> (String, String) {
        let response = self.get("/console/sign-in", None).await;
        assert_eq!(response.status(), StatusCode::OK);
        let (cookie, _) = set_cookie(&response, "patchbay_console_sign_in").expect("a binding");
        let html = response.text().await.unwrap();
        (cookie, hidden(&html, "csrf_token"))
    }

    /// Signs in with `fields`; answers the response.
    async fn try_sign_in(&self, fields: &[(&str, &str)]) -> reqwest::Response {
        let (cookie, csrf) = self.sign_in_form().await;
        let mut form = fields.to_vec();
        form.push(("csrf_token", &csrf));
        self.post("/console/sign-in", Some(&cookie), &form).await
    }

    /// Signs in with `token`; answers the session cookie (`name=value`).
    async fn sign_in_with(&self, token: &str) -> String {
        let response = self
            .try_sign_in(&[("token", token), ("next", "/console/accounts")])
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        set_cookie(&response, "patchbay_console")
            .expect("a session")
            .0
    }

    /// Signs in with the server's token.
    async fn sign_in(&self) -> String {
        self.sign_in_with(&self.token.clone()).await
    }

    /// GETs `path` signed in with `session`; asserts 200 and answers the HTML.
    async fn page(&self, path: &str, session: &str) -> String {
        let response = self.get(path, Some(session)).await;
        let status = response.status();
        let html = response.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{path}: {html}");
        html
    }
}

async fn pages_need_a_session_and_send_people_to_sign_in() {
    let rig = Rig::start().await;
    let response = rig.get("/console", None).await;
    assert!(response.status().is_redirection());
    assert_eq!(location(&response), "/console/accounts");
    for (path, next) in [
        ("/console/accounts", "%2Fconsole%2Faccounts"),
        (
            "/console/accounts?status=active",
            "%2Fconsole%2Faccounts%3Fstatus%3Dactive",
        ),
        ("/console/catalog", "%2Fconsole%2Fcatalog"),
        ("/console/webhooks", "%2Fconsole%2Fwebhooks"),
        (
            "/console/accounts/some-id",
            "%2Fconsole%2Faccounts%2Fsome-id",
        ),
    ] {
        let response = rig.get(path, None).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&response), format!("/console/sign-in?next={next}"));
    }
    // A forged or foreign cookie is no session either, and is cleared.
    let response = rig
        .get("/console/accounts", Some("patchbay_console=v1%3Aforged"))
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (cleared, _) = set_cookie(&response, "patchbay_console").unwrap();
    assert_eq!(cleared, "patchbay_console=");
    // POSTs too: nothing is done without a session.
    let response = rig.post("/console/sign-out", None, &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/console/sign-in");
    // The sign-in page itself is open, and `next` only ever leads into the console.
    let response = rig
        .get("/console/sign-in?next=https://evil.example/", None)
        .await;
    let html = response.text().await.unwrap();
    assert!(
        html.contains(r#"name="next" value="/console/accounts""#),
        "{html}"
    );
}

async fn a_bad_token_is_refused_and_a_good_one_gets_a_strict_session_cookie() {
    let rig = Rig::start().await;
    for bad in ["pb_not-a-token", "iat_not-a-token-either"] {
        let response = rig.try_sign_in(&[("token", bad)]).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(set_cookie(&response, "patchbay_console").is_none());
        let html = response.text().await.unwrap();
        assert!(html.contains("That API token is not valid"), "{html}");
        assert!(!html.contains(bad), "the token was echoed: {html}");
    }
    // No password is set: a password is no way in.
    let response = rig.try_sign_in(&[("password", PASSWORD)]).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    let response = rig
        .try_sign_in(&[("token", &rig.token), ("next", "/console/catalog")])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/console/catalog");
    let (session, header) = set_cookie(&response, "patchbay_console").unwrap();
    for attribute in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/console",
        "Max-Age=28800",
    ] {
        assert!(header.contains(attribute), "{attribute} missing: {header}");
    }
    assert!(!header.contains("Secure"), "plain http: {header}");
    assert!(
        !header.contains(&rig.token),
        "the token is sealed: {header}"
    );
    let html = rig.page("/console/catalog", &session).await;
    assert!(
        html.contains("Environment: <strong>default</strong>"),
        "{html}"
    );
    assert!(html.contains(r#"aria-current="page">Catalog"#), "{html}");
}

async fn sign_in_attempts_are_limited_per_client() {
    let rig = Rig::start().await;
    for attempt in 1..=10 {
        let response = rig.try_sign_in(&[("token", "pb_guess")]).await;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}"
        );
    }
    // The eleventh is refused before anything is checked, even the right token.
    let response = rig.try_sign_in(&[("token", &rig.token)]).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=6).contains(&wait), "{wait}");
    assert!(set_cookie(&response, "patchbay_console").is_none());
    let html = response.text().await.unwrap();
    assert!(html.contains("Too many sign-in attempts"), "{html}");
}

/// Two servers on one store (as two processes behind a load balancer) share
/// the limit: a client's attempts on both add up.
async fn sign_in_attempts_are_limited_across_servers_on_one_store() {
    let dir = tempfile::tempdir().unwrap();
    let first = Rig::with(TestServer::builder().data_dir(dir.path())).await;
    let second = Rig::with(
        TestServer::builder()
            .data_dir(dir.path())
            .token(first.token.clone()),
    )
    .await;
    for attempt in 1..=10 {
        let rig = if attempt % 2 == 0 { &first } else { &second };
        let response = rig.try_sign_in(&[("token", "pb_guess")]).await;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}"
        );
    }
    for rig in [&first, &second] {
        let response = rig.try_sign_in(&[("token", &rig.token)]).await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(response.headers().contains_key("retry-after"));
    }
}

async fn the_session_cookie_is_secure_behind_an_https_public_url() {
    let rig = Rig::with(TestServer::builder().public_url_at("https://console.example.com")).await;
    let response = rig.get("/console/sign-in", None).await;
    let (_, binding) = set_cookie(&response, "patchbay_console_sign_in").unwrap();
    assert!(binding.ends_with("; Secure"), "{binding}");
    let response = rig.try_sign_in(&[("token", &rig.token)]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, header) = set_cookie(&response, "patchbay_console").unwrap();
    assert!(header.contains("; Secure"), "{header}");
    assert!(header.contains("SameSite=Strict"), "{header}");
}

async fn revoking_the_token_ends_the_session_and_signing_out_clears_it() {
    let rig = Rig::start().await;
    let created = rig
        .store
        .create_api_token(&rig.environment_id, "console")
        .await
        .unwrap();
    let session = rig.sign_in_with(created.plaintext.expose()).await;
    rig.page("/console/accounts", &session).await;
    rig.store
        .delete_api_token(&rig.environment_id, &created.token.id)
        .await
        .unwrap();
    let response = rig.get("/console/accounts", Some(&session)).await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "the token is gone"
    );

    let session = rig.sign_in().await;
    let html = rig.page("/console/accounts", &session).await;
    let csrf = hidden(&html, "csrf_token");
    let response = rig
        .post(
            "/console/sign-out",
            Some(&session),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/console/sign-in?signed_out=1");
    let (cleared, header) = set_cookie(&response, "patchbay_console").unwrap();
    assert_eq!(cleared, "patchbay_console=");
    assert!(header.contains("Max-Age=0"), "{header}");
    let html = rig
        .get("/console/sign-in?signed_out=1", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("You are signed out."), "{html}");
}

async fn the_console_password_signs_in_to_a_named_environment() {
    let options = ConsoleOptions::new().with_password(PASSWORD).unwrap();
    let rig = Rig::with(TestServer::builder().console(options)).await;
    let html = rig
        .get("/console/sign-in", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(r#"id="password""#), "{html}");
    for fields in [
        [("password", "not the password"), ("environment", "default")],
        [("password", PASSWORD), ("environment", "nope")],
    ] {
        let response = rig.try_sign_in(&fields).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let html = response.text().await.unwrap();
        assert!(
            html.contains("The password or the environment is not right."),
            "{html}"
        );
    }
    // One environment: its name may be left out.
    let response = rig
        .try_sign_in(&[("password", PASSWORD), ("environment", "")])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let other = rig.store.create_environment("staging").await.unwrap();
    let response = rig
        .try_sign_in(&[("password", PASSWORD), ("environment", "")])
        .await;
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "two environments: name one"
    );
    let response = rig
        .try_sign_in(&[("password", PASSWORD), ("environment", "staging")])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (session, _) = set_cookie(&response, "patchbay_console").unwrap();
    let html = rig.page("/console/accounts", &session).await;
    assert!(
        html.contains("Environment: <strong>staging</strong>"),
        "{html}"
    );
    assert!(!other.id.is_empty());
}

async fn forms_without_the_csrf_token_or_from_another_site_are_refused() {
    let rig = Rig::start().await;
    let install = rig.install_zendesk().await;
    let account = rig.import(&install, "acme", json!({})).await;
    let id = account["id"].as_str().unwrap();
    let session = rig.sign_in().await;
    let html = rig
        .page(&format!("/console/accounts/{id}/reauthorize"), &session)
        .await;
    let csrf = hidden(&html, "csrf_token");
    let path = format!("/console/accounts/{id}/reauthorize");
    let other_session = rig.sign_in().await;
    let other_html = rig.page("/console/accounts", &other_session).await;
    let other_csrf = hidden(&other_html, "csrf_token");
    assert_ne!(csrf, other_csrf, "every session has its own token");
    for form in [
        vec![],
        vec![("csrf_token", "")],
        vec![("csrf_token", other_csrf.as_str())],
    ] {
        let response = rig.post(&path, Some(&session), &form).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{form:?}");
        let html = response.text().await.unwrap();
        assert!(html.contains("nothing was changed"), "{html}");
        assert!(!html.contains("connect-account?link_token="), "{html}");
    }
    let cross_site = rig
        .client
        .post(rig.url(&path))
        .header(COOKIE, &session)
        .header("sec-fetch-site", "cross-site")
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    let foreign_origin = rig
        .client
        .post(rig.url(&path))
        .header(COOKIE, &session)
        .header("origin", "https://evil.example")
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(foreign_origin.status(), StatusCode::FORBIDDEN);
    // The sign-in form needs the browser's binding too (no login CSRF).
    let (_, binding_csrf) = rig.sign_in_form().await;
    let response = rig
        .post(
            "/console/sign-in",
            None,
            &[("token", &rig.token), ("csrf_token", &binding_csrf)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // With its token, the same form works.
    let response = rig
        .post(&path, Some(&session), &[("csrf_token", &csrf)])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(
        html.contains(&format!("{}/connect-account?link_token=", rig.base)),
        "{html}"
    );
}

async fn pages_carry_the_nonce_csp_and_scripts_use_its_nonce() {
    let rig = Rig::start().await;
    let response = rig.get("/console/sign-in", None).await;
    let headers = response.headers().clone();
    let csp = headers[CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    for part in [
        "default-src 'none'",
        "script-src 'nonce-",
        "form-action 'self';",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(part), "{part} not in {csp}");
    }
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let again = rig.get("/console/sign-in", None).await;
    assert_ne!(
        again.headers()[CONTENT_SECURITY_POLICY],
        headers[CONTENT_SECURITY_POLICY],
        "a new nonce per page"
    );

    // The magic link page's copy script runs by the header's nonce.
    let install = rig.install_zendesk().await;
    let account = rig.import(&install, "acme", json!({})).await;
    let id = account["id"].as_str().unwrap();
    let session = rig.sign_in().await;
    let path = format!("/console/accounts/{id}/reauthorize");
    let csrf = hidden(&rig.page(&path, &session).await, "csrf_token");
    let response = rig
        .post(&path, Some(&session), &[("csrf_token", &csrf)])
        .await;
    let csp = response.headers()[CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap()
        .to_owned();
    let html = response.text().await.unwrap();
    assert!(
        html.contains(&format!(r#"<script nonce="{nonce}">"#)),
        "{html}"
    );
    assert_eq!(html.matches("<script").count(), 1, "{html}");
}

async fn account_pages_filter_and_never_show_secrets() {
    let rig = Rig::start().await;
    let zendesk = rig.install_zendesk().await;
    let secret = "zd-secret-api-token-value";
    let acme = rig
        .import(
            &zendesk,
            "acme",
            json!({"context": {"subdomain": "acme", "email": "agent@acme.test", "api_token": secret}}),
        )
        .await;
    let globex = rig.import(&zendesk, "globex<script>", json!({})).await;
    let globex_id = globex["id"].as_str().unwrap();
    rig.patch_ok(
        &format!("/integrated-account/{globex_id}"),
        json!({"status": "needs_reauth", "last_error": "401 from Zendesk"}),
    )
    .await;
    let session = rig.sign_in().await;

    let html = rig.page("/console/accounts", &session).await;
    assert!(html.contains(">acme</a>"), "{html}");
    assert!(html.contains("globex&lt;script&gt;"), "escaped: {html}");
    assert!(!html.contains("globex<script>"), "{html}");
    assert!(html.contains(">Zendesk</option>"), "{html}");
    let html = rig
        .page("/console/accounts?status=needs_reauth", &session)
        .await;
    assert!(
        !html.contains(">acme</a>") && html.contains("401 from Zendesk"),
        "{html}"
    );
    let html = rig.page("/console/accounts?tenant_id=acme", &session).await;
    assert!(
        html.contains(">acme</a>") && !html.contains("globex"),
        "{html}"
    );
    let html = rig
        .page(
            &format!("/console/accounts?integration={zendesk}&status=active"),
            &session,
        )
        .await;
    assert!(
        html.contains(">acme</a>") && !html.contains("globex"),
        "{html}"
    );
    let html = rig
        .page("/console/accounts?tenant_id=nobody", &session)
        .await;
    assert!(html.contains("No integrated accounts match"), "{html}");

    let acme_id = acme["id"].as_str().unwrap();
    let html = rig
        .page(&format!("/console/accounts/{acme_id}"), &session)
        .await;
    assert!(html.contains("agent@acme.test"), "{html}");
    assert!(html.contains("<dt>subdomain</dt>"), "{html}");
    assert!(!html.contains(secret), "a secret was shown: {html}");
    assert!(!html.contains("api_token"), "{html}");
    assert!(html.contains("Re-authorize connection"), "{html}");

    // Another environment's account is not found, as in the API.
    let other = rig.other_environment_token().await;
    let other_session = rig.sign_in_with(&other).await;
    let response = rig
        .get(
            &format!("/console/accounts/{acme_id}"),
            Some(&other_session),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("There is nothing here in this environment"),
        "{html}"
    );
}

/// The ids of the event rows (`<tr id="event-...">`) of an account page, in order.
fn event_rows(html: &str) -> Vec<String> {
    html.split("<tr id=\"event-")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_owned())
        .collect()
}

/// An account's page and the ids of its event rows, in order.
async fn events_page(rig: &Rig, session: &str, account: &str) -> (String, Vec<String>) {
    let html = rig
        .page(&format!("/console/accounts/{account}"), session)
        .await;
    let rows = event_rows(&html);
    (html, rows)
}

async fn account_pages_list_the_events_about_the_account_newest_first() {
    let rig = Rig::start().await;
    let zendesk = rig.install_zendesk().await;
    let session = rig.sign_in().await;
    let acme = rig.import(&zendesk, "acme", json!({})).await;
    let acme_id = acme["id"].as_str().unwrap();
    let html = rig
        .page(&format!("/console/accounts/{acme_id}"), &session)
        .await;
    assert!(
        html.contains("No events were queued about this account"),
        "no webhook subscribed then: {html}"
    );

    rig.subscribe(
        "https://hooks.example/patchbay?token=hook-secret",
        &["integrated_account:*"],
    )
    .await;
    let globex = rig.import(&zendesk, "globex", json!({})).await;
    let globex_id = globex["id"].as_str().unwrap();
    rig.patch_ok(
        &format!("/integrated-account/{acme_id}"),
        json!({"status": "needs_reauth", "last_error": "401 from Zendesk"}),
    )
    .await;
    let acme_events = rig
        .store
        .account_events(&rig.environment_id, acme_id, 10)
        .await
        .unwrap();
    let globex_events = rig
        .store
        .account_events(&rig.environment_id, globex_id, 10)
        .await
        .unwrap();
    assert_eq!(acme_events.len(), 1, "{acme_events:?}");
    assert_eq!(globex_events.len(), 1, "{globex_events:?}");

    let (html, rows) = events_page(&rig, &session, acme_id).await;
    assert_eq!(rows, [acme_events[0].event_id.clone()], "{html}");
    assert!(
        html.contains("<code>integrated_account:updated</code>"),
        "{html}"
    );
    assert!(
        !html.contains("integrated_account:created"),
        "globex's: {html}"
    );
    assert!(html.contains("https://hooks.example/patchbay"), "{html}");
    assert!(
        !html.contains("hook-secret"),
        "the URL's query is masked: {html}"
    );
    assert!(
        html.find("id=\"events\"").unwrap() < html.find("id=\"calls\"").unwrap(),
        "events, then calls: {html}"
    );

    // Newest first: a second change of acme comes before the first.
    rig.patch_ok(
        &format!("/integrated-account/{acme_id}"),
        json!({"status": "active", "last_error": null}),
    )
    .await;
    let (html, rows) = events_page(&rig, &session, acme_id).await;
    assert_eq!(rows.len(), 2, "{html}");
    assert_eq!(rows[1], acme_events[0].event_id, "{html}");
    assert!(!rows.contains(&globex_events[0].event_id), "{html}");
    assert!(html.contains("Queued"), "{html}");
    let (html, rows) = events_page(&rig, &session, globex_id).await;
    assert_eq!(rows, [globex_events[0].event_id.clone()], "{html}");
    assert!(
        html.contains("<code>integrated_account:created</code>"),
        "{html}"
    );
}

async fn the_catalog_installs_a_bundled_config_in_one_step() {
    let rig = Rig::start().await;
    let session = rig.sign_in().await;
    let html = rig.page("/console/catalog", &session).await;
    for slug in ["salesforce", "zendesk", "slack", "github"] {
        assert!(
            html.contains(&format!(r#"id="install-{slug}""#)),
            "{slug}: {html}"
        );
    }
    let csrf = hidden(&html, "csrf_token");

    // Problems come back next to the form, nothing is created.
    let response = rig
        .post(
            "/console/catalog/install",
            Some(&session),
            &[
                ("csrf_token", &csrf),
                ("slug", "zendesk"),
                ("override", "{\"base_url\": 5}"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(html.contains("config.base_url"), "{html}");
    assert!(
        html.contains("{&quot;base_url&quot;: 5}"),
        "the form keeps its input: {html}"
    );
    let response = rig
        .post(
            "/console/catalog/install",
            Some(&session),
            &[
                ("csrf_token", &csrf),
                ("slug", "zendesk"),
                ("override", "[1"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (_, list) = rig.send(reqwest::Method::GET, "/integration", None).await;
    assert_eq!(list["result"].as_array().unwrap().len(), 0, "{list}");

    let response = rig
        .post(
            "/console/catalog/install",
            Some(&session),
            &[
                ("csrf_token", &csrf),
                ("slug", "salesforce"),
                ("base_url", ""),
                ("client_id", "sf-client"),
                ("client_secret", "sf-client-secret"),
                ("override", ""),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/console/catalog?installed=salesforce");
    let html = rig
        .page("/console/catalog?installed=salesforce", &session)
        .await;
    assert!(html.contains("salesforce is installed"), "{html}");
    assert!(!html.contains(r#"id="install-salesforce""#), "{html}");
    assert!(!html.contains("sf-client-secret"), "{html}");
    let (_, installs) = rig
        .send(reqwest::Method::GET, "/environment-integration", None)
        .await;
    let install = &installs["result"][0];
    assert_eq!(
        install["override"]["credentials"]["config"]["client"]["id"],
        "sf-client"
    );
    let stored = rig
        .store
        .get_environment_integration(&rig.environment_id, install["id"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(
        stored.override_.unwrap()["credentials"]["config"]["client"]["secret"],
        "sf-client-secret"
    );
    let response = rig
        .post(
            "/console/catalog/install",
            Some(&session),
            &[
                ("csrf_token", &csrf),
                ("slug", "zendesk"),
                ("base_url", "https://zd.example.com/api/v2"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, installs) = rig
        .send(reqwest::Method::GET, "/environment-integration", None)
        .await;
    assert_eq!(
        installs["result"][1]["override"]["base_url"],
        "https://zd.example.com/api/v2"
    );
    // Installing again is the API's conflict, shown as a page.
    let response = rig
        .post(
            "/console/catalog/install",
            Some(&session),
            &[
                ("csrf_token", &csrf),
                (
                    "integration_id",
                    installs["result"][1]["integration_id"].as_str().unwrap(),
                ),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
}

/// A receiver that answers 500 to its first request and 200 after; counts them.
async fn flaky_receiver() -> (String, Arc<AtomicUsize>) {
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let counter = counter.clone();
            async move {
                if counter.fetch_add(1, Ordering::SeqCst) == 0 {
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    axum::http::StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/hook?key=receiver-secret",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

fn fast_delivery() -> DeliveryOptions {
    DeliveryOptions::default()
        .with_destinations(
            patchbay::egress::DestinationPolicy::from_allow_list("loopback").unwrap(),
        )
        .with_poll_interval(Duration::from_millis(10))
        .with_backoff(Duration::from_millis(10), Duration::from_millis(40))
        .with_request_timeout(Duration::from_secs(5))
        .with_attempt_logs(true)
}

async fn webhooks_show_deliveries_with_retries_and_send_tests() {
    let rig = Rig::start().await;
    let session = rig.sign_in().await;
    let html = rig.page("/console/webhooks", &session).await;
    assert!(
        html.contains("No webhooks.") && html.contains("No deliveries yet."),
        "{html}"
    );

    let (url, seen) = flaky_receiver().await;
    rig.subscribe(&url, &["integrated_account:*"]).await;
    rig.subscribe("https://off.example.com/hook", &["*"]).await;
    let (_, hooks) = rig.send(reqwest::Method::GET, "/webhook", None).await;
    let first = hooks["result"][0]["id"].as_str().unwrap().to_owned();
    let second = hooks["result"][1]["id"].as_str().unwrap().to_owned();
    rig.patch_ok(&format!("/webhook/{second}"), json!({"is_active": false}))
        .await;

    let html = rig.page("/console/webhooks", &session).await;
    assert!(
        !html.contains("receiver-secret"),
        "the URL's query is masked: {html}"
    );
    assert!(html.contains(&format!(r#"id="test-{first}""#)), "{html}");
    assert!(!html.contains(&format!(r#"id="test-{second}""#)), "{html}");
    assert!(html.contains("Inactive webhooks receive nothing"), "{html}");
    let csrf = hidden(&html, "csrf_token");
    let response = rig
        .post(
            &format!("/console/webhooks/{first}/test"),
            Some(&session),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&response),
        format!("/console/webhooks?sent={first}")
    );
    let response = rig
        .post(
            &format!("/console/webhooks/{second}/test"),
            Some(&session),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::CONFLICT,
        "an inactive webhook"
    );

    let worker = patchbay_server::delivery::spawn(rig.store.clone(), fast_delivery()).unwrap();
    for _ in 0..200 {
        if seen.load(Ordering::SeqCst) >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    worker.shutdown().await;
    let html = rig.page("/console/webhooks?sent=1", &session).await;
    assert!(html.contains("A test event is queued"), "{html}");
    assert!(
        html.contains("2 (1 retry)") && html.contains("Delivered (HTTP 200)"),
        "{html}"
    );
    assert!(
        html.contains("1 (first try)") && html.contains("Failed (HTTP 500)"),
        "{html}"
    );
}

async fn the_integration_form_reports_every_problem_at_once_and_saves_nothing() {
    let rig = Rig::start().await;
    let session = rig.sign_in().await;
    let html = rig.page("/console/integrations/new", &session).await;
    let csrf = hidden(&html, "csrf_token");
    let post = |form: Vec<(&'static str, String)>| {
        let session = session.clone();
        let csrf = csrf.clone();
        let rig = &rig;
        async move {
            let mut form = form;
            form.push(("csrf_token", csrf));
            let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let response = rig
                .post("/console/integrations/new", Some(&session), &fields)
                .await;
            let status = response.status();
            (status, response.text().await.unwrap())
        }
    };
    let (status, html) = post(vec![
        ("mode", "form".into()),
        ("action", "save".into()),
        ("name", "Not A Slug".into()),
        ("label", "X".into()),
        ("base_url", "https://api.example.com".into()),
        ("pagination", "{".into()),
        (
            "resources",
            "{\"users\": {\"list\": {\"method\": \"get\"}}}".into(),
        ),
    ])
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains(r#"id="f-name-error""#), "{html}");
    assert!(html.contains(r#"id="f-pagination-error""#), "{html}");
    assert!(html.contains("is not JSON"), "{html}");
    assert!(html.contains(r#"value="Not A Slug""#), "kept: {html}");
    // The raw view: its problems are next to the one field.
    let (status, html) = post(vec![
        ("mode", "raw".into()),
        ("action", "save".into()),
        ("name", "custom".into()),
        ("raw", "{\"base_url\": 5}".into()),
    ])
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains(r#"id="f-raw-error""#) && html.contains("base_url"),
        "{html}"
    );
    // Switching views keeps what was typed.
    let (status, html) = post(vec![
        ("mode", "raw".into()),
        ("action", "form".into()),
        ("name", "custom".into()),
        (
            "raw",
            "{\"base_url\": \"https://x.example.com\", \"webhook\": {}}".into(),
        ),
    ])
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"value="https://x.example.com""#), "{html}");
    assert!(
        html.contains("&quot;webhook&quot;"),
        "other keys kept: {html}"
    );
    let (_, list) = rig.send(reqwest::Method::GET, "/integration", None).await;
    assert_eq!(list["result"].as_array().unwrap().len(), 0, "nothing saved");
    // A form without the session's token changes nothing.
    let response = rig
        .post(
            "/console/integrations/new",
            Some(&session),
            &[
                ("mode", "raw"),
                ("action", "save"),
                ("name", "x"),
                ("raw", "{}"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // An identifier in use is the API's conflict, shown at the identifier.
    rig.install(
        json!({"name": "zendesk", "config": support::connect::catalog_json("zendesk")}),
        None,
    )
    .await;
    let config = support::connect::catalog_json("zendesk").to_string();
    let (status, html) = post(vec![
        ("mode", "raw".into()),
        ("action", "save".into()),
        ("name", "zendesk".into()),
        ("raw", config),
    ])
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{html}");
    assert!(html.contains(r#"id="f-name-error""#), "{html}");

    // Editing: a change made meanwhile is reported, not overwritten.
    let (_, list) = rig.send(reqwest::Method::GET, "/integration", None).await;
    let id = list["result"][0]["id"].as_str().unwrap().to_owned();
    let edit = format!("/console/integrations/{id}/edit");
    let html = rig.page(&edit, &session).await;
    assert!(html.contains(r#"name="version" value="1""#), "{html}");
    assert!(
        html.contains(r#"value="Zendesk""#),
        "the label is in its field: {html}"
    );
    rig.patch_ok(
        &format!("/integration/{id}"),
        json!({"version": 1, "category": "helpdesk"}),
    )
    .await;
    let response = rig
        .post(
            &edit,
            Some(&session),
            &[
                ("csrf_token", csrf.as_str()),
                ("mode", "raw"),
                ("action", "save"),
                ("version", "1"),
                ("name", "zendesk"),
                (
                    "raw",
                    &support::connect::catalog_json("zendesk").to_string(),
                ),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let (_, after) = rig
        .send(reqwest::Method::GET, &format!("/integration/{id}"), None)
        .await;
    assert_eq!(after["category"], "helpdesk", "not overwritten: {after}");
}

/// The form posted as a browser without scripts would: one input per key
/// (format choices, rows, name/value pairs), a problem on its input, then
/// the saved config.
async fn the_integration_form_saves_through_its_inputs_without_scripts() {
    let rig = Rig::start().await;
    let session = rig.sign_in().await;
    let html = rig.page("/console/integrations/new", &session).await;
    // Every format's keys are in the page (scripts only hide the others),
    // each input labelled.
    for id in [
        "f-pagination-format",
        "f-pagination-cursor-config-cursor_path",
        "f-pagination-page-config-page_key",
        "f-credentials-oauth-config-auth-tokenHost",
        "f-authorization-basic-config-username",
        "f-rate_limit-is_rate_limited",
    ] {
        assert!(
            html.contains(&format!(r#"<label for="{id}">"#)),
            "{id}: {html}"
        );
    }
    assert!(
        html.contains(r#"id="f-credentials-fields-0-name""#)
            && html.contains(r#"aria-label="Name (row 1)""#),
        "{html}"
    );
    let csrf = hidden(&html, "csrf_token");
    let mut form = vec![
        ("csrf_token", csrf.as_str()),
        ("mode", "form"),
        ("action", "save"),
        ("name", "helpdesk"),
        ("label", "Helpdesk"),
        ("base_url", "https://{{subdomain}}.helpdesk.example.com/api"),
        ("credentials-format", "api_key"),
        ("credentials-fields-0-name", "subdomain"),
        ("credentials-fields-0-label", "Subdomain"),
        ("credentials-fields-0-type", "text"),
        ("credentials-fields-0-required", "true"),
        (
            "credentials-fields-0-more",
            r#"{"help_text": "acme for acme.helpdesk"}"#,
        ),
        ("credentials-fields-1-name", "api_token"),
        ("credentials-fields-1-type", "password"),
        ("credentials-fields-2-name", ""),
        ("authorization-format", "basic"),
        ("authorization-basic-config-username", "{{api_token}}"),
        (
            "authorization-bearer-config-token",
            "ignored: not the chosen format",
        ),
        ("headers-entries-0-name", "Accept"),
        ("headers-entries-0-value", "application/json"),
        ("pagination-format", "page"),
        ("pagination-page-config-page_key", "page"),
        ("pagination-page-config-max_limit", "a hundred"),
        ("pagination-cursor-config-cursor_path", "ignored too"),
    ];
    let response = rig
        .post("/console/integrations/new", Some(&session), &form)
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(
        html.contains(r#"id="f-pagination-page-config-max_limit-error""#)
            && html.contains("must be a whole number"),
        "{html}"
    );
    assert!(html.contains(r#"value="a hundred""#), "kept: {html}");
    let (_, list) = rig.send(reqwest::Method::GET, "/integration", None).await;
    assert_eq!(list["result"].as_array().unwrap().len(), 0, "nothing saved");

    let fixed = form
        .iter_mut()
        .find(|(k, _)| *k == "pagination-page-config-max_limit");
    fixed.unwrap().1 = "100";
    let response = rig
        .post("/console/integrations/new", Some(&session), &form)
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, list) = rig.send(reqwest::Method::GET, "/integration", None).await;
    assert_eq!(
        list["result"][0]["config"],
        json!({
            "label": "Helpdesk",
            "credentials": {"format": "api_key", "config": {"fields": [
                {"name": "subdomain", "label": "Subdomain", "type": "text", "required": true,
                 "help_text": "acme for acme.helpdesk"},
                {"name": "api_token", "type": "password"}
            ]}},
            "authorization": {"format": "basic", "config": {"username": "{{api_token}}"}},
            "base_url": "https://{{subdomain}}.helpdesk.example.com/api",
            "headers": {"Accept": "application/json"},
            "pagination": {"format": "page", "config": {"page_key": "page", "max_limit": 100}}
        })
    );
}

/// Resources and actions posted as a browser without scripts would: "Add
/// another ..." shows the form again as typed with a blank group more; a
/// problem lands on its method's input; blank groups are left out.
async fn the_integration_form_takes_resources_and_actions_in_groups_without_scripts() {
    let rig = Rig::start().await;
    let session = rig.sign_in().await;
    let html = rig.page("/console/integrations/new", &session).await;
    // One blank resource with one blank method, one blank action with one
    // blank step; every input labelled, each group a fieldset with a legend.
    for id in [
        "f-resources-0-name",
        "f-resources-0-methods-0-name",
        "f-resources-0-methods-0-method",
        "f-resources-0-methods-0-path",
        "f-resources-0-methods-0-response_path",
        "f-resources-0-methods-0-more",
        "f-actions-0-name",
        "f-actions-0-steps-0-type",
        "f-actions-0-steps-0-expression",
        "f-actions-0-steps-0-path",
        "f-actions-0-steps-0-more",
    ] {
        assert!(
            html.contains(&format!(r#"<label for="{id}">"#)),
            "{id}: {html}"
        );
    }
    assert!(
        html.contains(r#"aria-label="Query parameter 1 name""#),
        "{html}"
    );
    assert!(
        html.contains(
            r#"<fieldset class="group" id="f-resources-0-methods-0"><legend>New method</legend>"#
        ),
        "{html}"
    );
    assert!(!html.contains("f-resources-1-name"), "{html}");
    let csrf = hidden(&html, "csrf_token");
    let mut form = vec![
        ("csrf_token", csrf.as_str()),
        ("mode", "form"),
        ("action", "more"),
        ("name", "helpdesk"),
        ("label", "Helpdesk"),
        ("base_url", "https://api.helpdesk.example.com"),
        ("resources-0-name", "tickets"),
        ("resources-0-methods-0-name", "list"),
        ("resources-0-methods-0-method", ""),
        ("resources-0-methods-0-path", "/tickets"),
        ("resources-0-methods-0-response_path", "tickets"),
        ("resources-0-methods-0-query-0-name", "sort"),
        ("resources-0-methods-0-query-0-value", "updated_at"),
        ("resources-0-methods-0-query-1-name", ""),
        ("resources-0-methods-0-query-1-value", ""),
        ("resources-0-methods-0-more", ""),
        ("resources-1-name", ""),
        ("resources-1-methods-0-name", ""),
        ("resources-1-methods-0-path", ""),
        ("actions-0-name", "post_install"),
        ("actions-0-steps-0-type", "set_context"),
        ("actions-0-steps-0-context-0-name", "region"),
        ("actions-0-steps-0-context-0-value", "eu"),
        ("actions-0-steps-0-expression", "ignored: not a transform"),
        ("actions-1-name", ""),
        ("actions-1-steps-0-type", ""),
    ];
    let response = rig
        .post("/console/integrations/new", Some(&session), &form)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(
        html.contains(r#"<legend>Resource: tickets</legend>"#)
            && html.contains(r#"id="f-resources-0-methods-1-name""#)
            && html.contains(r#"id="f-resources-1-name""#),
        "a blank method and resource more: {html}"
    );
    assert!(
        !html.contains(r#"id="f-resources-2-name""#)
            && !html.contains(r#"id="f-resources-0-methods-0-query-2-name""#)
            && !html.contains(r#"id="f-actions-1-steps-1-type""#),
        "blank groups do not pile up: {html}"
    );
    assert!(html.contains(r#"value="updated_at""#), "kept: {html}");
    let (_, list) = rig.send(reqwest::Method::GET, "/integration", None).await;
    assert_eq!(list["result"].as_array().unwrap().len(), 0, "nothing saved");

    // Save, with a second method whose HTTP method the API does not know.
    form[2].1 = "save";
    form.extend([
        ("resources-0-methods-1-name", "get"),
        ("resources-0-methods-1-path", "/tickets/{{id}}"),
        ("resources-0-methods-1-more", r#"{"method": "fetch"}"#),
    ]);
    let response = rig
        .post("/console/integrations/new", Some(&session), &form)
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(
        html.contains(r#"id="f-resources-0-methods-1-more-error""#)
            && html.contains("resources.tickets.get.method"),
        "{html}"
    );
    let more = form.len() - 1;
    form[more].1 = r#"{"pagination": null}"#;
    let response = rig
        .post("/console/integrations/new", Some(&session), &form)
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, list) = rig.send(reqwest::Method::GET, "/integration", None).await;
    let config = &list["result"][0]["config"];
    assert_eq!(
        config["resources"],
        json!({"tickets": {
            "list": {"path": "/tickets", "query": {"sort": "updated_at"}, "response_path": "tickets"},
            "get": {"path": "/tickets/{{id}}", "pagination": null}
        }})
    );
    assert_eq!(
        config["actions"],
        json!({"post_install": {"steps": [{"type": "set_context", "config": {"region": "eu"}}]}})
    );
}

// ---- the browser ----

/// Where screenshots go when `PATCHBAY_CONSOLE_SCREENSHOTS` is set.
fn screenshot_dir() -> Option<std::path::PathBuf> {
    std::env::var_os("PATCHBAY_CONSOLE_SCREENSHOTS")
        .map(|_| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/console"))
}

/// Saves the page as `docs/console/{name}.png` when screenshots are asked for.
async fn screenshot(client: &fantoccini::Client, name: &str) {
    if let Some(dir) = screenshot_dir() {
        std::fs::create_dir_all(&dir).unwrap();
        let png = client.screenshot().await.unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }
}

/// Presses and releases `key` on whatever has the focus.
async fn press(client: &fantoccini::Client, key: Key) {
    let key: char = key.into();
    let actions = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: key })
        .then(KeyAction::Up { value: key });
    client.perform_actions(actions).await.unwrap();
}

async fn click(client: &fantoccini::Client, css: &str) {
    client
        .wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

async fn type_into(client: &fantoccini::Client, css: &str, text: &str) {
    let input = client.wait().for_element(Locator::Css(css)).await.unwrap();
    input.clear().await.unwrap();
    input.send_keys(text).await.unwrap();
}

/// The rows of the accounts table (none when it says nothing matches).
async fn account_rows(client: &fantoccini::Client) -> Vec<String> {
    let mut rows = Vec::new();
    for row in client
        .find_all(Locator::Css("#accounts tbody tr"))
        .await
        .unwrap()
    {
        rows.push(row.text().await.unwrap());
    }
    rows
}

/// Connects a Salesforce account for `tenant` through the connect pages in
/// the browser; answers its id.
async fn connect_salesforce(
    client: &fantoccini::Client,
    rig: &Rig,
    install: &str,
    tenant: &str,
) -> String {
    let token = rig.link_token_for(tenant, install).await;
    client
        .goto(&format!("{}/connect-account?link_token={token}", rig.base))
        .await
        .unwrap();
    click(client, "#connect").await;
    wait_for_text(client, "#result").await;
    let result = client.find(Locator::Css("#result")).await.unwrap();
    assert_eq!(
        result.attr("data-status").await.unwrap().as_deref(),
        Some("active")
    );
    result.attr("data-account").await.unwrap().unwrap()
}

async fn browser_signs_in_filters_and_reauthorizes_an_account_with_the_magic_link() {
    let driver = chromedriver().await;
    let rig = Rig::with(TestServer::builder().public_url()).await;
    let sim: RunningSimulator = start_simulator().await;
    let salesforce = rig.install_simulated(&sim, Provider::Salesforce).await;
    let zendesk = rig.install_simulated(&sim, Provider::Zendesk).await;
    rig.import(&zendesk, "acme", json!({"context": {"subdomain": "acme", "email": "agent@acme.test", "api_token": "zd-token"}}))
        .await;
    let globex = rig
        .import(
            &zendesk,
            "globex",
            json!({"context": {"subdomain": "globex"}}),
        )
        .await;
    rig.patch_ok(
        &format!("/integrated-account/{}", globex["id"].as_str().unwrap()),
        json!({"status": "validation_error", "last_error": "the API token was refused (401)"}),
    )
    .await;
    let (hook_url, hook_seen) = flaky_receiver().await;
    rig.subscribe(&hook_url, &["integrated_account:*"]).await;

    let profile = tempfile::tempdir().unwrap();
    let client = browser(&driver, profile.path()).await;
    client.set_window_size(1280, 900).await.unwrap();
    let account = connect_salesforce(&client, &rig, &salesforce, "initech").await;
    // The provider revoked the app: the account needs to be re-authorized.
    rig.patch_ok(
        &format!("/integrated-account/{account}"),
        json!({"status": "needs_reauth", "last_error": "the refresh token was revoked"}),
    )
    .await;

    // Sign in: the console sends us to the sign-in page and back.
    client.goto(&format!("{}/console", rig.base)).await.unwrap();
    assert_eq!(wait_for_text(&client, "h1").await, "Sign in");
    screenshot(&client, "sign-in").await;
    // By keyboard: the skip link comes first, then the token field; Enter submits.
    press(&client, Key::Tab).await;
    let focused = client.active_element().await.unwrap();
    assert_eq!(focused.text().await.unwrap(), "Skip to the content");
    press(&client, Key::Tab).await;
    let focused = client.active_element().await.unwrap();
    assert_eq!(focused.attr("id").await.unwrap().as_deref(), Some("token"));
    focused.send_keys("pb_wrong").await.unwrap();
    press(&client, Key::Enter).await;
    let error = wait_for_text(&client, "#sign-in-error").await;
    assert!(error.contains("not valid"), "{error}");
    type_into(&client, "#token", &rig.token).await;
    click(&client, "#sign-in").await;
    assert_eq!(wait_for_text(&client, "h1").await, "Integrated accounts");
    assert_eq!(
        client.current_url().await.unwrap().path(),
        "/console/accounts"
    );
    assert_eq!(account_rows(&client).await.len(), 3);
    screenshot(&client, "accounts").await;

    // Filter by status, then by tenant.
    client
        .find(Locator::Css("#status option[value=needs_reauth]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    click(&client, "#apply-filters").await;
    wait_for_text(&client, "#accounts").await;
    let rows = account_rows(&client).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(
        rows[0].contains("initech") && rows[0].contains("needs reauth"),
        "{rows:?}"
    );
    client
        .find(Locator::Css("a[href='/console/accounts']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&client, "#accounts").await;
    type_into(&client, "#tenant_id", "globex").await;
    click(&client, "#apply-filters").await;
    wait_for_text(&client, "#accounts").await;
    let rows = account_rows(&client).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0].contains("validation error"), "{rows:?}");
    screenshot(&client, "accounts-filtered").await;

    // Seed 001: the account → Re-authorize connection → Get connection link → Magic link.
    client
        .goto(&format!("{}/console/accounts?tenant_id=initech", rig.base))
        .await
        .unwrap();
    click(&client, "#accounts tbody a").await;
    assert_eq!(
        wait_for_text(&client, "#account-status").await,
        "needs reauth"
    );
    assert!(
        wait_for_text(&client, "#last-error")
            .await
            .contains("revoked")
    );
    screenshot(&client, "account").await;
    click(&client, "#reauthorize").await;
    assert_eq!(
        wait_for_text(&client, "h1").await,
        "Re-authorize connection"
    );
    screenshot(&client, "reauthorize").await;
    click(&client, "#get-link").await;
    assert_eq!(wait_for_text(&client, "h1").await, "Connection link");
    let magic = client.find(Locator::Css("#magic-link")).await.unwrap();
    let href = magic.attr("href").await.unwrap().unwrap();
    assert!(
        href.starts_with(&format!("{}/connect-account?link_token=", rig.base)),
        "{href}"
    );
    let field = client.find(Locator::Css("#magic-link-url")).await.unwrap();
    assert_eq!(
        field.prop("value").await.unwrap().as_deref(),
        Some(href.as_str())
    );
    click(&client, "#copy").await;
    let said = wait_for_text(&client, "#copy-status").await;
    assert!(
        said.contains("copied") || said.contains("Select the link"),
        "{said}"
    );
    screenshot(&client, "magic-link").await;

    // The magic link reconnects the same account against the simulator.
    client.goto(&href).await.unwrap();
    assert_eq!(
        wait_for_text(&client, "#connect").await,
        "Continue to Salesforce"
    );
    click(&client, "#connect").await;
    wait_for_text(&client, "#result").await;
    let result = client.find(Locator::Css("#result")).await.unwrap();
    assert_eq!(
        result.attr("data-status").await.unwrap().as_deref(),
        Some("active")
    );
    assert_eq!(
        result.attr("data-account").await.unwrap().as_deref(),
        Some(account.as_str())
    );
    client
        .goto(&format!("{}/console/accounts/{account}", rig.base))
        .await
        .unwrap();
    assert_eq!(wait_for_text(&client, "#account-status").await, "active");
    let newest = wait_for_text(&client, "#account-events tbody tr").await;
    assert!(
        newest.contains("integrated_account:reactivated"),
        "the reauthorization is the newest event: {newest}"
    );
    let events = wait_for_text(&client, "#account-events").await;
    assert!(
        events.contains("integrated_account:created"),
        "the first connection's events too: {events}"
    );
    let stored = rig
        .store
        .get_account(&rig.environment_id, &account)
        .await
        .unwrap();
    assert_eq!(stored.status.as_str(), "active");
    assert_eq!(stored.tenant_id, "initech");
    assert_eq!(
        sim.stats()
            .token_requests(Provider::Salesforce)
            .authorization_code,
        2,
        "connected, then re-authorized"
    );

    // The other pages, for the screenshots, and a phone-width screen.
    client
        .goto(&format!("{}/console/catalog", rig.base))
        .await
        .unwrap();
    assert_eq!(wait_for_text(&client, "h1").await, "Catalog");
    screenshot(&client, "catalog").await;
    // The account events go out (the first attempt fails, its retry succeeds).
    let worker = patchbay_server::delivery::spawn(rig.store.clone(), fast_delivery()).unwrap();
    for _ in 0..200 {
        if hook_seen.load(Ordering::SeqCst) >= 2 && rig.store.outbox_pending().await.unwrap() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    worker.shutdown().await;
    client
        .goto(&format!("{}/console/webhooks", rig.base))
        .await
        .unwrap();
    assert_eq!(wait_for_text(&client, "h1").await, "Webhooks");
    let deliveries = wait_for_text(&client, "#delivery-attempts").await;
    assert!(
        deliveries.contains("2 (1 retry)") && deliveries.contains("Failed (HTTP 500)"),
        "{deliveries}"
    );
    screenshot(&client, "webhooks").await;
    // The account's events, delivered now.
    client
        .goto(&format!("{}/console/accounts/{account}", rig.base))
        .await
        .unwrap();
    let events = wait_for_text(&client, "#account-events").await;
    assert!(events.contains("Delivered"), "{events}");
    client
        .execute(
            "document.getElementById('events').scrollIntoView();",
            vec![],
        )
        .await
        .unwrap();
    screenshot(&client, "account-events").await;
    client.set_window_size(390, 844).await.unwrap();
    client
        .goto(&format!("{}/console/accounts", rig.base))
        .await
        .unwrap();
    wait_for_text(&client, "#accounts").await;
    let overflow: serde_json::Value = client
        .execute(
            "return document.documentElement.scrollWidth > document.documentElement.clientWidth;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(overflow, json!(false), "the page fits a phone's width");
    screenshot(&client, "accounts-phone").await;

    // Sign out: the session is gone.
    click(&client, "#sign-out").await;
    assert!(
        wait_for_text(&client, "[role=status]")
            .await
            .contains("signed out")
    );
    client
        .goto(&format!("{}/console/accounts", rig.base))
        .await
        .unwrap();
    assert_eq!(wait_for_text(&client, "h1").await, "Sign in");
    client.close().await.unwrap();
}

/// Signs the browser in with the server's token.
async fn sign_in_browser(client: &fantoccini::Client, rig: &Rig) {
    client
        .goto(&format!("{}/console/sign-in", rig.base))
        .await
        .unwrap();
    type_into(client, "#token", &rig.token).await;
    click(client, "#sign-in").await;
    assert_eq!(wait_for_text(client, "h1").await, "Integrated accounts");
}

/// Chooses `value` in the select `css`.
async fn choose(client: &fantoccini::Client, css: &str, value: &str) {
    click(client, &format!("{css} option[value='{value}']")).await;
}

/// Whether the element `css` is shown.
async fn is_shown(client: &fantoccini::Client, css: &str) -> bool {
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .is_displayed()
        .await
        .unwrap()
}

/// The value of the form field `css`.
async fn value_of(client: &fantoccini::Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

async fn browser_creates_the_seed_002_salesforce_integration_through_the_form() {
    let driver = chromedriver().await;
    let rig = Rig::with(TestServer::builder().public_url()).await;
    // The catalog's Salesforce with seed 002's `accounts`: the SOQL endpoint
    // for list, the REST API for the others.
    let mut expected = support::connect::catalog_json("salesforce");
    let body = json!({"$truto_merge": "{{body:json}}"});
    expected["resources"]["accounts"] = json!({
        "list": {"path": "/services/data/v57.0/query",
                 "query": {"q": "SELECT Id, Name FROM Account"}, "response_path": "records"},
        "get": {"path": "/services/data/v57.0/sobjects/Account/{{id}}", "pagination": null},
        "create": {"method": "post", "path": "/services/data/v57.0/sobjects/Account",
                   "body": body, "pagination": null},
        "update": {"method": "patch", "path": "/services/data/v57.0/sobjects/Account/{{id}}",
                   "body": body, "pagination": null}
    });
    let mut other_resources = expected["resources"].clone();
    other_resources.as_object_mut().unwrap().remove("accounts");
    let other_resources = serde_json::to_string(&other_resources).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let client = browser(&driver, profile.path()).await;
    client.set_window_size(1280, 900).await.unwrap();
    sign_in_browser(&client, &rig).await;

    // Catalog → Create integration → the nine steps.
    client
        .goto(&format!("{}/console/catalog", rig.base))
        .await
        .unwrap();
    click(&client, "#create-integration").await;
    assert_eq!(wait_for_text(&client, "h1").await, "Create integration");
    for step in 1..=9 {
        let legend = wait_for_text(&client, &format!("#step-{step} legend")).await;
        assert!(legend.starts_with(&format!("Step {step}: ")), "{legend}");
    }
    screenshot(&client, "integration-form").await;
    let json = |key: &str| serde_json::to_string(&expected[key]).unwrap();
    type_into(&client, "#f-name", "salesforce").await;
    type_into(&client, "#f-category", "crm").await;
    type_into(&client, "#f-label", expected["label"].as_str().unwrap()).await;
    type_into(&client, "#f-credentials", &json("credentials")).await;
    type_into(&client, "#f-authorization", &json("authorization")).await;
    type_into(
        &client,
        "#f-base_url",
        expected["base_url"].as_str().unwrap(),
    )
    .await;
    // Step 6 through its inputs, with a mistake: the cursor's path is missing.
    // Only the chosen format's keys show.
    assert!(
        !is_shown(&client, "#f-pagination-cursor-config-cursor_path").await,
        "no format chosen yet"
    );
    choose(&client, "#f-pagination-format", "cursor").await;
    assert!(is_shown(&client, "#f-pagination-cursor-config-cursor_path").await);
    assert!(!is_shown(&client, "#f-pagination-page-config-page_key").await);
    choose(&client, "#f-pagination-cursor-config-is_link", "true").await;
    choose(&client, "#f-pagination-cursor-config-include_path", "true").await;
    type_into(&client, "#f-rate_limit", &json("rate_limit")).await;
    // Step 8: the blank resource's groups; "Add another method" shows the
    // form again as typed with a blank method more (no script involved).
    type_into(&client, "#f-resources-0-name", "accounts").await;
    let methods = [
        ("list", "", "/services/data/v57.0/query", "records", ""),
        (
            "get",
            "",
            "/services/data/v57.0/sobjects/Account/{{id}}",
            "",
            r#"{"pagination": null}"#,
        ),
        (
            "create",
            "post",
            "/services/data/v57.0/sobjects/Account",
            "",
            r#"{"body": {"$truto_merge": "{{body:json}}"}, "pagination": null}"#,
        ),
        (
            "update",
            "patch",
            "/services/data/v57.0/sobjects/Account/{{id}}",
            "",
            r#"{"body": {"$truto_merge": "{{body:json}}"}, "pagination": null}"#,
        ),
    ];
    for (m, (name, http, path, response_path, more)) in methods.into_iter().enumerate() {
        if m > 0 {
            click(&client, "#f-resources-0-add").await;
        }
        let input = |key: &str| format!("#f-resources-0-methods-{m}-{key}");
        type_into(&client, &input("name"), name).await;
        if !http.is_empty() {
            choose(&client, &input("method"), http).await;
        }
        type_into(&client, &input("path"), path).await;
        if !response_path.is_empty() {
            type_into(&client, &input("response_path"), response_path).await;
        }
        if name == "list" {
            type_into(&client, &input("query-0-name"), "q").await;
            type_into(
                &client,
                &input("query-0-value"),
                "SELECT Id, Name FROM Account",
            )
            .await;
        }
        if !more.is_empty() {
            type_into(&client, &input("more"), more).await;
        }
    }
    assert_eq!(
        value_of(&client, "#f-resources-0-methods-0-query-0-value").await,
        "SELECT Id, Name FROM Account",
        "kept through the three re-displays"
    );
    assert_eq!(value_of(&client, "#f-label").await, "Salesforce");
    // The catalog's other resources as JSON, merged with the groups.
    type_into(&client, "#f-resources", &other_resources).await;
    client
        .execute(
            "document.getElementById('f-resources-0').scrollIntoView();",
            vec![],
        )
        .await
        .unwrap();
    screenshot(&client, "integration-form-resources").await;
    // At phone width the groups stack and nothing makes the page scroll
    // sideways (the query table scrolls in its own box).
    client.set_window_size(390, 844).await.unwrap();
    let overflow = client
        .execute(
            "document.getElementById('f-resources-0').scrollIntoView(); \
             return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(overflow.as_i64(), Some(0), "no sideways scrolling");
    screenshot(&client, "integration-form-resources-phone").await;
    client.set_window_size(1280, 900).await.unwrap();
    // Step 9: post_install's steps, each with the inputs of its type only.
    type_into(&client, "#f-actions-0-name", "post_install").await;
    assert!(!is_shown(&client, "#f-actions-0-steps-0-expression").await);
    choose(&client, "#f-actions-0-steps-0-type", "get_context").await;
    assert!(!is_shown(&client, "#f-actions-0-steps-0-expression").await);
    click(&client, "#f-actions-0-add").await;
    choose(&client, "#f-actions-0-steps-1-type", "transform").await;
    assert!(is_shown(&client, "#f-actions-0-steps-1-expression").await);
    assert!(!is_shown(&client, "#f-actions-0-steps-1-path").await);
    let transform = expected["actions"]["post_install"]["steps"][1]["config"]
        .as_str()
        .unwrap();
    type_into(&client, "#f-actions-0-steps-1-expression", transform).await;
    click(&client, "#f-actions-0-add").await;
    choose(&client, "#f-actions-0-steps-2-type", "update_context").await;
    client
        .execute(
            "document.getElementById('f-actions-0').scrollIntoView();",
            vec![],
        )
        .await
        .unwrap();
    screenshot(&client, "integration-form-actions").await;
    type_into(
        &client,
        "#f-other",
        &serde_json::to_string(&json!({"error_expression": expected["error_expression"]})).unwrap(),
    )
    .await;
    click(&client, "#save").await;
    let summary = wait_for_text(&client, "#problems").await;
    assert!(summary.contains("1 problem to fix"), "{summary}");
    let problem = wait_for_text(&client, "#f-pagination-cursor-config-cursor_path-error").await;
    assert!(problem.contains("cursor_path"), "{problem}");
    assert_eq!(
        client
            .find_all(Locator::Css(".field-error"))
            .await
            .unwrap()
            .len(),
        1,
        "only the cursor path has a problem"
    );
    let pagination = client
        .find(Locator::Css("#f-pagination-cursor-config-cursor_path"))
        .await
        .unwrap();
    assert_eq!(
        pagination.attr("aria-invalid").await.unwrap().as_deref(),
        Some("true")
    );
    assert_eq!(value_of(&client, "#f-resources").await, other_resources);
    assert_eq!(
        value_of(&client, "#f-resources-0-methods-3-path").await,
        "/services/data/v57.0/sobjects/Account/{{id}}"
    );
    screenshot(&client, "integration-form-problems").await;
    client
        .execute(
            "document.getElementById('step-6').scrollIntoView();",
            vec![],
        )
        .await
        .unwrap();
    screenshot(&client, "integration-form-pagination").await;
    let (_, list) = rig.send(reqwest::Method::GET, "/integration", None).await;
    assert_eq!(list["result"].as_array().unwrap().len(), 0, "nothing saved");

    // Fix it in its input and save: the saved config is the catalog's Salesforce.
    type_into(
        &client,
        "#f-pagination-cursor-config-cursor_path",
        "nextRecordsUrl",
    )
    .await;
    click(&client, "#save").await;
    let saved = wait_for_text(&client, "[role=status]").await;
    assert_eq!(saved, "The integration salesforce is saved.");
    let (_, list) = rig.send(reqwest::Method::GET, "/integration", None).await;
    let integration = &list["result"][0];
    assert_eq!(integration["name"], "salesforce");
    assert_eq!(integration["category"], "crm");
    assert_eq!(integration["config"], expected);

    // Edit it: to the raw JSON and back keeps every key.
    click(&client, "#integrations tbody a").await;
    assert_eq!(wait_for_text(&client, "h1").await, "Edit integration");
    click(&client, "#to-raw").await;
    wait_for_text(&client, "#to-form").await;
    let raw: serde_json::Value = serde_json::from_str(&value_of(&client, "#f-raw").await).unwrap();
    assert_eq!(raw, expected);
    screenshot(&client, "integration-raw").await;
    click(&client, "#to-form").await;
    wait_for_text(&client, "#to-raw").await;
    // The raw JSON spread over the inputs: one per key.
    assert_eq!(value_of(&client, "#f-pagination-format").await, "cursor");
    assert_eq!(
        value_of(&client, "#f-pagination-cursor-config-cursor_path").await,
        "nextRecordsUrl"
    );
    assert_eq!(
        value_of(&client, "#f-pagination").await,
        "",
        "nothing left over"
    );
    assert_eq!(
        value_of(&client, "#f-credentials-oauth-config-auth-tokenHost").await,
        "https://login.salesforce.com"
    );
    assert_eq!(
        value_of(&client, "#f-credentials-oauth-config-scope").await,
        "api, refresh_token"
    );
    // Resources and actions: a group each, nothing left as JSON.
    assert_eq!(value_of(&client, "#f-resources-0-name").await, "accounts");
    assert_eq!(
        value_of(&client, "#f-resources-0-methods-0-response_path").await,
        "records"
    );
    assert_eq!(value_of(&client, "#f-resources-1-name").await, "query");
    assert_eq!(value_of(&client, "#f-resources").await, "");
    assert_eq!(
        value_of(&client, "#f-actions-0-steps-1-expression").await,
        transform
    );
    assert_eq!(value_of(&client, "#f-actions").await, "");
    client
        .execute(
            "document.getElementById('step-2').scrollIntoView();",
            vec![],
        )
        .await
        .unwrap();
    screenshot(&client, "integration-form-credentials").await;
    // "Add a row" adds an empty header row; empty rows are left out.
    let header_rows = || async {
        client
            .find_all(Locator::Css("#f-headers-entries tr"))
            .await
            .unwrap()
            .len()
    };
    assert_eq!(header_rows().await, 1, "one blank row");
    click(&client, "button[data-add-row='f-headers-entries']").await;
    assert_eq!(header_rows().await, 2);
    let focused = client.active_element().await.unwrap();
    assert_eq!(
        focused.attr("id").await.unwrap().as_deref(),
        Some("f-headers-entries-1-name"),
        "the new row's first input has the focus"
    );
    // Enter in a text input saves (not "Add another ...").
    type_into(&client, "#f-label", "Salesforce (EU)").await;
    press(&client, Key::Enter).await;
    wait_for_text(&client, "[role=status]").await;
    let (_, list) = rig.send(reqwest::Method::GET, "/integration", None).await;
    assert_eq!(list["result"][0]["config"]["label"], "Salesforce (EU)");
    assert_eq!(list["result"][0]["version"], 2);

    // Install it from the catalog's table.
    click(&client, "#integrations tbody button").await;
    let installed = wait_for_text(&client, "[role=status]").await;
    assert!(installed.contains("salesforce is installed"), "{installed}");
    client.close().await.unwrap();
}
