//! The pages: the chooser of installs, the chooser of credentials, the
//! credential form, the result page after connecting, and the error page of
//! an [`ApiError`].

use std::collections::HashMap;

use axum::http::StatusCode;
use patchbay::config::{AccountStatus, Credential, IntegratedAccount};
use serde_json::{Value, json};

use super::csrf;
use super::fields::{self, FieldProblem};
use super::html::{Page, escape, json_for_script};
use super::link::{LINK_TOKEN, link_gone, live_link};
use super::target::{Target, installs_to_choose, resolve_target};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::LinkToken;

/// Answers `page` as a response; the flow's handlers return `Result<_, Page>`.
pub(super) type Flow<T> = Result<T, Page>;

/// The error page of `error`: its status and message.
pub(super) fn api_page(error: ApiError) -> Page {
    let status = error.status();
    let title = if status.is_server_error() {
        "Something went wrong"
    } else {
        "This connection cannot be made"
    };
    Page::error(status, title, &error.to_string())
}

/// The page [`page`](super::page) answers: the chooser of installs, else the
/// credential step of the target.
pub(super) async fn page_inner(
    state: &AppState,
    base: &str,
    csrf: &str,
    query: &HashMap<String, String>,
) -> Flow<Page> {
    let token = query.get(LINK_TOKEN).map(String::as_str);
    let link = live_link(state, token).await?;
    let token = token.unwrap_or_default();
    let chosen = query.get("integration").map(String::as_str);
    let Some(target) = resolve_target(state, &link, chosen).await? else {
        let installs = installs_to_choose(state, &link.environment_id).await?;
        if let [(only, _)] = installs.as_slice() {
            let target = resolve_target(state, &link, Some(&only.id)).await?;
            return Ok(credential_step(base, token, csrf, target, query));
        }
        if installs.is_empty() {
            return Err(Page::error(
                StatusCode::NOT_FOUND,
                "Nothing to connect",
                "No integration is available to connect. Ask the application's team to install one.",
            ));
        }
        let choices: Vec<(String, String)> = installs
            .iter()
            .map(|(install, integration)| {
                let label = integration
                    .config
                    .get("label")
                    .and_then(Value::as_str)
                    .unwrap_or(&integration.name)
                    .to_owned();
                (
                    connect_url(base, token, &[("integration", &install.id)]),
                    label,
                )
            })
            .collect();
        return Ok(choices_page(
            "Choose an app to connect",
            "Which app do you want to connect?",
            &choices,
        ));
    };
    Ok(credential_step(base, token, csrf, Some(target), query))
}

/// The credential form of `target`, or the chooser of its credentials.
fn credential_step(
    base: &str,
    token: &str,
    csrf: &str,
    target: Option<Target>,
    query: &HashMap<String, String>,
) -> Page {
    let Some(target) = target else {
        return link_gone();
    };
    match target.credential(query.get("credential").map(String::as_str)) {
        Ok((name, credential)) => form_page(
            base,
            token,
            csrf,
            &target,
            &name,
            &credential,
            &HashMap::new(),
            &[],
        ),
        Err(names) if names.is_empty() => Page::error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "This integration cannot be connected here",
            "Its config has no credentials to collect.",
        ),
        Err(names) => {
            let choices: Vec<(String, String)> = names
                .iter()
                .map(|name| {
                    (
                        connect_url(
                            base,
                            token,
                            &[("integration", &target.install.id), ("credential", name)],
                        ),
                        name.replace('_', " "),
                    )
                })
                .collect();
            choices_page(
                &format!("Connect {}", target.label()),
                "How do you want to connect?",
                &choices,
            )
        }
    }
}

