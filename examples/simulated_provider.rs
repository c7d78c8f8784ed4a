//! Runs the provider simulator in the foreground and prints where each provider lives.
//!
//! ```text
//! cargo run -p patchbay-simulator --example simulated_provider -- --port 8787 --records 1000
//! ```
//!
//! Options: `--port N` (default 8787, 0 = any free port), `--records N` (default 100),
//! `--page-size N` (default: each provider's real default), `--overrides DIR`: write
//! `DIR/<slug>.json` for every catalog config in `examples/catalog`, the environment
//! integration `override` that points it at this simulator (with the simulator's OAuth
//! app for OAuth configs; see the README's walkthrough). Stop with Ctrl-C.

use std::path::Path;

use patchbay_simulator::{Credentials, Provider, RunningSimulator, Simulator};
use serde_json::{Value, json};

fn text_arg<'a>(args: &'a [String], name: &str) -> Result<Option<&'a str>, String> {
    match args.iter().position(|a| a == name) {
        None => Ok(None),
        Some(i) => args
            .get(i + 1)
            .map(|v| Some(v.as_str()))
            .ok_or_else(|| format!("{name} needs a value")),
    }
}

/// Writes `dir/<slug>.json`: the override pointing each catalog config at `sim`.
fn write_overrides(sim: &RunningSimulator, dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let catalog = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/catalog");
    std::fs::create_dir_all(dir)?;
    for provider in Provider::ALL {
        let slug = provider.slug();
        let text = std::fs::read_to_string(catalog.join(format!("{slug}.json")))?;
        let config: Value = serde_json::from_str(&text)?;
        let mut overlay = sim.catalog_override(provider, &config);
        let app =
            json!({"id": format!("{slug}-client-id"), "secret": format!("{slug}-client-secret")});
        if config["credentials"]["format"] == "oauth2" {
            overlay["credentials"]["config"]["client"] = app;
        } else if config["credentials"]["oauth2"].is_object() {
            overlay["credentials"]["oauth2"]["config"]["client"] = app;
        }
        let path = dir.join(format!("{slug}.json"));
        std::fs::write(&path, serde_json::to_string_pretty(&overlay)? + "\n")?;
    }
    println!(
        "Wrote the overrides for examples/catalog to {}\n",
        dir.display()
    );
    Ok(())
}

fn arg(args: &[String], name: &str) -> Result<Option<u64>, String> {
    match args.iter().position(|a| a == name) {
        None => Ok(None),
        Some(i) => {
            let value = args
                .get(i + 1)
                .ok_or_else(|| format!("{name} needs a value"))?;
            value
                .parse()
                .map(Some)
                .map_err(|_| format!("{name}: `{value}` is not a number"))
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port = arg(&args, "--port")?.unwrap_or(8787);
    let port = u16::try_from(port).map_err(|_| "--port must be at most 65535")?;
    let mut builder = Simulator::builder()
        .all_providers()
        .port(port)
        .records(arg(&args, "--records")?.unwrap_or(100));
    if let Some(size) = arg(&args, "--page-size")? {
        builder = builder.page_size(size);
    }
    let sim = builder.start().await?;

    println!("Patchbay provider simulator on {}\n", sim.base_url());
    if let Some(dir) = text_arg(&args, "--overrides")? {
        write_overrides(&sim, Path::new(dir))?;
    }
    println!(
        "{:<16} {:<58} accepted static token",
        "provider", "config base_url"
    );
    for provider in Provider::ALL {
        let creds = Credentials::default_for(provider);
        println!(
            "{:<16} {:<58} {}",
            provider.slug(),
            sim.api_base_url(provider),
            creds.static_tokens.join(", ")
        );
    }
    println!("\nOAuth (client id/secret: <slug>-client-id / <slug>-client-secret):");
    for provider in Provider::ALL {
        if let Some(token) = sim.token_url(provider) {
            println!("  {:<16} token {token}", provider.slug());
        }
    }
    println!(
        "\nZendesk Basic auth: agent@example.com/token : zendesk-api-token; Keka api_key: keka-api-key"
    );
    println!(
        "Try: curl -H 'Authorization: Bearer ghp_simulator' '{}/user/repos?per_page=2' -i",
        sim.api_base_url(Provider::Github)
    );

    tokio::signal::ctrl_c().await?;
    sim.shutdown().await;
    Ok(())
}
