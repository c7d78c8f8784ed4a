//! `GET /console/accounts` (the list, with filters) and
//! `GET /console/accounts/{id}` (one account: status, last error, context
//! without secrets, post-install results, recent events and calls, and the
//! way to re-authorize it).

use std::fmt::Write as _;

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use patchbay::config::AccountStatus;
use serde_json::Value;

use super::Failed;
use super::account_events;
use super::directory::Directory;
use super::form::Form;
use super::layout::{Screen, Section, escape, status_badge, when};
use super::session::Signed;
use crate::routes::accounts::Redactor;
use crate::state::AppState;
use crate::store::{AccountFilter, LogQuery, LogType, PageRequest};

/// Accounts on one page of the list.
const PAGE_SIZE: u32 = 50;
/// Calls shown on an account's page.
const RECENT_CALLS: u32 = 20;

/// Every status, in the order the filter offers them.
pub(super) const STATUSES: [AccountStatus; 5] = [
    AccountStatus::Active,
    AccountStatus::Connecting,
    AccountStatus::PostInstallError,
    AccountStatus::ValidationError,
    AccountStatus::NeedsReauth,
];

/// The list's filters, read from the query string.
struct Filters {
    tenant: Option<String>,
    install: Option<String>,
    status: Option<AccountStatus>,
    cursor: Option<String>,
}

impl Filters {
    fn parse(query: &Form) -> Self {
        Self {
            tenant: query.text("tenant_id").map(str::to_owned),
            install: query.text("integration").map(str::to_owned),
            status: query
                .text("status")
                .and_then(|s| STATUSES.into_iter().find(|status| status.as_str() == s)),
            cursor: query
                .text("cursor")
                .filter(|c| crate::store::is_valid_cursor(c))
                .map(str::to_owned),
        }
    }

    /// The query string of these filters (without the cursor).
    fn query(&self) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if let Some(tenant) = &self.tenant {
            query.append_pair("tenant_id", tenant);
        }
        if let Some(install) = &self.install {
            query.append_pair("integration", install);
        }
        if let Some(status) = self.status {
            query.append_pair("status", status.as_str());
        }
        query.finish()
    }

    /// The filter form.
    fn form(&self, directory: &Directory) -> String {
        let mut html = String::from(
            "<form method=\"get\" action=\"/console/accounts\" class=\"filters\" \
             role=\"search\" aria-label=\"Filter the accounts\">",
        );
        let _ = write!(
            html,
            "<div><label for=\"tenant_id\">Tenant</label>\
             <input id=\"tenant_id\" name=\"tenant_id\" type=\"search\" value=\"{}\"></div>",
            escape(self.tenant.as_deref().unwrap_or_default())
        );
        html.push_str(
            "<div><label for=\"integration\">Integration</label>\
             <select id=\"integration\" name=\"integration\"><option value=\"\">Any</option>",
        );
        for install in &directory.installs {
            let selected = if self.install.as_deref() == Some(install.id.as_str()) {
                " selected"
            } else {
                ""
            };
            let _ = write!(
                html,
                "<option value=\"{}\"{selected}>{}</option>",
                escape(&install.id),
                escape(&directory.install_label(&install.id))
            );
        }
        html.push_str(
            "</select></div><div><label for=\"status\">Status</label>\
             <select id=\"status\" name=\"status\"><option value=\"\">Any</option>",
        );
        for status in STATUSES {
            let selected = if self.status == Some(status) {
                " selected"
            } else {
                ""
            };
            let _ = write!(
                html,
                "<option value=\"{0}\"{selected}>{1}</option>",
                status.as_str(),
                status.as_str().replace('_', " ")
            );
        }
        html.push_str(
            "</select></div><div><button type=\"submit\" id=\"apply-filters\">Filter</button> \
             <a href=\"/console/accounts\">Clear the filters</a></div></form>",
        );
        html
    }
}

