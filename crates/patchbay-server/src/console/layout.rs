//! The console's page layout: a header with the environment and sign-out, a
//! navigation landmark, one `main` with one `h1`; small shared pieces (times,
//! statuses, notices). No external assets; every page is answered with the
//! connect pages' security headers and nonce CSP
//! ([`crate::connect::html::html_response`]), forms posting to `'self'` only.

use std::fmt::Write as _;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

pub(super) use crate::connect::html::escape;
use crate::connect::html::{html_response, new_nonce};

use super::csrf::hidden_field;
use super::session::Signed;

/// The part of the console a page belongs to (marked in the navigation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Section {
    /// Integrated accounts.
    Accounts,
    /// The catalog and the installs.
    Catalog,
    /// Webhooks.
    Webhooks,
}

const SECTIONS: [(Section, &str, &str); 3] = [
    (
        Section::Accounts,
        "/console/accounts",
        "Integrated accounts",
    ),
    (Section::Catalog, "/console/catalog", "Catalog"),
    (Section::Webhooks, "/console/webhooks", "Webhooks"),
];

/// The header of a signed-in page.
struct Header {
    environment: String,
    csrf: String,
    current: Option<Section>,
}

/// A console page.
pub(super) struct Screen {
    status: StatusCode,
    title: String,
    body: String,
    script: Option<String>,
    header: Option<Header>,
}

impl Screen {
    /// A page of the signed-in console, in `section`, with `body` HTML
    /// (escaped by the caller).
    pub(super) fn signed(signed: &Signed, section: Section, title: &str, body: String) -> Self {
        Self {
            status: StatusCode::OK,
            title: title.to_owned(),
            body,
            script: None,
            header: Some(Header {
                environment: signed.environment.name.clone(),
                csrf: signed.session.csrf.clone(),
                current: Some(section),
            }),
        }
    }

    /// A page without the signed-in header (sign-in, errors).
    pub(super) fn public(status: StatusCode, title: &str, body: String) -> Self {
        Self {
            status,
            title: title.to_owned(),
            body,
            script: None,
            header: None,
        }
    }

    /// The page answered with `status`.
    pub(super) fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// Adds an inline script (allowed by the page's nonce).
    pub(super) fn with_script(mut self, script: &str) -> Self {
        self.script = Some(script.to_owned());
        self
    }
}

const STYLE: &str = "\
*{box-sizing:border-box}\
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1f2328;background:#f6f8fa;line-height:1.5}\
a{color:#0550ae}\
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible,summary:focus-visible,main:focus-visible,[tabindex]:focus-visible\
{outline:3px solid #0969da;outline-offset:2px}\
.skip{position:absolute;left:-999px;top:0;background:#fff;padding:.5rem 1rem;z-index:1}\
.skip:focus{left:.5rem}\
header.top{background:#24292f;color:#fff;padding:.75rem 1rem;display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:center}\
header.top a,header.top button{color:#fff}\
.brand{font-weight:700}\
.env{font-size:.9rem;opacity:.9}\
nav ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1rem}\
nav a{text-decoration:none;padding:.25rem 0;border-bottom:2px solid transparent}\
nav a[aria-current=page]{border-bottom-color:#fff;font-weight:600}\
header.top form{margin-left:auto}\
main{max-width:72rem;margin:0 auto;padding:1rem}\
h1{font-size:1.5rem;margin:.5rem 0 1rem}\
h2{font-size:1.15rem;margin:1.5rem 0 .5rem}\
h3{font-size:1.05rem;margin:.25rem 0 .5rem}\
section>h2:first-child,.card>h3:first-child{margin-top:0}\
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(20rem,1fr));gap:1rem}\
.cards .card{margin:0}\
fieldset.card{min-width:0}\
legend{font-weight:700;font-size:1.1rem;padding:0 .25rem}\
.field{margin-bottom:.75rem}\
.field textarea{max-width:none}\
label input[type=checkbox]{width:auto}\
section,.card{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:1rem;margin:0 0 1rem}\
label{display:block;font-weight:600;margin:.5rem 0 .25rem}\
input,select,textarea{font:inherit;padding:.45rem .5rem;border:1px solid #8c959f;border-radius:6px;width:100%;max-width:32rem;background:#fff}\
textarea{min-height:8rem;font-family:ui-monospace,monospace;font-size:.9rem}\
button,.button{display:inline-block;font:inherit;padding:.45rem 1rem;border-radius:6px;border:1px solid #1f6feb;background:#1f6feb;color:#fff;text-decoration:none;cursor:pointer;margin-top:.75rem}\
button.secondary,.button.secondary{background:#fff;color:#0550ae}\
button.link{background:none;border:none;padding:0;margin:0;text-decoration:underline;cursor:pointer}\
button[disabled]{opacity:.6;cursor:not-allowed}\
.filters{display:flex;flex-wrap:wrap;gap:0 1rem;align-items:flex-end}\
.filters div{flex:1 1 12rem}\
.table-wrap{overflow-x:auto}\
table{border-collapse:collapse;width:100%;background:#fff}\
caption{text-align:left;font-weight:600;padding:.25rem 0}\
th,td{text-align:left;padding:.5rem;border-bottom:1px solid #d0d7de;vertical-align:top}\
th{background:#f6f8fa}\
dl.facts{display:grid;grid-template-columns:minmax(8rem,max-content) 1fr;gap:.25rem 1rem;margin:0}\
dl.facts dt{font-weight:600}\
dl.facts dd{margin:0;overflow-wrap:anywhere}\
pre,code{font-family:ui-monospace,monospace;font-size:.9rem}\
code{overflow-wrap:break-word}\
pre{background:#f6f8fa;padding:.75rem;border-radius:6px;overflow-x:auto;white-space:pre-wrap;overflow-wrap:anywhere}\
.status{display:inline-block;padding:0 .5rem;border-radius:1rem;font-size:.85rem;border:1px solid}\
.status-good{color:#116329;border-color:#4ac26b;background:#dafbe1}\
.status-bad{color:#82071e;border-color:#ff8182;background:#ffebe9}\
.status-wait{color:#7d4e00;border-color:#d4a72c;background:#fff8c5}\
.notice{border-left:4px solid #1f6feb;background:#ddf4ff;padding:.5rem 1rem;margin:0 0 1rem}\
.error{border-left:4px solid #cf222e;background:#ffebe9;padding:.5rem 1rem;margin:0 0 1rem}\
.field-error{color:#a40e26;margin:.25rem 0 0}\
[aria-invalid=true]{border:2px solid #cf222e}\
.hint{color:#57606a;font-size:.9rem;margin:.25rem 0 0}\
.plain{list-style:none;margin:0;padding:0}\
[hidden]{display:none!important}\
fieldset.inputs{border:1px solid #d0d7de;border-radius:6px;padding:.5rem 1rem;margin:0 0 .75rem;min-width:0}\
fieldset.inputs legend{font-size:1rem}\
fieldset.group{border:1px solid #d0d7de;border-radius:6px;padding:.5rem .75rem;margin:0 0 .75rem;min-width:0}\
fieldset.group legend{font-size:1rem}\
fieldset.group fieldset.group{background:#f6f8fa}\
fieldset.group textarea{min-height:3.5rem}\
.side-by-side{display:grid;grid-template-columns:repeat(auto-fit,minmax(14rem,1fr));gap:0 1rem}\
.default-action{position:absolute;left:-9999px}\
.variant{border-left:3px solid #d0d7de;padding-left:.75rem;margin:.5rem 0}\
table.rows td{padding:.25rem}\
table.rows input,table.rows select{min-width:8rem}\
.magic{display:flex;flex-wrap:wrap;gap:.5rem;align-items:flex-end}\
.magic div{flex:1 1 20rem}\
.magic input{max-width:none}\
@media (max-width:40rem){main{padding:.75rem}fieldset.group{padding:.5rem}header.top form{margin-left:0}dl.facts{grid-template-columns:1fr}dl.facts dd{margin-bottom:.5rem}}";

