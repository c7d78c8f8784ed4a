//! Method-level settings layered over integration-level ones, and overrides.

use patchbay_config::{
    Authorization, HttpMethod, QueryArrayFormat, apply_override, load_integration_config,
    validate_integration_config,
};
use serde_json::json;

const CONFIG: &str = r#"{
  "base_url": "https://api.example.com",
  "headers": {"Accept": "application/json", "X-Trace": "on", "User-Agent": "patchbay"},
  "query": {"api_version": "2"},
  "query_array_format": "comma",
  "authorization": {"format": "bearer"},
  "pagination": {"format": "page", "config": {"page_key": "page"}},
  "rate_limit": {"is_rate_limited": "status = 429"},
  "error_expression": "body.ok = false ? body.error",
  "resources": {"users": {
    "list": {"path": "/users", "headers": {"x-trace": null, "X-Extra": "1"}, "query": {"api_version": null, "limit": 50}},
    "get": {"path": "/users/{{id}}", "pagination": null, "error_expression": "status = 404 ? 'gone'", "base_url": "https://eu.example.com"},
    "search": {"path": "/search", "method": "post", "no_auth": true, "query_array_format": "brackets",
               "authorization": {"format": "basic", "config": {"username": "u"}},
               "rate_limit": {"is_rate_limited": false}}
  }}
}"#;

#[test]
fn method_settings_override_integration_settings() {
    let config = load_integration_config(CONFIG).unwrap_or_else(|e| panic!("{e}"));

    let list = config.method("users", "list").unwrap();
    assert_eq!(list.http_method, HttpMethod::Get);
    assert_eq!(list.base_url.unwrap().as_str(), "https://api.example.com");
    // A null header removes the inherited one, case-insensitively.
    assert_eq!(
        list.headers.keys().copied().collect::<Vec<_>>(),
        ["Accept", "User-Agent", "X-Extra"]
    );
    assert_eq!(list.query.keys().copied().collect::<Vec<_>>(), ["limit"]);
    assert_eq!(list.query_array_format, Some(QueryArrayFormat::Comma));
    assert_eq!(list.pagination.unwrap().format_name(), "page");
    assert_eq!(
        list.error_expression.unwrap().as_str(),
        "body.ok = false ? body.error"
    );
    assert!(matches!(
        list.authorization,
        Some(Authorization::Bearer(None))
    ));

    let get = config.method("users", "get").unwrap();
    assert!(
        get.pagination.is_none(),
        "pagination: null disables inherited pagination"
    );
    assert_eq!(
        get.error_expression.unwrap().as_str(),
        "status = 404 ? 'gone'",
        "method expression replaces"
    );
    assert_eq!(get.base_url.unwrap().as_str(), "https://eu.example.com");

    let search = config.method("users", "search").unwrap();
    assert_eq!(search.http_method, HttpMethod::Post);
    assert!(
        search.authorization.is_none(),
        "no_auth wins over any authorization"
    );
    assert_eq!(search.query_array_format, Some(QueryArrayFormat::Brackets));
    assert!(search.rate_limit.unwrap().is_rate_limited.is_some());

    assert!(config.method("users", "nope").is_none());
    assert!(config.method("nope", "list").is_none());
}

#[test]
fn overrides_layer_over_the_base_and_revalidate() {
    let base: serde_json::Value = serde_json::from_str(CONFIG).unwrap();
    let over = json!({"base_url": "https://staging.example.com", "pagination": null, "rate_limit": {"is_rate_limited": "status = 503"}});
    let merged = apply_override(&base, &over);
    let config = validate_integration_config(&merged).unwrap();
    assert_eq!(
        config.base_url.unwrap().as_str(),
        "https://staging.example.com"
    );
    assert!(
        config.pagination.as_value().is_some(),
        "null in an override keeps the base slot"
    );

    let broken = apply_override(&base, &json!({"pagination": {"format": "pages"}}));
    let err = validate_integration_config(&broken).unwrap_err();
    assert_eq!(err.errors()[0].path.to_string(), "pagination.format");
}
