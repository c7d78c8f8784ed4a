//! The provider simulator, exercised with plain reqwest: every provider's pagination to
//! the end, auth failures in each provider's style, OAuth token flows, every fault type,
//! and a 1,000,000-record dataset served page by page.

use std::time::{Duration, Instant};

use patchbay_simulator::{
    Account, Credentials, Endpoints, Fault, FaultRule, FaultScript, Provider, ProviderSetup,
    RetryAfter, RunningSimulator, Simulator, s256_challenge,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn start(setup: ProviderSetup) -> RunningSimulator {
    Simulator::builder()
        .setup(setup)
        .start()
        .await
        .expect("simulator starts")
}

/// A simulator serving `records` records of `provider`, and a client for it.
async fn serving(provider: Provider, records: u64) -> (RunningSimulator, reqwest::Client) {
    (
        start(ProviderSetup::new(provider).records(records)).await,
        client(),
    )
}

/// `<url>; rel="next"` from a Link header.
fn link_rel(resp: &reqwest::Response, rel: &str) -> Option<String> {
    let link = resp.headers().get("link")?.to_str().ok()?;
    link.split(", ").find_map(|part| {
        let (url, params) = part.split_once(">; ")?;
        (params == format!("rel=\"{rel}\"")).then(|| url.trim_start_matches('<').to_owned())
    })
}

async fn json_of(resp: reqwest::Response) -> Value {
    resp.json().await.expect("JSON body")
}

/// Sends `request`; a transport failure fails the test.
async fn send(request: reqwest::RequestBuilder) -> reqwest::Response {
    request.send().await.expect("send")
}

/// Sends `request` and reads its JSON body.
async fn fetch_json(request: reqwest::RequestBuilder) -> Value {
    json_of(send(request).await).await
}

// ---------------------------------------------------------------- pagination walks

#[tokio::test]
async fn github_link_header_pagination() {
    let (sim, http) = serving(Provider::Github, 237).await;
    let mut url = format!(
        "{}/user/repos?sort=updated&per_page=50",
        sim.api_base_url(Provider::Github)
    );
    let (mut seen, mut pages) = (Vec::new(), 0);
    loop {
        let resp = send(http.get(&url).bearer_auth("ghp_simulator")).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["x-ratelimit-limit"], "5000");
        let next = link_rel(&resp, "next");
        if pages == 0 {
            assert!(
                link_rel(&resp, "last")
                    .expect("last link")
                    .contains("page=5")
            );
        }
        let body = json_of(resp).await;
        seen.extend(
            body.as_array()
                .expect("array")
                .iter()
                .map(|r| r["id"].as_u64().expect("id")),
        );
        pages += 1;
        match next {
            Some(n) => {
                assert!(n.contains("sort=updated"), "keeps other query params: {n}");
                url = n;
            }
            None => break,
        }
    }
    assert_eq!(pages, 5);
    assert_eq!(seen, (1..=237).collect::<Vec<_>>());
    assert_eq!(sim.stats().requests("GET /github/user/repos"), 5);
}

