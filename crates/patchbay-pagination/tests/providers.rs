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

/// A list being paginated: the paginator of a catalog method, its state, and where a
/// page's records are.
struct Walk {
    paginator: Paginator,
    state: PageState,
    records: Option<DottedPath>,
}

/// Starts paginating `resource.method` of the catalog config `name`, asking for pages
/// of `limit`; the walk and its first request.
fn walk(name: &str, resource: &str, method_name: &str, limit: Option<u64>) -> (Walk, PageRequest) {
    let (paginator, records) = method(name, resource, method_name);
    let (state, first) = paginator
        .start(StartOptions {
            limit,
            ..Default::default()
        })
        .unwrap();
    let walk = Walk {
        paginator,
        state,
        records,
    };
    (walk, first)
}

impl Walk {
    /// Feeds a 200 page with `headers` and `body`.
    fn feed(&mut self, headers: &[(&str, &str)], body: &Value) -> Step {
        feed(
            &mut self.state,
            200,
            &self::headers(headers),
            body,
            self.records.as_ref(),
        )
        .unwrap()
    }

    /// The request for the page after `body` (a 200 without headers).
    fn next(&mut self, body: &Value) -> PageRequest {
        next_request(self.feed(&[], body))
    }

    /// Checks that `body` (a 200 without headers) is the last page.
    fn last(&mut self, body: &Value) {
        assert_eq!(self.feed(&[], body), Step::Done);
    }

    /// The first request of a new walk resuming from this one's cursor, with `limit`.
    fn resume(&self, limit: Option<u64>) -> PageRequest {
        let cursor = self.state.next_cursor().expect("resumable").to_owned();
        let (_, resumed) = self
            .paginator
            .start(StartOptions {
                limit,
                resume: Some(cursor),
                ..Default::default()
            })
            .unwrap();
        resumed
    }
}

#[test]
fn salesforce_next_records_url_is_a_path_on_the_instance() {
    let (mut walk, first) = walk("salesforce", "accounts", "list", None);
    assert_eq!(first, PageRequest::default());
    let page1 = json!({"totalSize": 3, "done": false,
        "nextRecordsUrl": "/services/data/v59.0/query/01gD0000002HU6KIAW-2000",
        "records": [{"Id": "001A"}, {"Id": "001B"}]});
    let second = walk.next(&page1);
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
    walk.last(&page2);
    assert_eq!(walk.state.next_cursor(), None);
}

#[test]
fn microsoft_graph_next_link_with_escaped_dot() {
    let (mut walk, _) = walk("microsoft-graph", "users", "list", None);
    let link = "https://graph.microsoft.com/v1.0/users?$top=2&$skiptoken=RFNwdAIAAQAAAD8";
    let page = json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users",
            "@odata.nextLink": link, "value": [{"id": "u1"}, {"id": "u2"}]});
    let second = walk.next(&page);
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
    walk.last(&last);
}

#[test]
fn microsoft_graph_first_request_sends_top() {
    let (_, first) = walk("microsoft-graph", "users", "list", Some(25));
    assert_eq!(first.query_value("$top"), Some(&json!(25)));
}

#[test]
fn hubspot_paging_next_after_and_absent_on_last_page() {
    let (mut walk, first) = walk("hubspot", "contacts", "list", Some(1000));
    assert_eq!(
        first.query_value("limit"),
        Some(&json!(100)),
        "capped at max_limit"
    );
    let page = json!({"results": [{"id": "1"}], "paging": {"next": {"after": "NTI1Cg%3D%3D", "link": "?after=NTI1Cg%3D%3D"}}});
    let second = walk.next(&page);
    assert_eq!(second.query_value("after"), Some(&json!("NTI1Cg%3D%3D")));
    assert_eq!(second.query_value("limit"), Some(&json!(100)));
    let last = json!({"results": [{"id": "2"}]});
    walk.last(&last);
}

