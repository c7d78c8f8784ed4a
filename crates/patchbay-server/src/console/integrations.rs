//! Seed 002: creating and editing an integration through a guided form.
//!
//! `GET /console/integrations/new` and `GET /console/integrations/{id}/edit`
//! show the nine steps ([`super::integration_form`]); their `POST` either
//! switches between the form and the raw JSON view (`action=raw` /
//! `action=form`, keeping what was typed), shows the form again as typed with
//! one more blank resource, method, action or step (`action=more`, the "Add
//! ..." buttons of [`super::group_view`]) or saves (`action=save`, also what
//! Enter in a text input does). Saving
//! checks everything at once: the identifier, each JSON field, then the
//! config with the API's validator, and shows every problem next to the field
//! it belongs to; nothing is stored until there are none. The integration is
//! then created or updated as `POST /integration` / `PATCH /integration/{id}`
//! do ([`CreateIntegration`], [`UpdateIntegration`]).

use std::fmt::Write as _;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::Failed;
use super::csrf::{self, hidden_field};
use super::integration_form::{Draft, FIELDS, Field, GENERAL, Kind, Problems, RAW, STEPS, pretty};
use super::layout::{Screen, Section, escape};
use super::session::Signed;
use super::{group_view, structured_view};
use crate::connect::public_base;
use crate::error::ApiError;
use crate::routes::integrations::{CreateIntegration, UpdateIntegration};
use crate::state::AppState;

/// What the form saves to.
enum Target {
    /// A new integration.
    New,
    /// The integration `id` at `version`.
    Edit { id: String, version: u64 },
}

impl Target {
    fn action(&self) -> String {
        match self {
            Self::New => "/console/integrations/new".to_owned(),
            Self::Edit { id, .. } => format!("/console/integrations/{}/edit", escape(id)),
        }
    }
}

/// Which view the form is in.
enum View {
    /// The nine steps.
    Form,
    /// The whole config as JSON (its text).
    Raw(String),
}

/// Everything a render needs.
struct Render<'a> {
    signed: &'a Signed,
    base: String,
    target: Target,
    draft: Draft,
    view: View,
    problems: Problems,
}

/// The problems of `key`, as the list shown under its field.
pub(super) fn problem_list(problems: &Problems, key: &str) -> String {
    let Some(list) = problems.get(key).filter(|l| !l.is_empty()) else {
        return String::new();
    };
    let mut html = format!("<ul class=\"field-error\" id=\"f-{key}-error\">");
    for problem in list {
        let _ = write!(html, "<li>{}</li>", escape(problem));
    }
    html.push_str("</ul>");
    html
}

/// The `aria-*` attributes of a field with `hint` and maybe problems.
pub(super) fn described(problems: &Problems, key: &str, hint: bool) -> String {
    let mut ids = Vec::new();
    if hint {
        ids.push(format!("f-{key}-hint"));
    }
    let invalid = problems.get(key).is_some_and(|l| !l.is_empty());
    if invalid {
        ids.push(format!("f-{key}-error"));
    }
    let mut attributes = String::new();
    if !ids.is_empty() {
        let _ = write!(attributes, " aria-describedby=\"{}\"", ids.join(" "));
    }
    if invalid {
        attributes.push_str(" aria-invalid=\"true\"");
    }
    attributes
}

