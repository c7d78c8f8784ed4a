//! Renders a resource method's URL, headers and body from an account context,
//! showing Truto's placeholder semantics (typed whole-string values, defaults,
//! `$truto_merge`) and URL encoding.
//!
//! ```sh
//! cargo run -p patchbay --example render_templates
//! ```

use patchbay::template::{Template, UrlTemplate, ValueTemplate};
use serde_json::json;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = json!({
        "subdomain": "acme",
        "api_token": "tok_123",
        "id": "42/7",
        "query": {"status": "open", "limit": "25"},
        "context": {"owner_id": "1001", "extra": {"priority": "high"}}
    });

    let url = UrlTemplate::parse(
        "https://{{subdomain}}.zendesk.com/api/v2/tickets/{{id}}?status={{query.status}}",
    )?;
    println!("url:    {}", url.render(&data)?);

    let header = Template::parse("Bearer {{api_token}}")?;
    println!("header: Authorization: {}", header.render_to_string(&data));

    let body = ValueTemplate::parse(&json!({
        "owner_id": "{{context.owner_id:int}}",
        "limit": "{{query.limit:int?:50:int}}",
        "note": "{{context.note:undefined}}",
        "$truto_merge": "{{context.extra:json}}"
    }))?;
    println!("body:   {}", serde_json::to_string(&body.render(&data))?);

    match UrlTemplate::parse("https://{{subdomain}}.zendesk.com/api")?
        .render(&json!({"subdomain": "evil.com/"}))
    {
        Ok(url) => println!("unexpected: {url}"),
        Err(e) => println!("unsafe:  {e}"),
    }
    Ok(())
}
