//! Redis / Valkey configuration: the server config, the Sentinel config and the entrypoint that
//! starts either of them in a StatefulSet pod. Pure text generators; the Kubernetes objects that
//! carry them are built by the dependency catalogue.
//!
//! Layout (Sentinel HA): one StatefulSet of `1 + replicas` pods, each running the data node and a
//! Sentinel next to it, so the Sentinel count equals the pod count (three at least: `sentinel`
//! needs two replicas). Every node is addressed by its stable pod name
//! `<name>-<i>.<name>-headless.<ns>.svc.cluster.local` (pod IPs change on restart; Sentinels given
//! IPs keep announcing dead ones). Placeholders `@POD_HOST@`, `@MASTER_HOST@` are filled by the
//! entrypoint at start, and the passwords are appended from the environment there, so the
//! rendered ConfigMap never holds a secret.

use berth_spec::DependencyKind;
use berth_spec::dependency::catalogue;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Which server: the image's binaries differ, the protocol and config keys do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Redis,
    Valkey,
}

impl Flavor {
    pub fn server(self) -> &'static str {
        match self {
            Flavor::Redis => "redis-server",
            Flavor::Valkey => "valkey-server",
        }
    }
    pub fn cli(self) -> &'static str {
        match self {
            Flavor::Redis => "redis-cli",
            Flavor::Valkey => "valkey-cli",
        }
    }
    /// The catalogue image (never Bitnami: its versioned images moved to an unmaintained legacy
    /// repository in 2025). Valkey is BSD-3; Redis ≥ 8 is AGPLv3/RSALv2/SSPLv1.
    pub fn image(self, version: Option<&str>) -> String {
        let e = catalogue::entry(match self {
            Flavor::Redis => DependencyKind::Redis,
            Flavor::Valkey => DependencyKind::Valkey,
        });
        format!("{}:{}", e.image, version.unwrap_or(e.version))
    }
    pub fn conf_file(self) -> &'static str {
        match self {
            Flavor::Redis => "redis.conf",
            Flavor::Valkey => "valkey.conf",
        }
    }
}

/// The catalogue's (the one place a default image or version is written).
pub const VALKEY_VERSION: &str = catalogue::entry(DependencyKind::Valkey).version;
pub const REDIS_VERSION: &str = catalogue::entry(DependencyKind::Redis).version;
pub const PORT: u16 = 6379;
pub const SENTINEL_PORT: u16 = 26379;
/// Sentinel's own default is 30 000 ms; measured here, failover takes this plus 1.0–1.5 s.
pub const DOWN_AFTER_MS: u32 = 5_000;
/// Sentinel's default is 180 000 ms. It is also the retry delay (×2) after a failed election,
/// and how long a replica may keep following the wrong master before a Sentinel fixes it —
/// with `min-replicas-to-write 1` the new master refuses writes for that long if its only live
/// replica was missed during the failover, so it must stay short.
pub const FAILOVER_TIMEOUT_MS: u32 = 18_000;
/// How stale (seconds since the last replica ACK) a replica may be and still count for
/// `min-replicas-to-write`.
pub const MIN_REPLICAS_MAX_LAG_S: u32 = 10;

/// How the data is persisted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persistence {
    /// Append-only file, fsync every second (at most ~1 s of writes lost on a crash).
    Aof,
    /// Point-in-time snapshots only (minutes of writes lost on a crash; smaller, faster restarts).
    Rdb,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sentinel {
    /// Replicas besides the master (≥ 2 with Sentinel).
    pub replicas: u32,
    pub down_after_ms: u32,
    pub failover_timeout_ms: u32,
}

/// One Redis/Valkey dependency as it runs in one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    /// The dependency name: StatefulSet, Services and Sentinel master name.
    pub name: String,
    pub namespace: String,
    pub flavor: Flavor,
    pub persistence: Persistence,
    /// `maxmemory` in bytes (from the memory limit), None = unbounded.
    pub maxmemory: Option<u64>,
    pub sentinel: Option<Sentinel>,
}