/// `GET /console/accounts?tenant_id=&integration=<install id>&status=&cursor=`.
pub(super) async fn list(
    State(state): State<AppState>,
    signed: Signed,
    RawQuery(raw): RawQuery,
) -> Result<Response, Failed> {
    let filters = Filters::parse(&Form::parse(raw.unwrap_or_default().as_bytes()));
    let env = signed.env();
    let directory = Directory::load(&state.store, env).await?;
    let page = state
        .store
        .list_accounts(
            env,
            &AccountFilter {
                tenant_id: filters.tenant.clone(),
                environment_integration_id: filters.install.clone(),
                status: filters.status,
                is_sandbox: None,
            },
            &PageRequest {
                limit: Some(PAGE_SIZE),
                cursor: filters.cursor.clone(),
            },
        )
        .await?;
    let mut body = filters.form(&directory);
    if page.result.is_empty() {
        body.push_str("<p id=\"no-accounts\">No integrated accounts match these filters.</p>");
    } else {
        body.push_str(
            "<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-labelledby=\"accounts-caption\">\
             <table id=\"accounts\"><caption id=\"accounts-caption\">Integrated accounts, oldest first</caption>\
             <thead><tr><th scope=\"col\">Tenant</th><th scope=\"col\">Integration</th>\
             <th scope=\"col\">Status</th><th scope=\"col\">Last error</th><th scope=\"col\">Updated</th></tr></thead><tbody>",
        );
        for account in &page.result {
            let _ = write!(
                body,
                "<tr><td><a href=\"/console/accounts/{id}\">{tenant}</a></td><td>{integration}</td>\
                 <td>{status}</td><td>{error}</td><td>{updated}</td></tr>",
                id = escape(&account.id),
                tenant = escape(&account.tenant_id),
                integration = escape(&directory.install_label(&account.environment_integration_id)),
                status = status_badge(account.status.as_str()),
                error = escape(account.last_error.as_deref().unwrap_or("")),
                updated = when(&account.updated_at),
            );
        }
        body.push_str("</tbody></table></div>");
    }
    if let Some(cursor) = &page.next_cursor {
        let mut query = filters.query();
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str("cursor=");
        query.extend(url::form_urlencoded::byte_serialize(cursor.as_bytes()));
        let _ = write!(
            body,
            "<p><a href=\"/console/accounts?{}\" id=\"next-page\">Next page</a></p>",
            escape(&query)
        );
    }
    Ok(Screen::signed(&signed, Section::Accounts, "Integrated accounts", body).into_response())
}

