//! Inbound webhooks: providers call these routes, which authenticate the call
//! with the integration's `webhook` config and queue its events for the
//! environment's outbound webhooks.
//!
//! | route | context | events |
//! |---|---|---|
//! | `POST /integrated-account-webhook/{integrated_account_id}` | host variables + the account's context | one per transformed event, for that account |
//! | `POST /environment-integration-webhook/{environment_integration_id}` | host variables only | routed to the account found by `context_lookup_field_*`, else install-level |
//!
//! Neither route takes an API token: the provider authenticates by
//! `webhook.signature_verification`, so the routes live outside the bearer
//! middleware. The id in the path names the environment.
//!
//! # Pipeline
//!
//! The pipeline itself is the facade's ([`Patchbay::account_webhook`],
//! [`Patchbay::install_webhook`]); these routes read the HTTP request, resolve
//! the environment, the install and the account from the store, call the
//! facade and turn what it says into an answer and queued events.
//!
//! 1. Read the raw body (at most [`MAX_BODY_BYTES`], else 413) and build the
//!    [`InboundRequest`](patchbay::webhook::InboundRequest) from the method,
//!    the URL the provider called (see [`request_url`]), the headers and the
//!    raw bytes, unmodified ([`ProviderRequest`]).
//! 2. Resolve the environment and the facade with the install's config
//!    compiled ([`Runtimes`](crate::runtime::Runtimes): one light query; the
//!    config is merged, validated and compiled only when the integration's
//!    `version` or the install's `updated_at` changed). Unknown ids → 404; a
//!    disabled install → 409; a merged config (integration config with the
//!    install's `override`, as proxy calls use it) without a `webhook` key →
//!    404.
//! 3. `signature_verification`, then `handle_verification`
//!    ([`WebhookHandler::authenticate`](patchbay::webhook::WebhookHandler::authenticate)):
//!    a handshake is answered with its status, headers and body and nothing
//!    is queued. A handshake that can sign (`$sign`, as Zoom's) answers
//!    verified requests only; an echo handshake (Slack, Meta, Microsoft
//!    Graph) also answers unsigned ones. A failed verification that no
//!    handshake answers → 401 whose message names the failed check
//!    (`signature mismatch: ...`, `missing header ...`, `stale timestamp:
//!    ...`) and never holds a secret or a signature.
//! 4. `payload_transform`: every event object is queued in the outbox
//!    ([`Store::enqueue_event`](crate::store::Store::enqueue_event)) as
//!    [`record_event_type`] with [`event_payload`]; answer 200
//!    `{"ok": true, "events": N}`.
//!
//! Other failures: a `webhook` config that cannot be used (unresolvable
//! secret placeholder, unsupported format, expression that does not compile)
//! → 500 naming the field (never its value); an expression that fails on this
//! request or returns the wrong shape → 422. Queueing is at least once: when
//! the store fails midway the provider gets 500 and its retry may queue the
//! earlier events again.
//!
//! # Routing install-level webhooks
//!
//! When `webhook.signature_verification.config` has both
//! `context_lookup_field_name` (a key of the account context; dots walk into
//! nested objects: `team.id`) and `context_lookup_field_value` (a JSONata
//! expression over the request, `body.team_id`, compiled with the config), the
//! facade answers a verified call with
//! [`Routed::NeedsAccount`](patchbay::webhook::Routed::NeedsAccount) and its
//! events go to the install's account whose context value equals the
//! request's ([`AccountLookup::matches`](patchbay::webhook::AccountLookup::matches):
//! strings and numbers compare by their text, `"42"` matches `42`); the oldest
//! account wins if several match. Contexts are encrypted at rest, so the lookup
//! reads the install's accounts a page at a time ([`LOOKUP_PAGE_SIZE`]) and
//! decrypts each: its cost grows with the number of accounts of the install.
//! A request without a lookup value, or with no matching account, queues
//! nothing and answers 200 `{"ok": true, "events": 0}` (logged as a warning):
//! failing would make the provider retry and eventually disable the
//! endpoint for every tenant. `payload_transform` of a routed call sees the
//! account's context as `$context`. Without the lookup fields the events are
//! queued at the install level (payload without account fields).
//!
//! # Modules
//!
//! The routes live in `account` (per account) and `install` (per install;
//! `GET` and `POST` share one pipeline in each); `request` reads the
//! provider's HTTP request, `response` turns handshakes and failures into
//! answers, `lookup` finds the account of an install-level call and `events`
//! names, shapes and queues the events.
//!
//! [`Patchbay::account_webhook`]: patchbay::Patchbay::account_webhook
//! [`Patchbay::install_webhook`]: patchbay::Patchbay::install_webhook

mod account;
mod events;
mod install;
mod lookup;
mod request;
mod response;

// utoipa's `paths(...)` in `crate::openapi` reads the `__path_*` types beside
// each handler.
pub use account::{
    __path_account_webhook, __path_account_webhook_handshake, account_webhook,
    account_webhook_handshake,
};
pub use events::{EventOwner, event_payload, record_event_type};
pub use install::{
    __path_environment_integration_webhook, __path_environment_integration_webhook_handshake,
    environment_integration_webhook, environment_integration_webhook_handshake,
};
pub use lookup::LOOKUP_PAGE_SIZE;
pub use request::{MAX_BODY_BYTES, ProviderRequest, request_url};
