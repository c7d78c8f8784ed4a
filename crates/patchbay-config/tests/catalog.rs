//! Every config in examples/catalog validates and round-trips.

use patchbay_config::load_integration_config;
use serde_json::Value;

#[test]
fn catalog_configs_validate_and_round_trip() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/catalog");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let config =
            load_integration_config(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let original: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            serde_json::to_value(&config).unwrap(),
            original,
            "{} does not round-trip",
            path.display()
        );
        count += 1;
    }
    assert!(
        count >= 10,
        "expected the catalog in {}, found {count} configs",
        dir.display()
    );
}

#[test]
fn the_broken_example_reports_every_problem() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/configs/broken.json");
    let errors = load_integration_config(&std::fs::read_to_string(path).unwrap()).unwrap_err();
    let paths: Vec<String> = errors.errors().iter().map(|e| e.path.to_string()).collect();
    assert_eq!(
        paths,
        [
            "authorization.config.tokn",
            "resources.users.list.method",
            "resources.users.list.pagination.config.cursor_path",
            "resources.users.list.pagination.config.curser_path",
            "resources.users.list.query.limit",
            "resources.users.list.error_expression",
        ]
    );
}