impl Topology {
    pub fn headless(&self) -> String {
        format!("{}-headless", self.name)
    }
    /// Pods in the StatefulSet.
    pub fn pods(&self) -> u32 {
        self.sentinel.as_ref().map_or(1, |s| 1 + s.replicas)
    }
    /// The stable DNS name of pod `i`.
    pub fn pod_host(&self, i: u32) -> String {
        format!(
            "{}-{i}.{}.{}.svc.cluster.local",
            self.name,
            self.headless(),
            self.namespace
        )
    }
    pub fn pod_hosts(&self) -> Vec<String> {
        (0..self.pods()).map(|i| self.pod_host(i)).collect()
    }
    /// A majority of the Sentinels (one per pod): no minority can start a failover.
    pub fn quorum(&self) -> u32 {
        self.pods() / 2 + 1
    }
    /// The write fence: with two or more replicas a master that cannot reach any replica
    /// refuses writes (`NOREPLICAS`) instead of accepting writes a failover will discard. With a
    /// single replica it would also stop the new master while the old one is down, so 0.
    pub fn min_replicas_to_write(&self) -> u32 {
        match &self.sentinel {
            Some(s) if s.replicas >= 2 => 1,
            _ => 0,
        }
    }
    /// The Sentinel addresses clients are given (`REDIS_SENTINELS`).
    pub fn sentinels(&self) -> String {
        self.pod_hosts()
            .iter()
            .map(|h| format!("{h}:{SENTINEL_PORT}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The data node's config (common to every pod; `@POD_HOST@` is filled at start).
    pub fn server_conf(&self) -> String {
        let mut c =
            String::from("# Rendered by berth. Passwords are appended at start from the Secret.\n");
        c += &format!("port {PORT}\nbind * -::*\nprotected-mode no\ndir /data\n");
        match self.persistence {
            Persistence::Aof => {
                c += "appendonly yes\nappendfsync everysec\n";
                // AOF is the source of truth; keep an hourly snapshot for fast restarts and backups.
                c += "save 3600 1\n";
            }
            Persistence::Rdb => c += "appendonly no\nsave 3600 1 300 100 60 10000\n",
        }
        if let Some(m) = self.maxmemory {
            c += &format!("maxmemory {m}\nmaxmemory-policy noeviction\n");
        }
        if self.sentinel.is_some() {
            // Announce the stable name, never the pod IP (it changes on every restart).
            c += "replica-announce-ip @POD_HOST@\n";
            c += "replica-read-only yes\n";
            c += "replica-serve-stale-data yes\n";
            c += &format!(
                "min-replicas-to-write {}\nmin-replicas-max-lag {MIN_REPLICAS_MAX_LAG_S}\n",
                self.min_replicas_to_write()
            );
        }
        c
    }

    /// The Sentinel config (written to a writable volume at every start: Sentinel rewrites it).
    /// `@MASTER_HOST@` is the master the entrypoint found, `@POD_HOST@` this pod's name.
    pub fn sentinel_conf(&self) -> Option<String> {
        let s = self.sentinel.as_ref()?;
        let n = &self.name;
        let mut c =
            String::from("# Rendered by berth. Passwords are appended at start from the Secret.\n");
        c += &format!("port {SENTINEL_PORT}\nbind * -::*\nprotected-mode no\ndir /tmp\n");
        // Names, not IPs, in both directions: accept them in `monitor`/`REPLICAOF`, return them to
        // clients. Must precede the monitor line, which names a host.
        c += "sentinel resolve-hostnames yes\nsentinel announce-hostnames yes\n";
        c += &format!("sentinel announce-ip @POD_HOST@\nsentinel announce-port {SENTINEL_PORT}\n");
        c += &format!(
            "sentinel monitor {n} @MASTER_HOST@ {PORT} {}\n",
            self.quorum()
        );
        c += &format!("sentinel down-after-milliseconds {n} {}\n", s.down_after_ms);
        c += &format!("sentinel failover-timeout {n} {}\n", s.failover_timeout_ms);
        c += &format!("sentinel parallel-syncs {n} 1\n");
        Some(c)
    }

    /// The container entrypoint, `sh entrypoint.sh server|sentinel|prestop`. Reads from the environment
    /// the StatefulSet sets: `BERTH_POD_HOST` (this pod's stable name), `BERTH_NODES` (every pod's
    /// name, space-separated), `BERTH_CONFIG` (the ConfigMap mount), `BERTH_RUN` (a writable
    /// volume for the effective config) and `REDIS_PASSWORD` (from the Secret).
    pub fn entrypoint(&self) -> String {
        let server = self.flavor.server();
        let cli = self.flavor.cli();
        let conf = self.flavor.conf_file();
        let mut s = format!(
            r#"#!/bin/sh
# Rendered by berth: starts the {server} of one pod{sentinel}.
set -eu
role="${{1:-server}}"
cli() {{ REDISCLI_AUTH="$REDIS_PASSWORD" timeout 3 {cli} "$@" 2>/dev/null; }}
mkdir -p "$BERTH_RUN"
umask 077
"#,
            sentinel = if self.sentinel.is_some() {
                " or its Sentinel"
            } else {
                ""
            },
        );
        if self.sentinel.is_none() {
            s += &format!(
                r#"{{ cat "$BERTH_CONFIG/{conf}"
  printf 'requirepass "%s"\n' "$REDIS_PASSWORD"
}} > "$BERTH_RUN/{conf}"
exec {server} "$BERTH_RUN/{conf}"
"#
            );
            return s;
        }
        let name = &self.name;
        let quorum = self.quorum();
        s += &format!(
            r#"# The master, asked in this order: a Sentinel that knows it; a peer that reports itself
# master (every Sentinel restarted at once); pod 0 (the very first start). A node never starts
# as master on its own word once the set has elected another.
find_master() {{
  for h in $BERTH_NODES; do
    m=$(cli -h "$h" -p {SENTINEL_PORT} --raw SENTINEL get-master-addr-by-name {name} | head -n 1)
    if [ -n "$m" ]; then echo "$m"; return; fi
  done
  for h in $BERTH_NODES; do
    [ "$h" = "$BERTH_POD_HOST" ] && continue
    if cli -h "$h" -p {PORT} INFO replication | grep -q '^role:master'; then echo "$h"; return; fi
  done
  set -- $BERTH_NODES
  echo "$1"
}}
if [ "$role" = prestop ]; then
  # Before this pod stops (rolling update, drain): if it is the master, hand over first, so
  # writes pause for a planned switch (~2 s) instead of down-after-milliseconds + election.
  # FAILOVER goes to this pod's Sentinel (retried: a Sentinel refuses while a replica is still
  # syncing, NOGOODSLAVE, or another failover runs, INPROG) and only while it still names this
  # node: sent after the switch it would fail over the new master. Done when a majority of the
  # Sentinels name one other master and none names this node: the leader (this pod's Sentinel)
  # stops with the pod, and the others learn the new configuration only from its hello
  # messages (every 2 s) — leaving earlier would let them keep naming this node to clients and
  # fail it over again after down-after-milliseconds. Meanwhile this node refuses writes (its
  # replicas have left it: NOREPLICAS) and is demoted by the Sentinels seconds later.
  me() {{ cli -h "$1" -p {SENTINEL_PORT} --raw SENTINEL get-master-addr-by-name {name} | head -n 1; }}
  [ "$(me "$BERTH_POD_HOST")" = "$BERTH_POD_HOST" ] || exit 0
  i=0
  while [ $i -lt 40 ]; do
    new=$(me "$BERTH_POD_HOST")
    if [ "$new" = "$BERTH_POD_HOST" ]; then
      [ $((i % 4)) -eq 0 ] && cli -h "$BERTH_POD_HOST" -p {SENTINEL_PORT} SENTINEL FAILOVER {name} >&2
    elif [ -n "$new" ]; then
      agree=0; stale=0
      for h in $BERTH_NODES; do
        m=$(me "$h")
        [ "$m" = "$new" ] && agree=$((agree + 1))
        [ "$m" = "$BERTH_POD_HOST" ] && stale=$((stale + 1))
      done
      [ "$agree" -ge {quorum} ] && [ "$stale" -eq 0 ] && exit 0
    fi
    i=$((i + 1)); sleep 0.5
  done
  echo "berth: preStop: the Sentinels did not agree on a new master in 20 s; stopping anyway" >&2
  exit 0
fi
master=$(find_master)
echo "berth: $role on $BERTH_POD_HOST, master $master" >&2
fill() {{ sed -e "s/@POD_HOST@/$BERTH_POD_HOST/g" -e "s/@MASTER_HOST@/$master/g" "$1"; }}
if [ "$role" = sentinel ]; then
  {{ fill "$BERTH_CONFIG/sentinel.conf"
    printf 'requirepass "%s"\n' "$REDIS_PASSWORD"
    printf 'sentinel sentinel-pass "%s"\n' "$REDIS_PASSWORD"
    printf 'sentinel auth-pass {name} "%s"\n' "$REDIS_PASSWORD"
  }} > "$BERTH_RUN/sentinel.conf"
  exec {server} "$BERTH_RUN/sentinel.conf" --sentinel
fi
{{ fill "$BERTH_CONFIG/{conf}"
  printf 'requirepass "%s"\nmasterauth "%s"\n' "$REDIS_PASSWORD" "$REDIS_PASSWORD"
  [ "$master" = "$BERTH_POD_HOST" ] || printf 'replicaof %s {PORT}\n' "$master"
}} > "$BERTH_RUN/{conf}"
exec {server} "$BERTH_RUN/{conf}"
"#
        );
        s
    }

    /// The readiness command of the data node: with replication, a replica is ready only once
    /// its initial sync finished (`master_link_status:up`) — measured on Valkey 9.1, a master
    /// counts a replica still loading the initial snapshot as a good replica (for `WAIT` and
    /// `min-replicas-to-write`), so an OrderedReady rolling update must not move on before the
    /// replica really holds the data. A master is ready when it answers.
    pub fn readiness_command(&self) -> Vec<String> {
        if self.sentinel.is_none() {
            return self.probe_command(PORT);
        }
        vec![
            "sh".into(),
            "-c".into(),
            format!(
                "REDISCLI_AUTH=\"$REDIS_PASSWORD\" {} -h 127.0.0.1 -p {PORT} INFO replication | grep -q -e '^role:master' -e '^master_link_status:up'",
                self.flavor.cli()
            ),
        ]
    }

    /// The readiness/liveness command of the data node: an authenticated PING (the password from
    /// the environment, never on the command line).
    pub fn probe_command(&self, port: u16) -> Vec<String> {
        vec![
            "sh".into(),
            "-c".into(),
            format!(
                "REDISCLI_AUTH=\"$REDIS_PASSWORD\" {} -h 127.0.0.1 -p {port} ping | grep -q PONG",
                self.flavor.cli()
            ),
        ]
    }
}

/// Where the pods mount the rendered files, and the writable run directory.
pub const CONFIG_MOUNT: &str = "/etc/berth";
pub const RUN_MOUNT: &str = "/run/berth";

// The data tier's container hardening, written once for its JSON-built containers.
use crate::data::generic::hardened;

/// The UID the Redis and Valkey images run their server as.
pub const USER: u32 = 999;

impl Topology {
    /// The ConfigMap data: server config, Sentinel config (HA), entrypoint.
    pub fn config_files(&self) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        m.insert(self.flavor.conf_file().to_string(), self.server_conf());
        if let Some(s) = self.sentinel_conf() {
            m.insert("sentinel.conf".to_string(), s);
        }
        m.insert("entrypoint.sh".to_string(), self.entrypoint());
        m
    }