#[test]
fn hubspot_search_sends_cursor_in_body() {
    let (mut walk, _) = walk("hubspot", "contacts", "search", None);
    let page = json!({"total": 2, "results": [{"id": "1"}], "paging": {"next": {"after": "1"}}});
    let second = walk.next(&page);
    assert_eq!(second.body.get("after"), Some(&json!("1")));
    assert!(second.query.is_empty());
}

#[test]
fn notion_post_body_start_cursor_and_has_more() {
    let (mut walk, first) = walk("notion", "pages", "list", Some(50));
    assert_eq!(first.body.get("page_size"), Some(&json!(50)));
    assert!(first.query.is_empty());
    let page = json!({"object": "list", "results": [{"id": "p1"}], "has_more": true,
        "next_cursor": "fe2cc560-036c-44cd-90e8-294d5a74cebc"});
    let second = walk.next(&page);
    assert_eq!(
        second.body.get("start_cursor"),
        Some(&json!("fe2cc560-036c-44cd-90e8-294d5a74cebc"))
    );
    // has_more false ends the list even though next_cursor is (wrongly) set.
    let last = json!({"object": "list", "results": [{"id": "p2"}], "has_more": false, "next_cursor": "zzz"});
    walk.last(&last);
}

#[test]
fn slack_empty_string_cursor_ends() {
    let (mut walk, _) = walk("slack", "channels", "list", None);
    let page = json!({"ok": true, "channels": [{"id": "C1"}], "response_metadata": {"next_cursor": "dGVhbTpDMDYxRkE1UEI="}});
    let second = walk.next(&page);
    assert_eq!(
        second.query_value("cursor"),
        Some(&json!("dGVhbTpDMDYxRkE1UEI="))
    );
    assert_eq!(second.query_value("limit"), Some(&json!(200)));
    let last =
        json!({"ok": true, "channels": [{"id": "C2"}], "response_metadata": {"next_cursor": ""}});
    walk.last(&last);
}

#[test]
fn zendesk_meta_has_more_and_bracket_keys() {
    let (mut walk, first) = walk("zendesk", "tickets", "list", Some(2));
    assert_eq!(first.query_value("page[size]"), Some(&json!(2)));
    let page = json!({"tickets": [{"id": 1}, {"id": 2}],
        "meta": {"has_more": true, "after_cursor": "xxx", "before_cursor": "yyy"},
        "links": {"next": "https://acme.zendesk.com/api/v2/tickets.json?page%5Bafter%5D=xxx&page%5Bsize%5D=2"}});
    let second = walk.next(&page);
    assert_eq!(second.query_value("page[after]"), Some(&json!("xxx")));
    let last = json!({"tickets": [{"id": 3}], "meta": {"has_more": false, "after_cursor": "zzz"}});
    walk.last(&last);
}

#[test]
fn github_link_header() {
    let (mut walk, first) = walk("github", "repos", "list", Some(30));
    assert_eq!(first.query_value("per_page"), Some(&json!(30)));
    let page = json!([{"id": 1}, {"id": 2}]);
    let link = r#"<https://api.github.com/user/repos?per_page=30&page=2>; rel="next", <https://api.github.com/user/repos?per_page=30&page=3>; rel="last""#;
    let second = next_request(walk.feed(&[("link", link)], &page));
    assert_eq!(
        second.url,
        Some(NextUrl::Absolute(
            "https://api.github.com/user/repos?per_page=30&page=2".into()
        ))
    );
    assert!(second.query.is_empty(), "the link carries per_page already");
    let last_link = r#"<https://api.github.com/user/repos?per_page=30&page=1>; rel="prev", <https://api.github.com/user/repos?per_page=30&page=1>; rel="first""#;
    assert_eq!(walk.feed(&[("link", last_link)], &page), Step::Done);
}

