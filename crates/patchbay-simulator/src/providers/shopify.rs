//! Shopify Admin REST products: `limit` (≤ 250) and `page_info` taken from the `Link`
//! header (`rel="previous"`, `rel="next"`); `X-Shopify-Access-Token`; `{errors}` errors.

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use crate::Provider;
use crate::data::{Window, created_iso, cursor, uncursor};
use crate::problem::bad_request;
use crate::routes::Routes;
use crate::state::Ctx;
use crate::web::{self, Params, set_header, url_with};

const TAG: &str = "products";

pub(crate) fn routes(r: Routes) -> Routes {
    r.api("/admin/api/{version}/products.json", get(list))
}

fn product(n: u64) -> Value {
    let at = created_iso(n);
    json!({
        "id": 632_910_000_000u64 + n, "title": format!("Product {n}"), "handle": format!("product-{n}"),
        "vendor": "Simulated", "product_type": "Widget", "status": "active", "tags": "",
        "created_at": at, "updated_at": at, "variants": [], "images": []
    })
}

async fn list(
    State(ctx): State<Ctx>,
    Path(version): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = Params::parse(raw.as_deref());
    let limit = match q.number("limit") {
        Ok(n) => ctx.p.limit(n),
        Err(_) => return bad_request(Provider::Shopify, "limit", "Invalid value."),
    };
    let skip = match q.get("page_info") {
        None => 0,
        Some(c) => match uncursor(TAG, c).filter(|n| *n <= ctx.p.records) {
            Some(n) => n,
            None => return bad_request(Provider::Shopify, "page_info", "Invalid value."),
        },
    };
    let window = Window::new(ctx.p.records, skip, limit);
    let products: Vec<Value> = window.numbers().map(product).collect();
    let base = format!("{}/admin/api/{version}/products.json", ctx.url());
    let link = |start: u64, rel: &str| {
        let params = Params::default()
            .with("limit", limit.to_string())
            .with("page_info", cursor(TAG, start));
        format!("<{}>; rel=\"{rel}\"", url_with(&base, &params))
    };
    let mut links = Vec::new();
    if skip > 0 {
        links.push(link(skip.saturating_sub(limit), "previous"));
    }
    if window.has_more() {
        links.push(link(window.last, "next"));
    }
    let mut resp = web::ok(json!({"products": products}));
    if !links.is_empty() {
        set_header(&mut resp, "link", &links.join(", "));
    }
    resp
}
