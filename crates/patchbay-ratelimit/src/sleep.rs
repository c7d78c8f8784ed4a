//! Cancellable waits.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::error::Cancelled;

/// Sleeps for `duration` (tokio time, so paused-clock tests work) unless
/// `cancel` fires first.
///
/// # Errors
/// [`Cancelled`] as soon as the token is (or already was) cancelled.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::time::Duration;
/// use tokio_util::sync::CancellationToken;
/// use patchbay_ratelimit::sleep_cancellable;
///
/// let token = CancellationToken::new();
/// token.cancel();
/// assert!(sleep_cancellable(Duration::from_secs(3600), &token).await.is_err());
/// # }
/// ```
pub async fn sleep_cancellable(
    duration: Duration,
    cancel: &CancellationToken,
) -> Result<(), Cancelled> {
    if cancel.is_cancelled() {
        return Err(Cancelled);
    }
    tokio::select! {
        biased;
        () = cancel.cancelled() => Err(Cancelled),
        () = tokio::time::sleep(duration) => Ok(()),
    }
}