/// `value` as short text: strings as they are, anything else as JSON.
pub(super) fn plain(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// `GET /console/accounts/{id}`.
pub(super) async fn detail(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, Failed> {
    let env = signed.env();
    let account = state.store.get_account(env, &id).await?;
    let directory = Directory::load(&state.store, env).await?;
    let view = Redactor::new(&state, env).view(account).await?;
    let integration = directory.install_label(&view.environment_integration_id);
    let title = format!("{} · {integration}", view.tenant_id);
    let mut body =
        String::from("<p><a href=\"/console/accounts\">← All integrated accounts</a></p>");
    let _ = write!(
        body,
        "<section aria-labelledby=\"overview\"><h2 id=\"overview\">Overview</h2><dl class=\"facts\">\
         <dt>Status</dt><dd id=\"account-status\">{status}</dd>\
         <dt>Last error</dt><dd id=\"last-error\">{error}</dd>\
         <dt>Tenant</dt><dd>{tenant}</dd>\
         <dt>Integration</dt><dd>{integration}</dd>\
         <dt>Authentication</dt><dd>{method}</dd>\
         <dt>Region</dt><dd>{region}</dd>\
         <dt>Sandbox</dt><dd>{sandbox}</dd>\
         <dt>Account id</dt><dd><code>{id}</code></dd>\
         <dt>Created</dt><dd>{created}</dd>\
         <dt>Updated</dt><dd>{updated}</dd></dl></section>",
        status = status_badge(view.status.as_str()),
        error = escape(view.last_error.as_deref().unwrap_or("None")),
        tenant = escape(&view.tenant_id),
        integration = escape(&integration),
        method = escape(view.authentication_method.as_str()),
        region = escape(
            &view
                .region
                .map(|r| plain(&serde_json::to_value(r).unwrap_or_default()))
                .unwrap_or_else(|| "—".into())
        ),
        sandbox = if view.is_sandbox { "Yes" } else { "No" },
        id = escape(&view.id),
        created = when(&view.created_at),
        updated = when(&view.updated_at),
    );
    let _ = write!(
        body,
        "<section aria-labelledby=\"connection\"><h2 id=\"connection\">Connection</h2>\
         <p>When the account's credentials stop working (its status is <em>needs reauth</em>), \
         get a new connection link for it and open it, or send it to the customer. The account \
         keeps its id and context.</p>\
         <p><a class=\"button\" id=\"reauthorize\" href=\"/console/accounts/{}/reauthorize\">\
         Re-authorize connection</a></p></section>",
        escape(&view.id)
    );
    body.push_str(
        "<section aria-labelledby=\"context\"><h2 id=\"context\">Context</h2>\
         <p class=\"hint\">The account's variables. Secrets (OAuth tokens, passwords, API keys) are never shown.</p>",
    );
    if view.context.is_empty() {
        body.push_str("<p>No variables.</p>");
    } else {
        body.push_str("<dl class=\"facts\" id=\"context-variables\">");
        for (key, value) in &view.context {
            let _ = write!(
                body,
                "<dt>{}</dt><dd><code>{}</code></dd>",
                escape(key),
                escape(&plain(value))
            );
        }
        body.push_str("</dl>");
    }
    body.push_str("</section>");
    body.push_str(
        "<section aria-labelledby=\"results\"><h2 id=\"results\">Post-install and validation results</h2>",
    );
    match &view.last_action_result {
        Some(result) => {
            let _ = write!(
                body,
                "<pre id=\"action-results\">{}</pre>",
                escape(&serde_json::to_string_pretty(result).unwrap_or_default())
            );
        }
        None => body.push_str("<p>No actions have run.</p>"),
    }
    body.push_str("</section>");
    body.push_str(&account_events::section(&state, env, &view.id).await?);
    body.push_str(&recent_calls(&state, env, &view.id).await?);
    Ok(Screen::signed(&signed, Section::Accounts, &title, body).into_response())
}

/// The account's latest upstream calls (the request logs), newest first.
async fn recent_calls(state: &AppState, env: &str, account_id: &str) -> Result<String, Failed> {
    let mut query = LogQuery::new(LogType::UnifiedProxyApi);
    query.integrated_account_id = Some(account_id.to_owned());
    let logs = state
        .store
        .list_request_logs(
            env,
            &query,
            &PageRequest {
                limit: Some(RECENT_CALLS),
                cursor: None,
            },
        )
        .await?;
    let mut html =
        String::from("<section aria-labelledby=\"calls\"><h2 id=\"calls\">Recent calls</h2>");
    if logs.result.is_empty() {
        html.push_str("<p>No calls were logged for this account.</p></section>");
        return Ok(html);
    }
    html.push_str(
        "<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-labelledby=\"calls-caption\">\
         <table><caption id=\"calls-caption\">The latest calls to the provider, newest first</caption>\
         <thead><tr><th scope=\"col\">When</th><th scope=\"col\">Request</th>\
         <th scope=\"col\">Call</th><th scope=\"col\">Status</th></tr></thead><tbody>",
    );
    for log in &logs.result {
        let m = &log.metadata;
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td><code>{} {}</code></td><td>{}</td></tr>",
            when(&log.created_at),
            escape(
                &[&m["request_type"], &m["resource"], &m["method"]]
                    .iter()
                    .filter_map(|v| v.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            escape(m["http_method"].as_str().unwrap_or("")),
            escape(m["http_url"].as_str().unwrap_or("")),
            escape(
                &m["http_status_code"]
                    .as_u64()
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "—".into())
            ),
        );
    }
    html.push_str("</tbody></table></div></section>");
    Ok(html)
}
