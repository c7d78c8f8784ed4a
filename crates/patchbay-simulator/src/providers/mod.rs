//! One module per simulated provider: its routes, record shapes and pagination.

// Request-parsing helpers return the provider's error answer (`Result<_, Response>`) for
// the handler to send as is: that is the error path of every handler, so boxing it only
// adds an allocation.
#![allow(clippy::result_large_err)]

mod github;
mod hubspot;
mod jira;
mod keka;
mod microsoft_graph;
mod notion;
mod salesforce;
mod shopify;
mod slack;
mod stripe;
mod zendesk;

use super::Provider;
use super::routes::Routes;

/// Registers `provider`'s API routes.
pub(crate) fn routes(provider: Provider, r: Routes) -> Routes {
    match provider {
        Provider::Github => github::routes(r),
        Provider::Salesforce => salesforce::routes(r),
        Provider::Hubspot => hubspot::routes(r),
        Provider::Stripe => stripe::routes(r),
        Provider::Zendesk => zendesk::routes(r),
        Provider::Slack => slack::routes(r),
        Provider::Jira => jira::routes(r),
        Provider::Shopify => shopify::routes(r),
        Provider::Notion => notion::routes(r),
        Provider::MicrosoftGraph => microsoft_graph::routes(r),
        Provider::Keka => keka::routes(r),
    }
}