/// One config field.
fn field_html(field: &Field, draft: &Draft, problems: &Problems) -> String {
    let key = field.key;
    if let Kind::Inputs(shape) = field.kind {
        return structured_view::field_html(field, shape, draft, problems);
    }
    if let Kind::Groups(groups) = field.kind {
        return group_view::field_html(field, groups, draft, problems);
    }
    let value = draft.value(key);
    let aria = described(problems, key, !field.hint.is_empty());
    let mut html = format!(
        "<div class=\"field\"><label for=\"f-{key}\">{}</label>",
        field.label
    );
    match field.kind {
        Kind::Text => {
            let _ = write!(
                html,
                "<input id=\"f-{key}\" name=\"{key}\" type=\"text\" value=\"{}\" spellcheck=\"false\"{aria}>",
                escape(value)
            );
        }
        Kind::Choice(options) => {
            let _ = write!(
                html,
                "<select id=\"f-{key}\" name=\"{key}\"{aria}><option value=\"\">Default</option>"
            );
            for option in options {
                let selected = if value == *option { " selected" } else { "" };
                let _ = write!(html, "<option{selected}>{option}</option>");
            }
            html.push_str("</select>");
        }
        Kind::Json | Kind::Inputs(_) | Kind::Groups(_) => {
            let _ = write!(
                html,
                "<textarea id=\"f-{key}\" name=\"{key}\" rows=\"5\" spellcheck=\"false\"{aria}>{}</textarea>",
                escape(value)
            );
        }
    }
    if !field.hint.is_empty() {
        let _ = write!(
            html,
            "<p class=\"hint\" id=\"f-{key}-hint\">{}</p>",
            escape(field.hint)
        );
    }
    html.push_str(&problem_list(problems, key));
    html.push_str("</div>");
    html
}

/// The identifier, category and beta flag (step 1, in both views).
fn own_fields(render: &Render<'_>) -> String {
    let draft = &render.draft;
    let problems = &render.problems;
    format!(
        "<div class=\"field\"><label for=\"f-name\">Identifier</label>\
         <input id=\"f-name\" name=\"name\" type=\"text\" required value=\"{name}\" spellcheck=\"false\" \
         autocomplete=\"off\"{aria}>\
         <p class=\"hint\" id=\"f-name-hint\">Unique in the environment, e.g. salesforce. The OAuth \
         redirect URL is <code>{base}/connect/&lt;identifier&gt;/callback</code>.</p>{errors}</div>\
         <div class=\"field\"><label for=\"f-category\">Category</label>\
         <input id=\"f-category\" name=\"category\" type=\"text\" value=\"{category}\"></div>\
         <div class=\"field\"><label><input type=\"checkbox\" name=\"is_beta\" id=\"f-is_beta\"{beta}> \
         Beta</label></div>",
        name = escape(&draft.name),
        aria = described(problems, "name", true),
        base = escape(&render.base),
        errors = problem_list(problems, "name"),
        category = escape(&draft.category),
        beta = if draft.is_beta { " checked" } else { "" },
    )
}

