//! The HTML of the fields edited as repeatable groups: resources
//! ([`super::resource_inputs`]) and actions ([`super::action_inputs`]).
//!
//! Each resource, method, action and step is a fieldset with a legend; every
//! input has a label (rows: `aria-label`) and its problems next to it. One
//! blank group is always shown at each level (blank groups that were
//! submitted are not shown again), so a group is added by filling it in; the
//! "Add ..." buttons are submit buttons (`action=more`) that show the form
//! again as typed, with a new blank group after the one just filled in, and
//! scroll to it: no script is needed. A step's inputs are those of every type, grouped under
//! the type's name (the form's script shows the chosen type's only).

use std::fmt::Write as _;

use super::action_inputs::{self, ACTION_NAMES, STEP_TYPES, action_prefix, step_prefix};
use super::integration_form::{Draft, Field, Groups, Problems};
use super::integrations::{described, problem_list};
use super::layout::escape;
use super::nested::{MORE, indexes, is_blank};
use super::resource_inputs::{
    self, HTTP_METHODS, METHOD_KEYS, METHOD_NAMES, method_prefix, resource_prefix,
};
use super::structured::Input;
use super::structured_view::control;

/// The value of the submit buttons that show the form again with one blank
/// group more.
pub(super) const MORE_ACTION: &str = "more";

/// The indexes of the groups `prefix` holds that are not blank, and one
/// more, after them, for the blank group (so blank groups do not pile up
/// when the form is shown again).
fn with_blank(draft: &Draft, prefix: &str) -> (Vec<usize>, usize) {
    let mut list: Vec<usize> = indexes(&draft.values, prefix)
        .into_iter()
        .filter(|i| !is_blank(&draft.values, &format!("{prefix}-{i}")))
        .collect();
    let next = list.last().map_or(0, |i| i + 1);
    list.push(next);
    (list, next)
}

/// A labelled input (`input` as in [`control`]) with an optional hint and
/// its problems.
fn input_html(
    name: &str,
    label: &str,
    input: Input,
    hint: &str,
    extra: &str,
    draft: &Draft,
    problems: &Problems,
) -> String {
    let attributes = format!("{extra}{}", described(problems, name, !hint.is_empty()));
    let mut html = format!(
        "<div class=\"field\"><label for=\"f-{name}\">{}</label>{}",
        escape(label),
        control(name, input, draft.value(name), &attributes)
    );
    if !hint.is_empty() {
        let _ = write!(html, "<p class=\"hint\" id=\"f-{name}-hint\">{hint}</p>");
    }
    html.push_str(&problem_list(problems, name));
    html.push_str("</div>");
    html
}

/// A labelled JSON text area with a hint and its problems.
fn json_html(name: &str, label: &str, hint: &str, draft: &Draft, problems: &Problems) -> String {
    format!(
        "<div class=\"field\"><label for=\"f-{name}\">{}</label>\
         <textarea id=\"f-{name}\" name=\"{name}\" rows=\"3\" spellcheck=\"false\"{}>{}</textarea>\
         <p class=\"hint\" id=\"f-{name}-hint\">{hint}</p>{}</div>",
        escape(label),
        described(problems, name, true),
        escape(draft.value(name)),
        problem_list(problems, name)
    )
}

