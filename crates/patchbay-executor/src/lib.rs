//! The Patchbay request pipeline: config + account context in, provider responses out.
//!
//! # The pipeline
//!
//! Every call (`Executor::call`, each page of `Executor::list`) runs attempts until one ends
//! the call. One attempt is **prepare → authorize → pace → send → classify → act**:
//!
//! 1. **prepare**: the method's URL, query, headers and body from the account context and the
//!    call's input (plus the paginator's parameters for a follow-up page);
//! 2. **authorize**: current tokens (refreshed when due, once for many concurrent calls) and
//!    the config's authorization headers;
//! 3. **pace**: wait for the account's turn (client-side pacing, pauses after a `Retry-After`);
//! 4. **send**: one HTTP exchange, redirects followed hop by hop under the destination
//!    check, within what is left of the call's deadline;
//! 5. **classify**: a pure function of the answer that returns one verdict, checking in this
//!    order: rate limited (429 or `rate_limit.is_rate_limited`), unauthorized (401 or an
//!    `error_expression` result with `status: 401`, refreshed once when the account has a
//!    credential), error status (≥ 400), an `error_expression` fault on a success status,
//!    success;
//! 6. **act**: return the response, fail, refresh the credentials and retry at once, or ask
//!    the retry policy (the one place that decides retry-or-give-up) and wait (the one
//!    cancellable wait).
//!
//! Each attempt is a `tracing` span `patchbay.attempt` (at debug level) with the attempt
//! number, HTTP method, URL without its query (which can carry API keys), status, verdict,
//! retry reason and wait.
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
#![warn(missing_docs, unreachable_pub)]

mod body;
mod error;
mod executor;
mod in_flight;
mod input;
mod method;
mod observe;
mod plan;
mod query;
pub mod redirect;
mod response;
pub mod telemetry;
mod transport;
mod verdict;

pub use error::ExecutorError;
pub use executor::{
    AccountData, AccountRef, DEFAULT_CALL_DEADLINE, DEFAULT_MAX_BODY, DEFAULT_TIMEOUT, Executor,
    ExecutorBuilder, ListOptions, Page, RecordStream, Response, default_http_client,
};
pub use in_flight::DEFAULT_MAX_IN_FLIGHT_PER_ACCOUNT;
pub use input::{CallInput, request_data};
pub use observe::{AttemptReport, CallObserver, CallReport};
pub use plan::{CompiledIntegration, MethodPlan};
pub use redirect::{DestinationCheck, MAX_REDIRECTS, RedirectOptions};
pub use response::ParseError;
pub use transport::TransportError;
