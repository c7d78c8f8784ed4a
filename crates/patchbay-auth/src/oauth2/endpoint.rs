//! Endpoint URLs: a templated host with a templated path resolved against it.

use patchbay_template::{UrlError, UrlTemplate};
use serde_json::Value;
use url::Url;

use crate::AuthError;

/// Renders `host` and resolves `path` (or `default_path`) against it.
pub(super) fn endpoint(
    data: &Value,
    host: Option<&str>,
    path: Option<&str>,
    default_path: &str,
    what: &str,
) -> Result<Url, AuthError> {
    let host =
        host.ok_or_else(|| AuthError::config(format!("{what}: auth.tokenHost is not set")))?;
    let base = render_url(host, data, what)?;
    let base = Url::parse(&base)
        .map_err(|e| AuthError::config(format!("{what}: host is not an absolute URL ({e})")))?;
    let path = render_url(path.unwrap_or(default_path), data, what)?;
    base.join(&path)
        .map_err(|e| AuthError::config(format!("{what}: path does not resolve ({e})")))
}

fn render_url(source: &str, data: &Value, what: &str) -> Result<String, AuthError> {
    let template =
        UrlTemplate::parse(source).map_err(|e| AuthError::config(format!("{what}: {e}")))?;
    template.render(data).map_err(|e| match e {
        UrlError::MissingValue { placeholder, .. } => {
            AuthError::missing(format!("{placeholder} (for {what})"))
        }
        other => AuthError::config(format!("{what}: {other}")),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::endpoint;
    use crate::AuthError;

    #[test]
    fn endpoints_resolve_like_urls_and_render_placeholders() {
        let data = json!({"tenant_id": "t/1"});
        let url = endpoint(
            &data,
            Some("https://login.example.com/common"),
            Some("/{{tenant_id}}/token"),
            "/x",
            "t",
        )
        .unwrap();
        assert_eq!(url.as_str(), "https://login.example.com/t%2F1/token");
        let missing = endpoint(
            &json!({}),
            Some("https://h"),
            Some("/{{tenant_id}}"),
            "/x",
            "t",
        )
        .unwrap_err();
        assert!(
            matches!(missing, AuthError::MissingCredential { .. }),
            "{missing}"
        );
        let no_host = endpoint(&data, None, None, "/x", "t").unwrap_err();
        assert!(matches!(no_host, AuthError::Config(_)));
    }
}