#[tokio::test]
async fn salesforce_soql_next_records_url() {
    let sim = start(
        ProviderSetup::new(Provider::Salesforce)
            .records(450)
            .page_size(200),
    )
    .await;
    let http = client();
    let instance = sim.api_base_url(Provider::Salesforce);
    let first = send(
        http.get(format!("{instance}/services/data/v59.0/query"))
            .query(&[("q", "SELECT Id, Name FROM Account")])
            .bearer_auth("salesforce-static-token"),
    )
    .await;
    assert!(
        first.headers()["sforce-limit-info"]
            .to_str()
            .expect("ascii")
            .starts_with("api-usage=")
    );
    let mut body = json_of(first).await;
    let mut count = body["records"].as_array().expect("records").len();
    assert_eq!(body["totalSize"], 450);
    assert_eq!(body["records"][0]["attributes"]["type"], "Account");
    assert_eq!(body["records"][0]["Id"], "001SIM000000000001");
    assert_eq!(body["records"][0]["Name"], "Account 1");
    let mut hops = 0;
    while body["done"] == false {
        let next = body["nextRecordsUrl"]
            .as_str()
            .expect("nextRecordsUrl")
            .to_owned();
        assert!(
            next.starts_with("/services/data/v59.0/query/"),
            "host-relative path: {next}"
        );
        // alternate between appending to instance_url and resolving against the host
        let url = if hops % 2 == 0 {
            format!("{instance}{next}")
        } else {
            format!("{}{next}", sim.base_url())
        };
        body = fetch_json(http.get(url).bearer_auth("salesforce-static-token")).await;
        count += body["records"].as_array().expect("records").len();
        hops += 1;
    }
    assert_eq!((count, hops), (450, 2));
    assert!(body.get("nextRecordsUrl").is_none());
    assert_eq!(body["records"][49]["Id"], "001SIM000000000450");

    let unauth = send(
        http.get(format!(
            "{instance}/services/data/v59.0/query?q=SELECT+Id+FROM+Account"
        ))
        .bearer_auth("nope"),
    )
    .await;
    assert_eq!(unauth.status(), 401);
    assert_eq!(
        json_of(unauth).await,
        json!([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
    );
    let bad = send(
        http.get(format!("{instance}/services/data/v59.0/query?q=garbage"))
            .bearer_auth("salesforce-static-token"),
    )
    .await;
    assert_eq!(bad.status(), 400);
    assert_eq!(json_of(bad).await[0]["errorCode"], "MALFORMED_QUERY");
}

#[tokio::test]
async fn hubspot_after_cursor_and_search() {
    let (sim, http) = serving(Provider::Hubspot, 25).await;
    let base = format!(
        "{}/crm/v3/objects/contacts",
        sim.api_base_url(Provider::Hubspot)
    );
    let (mut after, mut ids) = (None::<String>, Vec::new());
    loop {
        let mut req = http
            .get(&base)
            .query(&[("limit", "10")])
            .bearer_auth("hubspot-static-token");
        if let Some(a) = &after {
            req = req.query(&[("after", a)]);
        }
        let body = fetch_json(req).await;
        ids.extend(
            body["results"]
                .as_array()
                .expect("results")
                .iter()
                .map(|r| r["id"].as_str().expect("id").to_owned()),
        );
        match body.pointer("/paging/next/after") {
            Some(a) => after = Some(a.as_str().expect("after").to_owned()),
            None => {
                assert!(body.get("paging").is_none(), "no paging on the last page");
                break;
            }
        }
    }
    assert_eq!(ids.len(), 25);
    assert_eq!(ids[24], "25");

    let search = send(
        http.post(format!("{base}/search"))
            .bearer_auth("hubspot-static-token")
            .json(&json!({"filterGroups": [], "limit": 20, "after": "21"})),
    )
    .await;
    let body = json_of(search).await;
    assert_eq!(body["total"], 25);
    assert_eq!(body["results"].as_array().expect("results").len(), 5);
    assert!(body.get("paging").is_none());

    let bad = send(
        http.get(&base)
            .query(&[("after", "xyz")])
            .bearer_auth("hubspot-static-token"),
    )
    .await;
    assert_eq!(bad.status(), 400);
    assert_eq!(json_of(bad).await["category"], "VALIDATION_ERROR");
    let unauth = fetch_json(http.get(&base)).await;
    assert_eq!(
        (unauth["status"].as_str(), unauth["category"].as_str()),
        (Some("error"), Some("INVALID_AUTHENTICATION"))
    );
}

#[tokio::test]
async fn stripe_starting_after_and_form_create() {
    let (sim, http) = serving(Provider::Stripe, 205).await;
    let url = format!("{}/customers", sim.api_base_url(Provider::Stripe));
    let (mut starting_after, mut n) = (None::<String>, 0);
    loop {
        let mut req = http
            .get(&url)
            .query(&[("limit", "100")])
            .bearer_auth("sk_test_simulator");
        if let Some(s) = &starting_after {
            req = req.query(&[("starting_after", s)]);
        }
        let body = fetch_json(req).await;
        assert_eq!(body["object"], "list");
        let data = body["data"].as_array().expect("data");
        n += data.len();
        if body["has_more"] == false {
            break;
        }
        starting_after = Some(
            data.last().expect("non-empty")["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    assert_eq!(n, 205);

    let created = send(
        http.post(&url)
            .bearer_auth("sk_test_simulator")
            .form(&[("email", "new@example.com"), ("name", "New")]),
    )
    .await;
    assert_eq!(created.status(), 200);
    let c = json_of(created).await;
    assert_eq!(
        (c["object"].as_str(), c["email"].as_str(), c["id"].as_str()),
        (
            Some("customer"),
            Some("new@example.com"),
            Some("cus_SIM0000000206")
        )
    );

    let bad = send(
        http.get(&url)
            .query(&[("limit", "500")])
            .bearer_auth("sk_test_simulator"),
    )
    .await;
    assert_eq!(bad.status(), 400);
    assert_eq!(json_of(bad).await["error"]["type"], "invalid_request_error");
    let unauth = send(http.get(&url).bearer_auth("sk_test_wrong")).await;
    assert_eq!(unauth.status(), 401);
    assert!(json_of(unauth).await["error"]["message"].is_string());
}

#[tokio::test]
async fn zendesk_cursor_pagination_with_basic_auth() {
    let (sim, http) = serving(Provider::Zendesk, 230).await;
    let mut url = format!(
        "{}/tickets?page[size]=100",
        sim.api_base_url(Provider::Zendesk)
    );
    let (mut n, mut pages) = (0, 0);
    loop {
        let resp = send(
            http.get(&url)
                .basic_auth("agent@example.com/token", Some("zendesk-api-token")),
        )
        .await;
        assert_eq!(resp.status(), 200);
        let body = json_of(resp).await;
        n += body["tickets"].as_array().expect("tickets").len();
        pages += 1;
        assert!(body["meta"]["after_cursor"].is_string());
        if body["meta"]["has_more"] == false {
            break;
        }
        url = body["links"]["next"]
            .as_str()
            .expect("links.next")
            .to_owned();
    }
    assert_eq!((n, pages), (230, 3));

    let unauth = send(
        http.get(format!("{}/tickets", sim.api_base_url(Provider::Zendesk)))
            .basic_auth("agent@example.com/token", Some("wrong")),
    )
    .await;
    assert_eq!(unauth.status(), 401);
    assert_eq!(
        json_of(unauth).await,
        json!({"error": "Couldn't authenticate you"})
    );
    let offset = fetch_json(
        http.get(format!("{}/tickets", sim.api_base_url(Provider::Zendesk)))
            .basic_auth("agent@example.com/token", Some("zendesk-api-token")),
    )
    .await;
    assert_eq!(offset["count"], 230);
    assert!(offset["next_page"].is_string());
}

#[tokio::test]
async fn slack_cursor_and_http_200_errors() {
    let (sim, http) = serving(Provider::Slack, 250).await;
    let url = format!("{}/conversations.list", sim.api_base_url(Provider::Slack));
    let (mut cursor, mut n) = (String::new(), 0);
    loop {
        let body = fetch_json(
            http.get(&url)
                .query(&[("limit", "100"), ("cursor", cursor.as_str())])
                .bearer_auth("slack-static-token"),
        )
        .await;
        assert_eq!(body["ok"], true);
        n += body["channels"].as_array().expect("channels").len();
        cursor = body["response_metadata"]["next_cursor"]
            .as_str()
            .expect("next_cursor")
            .to_owned();
        if cursor.is_empty() {
            break;
        }
    }
    assert_eq!(n, 250);

    let bad = send(http.get(&url).bearer_auth("xoxb-wrong")).await;
    assert_eq!(bad.status(), 200);
    assert_eq!(
        json_of(bad).await,
        json!({"ok": false, "error": "invalid_auth"})
    );
    let missing = fetch_json(http.get(&url)).await;
    assert_eq!(missing["error"], "not_authed");
    let cur = fetch_json(
        http.get(&url)
            .query(&[("cursor", "bogus")])
            .bearer_auth("slack-static-token"),
    )
    .await;
    assert_eq!(cur["error"], "invalid_cursor");
}

#[tokio::test]
async fn jira_start_at_pagination() {
    let (sim, http) = serving(Provider::Jira, 120).await;
    let base = sim
        .api_base_url(Provider::Jira)
        .replace("{{cloud_id}}", "cloud-1");
    let (mut start_at, mut n) = (0u64, 0usize);
    loop {
        let body = fetch_json(
            http.get(format!("{base}/rest/api/3/project/search"))
                .query(&[
                    ("startAt", start_at.to_string()),
                    ("maxResults", "50".into()),
                ])
                .bearer_auth("jira-static-token"),
        )
        .await;
        assert_eq!(body["total"], 120);
        let values = body["values"].as_array().expect("values");
        n += values.len();
        start_at += values.len() as u64;
        if body["isLast"] == true {
            break;
        }
    }
    assert_eq!(n, 120);
    let missing = send(
        http.get(format!("{base}/rest/api/3/issue/SIM-999"))
            .bearer_auth("jira-static-token"),
    )
    .await;
    assert_eq!(missing.status(), 404);
    assert!(json_of(missing).await["errorMessages"].is_array());
}

#[tokio::test]
async fn shopify_page_info_link_header() {
    let (sim, http) = serving(Provider::Shopify, 260).await;
    let mut url = format!(
        "{}/products.json?limit=100",
        sim.api_base_url(Provider::Shopify)
    );
    let (mut n, mut pages) = (0, 0);
    loop {
        let resp = send(
            http.get(&url)
                .header("X-Shopify-Access-Token", "shpat_simulator"),
        )
        .await;
        assert!(resp.headers().contains_key("x-shopify-shop-api-call-limit"));
        let next = link_rel(&resp, "next");
        if pages > 0 {
            assert!(link_rel(&resp, "previous").is_some());
        }
        n += json_of(resp).await["products"]
            .as_array()
            .expect("products")
            .len();
        pages += 1;
        match next {
            Some(next) => {
                assert!(next.contains("page_info="));
                url = next;
            }
            None => break,
        }
    }
    assert_eq!((n, pages), (260, 3));
    let unauth = send(http.get(&url).bearer_auth("shpat_simulator")).await;
    assert_eq!(unauth.status(), 401, "Shopify ignores Bearer");
    assert!(json_of(unauth).await["errors"].is_string());
}

#[tokio::test]
async fn notion_post_search_body_cursor() {
    let (sim, http) = serving(Provider::Notion, 130).await;
    let url = format!("{}/search", sim.api_base_url(Provider::Notion));
    let (mut cursor, mut n) = (Value::Null, 0);
    loop {
        let mut body = json!({"filter": {"property": "object", "value": "page"}, "page_size": 100});
        if !cursor.is_null() {
            body["start_cursor"] = cursor.clone();
        }
        let resp = fetch_json(
            http.post(&url)
                .bearer_auth("secret_simulator")
                .header("Notion-Version", "2022-06-28")
                .json(&body),
        )
        .await;
        assert_eq!(resp["object"], "list");
        n += resp["results"].as_array().expect("results").len();
        if resp["has_more"] == false {
            assert!(resp["next_cursor"].is_null());
            break;
        }
        cursor = resp["next_cursor"].clone();
    }
    assert_eq!(n, 130);
    let no_version = send(
        http.post(&url)
            .bearer_auth("secret_simulator")
            .json(&json!({})),
    )
    .await;
    assert_eq!(no_version.status(), 400);
    assert_eq!(json_of(no_version).await["code"], "missing_version");
    let unauth = fetch_json(
        http.post(&url)
            .bearer_auth("bad")
            .header("Notion-Version", "2022-06-28"),
    )
    .await;
    assert_eq!(
        (unauth["object"].as_str(), unauth["status"].as_u64()),
        (Some("error"), Some(401))
    );
}

#[tokio::test]
async fn graph_odata_next_link() {
    let (sim, http) = serving(Provider::MicrosoftGraph, 305).await;
    let mut url = format!(
        "{}/users?$top=100",
        sim.api_base_url(Provider::MicrosoftGraph)
    );
    let mut n = 0;
    loop {
        let body = fetch_json(http.get(&url).bearer_auth("microsoft-graph-static-token")).await;
        n += body["value"].as_array().expect("value").len();
        match body["@odata.nextLink"].as_str() {
            Some(next) => {
                assert!(next.starts_with("http://127.0.0.1:"), "full URL: {next}");
                url = next.to_owned();
            }
            None => break,
        }
    }
    assert_eq!(n, 305);
    let unauth = send(http.get(&url)).await;
    assert_eq!(unauth.status(), 401);
    assert_eq!(
        json_of(unauth).await["error"]["code"],
        "InvalidAuthenticationToken"
    );
}

#[tokio::test]
async fn keka_page_number() {
    let (sim, http) = serving(Provider::Keka, 450).await;
    let url = format!("{}/hris/employees", sim.api_base_url(Provider::Keka));
    let (mut page, mut n) = (1, 0);
    loop {
        let body = fetch_json(
            http.get(&url)
                .query(&[("pageNumber", page), ("pageSize", 200)])
                .bearer_auth("keka-static-token"),
        )
        .await;
        assert_eq!(
            (body["succeeded"].as_bool(), body["totalPages"].as_u64()),
            (Some(true), Some(3))
        );
        n += body["data"].as_array().expect("data").len();
        if body["nextPage"].is_null() {
            break;
        }
        page += 1;
    }
    assert_eq!((n, page), (450, 3));
    let unauth = fetch_json(http.get(&url)).await;
    assert_eq!(unauth["succeeded"], false);
}

// ---------------------------------------------------------------- OAuth

#[tokio::test]
async fn authorize_then_pkce_exchange_then_refresh() {
    let sim = start(ProviderSetup::new(Provider::Hubspot)).await;
    let http = client();
    let verifier = "a-very-long-code-verifier-0123456789-abcdefghijklmnop";
    let authorize = send(
        http.get(sim.authorize_url(Provider::Hubspot).expect("authorize url"))
            .query(&[
                ("client_id", "hubspot-client-id"),
                ("redirect_uri", "http://localhost:9/callback"),
                ("state", "xyz"),
                ("code_challenge", &s256_challenge(verifier)),
                ("code_challenge_method", "S256"),
            ]),
    )
    .await;
    assert_eq!(authorize.status(), StatusCode::FOUND);
    let location =
        reqwest::Url::parse(authorize.headers()["location"].to_str().expect("ascii")).expect("url");
    let q: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(q["state"], "xyz");
    let code = q["code"].clone();

    let token_url = sim.token_url(Provider::Hubspot).expect("token url");
    let exchange = |verifier: &'static str, code: String| {
        http.post(&token_url).form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", "http://localhost:9/callback"),
            ("client_id", "hubspot-client-id"),
            ("client_secret", "hubspot-client-secret"),
            ("code_verifier", verifier),
        ])
    };
    let wrong = send(exchange("wrong-verifier", code.clone())).await;
    assert_eq!(wrong.status(), 400);
    assert_eq!(json_of(wrong).await["error"], "invalid_grant");
    // the code was consumed by the failed attempt; get a new one
    let again = send(
        http.get(sim.authorize_url(Provider::Hubspot).expect("authorize url"))
            .query(&[
                ("client_id", "hubspot-client-id"),
                ("redirect_uri", "http://localhost:9/callback"),
                ("code_challenge", &s256_challenge(verifier)),
                ("code_challenge_method", "S256"),
            ]),
    )
    .await;
    let location =
        reqwest::Url::parse(again.headers()["location"].to_str().expect("ascii")).expect("url");
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .expect("code")
        .1
        .into_owned();
    let tokens = json_of(
        send(exchange(
            "a-very-long-code-verifier-0123456789-abcdefghijklmnop",
            code,
        ))
        .await,
    )
    .await;
    assert_eq!(tokens["expires_in"], 1800);
    let access = tokens["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned();
    let refresh = tokens["refresh_token"]
        .as_str()
        .expect("refresh_token")
        .to_owned();

    let api = format!(
        "{}/crm/v3/objects/contacts",
        sim.api_base_url(Provider::Hubspot)
    );
    assert_eq!(
        send(http.get(&api).bearer_auth(&access)).await.status(),
        200
    );
    sim.expire_tokens(Provider::Hubspot);
    let expired = send(http.get(&api).bearer_auth(&access)).await;
    assert_eq!(expired.status(), 401);
    assert_eq!(json_of(expired).await["category"], "EXPIRED_AUTHENTICATION");

    // HubSpot refresh tokens do not rotate: the same one works twice
    for _ in 0..2 {
        let r = send(http.post(&token_url).form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.as_str()),
            ("client_id", "hubspot-client-id"),
            ("client_secret", "hubspot-client-secret"),
        ]))
        .await;
        let body = json_of(r).await;
        assert_eq!(body["refresh_token"].as_str(), Some(refresh.as_str()));
        assert_eq!(
            send(
                http.get(&api)
                    .bearer_auth(body["access_token"].as_str().expect("at"))
            )
            .await
            .status(),
            200
        );
    }
    let counts = sim.stats().token_requests(Provider::Hubspot);
    assert_eq!(
        (
            counts.authorization_code,
            counts.refresh_token,
            counts.rejected
        ),
        (2, 2, 1)
    );
}

