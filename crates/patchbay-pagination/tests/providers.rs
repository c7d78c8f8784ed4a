//! Each format against real providers' response shapes, with the catalog configs.

use patchbay_config::{IntegrationConfig, Pagination, load_integration_config};
use patchbay_pagination::{
    DottedPath, NextUrl, PageRequest, PageResponse, PageState, PaginationError, Paginator, Records,
    StartOptions, Step,
};
use serde_json::{Value, json};

fn catalog(name: &str) -> IntegrationConfig {
    let path = format!(
        "{}/../../examples/catalog/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect("catalog file");
    load_integration_config(&text).unwrap_or_else(|e| panic!("{name}: {e:?}"))
}

/// The paginator and response path of `resource.list` (or another method).
fn method(name: &str, resource: &str, method: &str) -> (Paginator, Option<DottedPath>) {
    let config = catalog(name);
    let resolved = config.method(resource, method).expect("method");
    let pagination: &Pagination = resolved.pagination.expect("pagination");
    let paginator = Paginator::new(pagination, resolved.method.pagination_path.as_deref()).unwrap();
    let response_path = resolved
        .method
        .response_path
        .as_deref()
        .map(|p| DottedPath::parse(p).unwrap());
    (paginator, response_path)
}

fn headers(pairs: &[(&str, &str)]) -> http::HeaderMap {
    let mut map = http::HeaderMap::new();
    for (k, v) in pairs {
        map.append(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            http::HeaderValue::from_str(v).unwrap(),
        );
    }
    map
}

fn feed(
    state: &mut PageState,
    status: u16,
    headers: &http::HeaderMap,
    body: &Value,
    path: Option<&DottedPath>,
) -> Result<Step, PaginationError> {
    let record_count = Records::of(body, path).len();
    state.next(&PageResponse {
        status,
        headers,
        body,
        record_count,
    })
}

fn next_request(step: Step) -> PageRequest {
    match step {
        Step::Next(request) => request,
        other => panic!("expected Next, got {other:?}"),
    }
}

#[test]
fn salesforce_next_records_url_is_a_path_on_the_instance() {
    let (paginator, records) = method("salesforce", "accounts", "list");
    let (mut state, first) = paginator.start(StartOptions::default()).unwrap();
    assert_eq!(first, PageRequest::default());
    let no_headers = headers(&[]);
    let page1 = json!({"totalSize": 3, "done": false,
        "nextRecordsUrl": "/services/data/v59.0/query/01gD0000002HU6KIAW-2000",
        "records": [{"Id": "001A"}, {"Id": "001B"}]});
    let second =
        next_request(feed(&mut state, 200, &no_headers, &page1, records.as_ref()).unwrap());
    assert_eq!(
        second.url,
        Some(NextUrl::Reference(
            "/services/data/v59.0/query/01gD0000002HU6KIAW-2000".into()
        ))
    );
    assert!(second.query.is_empty());
    let url = second
        .url
        .unwrap()
        .resolve("https://acme.my.salesforce.com", false)
        .unwrap();
    assert_eq!(
        url.as_str(),
        "https://acme.my.salesforce.com/services/data/v59.0/query/01gD0000002HU6KIAW-2000"
    );
    let page2 = json!({"totalSize": 3, "done": true, "records": [{"Id": "001C"}]});
    assert_eq!(
        feed(&mut state, 200, &no_headers, &page2, records.as_ref()).unwrap(),
        Step::Done
    );
    assert_eq!(state.next_cursor(), None);
}

#[test]
fn microsoft_graph_next_link_with_escaped_dot() {
    let (paginator, records) = method("microsoft-graph", "users", "list");
    let (mut state, _) = paginator.start(StartOptions::default()).unwrap();
    let h = headers(&[]);
    let link = "https://graph.microsoft.com/v1.0/users?$top=2&$skiptoken=RFNwdAIAAQAAAD8";
    let page = json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users",
            "@odata.nextLink": link, "value": [{"id": "u1"}, {"id": "u2"}]});
    let second = next_request(feed(&mut state, 200, &h, &page, records.as_ref()).unwrap());
    assert_eq!(second.url, Some(NextUrl::Absolute(link.into())));
    assert!(
        second
            .url
            .as_ref()
            .unwrap()
            .resolve("https://graph.microsoft.com/v1.0", false)
            .is_ok()
    );
    let last = json!({"value": [{"id": "u3"}]});
    assert_eq!(
        feed(&mut state, 200, &h, &last, records.as_ref()).unwrap(),
        Step::Done
    );
}

