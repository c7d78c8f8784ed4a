//! `GET /console/catalog`: the environment's integrations and installs, and
//! the bundled catalog configs ([`super::bundled`]); `POST
//! /console/catalog/install` installs one in one step.
//!
//! Installing a bundled config creates the integration (named after its
//! slug) and installs it, with an override built from the form: a base URL,
//! an OAuth client's id and secret, and any further override as JSON. Both
//! steps go through the API's own checks ([`CreateIntegration::validate`],
//! [`Install::validate`], [`check_override`]), so problems are the API's, with
//! their paths. The client secret is stored encrypted with the override and
//! never shown again.

use std::fmt::Write as _;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::Failed;
use super::bundled::{self, BUNDLED, Bundled};
use super::csrf::{self, hidden_field};
use super::directory::{Directory, label};
use super::form::Form;
use super::layout::{Screen, Section, escape, notice, problems, when};
use super::session::Signed;
use crate::error::ApiError;
use crate::routes::installs::{Install, check_override};
use crate::routes::integrations::CreateIntegration;
use crate::state::AppState;

/// `GET /console/catalog[?installed=<name>]`.
pub(super) async fn page(
    State(state): State<AppState>,
    signed: Signed,
    RawQuery(raw): RawQuery,
) -> Result<Response, Failed> {
    let query = Form::parse(raw.unwrap_or_default().as_bytes());
    let mut body = String::new();
    if let Some(name) = query.text("installed") {
        body.push_str(&notice(&format!(
            "{name} is installed. Create a connection link for a tenant with POST /link-token."
        )));
    }
    if let Some(name) = query.text("saved") {
        body.push_str(&notice(&format!("The integration {name} is saved.")));
    }
    body.push_str(&render(&state, &signed, None).await?);
    Ok(Screen::signed(&signed, Section::Catalog, "Catalog", body).into_response())
}

/// A failed install: which form, the problems, and the fields to show again
/// (never the client secret).
struct Attempt<'a> {
    slug: &'a str,
    form: &'a Form,
    error: ApiError,
}

/// The two sections of the page, with `attempt`'s problems in its form.
async fn render(
    state: &AppState,
    signed: &Signed,
    attempt: Option<&Attempt<'_>>,
) -> Result<String, Failed> {
    let directory = Directory::load(&state.store, signed.env()).await?;
    let mut html = String::from(
        "<section aria-labelledby=\"installed\"><h2 id=\"installed\">In this environment</h2>\
         <p><a class=\"button\" id=\"create-integration\" href=\"/console/integrations/new\">\
         Create integration</a></p>",
    );
    if directory.integrations.is_empty() {
        html.push_str("<p>No integrations yet. Install one from the catalog below.</p>");
    } else {
        html.push_str(
            "<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-labelledby=\"integrations-caption\">\
             <table id=\"integrations\"><caption id=\"integrations-caption\">The environment's integrations</caption>\
             <thead><tr><th scope=\"col\">Integration</th><th scope=\"col\">Name</th>\
             <th scope=\"col\">Installed</th><th scope=\"col\">Accounts</th><th scope=\"col\">Changed</th></tr></thead><tbody>",
        );
        for integration in &directory.integrations {
            let (installed, accounts) = match directory.install_of(&integration.id) {
                Some(install) => (
                    format!(
                        "Yes{}{}",
                        if install.is_enabled { "" } else { ", disabled" },
                        if install.show_in_catalog {
                            ""
                        } else {
                            ", hidden from the connect page"
                        }
                    ),
                    format!(
                        "<a href=\"/console/accounts?integration={}\">Accounts</a>",
                        escape(&install.id)
                    ),
                ),
                None => (
                    format!(
                        "<form method=\"post\" action=\"/console/catalog/install\">{}\
                         <input type=\"hidden\" name=\"integration_id\" value=\"{}\">\
                         No · <button type=\"submit\" class=\"link\">Install {}</button></form>",
                        hidden_field(&signed.session.csrf),
                        escape(&integration.id),
                        escape(&label(integration))
                    ),
                    String::new(),
                ),
            };
            let _ = write!(
                html,
                "<tr><td><a href=\"/console/integrations/{}/edit\" aria-label=\"Edit {}\">{}</a></td>\
                 <td><code>{}</code></td><td>{installed}</td><td>{accounts}</td><td>{}</td></tr>",
                escape(&integration.id),
                escape(&label(integration)),
                escape(&label(integration)),
                escape(&integration.name),
                when(&integration.updated_at),
            );
        }
        html.push_str("</tbody></table></div>");
    }
    html.push_str(
        "</section><section aria-labelledby=\"bundled\"><h2 id=\"bundled\">Catalog</h2>\
         <p>The integrations this server ships. Install one with its defaults, or open \
         <em>Overrides</em> to point it at another base URL or give your OAuth app.</p><div class=\"cards\">",
    );
    for bundled in BUNDLED {
        html.push_str(&bundled_card(
            bundled,
            &directory,
            &signed.session.csrf,
            attempt.filter(|a| a.slug == bundled.slug),
        ));
    }
    html.push_str("</div></section>");
    Ok(html)
}

