//! OAuth2, client credentials, API key and Keka auth for Patchbay integrations.
//!
//! Reads the `credentials` and `authorization` sections of Truto-format
//! integration configs (see `patchbay-config`) and does what they describe:
//!
//! * [`OAuth2Flow`]: the authorize URL (state, PKCE S256, scopes, extra
//!   params) and every grant through one templated token POST: authorization
//!   code, refresh, client credentials and Keka's `kekaapi` grant, with the
//!   client credentials in a Basic header or the body and a form or JSON body.
//! * [`TokenSet`]: any token response (numeric-string `expires_in`, extra
//!   fields such as Salesforce's `instance_url`) and its place in the account
//!   context (`oauth.token`, `oauth.scope`).
//! * [`TokenManager`]: refresh before expiry and once after a 401, one refresh
//!   per account at a time, new tokens saved through the host's
//!   [`CredentialStore`] before use, rejections reported to [`AuthEvents`] so
//!   the host marks the account `needs_reauth` and emits
//!   `integrated_account:authentication_error`. Stores shared by several
//!   processes add a refresh lock ([`CredentialStore::lock_refresh`]) so a
//!   refresh happens once across them.
//! * [`Authorizer`]: the headers of `bearer`, `basic` and `header`
//!   (name/value or JSONata expression) authorization, marked sensitive.
//!
//! Secrets never appear in `Debug` output or error messages.
//!
//! The guide `docs/guides/authentication.md` describes the formats and the
//! refresh behaviour with config examples.
#![warn(missing_docs, unreachable_pub)]

mod authorize;
mod context;
mod error;
mod manager;
mod oauth2;
mod pkce;
pub mod telemetry;
mod token;

pub use authorize::{Authorizer, DEFAULT_BEARER_TOKEN, RequestView};
pub use context::placeholder_data;
pub use error::{AuthError, StoreError};
pub use manager::{
    AccountAuth, AuthEvents, Authenticated, CredentialStore, DEFAULT_REFRESH_SKEW, RefreshGuard,
    RefreshLock, TokenManager,
};
pub use oauth2::{
    AuthorizeParams, AuthorizeRequest, DEFAULT_TOKEN_TIMEOUT, GrantKind, OAuth2Flow, TokenTypeHint,
    no_redirect_client,
};
pub use pkce::pkce_challenge;
pub use token::TokenSet;
