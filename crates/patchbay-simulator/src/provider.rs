//! The providers the simulator can impersonate, their URL prefixes and OAuth endpoints.

use std::fmt;
use std::str::FromStr;

use super::error::SimulatorError;

/// A third-party API the simulator can impersonate.
///
/// Every provider is served under its own path prefix, `/{slug}` (see [`Provider::slug`]),
/// so one simulator can stand in for all of them at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Provider {
    /// GitHub REST API (`Link` header pagination).
    Github,
    /// Salesforce REST API (SOQL query with `nextRecordsUrl`).
    Salesforce,
    /// HubSpot CRM v3 (`after` cursor).
    Hubspot,
    /// Stripe (`starting_after` cursor).
    Stripe,
    /// Zendesk Support (`page[after]` cursor, Basic API-token auth).
    Zendesk,
    /// Slack Web API (`cursor`, HTTP 200 errors).
    Slack,
    /// Jira Cloud via api.atlassian.com (`startAt` offset).
    Jira,
    /// Shopify Admin REST (`page_info` in `Link` header, `X-Shopify-Access-Token`).
    Shopify,
    /// Notion (`POST /v1/search` with body cursor).
    Notion,
    /// Microsoft Graph (`@odata.nextLink`).
    MicrosoftGraph,
    /// Keka HR (`pageNumber`/`pageSize`, custom `kekaapi` grant).
    Keka,
}

/// Where a provider's OAuth endpoints live, relative to its prefix.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OAuthPaths {
    /// Token endpoint (axum route syntax, relative to the provider prefix).
    pub token: &'static str,
    /// Authorize endpoint, if the provider has an authorization-code flow.
    pub authorize: Option<&'static str>,
}

impl Provider {
    /// Every provider, in a stable order.
    pub const ALL: [Provider; 11] = [
        Provider::Github,
        Provider::Salesforce,
        Provider::Hubspot,
        Provider::Stripe,
        Provider::Zendesk,
        Provider::Slack,
        Provider::Jira,
        Provider::Shopify,
        Provider::Notion,
        Provider::MicrosoftGraph,
        Provider::Keka,
    ];

    /// The path prefix segment and catalog file stem, e.g. `microsoft-graph`.
    pub fn slug(self) -> &'static str {
        match self {
            Provider::Github => "github",
            Provider::Salesforce => "salesforce",
            Provider::Hubspot => "hubspot",
            Provider::Stripe => "stripe",
            Provider::Zendesk => "zendesk",
            Provider::Slack => "slack",
            Provider::Jira => "jira",
            Provider::Shopify => "shopify",
            Provider::Notion => "notion",
            Provider::MicrosoftGraph => "microsoft-graph",
            Provider::Keka => "keka",
        }
    }

    /// Path (below the provider prefix) that plays the catalog config's `base_url`.
    ///
    /// `provider_url(p) + api_root()` is the value to put in the config's `base_url`
    /// (or `instance_url` for Salesforce). Jira's contains the `{{cloud_id}}` placeholder.
    pub fn api_root(self) -> &'static str {
        match self {
            Provider::Github | Provider::Salesforce | Provider::Hubspot => "",
            Provider::Stripe => "/v1",
            Provider::Zendesk => "/api/v2",
            Provider::Slack => "/api",
            Provider::Jira => "/ex/jira/{{cloud_id}}",
            Provider::Shopify => "/admin/api/2024-01",
            Provider::Notion => "/v1",
            Provider::MicrosoftGraph => "/v1.0",
            Provider::Keka => "/api/v1",
        }
    }

    /// OAuth endpoints, relative to the provider prefix (the config's `tokenHost`).
    /// `None` for providers whose catalog config only uses API keys.
    pub(crate) fn oauth_paths(self) -> Option<OAuthPaths> {
        let (token, authorize) = match self {
            Provider::Github => ("/login/oauth/access_token", Some("/login/oauth/authorize")),
            Provider::Salesforce => ("/services/oauth2/token", Some("/services/oauth2/authorize")),
            Provider::Hubspot => ("/oauth/v1/token", Some("/oauth/authorize")),
            Provider::Slack => ("/api/oauth.v2.access", Some("/oauth/v2/authorize")),
            Provider::Jira => ("/oauth/token", Some("/authorize")),
            Provider::Shopify => ("/admin/oauth/access_token", Some("/admin/oauth/authorize")),
            Provider::Notion => ("/v1/oauth/token", Some("/v1/oauth/authorize")),
            Provider::MicrosoftGraph => (
                "/{tenant}/oauth2/v2.0/token",
                Some("/{tenant}/oauth2/v2.0/authorize"),
            ),
            Provider::Keka => ("/connect/token", None),
            Provider::Stripe | Provider::Zendesk => return None,
        };
        Some(OAuthPaths { token, authorize })
    }

    /// Whether a refresh grant rotates the refresh token by default (Slack, Jira).
    pub(crate) fn rotates_refresh_tokens(self) -> bool {
        matches!(self, Provider::Slack | Provider::Jira)
    }

    /// Default page size when a list request names none.
    pub(crate) fn default_page_size(self) -> u64 {
        match self {
            Provider::Github => 30,
            Provider::Salesforce => 2000,
            Provider::Hubspot | Provider::Stripe => 10,
            Provider::Jira | Provider::Shopify => 50,
            Provider::Zendesk
            | Provider::Slack
            | Provider::Notion
            | Provider::MicrosoftGraph
            | Provider::Keka => 100,
        }
    }

    /// Largest page size the provider accepts.
    pub(crate) fn max_page_size(self) -> u64 {
        match self {
            Provider::Github | Provider::Hubspot | Provider::Stripe => 100,
            Provider::Zendesk | Provider::Jira | Provider::Notion => 100,
            Provider::Salesforce => 2000,
            Provider::Slack => 1000,
            Provider::Shopify => 250,
            Provider::MicrosoftGraph => 999,
            Provider::Keka => 200,
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.slug())
    }
}

impl FromStr for Provider {
    type Err = SimulatorError;

    /// Parses a slug (`"github"`, `"microsoft-graph"`, ...).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Provider::ALL
            .into_iter()
            .find(|p| p.slug().eq_ignore_ascii_case(s))
            .ok_or_else(|| SimulatorError::UnknownProvider(s.to_owned()))
    }
}

impl AsRef<str> for Provider {
    fn as_ref(&self) -> &str {
        self.slug()
    }
}
