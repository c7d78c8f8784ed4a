//! Hardening of the connect pages (security review F8 and the `postMessage`
//! part of F12), over real HTTP on loopback with a SQLite store and the
//! provider simulator as Salesforce (OAuth) and Zendesk (an API key form).
//! Requests are sent like curl, with the exact headers a browser would send
//! (or an attacker's page would make it send).

mod support;

use patchbay::simulator::{Provider, RunningSimulator};
use reqwest::header::{
    CONTENT_SECURITY_POLICY, COOKIE, LOCATION, ORIGIN, SET_COOKIE, X_FRAME_OPTIONS,
};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use support::TestServer;
use support::connect::{hidden, start_simulator};

const ZENDESK_TOKEN: &str = "zendesk-api-token";

struct Rig {
    server: TestServer,
    sim: RunningSimulator,
}

/// A browser's CSRF binding: its cookie (`name=value`) and a form's token.
struct Binding {
    cookie: String,
    token: String,
}

impl Rig {
    async fn start() -> Self {
        Self::start_with(None).await
    }

    /// A rig whose server has `policy` instead of the tests' default.
    async fn start_with(policy: Option<patchbay::egress::DestinationPolicy>) -> Self {
        let sim = start_simulator().await;
        let mut builder = TestServer::builder().public_url().no_redirects();
        if let Some(policy) = policy {
            builder = builder.destinations(policy);
        }
        let server = builder.start().await;
        Self { server, sim }
    }

    async fn install(&self, provider: Provider) -> String {
        self.server.install_simulated(&self.sim, provider).await
    }

    async fn link_token(&self, body: Value) -> String {
        self.server.link_token(body).await
    }

    /// GETs the connect page of `token` as a browser without a cookie.
    async fn page(&self, token: &str) -> Response {
        let url = format!("{}/connect-account?link_token={token}", self.server.base);
        self.server.client.get(url).send().await.unwrap()
    }

    /// GETs the connect page of `token` as a browser without a cookie, checks
    /// its cookie and headers, and answers the binding it handed out.
    async fn open(&self, token: &str) -> Binding {
        let response = self.page(token).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_unframeable(&response);
        let cookie = response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|v| v.starts_with("patchbay_csrf="))
            .expect("the page sets the CSRF cookie");
        for attribute in ["HttpOnly", "SameSite=Lax", "Path=/connect-account"] {
            assert!(cookie.contains(attribute), "{attribute}: {cookie}");
        }
        assert!(!cookie.contains("Secure"), "plain http: {cookie}");
        let cookie = cookie.split(';').next().unwrap().to_owned();
        let html = response.text().await.unwrap();
        let token = hidden(&html, "csrf_token");
        assert_ne!(
            token,
            cookie.split_once('=').unwrap().1,
            "the form carries a sealed token, not the cookie value"
        );
        Binding { cookie, token }
    }

    /// POSTs the connect form with `headers`, `binding`'s cookie when `cookie`
    /// and `fields`.
    async fn submit(
        &self,
        cookie: Option<&str>,
        headers: &[(&str, &str)],
        fields: &[(&str, &str)],
    ) -> Response {
        let mut request = self
            .server
            .client
            .post(format!("{}/connect-account", self.server.base))
            .form(fields);
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.unwrap()
    }
}

