//! `patchbay-server`: run with `cargo run --release -p patchbay-server`.
//!
//! Reads `PATCHBAY_ADDR`, `PATCHBAY_DATA_DIR` and `DATABASE_URL` (see
//! [`patchbay_server::ServerConfig`]) and the outbox retention periods (see
//! [`patchbay_server::delivery::DeliveryOptions::from_env`]), opens the store, binds its
//! address and, on the very first start, only once the address is held, creates and prints
//! the bootstrap API token once to stdout (it is never logged and cannot be shown again). It delivers outbound webhook events with a
//! [`patchbay_server::delivery`] worker next to the server. Logs go to stderr.
//!
//! `patchbay-server environment create|list` and `patchbay-server token create|list|revoke`
//! administer the same store without the HTTP API (see [`patchbay_server::admin`]): for
//! bootstrap and recovery, e.g. a lost first token.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use patchbay_server::admin::{self, AdminError};
use patchbay_server::logging::{self, LogFormat};
use patchbay_server::store::{Bootstrap, Store, open_store};
use patchbay_server::{AppState, ServerConfig};

/// The Patchbay server, and the administration of its store.
#[derive(Parser)]
#[command(name = "patchbay-server", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve,
    /// Environments of the store.
    #[command(subcommand)]
    Environment(EnvironmentCommand),
    /// API tokens of an environment.
    #[command(subcommand)]
    Token(TokenCommand),
    /// The encryption key of stored secrets.
    #[command(subcommand)]
    Key(KeyCommand),
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Print a new random key (base64 of 32 bytes) to stdout, for PATCHBAY_ENCRYPTION_KEY.
    Generate,
    /// Re-encrypt every stored secret under PATCHBAY_ENCRYPTION_KEY, while servers run.
    /// Start every server with the new key in PATCHBAY_ENCRYPTION_KEY and the old one in
    /// PATCHBAY_PREVIOUS_ENCRYPTION_KEYS first; once this reports nothing left under a
    /// previous key, remove PATCHBAY_PREVIOUS_ENCRYPTION_KEYS.
    Rotate,
    /// How many stored secrets are still under a previous key.
    Status,
}

#[derive(Subcommand)]
enum EnvironmentCommand {
    /// Create an environment.
    Create {
        /// Its name (unique).
        name: String,
    },
    /// List the environments.
    List,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token; its value is printed once, to stdout.
    Create {
        /// The environment's name.
        #[arg(long)]
        environment: String,
        /// A label for the token.
        #[arg(long, default_value = "cli")]
        name: String,
    },
    /// List an environment's tokens (never their values).
    List {
        /// The environment's name.
        #[arg(long)]
        environment: String,
    },
    /// Revoke a token: refused on its next request, by every process.
    Revoke {
        /// The environment's name.
        #[arg(long)]
        environment: String,
        /// The token's id (from `token list`).
        id: String,
    },
}

/// How long a stopping server waits for the sync-job engine's workers (their runs stop at
/// their next request; a worker still busy after this is aborted).
const SYNC_ENGINE_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let telemetry = match LogFormat::from_env().and_then(logging::init) {
        Ok(telemetry) => telemetry,
        Err(message) => {
            eprintln!("patchbay-server: {message}");
            return ExitCode::from(2);
        }
    };
    let code = run(cli).await;
    telemetry.shutdown().await;
    code
}

/// Runs the command `cli` names.
async fn run(cli: Cli) -> ExitCode {
    let config = match ServerConfig::from_env() {
        Ok(config) => config,
        Err(message) => {
            eprintln!("patchbay-server: {message}");
            return ExitCode::from(2);
        }
    };
    let store = match open_store(config.database_url.as_deref(), &config.data_dir).await {
        Ok(store) => store,
        Err(e) => {
            eprintln!("patchbay-server: cannot open the store: {e}");
            return ExitCode::FAILURE;
        }
    };
    match cli.command {
        None | Some(Command::Serve) => serve(config, store).await,
        Some(Command::Environment(command)) => report(environment(&store, command).await),
        Some(Command::Token(command)) => report(token(&store, command).await),
        Some(Command::Key(command)) => report(key(&store, command).await),
    }
}

