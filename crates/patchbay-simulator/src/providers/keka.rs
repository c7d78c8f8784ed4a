//! Keka HR employees: `pageNumber`/`pageSize` (≤ 200) → `data`, `totalPages`,
//! `totalRecords`, `nextPage` (URL or null); `{succeeded:false, message}` errors.

use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use crate::Provider;
use crate::data::{Window, created_iso, person, uuid_for};
use crate::problem::bad_request;
use crate::routes::Routes;
use crate::state::Ctx;
use crate::web::{self, Params, url_with};

const NS: u32 = 0x4e4a_0001;

pub(crate) fn routes(r: Routes) -> Routes {
    r.api("/api/v1/hris/employees", get(list))
}

fn employee(n: u64) -> Value {
    let (first, last, email) = person(n);
    json!({
        "id": uuid_for(NS, n), "employeeNumber": format!("EMP{n:06}"),
        "displayName": format!("{first} {last}"), "firstName": first, "lastName": last,
        "email": email, "employmentStatus": 0, "joiningDate": created_iso(n)
    })
}

async fn list(State(ctx): State<Ctx>, RawQuery(raw): RawQuery) -> Response {
    let q = Params::parse(raw.as_deref());
    let page_number = match q.number("pageNumber") {
        Ok(None) => 1,
        Ok(Some(n)) if n >= 1 => n,
        _ => return bad_request(Provider::Keka, "", "pageNumber must be a positive integer"),
    };
    let page_size = match q.number("pageSize") {
        Ok(None) => ctx.p.limit(None),
        Ok(Some(n)) if (1..=200).contains(&n) => n,
        _ => return bad_request(Provider::Keka, "", "pageSize must be between 1 and 200"),
    };
    let total = ctx.p.records;
    let total_pages = total.div_ceil(page_size);
    let window = Window::new(
        total,
        (page_number - 1).saturating_mul(page_size),
        page_size,
    );
    let data: Vec<Value> = window.numbers().map(employee).collect();
    let base = format!("{}/api/v1/hris/employees", ctx.url());
    let at = |p: u64| {
        url_with(
            &base,
            &q.with("pageNumber", p.to_string())
                .with("pageSize", page_size.to_string()),
        )
    };
    web::ok(json!({
        "succeeded": true, "message": "", "errors": [], "data": data,
        "pageNumber": page_number, "pageSize": page_size,
        "firstPage": at(1), "lastPage": at(total_pages.max(1)),
        "totalRecords": total, "totalPages": total_pages,
        "nextPage": (page_number < total_pages).then(|| at(page_number + 1)),
        "previousPage": (page_number > 1).then(|| at(page_number - 1))
    }))
}