impl IntoResponse for Screen {
    fn into_response(self) -> Response {
        let nonce = new_nonce();
        let title = escape(&self.title);
        let mut html = String::with_capacity(4096 + self.body.len());
        let _ = write!(
            html,
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title} · Patchbay console</title><style>{STYLE}</style></head><body>\
             <a class=\"skip\" href=\"#main\">Skip to the content</a>"
        );
        html.push_str("<header class=\"top\"><span class=\"brand\">Patchbay console</span>");
        if let Some(header) = &self.header {
            let _ = write!(
                html,
                "<span class=\"env\">Environment: <strong>{}</strong></span>\
                 <nav aria-label=\"Console\"><ul>",
                escape(&header.environment)
            );
            for (section, href, label) in SECTIONS {
                let current = if header.current == Some(section) {
                    " aria-current=\"page\""
                } else {
                    ""
                };
                let _ = write!(html, "<li><a href=\"{href}\"{current}>{label}</a></li>");
            }
            let _ = write!(
                html,
                "</ul></nav><form method=\"post\" action=\"/console/sign-out\">{}\
                 <button type=\"submit\" class=\"link\" id=\"sign-out\">Sign out</button></form>",
                hidden_field(&header.csrf)
            );
        }
        let _ = write!(
            html,
            "</header><main id=\"main\" tabindex=\"-1\"><h1>{title}</h1>{}</main>",
            self.body
        );
        if let Some(script) = &self.script {
            let _ = write!(html, "<script nonce=\"{nonce}\">{script}</script>");
        }
        html.push_str("</body></html>\n");
        html_response(self.status, html, &nonce, "'self'")
    }
}

/// A page that says what went wrong and what to do.
pub(super) fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    Screen::public(
        status,
        title,
        format!(
            "<p class=\"error\" role=\"alert\">{}</p><p><a href=\"/console\">Back to the console</a></p>",
            escape(message)
        ),
    )
    .into_response()
}

/// `time` as a `<time>` element, `2026-11-29 18:30 UTC`.
pub(super) fn when(time: &DateTime<Utc>) -> String {
    format!(
        "<time datetime=\"{}\">{}</time>",
        time.to_rfc3339(),
        time.format("%Y-%m-%d %H:%M UTC")
    )
}

/// An account status as a badge whose text says it (colour is only a hint).
pub(super) fn status_badge(status: &str) -> String {
    let class = match status {
        "active" => "status-good",
        "connecting" => "status-wait",
        _ => "status-bad",
    };
    format!(
        "<span class=\"status {class}\">{}</span>",
        escape(&status.replace('_', " "))
    )
}

/// A notice (`role="status"`) for what a form just did.
pub(super) fn notice(text: &str) -> String {
    format!("<p class=\"notice\" role=\"status\">{}</p>", escape(text))
}

/// An error box (`role="alert"`) listing `problems`.
pub(super) fn problems(summary: &str, problems: &[String]) -> String {
    let mut html = format!(
        "<div class=\"error\" role=\"alert\" id=\"problems\"><p>{}</p>",
        escape(summary)
    );
    if !problems.is_empty() {
        html.push_str("<ul>");
        for problem in problems {
            let _ = write!(html, "<li>{}</li>", escape(problem));
        }
        html.push_str("</ul>");
    }
    html.push_str("</div>");
    html
}
