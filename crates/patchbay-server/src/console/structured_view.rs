//! The HTML of a field edited with one input per key ([`super::structured`]):
//! a format choice, the keys of every format and of each format (shown for
//! the chosen format only when scripts run; all of them otherwise, each under
//! its formats' names), rows with an "Add a row" button, and the field's JSON
//! text area for the rest. Every input has a label (rows: `aria-label`) and
//! its problems next to it.

use std::fmt::Write as _;

use super::integration_form::{Draft, Field, Problems};
use super::integrations::{described, problem_list};
use super::layout::escape;
use super::structured::{
    self, FORMAT, Input, MORE, Part, Rows, Shape, cell_name, input_name, map_cell_name,
};

/// The script that shows the chosen format's keys and adds rows. Without it
/// every format's keys show, and each save or view switch adds a blank row.
pub(super) const SCRIPT: &str = "\
document.querySelectorAll('select[data-variants]').forEach(function (select) {\
  var show = function () {\
    document.querySelectorAll('.variant[data-field=\"' + select.dataset.variants + '\"]').forEach(function (group) {\
      group.hidden = group.dataset.formats.split(' ').indexOf(select.value) < 0;\
    });\
  };\
  select.addEventListener('change', show);\
  show();\
});\
document.querySelectorAll('button[data-add-row]').forEach(function (button) {\
  button.hidden = false;\
  button.addEventListener('click', function () {\
    var body = document.getElementById(button.dataset.addRow);\
    var template = document.getElementById(button.dataset.addRow + '-template');\
    var index = Number(body.dataset.next);\
    body.dataset.next = String(index + 1);\
    body.insertAdjacentHTML('beforeend', template.innerHTML.split('__i__').join(String(index)).split('__n__').join(String(index + 1)));\
    body.lastElementChild.querySelector('input, select').focus();\
  });\
});";

/// The control of one input named `name`, holding `value`.
pub(super) fn control(name: &str, input: Input, value: &str, attributes: &str) -> String {
    let choices: &[(&str, &str)] = match input {
        Input::Flag => &[("true", "Yes"), ("false", "No")],
        _ => &[],
    };
    match input {
        Input::Text | Input::Words | Input::Number => {
            let mode = if input == Input::Number {
                " inputmode=\"numeric\""
            } else {
                ""
            };
            format!(
                "<input id=\"f-{name}\" name=\"{name}\" type=\"text\" value=\"{}\" spellcheck=\"false\"{mode}{attributes}>",
                escape(value)
            )
        }
        Input::Flag | Input::Choice(_) => {
            let mut html = format!(
                "<select id=\"f-{name}\" name=\"{name}\"{attributes}><option value=\"\">Not set</option>"
            );
            let options: Vec<(&str, &str)> = match input {
                Input::Choice(list) => list.iter().map(|o| (*o, *o)).collect(),
                _ => choices.to_vec(),
            };
            let known = options.iter().any(|(v, _)| *v == value);
            for (option, text) in options {
                let selected = if option == value { " selected" } else { "" };
                let _ = write!(html, "<option value=\"{option}\"{selected}>{text}</option>");
            }
            if !known && !value.is_empty() {
                let _ = write!(html, "<option selected>{}</option>", escape(value));
            }
            html.push_str("</select>");
            html
        }
    }
}

/// One labelled input with its problems.
fn part_html(
    name: &str,
    part: &Part,
    input: Input,
    draft: &Draft,
    problems: &Problems,
    extra: &str,
) -> String {
    let attributes = format!("{extra}{}", described(problems, name, false));
    format!(
        "<div class=\"field\"><label for=\"f-{name}\">{}</label>{}{}</div>",
        escape(part.label),
        control(name, input, draft.value(name), &attributes),
        problem_list(problems, name)
    )
}

/// The columns of rows: the shape's, or name and value for a map.
fn columns(rows: Option<&Rows>) -> Vec<(&'static str, &'static str, Input)> {
    match rows {
        Some(rows) => {
            let mut columns = rows.columns.to_vec();
            columns.push((MORE, "Other keys (JSON)", Input::Text));
            columns
        }
        None => vec![
            ("name", "Name", Input::Text),
            ("value", "Value", Input::Text),
        ],
    }
}