/// The whole page.
fn render(render: Render<'_>, status: StatusCode) -> Response {
    let title = match render.target {
        Target::New => "Create integration",
        Target::Edit { .. } => "Edit integration",
    };
    let mut body = String::from("<p><a href=\"/console/catalog\">← Catalog</a></p>");
    let count: usize = render.problems.values().map(Vec::len).sum();
    if count > 0 {
        let _ = write!(
            body,
            "<div class=\"error\" role=\"alert\" id=\"problems\"><p>{count} problem{} to fix; \
             nothing was saved. Each is shown next to its field:</p><ul>",
            if count == 1 { "" } else { "s" }
        );
        for (key, list) in &render.problems {
            let target = if key.is_empty() {
                "problems"
            } else {
                key.as_str()
            };
            for problem in list {
                let _ = write!(
                    body,
                    "<li><a href=\"#f-{}\">{}</a></li>",
                    escape(target),
                    escape(problem)
                );
            }
        }
        body.push_str("</ul></div>");
    }
    let mode = match render.view {
        View::Form => "form",
        View::Raw(_) => "raw",
    };
    let _ = write!(
        body,
        "<form method=\"post\" action=\"{}\" novalidate>{}<input type=\"hidden\" name=\"mode\" value=\"{mode}\">\
         <button type=\"submit\" name=\"action\" value=\"save\" class=\"default-action\" tabindex=\"-1\" \
         aria-hidden=\"true\">Save integration</button>",
        render.target.action(),
        hidden_field(&render.signed.session.csrf)
    );
    if let Target::Edit { version, .. } = &render.target {
        let _ = write!(
            body,
            "<input type=\"hidden\" name=\"version\" value=\"{version}\">"
        );
    }
    match &render.view {
        View::Form => {
            for (index, (step, about)) in STEPS.iter().enumerate() {
                let number = index + 1;
                let _ = write!(
                    body,
                    "<fieldset class=\"card\" id=\"step-{number}\"><legend>Step {number}: {step}</legend>\
                     <p class=\"hint\">{}</p>",
                    escape(about)
                );
                if number == 1 {
                    body.push_str(&own_fields(&render));
                }
                for field in FIELDS.iter().filter(|f| f.step == number) {
                    body.push_str(&field_html(field, &render.draft, &render.problems));
                }
                body.push_str("</fieldset>");
            }
            body.push_str(
                "<p><button type=\"submit\" name=\"action\" value=\"save\" id=\"save\">Save integration</button> \
                 <button type=\"submit\" name=\"action\" value=\"raw\" class=\"secondary\" id=\"to-raw\">\
                 Edit as raw JSON</button></p>",
            );
        }
        View::Raw(text) => {
            body.push_str("<fieldset class=\"card\"><legend>Basic details</legend>");
            body.push_str(&own_fields(&render));
            let _ = write!(
                body,
                "</fieldset><fieldset class=\"card\"><legend>The config as JSON</legend>\
                 <label for=\"f-{RAW}\">Integration config</label>\
                 <textarea id=\"f-{RAW}\" name=\"{RAW}\" rows=\"30\" spellcheck=\"false\"{}>{}</textarea>\
                 <p class=\"hint\" id=\"f-{RAW}-hint\">The <code>config</code> of <code>POST /integration</code>.</p>{}</fieldset>",
                described(&render.problems, RAW, true),
                escape(text),
                problem_list(&render.problems, RAW),
            );
            body.push_str(
                "<p><button type=\"submit\" name=\"action\" value=\"save\" id=\"save\">Save integration</button> \
                 <button type=\"submit\" name=\"action\" value=\"form\" class=\"secondary\" id=\"to-form\">\
                 Back to the form</button></p>",
            );
        }
    }
    body.push_str("</form>");
    Screen::signed(render.signed, Section::Catalog, title, body)
        .with_status(status)
        .with_script(structured_view::SCRIPT)
        .into_response()
}

/// `GET /console/integrations/new`.
pub(super) async fn new_page(
    State(state): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
) -> Response {
    let base = public_base(&state, &headers);
    render(
        Render {
            signed: &signed,
            base,
            target: Target::New,
            draft: Draft::default(),
            view: View::Form,
            problems: Problems::new(),
        },
        StatusCode::OK,
    )
}

