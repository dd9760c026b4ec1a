//! `berth import` and `berth init` through the real binary: secrets never leak (proof (e)), bad
//! compose input exits 2 with file:line:col, nothing is overwritten without --force, the JSON
//! report parses, and `berth init` output checks clean.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn berth_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("COMPOSE_PROFILES")
        .env_remove("COMPOSE_FILE")
        .output()
        .expect("berth runs")
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/compose")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

/// Credential values a project holds, from its compose files, .env, env files and secret files.
fn secret_values(dir: &Path) -> Vec<String> {
    let opts = berth_import::compose::Options {
        project_dir: Some(dir.to_owned()),
        ..Default::default()
    };
    let project = berth_import::compose::load(&opts, &berth_import::compose::RealFiles).unwrap();
    let mut out = Vec::new();
    for (_, svc) in project.services() {
        if let Some(env) = svc.get("environment") {
            for (k, v) in berth_import::compose::tree::entries(env) {
                if let Some(v) = v.as_str()
                    && berth_import::mapping::is_credential(&k.name, Some(v))
                {
                    out.push(v.to_owned());
                }
            }
        }
    }
    for (_, def) in project.section("secrets") {
        if let Some(f) = def.get("file").and_then(|f| f.as_str())
            && let Ok(text) = std::fs::read_to_string(dir.join(f))
        {
            out.push(text.trim().to_owned());
        }
    }
    // A password that is also a service or image name (`nextcloud`) cannot be kept out of the
    // spec by anyone: those are not counted.
    let names: Vec<String> = project
        .services()
        .flat_map(|(n, s)| {
            [
                n.to_owned(),
                s.get("image")
                    .and_then(|i| i.as_str())
                    .unwrap_or("")
                    .to_owned(),
            ]
        })
        .collect();
    out.retain(|v| {
        v.len() >= 4
            && !v.starts_with('/')
            && !v.starts_with("${")
            && !names.iter().any(|n| n.contains(v.as_str()))
    });
    out
}

