//! [`Runner`]: one run of a job for one integrated account, page by page, with a
//! checkpoint after every page.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use patchbay_config::ValidationErrors;
use patchbay_ratelimit::sleep_cancellable;
use patchbay_template::Bindings;
use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;

use crate::error::RunError;
use crate::fetch::Fetch;
use crate::plan::{JobPlan, Node};
use crate::scope::{base_scope, with_at, with_record};
use crate::sink::{
    RateLimitPause, RecordBatch, RecordError, RunRef, RunSummary, Sink, SinkError, SyncEvent,
    SyncRecord,
};
use crate::source::{FetchedPage, PageSource, SourceError};
use crate::store::{Checkpoint, Frame, FrameStep, RunState, RunStatus, RunStore};

/// What a run does when a request fails (other than rate limits, which pause the run,
/// and authentication or configuration errors, which fail it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ErrorHandling {
    /// The run fails.
    FailFast,
    /// A `record_error` event, and the run goes on without that request's records (the
    /// default, as in Truto's API reference).
    #[default]
    Ignore,
}

/// What to run: the run's id, the account and the arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRequest {
    /// The run's id; running the same id again resumes it (or returns it, if finished).
    pub run_id: String,
    /// The job's id (default: the job's `id`, else empty).
    pub sync_job_id: Option<String>,
    /// The account to fetch for.
    pub integrated_account_id: String,
    /// The run's arguments (`args.*`).
    pub args: Map<String, Value>,
    /// A full sync: `previous_run_date` is the Unix epoch whatever ran before.
    pub ignore_previous_run: bool,
    /// What a failed request does.
    pub error_handling: ErrorHandling,
}

impl RunRequest {
    /// A run `run_id` for the account `integrated_account_id`, without arguments.
    pub fn new(run_id: impl Into<String>, integrated_account_id: impl Into<String>) -> Self {
        RunRequest {
            run_id: run_id.into(),
            sync_job_id: None,
            integrated_account_id: integrated_account_id.into(),
            args: Map::new(),
            ignore_previous_run: false,
            error_handling: ErrorHandling::default(),
        }
    }

    /// Sets the arguments (a JSON object; anything else is no arguments).
    pub fn args(mut self, args: Value) -> Self {
        self.args = match args {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        self
    }

    /// Asks for a full sync.
    pub fn ignore_previous_run(mut self, ignore: bool) -> Self {
        self.ignore_previous_run = ignore;
        self
    }

    /// Sets what a failed request does.
    pub fn error_handling(mut self, handling: ErrorHandling) -> Self {
        self.error_handling = handling;
        self
    }
}

/// Settings of a [`Runner`]; build them with `..RunnerOptions::default()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunnerOptions {
    /// Page size asked of list requests (`None`: the provider's default).
    pub page_size: Option<u64>,
    /// How long a rate-limited run waits when the provider did not say (default 60 s).
    pub default_rate_limit_wait: Duration,
    /// How deep `depends_on` and `recurse` may nest (default 32); deeper fails the run.
    pub max_depth: usize,
}

impl Default for RunnerOptions {
    fn default() -> Self {
        RunnerOptions {
            page_size: None,
            default_rate_limit_wait: Duration::from_secs(60),
            max_depth: 32,
        }
    }
}

