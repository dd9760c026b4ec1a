//! Proof (d), loader half: interpolation, `.env` / `--env-file`, `env_file`, `extends` (same and
//! other file), `include`, profiles, several files with `!reset` / `!override`: each scenario is
//! resolved by berth and by the real `docker compose config`, and the two models must agree.
//! Bad input: what compose refuses, berth refuses, with file:line:col and compose's wording.

mod common;
use common::*;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, body) in files {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }
}

/// `docker compose config` of DIR with the given files/flags, empty environment.
fn reference(dir: &Path, args: &[&str]) -> Result<Value, String> {
    let out = Command::new(docker_compose())
        .args(args)
        .args(["config", "--format", "json", "--no-path-resolution"])
        .current_dir(dir)
        .env_clear()
        .output()
        .unwrap();
    if out.status.success() {
        Ok(serde_json::from_slice(&out.stdout).unwrap())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn ours(
    dir: &Path,
    files: &[&str],
    env_files: &[&str],
    profiles: &[&str],
) -> Result<Value, String> {
    let opts = berth_import::compose::Options {
        files: files.iter().map(|f| dir.join(f)).collect(),
        project_dir: Some(dir.to_owned()),
        env_files: env_files.iter().map(|f| dir.join(f)).collect(),
        profiles: profiles.iter().map(|p| p.to_string()).collect(),
        environment: Default::default(),
    };
    berth_import::compose::load(&opts, &berth_import::compose::RealFiles)
        .map(|p| p.model.to_json())
        .map_err(|e| e.to_string())
}

/// The fields the import reads, in comparable form.
fn essence(model: &Value) -> Value {
    let mut out = serde_json::Map::new();
    for (name, svc) in model["services"].as_object().into_iter().flatten() {
        let mut e = serde_json::Map::new();
        for k in [
            "image",
            "command",
            "entrypoint",
            "user",
            "read_only",
            "cap_add",
            "cap_drop",
            "tmpfs",
            "labels",
            "expose",
            "restart",
            "profiles",
        ] {
            if !svc[k].is_null() {
                e.insert(k.into(), svc[k].clone());
            }
        }
        let env: serde_json::Map<String, Value> = svc["environment"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| {
                (
                    k.clone(),
                    match v {
                        Value::String(s) => Value::String(s.replace("$$", "$")),
                        o => o.clone(),
                    },
                )
            })
            .collect();
        e.insert("environment".into(), Value::Object(env));
        let ports: Vec<String> = svc["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                format!(
                    "{}:{}:{}/{}",
                    p["host_ip"].as_str().unwrap_or(""),
                    p["published"].as_str().unwrap_or(""),
                    p["target"],
                    p["protocol"].as_str().unwrap_or("")
                )
            })
            .collect();
        e.insert("ports".into(), ports.into());
        let vols: Vec<String> = svc["volumes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| {
                format!(
                    "{} {} {} {}",
                    v["type"].as_str().unwrap_or(""),
                    v["source"].as_str().unwrap_or(""),
                    v["target"].as_str().unwrap_or(""),
                    v["read_only"]
                )
            })
            .collect();
        e.insert("volumes".into(), vols.into());
        let deps: Vec<String> = svc["depends_on"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, d)| format!("{k} {}", d["condition"].as_str().unwrap_or("")))
            .collect();
        e.insert("depends_on".into(), deps.into());
        if let Some(h) = svc.get("healthcheck") {
            e.insert("healthcheck.test".into(), h["test"].clone());
        }
        if let Some(d) = svc.get("deploy") {
            e.insert("deploy.replicas".into(), d["replicas"].clone());
        }
        out.insert(name.clone(), Value::Object(e));
    }
    Value::Object(out)
}

