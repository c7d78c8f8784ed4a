//! The OpenAPI document of the API, generated from the handlers' `#[utoipa::path]`
//! annotations and served without a token at `GET /openapi.json`.
//!
//! The schemas here are documentation-only mirrors of what the handlers read
//! and answer (the store and config types live in other crates or serialize
//! through [`crate::redact`]); the tests keep them in step with the real JSON:
//! [`ErrorBody`] against [`ApiError`](crate::error::ApiError)'s bodies, the
//! enums against the config crate's, [`ImportAccount`] against
//! `ImportAccountRequest`, and `tests/openapi.rs` every route of the router.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::routes::{
    account_actions, accounts, inbound, installs, integrations, link_tokens, meta, proxy, validate,
    webhooks,
};

/// The name of the bearer security scheme in the document.
pub const BEARER: &str = "bearer";

/// Truto's error body, answered by every failed request (see `crate::error`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"statusCode": 404, "error": "Not Found", "message": "no integration `int_1`"}))]
pub struct ErrorBody {
    /// The HTTP status, repeated.
    #[serde(rename = "statusCode")]
    pub status_code: u16,
    /// The status's reason phrase (`Not Found`, `Unprocessable Entity`).
    pub error: String,
    /// What went wrong, naming the id, field, parameter or check; never a secret.
    pub message: String,
    /// 422 only: every problem of the body, with its JSON path.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldErrorBody>,
    /// Proxy calls only: `true` when the provider answered this error (the
    /// status is the provider's).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truto_is_remote_error: bool,
    /// Proxy calls only, with `truto_is_remote_error`: the provider's parsed body.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub raw_response: Value,
}

/// One problem of a request body (in [`ErrorBody::errors`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldErrorBody {
    /// Where the problem is: `(root)`, `name`, `config.resources.users.list.method`, `event_types[1]`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// An integration's sharing policy.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Sharing {
    /// Anyone may install it.
    Allow,
    /// Installing needs approval.
    Ask,
    /// Private.
    Deny,
}

/// An account's data region.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Region {
    /// Western North America (the default).
    Wnam,
    /// Eastern North America.
    Enam,
    /// Asia-Pacific.
    Apac,
    /// Europe.
    Eu,
}

/// An account's connection state.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    /// Everything works.
    Active,
    /// Post-install and validation actions are running.
    Connecting,
    /// A post-install action failed (`last_error` says which).
    PostInstallError,
    /// A validation action failed (`last_error` says which).
    ValidationError,
    /// The credentials are no longer valid; the user must reconnect.
    NeedsReauth,
}

/// How an account authenticates.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub enum AuthenticationMethod {
    /// OAuth 2.0 authorization code; tokens in `context.oauth.token`.
    #[serde(rename = "oauth2")]
    OAuth2,
    /// User-entered keys.
    #[serde(rename = "api_key")]
    ApiKey,
    /// OAuth 2.0 client credentials.
    #[serde(rename = "oauth2_client_credentials")]
    OAuth2ClientCredentials,
    /// Keka's token grant.
    #[serde(rename = "keka_oauth")]
    KekaOauth,
}

/// `GET /health`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub struct Health {
    /// Always `ok`.
    pub status: String,
}

/// `GET /ping`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status": "ok", "environment_id": "env_3f2a"}))]
pub struct Pong {
    /// Always `ok`.
    pub status: String,
    /// The environment the token acts in.
    pub environment_id: String,
}

/// `POST /integration/validate` for a valid config.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"valid": true, "methods": 12}))]
pub struct Validated {
    /// Always `true` (invalid configs answer 422).
    pub valid: bool,
    /// How many resource methods the config defines.
    pub methods: u64,
}

/// The answer of a `DELETE`.
#[derive(Serialize, ToSchema)]
pub struct Deleted {
    /// The deleted object's id.
    pub id: String,
}

