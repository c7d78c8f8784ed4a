//! The inbound `webhook` config of an install, compiled once when it is installed.

use std::sync::Arc;

use patchbay_config::IntegrationConfig;
use patchbay_webhook::{CompiledWebhook, WebhookError, WebhookHandler};
use serde_json::Value;

use crate::Error;

/// What [`Patchbay::install`](crate::Patchbay::install) made of a config's `webhook`
/// key. A `webhook` config that does not compile does not fail the install (calls
/// still work); it is kept as its error, so each webhook answers it without
/// compiling again.
#[derive(Debug, Clone)]
pub(crate) enum InstalledWebhook {
    /// The config has no `webhook` key: the install accepts no webhooks.
    Absent,
    /// The compiled config.
    Ready(CompiledWebhook),
    /// The `webhook` config cannot be used.
    Broken(Arc<WebhookError>),
}

impl InstalledWebhook {
    /// Compiles `config`'s `webhook` key.
    pub(crate) fn compile(config: &IntegrationConfig) -> Self {
        match config.webhook.as_ref().map(CompiledWebhook::new) {
            None => Self::Absent,
            Some(Ok(compiled)) => Self::Ready(compiled),
            Some(Err(error)) => Self::Broken(Arc::new(error)),
        }
    }

    /// The handler of the install `install_id` for `context` (host variables, overlaid
    /// with an account's context for an account's webhook).
    ///
    /// # Errors
    /// [`Error::NoWebhook`], [`Error::InvalidWebhook`], or [`Error::Webhook`] when
    /// `signature_verification` cannot be used with `context`.
    pub(crate) fn handler(
        &self,
        install_id: &str,
        context: &Value,
    ) -> Result<WebhookHandler, Error> {
        match self {
            Self::Absent => Err(Error::NoWebhook(install_id.to_owned())),
            Self::Broken(error) => Err(Error::InvalidWebhook {
                name: install_id.to_owned(),
                source: error.clone(),
            }),
            Self::Ready(compiled) => compiled.handler(context).map_err(Error::Webhook),
        }
    }
}
