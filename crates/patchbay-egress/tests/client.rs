//! The policy client against a real HTTP server on loopback.

use std::error::Error as _;
use std::sync::Arc;

use patchbay_egress::{DestinationError, DestinationPolicy, HOP_HEADER, client_builder};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The destination error somewhere in a reqwest error's source chain.
fn destination_error(error: &reqwest::Error) -> Option<DestinationError> {
    let mut source = error.source();
    while let Some(cause) = source {
        if let Some(found) = cause.downcast_ref::<DestinationError>() {
            return Some(found.clone());
        }
        source = cause.source();
    }
    None
}

#[tokio::test]
async fn a_name_that_resolves_to_loopback_is_never_connected_to() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let client = client_builder(Arc::new(DestinationPolicy::public_only()))
        .build()
        .expect("client");
    let url = format!("http://localhost:{}/internal", server.address().port());
    let error = client.get(&url).send().await.unwrap_err();
    let refused = destination_error(&error).expect("refused by the policy");
    assert!(matches!(
        refused,
        DestinationError::AllAddressesRefused {
            range: "loopback",
            ..
        }
    ));
    assert!(
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    );
}

#[tokio::test]
async fn an_allowed_loopback_server_is_reached_with_the_hop_marker_and_no_redirects() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/ok"))
        .and(header(HOP_HEADER, "1"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", "/elsewhere"))
        .mount(&server)
        .await;
    let policy = DestinationPolicy::from_allow_list("loopback").expect("valid");
    let client = client_builder(Arc::new(policy)).build().expect("client");
    let url = format!("http://localhost:{}/ok", server.address().port());
    let answer = client.get(&url).send().await.expect("reached");
    assert_eq!(answer.status(), 302, "redirects are left to the caller");
    assert_eq!(server.received_requests().await.expect("recorded").len(), 1);
}

#[test]
fn ip_literals_are_checked_by_check_url() {
    let policy = DestinationPolicy::public_only();
    let url = url::Url::parse("http://127.0.0.1:9/").expect("url");
    assert!(matches!(
        policy.check_url(&url),
        Err(DestinationError::Refused {
            range: "loopback",
            ..
        })
    ));
}
