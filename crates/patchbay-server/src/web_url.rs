//! The one notion of a usable web URL: absolute, `http` or `https`, with a
//! host. Webhook targets, redirect URIs, the public URL and `url` fields are
//! all checked with it.

use url::Url;

/// Whether `url` is `http` or `https` and has a host.
pub(crate) fn is_web_url(url: &Url) -> bool {
    matches!(url.scheme(), "http" | "https") && url.host().is_some()
}

/// `text` parsed, when it is a usable web URL (see [`is_web_url`]).
pub(crate) fn parse_web_url(text: &str) -> Option<Url> {
    Url::parse(text).ok().filter(is_web_url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_absolute_http_urls_with_a_host() {
        assert!(parse_web_url("https://example.com/hooks?x=1").is_some());
        assert!(parse_web_url("http://127.0.0.1:8080").is_some());
        for bad in [
            "/relative",
            "example.com",
            "javascript:alert(1)",
            "ftp://example.com",
            "file:///etc/passwd",
            "",
        ] {
            assert!(parse_web_url(bad).is_none(), "{bad}");
        }
    }
}