/// An integration definition.
#[derive(Serialize, ToSchema)]
pub struct Integration {
    /// The id.
    pub id: String,
    /// The environment.
    pub environment_id: String,
    /// The slug, unique in the environment.
    pub name: String,
    /// Category, e.g. `helpdesk`.
    pub category: Option<String>,
    /// Beta flag.
    pub is_beta: bool,
    /// Sharing policy.
    pub sharing: Option<Sharing>,
    /// The integration config, as stored (see `/schema/integration-config.json`).
    #[schema(value_type = Object)]
    pub config: Value,
    /// Optimistic-locking version: 1 when created, one higher per update.
    pub version: u64,
    /// When it was created (RFC 3339).
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When it was last changed (RFC 3339).
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// An installed integration (environment integration). `override` is answered
/// without its secrets.
#[derive(Serialize, ToSchema)]
pub struct EnvironmentIntegration {
    /// The id.
    pub id: String,
    /// The environment.
    pub environment_id: String,
    /// The installed integration.
    pub integration_id: String,
    /// Shown in the connect pages' chooser.
    pub show_in_catalog: bool,
    /// Enabled; a disabled install cannot be connected or called (409).
    pub is_enabled: bool,
    /// Config overrides layered over the integration's config, without keys
    /// whose name contains `secret` or `password` and without `api_key`,
    /// `apikey`, `access_token`, `refresh_token`.
    #[serde(rename = "override")]
    #[schema(value_type = Option<Object>)]
    pub override_: Option<Map<String, Value>>,
    /// When it was created (RFC 3339).
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When it was last changed (RFC 3339).
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// A tenant's connection. `context` is answered with its non-secret keys only.
#[derive(Serialize, ToSchema)]
pub struct IntegratedAccount {
    /// The id.
    pub id: String,
    /// The tenant (the host app's customer) that owns the connection.
    pub tenant_id: String,
    /// The installed integration.
    pub environment_integration_id: String,
    /// The environment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment_id: Option<String>,
    /// The non-secret context keys: no `oauth`, no password fields, no key
    /// whose name contains `token`, `secret`, `password` or `key`.
    #[schema(value_type = Object)]
    pub context: Map<String, Value>,
    /// How the account authenticates.
    pub authentication_method: AuthenticationMethod,
    /// Connection state.
    pub status: AccountStatus,
    /// The last error of post-install, validation or refresh.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Results of the post-install and validation actions.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub last_action_result: Option<Value>,
    /// Data region.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
    /// Sandbox accounts refuse writes through the proxy (405).
    pub is_sandbox: bool,
    /// Context keys kept in an external object store.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_store_context_keys: Option<Vec<String>>,
    /// When it was created (RFC 3339 with milliseconds).
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When it was last changed (RFC 3339 with milliseconds).
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// The body of `POST /integrated-account`: Truto's import body.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "tenant_id": "acme", "environment_integration_id": "ei_1", "authentication_method": "api_key",
    "context": {"subdomain": "acme", "email": "agent@acme.test", "api_token": "…"},
    "region": "wnam", "is_sandbox": false
}))]
pub struct ImportAccount {
    /// The tenant.
    pub tenant_id: String,
    /// The installed integration.
    pub environment_integration_id: String,
    /// Credentials and variables; OAuth formats put tokens in
    /// `oauth.token` (`{access_token, refresh_token, expires_in}`).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub context: Map<String, Value>,
    /// How the account authenticates.
    pub authentication_method: AuthenticationMethod,
    /// Data region (default `wnam`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
    /// Create a sandbox account (default false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_sandbox: Option<bool>,
}

