//! Backup → point-in-time restore against a real PostgreSQL and an S3 store (moto): the
//! rendered start script (its archive_command), backup.sh and restore.sh, and the rendered
//! restore check. Rows are counted and checksummed at the target time.

mod servers;
use servers::*;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn spec(endpoint: &str) -> String {
    format!(
        r#"
app: shop
registry: ghcr.io/acme
version: 1.0.0
services:
  api: {{ image: api, port: 8080, health: {{ ready: /ready }}, uses: [db] }}
dependencies:
  db:
    type: postgres
    databases: [shop]
    backup: {{ to: s3://pitr/pg, endpoint: "{endpoint}", retention: 7d }}
environments:
  dev: {{}}
"#
    )
}

const AWS: [(&str, &str); 3] = [
    ("AWS_ACCESS_KEY_ID", "test"),
    ("AWS_SECRET_ACCESS_KEY", "test"),
    ("AWS_DEFAULT_REGION", "us-east-1"),
];

fn with_aws(mut c: Command) -> Command {
    for (k, v) in AWS {
        c.env(k, v);
    }
    c
}

#[test]
fn backup_and_point_in_time_restore_with_the_rendered_commands() {
    let dir = scratch("pitr");
    let mut procs = Procs::default();
    let s3 = free_port();
    let endpoint = format!("http://127.0.0.1:{s3}");
    let mut m = Command::new(moto());
    m.args(["-H", "127.0.0.1", "-p", &s3.to_string()]);
    procs.spawn("moto", m, &dir.join("moto.log"));
    wait_until("moto", Duration::from_secs(30), || {
        std::net::TcpStream::connect(("127.0.0.1", s3)).is_ok()
    });
    let mut mk = with_aws(Command::new("python3"));
    mk.args(["-c", &format!("import boto3; boto3.client('s3', endpoint_url='{endpoint}').create_bucket(Bucket='pitr')")]);
    ok(mk, "create bucket");

    let r = load(&spec(&endpoint), "dev");
    let scripts = mount_config(&r, "db-scripts", &dir.join("scripts"));
    let start = std::fs::read_to_string(scripts.join("start.sh")).unwrap();
    assert!(
        start.contains(
            "archive_command='barman-cloud-wal-archive --cloud-provider aws-s3 --endpoint-url"
        ),
        "{start}"
    );

    let port = free_port();
    let data = dir.join("pgdata");
    let sock = format!("unix_socket_directories={}", dir.display());
    let mut c = with_aws(cmd(Path::new("/bin/sh")));
    c.arg(scripts.join("start.sh"))
        .args([
            "-c",
            &format!("port={port}"),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            &sock,
        ])
        .env("PGDATA", &data)
        .env("POSTGRES_PASSWORD", "su-pw");
    procs.spawn("postgres", c, &dir.join("postgres.log"));
    procs.data_dirs.push(data.clone());
    wait_until("postgres", Duration::from_secs(60), || {
        psql(port, "postgres", "su-pw", "postgres", "select 1").is_ok()
    });
    let q = |sql: &str| psql(port, "postgres", "su-pw", "postgres", sql).unwrap();
    q("create database shop");
    q("create table t (id int primary key, v text)");
    q("insert into t select g, md5(g::text) from generate_series(1, 20000) g");

    // A base backup with the sidecar's script (once, now).
    let sidecar =
        &object(&r, "StatefulSet", "db").body["spec"]["template"]["spec"]["containers"][1];
    assert_eq!(sidecar["name"], "backup");
    let mut b = with_aws(cmd(Path::new("/bin/sh")));
    b.arg(scripts.join("backup.sh"))
        .env("BACKUP_ONCE", "1")
        .env("PGHOST", "127.0.0.1")
        .env("PGPORT", port.to_string())
        .env("PGUSER", "postgres")
        .env("PGPASSWORD", "su-pw")
        .env("PGDATABASE", "postgres")
        .env("PGDATA", &data);
    let t0 = Instant::now();
    ok(b, "backup.sh");
    let backup_secs = t0.elapsed().as_secs_f64();

    q("insert into t select g, md5(g::text) from generate_series(20001, 25000) g");
    q("update t set v = 'changed' where id <= 100");
    let sum = "select count(*) || ':' || md5(string_agg(id || '=' || v, ',' order by id)) from t";
    let expected = q(sum);
    std::thread::sleep(Duration::from_millis(1500));
    let target = q("select to_char(now() at time zone 'utc', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')");
    std::thread::sleep(Duration::from_millis(1500));
    // After the target: must not come back.
    q("delete from t where id > 1000");
    q("insert into t values (999999, 'after')");
    let segment = q("select pg_walfile_name(pg_switch_wal())");
    wait_until("WAL archived", Duration::from_secs(120), || {
        q("select coalesce(last_archived_wal, '') from pg_stat_archiver").as_str()
            >= segment.as_str()
    });
    assert_eq!(
        q("select failed_count from pg_stat_archiver"),
        "0",
        "archive_command failed: see {}",
        dir.join("postgres.log").display()
    );
    kill(postmaster_pid(&data).unwrap(), "INT");

    // Restore to the target time with the rendered restore.sh, then start and let it replay.
    let restored = mkdir(&dir.join("restored"));
    let pgdata2 = restored.join("pgdata");
    let mut rs = with_aws(cmd(Path::new("/bin/sh")));
    rs.arg(scripts.join("restore.sh"))
        .env("PGDATA", &pgdata2)
        .env("RECOVERY_TARGET_TIME", &target);
    let t1 = Instant::now();
    ok(rs, "restore.sh");
    let restore_secs = t1.elapsed().as_secs_f64();
    let port2 = free_port();
    let mut c2 = with_aws(cmd(&tool("postgres")));
    c2.args(["-D"]).arg(&pgdata2).args([
        "-c",
        &format!("port={port2}"),
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        &sock,
    ]);
    let t2 = Instant::now();
    procs.spawn("restored", c2, &dir.join("restored.log"));
    procs.data_dirs.push(pgdata2.clone());
    wait_until("promotion after replay", Duration::from_secs(120), || {
        psql(
            port2,
            "postgres",
            "su-pw",
            "postgres",
            "select pg_is_in_recovery()",
        )
        .map(|v| v == "f")
        .unwrap_or(false)
    });
    let replay_secs = t2.elapsed().as_secs_f64();
    let got = psql(port2, "postgres", "su-pw", "postgres", sum).unwrap();
    assert_eq!(got, expected, "rows at {target}");
    assert!(expected.starts_with("25000:"));
    kill(postmaster_pid(&pgdata2).unwrap(), "INT");

    // The scheduled restore check, as rendered (latest backup, queried, fails loudly).
    let check = mount_config(&r, "db-restore-check", &dir.join("check"));
    let script = std::fs::read_to_string(check.join("check.sh"))
        .unwrap()
        .replace("/etc/berth/postgres", &check.display().to_string());
    write(&check.join("check.sh"), &script);
    let scratch_dir = mkdir(&dir.join("scratch"));
    let mut chk = with_aws(cmd(Path::new("/bin/sh")));
    chk.arg(check.join("check.sh")).env("SCRATCH", &scratch_dir);
    let out = ok(chk, "restore check");
    assert!(out.contains("restore check passed"), "{out}");
    eprintln!(
        "MEASURED backup {backup_secs:.1}s, restore (base backup fetch) {restore_secs:.1}s, replay to target + promote {replay_secs:.1}s"
    );
    drop(procs);
}
