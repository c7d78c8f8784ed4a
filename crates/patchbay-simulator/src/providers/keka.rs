//! Keka HR employees: list with `pageNumber`/`pageSize` (≤ 200) → `data`, `totalPages`,
//! `totalRecords`, `nextPage` (URL or null), filtered by `lastModified` (employees
//! modified after that time); get by id → `{succeeded, data}`;
//! `{succeeded:false, message}` errors.

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use crate::Provider;
use crate::data::{created_iso, person, updated_iso, uuid_for, uuid_number};
use crate::filter::{Cmp, Filter, Stamp, parse_time};
use crate::problem::{bad_request, not_found};
use crate::routes::Routes;
use crate::state::Ctx;
use crate::web::{self, Params, url_with};

const NS: u32 = 0x4e4a_0001;
const TITLES: [&str; 3] = ["Software Engineer", "Product Manager", "Designer"];
const DEPARTMENTS: [&str; 3] = ["Engineering", "Product", "Design"];

pub(crate) fn routes(r: Routes) -> Routes {
    r.api("/api/v1/hris/employees", get(list))
        .api("/api/v1/hris/employees/{id}", get(get_one))
}

fn employee(n: u64) -> Value {
    let (first, last, email) = person(n);
    let group = (n % 3) as usize;
    json!({
        "id": uuid_for(NS, n), "employeeNumber": format!("EMP{n:06}"),
        "displayName": format!("{first} {last}"), "firstName": first,
        "middleName": if n.is_multiple_of(6) { Some("Q") } else { None }, "lastName": last,
        "email": email, "workPhone": (!n.is_multiple_of(4)).then(|| format!("+91-80-5555-{:04}", n % 10_000)),
        "jobTitle": {"identifier": uuid_for(NS + 1, group as u64 + 1), "title": TITLES[group]},
        "department": {"identifier": uuid_for(NS + 2, group as u64 + 1), "title": DEPARTMENTS[group]},
        "employmentStatus": 0, "joiningDate": created_iso(n), "lastModified": updated_iso(n)
    })
}

fn bad(message: impl Into<String>) -> Response {
    bad_request(Provider::Keka, "", message)
}

async fn list(State(ctx): State<Ctx>, RawQuery(raw): RawQuery) -> Response {
    let q = Params::parse(raw.as_deref());
    let page_number = match q.number("pageNumber") {
        Ok(None) => 1,
        Ok(Some(n)) if n >= 1 => n,
        _ => return bad("pageNumber must be a positive integer"),
    };
    let page_size = match q.number("pageSize") {
        Ok(None) => ctx.p.limit(None),
        Ok(Some(n)) if (1..=200).contains(&n) => n,
        _ => return bad("pageSize must be between 1 and 200"),
    };
    let mut filter = Filter::default();
    if let Some(since) = q.get("lastModified") {
        match parse_time(since) {
            Some(at) => filter.time(Stamp::Updated, Cmp::Gt, at),
            None => return bad(format!("lastModified: '{since}' is not a valid date")),
        }
    }
    let selection = filter.select(ctx.p.records, &|_, _| None);
    let total = selection.len();
    let total_pages = total.div_ceil(page_size);
    let (numbers, _) = selection.page((page_number - 1).saturating_mul(page_size), page_size);
    let data: Vec<Value> = numbers.into_iter().map(employee).collect();
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

async fn get_one(State(ctx): State<Ctx>, Path(id): Path<String>) -> Response {
    match uuid_number(NS, &id).filter(|n| (1..=ctx.p.records).contains(n)) {
        Some(n) => {
            web::ok(json!({"succeeded": true, "message": "", "errors": [], "data": employee(n)}))
        }
        None => not_found(Provider::Keka, "Employee not found"),
    }
}
