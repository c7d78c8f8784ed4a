//! Per-provider configuration given to the builder.

use std::time::Duration;

use super::{Account, Credentials, Provider};

/// How one simulated provider behaves: dataset size, page size, credentials, token policy.
#[derive(Debug, Clone)]
pub struct ProviderSetup {
    pub(crate) provider: Provider,
    pub(crate) records: Option<u64>,
    pub(crate) page_size: Option<u64>,
    pub(crate) credentials: Credentials,
    pub(crate) token_lifetime: Option<Duration>,
    pub(crate) rotate_refresh_tokens: bool,
    pub(crate) accounts: Vec<Account>,
}

impl ProviderSetup {
    /// The provider's defaults: [`Credentials::default_for`], its real default page size,
    /// refresh-token rotation for Slack and Jira, and these access-token lifetimes:
    /// HubSpot 30 min, Jira/Microsoft Graph 1 h, Slack 12 h, Keka 24 h, Salesforce 2 h
    /// (enforced but not advertised: its token response has no `expires_in`),
    /// GitHub/Shopify/Notion never.
    pub fn new(provider: Provider) -> Self {
        ProviderSetup {
            provider,
            records: None,
            page_size: None,
            credentials: Credentials::default_for(provider),
            token_lifetime: default_lifetime(provider),
            rotate_refresh_tokens: provider.rotates_refresh_tokens(),
            accounts: Vec::new(),
        }
    }

    /// Size of every list dataset of this provider (records `1..=n`).
    pub fn records(mut self, n: u64) -> Self {
        self.records = Some(n);
        self
    }

    /// Page size used when a list request does not name one (requests may still ask for
    /// up to the provider's real maximum).
    pub fn page_size(mut self, n: u64) -> Self {
        self.page_size = Some(n.max(1));
        self
    }

    /// Accepted credentials.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = credentials;
        self
    }

    /// Lifetime of issued access tokens (`None` = never expire, no `expires_in`).
    pub fn token_lifetime(mut self, lifetime: Option<Duration>) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    /// Whether a refresh grant replaces the refresh token (the old one then gets `invalid_grant`).
    pub fn rotate_refresh_tokens(mut self, rotate: bool) -> Self {
        self.rotate_refresh_tokens = rotate;
        self
    }

    /// Pre-loads a connected account (access and/or refresh token).
    pub fn account(mut self, account: Account) -> Self {
        self.accounts.push(account);
        self
    }
}

fn default_lifetime(provider: Provider) -> Option<Duration> {
    let secs = match provider {
        Provider::Hubspot => 1800,
        Provider::Jira => 3600,
        Provider::MicrosoftGraph => 3599,
        Provider::Slack => 43_200,
        Provider::Keka => 86_400,
        Provider::Salesforce => 7200,
        Provider::Github
        | Provider::Shopify
        | Provider::Notion
        | Provider::Stripe
        | Provider::Zendesk => {
            return None;
        }
    };
    Some(Duration::from_secs(secs))
}
