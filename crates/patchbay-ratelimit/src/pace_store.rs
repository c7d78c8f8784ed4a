//! [`PaceStore`]: pacing slots counted where several processes share them.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::pace_config::PaceConfig;

/// What [`PaceStore::try_take`] answers.
pub type PaceFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Duration, PaceStoreUnavailable>> + Send + 'a>>;

/// Pacing slots kept outside the process, so that every process using the same
/// store paces a key together: the limit holds for all of them at once, not for
/// each. A [`Pacer`](crate::Pacer) given a store
/// ([`Pacer::with_store`](crate::Pacer::with_store)) asks it for every slot and
/// paces in-process only when the store is unavailable.
///
/// The algorithm is the in-process pacer's (GCRA): `config.burst` requests may
/// go back to back, then one per [`PaceConfig::interval`].
///
/// `RedisPaceStore` (feature `redis`) is the one this
/// crate ships; a host may implement it over something else it shares.
pub trait PaceStore: Send + Sync + fmt::Debug {
    /// Takes a slot of `key` paced by `config` when one is free now, answering
    /// `Duration::ZERO`; otherwise takes nothing and answers how long until the
    /// next slot is free (the caller waits that long and asks again).
    ///
    /// Must answer promptly: a store that cannot answer within a short bound
    /// answers [`PaceStoreUnavailable`], and that acquire is paced in-process.
    /// Reporting an outage (logs, counters) is the store's job; the pacer
    /// only falls back.
    fn try_take<'a>(&'a self, key: &'a str, config: &'a PaceConfig) -> PaceFuture<'a>;
}

/// The store could not answer (unreachable, timed out, refused the command):
/// pace this acquire in-process.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the pacing store is unavailable: {reason}")]
pub struct PaceStoreUnavailable {
    reason: String,
}

impl PaceStoreUnavailable {
    /// An outage for `reason` (which must not hold secrets such as a URL's password).
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }

    /// Why the store was unavailable.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}
