//! Migrations against a real PostgreSQL: the rendered server start script, role setup Job and
//! migration Jobs (command and env exactly as rendered, addresses placed on loopback), run in
//! wave order for two databases, twice.

mod servers;
use servers::*;
use std::collections::HashMap;

const SPEC: &str = r#"
app: idp
registry: ghcr.io/acme
version: 1.0.0
services:
  # Declared before `identity`: the order follows the databases, not the services.
  auth:
    image: auth
    port: 8080
    health: { ready: /ready }
    uses: [db/auth_db]
    migrate:
      database: db/auth_db
      command: [sh, -c, "psql -X -q -v ON_ERROR_STOP=1 \"$DATABASE_URL\" -c 'CREATE TABLE IF NOT EXISTS sessions (id int primary key)' -c 'INSERT INTO sessions VALUES (1) ON CONFLICT DO NOTHING' -c \"INSERT INTO applied VALUES ('auth', now())\""]
  identity:
    image: identity
    port: 8080
    health: { ready: /ready }
    uses: [db/identity_db]
    migrate:
      database: db/identity_db
      command: [sh, -c, "psql -X -q -v ON_ERROR_STOP=1 \"$DATABASE_URL\" -c 'CREATE TABLE IF NOT EXISTS users (id int primary key)' -c 'INSERT INTO users VALUES (1) ON CONFLICT DO NOTHING'"]
dependencies:
  db: { type: postgres, databases: [identity_db, auth_db] }
environments:
  dev: {}
"#;

#[test]
fn migrations_run_in_wave_order_twice_against_real_postgres() {
    let r = load(SPEC, "dev");
    let dir = scratch("migrate");
    let port = free_port();
    let mut procs = Procs::default();

    // The server, started by the rendered start.sh.
    let scripts = mount_config(&r, "db-scripts", &dir.join("scripts"));
    let data = dir.join("pgdata");
    let sts = object(&r, "StatefulSet", "db");
    let server = &sts.body["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(server["command"][1], "/etc/berth/postgres/start.sh");
    let mut c = cmd(Path::new("/bin/sh"));
    c.arg(scripts.join("start.sh"))
        .args([
            "-c",
            &format!("port={port}"),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            &format!("unix_socket_directories={}", dir.display()),
        ])
        .env("PGDATA", &data)
        .env("POSTGRES_PASSWORD", "su-pw");
    procs.spawn("postgres", c, &dir.join("postgres.log"));
    procs.data_dirs.push(data.clone());
    wait_until("postgres", Duration::from_secs(60), || {
        psql(port, "postgres", "su-pw", "postgres", "select 1").is_ok()
    });

    let secrets: HashMap<&str, &str> = HashMap::from([
        ("db-superuser-credentials/password", "su-pw"),
        ("db-identity-db-credentials/password", "identity-pw"),
        ("db-auth-db-credentials/password", "auth-pw"),
    ]);
    let addrs = [("db", 5432, port)];

    // The role setup hook runs before every migration.
    let setup = object(&r, "Job", "db-setup");
    let setup_wave: i32 = annotation(setup, "argocd.argoproj.io/sync-wave")
        .unwrap()
        .parse()
        .unwrap();
    let mut jobs: Vec<&berth_render::Object> = r
        .objects
        .iter()
        .filter(|o| o.kind == "Job" && annotation(o, "berth.dev/migrates").is_some())
        .collect();
    assert_eq!(jobs.len(), 2);
    let wave = |o: &berth_render::Object| -> i32 {
        annotation(o, "argocd.argoproj.io/sync-wave")
            .unwrap()
            .parse()
            .unwrap()
    };
    jobs.sort_by_key(|o| wave(o));
    assert_eq!(
        annotation(jobs[0], "berth.dev/migrates"),
        Some("db/identity_db"),
        "declared order: identity_db first"
    );
    assert_eq!(
        annotation(jobs[1], "berth.dev/migrates"),
        Some("db/auth_db")
    );
    assert!(setup_wave < wave(jobs[0]) && wave(jobs[0]) < wave(jobs[1]));
    for j in &jobs {
        assert_eq!(annotation(j, "argocd.argoproj.io/hook"), Some("Sync"));
        assert_eq!(
            annotation(j, "argocd.argoproj.io/hook-delete-policy"),
            Some("BeforeHookCreation")
        );
        assert_eq!(
            annotation(j, "helm.sh/hook"),
            Some("post-install,pre-upgrade")
        );
        assert_eq!(
            annotation(j, "helm.sh/hook-weight"),
            annotation(j, "argocd.argoproj.io/sync-wave")
        );
        assert!(j.body["spec"]["ttlSecondsAfterFinished"].is_null());
        assert_eq!(j.body["spec"]["backoffLimit"], 1);
        assert!(j.body["spec"]["activeDeadlineSeconds"].as_u64().unwrap() > 0);
    }

    let run_job = |o: &berth_render::Object| {
        let c0 = &o.body["spec"]["template"]["spec"]["containers"][0];
        let mut env = container_env(c0, &secrets);
        place(&mut env, &addrs);
        let argv: Vec<String> = c0["command"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                a.as_str()
                    .unwrap()
                    .replace("/etc/berth/postgres", &scripts.display().to_string())
            })
            .collect();
        let mut c = Command::new(&argv[0]);
        c.args(&argv[1..]).env_clear().env(
            "PATH",
            format!("{}:/usr/bin:/bin", tools().join("bin").display()),
        );
        for (k, v) in &env {
            c.env(k, v);
        }
        ok(c, &format!("Job {}", o.name));
        env
    };
    // The shared log table the auth migration writes (to see that it ran, in order).
    for round in 0..2 {
        run_job(setup);
        if round == 0 {
            psql(
                port,
                "auth_db",
                "auth-pw",
                "auth_db",
                "CREATE TABLE applied (name text, at timestamptz)",
            )
            .unwrap();
        }
        for j in &jobs {
            let env = run_job(j);
            let url = &env.iter().find(|(k, _)| k == "DATABASE_URL").unwrap().1;
            // Directly to the writer, with the role of its database, and never the literal password in the object.
            assert!(
                url.starts_with("postgresql://") && url.contains("target_session_attrs=read-write"),
                "{url}"
            );
            assert!(
                !serde_json::to_string(&j.body).unwrap().contains("-pw"),
                "a password in the rendered Job"
            );
        }
    }
    assert_eq!(
        psql(
            port,
            "identity_db",
            "identity-pw",
            "identity_db",
            "select count(*) from users"
        )
        .unwrap(),
        "1"
    );
    assert_eq!(
        psql(
            port,
            "auth_db",
            "auth-pw",
            "auth_db",
            "select count(*) from sessions"
        )
        .unwrap(),
        "1"
    );
    assert_eq!(
        psql(
            port,
            "auth_db",
            "auth-pw",
            "auth_db",
            "select count(*) from applied"
        )
        .unwrap(),
        "2",
        "auth migrated once per round"
    );
    // Each database its own role: owners, and no way into the other's database.
    assert_eq!(psql(port, "postgres", "su-pw", "postgres", "select string_agg(datname || '=' || pg_get_userbyid(datdba), ',' order by datname) from pg_database where datname like '%_db'").unwrap(), "auth_db=auth_db,identity_db=identity_db");
    let denied = psql(port, "identity_db", "identity-pw", "auth_db", "select 1").unwrap_err();
    assert!(denied.contains("permission denied"), "{denied}");
    drop(procs);
}

use std::path::Path;
use std::process::Command;
use std::time::Duration;
