//! `$parseUrl`.

use serde_json::{Map, Value, json};
use url::{Url, quirks};

use super::{Args, Outcome};

/// `$parseUrl(url)`: the WHATWG URL fields of `url` as an object.
///
/// Keys, in order: `href`, `origin`, `protocol`, `username`, `password`, `host`,
/// `hostname`, `port`, `pathname`, `hash`, `search`, `searchParams`. All are strings as the
/// `URL` class gives them (`port` is `""` for the scheme's default port, `origin` is
/// `"null"` for opaque origins). `searchParams` carries only `size` (the number of query
/// parameters): the package's `get`/`has`/`getAll`/… methods are JavaScript functions,
/// which have no JSON form. Fails with "Invalid URL" when the text does not parse.
pub(crate) fn parse_url(args: &Args<'_>) -> Outcome {
    let text = args.text(0, "undefined")?;
    let url = Url::parse(&text).map_err(|error| args.failed(format!("Invalid URL: {error}")))?;
    let mut fields = Map::new();
    for (key, field) in [
        ("href", quirks::href(&url).to_owned()),
        ("origin", quirks::origin(&url)),
        ("protocol", quirks::protocol(&url).to_owned()),
        ("username", quirks::username(&url).to_owned()),
        ("password", quirks::password(&url).to_owned()),
        ("host", quirks::host(&url).to_owned()),
        ("hostname", quirks::hostname(&url).to_owned()),
        ("port", quirks::port(&url).to_owned()),
        ("pathname", quirks::pathname(&url).to_owned()),
        ("hash", quirks::hash(&url).to_owned()),
        ("search", quirks::search(&url).to_owned()),
    ] {
        fields.insert(key.to_owned(), Value::String(field));
    }
    fields.insert(
        "searchParams".to_owned(),
        json!({ "size": url.query_pairs().count() }),
    );
    Ok(Some(Value::Object(fields)))
}