#[tokio::test]
async fn slack_rotation_and_revocation() {
    let sim = start(
        ProviderSetup::new(Provider::Slack).account(Account::new("acme").refresh_token("xoxe-1")),
    )
    .await;
    let http = client();
    let token_url = sim.token_url(Provider::Slack).expect("token url");
    let refresh = |rt: String| {
        http.post(&token_url).form(&[
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", rt),
            ("client_id", "slack-client-id".to_owned()),
            ("client_secret", "slack-client-secret".to_owned()),
        ])
    };
    let first = json_of(send(refresh("xoxe-1".into())).await).await;
    assert_eq!(first["ok"], true);
    let new_rt = first["refresh_token"]
        .as_str()
        .expect("rotated refresh token")
        .to_owned();
    assert_ne!(new_rt, "xoxe-1");
    let reused = send(refresh("xoxe-1".into())).await;
    assert_eq!(reused.status(), 400);
    assert_eq!(json_of(reused).await["error"], "invalid_grant");

    assert!(sim.revoke(Provider::Slack, "acme"));
    let revoked = send(refresh(new_rt)).await;
    assert_eq!(revoked.status(), 400);
    assert_eq!(json_of(revoked).await["error"], "invalid_grant");
    let api = fetch_json(
        http.get(format!(
            "{}/conversations.list",
            sim.api_base_url(Provider::Slack)
        ))
        .bearer_auth(first["access_token"].as_str().expect("at")),
    )
    .await;
    assert_eq!(api["error"], "invalid_auth");
}