#[test]
fn shopify_link_header_page_info() {
    let (mut walk, _) = walk("shopify", "products", "list", None);
    let body = json!({"products": [{"id": 1}]});
    let link = r#"<https://acme.myshopify.com/admin/api/2024-01/products.json?limit=250&page_info=eyJsYXN0X2lkIjo>; rel="next""#;
    let second = next_request(walk.feed(&[("link", link)], &body));
    let Some(NextUrl::Absolute(link)) = second.url else {
        panic!()
    };
    assert!(link.ends_with("page_info=eyJsYXN0X2lkIjo"));
    // The second page has both previous and next.
    let both = r#"<https://acme.myshopify.com/admin/api/2024-01/products.json?limit=250&page_info=prev1>; rel="previous", <https://acme.myshopify.com/admin/api/2024-01/products.json?limit=250&page_info=next2>; rel="next""#;
    let third = next_request(walk.feed(&[("link", both)], &body));
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
    let (mut walk, first) = walk("jira", "projects", "list", Some(2));
    assert_eq!(first.query_value("startAt"), Some(&json!(0)));
    assert_eq!(first.query_value("maxResults"), Some(&json!(2)));
    let page = json!({"startAt": 0, "maxResults": 2, "total": 3, "isLast": false, "values": [{"id": "1"}, {"id": "2"}]});
    let second = walk.next(&page);
    assert_eq!(second.query_value("startAt"), Some(&json!(2)));
    let last =
        json!({"startAt": 2, "maxResults": 2, "total": 3, "isLast": true, "values": [{"id": "3"}]});
    walk.last(&last);
}

#[test]
fn keka_page_number_with_has_next_path() {
    let (mut walk, first) = walk("keka", "employees", "list", Some(2));
    assert_eq!(first.query_value("pageNumber"), Some(&json!(1)));
    assert_eq!(first.query_value("pageSize"), Some(&json!(2)));
    // A short page, but nextPage says there is more: has_next_path wins over the short-page rule.
    let page = json!({"succeeded": true, "data": [{"id": "e1"}], "pageNumber": 1, "pageSize": 2, "totalPages": 2,
        "nextPage": "https://acme.keka.com/api/v1/hris/employees?pageNumber=2&pageSize=2"});
    let second = walk.next(&page);
    assert_eq!(second.query_value("pageNumber"), Some(&json!(2)));
    let last = json!({"succeeded": true, "data": [{"id": "e2"}], "pageNumber": 2, "totalPages": 2, "nextPage": null});
    walk.last(&last);
}

#[test]
fn stripe_dynamic_has_more_starting_after() {
    let (mut walk, first) = walk("stripe", "customers", "list", None);
    assert_eq!(first.query, vec![("limit".to_owned(), json!(100))]);
    let page = json!({"object": "list", "data": [{"id": "cus_1"}, {"id": "cus_2"}], "has_more": true, "url": "/v1/customers"});
    let second = walk.next(&page);
    assert_eq!(second.query_value("starting_after"), Some(&json!("cus_2")));
    assert_eq!(second.query_value("limit"), Some(&json!(100)));

    // Resume in a new call: the first request is the pending one.
    assert_eq!(walk.resume(None), second);

    let last = json!({"object": "list", "data": [{"id": "cus_3"}], "has_more": false});
    walk.last(&last);
}

#[test]
fn resume_every_format_reproduces_the_pending_request() {
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
        let (mut walk, _) = walk(name, resource, "list", Some(2));
        let pending = walk.next(&body);
        assert_eq!(walk.resume(Some(2)), pending, "{name}");
    }
}

#[test]
fn resume_with_foreign_or_garbage_cursor_is_a_typed_error() {
    let (slack, _) = method("slack", "channels", "list");
    let (mut jira, _) = walk("jira", "projects", "list", Some(1));
    jira.next(&json!({"values": [{"id": 1}]}));
    let jira_cursor = jira.state.next_cursor().unwrap().to_owned();
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
