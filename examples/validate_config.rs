//! Validates integration config files and prints every problem with its JSON path.
//!
//! ```sh
//! cargo run -p patchbay --example validate_config -- examples/catalog/*.json
//! cargo run -p patchbay --example validate_config -- examples/configs/broken.json
//! ```
//!
//! Exits with status 1 when any file is invalid.

use std::process::ExitCode;

fn main() -> ExitCode {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        eprintln!("usage: validate_config <config.json>...");
        return ExitCode::from(2);
    }
    let mut ok = true;
    for path in &paths {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) => {
                eprintln!("{path}: cannot read: {e}");
                ok = false;
                continue;
            }
        };
        match patchbay::config::load_integration_config(&text) {
            Ok(config) => {
                let methods = config.method_names().count();
                println!("{path}: ok ({methods} methods)");
            }
            Err(errors) => {
                ok = false;
                println!("{path}: {} problem(s)", errors.len());
                for error in errors.errors() {
                    println!("  {error}");
                }
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