#[tokio::test]
async fn salesforce_graph_keka_token_shapes() {
    let sim = Simulator::builder()
        .setup(
            ProviderSetup::new(Provider::Salesforce)
                .account(Account::new("org").refresh_token("sf-rt")),
        )
        .provider(Provider::MicrosoftGraph)
        .setup(
            ProviderSetup::new(Provider::Keka)
                .credentials(Credentials::default_for(Provider::Keka).api_key("k-123")),
        )
        .start()
        .await
        .expect("start");
    let http = client();
    let sf = fetch_json(
        http.post(sim.token_url(Provider::Salesforce).expect("url"))
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", "sf-rt"),
                ("client_id", "salesforce-client-id"),
                ("client_secret", "salesforce-client-secret"),
            ]),
    )
    .await;
    assert_eq!(
        sf["instance_url"].as_str(),
        Some(sim.provider_url(Provider::Salesforce).as_str())
    );
    assert!(sf.get("expires_in").is_none());
    assert!(
        sf.get("refresh_token").is_none(),
        "Salesforce keeps the refresh token, does not resend it"
    );

    let graph_url = sim
        .token_url(Provider::MicrosoftGraph)
        .expect("url")
        .replace("{tenant}", "00000000-0000-0000-0000-000000000001");
    let graph = fetch_json(http.post(&graph_url).form(&[
        ("grant_type", "client_credentials"),
        ("scope", "https://graph.microsoft.com/.default"),
        ("client_id", "microsoft-graph-client-id"),
        ("client_secret", "microsoft-graph-client-secret"),
    ]))
    .await;
    assert_eq!(
        (graph["token_type"].as_str(), graph["expires_in"].as_u64()),
        (Some("Bearer"), Some(3599))
    );
    let users = send(
        http.get(format!(
            "{}/users",
            sim.api_base_url(Provider::MicrosoftGraph)
        ))
        .bearer_auth(graph["access_token"].as_str().expect("at")),
    )
    .await;
    assert_eq!(users.status(), 200);

    let keka_form = |key: &'static str| {
        [
            ("grant_type", "kekaapi"),
            ("scope", "kekaapi"),
            ("client_id", "keka-client-id"),
            ("client_secret", "keka-client-secret"),
            ("api_key", key),
        ]
    };
    let token_url = sim.token_url(Provider::Keka).expect("url");
    let keka = fetch_json(http.post(&token_url).form(&keka_form("k-123"))).await;
    assert_eq!(
        (keka["expires_in"].as_u64(), keka.get("refresh_token")),
        (Some(86_400), None)
    );
    let bad = send(http.post(&token_url).form(&keka_form("nope"))).await;
    assert_eq!(bad.status(), 400);
    let bad_client = send(
        http.post(&token_url)
            .basic_auth("keka-client-id", Some("wrong"))
            .form(&[("grant_type", "kekaapi"), ("api_key", "k-123")]),
    )
    .await;
    assert_eq!(bad_client.status(), 401);
    assert_eq!(json_of(bad_client).await["error"], "invalid_client");
    let stats = sim.stats();
    assert_eq!(stats.token_requests(Provider::Keka).kekaapi, 3);
    assert!(
        stats
            .tokens
            .iter()
            .any(|t| t.provider == Provider::MicrosoftGraph && !t.expired)
    );
}