/// An outbound webhook endpoint (never with its secret).
#[derive(Serialize, ToSchema)]
pub struct Webhook {
    /// The id.
    pub id: String,
    /// The environment.
    pub environment_id: String,
    /// Where events are POSTed.
    pub target_url: String,
    /// Inactive webhooks receive nothing.
    pub is_active: bool,
    /// The event types delivered.
    pub event_types: Vec<String>,
    /// When it was created (RFC 3339).
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When it was last changed (RFC 3339).
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// `POST /webhook`: the webhook and its signing secret, answered only here.
#[derive(Serialize, ToSchema)]
pub struct CreatedWebhook {
    /// The webhook.
    #[serde(flatten)]
    pub webhook: Webhook,
    /// The signing secret (`whsec_…`) of `x-patchbay-signature`; store it now.
    pub secret: String,
}

/// `POST /webhook/test`: the queued test event.
#[derive(Serialize, ToSchema)]
pub struct QueuedTestEvent {
    /// The event id the delivery carries.
    pub id: String,
    /// Always `test`.
    pub event: String,
    /// The webhook.
    pub webhook_id: String,
}

/// `POST /link-token`: the token, shown only in this answer.
#[derive(Serialize, ToSchema)]
pub struct CreatedLinkToken {
    /// The single-use token (`lt_…`).
    pub link_token: String,
    /// The connect page with the token: `{public URL}/connect-account?link_token=…`.
    pub link_url: String,
    /// When the token expires (RFC 3339).
    #[schema(format = DateTime)]
    pub expires_at: String,
}

/// `POST /integrated-account/refresh-credentials`.
#[derive(Serialize, ToSchema)]
pub struct Refreshed {
    /// Always `true`: new tokens are stored.
    pub success: bool,
}

/// An inbound webhook's answer when it is not a handshake.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"ok": true, "events": 2}))]
pub struct InboundAccepted {
    /// Always `true`.
    pub ok: bool,
    /// How many events were queued (0 for an install-level call that matched no account).
    pub events: u64,
}

/// The form of `POST /connect-account`: the hidden fields plus the credential's
/// `fields` by name.
#[derive(Serialize, ToSchema)]
pub struct ConnectForm {
    /// The link token.
    pub link_token: String,
    /// The chosen environment integration.
    pub integration: Option<String>,
    /// The chosen credential of the config (`oauth2`, `api_key`, ...).
    pub credential: Option<String>,
    /// The credential's fields, by name.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub fields: Map<String, Value>,
}

macro_rules! page_schema {
    ($name:ident, $item:ty, $what:literal) => {
        #[doc = concat!("One page of ", $what, ", oldest first.")]
        #[derive(Serialize, ToSchema)]
        pub struct $name {
            #[doc = concat!("The ", $what, ".")]
            pub result: Vec<$item>,
            /// Pass it back as `next_cursor` for the next page; `null` on the last page.
            pub next_cursor: Option<String>,
        }
    };
}

page_schema!(IntegrationPage, Integration, "integrations");
page_schema!(
    EnvironmentIntegrationPage,
    EnvironmentIntegration,
    "environment integrations"
);
page_schema!(
    IntegratedAccountPage,
    IntegratedAccount,
    "integrated accounts"
);
page_schema!(WebhookPage, Webhook, "webhooks");

/// One page of a proxied `list`: the records after the config's `response_path`.
#[derive(Serialize, ToSchema)]
pub struct ProxyPage {
    /// The records, as the integration maps them.
    #[schema(value_type = Vec<Object>)]
    pub result: Vec<Value>,
    /// Pass it back as `next_cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// Only for methods whose pagination has `prev_cursor_path`: pass it back
    /// as `next_cursor` for the previous page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prev_cursor: Option<String>,
}

/// Adds the bearer scheme the document's global `security` refers to.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut http = Http::new(HttpAuthScheme::Bearer);
        http.description = Some(
            "`Authorization: Bearer <api token>`. A token belongs to one environment; \
             every request acts only in it."
                .to_owned(),
        );
        components.add_security_scheme(BEARER, SecurityScheme::Http(http));
    }
}

/// The document: every route of [`crate::app`].
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Patchbay server API",
        description = "A Truto-compatible API over the Patchbay facade: integrations, installs \
            (environment integrations), integrated accounts, link tokens and the connect pages, \
            proxy calls, and inbound and outbound webhooks.\n\n\
            Every route needs `Authorization: Bearer <api token>` except those marked with an \
            empty security requirement (health, validation, the schemas, the connect pages and \
            inbound webhooks). Errors answer Truto's body `{statusCode, error, message}` \
            (`ErrorBody`), plus `errors: [{path, message}]` for 422. List routes take `limit` \
            (1-5000, default 100) and `next_cursor` and answer `{result, next_cursor}`. \
            See `docs/server-api.md`.",
        license(name = "MIT", identifier = "MIT"),
    ),
    paths(
        meta::health,
        meta::ping,
        validate::validate_integration,
        meta::integration_config_schema,
        meta::openapi_json,
        integrations::list,
        integrations::create,
        integrations::get,
        integrations::update,
        integrations::delete,
        installs::list,
        installs::create,
        installs::get,
        installs::update,
        installs::delete,
        accounts::list,
        accounts::create,
        accounts::get,
        accounts::update,
        accounts::delete,
        account_actions::refresh_credentials,
        account_actions::run_post_install_actions,
        link_tokens::create,
        crate::connect::page,
        crate::connect::submit,
        crate::connect::callback,
        proxy::list,
        proxy::create,
        proxy::get,
        proxy::update,
        proxy::delete,
        proxy::custom,
        webhooks::list,
        webhooks::create,
        webhooks::get,
        webhooks::update,
        webhooks::delete,
        webhooks::test,
        inbound::account_webhook,
        inbound::account_webhook_handshake,
        inbound::environment_integration_webhook,
        inbound::environment_integration_webhook_handshake,
    ),
    components(schemas(ErrorBody, FieldErrorBody)),
    modifiers(&BearerScheme),
    security(("bearer" = [])),
    tags(
        (name = "meta", description = "Health, config validation and the schemas; no token."),
        (name = "integrations", description = "Integration definitions (`/integration`)."),
        (name = "environment-integrations", description = "Integrations installed in the environment, with an optional `override`."),
        (name = "integrated-accounts", description = "Tenants' connections; answers never carry credentials."),
        (name = "link-tokens", description = "Single-use links to the connect pages."),
        (name = "connect", description = "The HTML connect pages a tenant's user opens; the link token authorizes, no API token."),
        (name = "proxy", description = "Calls a resource method of an account's integration."),
        (name = "webhooks", description = "Outbound webhook endpoints receiving the environment's signed events."),
        (name = "inbound-webhooks", description = "Providers' webhooks; no token, verified by the integration's `webhook` config."),
    ),
)]
pub struct ApiDoc;

