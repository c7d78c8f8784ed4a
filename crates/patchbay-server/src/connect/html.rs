//! The connect pages' HTML: one small layout, no framework, no external assets.
//!
//! Every dynamic text goes through [`escape`]. Pages are answered with a
//! Content-Security-Policy that allows only inline styles and the one inline
//! script of the result page (by nonce), `Cache-Control: no-store` (they
//! carry a link token) and `Referrer-Policy: no-referrer` (so the token in the
//! URL never leaks to the provider or the host's redirect target). No page may
//! be framed (`frame-ancestors 'none'`, `X-Frame-Options: DENY`), so another
//! site cannot overlay the form to trick a click (clickjacking); the one
//! exception is [`frame_for`]: the connect pages, for the origins an operator
//! lists (the Link SDK's iframe mode).

use std::fmt::Write as _;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// `text` with `& < > " '` escaped, safe in element content and quoted attributes.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A page: a title, body HTML (already escaped by the caller) and an optional
/// inline script, answered with `status`.
pub(crate) struct Page {
    status: StatusCode,
    title: String,
    body: String,
    script: Option<String>,
}

impl Page {
    /// A page with `title` (escaped here) and `body` HTML.
    pub(crate) fn new(status: StatusCode, title: &str, body: String) -> Self {
        Self {
            status,
            title: title.to_owned(),
            body,
            script: None,
        }
    }

    /// A page that says what went wrong and what to do next.
    pub(crate) fn error(status: StatusCode, title: &str, message: &str) -> Self {
        Self::new(
            status,
            title,
            format!(r#"<p class="error" role="alert">{}</p>"#, escape(message)),
        )
    }

    /// Adds an inline script (JavaScript source; the caller must embed data
    /// with [`json_for_script`]).
    pub(crate) fn with_script(mut self, script: String) -> Self {
        self.script = Some(script);
        self
    }
}

/// `value` as JSON that is safe inside a `<script>` element (no `</script>`,
/// no HTML comment openers, no line separators that break JS strings).
pub(crate) fn json_for_script(value: &Value) -> String {
    value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;\
padding:0 1rem;color:#1f2328}h1{font-size:1.4rem}label{display:block;margin-top:1rem;\
font-weight:600}input,select{width:100%;box-sizing:border-box;padding:.5rem;margin-top:.25rem;\
font:inherit}button,.choice{display:inline-block;margin-top:1.5rem;padding:.6rem 1.2rem;\
font:inherit;border:1px solid #1f6feb;border-radius:6px;background:#1f6feb;color:#fff;\
text-decoration:none;cursor:pointer}.hint{color:#59636e;font-size:.9rem;margin:.25rem 0 0}\
.error{color:#b42318}.field-error{color:#b42318;font-size:.9rem;margin:.25rem 0 0}\
ul.choices{list-style:none;padding:0}";

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let nonce = new_nonce();
        let mut html = String::with_capacity(1024 + self.body.len());
        let _ = write!(
            html,
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title}</title><style>{STYLE}</style></head>\
             <body><main><h1>{title}</h1>{body}</main>",
            title = escape(&self.title),
            body = self.body,
        );
        if let Some(script) = &self.script {
            let _ = write!(html, "<script nonce=\"{nonce}\">{script}</script>");
        }
        html.push_str("</body></html>\n");
        html_response(self.status, html, &nonce, "'self' http: https:")
    }
}

/// A fresh random nonce for one page's Content-Security-Policy.
pub(crate) fn new_nonce() -> String {
    let mut bytes = [0u8; 16];
    rand::fill(&mut bytes[..]);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `html` answered with `status` and the pages' security headers: a
/// Content-Security-Policy allowing inline styles, only the scripts carrying
/// `nonce`, forms posting to `form_action` and no framing; `no-store`,
/// `no-referrer`, `nosniff` and `X-Frame-Options: DENY`. The connect pages
/// and the console ([`crate::console`]) answer every page through it.
pub(crate) fn html_response(
    status: StatusCode,
    html: String,
    nonce: &str,
    form_action: &str,
) -> Response {
    let csp = format!(
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-{nonce}'; \
         form-action {form_action}; base-uri 'none'; frame-ancestors 'none'"
    );
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if let Ok(value) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// Lets `origins` (and no one else) frame the page `response` answers: its
/// policy's `frame-ancestors 'none'` becomes `frame-ancestors <origins>` and
/// `X-Frame-Options` (which cannot name origins) is dropped. With no origins
/// nothing changes.
pub(crate) fn frame_for(response: &mut Response, origins: &[String]) {
    if origins.is_empty() {
        return;
    }
    let headers = response.headers_mut();
    let Some(policy) = headers
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .filter(|p| p.ends_with(NO_FRAMING))
    else {
        return;
    };
    let policy = format!(
        "{}frame-ancestors {}",
        policy.trim_end_matches(NO_FRAMING),
        origins.join(" ")
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
        headers.remove(header::X_FRAME_OPTIONS);
    }
}

/// The directive of [`html_response`]'s policy that forbids framing.
const NO_FRAMING: &str = "frame-ancestors 'none'";

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn framing_is_allowed_for_the_listed_origins_only() {
        let page = || html_response(StatusCode::OK, String::new(), "n", "'self'");
        let csp = |r: &Response| {
            r.headers()[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .to_owned()
        };
        let mut response = page();
        frame_for(&mut response, &[]);
        assert!(csp(&response).ends_with("frame-ancestors 'none'"));
        assert_eq!(response.headers()[header::X_FRAME_OPTIONS], "DENY");
        let origins = [
            "https://app.example.com".to_owned(),
            "http://127.0.0.1:3000".to_owned(),
        ];
        frame_for(&mut response, &origins);
        let policy = csp(&response);
        assert!(
            policy.ends_with("; frame-ancestors https://app.example.com http://127.0.0.1:3000"),
            "{policy}"
        );
        assert!(policy.contains("script-src 'nonce-n'"), "{policy}");
        assert!(!policy.contains("frame-ancestors 'none'"), "{policy}");
        assert!(response.headers().get(header::X_FRAME_OPTIONS).is_none());
    }

    #[test]
    fn escape_covers_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x" onclick='y'>&</a>"#),
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
    }

    #[test]
    fn script_json_cannot_close_the_script_element() {
        let text = json_for_script(&json!({"x": "</script><script>alert(1)</script>"}));
        assert!(!text.contains("</script"), "{text}");
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["x"], "</script><script>alert(1)</script>");
    }
}