/// What kinds of credentials `config` takes (`oauth2`, `api_key`, ...).
fn formats(config: &Value) -> Vec<String> {
    let credentials = &config["credentials"];
    if let Some(format) = credentials["format"].as_str() {
        return vec![format.to_owned()];
    }
    credentials
        .as_object()
        .map(|named| {
            named
                .values()
                .filter_map(|c| c["format"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// One bundled config: what it is, and its install form (or that it is in
/// the environment already).
fn bundled_card(
    bundled: &Bundled,
    directory: &Directory,
    csrf: &str,
    attempt: Option<&Attempt<'_>>,
) -> String {
    let Ok(config) = bundled.config() else {
        return String::new();
    };
    let slug = bundled.slug;
    let title = config["label"].as_str().unwrap_or(slug);
    let formats = formats(&config);
    let mut html = format!(
        "<div class=\"card\" id=\"catalog-{slug}\"><h3>{}</h3><p><code>{slug}</code> · {} · <code>{}</code></p>",
        escape(title),
        escape(&formats.join(", ")),
        escape(config["base_url"].as_str().unwrap_or("")),
    );
    if directory.integration_named(slug).is_some() {
        html.push_str("<p>In this environment.</p></div>");
        return html;
    }
    if let Some(attempt) = attempt {
        let listed: Vec<String> = match &attempt.error {
            ApiError::Invalid { errors, .. } | ApiError::Rejected { errors, .. } => errors
                .iter()
                .map(|e| format!("{}: {}", e.path, e.message))
                .collect(),
            _ => Vec::new(),
        };
        html.push_str(&problems(&attempt.error.to_string(), &listed));
    }
    let value = |name: &str| escape(attempt.and_then(|a| a.form.get(name)).unwrap_or_default());
    let open = if attempt.is_some() { " open" } else { "" };
    let _ = write!(
        html,
        "<form method=\"post\" action=\"/console/catalog/install\">{hidden}\
         <input type=\"hidden\" name=\"slug\" value=\"{slug}\">\
         <details{open}><summary>Overrides</summary>\
         <label for=\"{slug}-base_url\">Base URL</label>\
         <input id=\"{slug}-base_url\" name=\"base_url\" type=\"url\" value=\"{base}\" placeholder=\"{placeholder}\">",
        hidden = hidden_field(csrf),
        base = value("base_url"),
        placeholder = escape(config["base_url"].as_str().unwrap_or("")),
    );
    if formats.iter().any(|f| f.starts_with("oauth")) {
        let _ = write!(
            html,
            "<label for=\"{slug}-client_id\">OAuth client ID</label>\
             <input id=\"{slug}-client_id\" name=\"client_id\" type=\"text\" autocomplete=\"off\" value=\"{id}\">\
             <label for=\"{slug}-client_secret\">OAuth client secret</label>\
             <input id=\"{slug}-client_secret\" name=\"client_secret\" type=\"password\" autocomplete=\"off\">\
             <p class=\"hint\">Stored encrypted; never shown again.</p>",
            id = value("client_id"),
        );
    }
    let _ = write!(
        html,
        "<label for=\"{slug}-override\">More overrides (JSON)</label>\
         <textarea id=\"{slug}-override\" name=\"override\" spellcheck=\"false\" \
         aria-describedby=\"{slug}-override-hint\">{json}</textarea>\
         <p class=\"hint\" id=\"{slug}-override-hint\">An object layered over the config, as \
         <code>override</code> of <code>POST /environment-integration</code>.</p></details>\
         <button type=\"submit\" id=\"install-{slug}\">Install {title}</button></form></div>",
        json = value("override"),
        title = escape(title),
    );
    html
}

/// The override the form asks for (`None` when it asks for none).
fn override_of(form: &Form, config: &Value) -> Result<Option<Map<String, Value>>, ApiError> {
    let mut override_ = match form.text("override") {
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => map,
            Ok(_) => return Err(invalid("override", "must be a JSON object")),
            Err(e) => return Err(invalid("override", &format!("is not JSON: {e}"))),
        },
        None => Map::new(),
    };
    if let Some(base) = form.text("base_url") {
        override_.insert("base_url".into(), json!(base));
    }
    let client_id = form.text("client_id");
    let client_secret = form.text("client_secret");
    if client_id.is_some() || client_secret.is_some() {
        let mut client = Map::new();
        if let Some(id) = client_id {
            client.insert("id".into(), json!(id));
        }
        if let Some(secret) = client_secret {
            client.insert("secret".into(), json!(secret));
        }
        let client = json!({"config": {"client": client}});
        let credentials = &config["credentials"];
        let mut patch = Value::Object(Map::new());
        if credentials["format"].is_string() {
            patch = client;
        } else if let Some(named) = credentials.as_object() {
            for (name, credential) in named {
                if credential["format"]
                    .as_str()
                    .is_some_and(|f| f.starts_with("oauth"))
                {
                    patch[name] = client.clone();
                }
            }
        }
        let merged = patchbay::config::apply_override(
            override_.get("credentials").unwrap_or(&Value::Null),
            &patch,
        );
        override_.insert("credentials".into(), merged);
    }
    Ok((!override_.is_empty()).then_some(override_))
}

/// 422 with one problem at `path`.
fn invalid(path: &str, message: &str) -> ApiError {
    ApiError::Invalid {
        message: format!("the overrides are invalid: {path} {message}"),
        errors: vec![crate::error::FieldError {
            path: path.to_owned(),
            message: message.to_owned(),
        }],
    }
}

/// Creates (unless it exists) and installs the bundled `slug`, or installs
/// the integration `integration_id`; answers the integration's name.
async fn install_from(state: &AppState, env: &str, form: &Form) -> Result<String, ApiError> {
    if let Some(id) = form.text("integration_id") {
        let integration = state.store.get_integration(env, id).await?;
        install(state, env, &integration.id, None).await?;
        return Ok(integration.name);
    }
    let slug = form.text("slug").unwrap_or_default();
    let bundled = bundled::find(slug)
        .ok_or_else(|| ApiError::not_found(format!("no catalog config `{slug}`")))?;
    let config = bundled
        .config()
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let override_ = override_of(form, &config)?;
    let directory = Directory::load(&state.store, env).await?;
    let integration = match directory.integration_named(slug) {
        Some(existing) => existing.clone(),
        None => {
            let new = CreateIntegration {
                name: slug.to_owned(),
                category: None,
                is_beta: false,
                sharing: None,
                config: config.clone(),
            }
            .validate()?;
            // The override is checked before anything is created.
            if let Some(override_) = &override_ {
                let merged =
                    patchbay::config::apply_override(&config, &Value::Object(override_.clone()));
                patchbay::config::validate_integration_config(&merged).map_err(|errors| {
                    ApiError::from_validation(
                        "the config with these overrides is invalid",
                        Some("config"),
                        &errors,
                    )
                })?;
            }
            state.store.create_integration(env, new).await?
        }
    };
    install(state, env, &integration.id, override_).await?;
    Ok(integration.name)
}

/// Installs `integration_id` with `override_`, as `POST /environment-integration`.
async fn install(
    state: &AppState,
    env: &str,
    integration_id: &str,
    override_: Option<Map<String, Value>>,
) -> Result<(), ApiError> {
    let install = Install {
        integration_id: integration_id.to_owned(),
        override_,
        is_enabled: None,
        show_in_catalog: None,
    }
    .validate()?;
    check_override(
        state,
        env,
        &install.integration_id,
        install.override_.as_ref(),
    )
    .await?;
    state.store.install_integration(env, install).await?;
    Ok(())
}

/// `POST /console/catalog/install` (form: `slug` with the overrides, or
/// `integration_id`; `csrf_token`): 303 back to the catalog, or the page
/// again with the problems next to that config's form (422, or the API's status).
pub(super) async fn install_submit(
    State(state): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Failed> {
    let form = match csrf::signed_form(&state, &headers, &body, &signed) {
        Ok(form) => form,
        Err(refused) => return Ok(refused.page()),
    };
    match install_from(&state, signed.env(), &form).await {
        Ok(name) => {
            let mut response = StatusCode::SEE_OTHER.into_response();
            let location = format!(
                "/console/catalog?installed={}",
                url::form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>()
            );
            if let Ok(value) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(header::LOCATION, value);
            }
            Ok(response)
        }
        Err(error) if error.status().is_server_error() => Err(error.into()),
        Err(error) => {
            let status = error.status();
            let slug = form.text("slug").unwrap_or_default();
            let body = if bundled::find(slug).is_some() {
                let attempt = Attempt {
                    slug,
                    form: &form,
                    error,
                };
                render(&state, &signed, Some(&attempt)).await?
            } else {
                let mut body = problems(&error.to_string(), &[]);
                body.push_str(&render(&state, &signed, None).await?);
                body
            };
            Ok(Screen::signed(&signed, Section::Catalog, "Catalog", body)
                .with_status(status)
                .into_response())
        }
    }
}
