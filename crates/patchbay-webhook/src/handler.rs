//! [`WebhookHandler`]: the whole inbound pipeline of one integration's `webhook` config.

use std::time::SystemTime;

use patchbay_config::webhook::WebhookConfig;
use serde_json::Value;

use crate::error::WebhookError;
use crate::expression::{WebhookExpression, request_input};
use crate::handshake::HandshakeResponse;
use crate::request::InboundRequest;
use crate::verifier::Verifier;

/// What to do with an inbound request.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Answer the provider's handshake with this response; emit no events.
    Handshake(HandshakeResponse),
    /// The request is authentic (or no verification is configured); emit these events.
    Events(Vec<Value>),
}

/// A `webhook` config compiled for one integrated account.
///
/// Processing order, as in Truto: `handle_verification` (may answer a handshake, which
/// some providers send unsigned, e.g. Meta's GET and Microsoft Graph's validation),
/// then `signature_verification`, then `payload_transform`.
///
/// ```
/// use patchbay_config::webhook::WebhookConfig;
/// use patchbay_webhook::{InboundRequest, Outcome, WebhookHandler};
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
///     Outcome::Handshake(response) => assert_eq!(response.body, json!({"challenge": "abc"})),
///     Outcome::Events(_) => unreachable!(),
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct WebhookHandler {
    verifier: Option<Verifier>,
    handle_verification: Option<WebhookExpression>,
    payload_transform: Option<WebhookExpression>,
    context: Value,
}

impl WebhookHandler {
    /// Compiles `config` for the account whose context is `context`.
    ///
    /// # Errors
    /// [`WebhookError::Config`] for an unusable `signature_verification`,
    /// [`WebhookError::Expression`] when a JSONata field does not compile.
    pub fn new(config: &WebhookConfig, context: &Value) -> Result<Self, WebhookError> {
        let compile = |field: &'static str, source: &Option<String>| {
            source
                .as_deref()
                .map(WebhookExpression::compile)
                .transpose()
                .map_err(|source| WebhookError::Expression { field, source })
        };
        Ok(Self {
            verifier: config
                .signature_verification
                .as_ref()
                .map(|sv| Verifier::from_config(sv, context))
                .transpose()?,
            handle_verification: compile("handle_verification", &config.handle_verification)?,
            payload_transform: compile("payload_transform", &config.payload_transform)?,
            context: context.clone(),
        })
    }

    /// Replaces the verifier's body size limit.
    pub fn with_max_body_bytes(mut self, limit: usize) -> Self {
        self.verifier = self.verifier.map(|v| v.with_max_body_bytes(limit));
        self
    }

    /// Runs the pipeline on `request` as of `now`.
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
    ) -> Result<Outcome, WebhookError> {
        let input = request_input(request);
        if let Some(response) = self.handshake_with_input(&input)? {
            return Ok(Outcome::Handshake(response));
        }
        if let Some(verifier) = &self.verifier {
            verifier.verify(request, now)?;
        }
        self.events_with_input(&input).map(Outcome::Events)
    }

    /// Evaluates only `handle_verification`: `Some` when the request is a handshake.
    ///
    /// # Errors
    /// As [`handle`](Self::handle), for this step.
    pub fn handle_verification(
        &self,
        request: &InboundRequest,
    ) -> Result<Option<HandshakeResponse>, WebhookError> {
        self.handshake_with_input(&request_input(request))
    }

    /// Evaluates only `payload_transform` on an already verified request. Without a
    /// transform, the parsed body is the single event.
    ///
    /// # Errors
    /// As [`handle`](Self::handle), for this step.
    pub fn transform_payload(&self, request: &InboundRequest) -> Result<Vec<Value>, WebhookError> {
        self.events_with_input(&request_input(request))
    }

    fn handshake_with_input(
        &self,
        input: &Value,
    ) -> Result<Option<HandshakeResponse>, WebhookError> {
        let Some(expression) = &self.handle_verification else {
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
        let Some(expression) = &self.payload_transform else {
            let body = input.get("body").cloned().unwrap_or(Value::Null);
            return Ok(if body.is_null() {
                Vec::new()
            } else {
                vec![body]
            });
        };
        let result = expression
            .evaluate(input, &self.context)
            .map_err(|source| WebhookError::Expression {
                field: "payload_transform",
                source,
            })?;
        match result {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => {
                if items.iter().all(Value::is_object) {
                    Ok(items)
                } else {
                    Err(WebhookError::InvalidEvents {
                        reason: "every event must be an object",
                    })
                }
            }
            Some(object @ Value::Object(_)) => Ok(vec![object]),
            Some(_) => Err(WebhookError::InvalidEvents {
                reason: "expected an object or an array of objects",
            }),
        }
    }
}
