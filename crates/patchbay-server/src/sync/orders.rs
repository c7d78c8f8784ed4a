//! Creating runs: what `POST /sync-job-run` and a firing cron trigger share.

use patchbay::config::IntegratedAccount;
use patchbay::sync::JobPlan;
use serde_json::{Map, Value, json};

use crate::error::{ApiError, ApiResult, FieldError};
use crate::store::{NewSyncJobRun, StorageError, Store, SyncJobRunRecord};

/// A run asked for: of a job, for an account, with these arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOrder {
    /// The job to run.
    pub sync_job_id: String,
    /// The account to run it for.
    pub integrated_account_id: String,
    /// The arguments, checked against the job's `args_schema`.
    pub args: Map<String, Value>,
    /// `ignore` or `fail_fast`.
    pub error_handling: String,
    /// A full sync.
    pub ignore_previous_run: bool,
    /// The cron trigger asking, if one is.
    pub sync_job_cron_trigger_id: Option<String>,
    /// Neither wait for nor hold the job's `mutex_key` (Truto's `force`).
    pub force: bool,
    /// A datastore of the environment to upsert the run's records into.
    pub datastore_id: Option<String>,
}

/// What [`RunOrder::checked`] found: what creating the run needs.
struct Checked {
    plan: JobPlan,
    job_id: String,
    account: IntegratedAccount,
    integration_name: String,
}

impl RunOrder {
    /// Checks the order in the environment: the job and the account exist in it, the
    /// account is of the job's integration, `error_handling` is known, `args` match the
    /// job's `args_schema` and the datastore, if named, is one of the environment.
    ///
    /// # Errors
    ///
    /// 404 for a job or account not in the environment; 422 with every problem at its
    /// field (`integrated_account_id`, `error_handling`, `args.<name>`, `datastore_id`);
    /// 400 when the stored job no longer validates.
    pub async fn check(&self, store: &Store, environment_id: &str) -> ApiResult<()> {
        self.checked(store, environment_id).await.map(|_| ())
    }

    async fn checked(&self, store: &Store, environment_id: &str) -> ApiResult<Checked> {
        let mut errors = Vec::new();
        if super::error_handling_named(&self.error_handling).is_none() {
            errors.push(FieldError {
                path: "error_handling".into(),
                message: format!(
                    "must be `ignore` or `fail_fast`, not `{}` (`batch` is not supported)",
                    self.error_handling
                ),
            });
        }
        let job = store
            .get_sync_job(environment_id, &self.sync_job_id)
            .await?;
        let account = store
            .get_account(environment_id, &self.integrated_account_id)
            .await?;
        let route = store
            .account_route(environment_id, &account.id)
            .await?
            .install;
        let integration = store
            .get_integration(environment_id, &route.integration_id)
            .await?;
        if !job.integration_name.is_empty() && integration.name != job.integration_name {
            errors.push(FieldError {
                path: "integrated_account_id".into(),
                message: format!(
                    "the account is of the integration `{}`; the job runs for `{}`",
                    integration.name, job.integration_name
                ),
            });
        }
        if let Some(datastore) = &self.datastore_id {
            match store.get_datastore(environment_id, datastore).await {
                Ok(_) => {}
                Err(StorageError::NotFound { .. }) => errors.push(FieldError {
                    path: "datastore_id".into(),
                    message: format!("no datastore `{datastore}` in the environment"),
                }),
                Err(e) => return Err(e.into()),
            }
        }
        let plan = patchbay::sync::validate_sync_job(&job.job_json()).map_err(|errors| {
            ApiError::rejected("the stored sync job is invalid", None, &errors)
        })?;
        if let Err(problems) = plan.args().check(&self.args) {
            let problems = patchbay::config::ValidationErrors(problems);
            if let ApiError::Invalid { errors: found, .. } =
                ApiError::from_validation("", None, &problems)
            {
                errors.extend(found);
            }
        }
        if !errors.is_empty() {
            return Err(ApiError::invalid("the sync job run is invalid", errors));
        }
        Ok(Checked {
            plan,
            job_id: job.id,
            account,
            integration_name: integration.name,
        })
    }

    /// Checks the order ([`check`](Self::check)), renders the job's `mutex_key` for it
    /// (the account, the job and the arguments in scope), stores the run (`created`) and
    /// queues `sync_job_run:created`. The caller hands the run to the engine.
    ///
    /// # Errors
    ///
    /// As [`check`](Self::check), and a store failure.
    pub async fn create(self, store: &Store, environment_id: &str) -> ApiResult<SyncJobRunRecord> {
        let checked = self.checked(store, environment_id).await?;
        let mutex_key =
            checked
                .plan
                .render_mutex_key(&checked.account, &checked.job_id, &self.args);
        let run = store
            .create_sync_job_run(
                environment_id,
                NewSyncJobRun {
                    sync_job_id: self.sync_job_id,
                    integrated_account_id: self.integrated_account_id,
                    args: self.args,
                    error_handling: self.error_handling,
                    ignore_previous_run: self.ignore_previous_run,
                    sync_job_cron_trigger_id: self.sync_job_cron_trigger_id,
                    mutex_key,
                    mutex_forced: self.force,
                    integration_name: Some(checked.integration_name),
                    datastore_id: self.datastore_id,
                },
            )
            .await?;
        let payload = json!({
            "sync_job_run_id": run.id,
            "sync_job_id": run.sync_job_id,
            "integrated_account_id": run.integrated_account_id,
            "status": "created",
        });
        if let Err(e) = store
            .enqueue_event(environment_id, "sync_job_run:created", &payload)
            .await
        {
            tracing::warn!(run = %run.id, error = %e, "cannot queue sync_job_run:created");
        }
        Ok(run)
    }
}
