//! Finding the account an install-level webhook is for: the install's oldest
//! account whose context [`matches`](AccountLookup::matches) the request's
//! `context_lookup_field_value`.

use patchbay::config::IntegratedAccount;
use patchbay::webhook::AccountLookup;

use crate::error::ApiResult;
use crate::state::AppState;
use crate::store::{AccountFilter, PageRequest};

/// Accounts read per page while routing an install-level webhook.
pub const LOOKUP_PAGE_SIZE: u32 = 500;

/// The oldest account of `install_id` that `lookup` matches, reading
/// [`LOOKUP_PAGE_SIZE`] accounts at a time.
pub(super) async fn find_account(
    state: &AppState,
    env: &str,
    install_id: &str,
    lookup: &AccountLookup,
) -> ApiResult<Option<IntegratedAccount>> {
    let filter = AccountFilter {
        environment_integration_id: Some(install_id.to_owned()),
        ..Default::default()
    };
    let mut page = PageRequest {
        limit: Some(LOOKUP_PAGE_SIZE),
        cursor: None,
    };
    loop {
        let accounts = state.store.list_accounts(env, &filter, &page).await?;
        if let Some(account) = accounts
            .result
            .into_iter()
            .find(|account| lookup.matches(&account.context))
        {
            return Ok(Some(account));
        }
        match accounts.next_cursor {
            Some(cursor) => page.cursor = Some(cursor),
            None => return Ok(None),
        }
    }
}
