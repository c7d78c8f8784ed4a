//! The extra calls a unified mapping plans (`before`/`after` steps, `side_load`), run
//! through the facade's `call`, so sandbox accounts refuse writing steps as they refuse
//! writing calls.

use patchbay_executor::CallInput;
use patchbay_unified::{CompiledMapping, PreparedCall, StepCall, StepScope, UnifiedRequest};
use serde_json::Value;

use crate::{Error, Patchbay};

impl Patchbay {
    /// Runs one planned step or side-load call and returns the provider's body.
    async fn run_step_call(&self, account_id: &str, call: StepCall) -> Result<Value, Error> {
        let input = CallInput {
            id: call.id,
            query: call.query,
            body: call.body,
            request_type: Some(super::UNIFIED_REQUEST),
            ..CallInput::default()
        };
        Ok(self
            .call(account_id, &call.resource, &call.method, &input)
            .await?
            .body)
    }

    /// Runs the mapping's `before` steps for `request` in order and returns their outputs
    /// (the provider's bodies; `null` for a step whose `run_if` is falsy), for
    /// [`UnifiedRequest::before`]. Each step sees the previous run step's output as `step`.
    pub(super) async fn run_before_steps(
        &self,
        account_id: &str,
        mapping: &CompiledMapping,
        request: &UnifiedRequest,
    ) -> Result<Vec<Value>, Error> {
        let mut outputs = Vec::new();
        let mut previous = None;
        for step in mapping.before_steps() {
            let scope = StepScope::before(request, previous.clone());
            match mapping.plan_step(step, &scope).map_err(Error::Unified)? {
                None => outputs.push(Value::Null),
                Some(call) => {
                    let output = self.run_step_call(account_id, call).await?;
                    previous = Some(output.clone());
                    outputs.push(output);
                }
            }
        }
        Ok(outputs)
    }

    /// Runs the mapping's `after` steps with `data` = the unified answer; their outputs
    /// are not part of the answer.
    pub(super) async fn run_after_steps(
        &self,
        account_id: &str,
        mapping: &CompiledMapping,
        prepared: &PreparedCall,
        data: &Value,
    ) -> Result<(), Error> {
        let mut previous = None;
        for step in mapping.after_steps() {
            let scope = StepScope::after(prepared, data.clone(), previous.clone());
            if let Some(call) = mapping.plan_step(step, &scope).map_err(Error::Unified)? {
                previous = Some(self.run_step_call(account_id, call).await?);
            }
        }
        Ok(())
    }

    /// Fills each `side_load` key of every unified record in `records` (a record or an
    /// array of records, mapped with [`PreparedCall::unshaped`] so `remote_data` is
    /// there), one call per key and record.
    pub(super) async fn run_side_loads(
        &self,
        account_id: &str,
        mapping: &CompiledMapping,
        prepared: &PreparedCall,
        records: &mut Value,
    ) -> Result<(), Error> {
        let targets: Vec<&mut Value> = match records {
            Value::Array(items) => items.iter_mut().collect(),
            record @ Value::Object(_) => vec![record],
            _ => Vec::new(),
        };
        for record in targets {
            for key in mapping.side_loads().keys() {
                let call = mapping
                    .plan_side_load(prepared, key, record)
                    .map_err(Error::Unified)?;
                let response = self.run_step_call(account_id, call).await?;
                mapping
                    .apply_side_load(prepared, key, record, response)
                    .map_err(Error::Unified)?;
            }
        }
        Ok(())
    }
}
