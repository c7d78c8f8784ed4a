//! `/environment` and `/api-token` over real HTTP on loopback with a SQLite store.

mod support;

use reqwest::Method;
use serde_json::{Value, json};

use support::TestServer;

#[tokio::test]
async fn a_token_sees_and_renames_only_its_own_environment() {
    let server = TestServer::start().await;
    let env = server.environment_id.clone();
    let other = server.store.create_environment("staging").await.unwrap();

    let (status, page) = server.send(Method::GET, "/environment", None).await;
    assert_eq!(status, 200, "{page}");
    let ids: Vec<&Value> = page["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["id"])
        .collect();
    assert_eq!(ids, [&json!(env)], "only the token's environment: {page}");
    assert_eq!(page["result"][0]["name"], "default");

    let (status, one) = server
        .send(Method::GET, &format!("/environment/{env}"), None)
        .await;
    assert_eq!((status.as_u16(), &one["id"]), (200, &json!(env)));
    let (status, _) = server
        .send(Method::GET, &format!("/environment/{}", other.id), None)
        .await;
    assert_eq!(
        status, 404,
        "another environment does not exist for this token"
    );
    let (status, _) = server
        .send(
            Method::PATCH,
            &format!("/environment/{}", other.id),
            Some(json!({"name": "mine"})),
        )
        .await;
    assert_eq!(status, 404);

    let (status, renamed) = server
        .send(
            Method::PATCH,
            &format!("/environment/{env}"),
            Some(json!({"name": "  production  "})),
        )
        .await;
    assert_eq!(status, 200, "{renamed}");
    assert_eq!(renamed["name"], "production");
    let (status, taken) = server
        .send(
            Method::PATCH,
            &format!("/environment/{env}"),
            Some(json!({"name": "staging"})),
        )
        .await;
    assert_eq!(status, 409, "{taken}");
    assert!(
        taken["message"]
            .as_str()
            .unwrap()
            .contains("`staging` exists"),
        "{taken}"
    );
    for bad in [json!({"name": ""}), json!({"name": "x".repeat(201)})] {
        let (status, body) = server
            .send(Method::PATCH, &format!("/environment/{env}"), Some(bad))
            .await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["errors"][0]["path"], "name", "{body}");
    }
    let (status, body) = server
        .send(
            Method::PATCH,
            &format!("/environment/{env}"),
            Some(json!({"name": "a", "team_id": "t"})),
        )
        .await;
    assert_eq!(status, 422, "unknown fields are refused: {body}");
    assert_eq!(
        server.store.get_environment(&env).await.unwrap().name,
        "production",
        "refused changes changed nothing"
    );
}

#[tokio::test]
async fn api_tokens_are_shown_once_and_revoked_at_once() {
    let server = TestServer::start().await;
    let (status, created) = server
        .send(Method::POST, "/api-token", Some(json!({"name": "ci"})))
        .await;
    assert_eq!(status, 201, "{created}");
    let value = created["token"].as_str().unwrap().to_owned();
    assert!(value.starts_with("pb_"), "{created}");
    assert_eq!(created["environment_id"], server.environment_id.as_str());
    let id = created["id"].as_str().unwrap().to_owned();

    // The new token works.
    let (status, pong) = server.send_as(&value, Method::GET, "/ping", None).await;
    assert_eq!(status, 200, "{pong}");

    // Listed and read without values.
    let (status, list) = server.send(Method::GET, "/api-token", None).await;
    assert_eq!(status, 200);
    let names: Vec<&Value> = list["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["name"])
        .collect();
    assert_eq!(names, [&json!("first token"), &json!("ci")]);
    assert!(
        !list.to_string().contains("pb_"),
        "no value in a list: {list}"
    );
    let (status, one) = server
        .send(Method::GET, &format!("/api-token/{id}"), None)
        .await;
    assert_eq!(status, 200);
    assert!(one.get("token").is_none() && one["name"] == "ci", "{one}");

    // Another environment's tokens are not there.
    let stranger = server.other_environment_token().await;
    let (status, _) = server
        .send_as(&stranger, Method::DELETE, &format!("/api-token/{id}"), None)
        .await;
    assert_eq!(status, 404);

    // Revoked: refused from the next request on.
    let (status, gone) = server
        .send(Method::DELETE, &format!("/api-token/{id}"), None)
        .await;
    assert_eq!((status.as_u16(), &gone["id"]), (200, &json!(id)));
    let (status, _) = server.send_as(&value, Method::GET, "/ping", None).await;
    assert_eq!(status, 401, "a revoked token stops at once");

    // The last token cannot be revoked over the API.
    let (status, list) = server.send(Method::GET, "/api-token", None).await;
    assert_eq!(status, 200);
    let last = list["result"][0]["id"].as_str().unwrap().to_owned();
    let (status, refused) = server
        .send(Method::DELETE, &format!("/api-token/{last}"), None)
        .await;
    assert_eq!(status, 409, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("last API token"),
        "{refused}"
    );
    let (status, _) = server.send(Method::GET, "/ping", None).await;
    assert_eq!(status, 200, "the last token still works");

    let (status, body) = server
        .send(Method::POST, "/api-token", Some(json!({"name": " "})))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["path"], "name");
}
