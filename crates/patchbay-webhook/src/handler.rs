//! [`WebhookHandler`]: the whole inbound pipeline of one integration's `webhook` config.

use std::fmt;
use std::time::SystemTime;

use patchbay_config::webhook::WebhookConfig;
use serde_json::Value;

use crate::compiled::CompiledWebhook;
use crate::error::WebhookError;
use crate::expression::request_input;
use crate::handshake::{HandshakeKind, HandshakeResponse};
use crate::request::InboundRequest;
use crate::route::{AccountLookup, Routed};
use crate::transform::events;
use crate::verifier::Verifier;

/// What to do with an inbound request.
#[derive(Debug, Clone, PartialEq)]
pub enum Handled {
    /// Answer the provider's handshake with this response; emit no events.
    Handshake(HandshakeResponse),
    /// The request is authentic (or no verification is configured); emit these events.
    Events(Vec<Value>),
}

/// A `webhook` config compiled for one context (a [`CompiledWebhook`] with an
/// integrated account's context, or an install's host variables, and its [`Verifier`]).
///
/// Processing order ([`authenticate`](Self::authenticate), then `payload_transform`;
/// [`route`](Self::route) routes an install-level request to its account in between):
///
/// 1. `signature_verification` checks the request, when the config has one.
/// 2. `handle_verification` may answer a handshake. A verified request may get any
///    handshake. An unverified request (verification failed) may only get an **echo**
///    handshake, one whose expression cannot compute a signature (see
///    [`HandshakeKind`]): providers send some handshakes unsigned (Meta's `GET`
///    `hub.challenge`, Microsoft Graph's `validationToken`) and echoing what the
///    caller sent proves nothing and signs nothing. A **signing** handshake (one that
///    calls `$sign`, `$digest` or `$eval`, as Zoom's `endpoint.url_validation` does)
///    answers verified requests only: answered for anyone, it would be an HMAC
///    signing oracle for forged events made with the same secret. When verification
///    fails and no handshake answers, the verification error is returned.
/// 3. `payload_transform` turns a verified request into events.
///
/// A config whose `handle_verification` signs but that has no
/// `signature_verification` is refused by [`new`](Self::new)
/// ([`WebhookError::UnverifiedSigningHandshake`]).
///
/// ```
/// use patchbay_config::webhook::WebhookConfig;
/// use patchbay_webhook::{InboundRequest, Handled, WebhookHandler};
/// use serde_json::json;
/// use std::time::SystemTime;
///
/// let config: WebhookConfig = serde_json::from_value(json!({
///     "handle_verification": "body.type = 'url_verification' ? {'statusCode': 200, 'body': {'challenge': body.challenge}}",
///     "payload_transform": "body.event"
/// }))?;
/// let handler = WebhookHandler::new(&config, &json!({}))?;
/// let request = InboundRequest::new("POST", "https://example.com/hook")
///     .with_header("content-type", "application/json")
///     .with_body(br#"{"type":"url_verification","challenge":"abc"}"#.to_vec());
/// match handler.handle(&request, SystemTime::now())? {
///     Handled::Handshake(response) => assert_eq!(response.body, json!({"challenge": "abc"})),
///     Handled::Events(_) => unreachable!(),
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct WebhookHandler {
    compiled: CompiledWebhook,
    verifier: Option<Verifier>,
    context: Value,
}

/// Shows the compiled config and the context's keys, never a secret.
impl fmt::Debug for WebhookHandler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<&str> = self
            .context
            .as_object()
            .map(|object| object.keys().map(String::as_str).collect())
            .unwrap_or_default();
        f.debug_struct("WebhookHandler")
            .field("compiled", &self.compiled)
            .field("verifier", &self.verifier)
            .field("context_keys", &keys)
            .finish()
    }
}

impl WebhookHandler {
    /// Compiles `config` for the account whose context is `context`; the same as
    /// [`CompiledWebhook::new`] then [`CompiledWebhook::handler`].
    ///
    /// # Errors
    /// [`WebhookError::Config`] for an unusable `signature_verification`,
    /// [`WebhookError::Expression`] when a JSONata field does not compile,
    /// [`WebhookError::UnverifiedSigningHandshake`] when `handle_verification` can
    /// sign but there is no `signature_verification` to check requests first.
    pub fn new(config: &WebhookConfig, context: &Value) -> Result<Self, WebhookError> {
        CompiledWebhook::new(config)?.handler(context)
    }

    pub(crate) fn from_parts(
        compiled: CompiledWebhook,
        verifier: Option<Verifier>,
        context: Value,
    ) -> Self {
        Self {
            compiled,
            verifier,
            context,
        }
    }

    /// Replaces the verifier's body size limit.
    pub fn with_max_body_bytes(mut self, limit: usize) -> Self {
        self.verifier = self.verifier.map(|v| v.with_max_body_bytes(limit));
        self
    }

    /// Runs the pipeline on `request` as of `now`: [`authenticate`](Self::authenticate),
    /// then `payload_transform`.
    ///
    /// # Errors
    /// [`WebhookError::Verification`] when the request is not authentic,
    /// [`WebhookError::Expression`] when an expression fails to evaluate, and
    /// [`WebhookError::InvalidHandshake`]/[`WebhookError::InvalidEvents`] when an
    /// expression returns the wrong shape.
    pub fn handle(
        &self,
        request: &InboundRequest,
        now: SystemTime,
    ) -> Result<Handled, WebhookError> {
        let input = request_input(request);
        match self.authenticate_with_input(request, &input, now)? {
            Some(response) => Ok(Handled::Handshake(response)),
            None => self.events_with_input(&input).map(Handled::Events),
        }
    }

