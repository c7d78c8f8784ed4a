//! The administration commands of the server binary (`environment`, `token`) on a real
//! SQLite store: what they create authenticates, what they revoke stops at once.

mod support;

use std::path::Path;
use std::process::Output;

use patchbay_server::store::{Cipher, open_store_with};

use support::process::{server_command, stderr_log, stdout_log};

/// Runs `patchbay-server ARGS` to completion on the store in `data`.
fn run(data: &Path, key: &str, args: &[&str]) -> Output {
    run_with(data, key, &[], args)
}

/// [`run`] with the variables `env` set.
fn run_with(data: &Path, key: &str, env: &[(&str, &str)], args: &[&str]) -> Output {
    let logs = tempfile::tempdir().expect("temp dir");
    let mut command = server_command(key, logs.path());
    command
        .env("PATCHBAY_DATA_DIR", data)
        .env_remove("DATABASE_URL")
        .envs(env.iter().copied())
        .args(args);
    let status = command.status().expect("run patchbay-server");
    Output {
        status,
        stdout: std::fs::read(stdout_log(logs.path())).unwrap_or_default(),
        stderr: std::fs::read(stderr_log(logs.path())).unwrap_or_default(),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The environment id a bearer `token` authenticates as, read from the store itself.
async fn authenticates_as(data: &Path, key: &str, token: &str) -> Option<String> {
    let cipher = Cipher::from_base64(key).expect("key");
    let store = open_store_with(None, data, cipher)
        .await
        .expect("open store");
    store.authenticate(token).await.expect("authenticate")
}

#[tokio::test]
async fn a_created_token_authenticates_and_a_revoked_one_stops_at_once() {
    let data = tempfile::tempdir().expect("data dir");
    let key = Cipher::generate_key_base64().to_string();

    let created = run(data.path(), &key, &["environment", "create", "staging"]);
    assert!(created.status.success(), "{}", text(&created.stderr));
    let line = text(&created.stdout);
    let (environment_id, name) = line.trim().split_once('\t').expect("id<TAB>name");
    assert_eq!(name, "staging");

    let issued = run(
        data.path(),
        &key,
        &[
            "token",
            "create",
            "--environment",
            "staging",
            "--name",
            "deploy",
        ],
    );
    assert!(issued.status.success(), "{}", text(&issued.stderr));
    let token = text(&issued.stdout).trim().to_owned();
    assert!(
        token.starts_with("pb_"),
        "stdout is the token alone: {token}"
    );
    assert!(
        text(&issued.stderr).contains("shown only this once"),
        "{}",
        text(&issued.stderr)
    );
    assert_eq!(
        authenticates_as(data.path(), &key, &token).await.as_deref(),
        Some(environment_id)
    );

    let listed = run(
        data.path(),
        &key,
        &["token", "list", "--environment", "staging"],
    );
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let listing = text(&listed.stdout);
    assert!(
        !listing.contains(&token),
        "a listing never shows a token's value"
    );
    let rows: Vec<&str> = listing.lines().collect();
    assert_eq!(rows.len(), 1, "{listing}");
    let (token_id, rest) = rows[0]
        .split_once('\t')
        .expect("id<TAB>name<TAB>created_at");
    assert!(rest.starts_with("deploy\t"), "{listing}");

    let revoked = run(
        data.path(),
        &key,
        &["token", "revoke", "--environment", "staging", token_id],
    );
    assert!(revoked.status.success(), "{}", text(&revoked.stderr));
    assert_eq!(authenticates_as(data.path(), &key, &token).await, None);
}

#[test]
fn unknown_environments_and_tokens_fail_with_what_was_wrong() {
    let data = tempfile::tempdir().expect("data dir");
    let key = Cipher::generate_key_base64().to_string();
    let ok = run(data.path(), &key, &["environment", "create", "prod"]);
    assert!(ok.status.success(), "{}", text(&ok.stderr));

    let missing = run(
        data.path(),
        &key,
        &["token", "create", "--environment", "staging"],
    );
    assert!(!missing.status.success());
    let message = text(&missing.stderr);
    assert!(
        message.contains("no environment is named `staging` (environments: prod)"),
        "{message}"
    );
    assert!(missing.stdout.is_empty(), "no token was printed");

    let unknown = run(
        data.path(),
        &key,
        &["token", "revoke", "--environment", "prod", "tok_missing"],
    );
    assert!(!unknown.status.success());
    assert!(
        text(&unknown.stderr).contains("tok_missing"),
        "{}",
        text(&unknown.stderr)
    );

    let duplicate = run(data.path(), &key, &["environment", "create", "prod"]);
    assert!(!duplicate.status.success(), "names are unique");
}

/// Runs `patchbay-server ARGS` with `key` active and `previous` listed as previous keys.
fn run_rotating(data: &Path, key: &str, previous: &str, args: &[&str]) -> Output {
    run_with(
        data,
        key,
        &[("PATCHBAY_PREVIOUS_ENCRYPTION_KEYS", previous)],
        args,
    )
}

#[tokio::test]
async fn key_rotate_moves_every_secret_to_the_new_key_while_the_old_one_still_reads() {
    let data = tempfile::tempdir().expect("data dir");
    let old_key = Cipher::generate_key_base64().to_string();
    // Secrets written under the old key.
    let (environment_id, secrets) = {
        let store = open_store_with(None, data.path(), Cipher::from_base64(&old_key).unwrap())
            .await
            .unwrap();
        let environment = store.bootstrap().await.unwrap().unwrap().environment;
        let mut secrets = Vec::new();
        for n in 0..3 {
            let created = store
                .create_webhook(
                    &environment.id,
                    patchbay_server::store::NewWebhook {
                        target_url: format!("https://hooks.example/{n}"),
                        event_types: vec!["*".into()],
                        is_active: true,
                    },
                )
                .await
                .unwrap();
            secrets.push((created.webhook.id, created.secret.expose().to_owned()));
        }
        (environment.id, secrets)
    };

    let generated = run(data.path(), &old_key, &["key", "generate"]);
    assert!(generated.status.success(), "{}", text(&generated.stderr));
    let new_key = text(&generated.stdout).trim().to_owned();
    assert!(
        Cipher::from_base64(&new_key).is_ok(),
        "a usable key: {new_key}"
    );
    assert_ne!(new_key, old_key);

    let status = run_rotating(data.path(), &new_key, &old_key, &["key", "status"]);
    assert!(status.status.success(), "{}", text(&status.stderr));
    assert_eq!(
        text(&status.stdout).trim(),
        "3",
        "three secrets under the old key"
    );

    let rotated = run_rotating(data.path(), &new_key, &old_key, &["key", "rotate"]);
    assert!(rotated.status.success(), "{}", text(&rotated.stderr));
    assert_eq!(text(&rotated.stdout).trim(), "3");
    let report = text(&rotated.stderr);
    assert!(
        report.contains("webhooks.secret_enc: 3 re-encrypted"),
        "{report}"
    );
    assert!(report.contains("can be removed"), "{report}");

    let again = run_rotating(data.path(), &new_key, &old_key, &["key", "rotate"]);
    assert_eq!(text(&again.stdout).trim(), "0", "nothing left to do");

    // The new key alone reads every secret, unchanged; the old key alone no longer opens it.
    let store = open_store_with(None, data.path(), Cipher::from_base64(&new_key).unwrap())
        .await
        .expect("the new key alone opens the store");
    assert_eq!(store.secrets_under_previous_keys().await.unwrap(), 0);
    for (id, secret) in &secrets {
        let read = store.webhook_secret(&environment_id, id).await.unwrap();
        assert_eq!(read.expose(), secret);
    }
    drop(store);
    let refused = open_store_with(None, data.path(), Cipher::from_base64(&old_key).unwrap()).await;
    let message = refused
        .expect_err("the old key no longer matches")
        .to_string();
    assert!(message.contains("does not match"), "{message}");
}

#[tokio::test]
async fn key_rotate_without_the_old_key_names_what_it_cannot_read() {
    let data = tempfile::tempdir().expect("data dir");
    let old_key = Cipher::generate_key_base64().to_string();
    let new_key = Cipher::generate_key_base64().to_string();
    let initialized = run(data.path(), &old_key, &["environment", "list"]);
    assert!(
        initialized.status.success(),
        "{}",
        text(&initialized.stderr)
    );
    let refused = run(data.path(), &new_key, &["key", "rotate"]);
    assert!(!refused.status.success());
    let message = text(&refused.stderr);
    assert!(
        message.contains("does not match") && message.contains("PATCHBAY_PREVIOUS_ENCRYPTION_KEYS"),
        "{message}"
    );
}

#[test]
fn unusable_pacing_settings_stop_the_start_naming_the_variable() {
    let data = tempfile::tempdir().expect("data dir");
    let key = Cipher::generate_key_base64().to_string();
    let cases: [(&[(&str, &str)], &str); 3] = [
        (&[("PATCHBAY_PACING", "10 per second")], "PATCHBAY_PACING"),
        (&[("PATCHBAY_PACING", "10/s,burst=0")], "PATCHBAY_PACING"),
        (
            &[
                ("PATCHBAY_PACING", "10/s"),
                ("REDIS_URL", "http://user:hunter2@redis.internal:6379"),
            ],
            "REDIS_URL",
        ),
    ];
    for (env, variable) in cases {
        let refused = run_with(data.path(), &key, env, &["environment", "list"]);
        let message = text(&refused.stderr);
        assert_eq!(refused.status.code(), Some(2), "{env:?}: {message}");
        assert!(message.contains(variable), "{env:?}: {message}");
        assert!(
            !message.contains("hunter2"),
            "the password is never shown: {message}"
        );
    }
    // A good pace and a Redis URL (not connected to by an admin command) are accepted.
    let accepted = run_with(
        data.path(),
        &key,
        &[
            ("PATCHBAY_PACING", "600/min,burst=20"),
            ("REDIS_URL", "redis://:hunter2@127.0.0.1:1/0"),
        ],
        &["environment", "list"],
    );
    assert!(accepted.status.success(), "{}", text(&accepted.stderr));
}

#[test]
fn unusable_sync_settings_stop_the_start_naming_the_variable() {
    let data = tempfile::tempdir().expect("data dir");
    let key = Cipher::generate_key_base64().to_string();
    for (variable, value, expected) in [
        ("PATCHBAY_SYNC_LEASE_SECS", "2", "at least 3"),
        ("PATCHBAY_SYNC_SWEEP_SECS", "soon", "positive whole number"),
        ("PATCHBAY_SYNC_PAGE_SIZE", "0", "positive whole number"),
        (
            "PATCHBAY_SYNC_MAX_RUNS_PER_ACCOUNT",
            "none",
            "positive whole number",
        ),
    ] {
        let refused = run_with(
            data.path(),
            &key,
            &[(variable, value)],
            &["environment", "list"],
        );
        let message = text(&refused.stderr);
        assert_eq!(refused.status.code(), Some(2), "{variable}: {message}");
        assert!(
            message.contains(&format!("{variable}=`{value}`")) && message.contains(expected),
            "{variable}: {message}"
        );
    }
    let accepted = run_with(
        data.path(),
        &key,
        &[
            ("PATCHBAY_SYNC_LEASE_SECS", "60"),
            ("PATCHBAY_SYNC_SWEEP_SECS", "5"),
            ("PATCHBAY_SYNC_PAGE_SIZE", "200"),
            ("PATCHBAY_SYNC_MAX_RUNS_PER_ACCOUNT", "1"),
            ("PATCHBAY_SYNC_MAX_RUNS_PER_INTEGRATION", "8"),
        ],
        &["environment", "list"],
    );
    assert!(accepted.status.success(), "{}", text(&accepted.stderr));
}
