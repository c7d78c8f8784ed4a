//! [`CompiledWebhook`]: the account-independent part of a `webhook` config, compiled once.

use std::fmt;
use std::sync::Arc;

use patchbay_config::webhook::{SignatureVerification, WebhookConfig};
use serde_json::Value;

use crate::error::WebhookError;
use crate::expression::WebhookExpression;
use crate::handler::WebhookHandler;
use crate::handshake::HandshakeKind;
use crate::route::ContextLookup;
use crate::verifier::Verifier;

/// A `webhook` config compiled once for every account of an integration: the JSONata
/// fields are compiled and the handshake's [`HandshakeKind`] is decided.
///
/// Compiling is the costly part of a handler; [`handler`](Self::handler) then only
/// resolves the `signature_verification` secrets against one account's context. Keep
/// one per config and build a handler per request or account. Cheap to clone.
///
/// ```
/// use patchbay_config::webhook::WebhookConfig;
/// use patchbay_webhook::CompiledWebhook;
/// use serde_json::json;
///
/// let config: WebhookConfig = serde_json::from_value(json!({
///     "signature_verification": {"format": "hmac", "config": {
///         "secret": "{{webhook_secret}}", "parts": ["$body"],
///         "compare_with": "$header.x-signature"}},
///     "payload_transform": "body.events"
/// }))?;
/// let compiled = CompiledWebhook::new(&config)?;
/// let handler = compiled.handler(&json!({"webhook_secret": "s3cret"}))?;
/// assert!(!format!("{handler:?}").contains("s3cret"));
/// // The secret comes from the context: without it the handler cannot be built.
/// assert!(compiled.handler(&json!({})).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct CompiledWebhook {
    signature_verification: Option<Arc<SignatureVerification>>,
    handle_verification: Option<WebhookExpression>,
    handshake_kind: HandshakeKind,
    payload_transform: Option<WebhookExpression>,
    lookup: Option<ContextLookup>,
    max_body_bytes: Option<usize>,
}

/// Shows which parts are present, never the `signature_verification` config (it may
/// hold a literal secret).
impl fmt::Debug for CompiledWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompiledWebhook")
            .field(
                "signature_verification",
                &self.signature_verification.is_some(),
            )
            .field("handle_verification", &self.handle_verification)
            .field("handshake_kind", &self.handshake_kind)
            .field("payload_transform", &self.payload_transform)
            .field("lookup", &self.lookup)
            .field("max_body_bytes", &self.max_body_bytes)
            .finish()
    }
}

impl CompiledWebhook {
    /// Compiles `config`'s JSONata fields: `handle_verification`, `payload_transform`
    /// and the `context_lookup_field_value` of `signature_verification.config` (used
    /// by [`WebhookHandler::route`] when `context_lookup_field_name` is set too).
    ///
    /// # Errors
    /// [`WebhookError::Expression`] when a JSONata field does not compile,
    /// [`WebhookError::UnverifiedSigningHandshake`] when `handle_verification` can
    /// sign but there is no `signature_verification` to check requests first.
    pub fn new(config: &WebhookConfig) -> Result<Self, WebhookError> {
        let compile = |field: &'static str, source: &Option<String>| {
            source
                .as_deref()
                .map(WebhookExpression::compile)
                .transpose()
                .map_err(|source| WebhookError::Expression { field, source })
        };
        let handshake_kind = config
            .handle_verification
            .as_deref()
            .map_or(HandshakeKind::Echo, HandshakeKind::of);
        if handshake_kind == HandshakeKind::Signing && config.signature_verification.is_none() {
            return Err(WebhookError::UnverifiedSigningHandshake);
        }
        Ok(Self {
            signature_verification: config.signature_verification.clone().map(Arc::new),
            handle_verification: compile("handle_verification", &config.handle_verification)?,
            handshake_kind,
            payload_transform: compile("payload_transform", &config.payload_transform)?,
            lookup: config
                .signature_verification
                .as_ref()
                .map(ContextLookup::of)
                .transpose()?
                .flatten(),
            max_body_bytes: None,
        })
    }

    /// Sets the body size limit of every handler built from now on (default
    /// [`DEFAULT_MAX_BODY_BYTES`](crate::DEFAULT_MAX_BODY_BYTES)).
    pub fn with_max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = Some(limit);
        self
    }

    /// The handler for the account whose context is `context`.
    ///
    /// # Errors
    /// [`WebhookError::Config`] when `signature_verification` cannot be used with this
    /// context (e.g. a secret placeholder does not resolve).
    pub fn handler(&self, context: &Value) -> Result<WebhookHandler, WebhookError> {
        let verifier = self
            .signature_verification
            .as_deref()
            .map(|sv| Verifier::from_config(sv, context))
            .transpose()?
            .map(|verifier| match self.max_body_bytes {
                Some(limit) => verifier.with_max_body_bytes(limit),
                None => verifier,
            });
        Ok(WebhookHandler::from_parts(
            self.clone(),
            verifier,
            context.clone(),
        ))
    }

    /// Whether `handle_verification` answers unverified requests.
    pub fn handshake_kind(&self) -> HandshakeKind {
        self.handshake_kind
    }

    /// Whether the config has a `signature_verification`.
    pub fn verifies(&self) -> bool {
        self.signature_verification.is_some()
    }

    pub(crate) fn handle_verification(&self) -> Option<&WebhookExpression> {
        self.handle_verification.as_ref()
    }

    pub(crate) fn payload_transform(&self) -> Option<&WebhookExpression> {
        self.payload_transform.as_ref()
    }

    pub(crate) fn lookup(&self) -> Option<&ContextLookup> {
        self.lookup.as_ref()
    }

    /// Whether install-level requests are routed to an account by
    /// `context_lookup_field_name` / `context_lookup_field_value`.
    pub fn routes_to_accounts(&self) -> bool {
        self.lookup.is_some()
    }
}