/// The page may not be framed by anyone.
fn assert_unframeable(response: &Response) {
    let csp = response.headers()[CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(response.headers()[X_FRAME_OPTIONS], "DENY");
}

/// A refused submit: 403, a page that says why, and no step of the flow.
async fn assert_refused(response: Response, needle: &str) {
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(
        response.headers().get(LOCATION).is_none(),
        "no redirect to the provider"
    );
    assert!(
        response.headers().get(SET_COOKIE).is_none(),
        "no OAuth session cookie"
    );
    assert_unframeable(&response);
    let html = response.text().await.unwrap();
    assert!(html.contains("This form cannot be submitted"), "{html}");
    assert!(html.contains(needle), "`{needle}` not in {html}");
}

#[tokio::test]
async fn f8_cross_site_and_unbound_submits_are_refused_and_the_real_form_works() {
    let rig = Rig::start().await;
    let install = rig.install(Provider::Salesforce).await;
    let token = rig.server.link_token_for("attacker", &install).await;
    let binding = rig.open(&token).await;
    let form = [
        ("link_token", token.as_str()),
        ("integration", install.as_str()),
        ("credential", "oauth2"),
        ("csrf_token", binding.token.as_str()),
    ];
    let cookie = Some(binding.cookie.as_str());
    let own_origin = rig.server.base.as_str();

    // The review's attack: an auto-submitting form on another site.
    for headers in [
        vec![
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://evil.example"),
        ],
        vec![("sec-fetch-site", "same-site")],
        vec![("sec-fetch-site", "cross-site"), ("origin", own_origin)],
        vec![("origin", "https://evil.example")],
        vec![("origin", "null")],
    ] {
        let response = rig.submit(cookie, &headers, &form).await;
        assert_refused(response, "another site").await;
    }

    // A form not opened in this browser: no cookie, no token, another
    // browser's token, or a token that is not sealed by this server.
    let other = rig.open(&token).await;
    let same_origin = [("sec-fetch-site", "same-origin")];
    let without_token = &form[..3];
    type Case<'a> = (Option<&'a str>, Vec<(&'a str, &'a str)>);
    let cases: [Case; 4] = [
        (None, form.to_vec()),
        (cookie, without_token.to_vec()),
        (
            cookie,
            [without_token, &[("csrf_token", other.token.as_str())]].concat(),
        ),
        (
            cookie,
            [without_token, &[("csrf_token", "v1:k:Zm9yZ2Vk")]].concat(),
        ),
    ];
    for (cookie, fields) in cases {
        let response = rig.submit(cookie, &same_origin, &fields).await;
        assert_refused(response, "not opened in this browser").await;
    }
    // Curl-like (no fetch metadata, no Origin) still needs the binding.
    let response = rig.submit(None, &[], &form).await;
    assert_refused(response, "not opened in this browser").await;

    // None of that used the link token: the real form still starts the flow,
    // from a browser (fetch metadata), from an older one (Origin) or curl.
    for headers in [
        vec![("sec-fetch-site", "same-origin"), ("origin", own_origin)],
        vec![(ORIGIN.as_str(), own_origin)],
        vec![],
    ] {
        let response = rig.submit(cookie, &headers, &form).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let location = response.headers()[LOCATION].to_str().unwrap();
        assert!(
            location.starts_with(&rig.sim.authorize_url(Provider::Salesforce).unwrap()),
            "{location}"
        );
    }
}

