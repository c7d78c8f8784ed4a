//! Tool names in Truto's style.
//!
//! | method | name |
//! |---|---|
//! | `list` | `list_all_<integration>_<resource>` |
//! | `get` | `get_single_<integration>_<singular>_by_id` |
//! | `create` | `create_a_<integration>_<singular>` |
//! | `update` | `update_a_<integration>_<singular>_by_id` |
//! | `delete` | `delete_a_<integration>_<singular>_by_id` |
//! | custom `m` | `<m>_<integration>_<resource>` (`_by_id` when its path reads `{{id}}`) |
//!
//! Every part is snake_case ASCII (`[a-z0-9_]`); the singular is the last word of the
//! resource made singular by common English rules ([`singular`]). Names are cut to
//! [`MAX_NAME_LEN`] characters, the limit MCP clients accept.

/// The longest tool name produced (MCP clients accept up to 128 characters).
pub const MAX_NAME_LEN: usize = 128;

/// The tool name of `method` of `resource` in `integration`; `takes_id` says whether a
/// custom method addresses one record.
///
/// ```
/// use patchbay_mcp::naming::tool_name;
/// assert_eq!(tool_name("github", "pull-requests", "get", true), "get_single_github_pull_request_by_id");
/// assert_eq!(tool_name("Zendesk", "tickets", "list", false), "list_all_zendesk_tickets");
/// assert_eq!(tool_name("zendesk", "tickets", "merge", true), "merge_zendesk_tickets_by_id");
/// ```
pub fn tool_name(integration: &str, resource: &str, method: &str, takes_id: bool) -> String {
    let integration = snake_case(integration);
    let plural = snake_case(resource);
    let one = singular(&plural);
    let name = match method {
        "list" => format!("list_all_{integration}_{plural}"),
        "get" => format!("get_single_{integration}_{one}_by_id"),
        "create" => format!("create_a_{integration}_{one}"),
        "update" => format!("update_a_{integration}_{one}_by_id"),
        "delete" => format!("delete_a_{integration}_{one}_by_id"),
        custom => {
            let by_id = if takes_id { "_by_id" } else { "" };
            format!("{}_{integration}_{plural}{by_id}", snake_case(custom))
        }
    };
    name.chars().take(MAX_NAME_LEN).collect()
}

/// `text` in snake_case ASCII: letters lowered, a word break before an upper-case letter
/// that follows a lower-case one, any run of other characters one `_`, none at the ends.
///
/// ```
/// use patchbay_mcp::naming::snake_case;
/// assert_eq!(snake_case("pullRequests"), "pull_requests");
/// assert_eq!(snake_case("Microsoft Graph / users"), "microsoft_graph_users");
/// ```
pub fn snake_case(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut previous_lower = false;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && previous_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            previous_lower = false;
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

/// The singular of a snake_case plural, by its last word: `ies` → `y`, `sses`/`xes`/
/// `ches`/`shes`/`zes` lose `es`, another final `s` (not `ss`, `us`, `is`) is dropped;
/// anything else is kept.
///
/// ```
/// use patchbay_mcp::naming::singular;
/// assert_eq!(singular("companies"), "company");
/// assert_eq!(singular("pull_requests"), "pull_request");
/// assert_eq!(singular("addresses"), "address");
/// assert_eq!(singular("status"), "status");
/// assert_eq!(singular("me"), "me");
/// ```
pub fn singular(plural: &str) -> String {
    let (head, word) = match plural.rfind('_') {
        Some(at) => plural.split_at(at + 1),
        None => ("", plural),
    };
    let one = if let Some(stem) = word.strip_suffix("ies").filter(|s| s.len() > 1) {
        format!("{stem}y")
    } else if ["sses", "xes", "ches", "shes", "zes"]
        .iter()
        .any(|suffix| word.ends_with(suffix))
    {
        word[..word.len() - 2].to_owned()
    } else if word.len() > 2
        && word.ends_with('s')
        && !["ss", "us", "is"]
            .iter()
            .any(|suffix| word.ends_with(suffix))
    {
        word[..word.len() - 1].to_owned()
    } else {
        word.to_owned()
    };
    format!("{head}{one}")
}
