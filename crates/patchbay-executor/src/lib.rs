//! The Patchbay request pipeline: config + account context in, provider responses out.
#![warn(missing_docs)]

mod body;
mod data;
mod error;
mod executor;
mod method;
mod plan;
mod query;
mod response;
mod transport;

pub use body::{EncodedBody, encode_body};
pub use data::{CallInput, request_data};
pub use error::ExecutorError;
pub use executor::{
    Account, DEFAULT_MAX_BODY, DEFAULT_TIMEOUT, Executor, ExecutorBuilder, ListOptions,
    OwnedAccount, Page, RecordStream, Response,
};
pub use method::{CompiledMethod, PreparedRequest};
pub use plan::{Integration, MethodPlan};
pub use query::{DEFAULT_ARRAY_FORMAT, flatten_query};
pub use response::{ParseError, ResponseFormat, parse_body};
pub use transport::{RawResponse, TransportError, send};