/// Name/value rows `prefix` (one blank row more) in a table.
fn pairs_html(
    prefix: &str,
    caption: &str,
    row: &str,
    draft: &Draft,
    problems: &Problems,
) -> String {
    let mut html = format!(
        "<div class=\"table-wrap\"><table class=\"rows\" id=\"f-{prefix}\"><caption>{}</caption>\
         <thead><tr><th scope=\"col\">Name</th><th scope=\"col\">Value</th></tr></thead><tbody>",
        escape(caption)
    );
    for index in with_blank(draft, prefix).0 {
        html.push_str("<tr>");
        for column in ["name", "value"] {
            let name = format!("{prefix}-{index}-{column}");
            let attributes = format!(
                " aria-label=\"{} {} {column}\"{}",
                escape(row),
                index + 1,
                described(problems, &name, false)
            );
            let _ = write!(
                html,
                "<td>{}{}</td>",
                control(&name, Input::Text, draft.value(&name), &attributes),
                problem_list(problems, &name)
            );
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table></div>");
    html
}

/// The submit button that shows the form again with a blank group more,
/// scrolled to `target`.
/// `id` is the button's.
fn add_button(id: &str, target: &str, text: &str) -> String {
    format!(
        "<p><button type=\"submit\" name=\"action\" value=\"{MORE_ACTION}\" class=\"secondary\" \
         id=\"{id}\" formaction=\"#{target}\">{}</button></p>",
        escape(text)
    )
}

/// The button of the group `prefix` (a resource, an action) adding another
/// `child` (method, step) to it, named after the group once typed.
fn add_child_button(prefix: &str, target: &str, child: &str, group: &str) -> String {
    let text = match group {
        "" => format!("Add another {child}"),
        name => format!("Add another {child} to {name}"),
    };
    add_button(&format!("f-{prefix}-add"), target, &text)
}

/// A `<datalist>` `id` suggesting `names`.
fn datalist(id: &str, names: &[&str]) -> String {
    let mut html = format!("<datalist id=\"{id}\">");
    for name in names {
        let _ = write!(html, "<option value=\"{name}\"></option>");
    }
    html.push_str("</datalist>");
    html
}

/// The opening of a group's fieldset: `what` and, once typed, its name.
fn group_open(id: &str, what: &str, name: &str) -> String {
    let legend = match name.trim() {
        "" => format!("New {}", what.to_lowercase()),
        name => format!("{what}: {}", escape(name)),
    };
    format!("<fieldset class=\"group\" id=\"{id}\"><legend>{legend}</legend>")
}

/// Step 8: a group per resource, within it a group per method.
fn resources_html(draft: &Draft, problems: &Problems) -> String {
    let mut html = datalist("method-names", &METHOD_NAMES);
    let (list, next) = with_blank(draft, resource_inputs::FIELD);
    for r in list {
        let prefix = resource_prefix(r);
        let resource = draft.value(&format!("{prefix}-name")).trim().to_owned();
        html.push_str(&group_open(&format!("f-{prefix}"), "Resource", &resource));
        html.push_str(&input_html(
            &format!("{prefix}-name"),
            "Resource name",
            Input::Text,
            "The data it is about, e.g. <code>accounts</code>: \
             <code>/proxy/&lt;resource&gt;</code> and unified mappings use it.",
            "",
            draft,
            problems,
        ));
        let (methods, next_method) = with_blank(draft, &format!("{prefix}-methods"));
        for m in methods {
            html.push_str(&method_html(r, m, draft, problems));
        }
        let target = format!("f-{}", method_prefix(r, next_method + 1));
        html.push_str(&add_child_button(&prefix, &target, "method", &resource));
        html.push_str("</fieldset>");
    }
    let target = format!("f-{}", resource_prefix(next + 1));
    html.push_str(&add_button(
        "f-resources-add",
        &target,
        "Add another resource",
    ));
    html
}

/// One method of resource `r`.
fn method_html(r: usize, m: usize, draft: &Draft, problems: &Problems) -> String {
    let prefix = method_prefix(r, m);
    let name = draft.value(&format!("{prefix}-name"));
    let mut html = group_open(&format!("f-{prefix}"), "Method", name);
    html.push_str(&input_html(
        &format!("{prefix}-name"),
        "Method name",
        Input::Text,
        "<code>list</code>, <code>get</code>, <code>create</code>, <code>update</code>, \
         <code>delete</code>, or a custom method's name.",
        " list=\"method-names\" autocomplete=\"off\"",
        draft,
        problems,
    ));
    html.push_str("<div class=\"side-by-side\">");
    for (key, label) in METHOD_KEYS {
        let (input, hint) = match key {
            "method" => (Input::Choice(HTTP_METHODS), "Not set: get."),
            "path" => (
                Input::Text,
                "Appended to the base URL, e.g. <code>/services/data/v57.0/sobjects/Account/{{id}}</code>.",
            ),
            _ => (
                Input::Text,
                "Where the records are in the response, e.g. <code>records</code>.",
            ),
        };
        html.push_str(&input_html(
            &format!("{prefix}-{key}"),
            label,
            input,
            hint,
            "",
            draft,
            problems,
        ));
    }
    html.push_str("</div>");
    html.push_str(&pairs_html(
        &format!("{prefix}-query"),
        "Query parameters (added to the integration's)",
        "Query parameter",
        draft,
        problems,
    ));
    html.push_str(&json_html(
        &format!("{prefix}-{MORE}"),
        "Other keys of this method (JSON)",
        "e.g. <code>{\"body\": {...}, \"pagination\": null, \"headers\": {...}}</code>; merged with the inputs.",
        draft,
        problems,
    ));
    html.push_str("</fieldset>");
    html
}

/// Step 9: a group per action, within it a group per step.
fn actions_html(draft: &Draft, problems: &Problems) -> String {
    let mut html = datalist("action-names", &ACTION_NAMES);
    html.push_str(
        "<p class=\"hint\">Each step gets the previous one's result: <code>get_context</code> \
         reads the account's context, <code>transform</code> evaluates JSONata over the result, \
         <code>update_context</code> merges the result into the context, <code>set_context</code> \
         merges fixed values, <code>request</code> calls the API.</p>",
    );
    let (list, next) = with_blank(draft, action_inputs::FIELD);
    for a in list {
        let prefix = action_prefix(a);
        let action = draft.value(&format!("{prefix}-name")).trim().to_owned();
        html.push_str(&group_open(&format!("f-{prefix}"), "Action", &action));
        html.push_str(&input_html(
            &format!("{prefix}-name"),
            "Action name",
            Input::Text,
            "<code>post_install</code> runs after an account connects, <code>validation</code> \
             after it (its failure marks the account); any other name runs on demand.",
            " list=\"action-names\" autocomplete=\"off\"",
            draft,
            problems,
        ));
        let single = action_inputs::single_input(a);
        if draft.value(&single) == "true" {
            let _ = write!(
                html,
                "<input type=\"hidden\" name=\"{single}\" value=\"true\">"
            );
        }
        let (steps, next_step) = with_blank(draft, &format!("{prefix}-steps"));
        for (number, s) in steps.into_iter().enumerate() {
            html.push_str(&step_html(a, s, number + 1, draft, problems));
        }
        let target = format!("f-{}", step_prefix(a, next_step + 1));
        html.push_str(&add_child_button(&prefix, &target, "step", &action));
        html.push_str("</fieldset>");
    }
    let target = format!("f-{}", action_prefix(next + 1));
    html.push_str(&add_button("f-actions-add", &target, "Add another action"));
    html
}

/// Step `s` of action `a`, the `number`th shown.
fn step_html(a: usize, s: usize, number: usize, draft: &Draft, problems: &Problems) -> String {
    let prefix = step_prefix(a, s);
    let kind = draft.value(&format!("{prefix}-type"));
    let legend = match kind.trim() {
        "" => format!("Action step {number}"),
        kind => format!("Action step {number}: {}", escape(kind)),
    };
    let mut html = format!("<fieldset class=\"group\" id=\"f-{prefix}\"><legend>{legend}</legend>");
    html.push_str(&input_html(
        &format!("{prefix}-type"),
        "Type",
        Input::Choice(STEP_TYPES),
        "",
        &format!(" data-variants=\"{prefix}\""),
        draft,
        problems,
    ));
    let variant = |kind: &str, inner: String| {
        format!(
            "<div class=\"variant\" data-field=\"{prefix}\" data-formats=\"{kind}\">\
             <p class=\"hint\">For <code>{kind}</code>:</p>{inner}</div>"
        )
    };
    let expression = format!("{prefix}-expression");
    html.push_str(&variant(
        "transform",
        format!(
            "<div class=\"field\"><label for=\"f-{expression}\">JSONata expression</label>\
             <textarea id=\"f-{expression}\" name=\"{expression}\" rows=\"2\" spellcheck=\"false\"{}>{}</textarea>\
             <p class=\"hint\" id=\"f-{expression}-hint\">Over the previous result, e.g. \
             <code>{{ 'label': subdomain }}</code>.</p>{}</div>",
            described(problems, &expression, true),
            escape(draft.value(&expression)),
            problem_list(problems, &expression)
        ),
    ));
    let mut request = input_html(
        &format!("{prefix}-method"),
        "HTTP method",
        Input::Choice(HTTP_METHODS),
        "Not set: get.",
        "",
        draft,
        problems,
    );
    request.push_str(&input_html(
        &format!("{prefix}-path"),
        "Path",
        Input::Text,
        "Appended to the base URL, e.g. <code>/users/me</code>.",
        "",
        draft,
        problems,
    ));
    html.push_str(&variant("request", request));
    html.push_str(&variant(
        "set_context",
        pairs_html(
            &format!("{prefix}-context"),
            "Context keys and values",
            "Context key",
            draft,
            problems,
        ),
    ));
    html.push_str(&json_html(
        &format!("{prefix}-{MORE}"),
        "Other keys of this step (JSON)",
        "e.g. the rest of a request's <code>config</code>: \
         <code>{\"config\": {\"pagination\": null}}</code>; merged with the inputs.",
        draft,
        problems,
    ));
    html.push_str("</fieldset>");
    html
}

/// A field edited as repeatable groups, and its JSON text area for what no
/// group holds.
pub(super) fn field_html(
    field: &Field,
    groups: Groups,
    draft: &Draft,
    problems: &Problems,
) -> String {
    let key = field.key;
    let mut html = format!("<div class=\"groups\" id=\"f-{key}-groups\">");
    let (what, example) = match groups {
        Groups::Resources => {
            html.push_str(&resources_html(draft, problems));
            (
                "resources",
                "<code>{\"contacts\": {\"list\": {\"path\": \"/contacts\"}}}</code>",
            )
        }
        Groups::Actions => {
            html.push_str(&actions_html(draft, problems));
            (
                "actions",
                "<code>{\"validation\": {\"type\": \"request\", \"config\": {\"path\": \"/me\"}}}</code>",
            )
        }
    };
    html.push_str(&json_html(
        key,
        &format!("Other {what} (JSON)"),
        &format!("More {what} by name, e.g. {example}; merged with the ones above."),
        draft,
        problems,
    ));
    html.push_str("</div>");
    html
}
