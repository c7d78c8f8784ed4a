//! Loop guards, range, header cursors and the less common cursor keys.

use patchbay_config::{CursorConfig, CursorSource, Pagination, RangeConfig};
use patchbay_pagination::{NextUrl, PageResponse, PaginationError, Paginator, StartOptions, Step};
use proptest::prelude::*;
use serde_json::{Value, json};

fn cursor(config: CursorConfig) -> Paginator {
    Paginator::new(&Pagination::Cursor(config), None).unwrap()
}

fn basic() -> CursorConfig {
    CursorConfig {
        cursor_path: "next".into(),
        cursor_key: Some("after".into()),
        ..Default::default()
    }
}

fn respond(
    state: &mut patchbay_pagination::PageState,
    status: u16,
    headers: &http::HeaderMap,
    body: &Value,
    count: usize,
) -> Result<Step, PaginationError> {
    state.next(&PageResponse {
        status,
        headers,
        body,
        record_count: count,
    })
}

#[test]
fn repeated_cursor_is_an_error_not_a_loop() {
    let (mut state, _) = cursor(basic()).start(StartOptions::default()).unwrap();
    let h = http::HeaderMap::new();
    assert!(matches!(
        respond(&mut state, 200, &h, &json!({"next": "a"}), 1),
        Ok(Step::Next(_))
    ));
    assert!(matches!(
        respond(&mut state, 200, &h, &json!({"next": "b"}), 1),
        Ok(Step::Next(_))
    ));
    let err = respond(&mut state, 200, &h, &json!({"next": "a"}), 1).unwrap_err();
    assert!(
        matches!(err, PaginationError::RepeatedCursor { page: 3, ref cursor } if cursor == "a"),
        "{err}"
    );
    assert!(state.is_finished());
    assert_eq!(
        respond(&mut state, 200, &h, &json!({"next": "c"}), 1).unwrap(),
        Step::Done
    );
}