#[test]
fn microsoft_graph_first_request_sends_top() {
    let (paginator, _) = method("microsoft-graph", "users", "list");
    let (_, first) = paginator
        .start(StartOptions {
            limit: Some(25),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(first.query_value("$top"), Some(&json!(25)));
}

#[test]
fn hubspot_paging_next_after_and_absent_on_last_page() {
    let (paginator, records) = method("hubspot", "contacts", "list");
    let (mut state, first) = paginator
        .start(StartOptions {
            limit: Some(1000),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        first.query_value("limit"),
        Some(&json!(100)),
        "capped at max_limit"
    );
    let h = headers(&[]);
    let page = json!({"results": [{"id": "1"}], "paging": {"next": {"after": "NTI1Cg%3D%3D", "link": "?after=NTI1Cg%3D%3D"}}});
    let second = next_request(feed(&mut state, 200, &h, &page, records.as_ref()).unwrap());
    assert_eq!(second.query_value("after"), Some(&json!("NTI1Cg%3D%3D")));
    assert_eq!(second.query_value("limit"), Some(&json!(100)));
    let last = json!({"results": [{"id": "2"}]});
    assert_eq!(
        feed(&mut state, 200, &h, &last, records.as_ref()).unwrap(),
        Step::Done
    );
}

#[test]
fn hubspot_search_sends_cursor_in_body() {
    let (paginator, records) = method("hubspot", "contacts", "search");
    let (mut state, _) = paginator.start(StartOptions::default()).unwrap();
    let page = json!({"total": 2, "results": [{"id": "1"}], "paging": {"next": {"after": "1"}}});
    let second =
        next_request(feed(&mut state, 200, &headers(&[]), &page, records.as_ref()).unwrap());
    assert_eq!(second.body.get("after"), Some(&json!("1")));
    assert!(second.query.is_empty());
}

#[test]
fn notion_post_body_start_cursor_and_has_more() {
    let (paginator, records) = method("notion", "pages", "list");
    let (mut state, first) = paginator
        .start(StartOptions {
            limit: Some(50),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(first.body.get("page_size"), Some(&json!(50)));
    assert!(first.query.is_empty());
    let h = headers(&[]);
    let page = json!({"object": "list", "results": [{"id": "p1"}], "has_more": true,
        "next_cursor": "fe2cc560-036c-44cd-90e8-294d5a74cebc"});
    let second = next_request(feed(&mut state, 200, &h, &page, records.as_ref()).unwrap());
    assert_eq!(
        second.body.get("start_cursor"),
        Some(&json!("fe2cc560-036c-44cd-90e8-294d5a74cebc"))
    );
    // has_more false ends the list even though next_cursor is (wrongly) set.
    let last = json!({"object": "list", "results": [{"id": "p2"}], "has_more": false, "next_cursor": "zzz"});
    assert_eq!(
        feed(&mut state, 200, &h, &last, records.as_ref()).unwrap(),
        Step::Done
    );
}

#[test]
fn slack_empty_string_cursor_ends() {
    let (paginator, records) = method("slack", "channels", "list");
    let (mut state, _) = paginator.start(StartOptions::default()).unwrap();
    let h = headers(&[]);
    let page = json!({"ok": true, "channels": [{"id": "C1"}], "response_metadata": {"next_cursor": "dGVhbTpDMDYxRkE1UEI="}});
    let second = next_request(feed(&mut state, 200, &h, &page, records.as_ref()).unwrap());
    assert_eq!(
        second.query_value("cursor"),
        Some(&json!("dGVhbTpDMDYxRkE1UEI="))
    );
    assert_eq!(second.query_value("limit"), Some(&json!(200)));
    let last =
        json!({"ok": true, "channels": [{"id": "C2"}], "response_metadata": {"next_cursor": ""}});
    assert_eq!(
        feed(&mut state, 200, &h, &last, records.as_ref()).unwrap(),
        Step::Done
    );
}

#[test]
fn zendesk_meta_has_more_and_bracket_keys() {
    let (paginator, records) = method("zendesk", "tickets", "list");
    let (mut state, first) = paginator
        .start(StartOptions {
            limit: Some(2),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(first.query_value("page[size]"), Some(&json!(2)));
    let h = headers(&[]);
    let page = json!({"tickets": [{"id": 1}, {"id": 2}],
        "meta": {"has_more": true, "after_cursor": "xxx", "before_cursor": "yyy"},
        "links": {"next": "https://acme.zendesk.com/api/v2/tickets.json?page%5Bafter%5D=xxx&page%5Bsize%5D=2"}});
    let second = next_request(feed(&mut state, 200, &h, &page, records.as_ref()).unwrap());
    assert_eq!(second.query_value("page[after]"), Some(&json!("xxx")));
    let last = json!({"tickets": [{"id": 3}], "meta": {"has_more": false, "after_cursor": "zzz"}});
    assert_eq!(
        feed(&mut state, 200, &h, &last, records.as_ref()).unwrap(),
        Step::Done
    );
}

#[test]
fn github_link_header() {
    let (paginator, records) = method("github", "repos", "list");
    let (mut state, first) = paginator
        .start(StartOptions {
            limit: Some(30),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(first.query_value("per_page"), Some(&json!(30)));
    let page = json!([{"id": 1}, {"id": 2}]);
    let h = headers(&[(
        "link",
        r#"<https://api.github.com/user/repos?per_page=30&page=2>; rel="next", <https://api.github.com/user/repos?per_page=30&page=3>; rel="last""#,
    )]);
    let second = next_request(feed(&mut state, 200, &h, &page, records.as_ref()).unwrap());
    assert_eq!(
        second.url,
        Some(NextUrl::Absolute(
            "https://api.github.com/user/repos?per_page=30&page=2".into()
        ))
    );
    assert!(second.query.is_empty(), "the link carries per_page already");
    let last_h = headers(&[(
        "link",
        r#"<https://api.github.com/user/repos?per_page=30&page=1>; rel="prev", <https://api.github.com/user/repos?per_page=30&page=1>; rel="first""#,
    )]);
    assert_eq!(
        feed(&mut state, 200, &last_h, &page, records.as_ref()).unwrap(),
        Step::Done
    );
}

#[test]
fn shopify_link_header_page_info() {
    let (paginator, records) = method("shopify", "products", "list");
    let (mut state, _) = paginator.start(StartOptions::default()).unwrap();
    let body = json!({"products": [{"id": 1}]});
    let h = headers(&[(
        "link",
        r#"<https://acme.myshopify.com/admin/api/2024-01/products.json?limit=250&page_info=eyJsYXN0X2lkIjo>; rel="next""#,
    )]);
    let second = next_request(feed(&mut state, 200, &h, &body, records.as_ref()).unwrap());
    let Some(NextUrl::Absolute(link)) = second.url else {
        panic!()
    };
    assert!(link.ends_with("page_info=eyJsYXN0X2lkIjo"));
    // The second page has both previous and next.
    let h2 = headers(&[(
        "link",
        r#"<https://acme.myshopify.com/admin/api/2024-01/products.json?limit=250&page_info=prev1>; rel="previous", <https://acme.myshopify.com/admin/api/2024-01/products.json?limit=250&page_info=next2>; rel="next""#,
    )]);
    let third = next_request(feed(&mut state, 200, &h2, &body, records.as_ref()).unwrap());
    assert_eq!(
        third.url,
        Some(NextUrl::Absolute(
            "https://acme.myshopify.com/admin/api/2024-01/products.json?limit=250&page_info=next2"
                .into()
        ))
    );
}

#[test]
fn jira_offset_start_at_and_short_page() {
    let (paginator, records) = method("jira", "projects", "list");
    let (mut state, first) = paginator
        .start(StartOptions {
            limit: Some(2),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(first.query_value("startAt"), Some(&json!(0)));
    assert_eq!(first.query_value("maxResults"), Some(&json!(2)));
    let h = headers(&[]);
    let page = json!({"startAt": 0, "maxResults": 2, "total": 3, "isLast": false, "values": [{"id": "1"}, {"id": "2"}]});
    let second = next_request(feed(&mut state, 200, &h, &page, records.as_ref()).unwrap());
    assert_eq!(second.query_value("startAt"), Some(&json!(2)));
    let last =
        json!({"startAt": 2, "maxResults": 2, "total": 3, "isLast": true, "values": [{"id": "3"}]});
    assert_eq!(
        feed(&mut state, 200, &h, &last, records.as_ref()).unwrap(),
        Step::Done
    );
}

#[test]
fn keka_page_number_with_has_next_path() {
    let (paginator, records) = method("keka", "employees", "list");
    let (mut state, first) = paginator
        .start(StartOptions {
            limit: Some(2),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(first.query_value("pageNumber"), Some(&json!(1)));
    assert_eq!(first.query_value("pageSize"), Some(&json!(2)));
    let h = headers(&[]);
    // A short page, but nextPage says there is more: has_next_path wins over the short-page rule.
    let page = json!({"succeeded": true, "data": [{"id": "e1"}], "pageNumber": 1, "pageSize": 2, "totalPages": 2,
        "nextPage": "https://acme.keka.com/api/v1/hris/employees?pageNumber=2&pageSize=2"});
    let second = next_request(feed(&mut state, 200, &h, &page, records.as_ref()).unwrap());
    assert_eq!(second.query_value("pageNumber"), Some(&json!(2)));
    let last = json!({"succeeded": true, "data": [{"id": "e2"}], "pageNumber": 2, "totalPages": 2, "nextPage": null});
    assert_eq!(
        feed(&mut state, 200, &h, &last, records.as_ref()).unwrap(),
        Step::Done
    );
}

#[test]
fn stripe_dynamic_has_more_starting_after() {
    let (paginator, records) = method("stripe", "customers", "list");
    let (mut state, first) = paginator.start(StartOptions::default()).unwrap();
    assert_eq!(first.query, vec![("limit".to_owned(), json!(100))]);
    let h = headers(&[]);
    let page = json!({"object": "list", "data": [{"id": "cus_1"}, {"id": "cus_2"}], "has_more": true, "url": "/v1/customers"});
    let second = next_request(feed(&mut state, 200, &h, &page, records.as_ref()).unwrap());
    assert_eq!(second.query_value("starting_after"), Some(&json!("cus_2")));
    assert_eq!(second.query_value("limit"), Some(&json!(100)));
    let cursor = state.next_cursor().expect("resumable").to_owned();

    // Resume in a new call: the first request is the pending one.
    let (_, resumed) = paginator
        .start(StartOptions {
            resume: Some(cursor),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(resumed, second);

    let last = json!({"object": "list", "data": [{"id": "cus_3"}], "has_more": false});
    assert_eq!(
        feed(&mut state, 200, &h, &last, records.as_ref()).unwrap(),
        Step::Done
    );
}

#[test]
fn resume_every_format_reproduces_the_pending_request() {
    let h = headers(&[]);
    let cases: Vec<(&str, &str, Value)> = vec![
        (
            "slack",
            "channels",
            json!({"channels": [{"id": 1}], "response_metadata": {"next_cursor": "abc"}}),
        ),
        (
            "salesforce",
            "accounts",
            json!({"records": [{"Id": 1}], "nextRecordsUrl": "/services/data/v59.0/query/x-2000"}),
        ),
        (
            "jira",
            "projects",
            json!({"values": [{"id": 1}, {"id": 2}]}),
        ),
        (
            "keka",
            "employees",
            json!({"data": [{"id": 1}], "nextPage": "x"}),
        ),
    ];
    for (name, resource, body) in cases {
        let (paginator, records) = method(name, resource, "list");
        let (mut state, _) = paginator
            .start(StartOptions {
                limit: Some(2),
                ..Default::default()
            })
            .unwrap();
        let pending = next_request(feed(&mut state, 200, &h, &body, records.as_ref()).unwrap());
        let cursor = state.next_cursor().unwrap().to_owned();
        let (_, resumed) = paginator
            .start(StartOptions {
                limit: Some(2),
                resume: Some(cursor),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(resumed, pending, "{name}");
    }
}

#[test]
fn resume_with_foreign_or_garbage_cursor_is_a_typed_error() {
    let (slack, _) = method("slack", "channels", "list");
    let (jira, records) = method("jira", "projects", "list");
    let (mut state, _) = jira
        .start(StartOptions {
            limit: Some(1),
            ..Default::default()
        })
        .unwrap();
    next_request(
        feed(
            &mut state,
            200,
            &headers(&[]),
            &json!({"values": [{"id": 1}]}),
            records.as_ref(),
        )
        .unwrap(),
    );
    let jira_cursor = state.next_cursor().unwrap().to_owned();
    assert!(matches!(
        slack.start(StartOptions {
            resume: Some(jira_cursor),
            ..Default::default()
        }),
        Err(PaginationError::CursorFormatMismatch {
            expected: "cursor",
            ..
        })
    ));
    assert!(matches!(
        slack.start(StartOptions {
            resume: Some("not a cursor".into()),
            ..Default::default()
        }),
        Err(PaginationError::InvalidCursor { .. })
    ));
}

#[test]
fn crafted_link_cursor_cannot_leave_the_origin() {
    let (graph, _) = method("microsoft-graph", "users", "list");
    let (mut state, _) = graph.start(StartOptions::default()).unwrap();
    let body = json!({"value": [{"id": 1}], "@odata.nextLink": "https://evil.test/v1.0/users?$skiptoken=x"});
    let next = next_request(feed(&mut state, 200, &headers(&[]), &body, None).unwrap());
    assert!(matches!(
        next.url
            .unwrap()
            .resolve("https://graph.microsoft.com/v1.0", false),
        Err(PaginationError::ForeignLink { .. })
    ));
}