#[tokio::test]
async fn concurrent_refreshes_are_each_counted() {
    let sim = start(
        ProviderSetup::new(Provider::Jira)
            .rotate_refresh_tokens(false)
            .account(Account::new("a").refresh_token("rt")),
    )
    .await;
    let http = client();
    let url = sim.token_url(Provider::Jira).expect("url");
    let calls = (0..20).map(|_| {
        http.post(&url)
            .json(&json!({"grant_type": "refresh_token", "refresh_token": "rt", "client_id": "jira-client-id", "client_secret": "jira-client-secret"}))
            .send()
    });
    for r in futures_join(calls).await {
        assert_eq!(r.expect("send").status(), 200);
    }
    assert_eq!(sim.stats().token_requests(Provider::Jira).refresh_token, 20);
}

async fn futures_join<F>(futs: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futs.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("task"));
    }
    out
}

// ---------------------------------------------------------------- faults

#[tokio::test]
async fn scripted_429s_then_ok() {
    let script = FaultScript::new()
        .then(Fault::too_many_requests(2), 2)
        .then(
            Fault::Status {
                status: 429,
                retry_after: Some(RetryAfter::HttpDate(Duration::from_secs(3))),
            },
            1,
        );
    let sim = Simulator::builder()
        .provider(Provider::Stripe)
        .fault(FaultRule::provider(Provider::Stripe, script))
        .start()
        .await
        .expect("start");
    let http = client();
    let url = format!("{}/customers", sim.api_base_url(Provider::Stripe));
    let mut statuses = Vec::new();
    for i in 0..4 {
        let resp = send(http.get(&url).bearer_auth("sk_test_simulator")).await;
        statuses.push(resp.status().as_u16());
        match i {
            0 | 1 => assert_eq!(resp.headers()["retry-after"], "2"),
            2 => {
                let date = resp.headers()["retry-after"]
                    .to_str()
                    .expect("ascii")
                    .to_owned();
                assert!(date.ends_with(" GMT"), "HTTP-date: {date}");
            }
            _ => {}
        }
    }
    assert_eq!(statuses, vec![429, 429, 429, 200]);
    let stats = sim.stats();
    assert_eq!(stats.faults_injected, 3);
    assert_eq!(stats.log.iter().filter(|r| r.fault.is_some()).count(), 3);
}