#[tokio::test]
async fn f8_every_connect_page_refuses_framing() {
    let rig = Rig::start().await;
    let install = rig.install(Provider::Zendesk).await;
    let token = rig.server.link_token_for("acme", &install).await;
    let binding = rig.open(&token).await;
    // An error page, a re-rendered form and the result page.
    let gone = rig.page("lt_unknown").await;
    assert_eq!(gone.status(), StatusCode::GONE);
    assert_unframeable(&gone);
    let fields = |api_token: &'static str| {
        vec![
            ("link_token", token.clone()),
            ("integration", install.clone()),
            ("credential", "api_key".to_owned()),
            ("csrf_token", binding.token.clone()),
            ("field.subdomain", "acme".to_owned()),
            ("field.email", "agent@example.com".to_owned()),
            ("field.api_token", api_token.to_owned()),
        ]
    };
    let problem = rig
        .server
        .client
        .post(format!("{}/connect-account", rig.server.base))
        .header(COOKIE, &binding.cookie)
        .form(&fields(""))
        .send()
        .await
        .unwrap();
    assert_eq!(problem.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_unframeable(&problem);
    let html = problem.text().await.unwrap();
    assert!(
        !hidden(&html, "csrf_token").is_empty(),
        "the form shown again can be submitted again"
    );
    let result = rig
        .server
        .client
        .post(format!("{}/connect-account", rig.server.base))
        .header(COOKIE, &binding.cookie)
        .form(&fields(ZENDESK_TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(result.status(), StatusCode::OK);
    assert_unframeable(&result);
}

/// The result page of an API-key connection made with a link token whose
/// body is `link`.
async fn result_page(rig: &Rig, install: &str, link: Value) -> String {
    let token = rig.link_token(link).await;
    let binding = rig.open(&token).await;
    let response = rig
        .submit(
            Some(&binding.cookie),
            &[("sec-fetch-site", "same-origin")],
            &[
                ("link_token", token.as_str()),
                ("integration", install),
                ("credential", "api_key"),
                ("csrf_token", binding.token.as_str()),
                ("field.subdomain", "acme"),
                ("field.email", "agent@example.com"),
                ("field.api_token", ZENDESK_TOKEN),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

#[tokio::test]
async fn f12_the_result_is_posted_only_to_the_redirect_uri_origin() {
    let rig = Rig::start().await;
    let install = rig.install(Provider::Zendesk).await;

    let html = result_page(
        &rig,
        &install,
        json!({"tenant_id": "acme", "environment_integration_id": install,
               "redirect_uri": "https://app.example.com/connected?x=1"}),
    )
    .await;
    assert!(html.contains(r#"data-status="active""#), "{html}");
    assert!(
        html.contains(r#"host.postMessage(result, "https://app.example.com")"#),
        "{html}"
    );
    assert!(!html.contains(r#""*""#), "{html}");

    // Without a redirect_uri there is no origin to address: nothing is posted.
    let html = result_page(
        &rig,
        &install,
        json!({"tenant_id": "acme", "environment_integration_id": install}),
    )
    .await;
    assert!(html.contains(r#"data-status="active""#), "{html}");
    assert!(!html.contains("postMessage"), "{html}");
    assert!(!html.contains(r#""*""#), "{html}");
}

/// F5: a URL an end user types into a `format: url` field is held to the
/// server's destination policy before anything is created or called.
#[tokio::test]
async fn f5_an_end_user_url_field_cannot_point_the_server_inside() {
    let internal = wiremock::MockServer::start().await;
    let rig = Rig::start_with(Some(patchbay::egress::DestinationPolicy::public_only())).await;
    let installed = rig
        .server
        .install(
            json!({"name": "selfhosted", "config": {
                "label": "Self-hosted",
                "base_url": "{{instance_url}}",
                "credentials": {"format": "api_key", "config": {"fields": [
                    {"name": "instance_url", "label": "Instance URL", "type": "text", "format": "url"},
                    {"name": "api_key", "label": "API key", "type": "password"}
                ]}},
                "authorization": {"format": "bearer", "config": {"token": "{{api_key}}"}},
                "actions": {"validation": {"type": "request", "config": {"path": "/internal-admin"}}},
                "resources": {"me": {"get": {"path": "/internal-admin"}}}
            }}),
            None,
        )
        .await
        .install_id;
    let port = internal.address().port();
    for url in [
        format!("http://127.0.0.1:{port}/"),
        format!("http://localhost:{port}/"),
        "http://169.254.169.254/latest".to_owned(),
    ] {
        let token = rig.server.link_token_for("t", &installed).await;
        let binding = rig.open(&token).await;
        let response = rig
            .submit(
                Some(&binding.cookie),
                &[("sec-fetch-site", "same-origin")],
                &[
                    ("link_token", token.as_str()),
                    ("integration", installed.as_str()),
                    ("credential", "api_key"),
                    ("csrf_token", binding.token.as_str()),
                    ("field.instance_url", url.as_str()),
                    ("field.api_key", "K"),
                ],
            )
            .await;
        let status = response.status();
        let html = response.text().await.unwrap();
        assert!(
            html.contains("must be an address this service may reach"),
            "{url}: {status} {html}"
        );
    }
    assert!(
        internal
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    );
    let (_, accounts) = rig
        .server
        .send(Method::GET, "/integrated-account", None)
        .await;
    assert_eq!(accounts["result"], json!([]), "no account was created");
}
