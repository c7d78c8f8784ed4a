//! Fixed expectations for `{{ }}` placeholders, each observed by running the
//! reference implementation (`@truto/replace-placeholders` 1.0.11) on the same
//! template and data. These are the ground truth: a failure here is a bug in our
//! implementation, not in the table.

use patchbay_template::{Template, TemplateError, ValueTemplate};
use serde_json::{Value, json};

/// `"<undefined>"` in the tables: the result is `undefined` (`render` → `None`).
const UNDEFINED: &str = "<undefined>";

fn data() -> Value {
    serde_json::from_str(
        r#"{"a":{"b":[1,2,{"c":3}]},"foo-bar":{"x":"y"},"arr":[10,20,30],"o":{"0":"oz"},"e":"","n":null,"t":true,"f":1.5,"big":1e21,"small":1e-7,"nested":[[1,[2,3]],null],"s":" 12 ","js":"{\"k\":1}","u":{"":"inner"}}"#,
    )
    .unwrap()
}

/// (template, expected result as JSON text or `UNDEFINED`)
const CASES: &[(&str, &str)] = &[
    // Paths
    ("{{a.b.0}}", r#""1""#),
    ("{{a.b.-1.c}}", r#""3""#),
    ("{{arr.-1}}", r#""30""#),
    ("{{arr.-4}}", r#""10""#),
    ("{{arr.-0}}", r#""{{arr.-0}}""#),
    ("{{o.0}}", r#""{{o.0}}""#),
    ("{{ a.b.1 }}", r#""2""#),
    ("{{}}", r#""{{}}""#),
    ("{{.a}}", r#""[object Object]""#),
    ("{{a..b}}", r#""{{a..b}}""#),
    ("{{u.}}", r#""inner""#),
    ("{{foo-bar.x}}", r#""y""#),
    ("{{missing t}}", r#""true""#),
    ("{{{t}}}", r#""{true}""#),
    // Values and their string forms
    ("{{n}}", "null"),
    ("x{{n}}y", r#""xnully""#),
    ("{{f}}", r#""1.5""#),
    ("{{big}}", r#""1e+21""#),
    ("{{small}}", r#""1e-7""#),
    ("{{nested}}", r#""1,2,3,null""#),
    ("x{{nested:any}}y", r#""x1,2,3,y""#),
    ("{{nested:json}}", "[[1,[2,3]],null]"),
    ("{{arr}}", r#""10,20,30""#),
    ("x{{arr:json}}y", r#""x10,20,30y""#),
    ("x{{a:any}}y", r#""x[object Object]y""#),
    ("{{s}}", r#"" 12 ""#),
    // Casts
    ("{{s:int}}", "12"),
    ("{{s:num}}", "12"),
    ("{{s:bool}}", r#""12""#),
    ("{{js:json}}", r#"{"k":1}"#),
    ("x{{js:json}}y", r#""x{\"k\":1}y""#),
    ("{{ f : int }}", "1"),
    ("{{e:int}}", r#""""#),
    ("{{f:str:null}}", r#""1.5""#),
    ("{{t:int}}", "true"),
    ("{{arr:int}}", "10"),
    ("{{a:int}}", r#"{"b":[1,2,{"c":3}]}"#),
    // Defaults
    ("{{missing?: b}}", r#"" b""#),
    ("{{missing?:1:int}}", "1"),
    ("{{missing?:a?:b}}", r#""a""#),
    ("{{missing?:}}", r#""{{missing?:}}""#),
    ("{{missing?:true:bool}}", "true"),
    ("{{missing?:12abc:int}}", "12"),
    ("{{missing ?:d}}", r#""d""#),
    ("{{missing?:d?}}", r#""d?""#),
    ("{{missing:ignore-empty-str?:d}}", r#""d""#),
    // Missing values, :undefined and :null
    ("{{missing:undefined}}", UNDEFINED),
    ("x{{missing:undefined}}y", r#""xy""#),
    ("{{missing:null}}", "null"),
    ("x{{missing:null}}y", r#""xnully""#),
    ("{{t:null}}", "true"),
    ("x{{t:null}}y", r#""xnully""#),
    ("{{t:undefined}}", "true"),
    ("x{{t:undefined}}y", r#""xtruey""#),
    ("{{missing:str:null}}", "null"),
    ("{{missing::int}}", r#""{{missing::int}}""#),
    ("{{missing}}-{{missing}}", r#""{{missing}}-{{missing}}""#),
    // Fallbacks
    ("{{missing|t}}", r#""true""#),
    ("{{missing:int|f:int}}", "1"),
    ("{{n|t}}", "null"),
    ("{{e|t}}", r#""""#),
    ("{{e:ignore-empty-str|t}}", r#""true""#),
    ("{{e:ignore-empty-str}}", r#""{{e:ignore-empty-str}}""#),
];

fn render(template: &str, data: &Value) -> Option<Value> {
    Template::parse(template)
        .unwrap_or_else(|e| panic!("{template:?} does not parse: {e}"))
        .render(data)
}

#[test]
fn string_templates_render_like_the_reference() {
    let data = data();
    let mut failures = Vec::new();
    for &(template, expected) in CASES {
        let expected =
            (expected != UNDEFINED).then(|| serde_json::from_str::<Value>(expected).unwrap());
        let actual = render(template, &data);
        if actual != expected {
            failures.push(format!(
                "{template:?}: expected {expected:?}, got {actual:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn numbers_keep_their_json_type_only_when_whole() {
    // 1 and 1.0 are different serde_json numbers: whole-string casts must yield integers.
    let data = data();
    assert_eq!(render("{{s:int}}", &data).unwrap().as_i64(), Some(12));
    assert_eq!(
        render("{{missing?:1:int}}", &data).unwrap().as_i64(),
        Some(1)
    );
    assert_eq!(render("{{f:num}}", &data).unwrap().as_f64(), Some(1.5));
}

#[test]
fn unknown_types_are_parse_errors() {
    // The reference keeps `{{missing:foo}}` (it only throws "Unsupported type" once a
    // value is found) and `{{missing? :d}}` (no `?:`, so `d` is a type) as text; we
    // reject both when the template is parsed, the documented difference.
    for template in ["{{missing:foo}}", "{{missing? :d}}", "{{t:foo}}"] {
        match Template::parse(template) {
            Err(TemplateError::UnsupportedType { .. }) => {}
            other => panic!("{template:?}: expected UnsupportedType, got {other:?}"),
        }
    }
}

#[test]
fn value_templates_drop_undefined_and_merge() {
    let data = data();
    let rendered = ValueTemplate::parse(
        &json!(["{{t:any}}", "{{missing:undefined}}", {"k": "{{missing:undefined}}"}]),
    )
    .unwrap()
    .render(&data);
    assert_eq!(rendered, Some(json!([true, null, {}])));

    let rendered = ValueTemplate::parse(&json!({
        "a": {"$truto_merge": "{{t}}", "z": 1},
        "b": {"$truto_merge": "{{nope:json}}"}
    }))
    .unwrap()
    .render(&data);
    assert_eq!(rendered, Some(json!({"a": {"z": 1}, "b": {}})));

    let merge_data = json!({"m1": {"a": {"x": 1}}, "m2": {"a": [2], "b": null}});
    let rendered =
        ValueTemplate::parse(&json!({"a": [1], "$truto_merge": ["{{m1:json}}", "{{m2:json}}"]}))
            .unwrap()
            .render(&merge_data);
    assert_eq!(rendered, Some(json!({"a": [2], "b": null})));
}

/// Behaviours the differential test found (also observed with the npm package),
/// kept here as fixed regressions.
#[test]
fn behaviours_found_by_the_differential_test() {
    let data = json!({"arr": [10, 20, 30], "t": true, "str": "hello", "inf": "Infinity"});
    let cases = [
        // An array's own `length` is readable; strings have no properties.
        ("{{arr.length}}", json!("3")),
        ("{{str.length}}", json!("{{str.length}}")),
        // Only a space separates whitespace alternatives; a tab is part of the key.
        ("{{missing t}}", json!("true")),
        ("{{missing\tt}}", json!("{{missing\tt}}")),
        // A non-finite number keeps its JavaScript spelling when embedded.
        ("x{{inf:num}}y", json!("xInfinityy")),
        // Inherited JavaScript members are not data.
        ("{{t.constructor}}", json!("{{t.constructor}}")),
    ];
    for (template, expected) in cases {
        assert_eq!(render(template, &data), Some(expected), "{template:?}");
    }
    // Whole-string: JSON has no Infinity; the reference's result serialises as null.
    assert_eq!(render("{{inf:num}}", &data), Some(Value::Null));
}
