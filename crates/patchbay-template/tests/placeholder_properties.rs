//! Properties of `{{ }}` placeholders and URL templates that must hold for any input.

use patchbay_template::{Template, UrlError, UrlPosition, UrlTemplate, ValueTemplate};
use proptest::prelude::*;
use serde_json::{Value, json};

/// Strings made mostly of placeholder syntax, so parsing sees many near misses.
fn template_like() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("{{".to_owned()),
            Just("}}".to_owned()),
            Just("{".to_owned()),
            Just("}".to_owned()),
            Just("|".to_owned()),
            Just("?:".to_owned()),
            Just(":".to_owned()),
            Just(".".to_owned()),
            Just("-".to_owned()),
            Just(" ".to_owned()),
            Just("\t".to_owned()),
            Just(":int".to_owned()),
            Just(":json".to_owned()),
            Just(":undefined".to_owned()),
            Just(":null".to_owned()),
            Just(":ignore-empty-str".to_owned()),
            Just(":nope".to_owned()),
            "[a-z0-9_]{1,4}",
            any::<char>().prop_map(String::from),
        ],
        0..24,
    )
    .prop_map(|parts| parts.concat())
}

fn data() -> Value {
    json!({
        "a": {"b": [1, 2, {"c": 3}]},
        "s": " 12 ",
        "e": "",
        "n": null,
        "t": true,
        "int": "7",
        "js": "{\"k\":1}",
        "arr": [10, "x", null],
    })
}

/// JSON without any `{{` in its strings (keys may hold anything).
fn json_without_placeholders() -> impl Strategy<Value = Value> {
    let text = "[^{]{0,12}";
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        (-1e12f64..1e12).prop_map(|f| json!(f)),
        text.prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(text, inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn parsing_never_panics(source in template_like(), any_source in any::<String>()) {
        for s in [&source, &any_source] {
            if let Ok(t) = Template::parse(s) {
                let _ = t.render(&data());
                let _ = t.render_to_string(&data());
            }
            let _ = UrlTemplate::parse(s).map(|t| t.render(&data()));
        }
    }

    #[test]
    fn text_without_braces_renders_to_itself(text in "[^{]*") {
        let t = Template::parse(&text).unwrap();
        prop_assert!(!t.has_placeholders());
        prop_assert_eq!(t.render(&data()), Some(Value::String(text.clone())));
        prop_assert_eq!(t.render_to_string(&data()), text);
    }

    #[test]
    fn rendering_is_deterministic(source in template_like()) {
        if let Ok(t) = Template::parse(&source) {
            let again = Template::parse(&source).unwrap();
            prop_assert_eq!(t.render(&data()), t.render(&data()));
            prop_assert_eq!(t.render(&data()), again.render(&data()));
            prop_assert_eq!(t.render_to_string(&data()), again.render_to_string(&data()));
        }
    }

    #[test]
    fn value_templates_without_placeholders_render_unchanged(value in json_without_placeholders()) {
        let t = ValueTemplate::parse(&value).unwrap();
        prop_assert!(!t.has_placeholders());
        prop_assert_eq!(t.render(&data()), Some(value));
    }

    #[test]
    fn string_values_are_inserted_verbatim(value in any::<String>(), before in "[a-z /=]{0,6}", after in "[a-z /=]{0,6}") {
        // Whatever the value holds (`{{t}}`, `$&`, JSON, quotes), `str` placeholders
        // insert it as it is, never re-interpreted.
        let data = json!({"v": value, "t": true});
        let whole = Template::parse("{{v}}").unwrap().render(&data);
        prop_assert_eq!(whole, Some(Value::String(value.clone())));
        let typed = Template::parse("{{ v:str }}").unwrap().render(&data);
        prop_assert_eq!(typed, Some(Value::String(value.clone())));
        let embedded = Template::parse(&format!("{before}{{{{v}}}}{after}{{{{v}}}}")).unwrap().render_to_string(&data);
        prop_assert_eq!(embedded, format!("{before}{value}{after}{value}"));
        let in_json = ValueTemplate::parse(&json!({"k": ["{{v}}"]})).unwrap().render(&data);
        prop_assert_eq!(in_json, Some(json!({"k": [value]})));
    }

    #[test]
    fn host_values_with_url_delimiters_are_rejected(
        prefix in "[a-z0-9.-]{0,5}",
        bad in prop::sample::select(vec!['/', '@', '#', '?', ':', '%', ' ', '\t', '\n', '\u{a0}', '\\']),
        suffix in "[a-z0-9.-]{0,5}",
    ) {
        let value = format!("{prefix}{bad}{suffix}");
        let t = UrlTemplate::parse("https://{{sub}}.example.com/api").unwrap();
        let err = t.render(&json!({"sub": value})).unwrap_err();
        let is_host_error = matches!(err, UrlError::UnsafeValue { position: UrlPosition::Host, .. });
        prop_assert!(is_host_error, "{:?} gave {:?}", value, err);
    }

    #[test]
    fn path_and_query_values_never_add_delimiters(value in any::<String>(), query in any::<String>()) {
        let t = UrlTemplate::parse("https://api.example.com/users/{{id}}/items?q={{q}}&x=1").unwrap();
        match t.render(&json!({"id": value, "q": query})) {
            Ok(url) => {
                let path = url.strip_prefix("https://api.example.com/users/").unwrap();
                let (segment, rest) = path.split_once("/items?q=").unwrap();
                prop_assert!(!segment.contains(['/', '?', '#']), "path value leaked a delimiter: {url}");
                let (q, tail) = rest.rsplit_once("&x=1").unwrap();
                prop_assert!(tail.is_empty());
                prop_assert!(!q.contains(['&', '=', '#', '?', '/', '+', ' ']), "query value leaked a delimiter: {url}");
                prop_assert!(url::Url::parse(&url).is_ok());
            }
            Err(UrlError::UnsafeValue { position: UrlPosition::Path, .. }) => {
                prop_assert!(matches!(value.as_str(), "" | "." | ".."), "rejected path value {value:?}");
            }
            Err(other) => prop_assert!(false, "unexpected error {other:?}"),
        }
    }
}
