//! Cross-site request protection of `POST /connect-account` (security review F8).
//!
//! A link token authorizes the connect form, but a link token alone must not
//! let another site submit it from a victim's browser: an attacker holding a
//! link token for their own tenant could otherwise connect the victim's
//! provider account (already authorized, no consent screen) into that tenant.
//! Two independent checks run before anything else on every submit:
//!
//! 1. **Fetch metadata and origin** ([`check_origin`]). When the browser sends
//!    `Sec-Fetch-Site`, it must be `same-origin` (or `none`, a user-initiated
//!    request). Without it, an `Origin` header, when sent, must be the server's
//!    own origin: the configured public URL's, else `http(s)://<Host>`.
//!    Clients that send neither (curl) rely on the second check.
//! 2. **A token bound to the browser** ([`BrowserBinding`]). Every connect page
//!    sets a random value in an `HttpOnly`, `SameSite=Lax` cookie scoped to
//!    `/connect-account` (`Secure` over https) and embeds, as the hidden field
//!    [`FIELD`], that value sealed with the store's key. A submit needs both,
//!    and the field must unseal to the cookie's value. Another site can neither
//!    read the cookie nor the page, and a `SameSite=Lax` cookie is not sent
//!    with a cross-site `POST`.
//!
//! Either failure answers a 403 page that says to open the connect link again.

use axum::http::{HeaderMap, header};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq;

use crate::store::{StorageError, Store};

/// The hidden form field that carries the sealed token.
pub(crate) const FIELD: &str = "csrf_token";
/// The cookie that carries the browser's value.
const COOKIE: &str = "patchbay_csrf";
/// The `purpose` the value is sealed for.
const PURPOSE: &str = "connect-csrf";
/// Random bytes in a value (base64url: 43 characters).
const VALUE_BYTES: usize = 32;
/// How long a browser keeps its value: a day, longer than any link token.
const MAX_AGE_SECONDS: u32 = 24 * 60 * 60;

/// Why a submit is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum CsrfError {
    /// Fetch metadata or `Origin` say the form was posted by another site.
    #[error(
        "this form was sent from another site ({0}); connections can only be submitted \
         from the connect page itself. Open the connect link again"
    )]
    CrossSite(String),
    /// No cookie, no field, or the field does not match the cookie.
    #[error(
        "this form was not opened in this browser, or it has expired; \
         open the connect link again"
    )]
    Unbound,
}

