//! Validation reports every problem with its JSON path.

use patchbay_config::{ValidationErrorKind, load_integration_config, validate_integration_config};
use serde_json::{Value, json};

/// The messages of the errors validating `config` reports (it must be invalid).
fn validation_messages(config: &Value) -> Vec<String> {
    validate_integration_config(config)
        .unwrap_err()
        .errors()
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// Checks that `config` has exactly one problem, whose message starts with `prefix`.
fn assert_one_problem(config: &Value, prefix: &str) {
    let text = validation_messages(config);
    assert_eq!(text.len(), 1, "{text:?}");
    assert!(text[0].starts_with(prefix), "{text:?}");
}

fn messages(text: &str) -> Vec<String> {
    load_integration_config(text)
        .unwrap_err()
        .errors()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn reports_every_problem_with_its_path_at_once() {
    let config = json!({
        "base_url": "https://{{subdomain}}.example.com",
        "query_array_format": "comas",
        "headers": {"X-Key": "{{api_key:integer}}"},
        "rate_limit": {"is_rate_limited": "status = ", "retry_after": "1"},
        "resources": {
            "users": {
                "list": {
                    "path": "/users",
                    "method": "fetch",
                    "pagination": {"format": "cursor", "config": {"curser_path": "meta.next", "limit_param": "limit"}}
                },
                "get": {"path": 42}
            }
        }
    });
    let errors = validate_integration_config(&config).unwrap_err();
    let text: Vec<String> = errors.errors().iter().map(ToString::to_string).collect();
    let expect = [
        "query_array_format: unknown value \"comas\"; expected one of comma, brackets, indices, repeat (did you mean `comma`?)",
        "headers.X-Key: unsupported type `integer` in placeholder `{{api_key:integer}}`",
        "rate_limit.is_rate_limited: ",
        "rate_limit.retry_after: unknown key `retry_after` (did you mean `retry_after_header_expression`?)",
        "resources.users.list.method: unknown value \"fetch\"",
        "resources.users.list.pagination.config.cursor_path: required key `cursor_path` is missing",
        "resources.users.list.pagination.config.curser_path: unknown key `curser_path` (did you mean `cursor_path`?)",
        "resources.users.list.pagination.config.limit_param: unknown key `limit_param` (did you mean `limit_key`?)",
        "resources.users.get.path: expected string, found integer",
    ];
    assert_eq!(text.len(), expect.len(), "{text:#?}");
    for (got, want) in text.iter().zip(expect) {
        assert!(got.starts_with(want), "got:  {got}\nwant: {want}…");
    }
}

#[test]
fn jsonata_errors_carry_the_engine_code() {
    let errors =
        validate_integration_config(&json!({"error_expression": "body.ok = "})).unwrap_err();
    let [error] = errors.errors() else {
        panic!("{errors}")
    };
    assert_eq!(error.path.to_string(), "error_expression");
    match &error.kind {
        ValidationErrorKind::Expression { code, message } => {
            assert!(
                code.as_deref().is_some_and(|c| c.starts_with("S0")),
                "{code:?}: {message}"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn bad_tags_name_the_allowed_formats() {
    let text = messages(
        r#"{"pagination": {"format": "cursors", "config": {}}, "authorization": {"config": {}}}"#,
    );
    assert_eq!(
        text,
        [
            "pagination.format: unknown value \"cursors\"; expected one of page, offset, cursor, link_header, range, dynamic (did you mean `cursor`?)",
            "authorization.format: required key `format` is missing",
        ]
    );
}

#[test]
fn json_syntax_errors_give_line_and_column() {
    let text = messages("{\n  \"base_url\": \"x\",\n  oops\n}");
    assert_eq!(text.len(), 1);
    assert!(
        text[0].starts_with("(root): not valid JSON: key must be a string (line 3, column 3)"),
        "{}",
        text[0]
    );
}

#[test]
fn credentials_accept_single_and_map_forms_and_report_inside_them() {
    let single = json!({"credentials": {"format": "api_key", "config": {"fields": [{"name": "api_key", "type": "password"}]}}});
    assert!(validate_integration_config(&single).is_ok());
    let map = json!({"credentials": {"oauth2": {"format": "oauth2", "config": {"client": {"id": "x"}}}, "api_key": {"format": "api_key", "config": {}}}});
    assert!(validate_integration_config(&map).is_ok());

    let typo = json!({"credentials": {"format": "oauth2", "config": {"auth": {"tokenHots": "https://x"}}}});
    let text = validation_messages(&typo);
    assert_eq!(
        text,
        ["credentials.config.auth.tokenHots: unknown key `tokenHots` (did you mean `tokenHost`?)"]
    );
    let in_map = json!({"credentials": {"main": {"format": "oauth2", "config": {"options": {"bodyFormat": "xml"}}}}});
    assert_one_problem(
        &in_map,
        "credentials.main.config.options.bodyFormat: unknown value \"xml\"",
    );
}

#[test]
fn cross_key_rules_are_checked() {
    let config = json!({
        "authorization": {"format": "header", "config": {"header_name": "X-Key"}},
        "credentials": {"format": "api_key", "config": {"fields": [
            {"name": "key"}, {"name": "key"}, {"name": "region", "type": "single_select"}
        ]}},
        "resources": {"a": {"list": {"path": "/a", "pagination": {"format": "cursor", "config": {"cursor_path": "next", "include_path": true}}}}}
    });
    let text = validation_messages(&config);
    assert_eq!(
        text,
        [
            "authorization.config: `header` authorization needs `header_name` and `header_value`, or `expression`",
            "credentials.config.fields[1].name: duplicate field name `key`",
            "credentials.config.fields[2].options: a `single_select` field needs `options`",
            "resources.a.list.pagination.config.include_path: `include_path` only applies to link cursors: set `is_link: true`",
        ]
    );
}

#[test]
fn value_templates_are_checked_leaf_by_leaf() {
    let config = json!({"resources": {"a": {"create": {"path": "/a", "method": "post", "body": {"items": [{"n": "{{x:number}}"}]}}}}});
    assert_one_problem(
        &config,
        "resources.a.create.body.items[0].n: unsupported type `number`",
    );
}

#[test]
fn every_pagination_format_and_action_form_is_accepted() {
    let config = json!({
        "pagination": {"format": "link_header"},
        "actions": {
            "sync_users": {"type": "request", "config": {"method": "post", "path": "/sync"}},
            "post_install": {"steps": [
                {"type": "request", "config": {"path": "/me"}},
                {"type": "transform", "config": "{ 'label': name }"},
                {"type": "update_context"},
                {"type": "set_context", "config": {"flag": "{{x:bool}}"}},
                {"type": "get_context"}
            ]}
        },
        "resources": {"r": {
            "page": {"path": "/p", "pagination": {"format": "page", "config": {"page_key": "page", "limit_key": "per_page", "max_limit": 100}}},
            "offset": {"path": "/o", "pagination": {"format": "offset", "config": {"offset_key": "startAt", "limit_key": "maxResults"}}},
            "cursor": {"path": "/c", "pagination": {"format": "cursor", "config": {"cursor_path": "nextRecordsUrl", "is_link": true, "include_path": true}}},
            "range": {"path": "/r", "pagination": {"format": "range", "config": {"unit": "items", "max_limit": 50}}},
            "dynamic": {"path": "/d", "pagination": {"format": "dynamic", "config": {"get_pagination_values_expression": "body.has_more ? {'starting_after': body.data[-1].id}"}}},
            "none": {"path": "/n", "pagination": null},
            "arrays": {"path": "/q", "query": {"ids": "{{query.ids:json}}", "drop": null}, "query_array_format": "repeat"}
        }}
    });
    let parsed = validate_integration_config(&config).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(serde_json::to_value(&parsed).unwrap(), config, "round trip");
    assert_eq!(
        parsed.actions.as_ref().unwrap()["post_install"]
            .steps()
            .len(),
        5
    );
    assert!(parsed.method("r", "none").unwrap().pagination.is_none());
    assert_eq!(
        parsed
            .method("r", "cursor")
            .unwrap()
            .pagination
            .unwrap()
            .format_name(),
        "cursor"
    );
    assert_eq!(
        parsed
            .method("r", "page")
            .unwrap()
            .pagination
            .unwrap()
            .format_name(),
        "page"
    );
    assert_eq!(parsed.method("r", "arrays").unwrap().query.len(), 1);
}

#[test]
fn keys_patchbay_cannot_honour_are_refused_by_name() {
    let text = json!({
        "actions": {
            "post_install": {"steps": [
                {"type": "request", "config": {"path": "/me"}},
                {"type": "form", "config": {"fields": [{"name": "region"}]}}
            ]},
            "ask": {"type": "form", "config": {}}
        },
        "webhook": {"signature_verification": {"format": "hmac", "config": {
            "secret": "s", "parts": ["$body"], "compare_with": "$header.x-sig",
            "verification_content": {"anything": 1}
        }}}
    })
    .to_string();
    let found = messages(&text);
    assert_eq!(found.len(), 3, "{found:#?}");
    assert!(
        found[0].starts_with(
            "actions.post_install.steps[1].type: action steps of type `form` are not supported yet"
        ),
        "{found:#?}"
    );
    assert!(
        found[1].starts_with("actions.ask.type: action steps of type `form`"),
        "{found:#?}"
    );
    assert!(
        found[2].starts_with("webhook.signature_verification.config.verification_content: `verification_content` is not supported yet"),
        "{found:#?}"
    );
}
