//! The `integrated_account:*` events the server queues for outbound webhooks.
//!
//! Account changes made by the routes queue their event in the same database
//! transaction as the change ([`Store::create_account`],
//! [`Store::put_account`], [`Store::update_account`],
//! [`Store::delete_account`]): a crash can never leave a change without its
//! event, nor an event for a change that was not written. [`emit`] queues an
//! event that follows a change made elsewhere (the facade's connect flow);
//! the delivery worker sends them later.

use patchbay::config::IntegratedAccount;

pub use crate::store::AccountEvent;
use crate::store::Store;

/// The payload of an account event, the same as the facade's own events
/// carry: the account without `context` (see [`AccountEvent::payload`]).
pub use patchbay::account_payload;

/// Queues `event` about `account` in `environment_id`'s outbox, for events
/// that report a change the route did not write itself. A failure is logged,
/// not returned: the change the event reports has already been made and must
/// not be answered as failed.
pub async fn emit(
    store: &Store,
    environment_id: &str,
    event: AccountEvent,
    account: &IntegratedAccount,
) {
    if let Err(e) = store
        .enqueue_event(environment_id, event.name(), &event.payload(account))
        .await
    {
        tracing::warn!(event = event.name(), account = %account.id, error = %e, "cannot queue an event");
    }
}