#[test]
fn resumed_cursor_repeated_by_the_provider_is_caught() {
    let paginator = cursor(basic());
    let (mut state, _) = paginator.start(StartOptions::default()).unwrap();
    let h = http::HeaderMap::new();
    respond(&mut state, 200, &h, &json!({"next": "a"}), 1).unwrap();
    let token = state.next_cursor().unwrap().to_owned();
    let (mut resumed, first) = paginator
        .start(StartOptions {
            resume: Some(token),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(first.query_value("after"), Some(&json!("a")));
    assert!(matches!(
        respond(&mut resumed, 200, &h, &json!({"next": "a"}), 1),
        Err(PaginationError::RepeatedCursor { .. })
    ));
}

#[test]
fn empty_page_with_cursor() {
    let h = http::HeaderMap::new();
    let (mut state, _) = cursor(basic()).start(StartOptions::default()).unwrap();
    assert!(matches!(
        respond(&mut state, 200, &h, &json!({"next": "a"}), 0),
        Err(PaginationError::EmptyPageWithCursor { page: 1 })
    ));
    let allowed = cursor(CursorConfig {
        allow_empty_page_cursor: Some(true),
        ..basic()
    });
    let (mut state, _) = allowed.start(StartOptions::default()).unwrap();
    assert!(matches!(
        respond(&mut state, 200, &h, &json!({"next": "a"}), 0),
        Ok(Step::Next(_))
    ));
    // An empty last page without a cursor is fine.
    let (mut state, _) = cursor(basic()).start(StartOptions::default()).unwrap();
    assert_eq!(
        respond(&mut state, 200, &h, &json!({"next": null}), 0).unwrap(),
        Step::Done
    );
}

#[test]
fn max_pages_stops_with_a_resumable_cursor() {
    let paginator = cursor(basic()).with_max_pages(Some(2));
    let (mut state, _) = paginator.start(StartOptions::default()).unwrap();
    let h = http::HeaderMap::new();
    assert!(matches!(
        respond(&mut state, 200, &h, &json!({"next": "a"}), 1),
        Ok(Step::Next(_))
    ));
    let err = respond(&mut state, 200, &h, &json!({"next": "b"}), 1).unwrap_err();
    let PaginationError::MaxPagesReached {
        max: 2,
        next_cursor: Some(token),
    } = err
    else {
        panic!("{err:?}")
    };
    let (_, resumed) = paginator
        .start(StartOptions {
            resume: Some(token),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(resumed.query_value("after"), Some(&json!("b")));
}

#[test]
fn content_hash_drops_a_repeated_page() {
    let p = cursor(CursorConfig {
        use_content_hash: Some(true),
        ..basic()
    });
    let (mut state, _) = p.start(StartOptions::default()).unwrap();
    let h = http::HeaderMap::new();
    assert!(matches!(
        respond(&mut state, 200, &h, &json!({"items": [1], "next": "a"}), 1),
        Ok(Step::Next(_))
    ));
    assert!(matches!(
        respond(&mut state, 200, &h, &json!({"items": [2], "next": "b"}), 1),
        Ok(Step::Next(_))
    ));
    assert_eq!(
        respond(&mut state, 200, &h, &json!({"items": [2], "next": "b"}), 1).unwrap(),
        Step::RepeatedPage
    );
}

#[test]
fn header_cursor_url_encoded_and_ignore_limit() {
    let p = cursor(CursorConfig {
        cursor_path: "X-Next-Cursor".into(),
        cursor_path_object: Some(CursorSource::Header),
        cursor_key: Some("cursor".into()),
        limit_key: Some("limit".into()),
        limit_data_type: Some("string".into()),
        is_cursor_url_encoded: Some(true),
        ignore_limit_in_pagination: Some(true),
        ..Default::default()
    });
    let (mut state, first) = p
        .start(StartOptions {
            limit: Some(10),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(first.query_value("limit"), Some(&json!("10")));
    let mut h = http::HeaderMap::new();
    h.insert("x-next-cursor", "abc%3D%3D".parse().unwrap());
    let Step::Next(next) = respond(&mut state, 200, &h, &json!([1]), 1).unwrap() else {
        panic!()
    };
    assert_eq!(next.query_value("cursor"), Some(&json!("abc==")));
    assert_eq!(next.query_value("limit"), None);
}

#[test]
fn pagination_path_and_string_has_next() {
    let config = Pagination::Cursor(CursorConfig {
        cursor_path: "cursor".into(),
        has_next_path: Some("more".into()),
        ..Default::default()
    });
    let p = Paginator::new(&config, Some("meta.paging")).unwrap();
    let (mut state, _) = p.start(StartOptions::default()).unwrap();
    let h = http::HeaderMap::new();
    let Step::Next(next) = respond(
        &mut state,
        200,
        &h,
        &json!({"meta": {"paging": {"cursor": 42, "more": "true"}}}),
        1,
    )
    .unwrap() else {
        panic!()
    };
    assert_eq!(next.query_value("cursor"), Some(&json!(42)));
    assert_eq!(
        respond(
            &mut state,
            200,
            &h,
            &json!({"meta": {"paging": {"cursor": 43, "more": "false"}}}),
            1
        )
        .unwrap(),
        Step::Done
    );
}

#[test]
fn object_cursor_is_a_typed_error() {
    let (mut state, _) = cursor(basic()).start(StartOptions::default()).unwrap();
    let err = respond(
        &mut state,
        200,
        &http::HeaderMap::new(),
        &json!({"next": {"a": 1}}),
        1,
    )
    .unwrap_err();
    assert!(matches!(
        err,
        PaginationError::UnsupportedCursorValue {
            found: "object",
            ..
        }
    ));
}

#[test]
fn is_link_relative_path_without_include_path() {
    let p = cursor(CursorConfig {
        cursor_path: "links.next".into(),
        is_link: Some(true),
        ..Default::default()
    });
    let (mut state, _) = p.start(StartOptions::default()).unwrap();
    let Step::Next(next) = respond(
        &mut state,
        200,
        &http::HeaderMap::new(),
        &json!({"links": {"next": "/v2/items?page=2"}}),
        1,
    )
    .unwrap() else {
        panic!()
    };
    assert_eq!(
        next.url,
        Some(NextUrl::Reference("/v2/items?page=2".into()))
    );
    assert_eq!(
        next.url
            .unwrap()
            .resolve("https://api.test/v2", false)
            .unwrap()
            .as_str(),
        "https://api.test/v2/items?page=2"
    );
}

#[test]
fn range_with_content_range_and_200() {
    let p = Paginator::new(
        &Pagination::Range(RangeConfig {
            unit: None,
            max_limit: Some(25),
        }),
        None,
    )
    .unwrap();
    let (mut state, first) = p.start(StartOptions::default()).unwrap();
    assert_eq!(first.header("range"), Some("items=0-24"));
    let mut h = http::HeaderMap::new();
    h.insert("content-range", "items 0-24/60".parse().unwrap());
    let Step::Next(second) = respond(&mut state, 206, &h, &json!([]), 25).unwrap() else {
        panic!()
    };
    assert_eq!(second.header("Range"), Some("items=25-49"));
    h.insert("content-range", "items 25-49/60".parse().unwrap());
    let Step::Next(third) = respond(&mut state, 206, &h, &json!([]), 25).unwrap() else {
        panic!()
    };
    assert_eq!(third.header("Range"), Some("items=50-74"));
    h.insert("content-range", "items 50-59/60".parse().unwrap());
    assert_eq!(
        respond(&mut state, 206, &h, &json!([]), 10).unwrap(),
        Step::Done
    );

    // A server that ignores Range answers 200 with everything.
    let (mut state, _) = p.start(StartOptions::default()).unwrap();
    assert_eq!(
        respond(&mut state, 200, &http::HeaderMap::new(), &json!([]), 25).unwrap(),
        Step::Done
    );
    // Unknown total: a short page ends.
    let (mut state, _) = p.start(StartOptions::default()).unwrap();
    let mut h = http::HeaderMap::new();
    h.insert("content-range", "items 0-24/*".parse().unwrap());
    assert!(matches!(
        respond(&mut state, 206, &h, &json!([]), 25).unwrap(),
        Step::Next(_)
    ));
    h.insert("content-range", "items 25-30/*".parse().unwrap());
    assert_eq!(
        respond(&mut state, 206, &h, &json!([]), 6).unwrap(),
        Step::Done
    );
}

#[test]
fn dynamic_values_must_be_objects() {
    let config: Pagination = serde_json::from_value(json!({"format": "dynamic", "config": {
        "get_pagination_values_expression": "body.next"}}))
    .unwrap();
    let p = Paginator::new(&config, None).unwrap();
    let (mut state, first) = p.start(StartOptions::default()).unwrap();
    assert!(first.query.is_empty());
    let err = respond(
        &mut state,
        200,
        &http::HeaderMap::new(),
        &json!({"next": "x"}),
        1,
    )
    .unwrap_err();
    assert!(matches!(
        err,
        PaginationError::DynamicValuesNotObject {
            found: "string",
            ..
        }
    ));
    let bad: Pagination = serde_json::from_value(json!({"format": "dynamic", "config": {
        "get_pagination_values_expression": "body.("}}))
    .unwrap();
    assert!(matches!(
        Paginator::new(&bad, None),
        Err(PaginationError::Compile { .. })
    ));
}

#[test]
fn dynamic_scope_sees_query_and_pagination_values() {
    let config: Pagination = serde_json::from_value(json!({"format": "dynamic", "config": {
        "get_initial_pagination_values_expression": "{'page': 1, 'size': $number(query.size)}",
        "get_pagination_values_expression": "response.status = 200 and $count(body.items) = paginationValues.size ? {'page': paginationValues.page + 1, 'size': paginationValues.size} : null"
    }})).unwrap();
    let p = Paginator::new(&config, None).unwrap();
    let (mut state, first) = p
        .start(StartOptions {
            query: json!({"size": "2"}),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(first.query_value("page"), Some(&json!(1)));
    assert_eq!(first.query_value("size"), Some(&json!(2)));
    let h = http::HeaderMap::new();
    let Step::Next(next) = respond(&mut state, 200, &h, &json!({"items": [1, 2]}), 2).unwrap()
    else {
        panic!()
    };
    assert_eq!(next.query_value("page"), Some(&json!(2)));
    assert_eq!(
        respond(&mut state, 200, &h, &json!({"items": [3]}), 1).unwrap(),
        Step::Done
    );
}

proptest! {
    /// Offset pagination over a list of any length visits every record exactly once and terminates.
    #[test]
    fn offset_walks_any_list_exactly_once(total in 0usize..500, limit in 1u64..60) {
        let config: Pagination = serde_json::from_value(json!({"format": "offset", "config": {}})).unwrap();
        let p = Paginator::new(&config, None).unwrap();
        let (mut state, mut request) = p.start(StartOptions { limit: Some(limit), ..Default::default() }).unwrap();
        let h = http::HeaderMap::new();
        let mut seen = 0usize;
        loop {
            let offset = request.query_value("offset").and_then(Value::as_u64).unwrap() as usize;
            prop_assert_eq!(offset, seen);
            let count = (total.saturating_sub(offset)).min(limit as usize);
            seen += count;
            match respond(&mut state, 200, &h, &json!(null), count).unwrap() {
                Step::Next(next) => request = next,
                Step::Done => break,
                Step::RepeatedPage => unreachable!(),
            }
            prop_assert!(state.pages() <= (total as u64 / limit) + 2);
        }
        prop_assert_eq!(seen, total);
    }
}