fn agree(
    name: &str,
    files: &[(&str, &str)],
    compose_files: &[&str],
    env_files: &[&str],
    profiles: &[&str],
) -> Value {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(dir, files);
    let mut args: Vec<String> = Vec::new();
    for f in compose_files {
        args.extend(["-f".into(), f.to_string()]);
    }
    for f in env_files {
        args.extend(["--env-file".into(), f.to_string()]);
    }
    for p in profiles {
        args.extend(["--profile".into(), p.to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let want = reference(dir, &args)
        .unwrap_or_else(|e| panic!("{name}: docker compose refused the scenario: {e}"));
    let cf: Vec<&str> = if compose_files.is_empty() {
        vec!["compose.yaml"]
    } else {
        compose_files.to_vec()
    };
    let got = ours(dir, &cf, env_files, profiles)
        .unwrap_or_else(|e| panic!("{name}: berth refused: {e}"));
    assert_eq!(
        essence(&got),
        essence(&want),
        "{name}: berth (left) vs docker compose (right)"
    );
    essence(&got)
}

#[test]
fn interpolation_dotenv_and_env_file() {
    let m = agree(
        "interpolation",
        &[
            (
                "compose.yaml",
                "services:\n  web:\n    image: \"nginx:${TAG:-1.27}\"\n    ports: [\"${PORT}:80\"]\n    env_file: [app.env, {path: missing.env, required: false}]\n    environment:\n      LIT: \"$$HOME\"\n      FROM_ENV:\n      NESTED: \"${UNSET:-${PORT}}\"\n",
            ),
            (".env", "PORT=8080\nFROM_ENV=dotenv\n"),
            (
                "app.env",
                "A=1\n# comment\nB=\"two ${A}\"\nLIT=overridden\n",
            ),
        ],
        &[],
        &[],
        &[],
    );
    assert_eq!(m["web"]["image"], "nginx:1.27");
    assert_eq!(m["web"]["environment"]["B"], "two 1");
}

#[test]
fn env_file_flag_replaces_dotenv() {
    agree(
        "--env-file",
        &[
            (
                "compose.yaml",
                "services:\n  web:\n    image: \"nginx:${TAG}\"\n",
            ),
            (".env", "TAG=from-dotenv\n"),
            ("other.env", "TAG=from-flag\n"),
        ],
        &[],
        &["other.env"],
        &[],
    );
}

#[test]
fn extends_in_the_same_and_another_file() {
    let m = agree(
        "extends",
        &[
            (
                "compose.yaml",
                "services:\n  base:\n    image: app:1\n    environment: {A: 1, B: 2}\n    cap_add: [NET_ADMIN]\n    command: [run, base]\n  web:\n    extends: base\n    environment: {B: 3}\n    command: [run, web]\n  worker:\n    extends: {file: common/common.yaml, service: job}\n    environment: {C: x}\n",
            ),
            (
                "common/common.yaml",
                "services:\n  job:\n    image: job:2\n    volumes: [\"./data:/data\"]\n    environment: {C: y, D: z}\n    extends: {service: root}\n  root:\n    image: root:0\n    user: \"1000\"\n",
            ),
        ],
        &[],
        &[],
        &[],
    );
    assert_eq!(m["web"]["environment"]["A"], "1");
    assert_eq!(m["worker"]["user"], "1000");
}

#[test]
fn include_brings_in_another_project() {
    agree(
        "include",
        &[
            (
                "compose.yaml",
                "include:\n  - sub/compose.yaml\nservices:\n  web:\n    image: web:1\n    depends_on: [db]\n",
            ),
            (
                "sub/compose.yaml",
                "services:\n  db:\n    image: \"postgres:${PG}\"\n    volumes: [\"./init:/docker-entrypoint-initdb.d\"]\n",
            ),
            ("sub/.env", "PG=16\n"),
        ],
        &[],
        &[],
        &[],
    );
}

#[test]
fn several_files_merge_with_reset_and_override() {
    let m = agree(
        "merge",
        &[
            (
                "compose.yaml",
                "services:\n  web:\n    image: web:1\n    ports: [\"80:80\", \"443:443\"]\n    environment: [A=1, B=2]\n    volumes: [\"./a:/a\", \"./b:/b\"]\n    cap_add: [X]\n    command: run\n    labels: {x: \"1\"}\n  other:\n    image: o:1\n",
            ),
            (
                "compose.override.yaml",
                "services:\n  web:\n    ports: !reset []\n    environment: !override {C: 3}\n    volumes: [\"./c:/a\"]\n    cap_add: [Y]\n    command: [run, --debug]\n    labels: {y: \"2\"}\n  other:\n    image: o:2\n",
            ),
        ],
        &["compose.yaml", "compose.override.yaml"],
        &[],
        &[],
    );
    assert_eq!(m["web"]["ports"], serde_json::json!([]));
}

#[test]
fn profiles_select_services() {
    for profiles in [&[][..], &["debug"][..], &["*"][..]] {
        agree(
            "profiles",
            &[(
                "compose.yaml",
                "services:\n  web:\n    image: web:1\n  debug:\n    image: busybox:1\n    profiles: [debug]\n  tools:\n    image: tools:1\n    profiles: [tools, ops]\n",
            )],
            &[],
            &[],
            profiles,
        );
    }
    agree(
        "COMPOSE_PROFILES",
        &[
            (
                "compose.yaml",
                "services:\n  web:\n    image: web:1\n  debug:\n    image: busybox:1\n    profiles: [debug]\n",
            ),
            (".env", "COMPOSE_PROFILES=debug\n"),
        ],
        &[],
        &[],
        &[],
    );
}

#[test]
fn syntaxes_ports_volumes_healthcheck_deploy_implicit_dependencies() {
    agree(
        "syntaxes",
        &[(
            "compose.yaml",
            "services:\n  web:\n    image: web:1\n    ports: [\"8000-8001:9000-9001\", \"127.0.0.1::53/udp\", {target: 80, published: \"8080\"}, 3000]\n    volumes: [\"data:/d:ro\", \"/anon\", {type: tmpfs, target: /t}]\n    healthcheck: {test: curl -f http://localhost/, interval: 10s}\n    deploy: {replicas: 3}\n    links: [db]\n    volumes_from: [db]\n    read_only: true\n    tmpfs: /run\n    user: \"1000:1000\"\n    entrypoint: /bin/sh -c 'exec app'\n    expose: [9000, \"9001\"]\n  db:\n    image: postgres:16\n    healthcheck: {test: [CMD, pg_isready]}\nvolumes:\n  data: {}\n",
        )],
        &[],
        &[],
        &[],
    );
}

/// Input compose rejects: berth rejects it too, pointing at the place, in compose's words.
fn refused(files: &[(&str, &str)], wording: &str, line: usize) {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), files);
    let want = reference(tmp.path(), &[]);
    assert!(want.is_err(), "docker compose accepted {files:?}");
    let err = ours(tmp.path(), &["compose.yaml"], &[], &[]).expect_err("berth accepted it");
    assert!(
        err.contains(wording),
        "berth said {err:?}; compose said {:?}",
        want.unwrap_err()
    );
    if line > 0 {
        assert!(
            err.contains(&format!("compose.yaml:{line}:")),
            "no position in {err:?}"
        );
    }
}

#[test]
fn bad_input_is_refused_with_position() {
    refused(&[("compose.yaml", "services:\n  a: [\n")], "yaml:", 0);
    refused(
        &[("compose.yaml", "services:\n  a:\n    image: x\nfoo: 1\n")],
        "additional properties 'foo' not allowed",
        4,
    );
    refused(
        &[(
            "compose.yaml",
            "services:\n  a:\n    image: x\n    imagee: y\n",
        )],
        "services.a additional properties 'imagee' not allowed",
        4,
    );
    refused(
        &[(
            "compose.yaml",
            "services:\n  a:\n    image: \"${REQ:?set REQ}\"\n",
        )],
        "required variable REQ is missing a value: set REQ",
        3,
    );
    refused(
        &[(
            "compose.yaml",
            "services:\n  a:\n    image: x\n    extends: b\n  b:\n    image: y\n    extends: a\n",
        )],
        "Circular reference",
        0,
    );
    refused(
        &[(
            "compose.yaml",
            "services:\n  a:\n    image: x\n    env_file: nope.env\n",
        )],
        "env file",
        4,
    );
    refused(
        &[(
            "compose.yaml",
            "services:\n  a:\n    image: x\n    depends_on: [zz]\n",
        )],
        "depends on undefined service \"zz\"",
        4,
    );
    refused(
        &[(
            "compose.yaml",
            "services:\n  a:\n    image: x\n    ports: [\"abc\"]\n",
        )],
        "invalid containerPort: abc",
        4,
    );
    refused(
        &[("compose.yaml", "services:\n  a:\n    environment: [A=1]\n")],
        "neither an image nor a build context",
        2,
    );
}