#[test]
fn no_secret_value_reaches_the_spec_the_report_stdout_or_stderr() {
    let tmp = tempfile::tempdir().unwrap();
    // A project written for this test: passwords in environment, env_file, .env, URLs, secrets.
    let own = tmp.path().join("own");
    std::fs::create_dir_all(&own).unwrap();
    std::fs::write(own.join("compose.yaml"), "services:\n  api:\n    image: ghcr.io/acme/api:1.2.0\n    ports: [\"8080:8080\"]\n    env_file: api.env\n    environment:\n      DATABASE_URL: postgres://app:Hunter2-db-pass@db:5432/app\n      JWT_SECRET: ${JWT_SECRET}\n      STRIPE_API_KEY: sk_live_abcdef123456\n      LOG_LEVEL: info\n    secrets: [db_password]\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: Hunter2-db-pass\n      POSTGRES_DB: app\nsecrets:\n  db_password:\n    file: ./db_password.txt\n").unwrap();
    std::fs::write(own.join(".env"), "JWT_SECRET=jwt-from-dotenv-999\n").unwrap();
    std::fs::write(
        own.join("api.env"),
        "SESSION_TOKEN=tok-from-env-file-777\nAWS_SECRET_ACCESS_KEY=aws-secret-555\n",
    )
    .unwrap();
    std::fs::write(own.join("db_password.txt"), "file-secret-321\n").unwrap();
    let mut projects = vec![own];
    for name in std::fs::read_dir(corpus())
        .expect("the corpus (../shared/corpus) is missing")
        .flatten()
    {
        let p = name.path();
        if p.join("docker-compose-config.yaml").is_file() && !secret_values(&p).is_empty() {
            let to = tmp.path().join(name.file_name());
            copy_dir(&p, &to);
            projects.push(to);
        }
    }
    assert!(
        projects.len() >= 10,
        "expected corpus projects with passwords, found {}",
        projects.len() - 1
    );
    let mut checked = 0;
    for dir in &projects {
        let values = secret_values(dir);
        assert!(!values.is_empty() || !dir.ends_with("own"));
        for args in [
            &["import", ".", "--force"][..],
            &["import", ".", "-o", "json", "--force"][..],
        ] {
            let out = berth_in(dir, args);
            if out.status.code() == Some(2) {
                continue; // refused (no services): nothing written, nothing printed but the reason
            }
            assert!(
                out.status.success(),
                "{}: {}",
                dir.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            let spec = std::fs::read_to_string(dir.join("berth.yaml")).unwrap();
            let mut copied = String::new();
            if dir.join("config").is_dir() {
                for f in walk(&dir.join("config")) {
                    copied.push_str(&std::fs::read_to_string(f).unwrap_or_default());
                }
            }
            let texts = [
                ("berth.yaml", spec),
                ("stdout", String::from_utf8_lossy(&out.stdout).into_owned()),
                ("stderr", String::from_utf8_lossy(&out.stderr).into_owned()),
                ("copied files", copied),
            ];
            for v in &values {
                for (what, t) in &texts {
                    assert!(
                        !t.contains(v.as_str()),
                        "{}: a secret value appears in {what}",
                        dir.display()
                    );
                }
            }
        }
        checked += 1;
    }
    let own_spec = std::fs::read_to_string(projects[0].join("berth.yaml")).unwrap();
    for name in [
        "DATABASE_URL",
        "JWT_SECRET",
        "STRIPE_API_KEY",
        "SESSION_TOKEN",
        "AWS_SECRET_ACCESS_KEY",
        "DB_PASSWORD",
    ] {
        assert!(
            own_spec.contains(name),
            "{name} should be a secret name in:\n{own_spec}"
        );
    }
    println!("{checked} projects with credentials imported without leaking a value");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

#[test]
fn bad_compose_exits_2_with_position_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        (
            "services:\n  web:\n    image: nginx:1.27\n    prots: [\"80:80\"]\n",
            "compose.yaml:4:5",
            "additional properties 'prots' not allowed",
        ),
        (
            "services:\n  web:\n    image: \"nginx:${TAG:?set TAG}\"\n",
            "compose.yaml:3:12",
            "required variable TAG is missing a value: set TAG",
        ),
        ("services:\n  web: [\n", "compose.yaml:", "yaml:"),
        (
            "services:\n  web:\n    image: nginx:1.27\n    env_file: missing.env\n",
            "compose.yaml:4:15",
            "env file",
        ),
    ];
    for (src, at, wording) in cases {
        std::fs::write(tmp.path().join("compose.yaml"), src).unwrap();
        let out = berth_in(tmp.path(), &["import"]);
        assert_eq!(out.status.code(), Some(2), "{src}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(at) && err.contains(wording), "{src}\n{err}");
        assert!(!tmp.path().join("berth.yaml").exists());
    }
    let empty = tempfile::tempdir().unwrap();
    let out = berth_in(empty.path(), &["import"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no compose file"));
}

#[test]
fn refuses_to_overwrite_without_force_and_reports_json() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("compose.yaml"), "services:\n  web:\n    image: nginx:1.27\n    ports: [\"8080:80\"]\n    volumes: [\"./nginx.conf:/etc/nginx/conf.d/default.conf:ro\"]\n").unwrap();
    std::fs::write(tmp.path().join("nginx.conf"), "server { listen 8080; }\n").unwrap();
    let out = berth_in(tmp.path(), &["import", "-o", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["services"][0]["compose"], "web");
    assert!(
        report["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["setting"] == "ports")
    );
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("config/web/default.conf")).unwrap(),
        "server { listen 8080; }\n"
    );
    let first = std::fs::read_to_string(tmp.path().join("berth.yaml")).unwrap();
    std::fs::write(tmp.path().join("berth.yaml"), "mine\n").unwrap();
    let again = berth_in(tmp.path(), &["import"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("berth.yaml")).unwrap(),
        "mine\n"
    );
    let forced = berth_in(tmp.path(), &["import", "--force", "-o", "out/berth.yaml"]);
    assert!(forced.status.success());
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("out/berth.yaml")).unwrap(),
        first
    );
    // The imported app builds and checks (every environment).
    let check = berth_in(tmp.path(), &["check", "out"]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}

#[test]
fn init_writes_a_spec_that_checks_clean() {
    let tmp = tempfile::tempdir().unwrap();
    let out = berth_in(
        tmp.path(),
        &[
            "init",
            "shop",
            "--service",
            "web=ghcr.io/acme/web:1.0.0:8080",
            "--service",
            "worker=ghcr.io/acme/worker:1.0.0",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let spec = std::fs::read_to_string(tmp.path().join("shop/berth.yaml")).unwrap();
    assert!(
        spec.contains("image: ghcr.io/acme/web:1.0.0") && spec.contains("port: 8080"),
        "{spec}"
    );
    assert!(spec.contains("image: ghcr.io/acme/worker:1.0.0"), "{spec}");
    let check = berth_in(tmp.path(), &["check", "shop"]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let template = berth_in(tmp.path(), &["init", "tmpl"]);
    assert!(template.status.success());
    assert!(berth_in(tmp.path(), &["check", "tmpl"]).status.success());
    assert_eq!(
        berth_in(tmp.path(), &["init", "shop"]).status.code(),
        Some(2),
        "overwrote without --force"
    );
}
