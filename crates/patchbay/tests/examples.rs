//! Runs the offline examples' code, so a broken example fails CI.
#![cfg(feature = "simulator")]

#[allow(dead_code)] // the example's `main`
mod list_offline {
    include!("../../../examples/list_offline.rs");
}

#[tokio::test]
async fn list_offline_streams_every_ticket_and_resumes_from_the_cursor() {
    let mut out = Vec::new();
    let summary = list_offline::run(&mut out).await.expect("the example runs");
    let printed = String::from_utf8(out).expect("UTF-8 output");

    let all: Vec<u64> = (1..=list_offline::TICKETS).collect();
    assert_eq!(summary.ids, all);
    assert_eq!(
        summary.first_page,
        (1..=list_offline::PAGE).collect::<Vec<_>>()
    );
    assert_eq!(
        summary.resumed,
        (list_offline::PAGE + 1..=list_offline::TICKETS).collect::<Vec<_>>()
    );
    assert!(printed.contains("listed 250 tickets"), "{printed}");
    assert!(
        printed.contains("first page: 100 tickets, next_cursor "),
        "{printed}"
    );
    assert!(
        printed.contains("resumed: 150 more tickets (#101 to #250); next_cursor now None"),
        "{printed}"
    );
    // 3 pages, 1 first page, 2 resumed pages.
    assert!(
        printed.contains("6 requests reached the simulator"),
        "{printed}"
    );
}
