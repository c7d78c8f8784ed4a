//! Template render times, each next to a hand-written Rust baseline doing the same
//! substitution (`format!`, manual JSON construction) in the same run, so the report
//! reads as ratios; plus the one-off parse (compile) cost of each template kind.
//!
//! Run: `cargo bench -p patchbay-benches --bench template -- --warm-up-time 1 --measurement-time 2`

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use patchbay_template::{Template, TextTemplate, UrlTemplate, ValueTemplate};
use serde_json::{Map, Value, json};

const URL: &str = "https://{{subdomain}}.example.com/api/{{id}}";

fn url_data() -> Value {
    json!({"subdomain": "acme", "id": 12345, "other": {"unused": [1, 2, 3]}})
}

/// What `format!` code would do for the URL: read both values, stringify the id.
fn url_baseline(data: &Value) -> String {
    let sub = data["subdomain"].as_str().unwrap_or_default();
    let id = match &data["id"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    format!("https://{sub}.example.com/api/{id}")
}

/// The URL baseline plus what `UrlTemplate` adds: a host-label check and
/// percent-encoding of the path segment.
fn url_checked_baseline(data: &Value) -> Option<String> {
    let sub = data["subdomain"].as_str()?;
    if sub.is_empty()
        || !sub
            .split('.')
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    {
        return None;
    }
    let id = match &data["id"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut out = format!("https://{sub}.example.com/api/");
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    Some(out)
}

fn body_template() -> Value {
    json!({
        "name": "{{contact.name}}",
        "first_name": "{{contact.first_name}}",
        "last_name": "{{contact.last_name}}",
        "email": "{{contact.email}}",
        "age": "{{contact.age:int}}",
        "score": "{{contact.score:num}}",
        "active": "{{contact.active:bool}}",
        "tags": "{{contact.tags:json}}",
        "notes": "{{contact.notes:undefined}}",
        "owner_id": "{{context.owner_id:int}}",
        "source": "patchbay",
        "address": {
            "street": "{{contact.address.street}}",
            "city": "{{contact.address.city}}",
            "zip": "{{contact.address.zip}}",
            "country": "{{contact.address.country?:US}}"
        },
        "phones": ["{{contact.phones.0}}", "{{contact.phones.1|contact.phones.0}}"],
        "label": "{{contact.first_name}} {{contact.last_name}} <{{contact.email}}>",
        "custom": "{{contact.custom:any}}",
        "page_size": "{{query.limit:int?:100:int}}"
    })
}

fn body_data() -> Value {
    json!({
        "contact": {
            "name": "Ada Lovelace", "first_name": "Ada", "last_name": "Lovelace",
            "email": "ada@example.com", "age": "36", "score": "9.5", "active": "true",
            "tags": "[\"vip\",\"beta\"]",
            "address": {"street": "1 Analytical Way", "city": "London", "zip": "N1", "country": "UK"},
            "phones": ["+44 1", "+44 2"],
            "custom": {"tier": 3}
        },
        "context": {"owner_id": "77"},
        "query": {"limit": "25"}
    })
}

fn str_at<'a>(data: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(data, |v, k| match v {
        Value::Object(m) => m.get(*k),
        Value::Array(a) => k.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

fn text_of(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

/// The same body built by hand: lookups, casts and `json!`-style construction.
fn body_baseline(data: &Value) -> Value {
    let c = |p: &[&str]| str_at(&data["contact"], p);
    let int = |v: Option<&Value>| {
        let t = text_of(v);
        t.trim()
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or(Value::String(t))
    };
    let mut address = Map::new();
    address.insert(
        "street".into(),
        Value::String(text_of(c(&["address", "street"]))),
    );
    address.insert(
        "city".into(),
        Value::String(text_of(c(&["address", "city"]))),
    );
    address.insert("zip".into(), Value::String(text_of(c(&["address", "zip"]))));
    address.insert(
        "country".into(),
        Value::String(
            c(&["address", "country"]).map_or_else(|| "US".to_owned(), |v| text_of(Some(v))),
        ),
    );
    let mut body = Map::new();
    body.insert("name".into(), Value::String(text_of(c(&["name"]))));
    body.insert(
        "first_name".into(),
        Value::String(text_of(c(&["first_name"]))),
    );
    body.insert(
        "last_name".into(),
        Value::String(text_of(c(&["last_name"]))),
    );
    body.insert("email".into(), Value::String(text_of(c(&["email"]))));
    body.insert("age".into(), int(c(&["age"])));
    let score = text_of(c(&["score"]));
    body.insert(
        "score".into(),
        score
            .trim()
            .parse::<f64>()
            .map_or(Value::String(score.clone()), Value::from),
    );
    body.insert(
        "active".into(),
        Value::Bool(text_of(c(&["active"])).trim() == "true"),
    );
    let tags = text_of(c(&["tags"]));
    body.insert(
        "tags".into(),
        serde_json::from_str(&tags).unwrap_or(Value::String(tags)),
    );
    if let Some(notes) = c(&["notes"]) {
        body.insert("notes".into(), notes.clone());
    }
    body.insert(
        "owner_id".into(),
        int(str_at(data, &["context", "owner_id"])),
    );
    body.insert("source".into(), Value::String("patchbay".into()));
    body.insert("address".into(), Value::Object(address));
    body.insert(
        "phones".into(),
        Value::Array(vec![
            Value::String(text_of(c(&["phones", "0"]))),
            Value::String(text_of(c(&["phones", "1"]).or(c(&["phones", "0"])))),
        ]),
    );
    body.insert(
        "label".into(),
        Value::String(format!(
            "{} {} <{}>",
            text_of(c(&["first_name"])),
            text_of(c(&["last_name"])),
            text_of(c(&["email"]))
        )),
    );
    body.insert(
        "custom".into(),
        c(&["custom"]).cloned().unwrap_or(Value::Null),
    );
    body.insert("page_size".into(), int(str_at(data, &["query", "limit"])));
    Value::Object(body)
}

const TEXT: &str = "<request><user>{{user.name}}</user><ids>{{#each ids}}<id>{{this}}</id>{{/each}}</ids>{{#if note}}<note>{{note}}</note>{{/if}}</request>";

fn text_data() -> Value {
    json!({"user": {"name": "Ada"}, "ids": [1, 2, 3, 4, 5, 6, 7, 8], "note": "urgent"})
}

fn text_baseline(data: &Value) -> String {
    let mut out = String::with_capacity(160);
    out.push_str("<request><user>");
    out.push_str(data["user"]["name"].as_str().unwrap_or_default());
    out.push_str("</user><ids>");
    for id in data["ids"].as_array().into_iter().flatten() {
        let _ = write!(out, "<id>{id}</id>");
    }
    out.push_str("</ids>");
    if let Some(note) = data["note"].as_str().filter(|n| !n.is_empty()) {
        let _ = write!(out, "<note>{note}</note>");
    }
    out.push_str("</request>");
    out
}

fn render(c: &mut Criterion) {
    // (a) a URL, as a plain Template and as a UrlTemplate
    let data = url_data();
    let template = Template::parse(URL).unwrap();
    let url = UrlTemplate::parse(URL).unwrap();
    assert_eq!(template.render_to_string(&data), url_baseline(&data));
    assert_eq!(
        url.render(&data).unwrap(),
        url_checked_baseline(&data).unwrap()
    );
    let mut g = c.benchmark_group("url");
    g.bench_function("baseline_format", |b| {
        b.iter(|| url_baseline(black_box(&data)))
    });
    g.bench_function("template", |b| {
        b.iter(|| template.render_to_string(black_box(&data)))
    });
    g.bench_function("baseline_checked_encoded", |b| {
        b.iter(|| url_checked_baseline(black_box(&data)))
    });
    g.bench_function("url_template", |b| {
        b.iter(|| url.render(black_box(&data)).unwrap())
    });
    g.finish();

    // (b) a ~20-leaf JSON body with typed placeholders
    let data = body_data();
    let body = ValueTemplate::parse(&body_template()).unwrap();
    assert_eq!(body.render(&data).unwrap(), body_baseline(&data));
    let mut g = c.benchmark_group("json_body");
    g.bench_function("baseline_manual", |b| {
        b.iter(|| body_baseline(black_box(&data)))
    });
    g.bench_function("value_template", |b| {
        b.iter(|| body.render(black_box(&data)).unwrap())
    });
    g.finish();

    // (c) a handlebars text body
    let data = text_data();
    let text = TextTemplate::compile(TEXT).unwrap();
    assert_eq!(text.render(&data).unwrap(), text_baseline(&data));
    let mut g = c.benchmark_group("text_body");
    g.bench_function("baseline_manual", |b| {
        b.iter(|| text_baseline(black_box(&data)))
    });
    g.bench_function("text_template", |b| {
        b.iter(|| text.render(black_box(&data)).unwrap())
    });
    g.finish();
}

fn parse(c: &mut Criterion) {
    let body = body_template();
    let mut g = c.benchmark_group("parse");
    g.bench_function("template_url", |b| {
        b.iter(|| Template::parse(black_box(URL)).unwrap())
    });
    g.bench_function("url_template", |b| {
        b.iter(|| UrlTemplate::parse(black_box(URL)).unwrap())
    });
    g.bench_function("value_template_body", |b| {
        b.iter(|| ValueTemplate::parse(black_box(&body)).unwrap())
    });
    g.bench_function("text_template", |b| {
        b.iter(|| TextTemplate::compile(black_box(TEXT)).unwrap())
    });
    g.finish();
}

criterion_group!(benches, render, parse);
criterion_main!(benches);
