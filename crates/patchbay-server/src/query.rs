//! Query-string parameters: pagination (`limit`, `next_cursor`), filters and
//! the parameters the proxy passes through.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::error::{ApiError, ApiResult};
use crate::store::{MAX_PAGE_SIZE, PageRequest, is_valid_cursor};

/// Extractor: the query string's `limit` and `next_cursor`, for list routes
/// ([`QueryParams::page`]); other parameters are ignored.
///
/// # Errors
///
/// 400 as [`QueryParams::parse`] and [`QueryParams::page`] say.
#[derive(Debug, Clone)]
pub struct PageQuery(pub PageRequest);

impl<S: Send + Sync> FromRequestParts<S> for PageQuery {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> ApiResult<Self> {
        QueryParams::parse(parts.uri.query())?.page().map(Self)
    }
}

/// The decoded query string, in order. Repeated keys keep every value.
#[derive(Debug, Clone, Default)]
pub struct QueryParams(pub Vec<(String, String)>);

impl QueryParams {
    /// Decodes `raw` (`a=1&b=2`, percent- and `+`-decoded).
    ///
    /// # Errors
    ///
    /// 400 when the query string cannot be decoded.
    pub fn parse(raw: Option<&str>) -> ApiResult<Self> {
        match raw {
            None => Ok(Self::default()),
            Some(raw) => serde_urlencoded::from_str(raw).map(Self).map_err(|e| {
                ApiError::bad_request(format!("the query string cannot be decoded: {e}"))
            }),
        }
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A required parameter.
    ///
    /// # Errors
    ///
    /// 400 naming the parameter when it is missing or empty.
    pub fn required(&self, key: &str) -> ApiResult<&str> {
        self.get(key).filter(|v| !v.is_empty()).ok_or_else(|| {
            ApiError::bad_request(format!("the query parameter `{key}` is required"))
        })
    }

    /// `true`/`false`.
    ///
    /// # Errors
    ///
    /// 400 naming the parameter for any other value.
    pub fn bool(&self, key: &str) -> ApiResult<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(other) => Err(ApiError::bad_request(format!(
                "the query parameter `{key}` must be `true` or `false`, not `{other}`"
            ))),
        }
    }

    /// A whole number (e.g. a `version` filter).
    ///
    /// # Errors
    ///
    /// 400 naming the parameter for anything else.
    pub fn u64(&self, key: &str) -> ApiResult<Option<u64>> {
        self.get(key)
            .map(|text| {
                text.parse::<u64>().map_err(|_| {
                    ApiError::bad_request(format!(
                        "the query parameter `{key}` must be a whole number, not `{text}`"
                    ))
                })
            })
            .transpose()
    }

    /// `limit` (1..=5000) and `next_cursor`.
    ///
    /// # Errors
    ///
    /// 400 when `limit` is not a number in range, or `next_cursor` is not a
    /// cursor this server issued.
    pub fn page(&self) -> ApiResult<PageRequest> {
        let cursor = self.get("next_cursor").filter(|c| !c.is_empty());
        if let Some(cursor) = cursor
            && !is_valid_cursor(cursor)
        {
            return Err(ApiError::bad_request(
                "the query parameter `next_cursor` is not a cursor this server issued; \
                 pass the `next_cursor` of a previous page unchanged",
            ));
        }
        Ok(PageRequest {
            limit: self.limit()?.map(|l| l as u32),
            cursor: cursor.map(str::to_owned),
        })
    }

    /// `limit` as a number from 1 to 5000.
    ///
    /// # Errors
    ///
    /// 400 when it is not.
    pub fn limit(&self) -> ApiResult<Option<u64>> {
        match self.get("limit") {
            None | Some("") => Ok(None),
            Some(text) => match text.parse::<u64>() {
                Ok(n) if (1..=u64::from(MAX_PAGE_SIZE)).contains(&n) => Ok(Some(n)),
                _ => Err(ApiError::bad_request(format!(
                    "the query parameter `limit` must be a number from 1 to {MAX_PAGE_SIZE}, not `{text}`"
                ))),
            },
        }
    }

    /// The parameters except those named in `skip`.
    pub fn without<'a>(&'a self, skip: &'a [&str]) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.0
            .iter()
            .filter(move |(k, _)| !skip.contains(&k.as_str()))
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }
}
