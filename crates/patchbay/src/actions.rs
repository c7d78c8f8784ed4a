//! Running an integration's actions (`post_install`, `validation`, custom ones).

use patchbay_config::ActionStep;
use patchbay_executor::{AccountRef, CallInput, CompiledIntegration, Executor, request_data};
use patchbay_template::ValueTemplate;
use patchbay_template::expression::Bindings;
use serde_json::{Map, Value};

use crate::Error;
use crate::response_path::at_response_path;

/// Runs `steps` for `account`, returning the account's new context.
///
/// Each step sees the previous step's result:
/// * `request`: calls the method object (integration settings layered under
///   it); the result is the response body at its `response_path`;
/// * `transform`: JSONata with the previous result as input and the context
///   as `$context`; the result is the expression's value;
/// * `get_context`: the result is the context;
/// * `set_context`: the object (placeholders rendered) is merged into the context;
/// * `update_context`: the previous result, an object, is merged into the context;
/// * `form`: needs a user; skipped here.
pub(crate) async fn run_steps(
    executor: &Executor,
    integration: &CompiledIntegration,
    name: &str,
    steps: &[ActionStep],
    account: AccountRef<'_>,
) -> Result<Map<String, Value>, Error> {
    let mut context = account.context.clone();
    let mut previous = Value::Null;
    for (index, step) in steps.iter().enumerate() {
        let fail = |kind: &'static str, message: String| Error::Action {
            action: name.to_owned(),
            step: index,
            kind,
            message,
        };
        match step {
            ActionStep::Request(method) => {
                let plan = integration
                    .plan_ad_hoc(name, method)
                    .map_err(|e| fail("request", e.to_string()))?;
                let current = AccountRef {
                    context: &context,
                    ..account
                };
                let response = executor
                    .call_plan(integration, &plan, current, &CallInput::new())
                    .await
                    .map_err(|e| fail("request", e.to_string()))?;
                previous = at_response_path(response.body, method.response_path.as_deref())
                    .map_err(|e| fail("request", e))?;
            }
            ActionStep::Transform(expression) => {
                let compiled = expression
                    .compile()
                    .map_err(|e| fail("transform", e.to_string()))?;
                let bindings = Bindings::new().with("context", Value::Object(context.clone()));
                previous = compiled
                    .evaluate(&previous, &bindings)
                    .map_err(|e| fail("transform", e.to_string()))?
                    .unwrap_or(Value::Null);
            }
            ActionStep::GetContext(_) => previous = Value::Object(context.clone()),
            ActionStep::SetContext(template) => {
                let data = request_data(&context, &CallInput::new());
                let rendered = ValueTemplate::parse(&template.0)
                    .map_err(|e| fail("set_context", e.to_string()))?
                    .render(&data);
                match rendered {
                    Some(Value::Object(patch)) => {
                        context.extend(patch.clone());
                        previous = Value::Object(patch);
                    }
                    other => {
                        return Err(fail(
                            "set_context",
                            format!("expected an object, got {}", kind(other.as_ref())),
                        ));
                    }
                }
            }
            ActionStep::UpdateContext(_) => match &previous {
                Value::Object(patch) => context.extend(patch.clone()),
                Value::Null => {}
                other => {
                    return Err(fail(
                        "update_context",
                        format!(
                            "the previous result is {}, not an object",
                            kind(Some(other))
                        ),
                    ));
                }
            },
            ActionStep::Form(_) => {}
        }
    }
    Ok(context)
}

fn kind(value: Option<&Value>) -> &'static str {
    value.map_or("undefined", patchbay_config::json_kind)
}
