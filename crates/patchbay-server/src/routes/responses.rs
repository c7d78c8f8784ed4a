//! The error answers routes share, for their `#[utoipa::path]` annotations
//! (`responses(..., AuthedErrors, NotFoundErrors)`): documentation only,
//! never constructed. Each answer's body is [`ErrorBody`]. A route adds its
//! own statuses (409, 502, ...) inline, with what they mean there.

use utoipa::{IntoParams, IntoResponses};

use crate::error::ErrorBody;

/// Every route behind the API token.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum AuthedErrors {
    /// Missing or invalid API token.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
}

/// Routes that name an object by id (in the path or the body).
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum NotFoundErrors {
    /// No such object in the environment (an id of another environment is the same); the message names the id.
    #[response(status = 404)]
    NotFound(ErrorBody),
}

/// Routes that read a JSON object body ([`crate::extract::ApiJson`]).
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum ValidationErrors {
    /// Malformed JSON (the message gives the line and column) or an empty body.
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// A body of the wrong shape (not an object, an unknown or missing field, a value of the wrong type) or one that fails the route's checks (see its description): `errors` lists every problem with its path.
    #[response(status = 422)]
    Unprocessable(ErrorBody),
}

/// Routes that read a unified definition (model, mapping row, override).
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum DefinitionErrors {
    /// Malformed JSON, or a definition that is invalid: `errors` lists every problem with its JSON path (`resources.contacts.schema`, `config.response_mapping`); nothing is stored.
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// A body that is not a JSON object.
    #[response(status = 422)]
    Unprocessable(ErrorBody),
}

/// List routes (`limit`, `next_cursor` and the route's filters).
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum ListErrors {
    /// A bad `limit` or filter value, a `next_cursor` this server did not issue, or a query string that cannot be decoded.
    #[response(status = 400)]
    BadQuery(ErrorBody),
}

/// Routes with a required query parameter (`/sync-job-run-state?state_key=`).
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum QueryErrors {
    /// The required query parameter is missing, empty or too long (the message names it), or a bad `limit` / `next_cursor`.
    #[response(status = 400)]
    BadQuery(ErrorBody),
}

/// The pagination parameters of every list route.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct PageParams {
    /// Page size, 1 to 5000 (default 100).
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    next_cursor: Option<String>,
}

/// The error answers every proxy route shares.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum ProxyErrors {
    /// Missing `integrated_account_id`, a bad query string, malformed JSON, or a config that cannot render the request (missing context value, bad cursor).
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// Missing or invalid API token, or credentials that cannot be obtained or refreshed.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// No such account in the environment, or an unknown resource or method.
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// The account's install is disabled.
    #[response(status = 409)]
    Conflict(ErrorBody),
    /// The provider cannot be reached or answers an unreadable body.
    #[response(status = 502)]
    BadGateway(ErrorBody),
    /// The provider answered an error: its status, `truto_is_remote_error: true` and its body in `raw_response`.
    #[response(status = "4XX")]
    ProviderClientError(ErrorBody),
    /// The provider answered a server error (status, `truto_is_remote_error`, `raw_response`), or the server failed.
    #[response(status = "5XX")]
    ProviderServerError(ErrorBody),
}

/// The path parameter of the proxy routes on a resource.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct ProxyResource {
    /// A resource of the account's integration config, e.g. `tickets`.
    resource: String,
}

/// The path parameters of the proxy routes on one record.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct ProxyRecord {
    /// A resource of the account's integration config, e.g. `tickets`.
    resource: String,
    /// The record id.
    id: String,
}

/// The answer of a proxied method other than `list`.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum ProviderBody {
    /// The provider's body, as the integration maps it (any JSON).
    #[response(status = 200)]
    Ok(serde_json::Value),
}

/// The proxy routes that may write.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum SandboxErrors {
    /// A write through a sandbox account.
    #[response(status = 405)]
    MethodNotAllowed(ErrorBody),
}

/// The query parameter every proxy route takes.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ProxyAccount {
    /// The integrated account to call through (`400` without it, `404` for an account of another environment). Every query parameter other than `integrated_account_id`, `limit` and `next_cursor` is passed to the method as its `query`.
    integrated_account_id: String,
}

/// The error answers every unified call route shares.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum UnifiedErrors {
    /// Missing `integrated_account_id`, a bad query string or `truto_*` parameter, malformed JSON, or required fields missing (`truto_error_insight.missing_required_query_parameters` / `missing_required_body_fields`; nothing was sent).
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// Missing or invalid API token, or credentials the provider refused (the account is then `needs_reauth`).
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// No such account in the environment; no unified model of that name, not installed, no such resource, or no mapping of the method for the account's integration (the message names what is missing).
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// The account's install is disabled.
    #[response(status = 409)]
    Conflict(ErrorBody),
    /// The model's mappings (with the environment's and the account's overrides) cannot be used.
    #[response(status = 422)]
    Unprocessable(ErrorBody),
    /// The provider answered an error: its status (or the one the mapping's `error_mapping` set) and the unified error body, with `truto_error_insight.remote_error`.
    #[response(status = "4XX")]
    ProviderClientError(ErrorBody),
    /// The provider answered a server error or cannot be reached, or a mapping failed.
    #[response(status = "5XX")]
    ProviderServerError(ErrorBody),
}

/// The path parameters of the unified routes on a resource.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct UnifiedResource {
    /// The unified model's name, e.g. `crm`.
    model: String,
    /// The unified resource, e.g. `contacts`.
    resource: String,
}

/// The path parameters of the unified routes on one record.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct UnifiedRecord {
    /// The unified model's name, e.g. `crm`.
    model: String,
    /// The unified resource, e.g. `contacts`.
    resource: String,
    /// The record id.
    id: String,
}

/// The query parameter every unified call route takes.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct UnifiedAccount {
    /// The integrated account to call through (`400` without it, `404` for an account of another environment). The other query parameters reach the mappings as `query`, nested (`updated_at[gt]=x` → `query.updated_at.gt`); `truto_*` and `remote_query[...]` parameters apply as in Truto.
    integrated_account_id: String,
}