/// Checks `Sec-Fetch-Site`, else `Origin`, against `own_origins` (the
/// server's origins as `scheme://host[:port]`, see the module docs).
pub(crate) fn check_origin(headers: &HeaderMap, own_origins: &[String]) -> Result<(), CsrfError> {
    if let Some(site) = headers.get("sec-fetch-site") {
        let site = site.to_str().unwrap_or("invalid");
        return match site {
            "same-origin" | "none" => Ok(()),
            other => Err(CsrfError::CrossSite(format!("Sec-Fetch-Site: {other}"))),
        };
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or("invalid");
    if own_origins
        .iter()
        .any(|own| own.eq_ignore_ascii_case(origin))
    {
        Ok(())
    } else {
        Err(CsrfError::CrossSite(format!("Origin: {origin}")))
    }
}

/// The browser's value: read from its cookie, or new for a browser without one.
pub(crate) struct BrowserBinding {
    value: String,
    fresh: bool,
}

impl BrowserBinding {
    /// The value of the request's cookie, or a new random one (to be set with
    /// [`set_cookie`](Self::set_cookie)) when it has none or a malformed one.
    pub(crate) fn for_page(headers: &HeaderMap) -> Self {
        match cookie_value(headers) {
            Some(value) => Self {
                value,
                fresh: false,
            },
            None => {
                let mut bytes = [0u8; VALUE_BYTES];
                rand::fill(&mut bytes[..]);
                Self {
                    value: URL_SAFE_NO_PAD.encode(bytes),
                    fresh: true,
                }
            }
        }
    }

    /// The binding of a submit: the request's cookie, which `field` (the
    /// form's [`FIELD`]) must unseal to.
    ///
    /// # Errors
    ///
    /// [`CsrfError::Unbound`] when the cookie or the field is missing or they
    /// do not match.
    pub(crate) fn for_submit(
        store: &Store,
        headers: &HeaderMap,
        field: Option<&str>,
    ) -> Result<Self, CsrfError> {
        let value = cookie_value(headers).ok_or(CsrfError::Unbound)?;
        let sealed = field.filter(|f| !f.is_empty()).ok_or(CsrfError::Unbound)?;
        let unsealed = store
            .unseal(sealed, PURPOSE)
            .map_err(|_| CsrfError::Unbound)?;
        if bool::from(unsealed.as_slice().ct_eq(value.as_bytes())) {
            Ok(Self {
                value,
                fresh: false,
            })
        } else {
            Err(CsrfError::Unbound)
        }
    }

    /// The value sealed for the form's hidden [`FIELD`] (a new sealing each
    /// time; every one unseals to the same value).
    ///
    /// # Errors
    ///
    /// The store's error when sealing fails.
    pub(crate) fn form_token(&self, store: &Store) -> Result<String, StorageError> {
        store.seal(self.value.as_bytes(), PURPOSE)
    }

    /// The `Set-Cookie` value for a browser that had no value yet.
    pub(crate) fn set_cookie(&self, secure: bool) -> Option<String> {
        self.fresh.then(|| {
            format!(
                "{COOKIE}={}; Path=/connect-account; Max-Age={MAX_AGE_SECONDS}; HttpOnly; SameSite=Lax{}",
                self.value,
                if secure { "; Secure" } else { "" }
            )
        })
    }
}

/// The well-formed value of the request's cookie, if any.
fn cookie_value(headers: &HeaderMap) -> Option<String> {
    super::session::cookies(headers)
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
        .filter(|value| {
            value.len() == 43
                && value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn fetch_metadata_wins_over_origin() {
        let own = ["http://127.0.0.1:8080".to_owned()];
        assert!(check_origin(&headers(&[("sec-fetch-site", "same-origin")]), &own).is_ok());
        assert!(check_origin(&headers(&[("sec-fetch-site", "none")]), &own).is_ok());
        for site in ["cross-site", "same-site"] {
            assert!(matches!(
                check_origin(
                    &headers(&[("sec-fetch-site", site), ("origin", &own[0])]),
                    &own
                ),
                Err(CsrfError::CrossSite(_))
            ));
        }
    }

    #[test]
    fn origin_must_be_ours_when_sent() {
        let own = ["http://127.0.0.1:8080".to_owned()];
        assert!(check_origin(&headers(&[]), &own).is_ok());
        assert!(check_origin(&headers(&[("origin", "http://127.0.0.1:8080")]), &own).is_ok());
        for origin in ["https://evil.example", "null", "http://127.0.0.1:8081"] {
            let error = check_origin(&headers(&[("origin", origin)]), &own).unwrap_err();
            assert!(error.to_string().contains(origin), "{error}");
        }
    }

    #[test]
    fn only_well_formed_cookies_are_read() {
        let good = "a".repeat(43);
        let cookie = format!("other=1; {COOKIE}={good}");
        assert_eq!(
            cookie_value(&headers(&[("cookie", &cookie)])).as_deref(),
            Some(good.as_str())
        );
        for bad in ["short", &"a".repeat(44), &format!("{}!", "a".repeat(42))] {
            let cookie = format!("{COOKIE}={bad}");
            assert_eq!(cookie_value(&headers(&[("cookie", &cookie)])), None);
        }
        let fresh = BrowserBinding::for_page(&HeaderMap::new());
        let set = fresh.set_cookie(true).unwrap();
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.ends_with("Secure"),
            "{set}"
        );
        let value = set.split(';').next().unwrap().to_owned();
        let again = BrowserBinding::for_page(&headers(&[("cookie", &value)]));
        assert_eq!(again.set_cookie(false), None, "an existing value is kept");
    }
}