type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Runs sync jobs, fetching pages from a [`PageSource`] (the facade's `Patchbay`), saving a checkpoint to a [`RunStore`]
/// after every page and sending events to a [`Sink`].
///
/// A run visits the top-level entries in job order; for every page of an entry it sends
/// the page's records (if the entry persists), runs the entry's transforms on the page,
/// then, for each record, runs the dependants (`depends_on`) with the record in scope
/// (and `recurse`), depth first, before the entry's next page. After each page the
/// position of every entry on the way down is saved; a runner started later with the
/// same store resumes there: the page in flight when a process died may be delivered
/// again (with the same sequence numbers), nothing is lost. A page whose dependants were
/// running is fetched again on resume to find its records, without being delivered.
///
/// One run must be executed by one runner at a time; the job engine guarantees it (see
/// `docs/sync-jobs-engine.md`).
#[derive(Clone)]
pub struct Runner {
    source: Arc<dyn PageSource>,
    store: Arc<dyn RunStore>,
    sink: Arc<dyn Sink>,
    options: RunnerOptions,
    cancel: CancellationToken,
    clock: Clock,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// Why an execution stopped before the end.
enum Stop {
    /// The run fails with this message.
    Failed(String),
    /// The run cannot go on now; it stays resumable.
    Abort(RunError),
}

impl From<RunError> for Stop {
    fn from(error: RunError) -> Self {
        Stop::Abort(error)
    }
}

impl Runner {
    /// A runner fetching from `source` (with the facade: `Runner::new(patchbay.clone(),
    /// store, sink)`), with default options, never cancelled, on the system clock.
    pub fn new(
        source: impl PageSource + 'static,
        store: Arc<dyn RunStore>,
        sink: Arc<dyn Sink>,
    ) -> Self {
        Runner {
            source: Arc::new(source),
            store,
            sink,
            options: RunnerOptions::default(),
            cancel: CancellationToken::new(),
            clock: Arc::new(Utc::now),
        }
    }

    /// Sets the options.
    #[must_use]
    pub fn options(mut self, options: RunnerOptions) -> Self {
        self.options = options;
        self
    }

    /// Cancelling `token` stops runs at their next request or wait; they resume from
    /// their last checkpoint when run again.
    #[must_use]
    pub fn cancel_token(mut self, token: CancellationToken) -> Self {
        self.cancel = token;
        self
    }

    /// The clock giving `started_at` and `finished_at` (default: the system clock).
    #[must_use]
    pub fn clock(mut self, clock: impl Fn() -> DateTime<Utc> + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Runs (or resumes) the run `request.run_id` of `plan` and returns its final state:
    /// `completed`, or `failed` with its error. A run already finished is returned as
    /// saved.
    ///
    /// A new run checks its arguments, fixes `previous_run_date` (the start of the last
    /// completed run of the job for the account, unless `ignore_previous_run`), sends
    /// `sync_job_run:started`, and goes. A saved, unfinished run resumes from its
    /// checkpoint without sending `started` again.
    ///
    /// # Errors
    ///
    /// [`RunError`]: bad arguments (nothing started), an unreadable account, the store or
    /// the sink unavailable, cancellation. The run is then left at its last checkpoint.
    pub async fn run(&self, plan: &JobPlan, request: &RunRequest) -> Result<RunState, RunError> {
        let job_id = request
            .sync_job_id
            .clone()
            .or_else(|| plan.job.id.clone())
            .unwrap_or_default();
        let account = self
            .source
            .account(&request.integrated_account_id)
            .await
            .map_err(|e| account_error(request, e.to_string()))?
            .ok_or_else(|| account_error(request, "no such account".into()))?;
        let state = match self.store.load(&request.run_id).await? {
            Some(state) if state.status.is_finished() => return Ok(state),
            Some(mut state) => {
                if state.sync_job_id != job_id
                    || state.integrated_account_id != request.integrated_account_id
                {
                    return Err(RunError::RunMismatch {
                        run_id: state.run_id,
                        job: state.sync_job_id,
                        account: state.integrated_account_id,
                    });
                }
                // A run stopped during a rate-limit pause goes on as running.
                state.status = RunStatus::Running;
                state
            }
            None => {
                let mut state = self.start(plan, request, job_id).await?;
                let scope = base_scope(&account, &state);
                let render = |t: &Option<patchbay_template::Template>| {
                    t.as_ref().map(|t| t.render_to_string(&scope))
                };
                state.mutex_key = render(&plan.mutex_key);
                state.state_key = render(&plan.state_key);
                match self
                    .sink
                    .send(SyncEvent::Started(RunSummary::of(&state)))
                    .await
                {
                    Ok(()) => {}
                    Err(SinkError::Refused(reason)) => {
                        return self
                            .finish(
                                state,
                                Err(format!(
                                    "the receiver refused `sync_job_run:started`: {reason}"
                                )),
                            )
                            .await;
                    }
                    Err(error) => return Err(RunError::Sink(error)),
                }
                self.store.save(&state).await?;
                state
            }
        };
        let scope = base_scope(&account, &state);
        let mut execution = Execution {
            runner: self,
            plan,
            account_id: request.integrated_account_id.clone(),
            error_handling: request.error_handling,
            run: RunRef::of(&state),
            resume: Vec::new(),
            resumed: 0,
            state,
        };
        let outcome = execution.run_roots(&scope).await;
        let state = execution.state;
        match outcome {
            Ok(()) => self.finish(state, Ok(())).await,
            Err(Stop::Failed(message)) => self.finish(state, Err(message)).await,
            Err(Stop::Abort(error)) => Err(error),
        }
    }

    /// A new run's state: arguments checked and defaulted, `previous_run_date` fixed.
    async fn start(
        &self,
        plan: &JobPlan,
        request: &RunRequest,
        job_id: String,
    ) -> Result<RunState, RunError> {
        let args = plan
            .args
            .check(&request.args)
            .map_err(|problems| RunError::InvalidArgs(ValidationErrors(problems)))?;
        if let Some(validation) = &plan.args_validation {
            let verdict = validation
                .evaluate(&json!({"args": args}), &Bindings::new())
                .map_err(|e| RunError::ArgsRefused(e.to_string()))?;
            match verdict {
                None | Some(Value::Null) => {}
                Some(refusal) => {
                    let message = refusal
                        .get("message")
                        .and_then(Value::as_str)
                        .map_or_else(|| refusal.to_string(), str::to_owned);
                    return Err(RunError::ArgsRefused(message));
                }
            }
        }
        let previous_run_date = if request.ignore_previous_run {
            None
        } else {
            self.store
                .last_success(&job_id, &request.integrated_account_id)
                .await?
        };
        Ok(RunState {
            run_id: request.run_id.clone(),
            sync_job_id: job_id,
            integrated_account_id: request.integrated_account_id.clone(),
            status: RunStatus::Running,
            args,
            started_at: (self.clock)(),
            finished_at: None,
            previous_run_date,
            mutex_key: None,
            state_key: None,
            resource_stats: Default::default(),
            checkpoint: Checkpoint::default(),
            error: None,
        })
    }

    /// Ends the run: `completed` or `failed` sent, then saved.
    async fn finish(
        &self,
        mut state: RunState,
        outcome: Result<(), String>,
    ) -> Result<RunState, RunError> {
        state.finished_at = Some((self.clock)());
        let event = match outcome {
            Ok(()) => {
                state.status = RunStatus::Completed;
                SyncEvent::Completed(RunSummary::of(&state))
            }
            Err(message) => {
                tracing::warn!(run = %state.run_id, error = %message, "sync job run failed");
                state.status = RunStatus::Failed;
                state.error = Some(message);
                SyncEvent::Failed(RunSummary::of(&state))
            }
        };
        match self.sink.send(event).await {
            Ok(()) | Err(SinkError::Refused(_)) => {}
            Err(error) => return Err(RunError::Sink(error)),
        }
        self.store.save(&state).await?;
        Ok(state)
    }
}

fn account_error(request: &RunRequest, reason: String) -> RunError {
    RunError::Account {
        account: request.integrated_account_id.clone(),
        reason,
    }
}

type Step<'a> = Pin<Box<dyn Future<Output = Result<(), Stop>> + Send + 'a>>;

/// One execution of a run (from its start or from a checkpoint to its end).
struct Execution<'r> {
    runner: &'r Runner,
    plan: &'r JobPlan,
    account_id: String,
    error_handling: ErrorHandling,
    state: RunState,
    run: RunRef,
    /// The checkpoint's frames, entered one level at a time while resuming.
    resume: Vec<Frame>,
    /// How many levels of `resume` were entered.
    resumed: usize,
}

impl<'r> Execution<'r> {
    async fn run_roots(&mut self, scope: &Value) -> Result<(), Stop> {
        let first = self.state.checkpoint.root;
        self.resume = std::mem::take(&mut self.state.checkpoint.frames);
        for root in first..self.plan.roots.len() {
            self.state.checkpoint.root = root;
            self.run_node(self.plan.roots[root], scope.clone(), 0, false)
                .await?;
        }
        self.state.checkpoint.root = self.plan.roots.len();
        Ok(())
    }

    /// The frame of `name` at `depth`: the checkpoint's while resuming, else a new one.
    fn enter(&mut self, name: &str, depth: usize, recursive: bool) -> Result<Frame, Stop> {
        if self.resumed == depth && depth < self.resume.len() {
            let frame = self.resume[depth].clone();
            if frame.node != name || frame.recursive != recursive {
                return Err(Stop::Abort(RunError::CheckpointMismatch {
                    run_id: self.state.run_id.clone(),
                    detail: format!(
                        "level {depth} is `{}`, the job runs `{name}` there",
                        frame.node
                    ),
                }));
            }
            self.resumed += 1;
            return Ok(frame);
        }
        self.resume.clear();
        self.resumed = 0;
        Ok(Frame::start(name, recursive))
    }

    fn frame(&mut self, depth: usize) -> &mut Frame {
        &mut self.state.checkpoint.frames[depth]
    }

    /// Runs entry `index` (every `loop_on` element, every page) with `scope`.
    fn run_node(&mut self, index: usize, scope: Value, depth: usize, recursive: bool) -> Step<'_> {
        Box::pin(async move {
            let plan = self.plan;
            let node = plan.node(index);
            let request = node.request().expect("only request entries are run");
            if depth >= self.runner.options.max_depth {
                return Err(Stop::Failed(format!(
                    "`{}` nests deeper than {} levels (depends_on and recurse)",
                    node.name, self.runner.options.max_depth
                )));
            }
            let frame = self.enter(&node.name, depth, recursive)?;
            self.state.checkpoint.frames.truncate(depth);
            self.state.checkpoint.frames.push(frame);
            let elements = match &request.loop_on {
                None => None,
                Some(loop_on) => match loop_on.items(&scope) {
                    Some(Value::Array(items)) => Some((loop_on, items)),
                    None | Some(Value::Null) => Some((loop_on, Vec::new())),
                    Some(other) => {
                        let message = format!(
                            "`loop_on` of `{}` gives {}, not an array",
                            node.name,
                            patchbay_config::json_kind(&other)
                        );
                        self.skip_or_fail(node, message).await?;
                        self.state.checkpoint.frames.truncate(depth);
                        return Ok(());
                    }
                },
            };
            let count = elements.as_ref().map_or(1, |(_, items)| items.len());
            while self.frame(depth).loop_index < count {
                let element_scope = match &elements {
                    Some((loop_on, items)) => with_at(
                        &scope,
                        &loop_on.path,
                        items[self.frame(depth).loop_index].clone(),
                    ),
                    None => scope.clone(),
                };
                self.run_element(index, &element_scope, depth).await?;
                let frame = self.frame(depth);
                frame.loop_index += 1;
                frame.cursor = None;
                frame.step = FrameStep::Fetch;
            }
            self.state.checkpoint.frames.truncate(depth);
            Ok(())
        })
    }

    /// Runs every page of one `loop_on` element of `node` (the frame at `depth`).
    async fn run_element(&mut self, index: usize, scope: &Value, depth: usize) -> Result<(), Stop> {
        let plan = self.plan;
        let node = plan.node(index);
        let request = node.request().expect("only request entries are run");
        let dependants = node.children.len() + usize::from(request.recurse.is_some());
        let mut page: Option<FetchedPage> = None;
        loop {
            let frame = self.frame(depth).clone();
            match frame.step {
                FrameStep::Done => return Ok(()),
                FrameStep::Fetch => {
                    let Some(fetched) = self.fetch(node, scope, &frame).await? else {
                        self.frame(depth).step = FrameStep::Done;
                        return self.checkpoint(depth).await;
                    };
                    self.deliver_page(node, &fetched, scope).await?;
                    let frame = self.frame(depth);
                    if dependants > 0 && !fetched.records.is_empty() {
                        frame.step = FrameStep::Children {
                            record: 0,
                            child: 0,
                        };
                        page = Some(fetched);
                    } else {
                        frame.step = next_step(&fetched.next_cursor);
                        frame.cursor = fetched.next_cursor;
                    }
                    self.checkpoint(depth).await?;
                }
                FrameStep::Children { record, child } => {
                    let fetched = match page.take() {
                        Some(fetched) => fetched,
                        // Resuming: the page was delivered; fetch it again for its records.
                        None => match self.fetch(node, scope, &frame).await? {
                            Some(fetched) => fetched,
                            None => {
                                self.frame(depth).step = FrameStep::Done;
                                return self.checkpoint(depth).await;
                            }
                        },
                    };
                    for at in record..fetched.records.len() {
                        let record_scope =
                            with_record(scope, &node.scope_keys, &fetched.records[at]);
                        let first = if at == record { child } else { 0 };
                        for dependant in first..dependants {
                            self.frame(depth).step = FrameStep::Children {
                                record: at,
                                child: dependant,
                            };
                            self.run_dependant(index, dependant, &record_scope, depth)
                                .await?;
                        }
                    }
                    let frame = self.frame(depth);
                    frame.step = next_step(&fetched.next_cursor);
                    frame.cursor = fetched.next_cursor;
                    self.checkpoint(depth).await?;
                }
            }
        }
    }

    /// Runs dependant `dependant` of `node` for the record in `scope`: a `depends_on`
    /// entry, or (after them) the entry's own `recurse` when its condition holds.
    async fn run_dependant(
        &mut self,
        index: usize,
        dependant: usize,
        scope: &Value,
        depth: usize,
    ) -> Result<(), Stop> {
        let plan = self.plan;
        let node = plan.node(index);
        if let Some(child) = node.children.get(dependant) {
            return self.run_node(*child, scope.clone(), depth + 1, false).await;
        }
        let recurse = node
            .request()
            .and_then(|r| r.recurse.as_ref())
            .expect("the dependant after the children is the recursion");
        if truthy(recurse.condition.render(scope)) {
            self.run_node(index, scope.clone(), depth + 1, true).await?;
        }
        Ok(())
    }

    /// Fetches the page of `frame`, pausing on rate limits. `None`: the request failed
    /// and was skipped (`error_handling: ignore`).
    async fn fetch(
        &mut self,
        node: &Node,
        scope: &Value,
        frame: &Frame,
    ) -> Result<Option<FetchedPage>, Stop> {
        let request = node.request().expect("only request entries are run");
        let rendered = match request.render(scope, frame.recursive) {
            Ok(rendered) => rendered,
            Err(message) => {
                self.skip_or_fail(node, format!("`{}`: {message}", node.name))
                    .await?;
                return Ok(None);
            }
        };
        let runner = self.runner;
        loop {
            let result = request
                .fetch(
                    runner.source.as_ref(),
                    &self.account_id,
                    rendered.clone(),
                    frame.cursor.clone(),
                    runner.options.page_size,
                    &runner.cancel,
                )
                .await;
            let error = match result {
                Ok(fetched) => return Ok(Some(fetched)),
                Err(Fetch::Cancelled) => return Err(Stop::Abort(RunError::Cancelled)),
                Err(Fetch::Failed(_)) if runner.cancel.is_cancelled() => {
                    return Err(Stop::Abort(RunError::Cancelled));
                }
                Err(Fetch::Failed(error)) => error,
            };
            if let SourceError::RateLimited { retry_after, .. } = &error {
                let wait = retry_after.unwrap_or(runner.options.default_rate_limit_wait);
                self.pause(node, wait).await?;
                continue;
            }
            let message = format!("`{}`: {error}", node.name);
            return match error {
                SourceError::Request(_) => {
                    self.skip_or_fail(node, message).await?;
                    Ok(None)
                }
                _ => Err(Stop::Failed(message)),
            };
        }
    }

    /// A `rate_limited` pause of `wait`, then the run goes on.
    async fn pause(&mut self, node: &Node, wait: Duration) -> Result<(), Stop> {
        let resume_at =
            (self.runner.clock)() + chrono::Duration::from_std(wait).unwrap_or_default();
        self.state.status = RunStatus::RateLimited;
        self.send(SyncEvent::RateLimited(RateLimitPause {
            run: self.run.clone(),
            resource: node.name.clone(),
            retry_after_ms: u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
            resume_at,
        }))
        .await?;
        self.save().await?;
        tracing::info!(run = %self.state.run_id, resource = %node.name, ?wait, "sync job run rate limited");
        sleep_cancellable(wait, &self.runner.cancel)
            .await
            .map_err(|_| Stop::Abort(RunError::Cancelled))?;
        self.state.status = RunStatus::Running;
        self.save().await?;
        Ok(())
    }

    /// Sends a page's records (if the entry persists) and the outputs of its transforms,
    /// and counts them.
    async fn deliver_page(
        &mut self,
        node: &Node,
        fetched: &FetchedPage,
        scope: &Value,
    ) -> Result<(), Stop> {
        self.deliver(node, fetched.records.clone()).await?;
        for transform in &node.transforms {
            let transform = self.plan.node(*transform);
            let crate::plan::NodeKind::Transform(expression) = &transform.kind else {
                continue;
            };
            let mut input = scope.clone();
            if let Value::Object(map) = &mut input {
                map.insert("records".into(), Value::Array(fetched.records.clone()));
            }
            match expression.evaluate(&input, &Bindings::new()) {
                Ok(output) => {
                    let records = match output {
                        None | Some(Value::Null) => Vec::new(),
                        Some(Value::Array(records)) => records,
                        Some(record) => vec![record],
                    };
                    self.deliver(transform, records).await?;
                }
                Err(error) => {
                    let message = format!("transform `{}` failed: {error}", transform.name);
                    self.skip_or_fail(transform, message).await?;
                }
            }
        }
        Ok(())
    }

    /// Sends `records` of `node` as one batch (when it persists), numbering them, and
    /// counts the page.
    async fn deliver(&mut self, node: &Node, records: Vec<Value>) -> Result<(), Stop> {
        let count = records.len() as u64;
        if node.persist && !records.is_empty() {
            let first = self.state.checkpoint.next_sequence;
            let records = records
                .into_iter()
                .zip(first..)
                .map(|(data, sequence)| SyncRecord { sequence, data })
                .collect();
            self.send(SyncEvent::Records(RecordBatch {
                run: self.run.clone(),
                resource: node.name.clone(),
                records,
            }))
            .await?;
            self.state.checkpoint.next_sequence = first + count;
        }
        let stats = self
            .state
            .resource_stats
            .entry(node.name.clone())
            .or_default();
        stats.pages += 1;
        stats.records += count;
        Ok(())
    }

    /// A failed request: `record_error` and on (`ignore`), or the run fails.
    async fn skip_or_fail(&mut self, node: &Node, message: String) -> Result<(), Stop> {
        if self.error_handling == ErrorHandling::FailFast {
            return Err(Stop::Failed(message));
        }
        self.state
            .resource_stats
            .entry(node.name.clone())
            .or_default()
            .errors += 1;
        self.send(SyncEvent::RecordError(RecordError {
            run: self.run.clone(),
            resource: node.name.clone(),
            error: message,
        }))
        .await
    }

    async fn send(&self, event: SyncEvent) -> Result<(), Stop> {
        match self.runner.sink.send(event).await {
            Ok(()) => Ok(()),
            Err(SinkError::Refused(reason)) => Err(Stop::Failed(format!(
                "the receiver refused an event: {reason}"
            ))),
            Err(error) => Err(Stop::Abort(RunError::Sink(error))),
        }
    }

    /// Saves the run with the frames down to `depth` (deeper levels are finished).
    async fn checkpoint(&mut self, depth: usize) -> Result<(), Stop> {
        self.state.checkpoint.frames.truncate(depth + 1);
        self.save().await
    }

    /// Saves the run as it is.
    async fn save(&self) -> Result<(), Stop> {
        self.runner
            .store
            .save(&self.state)
            .await
            .map_err(|e| Stop::Abort(e.into()))
    }
}

fn next_step(next_cursor: &Option<String>) -> FrameStep {
    if next_cursor.is_some() {
        FrameStep::Fetch
    } else {
        FrameStep::Done
    }
}

/// Whether a rendered `recurse.if` holds: `true`, a non-zero number, the text `true`,
/// a non-empty array or object. An unresolved placeholder (left as text) does not.
fn truthy(value: Option<Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|n| n != 0.0),
        Some(Value::String(s)) => s == "true",
        Some(Value::Array(items)) => !items.is_empty(),
        Some(Value::Object(map)) => !map.is_empty(),
        Some(Value::Null) | None => false,
    }
}