/// A table of rows (`rows`, or the name/value rows of a map), one blank row
/// more, a template for more and the button that adds them.
fn rows_html(key: &str, rows: Option<&Rows>, draft: &Draft, problems: &Problems) -> String {
    let group = rows.map_or("entries", |r| r.name);
    let caption = rows.map_or("Names and values", |r| r.label);
    let id = format!("f-{key}-{group}");
    let columns = columns(rows);
    let indexes = structured::row_indexes(&draft.values, &format!("{key}-{group}"));
    let next = indexes.last().map_or(0, |i| i + 1);
    let mut html = format!(
        "<div class=\"table-wrap\"><table class=\"rows\"><caption>{}</caption><thead><tr>",
        escape(caption)
    );
    for (_, label, _) in &columns {
        let _ = write!(html, "<th scope=\"col\">{}</th>", escape(label));
    }
    let _ = write!(
        html,
        "</tr></thead><tbody id=\"{id}\" data-next=\"{}\">",
        next + 1
    );
    let row = |index: String, number: String, value: &dyn Fn(&str) -> String| {
        let mut html = String::from("<tr>");
        for (column, label, input) in &columns {
            let name = match rows {
                Some(rows) => cell_name(key, rows.name, &index, column),
                None => map_cell_name(key, &index, column),
            };
            let attributes = format!(
                " aria-label=\"{} (row {number})\"{}",
                escape(label),
                described(problems, &name, false)
            );
            let _ = write!(
                html,
                "<td>{}{}</td>",
                control(&name, *input, &value(&name), &attributes),
                problem_list(problems, &name)
            );
        }
        html.push_str("</tr>");
        html
    };
    for index in indexes.iter().copied().chain([next]) {
        html.push_str(&row(index.to_string(), (index + 1).to_string(), &|name| {
            draft.value(name).to_owned()
        }));
    }
    let _ = write!(
        html,
        "</tbody></table></div><template id=\"{id}-template\">{}</template>\
         <button type=\"button\" class=\"secondary\" data-add-row=\"{id}\" hidden>Add a row</button>",
        row("__i__".to_owned(), "__n__".to_owned(), &|_| String::new())
    );
    html
}

/// A field edited with one input per key of `shape`.
pub(super) fn field_html(
    field: &Field,
    shape: &Shape,
    draft: &Draft,
    problems: &Problems,
) -> String {
    let key = field.key;
    let mut html = format!(
        "<fieldset class=\"inputs\" id=\"f-{key}-inputs\"><legend>{}</legend>",
        escape(field.label)
    );
    if !field.hint.is_empty() {
        let _ = write!(html, "<p class=\"hint\">{}</p>", escape(field.hint));
    }
    if !shape.formats.is_empty() {
        let name = input_name(key, None, &FORMAT);
        html.push_str(&part_html(
            &name,
            &FORMAT,
            Input::Choice(shape.formats),
            draft,
            problems,
            &format!(" data-variants=\"{key}\""),
        ));
    }
    for part in shape.common {
        html.push_str(&part_html(
            &input_name(key, None, part),
            part,
            part.input,
            draft,
            problems,
            "",
        ));
    }
    for variant in shape.variants {
        let _ = write!(
            html,
            "<div class=\"variant\" data-field=\"{key}\" data-formats=\"{}\"><p class=\"hint\">For {}:</p>",
            variant.formats.join(" "),
            variant
                .formats
                .iter()
                .map(|f| format!("<code>{f}</code>"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        for part in variant.parts {
            let name = input_name(key, Some(variant.name), part);
            html.push_str(&part_html(&name, part, part.input, draft, problems, ""));
        }
        html.push_str("</div>");
    }
    if shape.rows.is_some() || shape.map {
        html.push_str(&rows_html(key, shape.rows.as_ref(), draft, problems));
    }
    let label = field.label.to_lowercase();
    let _ = write!(
        html,
        "<div class=\"field\"><label for=\"f-{key}\">Other {label} settings (JSON)</label>\
         <textarea id=\"f-{key}\" name=\"{key}\" rows=\"3\" spellcheck=\"false\"{}>{}</textarea>\
         <p class=\"hint\" id=\"f-{key}-hint\">Keys without an input above, as JSON; merged with the inputs.</p>{}</div></fieldset>",
        described(problems, key, true),
        escape(draft.value(key)),
        problem_list(problems, key)
    );
    html
}
