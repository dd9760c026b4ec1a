//! Patroni failover on loopback with the rendered Patroni and PgBouncer configuration: etcd
//! stands in for the Kubernetes DCS (Patroni runs the same state machine over either), and a
//! small proxy stands in for the writer Service whose Endpoints Patroni points at the leader.
//! Kill the leader (Patroni and postmaster, SIGKILL): a replica is promoted, a client through
//! PgBouncer reconnects and writes, the old leader rejoins as a replica, and at no sample do two
//! members answer as primary.

mod servers;
use serde_json::{Value, json};
use servers::*;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SPEC: &str = r#"
app: shop
registry: ghcr.io/acme
version: 1.0.0
services:
  api: { image: api, port: 8080, health: { ready: /ready }, uses: [db] }
dependencies:
  db:
    type: postgres
    databases: [shop]
    ha: { instances: 3, operator: none }
    pooler: { mode: transaction, instances: 2 }
environments:
  prod: {}
"#;

fn http_status(port: u16, path: &str) -> Option<u16> {
    let mut s =
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(300))
            .ok()?;
    s.set_read_timeout(Some(Duration::from_millis(800))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").ok()?;
    let mut buf = [0u8; 16];
    let n = s.read(&mut buf).ok()?;
    std::str::from_utf8(&buf[..n])
        .ok()?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

struct Node {
    name: String,
    pg: u16,
    rest: u16,
    data: PathBuf,
    config: PathBuf,
    pid: u32,
}

/// The writer Service: forwards each connection to the member that answers /primary.
fn writer_proxy(port: u16, nodes: Vec<(u16, u16)>, stop: Arc<AtomicBool>) -> Arc<AtomicU16> {
    let leader = Arc::new(AtomicU16::new(0));
    {
        let (leader, stop, nodes) = (leader.clone(), stop.clone(), nodes.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let l = nodes
                    .iter()
                    .find(|(_, r)| http_status(*r, "/primary") == Some(200))
                    .map(|(p, _)| *p)
                    .unwrap_or(0);
                leader.store(l, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(100));
            }
        });
    }
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let l2 = leader.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { continue };
            let target = l2.load(Ordering::Relaxed);
            if target == 0 {
                continue;
            }
            let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                continue;
            };
            let (mut c1, mut s1) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            let (mut c2, mut s2) = (client, server);
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c1, &mut s1);
                let _ = s1.shutdown(std::net::Shutdown::Both);
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut s2, &mut c2);
                let _ = c2.shutdown(std::net::Shutdown::Both);
            });
        }
    });
    leader
}