/// `GET /console/integrations/{id}/edit`.
pub(super) async fn edit_page(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Failed> {
    let record = state.store.get_integration(signed.env(), &id).await?;
    let draft = Draft::of(
        &record.name,
        record.category.as_deref(),
        record.is_beta,
        &record.config,
    );
    let base = public_base(&state, &headers);
    Ok(render(
        Render {
            signed: &signed,
            base,
            target: Target::Edit {
                id: record.id,
                version: record.version,
            },
            draft,
            view: View::Form,
            problems: Problems::new(),
        },
        StatusCode::OK,
    ))
}

/// `POST /console/integrations/new`.
pub(super) async fn new_submit(
    State(state): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Failed> {
    submit(&state, &signed, &headers, &body, None).await
}

/// `POST /console/integrations/{id}/edit`.
pub(super) async fn edit_submit(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Failed> {
    submit(&state, &signed, &headers, &body, Some(id)).await
}

/// Switches views or saves (see the module docs).
async fn submit(
    state: &AppState,
    signed: &Signed,
    headers: &HeaderMap,
    body: &[u8],
    id: Option<String>,
) -> Result<Response, Failed> {
    let form = match csrf::signed_form(state, headers, body, signed) {
        Ok(form) => form,
        Err(refused) => return Ok(refused.page()),
    };
    let target = match id {
        None => Target::New,
        Some(id) => Target::Edit {
            version: form
                .text("version")
                .and_then(|v| v.parse().ok())
                .unwrap_or_default(),
            id,
        },
    };
    let raw_view = form.get("mode") == Some("raw");
    let mut draft = Draft::from_form(&form);
    // The config as typed, from whichever view was shown.
    let config: Result<Value, Problems> = if raw_view {
        let text = form.get(RAW).unwrap_or_default();
        serde_json::from_str(text)
            .map_err(|e| Problems::from([(RAW.to_owned(), vec![format!("is not JSON: {e}")])]))
    } else {
        draft.config()
    };
    let page = |draft: Draft, view: View, problems: Problems, status| {
        render(
            Render {
                signed,
                base: public_base(state, headers),
                target: Target::clone_of(&target),
                draft,
                view,
                problems,
            },
            status,
        )
    };
    let same_view = || {
        if raw_view {
            View::Raw(form.get(RAW).unwrap_or_default().to_owned())
        } else {
            View::Form
        }
    };
    match (form.get("action"), config) {
        (Some(group_view::MORE_ACTION), _) if !raw_view => {
            Ok(page(draft, View::Form, Problems::new(), StatusCode::OK))
        }
        (Some("raw"), Ok(config)) => Ok(page(
            draft,
            View::Raw(pretty(&config)),
            Problems::new(),
            StatusCode::OK,
        )),
        (Some("form"), Ok(config)) => {
            draft.set_config(&config);
            Ok(page(draft, View::Form, Problems::new(), StatusCode::OK))
        }
        (Some("raw" | "form"), Err(problems)) => Ok(page(
            draft,
            same_view(),
            problems,
            StatusCode::UNPROCESSABLE_ENTITY,
        )),
        (_, config) => {
            let mut problems = draft.own_problems();
            let config = match config {
                Ok(config) => {
                    if let Some(found) = draft.validate(&config) {
                        merge(&mut problems, found, raw_view);
                    }
                    Some(config)
                }
                Err(found) => {
                    merge(&mut problems, found, raw_view);
                    None
                }
            };
            let Some(config) = config.filter(|_| problems.is_empty()) else {
                return Ok(page(
                    draft,
                    same_view(),
                    problems,
                    StatusCode::UNPROCESSABLE_ENTITY,
                ));
            };
            match save(state, signed.env(), &target, &draft, config).await {
                Ok(name) => Ok(saved(&name)),
                Err(error) if error.status().is_server_error() => Err(error.into()),
                Err(error) => {
                    let status = error.status();
                    let key = if status == StatusCode::CONFLICT && matches!(target, Target::New) {
                        "name"
                    } else {
                        GENERAL
                    };
                    let problems = Problems::from([(key.to_owned(), vec![error.to_string()])]);
                    Ok(page(draft, same_view(), problems, status))
                }
            }
        }
    }
}

impl Target {
    fn clone_of(target: &Self) -> Self {
        match target {
            Self::New => Self::New,
            Self::Edit { id, version } => Self::Edit {
                id: id.clone(),
                version: *version,
            },
        }
    }
}

/// Adds `found` to `problems`; in the raw view every config problem belongs
/// to the raw field.
fn merge(problems: &mut Problems, found: Problems, raw_view: bool) {
    for (key, list) in found {
        let key = if raw_view { RAW.to_owned() } else { key };
        problems.entry(key).or_default().extend(list);
    }
}

/// Creates or updates the integration; answers its name.
async fn save(
    state: &AppState,
    env: &str,
    target: &Target,
    draft: &Draft,
    config: Value,
) -> Result<String, ApiError> {
    let category = (!draft.category.is_empty()).then(|| draft.category.clone());
    let record = match target {
        Target::New => {
            let new = CreateIntegration {
                name: draft.name.clone(),
                category,
                is_beta: draft.is_beta,
                sharing: None,
                config,
            }
            .validate()?;
            state.store.create_integration(env, new).await?
        }
        Target::Edit { id, version } => {
            let patch = UpdateIntegration {
                version: *version,
                name: Some(draft.name.clone()),
                category: Some(category),
                is_beta: Some(draft.is_beta),
                sharing: None,
                config: Some(config),
            }
            .validate()?;
            state.store.update_integration(env, id, patch).await?
        }
    };
    tracing::info!(integration = %record.id, "the console saved an integration");
    Ok(record.name)
}

/// 303 to the catalog, which says the integration was saved.
fn saved(name: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let location = format!(
        "/console/catalog?saved={}",
        url::form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>()
    );
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}
