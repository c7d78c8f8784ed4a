//! Opaque keyset-pagination cursors: base64url of `<created_at micros>:<id>` of
//! the last item of a page. Lists are ordered by `(created_at, id)`, so a
//! cursor stays valid while rows are inserted or deleted.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::error::StorageError;
use super::model::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PageRequest};

/// The position after which the next page starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cursor {
    pub(crate) created_at: i64,
    pub(crate) id: String,
}

impl Cursor {
    pub(crate) fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}:{}", self.created_at, self.id))
    }

    pub(crate) fn decode(text: &str) -> Result<Self, StorageError> {
        let bad = || {
            StorageError::InvalidInput("`next_cursor` is not a cursor this server issued".into())
        };
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let (at, id) = text.split_once(':').ok_or_else(bad)?;
        Ok(Self {
            created_at: at.parse().map_err(|_| bad())?,
            id: id.to_owned(),
        })
    }
}

/// Whether `text` is a cursor this server issued (so the API can answer 400
/// before the store is asked).
pub(crate) fn is_valid(text: &str) -> bool {
    Cursor::decode(text).is_ok()
}

/// The page size and start of `page`.
pub(crate) fn parse(page: &PageRequest) -> Result<(u32, Option<Cursor>), StorageError> {
    let limit = page.limit.unwrap_or(DEFAULT_PAGE_SIZE);
    if limit == 0 || limit > MAX_PAGE_SIZE {
        return Err(StorageError::InvalidInput(format!(
            "`limit` must be between 1 and {MAX_PAGE_SIZE}, not {limit}"
        )));
    }
    let cursor = page
        .cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(Cursor::decode)
        .transpose()?;
    Ok((limit, cursor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_garbage() {
        let c = Cursor {
            created_at: 1_700_000_000_000_000,
            id: "a:b".into(),
        };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        assert!(matches!(
            Cursor::decode("%%%"),
            Err(StorageError::InvalidInput(_))
        ));
        assert!(matches!(
            parse(&PageRequest {
                limit: Some(0),
                cursor: None
            }),
            Err(StorageError::InvalidInput(_))
        ));
    }
}