#[tokio::test]
async fn github_rate_limit_and_5xx_styles() {
    let script = FaultScript::new()
        .then(Fault::RateLimited { retry_after: None }, 1)
        .then(Fault::status(502), 1)
        .then(Fault::status(503), 1);
    let sim = Simulator::builder()
        .provider(Provider::Github)
        .provider(Provider::MicrosoftGraph)
        .fault(FaultRule::provider(Provider::Github, script))
        .fault(FaultRule::provider(
            Provider::MicrosoftGraph,
            FaultScript::new().then(
                Fault::Status {
                    status: 503,
                    retry_after: Some(RetryAfter::Seconds(7)),
                },
                1,
            ),
        ))
        .start()
        .await
        .expect("start");
    let http = client();
    let url = format!("{}/user/repos", sim.api_base_url(Provider::Github));
    let limited = send(http.get(&url).bearer_auth("ghp_simulator")).await;
    assert_eq!(limited.status(), 403);
    assert_eq!(limited.headers()["x-ratelimit-remaining"], "0");
    assert!(limited.headers().contains_key("x-ratelimit-reset"));
    assert!(json_of(limited).await["documentation_url"].is_string());
    assert_eq!(
        send(http.get(&url).bearer_auth("ghp_simulator"))
            .await
            .status(),
        502
    );
    assert_eq!(
        send(http.get(&url).bearer_auth("ghp_simulator"))
            .await
            .status(),
        503
    );
    assert_eq!(
        send(http.get(&url).bearer_auth("ghp_simulator"))
            .await
            .status(),
        200
    );

    let graph = send(
        http.get(format!(
            "{}/users",
            sim.api_base_url(Provider::MicrosoftGraph)
        ))
        .bearer_auth("microsoft-graph-static-token"),
    )
    .await;
    assert_eq!(
        (
            graph.status().as_u16(),
            graph.headers()["retry-after"].to_str().ok()
        ),
        (503, Some("7"))
    );
}

#[tokio::test]
async fn delay_fault_waits() {
    let sim = Simulator::builder()
        .provider(Provider::Keka)
        .fault(FaultRule::global(
            FaultScript::new().then(Fault::Delay(Duration::from_millis(300)), 1),
        ))
        .start()
        .await
        .expect("start");
    let http = client();
    let url = format!("{}/hris/employees", sim.api_base_url(Provider::Keka));
    let t = Instant::now();
    assert_eq!(
        send(http.get(&url).bearer_auth("keka-static-token"))
            .await
            .status(),
        200
    );
    assert!(t.elapsed() >= Duration::from_millis(300));
    let t = Instant::now();
    send(http.get(&url).bearer_auth("keka-static-token")).await;
    assert!(t.elapsed() < Duration::from_millis(300));
}

