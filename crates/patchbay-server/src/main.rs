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

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        // Colours only on a terminal: log files and collectors get plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
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
    }
}

/// Runs the server on `store` until it stops.
async fn serve(config: ServerConfig, store: std::sync::Arc<Store>) -> ExitCode {
    let delivery_options = match patchbay_server::delivery::DeliveryOptions::from_env() {
        Ok(options) => options.with_destinations(config.destinations.clone()),
        Err(message) => {
            eprintln!("patchbay-server: {message}");
            return ExitCode::from(2);
        }
    };
    let log_options = match patchbay_server::request_logs::LogOptions::from_env() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("patchbay-server: {message}");
            return ExitCode::from(2);
        }
    };
    // Delivers queued webhook events (including those left by a previous run)
    // and prunes finished ones for as long as the server runs; dropping the
    // handle stops it.
    let _delivery = match patchbay_server::delivery::spawn(store.clone(), delivery_options) {
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
    let state = AppState::with_logs(store, config.destinations.clone(), log_options)
        .with_public_url(public_url);
    match patchbay_server::serve_with(listener, state, config.serve.clone()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("patchbay-server: {e}");
            ExitCode::FAILURE
        }
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
