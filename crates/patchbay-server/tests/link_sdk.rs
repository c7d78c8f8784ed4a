//! The Link SDK (`GET /link-sdk.js`), in a real headless Chromium: a host app
//! on another origin imports the module from the server and opens the
//! connect pages with `openConnect`, against the provider simulator; and its
//! errors for a blocked popup, a closed window and an answer from the wrong
//! origin; and its iframe mode, allowed only for the origins of
//! `PATCHBAY_CORS_ALLOWED_ORIGINS`.
//!
//! The browser tests need Debian's `chromium` and `chromium-driver` packages
//! (see `support::browser`).

mod support;

use std::time::Duration;

use fantoccini::Locator;
use patchbay::simulator::Provider;
use reqwest::StatusCode;
use serde_json::{Value, json};

use patchbay_testkit::{Runtime::CurrentThread, tokio_test};
use support::TestServer;
use support::browser::{CHROMIUM, browser, chromedriver, wait_for_text};
use support::connect::start_simulator;

fn main() -> std::process::ExitCode {
    patchbay_testkit::run(vec![
        tokio_test(
            "the_module_is_served_as_javascript_to_any_origin",
            CurrentThread,
            the_module_is_served_as_javascript_to_any_origin,
        ),
        tokio_test(
            "browser_open_connect_resolves_with_the_connected_account",
            CurrentThread,
            browser_open_connect_resolves_with_the_connected_account,
        )
        .needs(&CHROMIUM),
        tokio_test(
            "browser_open_connect_reports_a_blocked_popup_a_closed_window_and_a_wrong_origin",
            CurrentThread,
            browser_open_connect_reports_a_blocked_popup_a_closed_window_and_a_wrong_origin,
        )
        .needs(&CHROMIUM),
        tokio_test(
            "browser_iframe_mode_resolves_on_an_allowed_origin_and_is_refused_elsewhere",
            CurrentThread,
            browser_iframe_mode_resolves_on_an_allowed_origin_and_is_refused_elsewhere,
        )
        .needs(&CHROMIUM),
    ])
}

