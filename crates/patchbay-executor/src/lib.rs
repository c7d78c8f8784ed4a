//! The Patchbay request pipeline: config + account context in, provider responses out.
//!
//! # The HTTP client
//!
//! The executor expects a `reqwest::Client` that **does not follow
//! redirects** (`reqwest::redirect::Policy::none()`), as
//! [`default_http_client`] builds it. It follows redirects itself, hop by hop
//! (at most [`MAX_REDIRECTS`]), so that the authorization's headers
//! (`Authorization`, `X-Api-Key`, ...), the config's and override's headers,
//! cookies and the body never reach another origin, and so that a
//! [`DestinationCheck`] (a destination policy) sees every hop; see [`redirect`].
//! A client that follows redirects by itself defeats this: the request is
//! re-sent by reqwest before the executor sees the redirect. The executor
//! notices afterwards (the response's URL is not the request's) and fails the
//! call with [`TransportError::ClientFollowedRedirect`], but the credentials
//! have already gone out. Token requests made through the same client (the
//! auth crate's `TokenManager`) never follow redirects: a 3xx from a token
//! endpoint is an error.
//!
//! Other client settings (proxies, TLS roots, connection pool, connect
//! timeout) are the host's choice; the per-request timeout is the executor's
//! ([`ExecutorBuilder::timeout`]).
#![warn(missing_docs)]

mod body;
mod data;
mod error;
mod executor;
mod in_flight;
mod method;
mod plan;
mod query;
pub mod redirect;
mod response;
mod transport;

pub use body::{EncodedBody, encode_body};
pub use data::{CallInput, request_data};
pub use error::ExecutorError;
pub use executor::{
    Account, DEFAULT_CALL_DEADLINE, DEFAULT_MAX_BODY, DEFAULT_TIMEOUT, Executor, ExecutorBuilder,
    ListOptions, OwnedAccount, Page, RecordStream, Response, default_http_client,
};
pub use in_flight::DEFAULT_MAX_IN_FLIGHT_PER_ACCOUNT;
pub use method::{CompiledMethod, PreparedRequest};
pub use plan::{Integration, MethodPlan};
pub use query::{DEFAULT_ARRAY_FORMAT, flatten_query};
pub use redirect::{DestinationCheck, MAX_REDIRECTS, RedirectOptions};
pub use response::{ParseError, ResponseFormat, parse_body};
pub use transport::{RawResponse, TransportError, send, send_following};