/// Runs the server on `store` until it stops.
async fn serve(config: ServerConfig, store: std::sync::Arc<Store>) -> ExitCode {
    let log_options = match patchbay_server::request_logs::LogOptions::from_env() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("patchbay-server: {message}");
            return ExitCode::from(2);
        }
    };
    let console = match patchbay_server::console::ConsoleOptions::from_env() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("patchbay-server: {message}");
            return ExitCode::from(2);
        }
    };
    let delivery_options = match patchbay_server::delivery::DeliveryOptions::from_env() {
        Ok(options) => options
            .with_destinations(config.destinations.clone())
            .with_attempt_logs(log_options.enabled),
        Err(message) => {
            eprintln!("patchbay-server: {message}");
            return ExitCode::from(2);
        }
    };
    // Delivers queued webhook events (including those left by a previous run)
    // and prunes finished ones for as long as the server runs; dropping the
    // handle stops it.
    let delivery = match patchbay_server::delivery::spawn(store.clone(), delivery_options) {
        Ok(handle) => handle,
        Err(e) => {
            eprintln!("patchbay-server: cannot start the webhook delivery worker: {e}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(config.addr).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("patchbay-server: cannot listen on {}: {e}", config.addr);
            return ExitCode::FAILURE;
        }
    };
    let _metrics = match config.metrics_addr {
        Some(addr) => match serve_metrics(addr, store.clone()).await {
            Ok(task) => Some(task),
            Err(message) => {
                eprintln!("patchbay-server: {message}");
                return ExitCode::FAILURE;
            }
        },
        None => None,
    };
    // Only a server that holds its address creates and shows the first token: a failed
    // bind must not leave a token printed for a server that never ran, nor one created and
    // never shown (the bootstrap happens once per database).
    match store.bootstrap().await {
        Ok(Some(bootstrap)) => print_bootstrap(&bootstrap),
        Ok(None) => {}
        Err(e) => {
            eprintln!("patchbay-server: cannot bootstrap the store: {e}");
            return ExitCode::FAILURE;
        }
    }
    tracing::info!(
        addr = %listener_addr(&listener, &config),
        backend = store.backend_name(),
        data_dir = %config.data_dir.display(),
        "patchbay-server listening"
    );
    let public_url = match config.public_url.clone() {
        Some(url) => url,
        None => match url::Url::parse(&format!("http://{}", listener_addr(&listener, &config))) {
            Ok(url) => url,
            Err(e) => {
                eprintln!("patchbay-server: cannot form the public URL: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    let pacing = match config.pacing.pacing() {
        Ok(pacing) => pacing,
        Err(message) => {
            eprintln!("patchbay-server: {message}");
            return ExitCode::from(2);
        }
    };
    log_pacing(&config.pacing);
    let state = AppState::with_logs(store, config.destinations.clone(), log_options)
        .with_public_url(public_url)
        .with_cors_origins(config.cors_origins.clone())
        .with_pacing(pacing)
        .with_console(console)
        .with_sync_options(config.sync.clone());
    let request_logs = state.request_logs.clone();
    // The job engine: this process's workers take sync job runs from the queue in the
    // store's database (resuming those of a process that died), and its tick fires cron
    // triggers.
    let sync = state.sync.clone();
    let engine = match patchbay_server::sync::SyncEngine::start(&sync).await {
        Ok(engine) => engine,
        Err(e) => {
            eprintln!("patchbay-server: {e}");
            return ExitCode::FAILURE;
        }
    };
    let served =
        patchbay_server::serve_until(listener, state, config.serve.clone(), shutdown_signal())
            .await;
    // Stopped accepting and in-flight requests are done: finish the delivery worker's
    // current tick (its leases are settled, nothing is left claimed), then write the
    // queued request logs.
    tracing::info!("patchbay-server stopping: finishing webhook deliveries and request logs");
    delivery.shutdown().await;
    // Sync job runs stop at their next request, release their leases and are queued
    // again for another process (or the next start); the engine's workers then stop.
    sync.cancel_all();
    engine.stop(SYNC_ENGINE_GRACE).await;
    request_logs.shutdown().await;
    match served {
        Ok(()) => {
            tracing::info!("patchbay-server stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("patchbay-server: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Says how provider calls are paced (never the Redis URL).
fn log_pacing(pacing: &patchbay_server::config::PacingConfig) {
    match (&pacing.pace, &pacing.redis_url) {
        (Some(pace), Some(_)) => tracing::info!(
            %pace,
            key_prefix = %pacing.key_prefix,
            "pacing provider calls per account, shared through Redis (REDIS_URL)"
        ),
        (Some(pace), None) => tracing::info!(
            %pace,
            "pacing provider calls per account in this process (set REDIS_URL to share the pace across processes)"
        ),
        (None, Some(_)) => tracing::warn!(
            "REDIS_URL is set but PATCHBAY_PACING is not: provider calls are not paced"
        ),
        (None, None) => {}
    }
}

/// Completes on SIGTERM or SIGINT (Ctrl-C).
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("interrupted: shutting down"),
        () = terminate => tracing::info!("SIGTERM: shutting down"),
    }
}

/// Installs the Prometheus recorder and serves `GET /metrics` on `addr` in the
/// background; the task ends with the process.
async fn serve_metrics(
    addr: std::net::SocketAddr,
    store: std::sync::Arc<Store>,
) -> Result<tokio::task::JoinHandle<()>, String> {
    let handle = patchbay_server::metrics::install_recorder()?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen for metrics on {addr}: {e}"))?;
    let bound = listener.local_addr().unwrap_or(addr);
    tracing::info!(addr = %bound, "patchbay-server metrics listening");
    let router = patchbay_server::metrics::router(handle, store);
    Ok(tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "the metrics listener stopped");
        }
    }))
}

/// The exit code of an administration command, its error on stderr.
fn report(result: Result<(), AdminError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("patchbay-server: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn key(store: &Store, command: KeyCommand) -> Result<(), AdminError> {
    match command {
        KeyCommand::Generate => println!("{}", *admin::generate_key()),
        KeyCommand::Rotate => {
            let report = admin::rotate_key(store).await?;
            for (column, n) in &report.rewritten {
                eprintln!("{column}: {n} re-encrypted");
            }
            if report.skipped > 0 {
                eprintln!(
                    "{} values changed while this ran and were left as written; run `key rotate` again",
                    report.skipped
                );
            }
            let left = admin::secrets_under_previous_keys(store).await?;
            if left == 0 {
                eprintln!(
                    "Every stored secret is under the active key: PATCHBAY_PREVIOUS_ENCRYPTION_KEYS \
                     can be removed from every server."
                );
            } else {
                eprintln!("{left} secrets are still under a previous key; run `key rotate` again.");
            }
            println!("{}", report.total());
        }
        KeyCommand::Status => println!("{}", admin::secrets_under_previous_keys(store).await?),
    }
    Ok(())
}

async fn environment(store: &Store, command: EnvironmentCommand) -> Result<(), AdminError> {
    match command {
        EnvironmentCommand::Create { name } => {
            let environment = admin::create_environment(store, &name).await?;
            println!("{}\t{}", environment.id, environment.name);
        }
        EnvironmentCommand::List => {
            for environment in admin::environments(store).await? {
                println!("{}\t{}", environment.id, environment.name);
            }
        }
    }
    Ok(())
}

async fn token(store: &Store, command: TokenCommand) -> Result<(), AdminError> {
    match command {
        TokenCommand::Create { environment, name } => {
            let created = admin::create_token(store, &environment, &name).await?;
            eprintln!(
                "Created the API token `{}` ({}) for the environment `{environment}`. \
                 Store it now: it is shown only this once.",
                created.token.id, created.token.name
            );
            println!("{}", created.plaintext.expose());
        }
        TokenCommand::List { environment } => {
            for token in admin::tokens(store, &environment).await? {
                println!(
                    "{}\t{}\t{}",
                    token.id,
                    token.name,
                    token.created_at.to_rfc3339()
                );
            }
        }
        TokenCommand::Revoke { environment, id } => {
            admin::revoke_token(store, &environment, &id).await?;
            eprintln!("Revoked the API token `{id}` of the environment `{environment}`.");
        }
    }
    Ok(())
}

/// Prints the first API token to stdout, the only time it is ever shown.
fn print_bootstrap(bootstrap: &Bootstrap) {
    println!(
        "\nPatchbay created the environment `{}` and its first API token.\n\
         Store it now: it is shown only this once and cannot be recovered.\n\n    \
         {}\n\n\
         Use it as `Authorization: Bearer <token>`.\n",
        bootstrap.environment.name,
        bootstrap.token.plaintext.expose()
    );
}

/// The address the listener is bound to (the configured one if unknown).
fn listener_addr(
    listener: &tokio::net::TcpListener,
    config: &ServerConfig,
) -> std::net::SocketAddr {
    listener.local_addr().unwrap_or(config.addr)
}