async fn the_module_is_served_as_javascript_to_any_origin() {
    let server = TestServer::start().await;
    let response = server
        .client
        .get(server.url("/link-sdk.js"))
        .header("origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "text/javascript; charset=utf-8");
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert_eq!(headers["cross-origin-resource-policy"], "cross-origin");
    let source = response.text().await.unwrap();
    assert!(source.contains("export function openConnect("), "{source}");
    assert!(
        source.contains("export class PatchbayConnectError"),
        "{source}"
    );
}

/// Serves `routes` (path → HTML) on a loopback port of its own; answers its base URL.
async fn serve(routes: Vec<(&'static str, String)>) -> String {
    let mut app = axum::Router::new();
    for (path, html) in routes {
        app = app.route(
            path,
            axum::routing::get(move || {
                let html = html.clone();
                async move { axum::response::Html(html) }
            }),
        );
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// A host app importing the SDK from `server`: `#open` calls `openConnect`
/// with the `token` and `base` of the page's query (and, with `blocked=1`,
/// a browser that blocks popups); `#out` shows the outcome as JSON and
/// `#closed` whether `onClose` ran. `/done` is where the popup lands.
async fn host_app(server: &str) -> String {
    let page = format!(
        r#"<!doctype html><html><body><button id="open">Connect</button>
<pre id="out"></pre><p id="closed"></p>
<script type="module">
import {{ openConnect }} from '{server}/link-sdk.js';
const query = new URLSearchParams(location.search);
if (query.get('blocked') === '1') {{ window.open = function () {{ return null; }}; }}
const out = document.getElementById('out');
document.getElementById('open').addEventListener('click', function () {{
  openConnect({{
    linkToken: query.get('token'),
    baseUrl: query.get('base'),
    onClose: function () {{ document.getElementById('closed').textContent = 'onClose ran'; }},
  }}).then(
    function (result) {{ out.textContent = JSON.stringify({{ ok: result }}); }},
    function (error) {{ out.textContent = JSON.stringify({{ code: error.code, name: error.name, message: error.message }}); }}
  );
}});
document.body.dataset.ready = 'yes';
</script></body></html>"#
    );
    serve(vec![
        ("/", page),
        ("/done", "<p id=\"done\">Done</p>".to_owned()),
    ])
    .await
}

/// Opens `host` with `query`, clicks `#open` once the module listens, and
/// answers the opener window.
async fn open(
    client: &fantoccini::Client,
    host: &str,
    query: &str,
) -> fantoccini::wd::WindowHandle {
    client.goto(&format!("{host}/?{query}")).await.unwrap();
    let opener = client.window().await.unwrap();
    // The module has loaded and listens for the click.
    client
        .wait()
        .for_element(Locator::Css("body[data-ready=yes] #open"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    opener
}

/// The popup's handle, once it is open.
async fn popup(
    client: &fantoccini::Client,
    opener: &fantoccini::wd::WindowHandle,
) -> fantoccini::wd::WindowHandle {
    for _ in 0..50 {
        if let Some(other) = client
            .windows()
            .await
            .unwrap()
            .into_iter()
            .find(|w| w != opener)
        {
            return other;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no popup opened");
}

fn encoded(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// What the host page shows in `#out` after `step` (10 s at most).
async fn outcome(client: &fantoccini::Client, step: &str) -> Value {
    for _ in 0..100 {
        if let Ok(element) = client.find(Locator::Css("#out")).await
            && let Ok(text) = element.text().await
            && !text.is_empty()
        {
            return serde_json::from_str(&text).unwrap();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut seen = Vec::new();
    for window in client.windows().await.unwrap() {
        client.switch_to_window(window).await.unwrap();
        seen.push(format!(
            "{:?}: {}",
            client.current_url().await.map(|u| u.to_string()),
            client.source().await.unwrap_or_default()
        ));
    }
    panic!("{step}: no outcome; the windows: {seen:#?}");
}

/// The text of the element `css`.
async fn text_of(client: &fantoccini::Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Asserts that the store holds the account `id` (a JSON string), active.
async fn assert_stored_active(server: &TestServer, id: &Value) {
    let account = server
        .store
        .get_account(&server.environment_id, id.as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(account.status.as_str(), "active");
}

/// Waits for the SDK's iframe in `#frame` and switches into it.
async fn enter_connect_frame(client: &fantoccini::Client) {
    client
        .wait()
        .for_element(Locator::Css("#frame iframe"))
        .await
        .unwrap();
    client.enter_frame(0).await.unwrap();
}

async fn browser_open_connect_resolves_with_the_connected_account() {
    let driver = chromedriver().await;
    let sim = start_simulator().await;
    let server = TestServer::builder().public_url().start().await;
    let install = server.install_simulated(&sim, Provider::Salesforce).await;
    let host = host_app(&server.base).await;
    let token = server
        .link_token(json!({"tenant_id": "globex", "environment_integration_id": install, "redirect_uri": format!("{host}/done")}))
        .await;
    let profile = tempfile::tempdir().unwrap();
    let client = browser(&driver, profile.path()).await;
    let opener = open(
        &client,
        &host,
        &format!("token={}&base={}", encoded(&token), encoded(&server.base)),
    )
    .await;
    let popup = popup(&client, &opener).await;
    client.switch_to_window(popup).await.unwrap();
    let button = client
        .wait()
        .for_element(Locator::Css("#connect"))
        .await
        .unwrap();
    button.click().await.unwrap();
    client.switch_to_window(opener).await.unwrap();
    let got = outcome(&client, "connected").await;
    let result = &got["ok"];
    assert_eq!(result["status"], "active", "{got}");
    assert_eq!(result["tenant_id"], "globex", "{got}");
    assert_eq!(
        result["environment_integration_id"],
        install.as_str(),
        "{got}"
    );
    assert_stored_active(&server, &result["integrated_account_id"]).await;
    assert!(!got.to_string().contains("access_token"), "{got}");
    // The SDK closed the popup once it had the result.
    for _ in 0..50 {
        if client.windows().await.unwrap().len() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(client.windows().await.unwrap().len(), 1);
    let text = text_of(&client, "#closed").await;
    assert_eq!(text, "", "onClose is for a window closed before the end");
    client.close().await.unwrap();
}

async fn browser_open_connect_reports_a_blocked_popup_a_closed_window_and_a_wrong_origin() {
    let driver = chromedriver().await;
    let sim = start_simulator().await;
    let server = TestServer::builder().public_url().start().await;
    let install = server.install_simulated(&sim, Provider::Salesforce).await;
    let host = host_app(&server.base).await;
    let token = server.link_token_for("globex", &install).await;
    let profile = tempfile::tempdir().unwrap();
    let client = browser(&driver, profile.path()).await;
    let query = format!("token={}&base={}", encoded(&token), encoded(&server.base));

    // A blocked popup.
    open(&client, &host, &format!("{query}&blocked=1")).await;
    let got = outcome(&client, "blocked").await;
    assert_eq!(got["code"], "popup_blocked", "{got}");
    assert_eq!(got["name"], "PatchbayConnectError", "{got}");

    // Missing options.
    open(&client, &host, &format!("base={}", encoded(&server.base))).await;
    assert_eq!(
        outcome(&client, "no token").await["code"],
        "invalid_options"
    );

    // The person closes the window before finishing.
    let opener = open(&client, &host, &query).await;
    let window = popup(&client, &opener).await;
    client.switch_to_window(window).await.unwrap();
    client
        .wait()
        .for_element(Locator::Css("#connect"))
        .await
        .unwrap();
    client.close_window().await.unwrap();
    client.switch_to_window(opener).await.unwrap();
    let got = outcome(&client, "closed").await;
    assert_eq!(got["code"], "closed", "{got}");
    assert_eq!(wait_for_text(&client, "#closed").await, "onClose ran");

    // A "result" from another origin than baseUrl's: baseUrl's page sends the
    // popup to a third origin, which posts a result that looks right.
    let forger = serve(vec![(
        "/",
        r#"<!doctype html><script>
window.opener.postMessage({source: 'patchbay', type: 'connect', integrated_account_id: 'forged', status: 'active'}, '*');
</script>"#
            .to_owned(),
    )])
    .await;
    let fake = serve(vec![(
        "/connect-account",
        format!(r#"<!doctype html><script>location.replace('{forger}/');</script>"#),
    )])
    .await;
    let opener = open(
        &client,
        &host,
        &format!("token={}&base={}", encoded(&token), encoded(&fake)),
    )
    .await;
    let got = outcome(&client, "wrong origin").await;
    assert_eq!(got["code"], "wrong_origin", "{got}");
    assert!(got["message"].as_str().unwrap().contains(&forger), "{got}");
    assert!(!got.to_string().contains("forged"), "{got}");
    client.switch_to_window(opener).await.unwrap();
    client.close().await.unwrap();
}

/// A host app that imports the SDK from the `base` of its query and, on
/// `#open`, opens the connect page in an iframe inside `#frame`; `#out` shows
/// the outcome as JSON. `/done` is the link tokens' `redirect_uri`.
async fn iframe_host_app() -> String {
    let page = r#"<!doctype html><html><body><button id="open">Connect</button>
<div id="frame"></div><pre id="out"></pre>
<script type="module">
const query = new URLSearchParams(location.search);
const { openConnect } = await import(query.get('base') + '/link-sdk.js');
const out = document.getElementById('out');
document.getElementById('open').addEventListener('click', function () {
  openConnect({
    linkToken: query.get('token'),
    baseUrl: query.get('base'),
    mode: 'iframe',
    container: document.getElementById('frame'),
  }).then(
    function (result) { out.textContent = JSON.stringify({ ok: result }); },
    function (error) { out.textContent = JSON.stringify({ code: error.code, message: error.message }); }
  );
});
document.body.dataset.ready = 'yes';
</script></body></html>"#;
    serve(vec![
        ("/", page.to_owned()),
        ("/done", "<p id=\"done\">Done</p>".to_owned()),
    ])
    .await
}

async fn browser_iframe_mode_resolves_on_an_allowed_origin_and_is_refused_elsewhere() {
    let driver = chromedriver().await;
    let sim = start_simulator().await;
    let allowed = iframe_host_app().await;
    let elsewhere = iframe_host_app().await;
    let server = TestServer::builder()
        .public_url()
        .cors(patchbay_server::CorsOrigins::List(vec![allowed.clone()]))
        .start()
        .await;
    let install = server.install_simulated(&sim, Provider::Salesforce).await;
    let token_for = |host: &str| json!({"tenant_id": "globex", "environment_integration_id": install, "redirect_uri": format!("{host}/done")});

    // The connect pages name the allowed origin as the only one that may frame them.
    let token = server.link_token(token_for(&allowed)).await;
    let response = server
        .client
        .get(server.url(&format!("/connect-account?link_token={}", encoded(&token))))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        policy.ends_with(&format!("frame-ancestors {allowed}")),
        "{policy}"
    );
    assert!(response.headers().get("x-frame-options").is_none());

    // On the allowed origin, the iframe connects and the result comes back.
    let profile = tempfile::tempdir().unwrap();
    let client = browser(&driver, profile.path()).await;
    let query = |token: &str| format!("token={}&base={}", encoded(token), encoded(&server.base));
    open(&client, &allowed, &query(&token)).await;
    enter_connect_frame(&client).await;
    client
        .wait()
        .for_element(Locator::Css("#connect"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client.enter_parent_frame().await.unwrap();
    let got = outcome(&client, "iframe").await;
    assert_eq!(got["ok"]["status"], "active", "{got}");
    assert_eq!(got["ok"]["tenant_id"], "globex", "{got}");
    assert_stored_active(&server, &got["ok"]["integrated_account_id"]).await;
    assert!(
        client
            .find_all(Locator::Css("#frame iframe"))
            .await
            .unwrap()
            .is_empty(),
        "the SDK removed the iframe"
    );

    // Another origin: the browser refuses to show the connect page in its frame.
    let token = server.link_token(token_for(&elsewhere)).await;
    open(&client, &elsewhere, &query(&token)).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    enter_connect_frame(&client).await;
    let shown = client.find(Locator::Css("#connect")).await;
    assert!(
        shown.is_err(),
        "the connect page was shown in a frame of {elsewhere}"
    );
    client.enter_parent_frame().await.unwrap();
    assert_eq!(text_of(&client, "#out").await, "", "no result");
    client.close().await.unwrap();
}