#[tokio::test]
async fn connection_reset_is_a_transport_error() {
    let sim = Simulator::builder()
        .provider(Provider::Github)
        .fault(FaultRule::provider(
            Provider::Github,
            FaultScript::new().then(Fault::ConnectionReset, 1),
        ))
        .start()
        .await
        .expect("start");
    let http = client();
    let url = format!("{}/user/repos", sim.api_base_url(Provider::Github));
    let err = http
        .get(&url)
        .bearer_auth("ghp_simulator")
        .send()
        .await
        .expect_err("reset");
    assert!(
        err.status().is_none() && !err.is_timeout() && !err.is_decode(),
        "{err:?}"
    );
    assert!(err.is_request() || err.is_connect(), "{err:?}");
    // the server keeps serving new connections
    assert_eq!(
        send(http.get(&url).bearer_auth("ghp_simulator"))
            .await
            .status(),
        200
    );
    assert_eq!(
        sim.stats().log[0].fault.as_deref(),
        Some("connection_reset")
    );
}

#[tokio::test]
async fn truncated_and_malformed_bodies() {
    let script = FaultScript::new()
        .then(Fault::TruncatedBody, 1)
        .then(Fault::MalformedJson, 1)
        .then(Fault::ExpiredToken, 1);
    let sim = Simulator::builder()
        .setup(ProviderSetup::new(Provider::Github).records(50))
        .fault(FaultRule::provider(Provider::Github, script))
        .start()
        .await
        .expect("start");
    let http = client();
    let url = format!("{}/user/repos", sim.api_base_url(Provider::Github));
    let truncated = http
        .get(&url)
        .bearer_auth("ghp_simulator")
        .send()
        .await
        .expect("head arrives");
    assert_eq!(truncated.status(), 200);
    let promised: usize = truncated.headers()["content-length"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("number");
    assert!(promised > 100);
    let err = truncated.bytes().await.expect_err("body is cut short");
    assert!(err.is_body() || err.is_decode(), "{err:?}");

    let malformed = send(http.get(&url).bearer_auth("ghp_simulator")).await;
    assert_eq!(malformed.status(), 200);
    assert!(
        malformed
            .json::<Value>()
            .await
            .expect_err("not JSON")
            .is_decode()
    );

    let expired = send(http.get(&url).bearer_auth("ghp_simulator")).await;
    assert_eq!(expired.status(), 401);
    assert_eq!(json_of(expired).await["message"], "Bad credentials");
}

#[tokio::test]
async fn token_endpoint_faults_and_runtime_injection() {
    let sim =
        start(ProviderSetup::new(Provider::Hubspot).account(Account::new("a").refresh_token("rt")))
            .await;
    sim.inject(
        FaultRule::provider(Provider::Hubspot, FaultScript::always(Fault::status(500)))
            .endpoints(Endpoints::Token),
    );
    let http = client();
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", "rt"),
        ("client_id", "hubspot-client-id"),
        ("client_secret", "hubspot-client-secret"),
    ];
    let url = sim.token_url(Provider::Hubspot).expect("url");
    assert_eq!(send(http.post(&url).form(&form)).await.status(), 500);
    // API routes are untouched by a token-only rule
    let api = format!(
        "{}/crm/v3/objects/contacts",
        sim.api_base_url(Provider::Hubspot)
    );
    assert_eq!(
        send(http.get(&api).bearer_auth("hubspot-static-token"))
            .await
            .status(),
        200
    );
    sim.clear_faults();
    assert_eq!(send(http.post(&url).form(&form)).await.status(), 200);
}

// ---------------------------------------------------------------- scale and stats

