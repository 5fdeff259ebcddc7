//! The one front door: a `ScanRequest` is resolved once in core, with one validation and one
//! wording per error, whatever front door built it.

use std::path::PathBuf;
use std::sync::Arc;

use scangit_core::request::{MAX_THREADS, StoreLocation, builtin_engine};
use scangit_core::{ErrorKind, RulesSpec, ScanError, ScanMode, ScanRequest, StoreSpec};

fn tmp(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("request-resolve-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn error_of(request: ScanRequest) -> ScanError {
    match request.resolve() {
        Ok(_) => panic!("resolved, expected an error"),
        Err(e) => e,
    }
}

fn invalid_message(request: ScanRequest) -> String {
    let e = error_of(request);
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    e.to_string()
}

#[test]
fn the_builtin_engine_is_compiled_once_and_shared() {
    let a = builtin_engine().unwrap();
    let b = builtin_engine().unwrap();
    assert!(Arc::ptr_eq(&a, &b));
    let resolved = ScanRequest::default().resolve().unwrap();
    assert!(
        Arc::ptr_eq(&resolved.engine, &a),
        "a default request uses the cached engine"
    );
    assert!(resolved.warnings.is_empty());
    assert!(a.rule_count() > 100);
}

#[test]
fn defaults_are_the_scan_options_defaults() {
    let resolved = ScanRequest::default().resolve().unwrap();
    let defaults = scangit_core::ScanOptions::default();
    let o = &resolved.options;
    assert_eq!(o.mode, defaults.mode);
    assert_eq!(o.threads, 0);
    assert_eq!(o.max_blob_bytes, defaults.max_blob_bytes);
    assert_eq!(o.memory_budget_bytes, defaults.memory_budget_bytes);
    assert_eq!(o.chunk_bytes, defaults.chunk_bytes);
    assert_eq!(o.progress_interval, defaults.progress_interval);
    assert!(o.store.is_none() && !o.reveal_secrets && !o.keep_secrets);
    assert_eq!(resolved.stream.batch_events, 512);
}

#[test]
fn options_map_by_their_contract_names() {
    let request = ScanRequest {
        mode: Some("diff-history".into()),
        threads: Some(3),
        max_blob_bytes: Some(4096),
        memory_budget_bytes: Some(64 << 20),
        chunk_bytes: Some(8192),
        reveal_secrets: true,
        ref_include: vec!["refs/heads/*".into()],
        since: Some("HEAD~1".into()),
        first_parent_only: true,
        repo_id: Some("r".into()),
        progress_interval_secs: Some(0.5),
        batch_events: Some(0),
        ..ScanRequest::default()
    };
    let o = request.resolve().unwrap().options;
    assert_eq!(o.mode, ScanMode::DiffHistory);
    assert_eq!(o.threads, 3);
    assert_eq!((o.max_blob_bytes, o.memory_budget_bytes), (4096, 64 << 20));
    assert_eq!(o.chunk_bytes, 8192);
    assert!(o.reveal_secrets && o.first_parent_only);
    assert_eq!(o.ref_include, vec!["refs/heads/*"]);
    assert_eq!(o.since.as_deref(), Some("HEAD~1"));
    assert_eq!(o.repo_id.as_deref(), Some("r"));
    assert_eq!(o.progress_interval.as_millis(), 500);
}

#[test]
fn absurd_thread_counts_are_invalid_arguments() {
    for threads in [-1, MAX_THREADS + 1, 1_000_000_000] {
        let message = invalid_message(ScanRequest {
            threads: Some(threads),
            ..ScanRequest::default()
        });
        assert_eq!(
            message,
            format!(
                "invalid argument: threads must be from 0 (one per core) to {MAX_THREADS}, got {threads}"
            )
        );
    }
    let ok = ScanRequest {
        threads: Some(MAX_THREADS),
        ..ScanRequest::default()
    };
    assert_eq!(ok.check().unwrap().0.threads, MAX_THREADS as usize);
}

#[test]
fn an_unknown_mode_is_an_invalid_argument_naming_the_modes() {
    let message = invalid_message(ScanRequest {
        mode: Some("fast".into()),
        ..ScanRequest::default()
    });
    assert_eq!(
        message,
        r#"invalid argument: mode must be "odb-blob" or "diff-history", got "fast""#
    );
}

#[test]
fn sizes_and_durations_are_checked() {
    let cases = [
        (
            ScanRequest {
                max_blob_bytes: Some(-1),
                ..ScanRequest::default()
            },
            "max_blob_bytes must be >= 0, got -1",
        ),
        (
            ScanRequest {
                chunk_bytes: Some(0),
                ..ScanRequest::default()
            },
            "chunk_bytes must be positive, got 0",
        ),
        (
            ScanRequest {
                memory_budget_bytes: Some(4096),
                ..ScanRequest::default()
            },
            "memory_budget_bytes must be at least 1048576, got 4096",
        ),
        (
            ScanRequest {
                progress_interval_secs: Some(-1.0),
                ..ScanRequest::default()
            },
            "progress_interval must be >= 0 seconds, got -1",
        ),
        (
            ScanRequest {
                queue_batches: Some(-2),
                ..ScanRequest::default()
            },
            "queue_batches must be >= 0, got -2",
        ),
    ];
    for (request, expected) in cases {
        assert_eq!(
            invalid_message(request),
            format!("invalid argument: {expected}")
        );
    }
}

#[test]
fn store_specs_name_sqlite_files_and_refuse_servers() {
    let parse = |s: &str| StoreSpec::parse(s.as_ref());
    assert_eq!(
        parse("scans.db").unwrap(),
        StoreLocation::Sqlite("scans.db".into())
    );
    assert_eq!(
        parse("sqlite:/tmp/x.db").unwrap(),
        StoreLocation::Sqlite("/tmp/x.db".into())
    );
    for (spec, says) in [
        (
            "postgres://db.example/scans",
            "postgres stores are not built in yet",
        ),
        ("redis://cache:6379", "unknown store scheme redis://"),
        ("sqlite:", "needs a path"),
        ("", "must be a file path or sqlite:PATH"),
    ] {
        let message = invalid_message(ScanRequest {
            store: StoreSpec::location(spec),
            ..ScanRequest::default()
        });
        assert!(message.contains(says), "{spec}: {message}");
    }
    // Checked without I/O, so a front door that opens the store later can refuse it at once.
    let bad = ScanRequest {
        store: StoreSpec::location("postgres://x/y"),
        ..ScanRequest::default()
    };
    assert_eq!(bad.check().unwrap_err().kind(), ErrorKind::InvalidArgument);

    let db = tmp("spec.db");
    let resolved = ScanRequest {
        store: StoreSpec::location(format!("sqlite:{}", db.display())),
        ..ScanRequest::default()
    }
    .resolve()
    .unwrap();
    assert!(resolved.options.store.is_some());
    assert!(db.is_file(), "sqlite:PATH opens (creates) the SQLite file");
}

#[test]
fn an_unreadable_rules_file_is_rules_invalid_naming_it() {
    let missing = tmp("no-such-rules.toml");
    let e = error_of(ScanRequest {
        rules: RulesSpec::from_options(Some(missing.clone()), false),
        ..ScanRequest::default()
    });
    assert_eq!(e.kind(), ErrorKind::RulesInvalid);
    let message = e.to_string();
    assert!(
        message.starts_with(&format!(
            "invalid rules: {}: cannot read rules file",
            missing.display()
        )),
        "{message}"
    );
}

#[test]
fn bad_rules_never_create_the_store_file() {
    let db = tmp("never.db");
    let e = error_of(ScanRequest {
        rules: RulesSpec::from_options(Some(tmp("absent.toml")), false),
        store: StoreSpec::location(&db),
        ..ScanRequest::default()
    });
    assert_eq!(e.kind(), ErrorKind::RulesInvalid);
    assert!(!db.exists());
}

/// A rule id defined twice: a warning, or with strict rules an error naming the rule.
const DUP: &str = "[[rules]]\nid = 'dup'\nregex = 'first-[0-9]{8}'\n\n\
                   [[rules]]\nid = 'dup'\nregex = 'second-[0-9]{8}'\n";

#[test]
fn strict_rules_turn_warnings_into_rules_invalid() {
    let path = tmp("dup.toml");
    std::fs::write(&path, DUP).unwrap();
    let lenient = ScanRequest {
        rules: RulesSpec::from_options(Some(path.clone()), false),
        ..ScanRequest::default()
    }
    .resolve()
    .unwrap();
    assert_eq!(lenient.warnings.len(), 1);
    assert!(
        lenient.warnings[0]
            .to_string()
            .contains("rule dup: duplicate rule id"),
        "{}",
        lenient.warnings[0]
    );
    assert_eq!(lenient.engine.rule_count(), 1);

    let e = error_of(ScanRequest {
        rules: RulesSpec::from_options(Some(path), true),
        ..ScanRequest::default()
    });
    assert_eq!(e.kind(), ErrorKind::RulesInvalid);
    assert!(e.to_string().contains("duplicate rule id"), "{e}");

    // The built-in rules have nothing for strict to refuse.
    let strict_builtin = ScanRequest {
        rules: RulesSpec::from_options(None, true),
        ..ScanRequest::default()
    };
    assert!(strict_builtin.resolve().unwrap().warnings.is_empty());
}

#[test]
fn a_callers_engine_is_used_as_is() {
    let engine = builtin_engine().unwrap();
    let resolved = ScanRequest {
        rules: RulesSpec::Engine(engine.clone()),
        ..ScanRequest::default()
    }
    .resolve()
    .unwrap();
    assert!(Arc::ptr_eq(&resolved.engine, &engine));
}