fn connect_url(base: &str, token: &str, extra: &[(&str, &str)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair(LINK_TOKEN, token);
    for (k, v) in extra {
        query.append_pair(k, v);
    }
    format!("{base}/connect-account?{}", query.finish())
}

fn choices_page(title: &str, intro: &str, choices: &[(String, String)]) -> Page {
    let mut body = format!("<p>{}</p><ul class=\"choices\">", escape(intro));
    for (href, label) in choices {
        body.push_str(&format!(
            r#"<li><a class="choice" href="{}">{}</a></li>"#,
            escape(href),
            escape(label)
        ));
    }
    body.push_str("</ul>");
    Page::new(StatusCode::OK, title, body)
}

/// The credential form of `target`; `csrf` is the browser binding's sealed
/// token (see [`csrf`]).
#[allow(clippy::too_many_arguments)]
pub(super) fn form_page(
    base: &str,
    token: &str,
    csrf: &str,
    target: &Target,
    credential_name: &str,
    credential: &Credential,
    submitted: &HashMap<String, String>,
    problems: &[FieldProblem],
) -> Page {
    let label = target.label();
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut body = String::new();
    if target.account.is_some() {
        body.push_str(&format!(
            "<p>Reconnect your {} account.</p>",
            escape(&label)
        ));
    }
    body.push_str(&format!(
        r#"<form method="post" action="{}/connect-account">"#,
        escape(base)
    ));
    for (name, value) in [
        (LINK_TOKEN, token),
        (csrf::FIELD, csrf),
        ("integration", target.install.id.as_str()),
        ("credential", credential_name),
    ] {
        body.push_str(&format!(
            r#"<input type="hidden" name="{name}" value="{}">"#,
            escape(value)
        ));
    }
    body.push_str(&fields::render_inputs(
        credential.fields(),
        submitted,
        problems,
    ));
    let button = match credential {
        Credential::OAuth2(_) => format!("Continue to {label}"),
        _ => "Connect".to_owned(),
    };
    body.push_str(&format!(
        r#"<button type="submit" id="connect">{}</button></form>"#,
        escape(&button)
    ));
    Page::new(status, &format!("Connect {label}"), body)
}

/// The page after connecting: says what happened and, when the link has a
/// `redirect_uri`, posts the outcome to an opener window (or, framed, to the
/// framing page) on that URI's origin (never to `*`) and, unless framed,
/// follows it (with `integrated_account_id` and `status` appended). Without a
/// `redirect_uri` it posts nothing.
pub(super) fn result_page(
    link: &LinkToken,
    target: &Target,
    outcome: Result<IntegratedAccount, ApiError>,
) -> Page {
    let account = match outcome {
        Ok(account) => account,
        Err(error) => return api_page(error),
    };
    let label = target.label();
    let (title, text) = match account.status {
        AccountStatus::Active => (
            format!("{label} is connected"),
            "You can close this window.".to_owned(),
        ),
        _ => (
            format!("{label} could not be set up"),
            format!(
                "The connection was made, but setting it up failed: {}",
                account.last_error.as_deref().unwrap_or("unknown error")
            ),
        ),
    };
    let status = account.status.as_str().to_owned();
    let message = json!({
        "source": "patchbay",
        "type": "connect",
        "integrated_account_id": account.id,
        "environment_integration_id": account.environment_integration_id,
        "tenant_id": account.tenant_id,
        "status": status,
        "error": account.last_error,
    });
    let redirect = link.params.redirect_uri.as_deref().and_then(|uri| {
        let mut url = url::Url::parse(uri).ok()?;
        url.query_pairs_mut()
            .append_pair("integrated_account_id", &account.id)
            .append_pair("status", &status);
        Some(url)
    });
    let mut body = format!(
        r#"<p id="result" data-status="{}" data-account="{}">{}</p>"#,
        escape(&status),
        escape(&account.id),
        escape(&text)
    );
    let Some(url) = redirect else {
        // No redirect_uri, so no origin to address: post nothing (the result
        // must never go to `*`, i.e. to whatever page opened this window).
        return Page::new(StatusCode::OK, &title, body);
    };
    body.push_str(&format!(
        r#"<p><a href="{}">Continue</a></p>"#,
        escape(url.as_str())
    ));
    // The host is the popup's opener or, in the Link SDK's iframe mode, the
    // framing page; a framed page stays (the SDK removes the frame).
    let script = format!(
        "var result = {};\n\
         var framed = window.parent !== window;\n\
         var host = window.opener || (framed ? window.parent : null);\n\
         if (host) {{ try {{ host.postMessage(result, {}); }} catch (e) {{}} }}\n\
         if (!framed) {{ window.location.replace({}); }}",
        json_for_script(&message),
        json_for_script(&Value::String(url.origin().ascii_serialization())),
        json_for_script(&Value::String(url.into())),
    );
    Page::new(StatusCode::OK, &title, body).with_script(script)
}
