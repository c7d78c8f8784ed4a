//! Sync job validation: every problem at once, each with its JSON path.

use patchbay_sync::{load_sync_job, sync_job_schema, validate_sync_job};
use serde_json::json;

fn problems(job: serde_json::Value) -> Vec<String> {
    validate_sync_job(&job)
        .expect_err("the job is invalid")
        .errors()
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn has(problems: &[String], prefix: &str) {
    assert!(
        problems.iter().any(|p| p.starts_with(prefix)),
        "no problem starting with {prefix:?} in {problems:#?}"
    );
}

#[test]
fn structural_problems_are_reported_together_with_their_paths() {
    let found = problems(json!({
        "integration_name": "zendesk",
        "resources": [
            {"resource": "ticketing/tickets", "method": "list", "depend_on": "x"},
            {"resource": "ticketing/comments", "persist": "yes"},
            {"resource": "tickets", "method": "list", "query": {"page": "{{args.n:integer}}"}},
            {"name": "t", "type": "transform", "depends_on": "tickets", "config": {"expression": "records.("}}
        ]
    }));
    has(
        &found,
        "resources[0].depend_on: unknown key `depend_on` (did you mean `depends_on`?)",
    );
    has(
        &found,
        "resources[1].persist: expected boolean or null, found string",
    );
    has(
        &found,
        "resources[2].query.page: unsupported type `integer`",
    );
    has(
        &found,
        "resources[3].config.expression: cannot compile JSONata expression: S0207",
    );
    assert_eq!(found.len(), 4, "{found:#?}");
}

#[test]
fn rules_spanning_entries_are_reported_together_with_their_paths() {
    let found = problems(json!({
        "integration_name": "zendesk",
        "default_runtime_version": 4,
        "args_schema": {"type": "object", "properties": {"since": {"type": "string", "format": "date"}}},
        "mutex_key": "{{args.account}}",
        "resources": [
            {"resource": "ticketing/tickets", "method": "list",
             "query": {"updated_at": {"gt": "{{args.since}}"}, "owner": "{{resources.ticketing.users.id}}"}},
            {"resource": "ticketing/comments", "depends_on": "ticketing/ticket"},
            {"name": "a", "resource": "ticketing/users", "method": "list", "depends_on": "b"},
            {"name": "b", "resource": "ticketing/contacts", "method": "list", "depends_on": "a"},
            {"resource": "ticketing/tickets", "method": "get", "loop_on": "ids: {{args.since}}"},
            {"name": "buffer", "type": "spool", "depends_on": "ticketing/tickets"},
            {"resource": "crm/a/b", "method": "list", "delete_tracking": "hard"},
            {"name": "t", "type": "transform", "depends_on": "ticketing/tickets"},
            {"name": "u", "type": "transform", "depends_on": "t", "config": {"expression": "records"}}
        ]
    }));
    has(
        &found,
        "default_runtime_version: runtime version 4 is not supported",
    );
    has(
        &found,
        "mutex_key: `{{args.account}}` reads the argument `account`, which `args_schema` does not declare",
    );
    has(
        &found,
        "resources[0].query.owner: `{{resources.ticketing.users.id}}` reads a record that is not in scope",
    );
    has(
        &found,
        "resources[1].method: required key `method` is missing",
    );
    has(
        &found,
        "resources[1].depends_on: `ticketing/ticket` is not an entry of this job",
    );
    has(
        &found,
        "resources[2].depends_on: `depends_on` forms a cycle: a → b → a",
    );
    has(
        &found,
        "resources[4]: the name `ticketing/tickets` is already used by resources[0]",
    );
    has(
        &found,
        "resources[4].loop_on: `ids: {{args.since}}` must be exactly one placeholder",
    );
    has(&found, "resources[5].type: `spool` is not supported");
    has(
        &found,
        "resources[6].delete_tracking: delete tracking is not supported yet",
    );
    has(&found, "resources[6].resource: `crm/a/b` is neither");
    has(
        &found,
        "resources[7].config: required key `config` is missing",
    );
    has(
        &found,
        "resources[8].depends_on: an entry cannot depend on a transform",
    );
    assert_eq!(found.len(), 13, "{found:#?}");
}

#[test]
fn placeholders_may_read_every_ancestor_and_recursion_its_own_record() {
    let plan = load_sync_job(
        r#"{
          "integration_name": "box",
          "args_schema": {"root": {"type": "string", "required": true}},
          "resources": [
            {"resource": "folders", "method": "list", "id": "{{args.root}}", "persist": true,
             "recurse": {"if": "{{resources.folders.is_folder:bool}}", "config": {"id": "{{resources.folders.id}}"}}},
            {"name": "files", "resource": "documents/files", "method": "list", "depends_on": "folders",
             "query": {"folder": "{{resources.folders.id}}"}},
            {"resource": "documents/versions", "method": "list", "depends_on": "files",
             "query": {"folder": "{{resources.folders.id}}", "file": "{{resources.files.id}}", "f2": "{{resources.documents.files.id}}"}}
          ]
        }"#,
    )
    .unwrap();
    assert_eq!(plan.order(), ["folders", "files", "documents/versions"]);

    // Outside `recurse`, an entry's own record is not in scope.
    let found = problems(json!({
        "resources": [{"resource": "folders", "method": "list", "id": "{{resources.folders.id}}"}]
    }));
    has(
        &found,
        "resources[0].id: `{{resources.folders.id}}` reads a record that is not in scope: only ancestors through `depends_on` are (this entry has no `depends_on` parent)",
    );
}

/// Fails when `docs/sync-job.schema.json` differs from the schema the types generate
/// (`PATCHBAY_UPDATE_SCHEMA=1 cargo test -p patchbay-sync --test validation` rewrites it).
#[test]
fn the_published_schema_is_fresh() {
    let schema = sync_job_schema();
    assert_eq!(
        schema["title"],
        "Patchbay sync job (Truto format, runtime versions 1-3)"
    );
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/sync-job.schema.json"
    );
    let generated = serde_json::to_string_pretty(schema).unwrap() + "\n";
    if std::env::var_os("PATCHBAY_UPDATE_SCHEMA").is_some() {
        std::fs::write(path, &generated).unwrap();
    }
    let published = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        published == generated,
        "docs/sync-job.schema.json is stale: run `PATCHBAY_UPDATE_SCHEMA=1 cargo test -p patchbay-sync --test validation`"
    );
}
