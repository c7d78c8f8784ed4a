//! Inbound webhook verification and outbound event signing for Patchbay.
//!
//! **Inbound.** An integration's `webhook` config (Truto format, modelled in
//! [`patchbay_config::webhook`]) says how to authenticate webhooks from the third
//! party. [`Verifier`] compiles its `signature_verification` for one integrated
//! account (secrets come from `{{ }}` placeholders in the account context) and checks
//! [`InboundRequest`]s: HMAC-SHA1/256/512 over a message built from body, headers,
//! timestamp, literal text, URL and sorted form parameters; hex or base64 signatures
//! with prefixes and several signatures per header; timestamp tolerance; basic auth;
//! HS256/384/512 JWTs. [`WebhookHandler`] runs the full pipeline: verification, the
//! `handle_verification` handshake (a handshake that can sign answers verified
//! requests only, see [`HandshakeKind`]), then `payload_transform` into events.
//! For an install-level URL (one for every account of an install),
//! [`WebhookHandler::route`] also routes a verified request to its account by
//! `context_lookup_field_name` / `context_lookup_field_value` ([`Routed`],
//! [`AccountLookup`]). Compile a config once ([`CompiledWebhook`]) and keep it.
//!
//! **Outbound.** [`outbound`] signs the events Patchbay sends to a host's endpoint
//! (`x-patchbay-signature: t=..,v1=..`) and verifies them on the receiving side.
//!
//! Guarantees: comparisons are constant-time; the raw body is hashed exactly as
//! received; no input panics; errors name the failed [`Check`] and never contain a
//! secret or a signature. Time is always a parameter (`now`), never read from the
//! system clock, so timestamp checks are deterministic in tests.
//!
//! See `docs/guides/webhooks.md` for per-provider configs.
#![warn(missing_docs, unreachable_pub)]

mod basic;
mod compiled;
mod encoding;
mod error;
mod expression;
mod handler;
mod handshake;
mod hmac_scheme;
mod jwt;
mod mac;
pub mod outbound;
mod request;
mod resolve;
mod route;
mod timestamp;
mod token;
mod transform;
mod verifier;

pub use compiled::CompiledWebhook;
pub use encoding::SignatureEncoding;
pub use error::{Check, ConfigError, VerificationError, WebhookError};
pub use handler::{Handled, WebhookHandler};
pub use handshake::{HandshakeKind, HandshakeResponse, SIGNING_FUNCTIONS};
pub use mac::Algorithm;
pub use request::InboundRequest;
pub use route::{AccountLookup, Routed};
pub use timestamp::DEFAULT_TOLERANCE;
pub use verifier::{DEFAULT_MAX_BODY_BYTES, Verifier, verify};
