//! Bad input through the real binary: exit code 2, a located message, nothing written.

use std::process::Command;

fn berth_in(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("berth runs")
}

const GOOD: &str = "app: shop\nversion: 1.0.0\nservices:\n  web: {image: web, port: 80}\n";

#[test]
fn a_bad_spec_exits_2_with_file_line_column_and_leaves_the_output_untouched() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("berth.yaml"), GOOD).unwrap();
    let ok = berth_in(dir.path(), &["render", ".", "-o", "out"]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let before = std::fs::read_to_string(dir.path().join("out/all.yaml")).unwrap();

    std::fs::write(
        dir.path().join("berth.yaml"),
        "app: shop\nversion: 1.0.0\nservices:\n  web: {image: web, port: 80, resources: {cpu: lots}}\n",
    )
    .unwrap();
    let bad = berth_in(dir.path(), &["render", ".", "-o", "out"]);
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8(bad.stderr).unwrap();
    assert!(err.contains("berth.yaml:4:"), "{err}");
    assert!(err.contains("services.web.resources.cpu"), "{err}");
    assert!(err.contains("`lots` is not a Kubernetes quantity"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out/all.yaml")).unwrap(),
        before
    );

    let build = berth_in(dir.path(), &["build", "."]);
    assert_eq!(build.status.code(), Some(2));
    assert!(!dir.path().join("out/default").exists());
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("berth.yaml"), GOOD).unwrap();
    assert_eq!(
        berth_in(dir.path(), &["render", ".", "--env", "nope"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        berth_in(dir.path(), &["render", "missing-dir"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(berth_in(dir.path(), &["frobnicate"]).status.code(), Some(2));
}

#[test]
fn several_environments_need_env() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("berth.yaml"),
        format!("{GOOD}environments:\n  dev: {{}}\n  prod: {{}}\n"),
    )
    .unwrap();
    let out = berth_in(dir.path(), &["render", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr).unwrap().contains("dev, prod"));
}

#[test]
fn a_spec_that_is_not_utf8_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("berth.yaml"), b"app: \xff\n").unwrap();
    let out = berth_in(dir.path(), &["render", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not UTF-8"));
}

/// The data tier's bad inputs: each exits 2 with file:line:col, the spec path and a fix, and
/// writes nothing.
#[test]
fn dependency_mistakes_exit_2_located_with_a_fix_and_write_nothing() {
    let base = "app: shop\nversion: 1.0.0\nservices:\n  web: {image: web, port: 80, uses: [db]}\n";
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "dependencies:\n  db: {type: postgres, mode: managed, host: db.example.com, pooler: {mode: transaction}}\n",
            "berth.yaml:6:",
            "dependencies.db.pooler",
            "does not apply to `mode: managed`",
        ),
        (
            "dependencies:\n  db: {type: postgres, backup: {schedule: \"0 0 3 * * *\"}}\n",
            "berth.yaml:6:",
            "dependencies.db.backup",
            "missing required key `to`",
        ),
        (
            "dependencies:\n  db: {type: postgres, host: db.example.com, ha: {instances: 3}}\n",
            "berth.yaml:6:",
            "dependencies.db.ha",
            "does not apply to `mode: external`",
        ),
        (
            "dependencies:\n  db: {type: postgres, databases: [shop]}\nservices:\n  web: {image: web, port: 80, uses: [db], migrate: {command: [goose, up], database: db/shpo}}\n",
            "berth.yaml:",
            "services.web.migrate.database",
            "has no database `shpo`",
        ),
        (
            "dependencies:\n  db: {type: postgres, backup: {to: s3://b/pg, schedule: \"0 3 * * *\", identity: arn:aws:iam::1:role/x}}\n",
            "berth.yaml:6:",
            "dependencies.db.backup.schedule",
            "expected 6",
        ),
    ];
    for (extra, at, path, message) in cases {
        let dir = tempfile::tempdir().unwrap();
        let spec = if extra.contains("\nservices:") {
            format!("app: shop\nversion: 1.0.0\n{extra}")
        } else {
            format!("{base}{extra}")
        };
        std::fs::write(dir.path().join("berth.yaml"), &spec).unwrap();
        let out = berth_in(dir.path(), &["render", ".", "-o", "out"]);
        // miette wraps long messages; join the lines back.
        let err = String::from_utf8(out.stderr)
            .unwrap()
            .replace("\n  │ ", " ");
        assert_eq!(out.status.code(), Some(2), "{spec}\n{err}");
        assert!(err.contains(at), "{at} in\n{err}");
        assert!(err.contains(path), "{path} in\n{err}");
        assert!(err.contains(message), "{message} in\n{err}");
        assert!(
            err.contains("help") || err.contains("fix") || err.contains("e.g."),
            "a fix in\n{err}"
        );
        assert!(
            !dir.path().join("out").exists(),
            "{spec}: something was written"
        );
    }
}
