//! The server over real HTTP on loopback.

use serde_json::{Value, json};

async fn start() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(patchbay_server::serve(listener));
    format!("http://{addr}")
}

#[tokio::test]
async fn validates_configs_and_reports_paths() {
    let base = start().await;
    let client = reqwest::Client::new();

    let ok = client
        .post(format!("{base}/integration/validate"))
        .body(include_str!("../../../examples/catalog/zendesk.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(
        ok.json::<Value>().await.unwrap(),
        // tickets list/get/create/update/delete, ticket_comments.list, users list/get, search.list
        json!({"valid": true, "methods": 9})
    );

    let bad = client
        .post(format!("{base}/integration/validate"))
        .body(r#"{"pagination": {"format": "cursor", "config": {}}, "labell": "x"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["statusCode"], 422);
    assert_eq!(body["error"], "Unprocessable Entity");
    // Problems come in document order.
    assert_eq!(body["errors"][0]["path"], "pagination.config.cursor_path");
    assert_eq!(body["errors"][1]["path"], "labell");
    assert_eq!(
        body["errors"][1]["message"],
        "unknown key `labell` (did you mean `label`?)"
    );

    let malformed = client
        .post(format!("{base}/integration/validate"))
        .body("{oops")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 422);
    let body: Value = malformed.json().await.unwrap();
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("line 1, column 2"),
        "{body}"
    );
}

#[tokio::test]
async fn serves_health_schema_and_json_404s() {
    let base = start().await;
    let health: Value = reqwest::get(format!("{base}/health"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health, json!({"status": "ok"}));
    let schema: Value = reqwest::get(format!("{base}/schema/integration-config.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let missing = reqwest::get(format!("{base}/nope")).await.unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.json::<Value>().await.unwrap()["statusCode"], 404);
}