    /// Verifies `request` and evaluates `handle_verification` in the order the type
    /// docs describe: `Some` is a handshake to answer, `None` means the request is
    /// authentic (or no verification is configured) and its events may be read with
    /// [`transform_payload`](Self::transform_payload).
    ///
    /// # Errors
    /// As [`handle`](Self::handle), for these steps.
    pub fn authenticate(
        &self,
        request: &InboundRequest,
        now: SystemTime,
    ) -> Result<Option<HandshakeResponse>, WebhookError> {
        self.authenticate_with_input(request, &request_input(request), now)
    }

    /// Runs the pipeline of an **install-level** webhook (one URL for every account of
    /// an install) on `request` as of `now`: [`authenticate`](Self::authenticate), then
    /// routing by `context_lookup_field_name` / `context_lookup_field_value` (from
    /// `signature_verification.config`, compiled with the config).
    ///
    /// Without those fields the events belong to the install ([`Routed::Events`], as
    /// [`handle`](Self::handle) gives them). With them, `context_lookup_field_value` is
    /// evaluated over the request (`$context` = this handler's context) and the request
    /// waits for its account ([`Routed::NeedsAccount`]), or belongs to none when the
    /// expression yields nothing or `null` ([`Routed::NoLookupValue`]).
    ///
    /// ```
    /// use patchbay_config::webhook::WebhookConfig;
    /// use patchbay_webhook::{InboundRequest, Routed, WebhookHandler};
    /// use serde_json::json;
    /// use std::time::SystemTime;
    ///
    /// let config: WebhookConfig = serde_json::from_value(json!({
    ///     "signature_verification": {"format": "basic", "config": {
    ///         "username": "hook", "password": "{{hook_password}}",
    ///         "context_lookup_field_name": "team.id",
    ///         "context_lookup_field_value": "body.team_id"}},
    ///     "payload_transform": "{'event': 'created', 'team': $context.team.name}"
    /// }))?;
    /// let handler = WebhookHandler::new(&config, &json!({"hook_password": "pw"}))?;
    /// let request = InboundRequest::new("POST", "https://example.com/hook")
    ///     .with_header("authorization", "Basic aG9vazpwdw==") // hook:pw
    ///     .with_header("content-type", "application/json")
    ///     .with_body(br#"{"team_id": 42}"#.to_vec());
    /// let Routed::NeedsAccount(lookup) = handler.route(&request, SystemTime::now())? else {
    ///     unreachable!()
    /// };
    /// let account = json!({"team": {"id": "42", "name": "Blue"}});
    /// assert!(lookup.matches(account.as_object().unwrap()));
    /// let events = lookup.transform_for(account.as_object().unwrap())?;
    /// assert_eq!(events, vec![json!({"event": "created", "team": "Blue"})]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`handle`](Self::handle); [`WebhookError::Expression`] also when
    /// `context_lookup_field_value` fails to evaluate.
    pub fn route(&self, request: &InboundRequest, now: SystemTime) -> Result<Routed, WebhookError> {
        let input = request_input(request);
        if let Some(response) = self.authenticate_with_input(request, &input, now)? {
            return Ok(Routed::Handshake(response));
        }
        let Some(lookup) = self.compiled.lookup() else {
            return self.events_with_input(&input).map(Routed::Events);
        };
        Ok(match lookup.value(&input, &self.context)? {
            None => Routed::NoLookupValue,
            Some(value) => Routed::NeedsAccount(AccountLookup::new(
                lookup,
                value,
                input,
                self.context.clone(),
                self.compiled.payload_transform().cloned(),
            )),
        })
    }

    /// Whether `handle_verification` answers unverified requests (see [`HandshakeKind`]).
    pub fn handshake_kind(&self) -> HandshakeKind {
        self.compiled.handshake_kind()
    }

    /// Evaluates only `payload_transform` on an already verified request. Without a
    /// transform, the parsed body is the single event.
    ///
    /// # Errors
    /// As [`handle`](Self::handle), for this step.
    pub fn transform_payload(&self, request: &InboundRequest) -> Result<Vec<Value>, WebhookError> {
        self.events_with_input(&request_input(request))
    }

    fn authenticate_with_input(
        &self,
        request: &InboundRequest,
        input: &Value,
        now: SystemTime,
    ) -> Result<Option<HandshakeResponse>, WebhookError> {
        let Some(verifier) = &self.verifier else {
            return self.handshake_with_input(input);
        };
        match verifier.verify(request, now) {
            Ok(()) => self.handshake_with_input(input),
            Err(failure) => match self.compiled.handshake_kind() {
                HandshakeKind::Signing => Err(failure.into()),
                HandshakeKind::Echo => self
                    .handshake_with_input(input)?
                    .map(Some)
                    .ok_or_else(|| failure.into()),
            },
        }
    }

    fn handshake_with_input(
        &self,
        input: &Value,
    ) -> Result<Option<HandshakeResponse>, WebhookError> {
        let Some(expression) = self.compiled.handle_verification() else {
            return Ok(None);
        };
        let result = expression
            .evaluate(input, &self.context)
            .map_err(|source| WebhookError::Expression {
                field: "handle_verification",
                source,
            })?;
        match result {
            None => Ok(None),
            Some(value) => HandshakeResponse::from_value(value),
        }
    }

    fn events_with_input(&self, input: &Value) -> Result<Vec<Value>, WebhookError> {
        events(self.compiled.payload_transform(), input, &self.context)
    }
}
