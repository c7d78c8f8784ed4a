//! A per-account cap on requests in flight.
//!
//! One account's calls share one [`Semaphore`]; a request holds a permit
//! from its first attempt to its last retry. A caller (or a config that
//! fans out, or a loop through a misconfigured `base_url`) can therefore
//! keep at most `limit` requests of one account open at once; the next
//! waits, up to a bound, for a permit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Past this many tracked accounts, idle ones are forgotten on the next
/// acquire, so the map stays as small as the set of busy accounts.
const PRUNE_ABOVE: usize = 1024;

/// The default number of requests one account may have in flight.
pub const DEFAULT_MAX_IN_FLIGHT_PER_ACCOUNT: usize = 32;

/// Why no permit was granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Saturated {
    /// The cap.
    pub(crate) limit: usize,
    /// How long the request waited.
    pub(crate) waited: Duration,
}

/// The per-account semaphores.
#[derive(Debug)]
pub(crate) struct InFlight {
    limit: usize,
    accounts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl InFlight {
    /// At most `limit` (at least 1) requests per account.
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            limit: limit.max(1),
            accounts: Mutex::new(HashMap::new()),
        }
    }

    /// A permit for one request of `account`, waiting at most `wait`.
    pub(crate) async fn acquire(
        &self,
        account: &str,
        wait: Duration,
    ) -> Result<OwnedSemaphorePermit, Saturated> {
        let semaphore = self.semaphore(account);
        match tokio::time::timeout(wait, semaphore.acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            // The semaphore is never closed; a timeout is the only failure.
            _ => Err(Saturated {
                limit: self.limit,
                waited: wait,
            }),
        }
    }

    fn semaphore(&self, account: &str) -> Arc<Semaphore> {
        let mut accounts = self.accounts.lock().unwrap_or_else(|e| e.into_inner());
        if accounts.len() > PRUNE_ABOVE {
            let limit = self.limit;
            // Only this map holds an idle account's semaphore.
            accounts.retain(|_, s| Arc::strong_count(s) > 1 || s.available_permits() < limit);
        }
        accounts
            .entry(account.to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(self.limit)))
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_cap_holds_per_account_and_frees_on_drop() {
        let in_flight = InFlight::new(2);
        let wait = Duration::from_millis(20);
        let a1 = in_flight.acquire("a", wait).await.expect("first");
        let _a2 = in_flight.acquire("a", wait).await.expect("second");
        let refused = in_flight.acquire("a", wait).await.unwrap_err();
        assert_eq!(refused.limit, 2);
        let _b = in_flight.acquire("b", wait).await.expect("another account");
        drop(a1);
        let _a3 = in_flight
            .acquire("a", wait)
            .await
            .expect("a permit came back");
    }

    #[tokio::test]
    async fn idle_accounts_are_forgotten() {
        let in_flight = InFlight::new(1);
        for n in 0..=PRUNE_ABOVE + 1 {
            drop(
                in_flight
                    .acquire(&n.to_string(), Duration::from_millis(5))
                    .await,
            );
        }
        let busy = in_flight.acquire("busy", Duration::from_millis(5)).await;
        assert!(busy.is_ok());
        assert!(in_flight.accounts.lock().unwrap().len() < 10);
    }
}
