//! The examples of Truto's documentation (shared/seeds) load, validate and round-trip.
//!
//! One test reads `../shared/seeds` beside the checkout (or `$PATCHBAY_SHARED_DIR/seeds`):
//! without it that test is reported ignored, or fails when `CI=true` (`patchbay-testkit`,
//! `docs/testing.md`).

use patchbay_config::{
    AccountStatus, AuthenticationMethod, Authorization, Credentials, Pagination,
    load_integrated_account, load_integration_config, validate_import_request,
};
use patchbay_testkit::{Requirement, test};
use serde_json::Value;

const SEED_CONFIG: &str = include_str!("fixtures/seed_example_config.json");
const SEED_ACCOUNT: &str = include_str!("fixtures/seed_integrated_account.json");
const SEED_IMPORT: &str = include_str!("fixtures/seed_import_request.json");

fn main() -> std::process::ExitCode {
    patchbay_testkit::run(vec![
        test(
            "the_seed_example_config_validates_and_round_trips",
            the_seed_example_config_validates_and_round_trips,
        ),
        test(
            "the_seed_config_is_the_one_quoted_in_the_shared_docs",
            the_seed_config_is_the_one_quoted_in_the_shared_docs,
        )
        .needs(&SHARED_SEEDS),
        test(
            "the_seed_account_and_import_request_load_and_round_trip",
            the_seed_account_and_import_request_load_and_round_trip,
        ),
        test(
            "every_status_and_method_name_of_the_seed_is_accepted",
            every_status_and_method_name_of_the_seed_is_accepted,
        ),
    ])
}

fn the_seed_example_config_validates_and_round_trips() {
    let config = load_integration_config(SEED_CONFIG).unwrap_or_else(|e| panic!("{e}"));
    let original: Value = serde_json::from_str(SEED_CONFIG).unwrap();
    assert_eq!(serde_json::to_value(&config).unwrap(), original);

    assert_eq!(
        config.base_url.as_ref().unwrap().as_str(),
        "https://api.example.com"
    );
    let Some(Credentials::Map(credentials)) = &config.credentials else {
        panic!("map form expected")
    };
    assert_eq!(credentials.keys().collect::<Vec<_>>(), ["oauth2"]);
    assert!(matches!(
        config.authorization,
        Some(Authorization::Bearer(Some(_)))
    ));
    assert!(matches!(
        config.pagination.as_value(),
        Some(Pagination::Page(_))
    ));
    let list = config.method("users", "list").unwrap();
    assert_eq!(list.method.response_path.as_deref(), Some("data.users"));
    assert_eq!(
        config.method_names().collect::<Vec<_>>(),
        [("users", "list"), ("orders", "create")]
    );
    // The example writes error_expression as a placeholder; it is read as a path.
    assert_eq!(
        config
            .error_expression
            .as_ref()
            .unwrap()
            .expression_source(),
        "response.error"
    );
}

fn the_seed_config_is_the_one_quoted_in_the_shared_docs() {
    let seeds = shared_dir().join("seeds");
    let seed = std::fs::read_dir(&seeds)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("000_"))
        .expect("seed 000_*.txt");
    let text = std::fs::read_to_string(seed).unwrap();
    let start = text
        .find("{\n\"base_url\"")
        .expect("config example in seed");
    let end = text
        .find("The ID of the team")
        .expect("end of config example");
    let quoted: Value = serde_json::from_str(&text[start..end]).unwrap();
    let fixture: Value = serde_json::from_str(SEED_CONFIG).unwrap();
    assert_eq!(
        quoted, fixture,
        "fixtures/seed_example_config.json drifted from the seed"
    );
}

fn the_seed_account_and_import_request_load_and_round_trip() {
    let account = load_integrated_account(SEED_ACCOUNT).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(account.status, AccountStatus::Active);
    assert_eq!(account.authentication_method, AuthenticationMethod::OAuth2);
    assert_eq!(account.integration.as_ref().unwrap().name, "zendesk");
    let original: Value = serde_json::from_str(SEED_ACCOUNT).unwrap();
    assert_eq!(serde_json::to_value(&account).unwrap(), original);

    let request: Value = serde_json::from_str(SEED_IMPORT).unwrap();
    let import = validate_import_request(&request).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(import.context["oauth"]["token"]["expires_in"], 3600);
    assert_eq!(serde_json::to_value(&import).unwrap(), request);
}

fn every_status_and_method_name_of_the_seed_is_accepted() {
    for status in [
        "active",
        "connecting",
        "post_install_error",
        "validation_error",
        "needs_reauth",
    ] {
        let parsed: AccountStatus = serde_json::from_value(Value::String(status.into())).unwrap();
        assert_eq!(parsed.as_str(), status);
    }
    for method in [
        "oauth2",
        "api_key",
        "oauth2_client_credentials",
        "keka_oauth",
    ] {
        let parsed: AuthenticationMethod =
            serde_json::from_value(Value::String(method.into())).unwrap();
        assert_eq!(parsed.as_str(), method);
    }
}

/// `../shared/seeds` beside the checkout (or under `PATCHBAY_SHARED_DIR`).
static SHARED_SEEDS: Requirement = Requirement::new("../shared/seeds", || {
    let dir = shared_dir();
    if dir.join("seeds").is_dir() {
        Ok(())
    } else {
        Err(format!(
            "{} is not a directory; put Truto's documentation seeds in ../shared beside the \
             checkout or set PATCHBAY_SHARED_DIR",
            dir.join("seeds").display()
        ))
    }
});

/// `../shared` beside the checkout, or `PATCHBAY_SHARED_DIR`.
fn shared_dir() -> std::path::PathBuf {
    std::env::var_os("PATCHBAY_SHARED_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
}