#[test]
fn patroni_failover_through_pgbouncer_with_the_rendered_configuration() {
    let r = load(SPEC, "prod");
    let dir = scratch("failover");
    let mut procs = Procs::default();

    // What berth renders.
    let rendered: Value = serde_json::from_str(&config(&r, "db-scripts", "patroni.yml"))
        .expect("patroni.yml is JSON");
    let sts = object(&r, "StatefulSet", "db");
    let instances = sts.body["spec"]["replicas"].as_u64().unwrap() as usize;
    assert_eq!(instances, 3);
    let container = &sts.body["spec"]["template"]["spec"]["containers"][0];
    let env_names: Vec<&str> = container["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    for needed in [
        "PATRONI_NAME",
        "PATRONI_KUBERNETES_POD_IP",
        "PATRONI_KUBERNETES_NAMESPACE",
        "PATRONI_POSTGRESQL_CONNECT_ADDRESS",
        "PATRONI_RESTAPI_CONNECT_ADDRESS",
        "PATRONI_SUPERUSER_PASSWORD",
        "PATRONI_REPLICATION_PASSWORD",
    ] {
        assert!(env_names.contains(&needed), "{needed} not rendered");
    }
    assert_eq!(rendered["kubernetes"]["use_endpoints"], true);
    assert_eq!(
        rendered["bootstrap"]["dcs"]["postgresql"]["use_pg_rewind"],
        true
    );
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readiness");
    let ttl = rendered["bootstrap"]["dcs"]["ttl"].as_u64().unwrap();
    let loop_wait = rendered["bootstrap"]["dcs"]["loop_wait"].as_u64().unwrap();
    let retry = rendered["bootstrap"]["dcs"]["retry_timeout"]
        .as_u64()
        .unwrap();
    assert!(loop_wait + 2 * retry <= ttl);

    // etcd in place of the Kubernetes API.
    let (ec, ep) = (free_port(), free_port());
    let etcd_data = mkdir(&dir.join("etcd"));
    let mut e = cmd(&tool("etcd"));
    e.args(["--name", "e", "--data-dir"]).arg(&etcd_data).args([
        "--listen-client-urls",
        &format!("http://127.0.0.1:{ec}"),
        "--advertise-client-urls",
        &format!("http://127.0.0.1:{ec}"),
        "--listen-peer-urls",
        &format!("http://127.0.0.1:{ep}"),
        "--initial-advertise-peer-urls",
        &format!("http://127.0.0.1:{ep}"),
        "--initial-cluster",
        &format!("e=http://127.0.0.1:{ep}"),
    ]);
    procs.spawn("etcd", e, &dir.join("etcd.log"));
    wait_until("etcd", Duration::from_secs(30), || {
        http_status(ec, "/health") == Some(200)
    });

    let pw = HashMap::from([
        ("PATRONI_SUPERUSER_PASSWORD", "su-pw"),
        ("PATRONI_REPLICATION_PASSWORD", "repl-pw"),
    ]);
    let mut nodes: Vec<Node> = Vec::new();
    for i in 0..instances {
        let nd = mkdir(&dir.join(format!("n{i}")));
        let (pg, rest) = (free_port(), free_port());
        let mut c = rendered.clone();
        // Placement only: the DCS, this machine's ports and paths, Debian's PostgreSQL 15.
        c.as_object_mut().unwrap().remove("kubernetes");
        c["etcd3"] = json!({"hosts": format!("127.0.0.1:{ec}")});
        c["postgresql"]["listen"] = json!(format!("127.0.0.1:{pg}"));
        c["postgresql"]["data_dir"] = json!(nd.join("data"));
        c["postgresql"]["bin_dir"] = json!("/usr/lib/postgresql/15/bin");
        c["postgresql"]["pgpass"] = json!(nd.join("pgpass"));
        c["postgresql"]["parameters"]["unix_socket_directories"] = json!(nd);
        c["restapi"]["listen"] = json!(format!("127.0.0.1:{rest}"));
        let config = nd.join("patroni.yml");
        write(&config, &serde_json::to_string_pretty(&c).unwrap());
        nodes.push(Node {
            name: format!("n{i}"),
            pg,
            rest,
            data: nd.join("data"),
            config,
            pid: 0,
        });
    }
    let start = |procs: &mut Procs, n: &Node, log: &str| -> u32 {
        let mut c = cmd(&tool("patroni"));
        c.arg(&n.config)
            .env("PATRONI_NAME", &n.name)
            .env(
                "PATRONI_POSTGRESQL_CONNECT_ADDRESS",
                format!("127.0.0.1:{}", n.pg),
            )
            .env(
                "PATRONI_RESTAPI_CONNECT_ADDRESS",
                format!("127.0.0.1:{}", n.rest),
            );
        for (k, v) in &pw {
            c.env(k, v);
        }
        procs.spawn(&n.name, c, &dir.join(log))
    };
    for i in 0..instances {
        let pid = start(&mut procs, &nodes[i], &format!("n{i}.log"));
        nodes[i].pid = pid;
        procs.data_dirs.push(nodes[i].data.clone());
        if i == 0 {
            wait_until("the first member to lead", Duration::from_secs(90), || {
                http_status(nodes[0].rest, "/primary") == Some(200)
            });
        }
    }
    for n in &nodes[1..] {
        wait_until(
            &format!("{} to replicate", n.name),
            Duration::from_secs(120),
            || http_status(n.rest, "/replica") == Some(200),
        );
    }

    // Every replica streams before anything is killed (a replica that never caught up is
    // rightly not promoted).
    wait_until("both replicas streaming", Duration::from_secs(120), || {
        psql(
            nodes[0].pg,
            "postgres",
            "su-pw",
            "postgres",
            "select count(*) from pg_stat_replication where state = 'streaming'",
        )
        .map(|v| v == (instances - 1).to_string())
        .unwrap_or(false)
    });

    // What the monitoring namespace may do once it reaches the REST API port: read /metrics
    // (the rendered PodMonitor's endpoint), but not call the unsafe endpoints, which the
    // rendered `restapi.allowlist` keeps to the pod itself and the members. 127.0.0.2 stands
    // in for the scraper's address.
    let from_elsewhere = |args: &[&str]| -> (String, String) {
        let out = Command::new("curl")
            .args([
                "-s",
                "--max-time",
                "5",
                "--interface",
                "127.0.0.2",
                "-w",
                "\n%{http_code}",
            ])
            .args(args)
            .output()
            .expect("curl");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, code) = text.rsplit_once('\n').unwrap_or(("", ""));
        (body.to_owned(), code.to_owned())
    };
    let (metrics, code) = from_elsewhere(&[&format!("http://127.0.0.1:{}/metrics", nodes[0].rest)]);
    assert_eq!(code, "200", "{metrics}");
    for m in [
        "patroni_primary",
        "patroni_postgres_running",
        "patroni_xlog_location",
        "patroni_xlog_replayed_location",
        "patroni_replica",
    ] {
        assert!(
            metrics.contains(&format!("{m}{{")),
            "{m} missing from Patroni's /metrics:\n{metrics}"
        );
    }
    let (_, code) = from_elsewhere(&[
        "-X",
        "POST",
        &format!("http://127.0.0.1:{}/reload", nodes[0].rest),
    ]);
    assert_eq!(code, "403", "an unsafe endpoint answered a non-member");
    let (_, code) = from_elsewhere(&[
        "-X",
        "POST",
        &format!("http://127.0.0.1:{}/reload", nodes[1].rest),
    ]);
    assert_eq!(code, "403", "an unsafe endpoint answered a non-member");

    // The writer Service, and PgBouncer in front of it with the rendered ini and start script.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = free_port();
    let _leader = writer_proxy(
        writer,
        nodes.iter().map(|n| (n.pg, n.rest)).collect(),
        stop.clone(),
    );
    let setup = object(&r, "Job", "db-setup");
    let cmdline = setup.body["spec"]["template"]["spec"]["containers"][0]["command"][2]
        .as_str()
        .unwrap()
        .to_owned();
    let scripts = mount_config(&r, "db-scripts", &dir.join("scripts"));
    let mut s = Command::new("sh");
    s.args([
        "-c",
        &cmdline.replace("/etc/berth/postgres", &scripts.display().to_string()),
    ])
    .env(
        "PATH",
        format!("{}:/usr/bin:/bin", tools().join("bin").display()),
    )
    .env("PGHOST", "127.0.0.1")
    .env("PGPORT", writer.to_string())
    .env("PGUSER", "postgres")
    .env("PGDATABASE", "postgres")
    .env("PGPASSWORD", "su-pw")
    .env("PW_SHOP", "shop-pw");
    ok(s, "role setup");

    let pool = mount_config(&r, "db-pooler", &dir.join("pgbouncer"));
    let bport = free_port();
    let ini = std::fs::read_to_string(pool.join("pgbouncer.ini")).unwrap();
    for needed in [
        "server_lifetime = 300",
        "server_check_query = select 1",
        "pool_mode = transaction",
        "host=db port=5432",
    ] {
        assert!(
            ini.contains(needed),
            "pgbouncer.ini lacks `{needed}`:\n{ini}"
        );
    }
    let ini = ini
        .replace(
            "host=db port=5432",
            &format!("host=127.0.0.1 port={writer}"),
        )
        .replace("listen_addr = 0.0.0.0", "listen_addr = 127.0.0.1")
        .replace("listen_port = 5432", &format!("listen_port = {bport}"))
        .replace("/var/run/pgbouncer", &pool.display().to_string());
    write(&pool.join("pgbouncer.ini"), &ini);
    let mut b = cmd(Path::new("/bin/sh"));
    b.arg(pool.join("start.sh"))
        .env("PGBOUNCER_RUN", &pool)
        .env("PGBOUNCER_INI", pool.join("pgbouncer.ini"))
        .env("PW_SHOP", "shop-pw");
    procs.spawn("pgbouncer", b, &dir.join("pgbouncer.log"));
    wait_until("pgbouncer", Duration::from_secs(30), || {
        psql(bport, "shop", "shop-pw", "shop", "select 1").is_ok()
    });
    psql(
        bport,
        "shop",
        "shop-pw",
        "shop",
        "create table w (seq int primary key, at timestamptz default clock_timestamp())",
    )
    .unwrap();

    // No two primaries, ever (sampled every 100 ms over the whole test).
    let worst = Arc::new(Mutex::new(0usize));
    {
        let (worst, stop) = (worst.clone(), stop.clone());
        let rests: Vec<u16> = nodes.iter().map(|n| n.rest).collect();
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let n = rests
                    .iter()
                    .filter(|r| http_status(**r, "/primary") == Some(200))
                    .count();
                let mut w = worst.lock().unwrap();
                *w = (*w).max(n);
                drop(w);
                std::thread::sleep(Duration::from_millis(100));
            }
        });
    }
    // A client writing through the pooler, one connection per write.
    let log: Arc<Mutex<Vec<(u32, bool, Instant)>>> = Arc::default();
    {
        let (log, stop) = (log.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut seq = 0;
            while !stop.load(Ordering::Relaxed) {
                seq += 1;
                let ok = psql(
                    bport,
                    "shop",
                    "shop-pw",
                    "shop",
                    &format!("insert into w (seq) values ({seq})"),
                )
                .is_ok();
                log.lock().unwrap().push((seq, ok, Instant::now()));
                std::thread::sleep(Duration::from_millis(50));
            }
        });
    }
    std::thread::sleep(Duration::from_secs(3));

    // Kill the leader.
    let li = nodes
        .iter()
        .position(|n| http_status(n.rest, "/primary") == Some(200))
        .expect("a leader");
    let old = &nodes[li];
    let killed = Instant::now();
    kill(old.pid, "KILL");
    if let Some(pm) = postmaster_pid(&old.data) {
        kill(pm, "KILL");
    }
    let failover = wait_until("a replica to be promoted", Duration::from_secs(120), || {
        nodes
            .iter()
            .enumerate()
            .any(|(i, n)| i != li && http_status(n.rest, "/primary") == Some(200))
    });
    wait_until(
        "a write through PgBouncer after the failover",
        Duration::from_secs(60),
        || {
            log.lock()
                .unwrap()
                .iter()
                .any(|(_, ok, t)| *ok && *t > killed + failover)
        },
    );
    // The longest stretch without an acknowledged write, from the last one before the kill on
    // (a write can still land on an orphaned backend of the killed primary right after the kill,
    // so "first write after the kill" would understate it).
    let gap = {
        let l = log.lock().unwrap();
        let mut oks: Vec<Instant> = l
            .iter()
            .filter(|(_, ok, _)| *ok)
            .map(|(_, _, t)| *t)
            .collect();
        oks.sort();
        let start = oks
            .iter()
            .rposition(|t| *t < killed)
            .expect("a write before the kill");
        oks[start..]
            .windows(2)
            .map(|w| w[1] - w[0])
            .max()
            .expect("a write after the kill")
    };

    // The old leader rejoins as a replica (pg_rewind if needed).
    let restarted = Instant::now();
    let pid = start(&mut procs, &nodes[li], &format!("n{li}-rejoin.log"));
    nodes[li].pid = pid;
    let rejoin = wait_until(
        "the old leader to rejoin as a replica",
        Duration::from_secs(180),
        || http_status(nodes[li].rest, "/replica") == Some(200),
    );
    let _ = restarted;
    std::thread::sleep(Duration::from_secs(2));
    stop.store(true, Ordering::Relaxed);
    std::thread::sleep(Duration::from_millis(300));

    let acked: Vec<u32> = log
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, ok, _)| *ok)
        .map(|(s, _, _)| *s)
        .collect();
    let leader = nodes
        .iter()
        .find(|n| http_status(n.rest, "/primary") == Some(200))
        .expect("a leader at the end");
    let present = psql(
        leader.pg,
        "shop",
        "shop-pw",
        "shop",
        &format!(
            "select count(*) from w where seq in ({})",
            acked
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(",")
        ),
    )
    .unwrap();
    let lost = acked.len() - present.parse::<usize>().unwrap();
    // The rejoined member follows the new timeline: it has the rows written after the failover.
    let last = *acked.last().unwrap();
    wait_until(
        "the rejoined member to replay the latest write",
        Duration::from_secs(30),
        || {
            psql(
                nodes[li].pg,
                "shop",
                "shop-pw",
                "shop",
                &format!("select count(*) from w where seq = {last}"),
            )
            .map(|v| v == "1")
            .unwrap_or(false)
        },
    );
    let two = *worst.lock().unwrap();
    eprintln!(
        "MEASURED failover {:.1}s (ttl {ttl}, loop_wait {loop_wait}, retry_timeout {retry}), pooler reconnect gap {:.1}s, rejoin {:.1}s, {} writes acknowledged, {lost} lost, most primaries at once {two}",
        failover.as_secs_f64(),
        gap.as_secs_f64(),
        rejoin.as_secs_f64(),
        acked.len()
    );
    assert!(two <= 1, "two members answered as primary at once");
    // Asynchronous replication may lose what the killed primary acknowledged but had not yet
    // sent; on loopback that is at most the write in flight.
    assert!(lost <= 1, "{lost} acknowledged writes lost");
    drop(procs);
}