#[tokio::test]
async fn million_record_dataset_serves_late_pages() {
    let sim = Simulator::builder()
        .all_providers()
        .records(1_000_000)
        .start()
        .await
        .expect("start");
    let http = client();

    let stripe = fetch_json(
        http.get(format!("{}/customers", sim.api_base_url(Provider::Stripe)))
            .query(&[("limit", "100"), ("starting_after", "cus_SIM0000999950")])
            .bearer_auth("sk_test_simulator"),
    )
    .await;
    let data = stripe["data"].as_array().expect("data");
    assert_eq!(data.len(), 50);
    assert_eq!(
        (data[0]["id"].as_str(), data[49]["id"].as_str()),
        (Some("cus_SIM0000999951"), Some("cus_SIM0001000000"))
    );
    assert_eq!(stripe["has_more"], false);

    let gh = send(
        http.get(format!(
            "{}/user/repos?per_page=100&page=10000",
            sim.api_base_url(Provider::Github)
        ))
        .bearer_auth("ghp_simulator"),
    )
    .await;
    assert!(link_rel(&gh, "next").is_none() && link_rel(&gh, "prev").is_some());
    let repos = json_of(gh).await;
    assert_eq!(
        (repos[0]["id"].as_u64(), repos[99]["id"].as_u64()),
        (Some(999_901), Some(1_000_000))
    );

    let keka = fetch_json(
        http.get(format!(
            "{}/hris/employees?pageNumber=4999&pageSize=200",
            sim.api_base_url(Provider::Keka)
        ))
        .bearer_auth("keka-static-token"),
    )
    .await;
    assert_eq!(
        (
            keka["totalPages"].as_u64(),
            keka["data"][0]["employeeNumber"].as_str()
        ),
        (Some(5000), Some("EMP999601"))
    );
    assert!(keka["nextPage"].is_string());
    // a page costs the same at the end as at the start: fetch a few thousand records' worth
    let t = Instant::now();
    for page in [1u64, 2500, 5000] {
        let r = send(
            http.get(format!(
                "{}/hris/employees?pageNumber={page}&pageSize=200",
                sim.api_base_url(Provider::Keka)
            ))
            .bearer_auth("keka-static-token"),
        )
        .await;
        assert_eq!(r.status(), 200);
    }
    assert!(t.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn request_log_redacts_secrets() {
    let sim = start(ProviderSetup::new(Provider::Slack)).await;
    let http = client();
    send(
        http.get(format!(
            "{}/conversations.list?limit=5&token=xoxb-secret",
            sim.api_base_url(Provider::Slack)
        ))
        .header("X-Custom", "visible")
        .bearer_auth("slack-static-token"),
    )
    .await;
    let stats = sim.stats();
    let entry = &stats.log[0];
    assert_eq!(
        (entry.method.as_str(), entry.path.as_str(), entry.status),
        ("GET", "/slack/api/conversations.list", 200)
    );
    assert_eq!(entry.query.as_deref(), Some("limit=5&token=[redacted]"));
    assert_eq!(entry.header("authorization"), Some("[redacted]"));
    assert_eq!(entry.header("x-custom"), Some("visible"));
    assert_eq!(stats.requests("GET /slack/api/conversations.list"), 1);
    sim.shutdown().await;
}

/// Record `n` is created at 2024-01-01T00:00:00Z + n minutes, updated 30 minutes later.
fn created_ms(n: u64) -> String {
    ((1_704_067_200 + n * 60) * 1000).to_string()
}

#[tokio::test]
async fn query_languages_filter_the_dataset() {
    // HubSpot: filterGroups are ORed, the filters of a group ANDed, `query` applies to all.
    let (sim, http) = serving(Provider::Hubspot, 23).await;
    let search = format!(
        "{}/crm/v3/objects/contacts/search",
        sim.api_base_url(Provider::Hubspot)
    );
    let body = fetch_json(
        http.post(&search)
            .bearer_auth("hubspot-static-token")
            .json(&json!({"limit": 100, "filterGroups": [
                {"filters": [{"propertyName": "createdate", "operator": "LT", "value": created_ms(3)}]},
                {"filters": [{"propertyName": "createdate", "operator": "GT", "value": created_ms(20)},
                             {"propertyName": "lastmodifieddate", "operator": "LTE", "value": "2024-01-01T00:52:00Z"}]}
            ]})),
    )
    .await;
    let ids: Vec<&str> = body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["id"].as_str().expect("id"))
        .collect();
    // created < 3 → 1, 2; created > 20 and updated <= 00:52 (created <= 00:22) → 21, 22.
    assert_eq!(ids, ["1", "2", "21", "22"]);
    assert_eq!(body["total"], 4);
    let unknown = send(
        http.post(&search)
            .bearer_auth("hubspot-static-token")
            .json(&json!({"filterGroups": [{"filters": [{"propertyName": "shoe_size", "operator": "EQ", "value": "9"}]}]})),
    )
    .await;
    assert_eq!(unknown.status(), 400);

    // Zendesk search: offset pages over the matching records, the query kept in next_page.
    let (sim, http) = serving(Provider::Zendesk, 23).await;
    let page = fetch_json(
        http.get(format!(
            "{}/search.json",
            sim.api_base_url(Provider::Zendesk)
        ))
        .query(&[
            (
                "query",
                "type:ticket created>=2024-01-01T00:05:00Z created<2024-01-01T00:10:00Z",
            ),
            ("per_page", "3"),
        ])
        .basic_auth("agent@example.com/token", Some("zendesk-api-token")),
    )
    .await;
    assert_eq!(page["count"], 5);
    assert_eq!(page["results"][0]["id"], 5);
    assert_eq!(page["results"][0]["result_type"], "ticket");
    let next = page["next_page"].as_str().expect("a second page");
    let rest = fetch_json(
        http.get(next)
            .basic_auth("agent@example.com/token", Some("zendesk-api-token")),
    )
    .await;
    let ids: Vec<u64> = rest["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [8, 9]);
    assert!(rest["next_page"].is_null());

    // Salesforce: the WHERE clause survives the query locator.
    let sim = start(
        ProviderSetup::new(Provider::Salesforce)
            .records(23)
            .page_size(2),
    )
    .await;
    let first = fetch_json(
        http.get(format!(
            "{}/services/data/v59.0/query",
            sim.api_base_url(Provider::Salesforce)
        ))
        .query(&[(
            "q",
            "SELECT Id, Name FROM Account WHERE CreatedDate > 2024-01-01T00:20:00Z",
        )])
        .bearer_auth("salesforce-static-token"),
    )
    .await;
    assert_eq!(
        (first["totalSize"].as_u64(), first["done"].as_bool()),
        (Some(3), Some(false))
    );
    let more = first["nextRecordsUrl"].as_str().expect("more");
    let second = fetch_json(
        http.get(format!("{}{more}", sim.api_base_url(Provider::Salesforce)))
            .bearer_auth("salesforce-static-token"),
    )
    .await;
    assert_eq!(second["records"][0]["Name"], "Account 23");
    assert_eq!(second["done"], true);
}