    /// The pod's environment: its stable name, its peers, the mounts, the password.
    fn pod_env(&self, role: &str, secret: &(String, String)) -> Vec<Value> {
        let mut env = vec![
            json!({"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}),
        ];
        env.push(json!({"name": "BERTH_POD_HOST", "value": format!("$(POD_NAME).{}.{}.svc.cluster.local", self.headless(), self.namespace)}));
        env.push(json!({"name": "BERTH_NODES", "value": self.pod_hosts().join(" ")}));
        env.push(json!({"name": "BERTH_CONFIG", "value": CONFIG_MOUNT}));
        env.push(json!({"name": "BERTH_RUN", "value": format!("{RUN_MOUNT}/{role}")}));
        env.push(json!({"name": "REDIS_PASSWORD", "valueFrom": {"secretKeyRef": {"name": secret.0, "key": secret.1}}}));
        env
    }

    /// The containers of a pod: the data node, and its Sentinel with HA. `secret` is the
    /// (Secret name, key) of the password; `resources` the data node's requests/limits.
    pub fn containers(
        &self,
        image: &str,
        resources: Value,
        secret: &(String, String),
    ) -> Vec<Value> {
        let mounts = |role: &str| {
            let mut m = vec![
                json!({"name": "config", "mountPath": CONFIG_MOUNT, "readOnly": true}),
                json!({"name": "run", "mountPath": RUN_MOUNT}),
                json!({"name": "tmp", "mountPath": "/tmp"}),
            ];
            if role == "server" {
                m.push(json!({"name": "data", "mountPath": "/data"}));
            }
            m
        };
        let probe = |port: u16, period: u32| json!({"exec": {"command": self.probe_command(port)}, "periodSeconds": period, "timeoutSeconds": 3, "failureThreshold": 3});
        let mut live = probe(PORT, 10);
        live["failureThreshold"] = json!(6);
        let mut server = json!({
            "name": self.flavor.server().trim_end_matches("-server"),
            "image": image,
            "imagePullPolicy": "IfNotPresent",
            "command": ["sh", format!("{CONFIG_MOUNT}/entrypoint.sh"), "server"],
            "ports": [{"name": "redis", "containerPort": PORT, "protocol": "TCP"}],
            "env": self.pod_env("server", secret),
            "resources": resources,
            "readinessProbe": {"exec": {"command": self.readiness_command()}, "periodSeconds": 5, "timeoutSeconds": 3, "failureThreshold": 3},
            "livenessProbe": live,
            "securityContext": hardened(USER),
            "volumeMounts": mounts("server"),
        });
        if self.sentinel.is_none() {
            return vec![server];
        }
        server["lifecycle"] = json!({"preStop": {"exec": {"command": ["sh", format!("{CONFIG_MOUNT}/entrypoint.sh"), "prestop"]}}});
        let sentinel = json!({
            "name": "sentinel",
            "image": image,
            "imagePullPolicy": "IfNotPresent",
            "command": ["sh", format!("{CONFIG_MOUNT}/entrypoint.sh"), "sentinel"],
            "ports": [{"name": "sentinel", "containerPort": SENTINEL_PORT, "protocol": "TCP"}],
            "env": self.pod_env("sentinel", secret),
            "resources": {"requests": {"cpu": "50m", "memory": "32Mi"}, "limits": {"cpu": "200m", "memory": "64Mi"}},
            "readinessProbe": probe(SENTINEL_PORT, 5),
            "livenessProbe": probe(SENTINEL_PORT, 10),
            "securityContext": hardened(USER),
            "volumeMounts": mounts("sentinel"),
        });
        vec![server, sentinel]
    }

    /// Pod volumes besides the data claim: the rendered files and the writable directories.
    pub fn volumes(&self, config_map: &str) -> Vec<Value> {
        vec![
            json!({"name": "config", "configMap": {"name": config_map, "defaultMode": 0o444}}),
            json!({"name": "run", "emptyDir": {"medium": "Memory", "sizeLimit": "16Mi"}}),
            json!({"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}),
        ]
    }

    /// What a service that `uses` it gets. Single instance: `REDIS_URL` (composed in the pod from
    /// the password variable, so the manifest never holds it), `REDIS_HOST`/`REDIS_PORT`. With
    /// Sentinel: `REDIS_SENTINELS` (host:port,…), `REDIS_MASTER_NAME`; the password in
    /// `REDIS_PASSWORD` either way. `prefix` is the dependency's env prefix (`CACHE` → `CACHE_URL`).
    pub fn client_env(&self, prefix: &str, secret: &(String, String)) -> Vec<Value> {
        let mut env = vec![
            json!({"name": format!("{prefix}_PASSWORD"), "valueFrom": {"secretKeyRef": {"name": secret.0, "key": secret.1}}}),
        ];
        match &self.sentinel {
            None => {
                let host = format!("{}.{}.svc.cluster.local", self.name, self.namespace);
                env.push(json!({"name": format!("{prefix}_HOST"), "value": host}));
                env.push(json!({"name": format!("{prefix}_PORT"), "value": PORT.to_string()}));
                env.push(json!({"name": format!("{prefix}_URL"), "value": format!("redis://:$({prefix}_PASSWORD)@{host}:{PORT}/0")}));
            }
            Some(_) => {
                env.push(json!({"name": format!("{prefix}_SENTINELS"), "value": self.sentinels()}));
                env.push(json!({"name": format!("{prefix}_MASTER_NAME"), "value": self.name}));
            }
        }
        env
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topo(replicas: Option<u32>) -> Topology {
        Topology {
            name: "cache".into(),
            namespace: "shop".into(),
            flavor: Flavor::Valkey,
            persistence: Persistence::Aof,
            maxmemory: None,
            sentinel: replicas.map(|replicas| Sentinel {
                replicas,
                down_after_ms: DOWN_AFTER_MS,
                failover_timeout_ms: FAILOVER_TIMEOUT_MS,
            }),
        }
    }

    #[test]
    fn quorum_is_a_majority_of_the_sentinels() {
        assert_eq!(topo(Some(2)).pods(), 3);
        assert_eq!(topo(Some(2)).quorum(), 2);
        assert_eq!(topo(Some(3)).quorum(), 3);
        assert_eq!(topo(Some(4)).quorum(), 3);
    }

    #[test]
    fn write_fence_only_with_two_replicas() {
        assert_eq!(topo(Some(1)).min_replicas_to_write(), 0);
        assert_eq!(topo(Some(2)).min_replicas_to_write(), 1);
        assert!(
            topo(Some(2))
                .server_conf()
                .contains("min-replicas-to-write 1\n")
        );
        assert!(!topo(None).server_conf().contains("min-replicas"));
    }

    #[test]
    fn sentinel_resolves_hostnames_before_the_monitor_line() {
        let c = topo(Some(2)).sentinel_conf().unwrap();
        let resolve = c.find("resolve-hostnames yes").unwrap();
        let monitor = c
            .find("sentinel monitor cache @MASTER_HOST@ 6379 2")
            .unwrap();
        assert!(resolve < monitor);
        assert!(c.contains("announce-hostnames yes"));
        assert!(topo(None).sentinel_conf().is_none());
    }

    #[test]
    fn no_secret_in_rendered_config() {
        let t = topo(Some(2));
        for text in [t.server_conf(), t.sentinel_conf().unwrap()] {
            assert!(!text.contains("requirepass"), "{text}");
        }
        assert_eq!(
            t.sentinels(),
            "cache-0.cache-headless.shop.svc.cluster.local:26379,\
             cache-1.cache-headless.shop.svc.cluster.local:26379,\
             cache-2.cache-headless.shop.svc.cluster.local:26379"
        );
    }
}