/// The OpenAPI document of the whole API, with the crate's version.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    use serde_json::json;

    use super::*;
    use crate::error::{ApiError, FieldError};

    async fn body_of(error: ApiError) -> ErrorBody {
        let response = error.into_response();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).expect("the error body matches ErrorBody")
    }

    #[tokio::test]
    async fn error_bodies_match_the_schema() {
        let plain = body_of(ApiError::not_found("no integration `x`")).await;
        assert_eq!(plain.status_code, 404);
        assert_eq!(plain.error, "Not Found");
        assert_eq!(plain.message, "no integration `x`");
        assert!(plain.errors.is_empty() && !plain.truto_is_remote_error);

        let invalid = body_of(ApiError::Invalid {
            message: "the webhook is invalid".into(),
            errors: vec![FieldError {
                path: "target_url".into(),
                message: "must be an absolute http or https URL".into(),
            }],
        })
        .await;
        assert_eq!(invalid.status_code, 422);
        assert_eq!(invalid.errors[0].path, "target_url");

        let remote = body_of(ApiError::Remote {
            status: StatusCode::NOT_FOUND,
            message: "provider error (HTTP 404)".into(),
            raw_response: json!({"error": "RecordNotFound"}),
        })
        .await;
        assert!(remote.truto_is_remote_error);
        assert_eq!(remote.raw_response, json!({"error": "RecordNotFound"}));
    }

    #[test]
    fn enums_match_the_config_types() {
        fn check<Doc: Serialize, Real: serde::de::DeserializeOwned>(values: &[Doc]) {
            for value in values {
                let json = serde_json::to_value(value).unwrap();
                serde_json::from_value::<Real>(json.clone())
                    .unwrap_or_else(|e| panic!("{json} is not a value of the real type: {e}"));
            }
        }
        check::<_, patchbay::config::Sharing>(&[Sharing::Allow, Sharing::Ask, Sharing::Deny]);
        check::<_, patchbay::config::Region>(&[
            Region::Wnam,
            Region::Enam,
            Region::Apac,
            Region::Eu,
        ]);
        check::<_, patchbay::config::AccountStatus>(&[
            AccountStatus::Active,
            AccountStatus::Connecting,
            AccountStatus::PostInstallError,
            AccountStatus::ValidationError,
            AccountStatus::NeedsReauth,
        ]);
        check::<_, patchbay::config::AuthenticationMethod>(&[
            AuthenticationMethod::OAuth2,
            AuthenticationMethod::ApiKey,
            AuthenticationMethod::OAuth2ClientCredentials,
            AuthenticationMethod::KekaOauth,
        ]);
    }

    #[test]
    fn import_body_matches_the_config_type() {
        let full = ImportAccount {
            tenant_id: "acme".into(),
            environment_integration_id: "ei_1".into(),
            context: Map::from_iter([("subdomain".to_owned(), json!("acme"))]),
            authentication_method: AuthenticationMethod::ApiKey,
            region: Some(Region::Eu),
            is_sandbox: Some(true),
        };
        let json = serde_json::to_value(&full).unwrap();
        serde_json::from_value::<patchbay::config::ImportAccountRequest>(json).unwrap();
    }

    #[test]
    fn document_has_the_version_and_the_bearer_scheme() {
        let doc = serde_json::to_value(openapi()).unwrap();
        assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(
            doc["components"]["securitySchemes"][BEARER]["scheme"],
            "bearer"
        );
        assert_eq!(doc["security"], json!([{BEARER: []}]));
    }
}

/// The error answers every proxy route shares (documentation only).
#[derive(utoipa::IntoResponses)]
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

/// The query parameter every proxy route takes (documentation only).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ProxyAccount {
    /// The integrated account to call through (`400` without it, `404` for an account of another environment). Every query parameter other than `integrated_account_id`, `limit` and `next_cursor` is passed to the method as its `query`.
    integrated_account_id: String,
}
