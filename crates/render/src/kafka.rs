//! Kafka in KRaft mode: the settings derived from the broker count, the broker config and
//! entrypoint of a combined-mode StatefulSet pod, and the idempotent topic script. Pure text
//! generators; the Kubernetes objects that carry them are built by the dependency catalogue.

use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The catalogue's (the one place a default image or version is written): the broker pods and
/// Strimzi's `spec.kafka.version` both follow it.
pub const IMAGE: &str =
    berth_spec::dependency::catalogue::entry(berth_spec::DependencyKind::Kafka).image;
pub const VERSION: &str =
    berth_spec::dependency::catalogue::entry(berth_spec::DependencyKind::Kafka).version;
pub const CLIENT_PORT: u16 = 9092;
pub const CONTROLLER_PORT: u16 = 9093;
pub const DATA_DIR: &str = "/var/lib/kafka/data";

/// Replication settings derived from the broker count `n` (Kafka's own defaults are wrong at both
/// ends: user topics get RF 1, internal topics RF 3 — a 1-broker cluster cannot create
/// `__consumer_offsets`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replication {
    pub default_replication_factor: u32,
    pub min_insync_replicas: u32,
    pub offsets_topic_replication_factor: u32,
    pub transaction_state_log_replication_factor: u32,
    pub transaction_state_log_min_isr: u32,
}

/// | n | RF | min.isr | internal RF | txn min.isr |
/// |---|----|---------|-------------|-------------|
/// | 1 | 1  | 1       | 1           | 1           |
/// | 2 | 2  | 1       | 2           | 1           |  (min.isr 2 would stop acks=all writes while one broker is down)
/// | ≥3| 3  | 2       | 3           | 2           |  (one broker may be down, acks=all still commits on two)
pub fn replication(brokers: u32) -> Replication {
    let rf = brokers.clamp(1, 3);
    let isr = if brokers >= 3 { 2 } else { 1 };
    Replication {
        default_replication_factor: rf,
        min_insync_replicas: isr,
        offsets_topic_replication_factor: rf,
        transaction_state_log_replication_factor: rf,
        transaction_state_log_min_isr: isr,
    }
}

/// A declared topic as the cluster will hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    pub name: String,
    pub partitions: u32,
    pub replication_factor: u32,
    /// Topic configs (`retention.ms`, `cleanup.policy`, …), sorted.
    pub config: BTreeMap<String, String>,
}

/// One Kafka dependency as it runs in one environment (in-cluster).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    pub name: String,
    pub namespace: String,
    pub brokers: u32,
    pub topics: Vec<Topic>,
}

impl Cluster {
    pub fn headless(&self) -> String {
        format!("{}-headless", self.name)
    }
    pub fn pod_host(&self, i: u32) -> String {
        format!(
            "{}-{i}.{}.{}.svc.cluster.local",
            self.name,
            self.headless(),
            self.namespace
        )
    }
    /// `KAFKA_BOOTSTRAP_SERVERS`: every broker's stable name (a client needs one that answers;
    /// listing all survives any single broker being down).
    pub fn bootstrap_servers(&self) -> String {
        (0..self.brokers)
            .map(|i| format!("{}:{CLIENT_PORT}", self.pod_host(i)))
            .collect::<Vec<_>>()
            .join(",")
    }
    /// `controller.quorum.voters`: every pod is a controller (combined mode).
    pub fn voters(&self) -> String {
        (0..self.brokers)
            .map(|i| format!("{i}@{}:{CONTROLLER_PORT}", self.pod_host(i)))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The broker config; `@NODE_ID@` and `@POD_HOST@` are filled per pod by the entrypoint.
    pub fn server_properties(&self, default_partitions: u32) -> String {
        let r = replication(self.brokers);
        let mut c =
            String::from("# Rendered by berth: KRaft combined mode (broker + controller).\n");
        c += "process.roles=broker,controller\nnode.id=@NODE_ID@\n";
        c += &format!("controller.quorum.voters={}\n", self.voters());
        c += &format!("listeners=PLAINTEXT://:{CLIENT_PORT},CONTROLLER://:{CONTROLLER_PORT}\n");
        // The stable pod name every in-cluster client resolves; never localhost or a pod IP.
        c += &format!("advertised.listeners=PLAINTEXT://@POD_HOST@:{CLIENT_PORT}\n");
        c += "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT\n";
        c += "controller.listener.names=CONTROLLER\ninter.broker.listener.name=PLAINTEXT\n";
        c += &format!("log.dirs={DATA_DIR}\n");
        c += &format!("num.partitions={default_partitions}\n");
        c += &format!(
            "default.replication.factor={}\nmin.insync.replicas={}\n",
            r.default_replication_factor, r.min_insync_replicas
        );
        c += &format!(
            "offsets.topic.replication.factor={}\ntransaction.state.log.replication.factor={}\ntransaction.state.log.min.isr={}\n",
            r.offsets_topic_replication_factor,
            r.transaction_state_log_replication_factor,
            r.transaction_state_log_min_isr
        );
        // Topics are declared; a typo in a producer must not create one with the wrong settings.
        c += "auto.create.topics.enable=false\nunclean.leader.election.enable=false\n";
        c
    }

    /// The broker entrypoint: fills the per-pod values and formats the storage only when
    /// `meta.properties` is missing (formatting a used log dir would let a leader be elected
    /// without committed data). `CLUSTER_ID` comes from the Secret, the same on every pod.
    pub fn entrypoint(&self) -> String {
        format!(
            r#"#!/bin/sh
# Rendered by berth: starts one KRaft broker+controller.
set -eu
id="${{BERTH_POD_NAME##*-}}"
mkdir -p "$BERTH_RUN"
sed -e "s/@NODE_ID@/$id/g" -e "s/@POD_HOST@/$BERTH_POD_HOST/g" "$BERTH_CONFIG/server.properties" > "$BERTH_RUN/server.properties"
if [ ! -f {DATA_DIR}/meta.properties ]; then
  /opt/kafka/bin/kafka-storage.sh format --cluster-id "$CLUSTER_ID" --config "$BERTH_RUN/server.properties"
fi
exec /opt/kafka/bin/kafka-server-start.sh "$BERTH_RUN/server.properties"
"#
        )
    }
}

/// The topic Job's script: creates every declared topic (`--if-not-exists`), grows partitions,
/// converges configs, and refuses (exit 1, with the reason) a topic whose partition count is
/// larger than declared or whose replication factor differs — changes berth also refuses at
/// render time, checked here against the live cluster for changes made outside berth. A second
/// run changes nothing. Runs the Kafka CLI of the broker image; `KAFKA_BOOTSTRAP_SERVERS` and,
/// with SASL/TLS, `KAFKA_COMMAND_CONFIG` (a client properties file) come from the environment.
///
/// With `managed_client` (a managed endpoint), the script first writes that client properties
/// file from `KAFKA_SECURITY_PROTOCOL`, `KAFKA_SASL_MECHANISM`, `KAFKA_SASL_USERNAME`,
/// `KAFKA_SASL_PASSWORD` (a `secretKeyRef`) and `KAFKA_SSL_CA_FILE`, into the pod's /tmp only.
pub fn topic_script(topics: &[Topic], managed_client: bool) -> String {
    let mut s = String::from(
        r#"#!/bin/sh
# Rendered by berth: declared Kafka topics, idempotent.
set -eu
PATH="$PATH:/opt/kafka/bin"
B="$KAFKA_BOOTSTRAP_SERVERS"
"#,
    );
    if managed_client {
        s += CLIENT_PROPERTIES;
    }
    s += r#"kt() { kafka-topics.sh --bootstrap-server "$B" ${KAFKA_COMMAND_CONFIG:+--command-config "$KAFKA_COMMAND_CONFIG"} "$@"; }
kc() { kafka-configs.sh --bootstrap-server "$B" ${KAFKA_COMMAND_CONFIG:+--command-config "$KAFKA_COMMAND_CONFIG"} "$@"; }
tries=0
until kt --list >/dev/null; do
  tries=$((tries + 1)); [ "$tries" -lt 60 ] || { echo "berth: brokers at $B unreachable" >&2; exit 1; }
  sleep 5
done
# ensure TOPIC PARTITIONS REPLICATION-FACTOR [KEY=VALUE...]
ensure() {
  t="$1"; p="$2"; r="$3"; shift 3
  cfgargs=""
  for kv in "$@"; do cfgargs="$cfgargs --config $kv"; done
  # shellcheck disable=SC2086
  kt --create --if-not-exists --topic "$t" --partitions "$p" --replication-factor "$r" $cfgargs
  d=$(kt --describe --topic "$t" | grep -m 1 "PartitionCount:")
  cur_p=$(echo "$d" | sed -n 's/.*PartitionCount: *\([0-9]*\).*/\1/p')
  cur_r=$(echo "$d" | sed -n 's/.*ReplicationFactor: *\([0-9]*\).*/\1/p')
  if [ "$cur_r" != "$r" ]; then
    echo "berth: topic $t has replication factor $cur_r, declared $r: changing it needs a partition reassignment (kafka-reassign-partitions.sh), refused" >&2
    exit 1
  fi
  if [ "$cur_p" -gt "$p" ]; then
    echo "berth: topic $t has $cur_p partitions, declared $p: Kafka cannot remove partitions, refused" >&2
    exit 1
  fi
  if [ "$cur_p" -lt "$p" ]; then
    echo "berth: topic $t: partitions $cur_p -> $p (keys move to other partitions)" >&2
    kt --alter --topic "$t" --partitions "$p"
  fi
  configs=$(echo "$d" | sed -n 's/.*Configs: *//p')
  for kv in "$@"; do
    case ",$configs," in
      *",$kv,"*) ;;
      *) echo "berth: topic $t: set $kv" >&2
         kc --alter --entity-type topics --entity-name "$t" --add-config "$kv" ;;
    esac
  done
}
"#;
    for t in topics {
        s += &format!(
            "ensure {} {} {}",
            t.name, t.partitions, t.replication_factor
        );
        for (k, v) in &t.config {
            s += &format!(" {k}={v}");
        }
        s += "\n";
    }
    s += "echo \"berth: topics in place\" >&2\n";
    s
}

/// The managed endpoint's client settings as Kafka's `--command-config` file. The password is
/// escaped twice — for the JAAS value (`\` and `"`), then for the properties file (`\`) — so any
/// password reaches the login module as it is; it is written only to the pod's /tmp (mode 600)
/// and never echoed.
const CLIENT_PROPERTIES: &str = r#"esc() { printf '%s' "$1" | sed -e 's/\\/\\\\\\\\/g' -e 's/"/\\\\"/g'; }
KAFKA_COMMAND_CONFIG="${TMPDIR:-/tmp}/berth-client.properties"
(
  umask 077
  {
    printf 'security.protocol=%s\n' "$KAFKA_SECURITY_PROTOCOL"
    if [ -n "${KAFKA_SASL_MECHANISM:-}" ]; then
      case "$KAFKA_SASL_MECHANISM" in
        PLAIN) module=org.apache.kafka.common.security.plain.PlainLoginModule ;;
        *) module=org.apache.kafka.common.security.scram.ScramLoginModule ;;
      esac
      printf 'sasl.mechanism=%s\n' "$KAFKA_SASL_MECHANISM"
      # printf, not echo: dash's echo would undo the escaping.
      printf '%s required username="%s" password="%s";\n' "sasl.jaas.config=$module" "$(esc "$KAFKA_SASL_USERNAME")" "$(esc "$KAFKA_SASL_PASSWORD")"
    fi
    if [ -n "${KAFKA_SSL_CA_FILE:-}" ]; then
      echo "ssl.truststore.type=PEM"
      printf 'ssl.truststore.location=%s\n' "$KAFKA_SSL_CA_FILE"
    fi
  } > "$KAFKA_COMMAND_CONFIG"
)
export KAFKA_COMMAND_CONFIG
"#;

/// What a cluster held for a topic at the last build (from the lock file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Locked {
    pub partitions: u32,
    pub replication_factor: u32,
}

/// Changes Kafka cannot make: a partition decrease (partitions can only be added) and a
/// replication-factor change (needs a reassignment plan, not a config edit). Each refusal is
/// `(topic, explanation)`.
pub fn refused_changes(
    locked: &BTreeMap<String, Locked>,
    topics: &[Topic],
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for t in topics {
        let Some(prev) = locked.get(&t.name) else {
            continue;
        };
        if t.partitions < prev.partitions {
            out.push((
                t.name.clone(),
                format!(
                    "partitions {} → {}: Kafka cannot remove partitions; keep {} or create a new topic and migrate the consumers",
                    prev.partitions, t.partitions, prev.partitions
                ),
            ));
        }
        if t.replication_factor != prev.replication_factor {
            out.push((
                t.name.clone(),
                format!(
                    "replication factor {} → {}: this needs a partition reassignment (kafka-reassign-partitions.sh), not a spec edit; keep replicas: {} and reassign by hand, then update berth.lock",
                    prev.replication_factor, t.replication_factor, prev.replication_factor
                ),
            ));
        }
    }
    out
}

/// Kafka duration config value in milliseconds from a berth duration (`7d`, `12h`, `30m`, `45s`,
/// `500ms`). `-1` (forever) is passed through. None if not a duration.
pub fn duration_ms(s: &str) -> Option<String> {
    let s = s.trim();
    if s == "-1" || s == "forever" {
        return Some("-1".into());
    }
    let (num, mult) = if let Some(n) = s.strip_suffix("ms") {
        (n, 1u64)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1_000)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60_000)
    } else if let Some(n) = s.strip_suffix('h') {
        (n, 3_600_000)
    } else if let Some(n) = s.strip_suffix('d') {
        (n, 86_400_000)
    } else if let Some(n) = s.strip_suffix('w') {
        (n, 7 * 86_400_000)
    } else {
        return None;
    };
    let n: u64 = num.parse().ok()?;
    n.checked_mul(mult).map(|v| v.to_string())
}

/// The UID the apache/kafka image runs as (`appuser`).
pub const USER: u32 = 1000;
pub const CONFIG_MOUNT: &str = "/etc/berth";
pub const RUN_MOUNT: &str = "/run/berth";

// The data tier's container hardening, written once for its JSON-built containers.
use crate::data::generic::hardened;

/// Decodes Kafka's UUID form (the cluster ID's), as Kafka's `Uuid.fromString` does.
pub use berth_spec::dependency::kafka::decode_uuid;

impl Cluster {
    /// The ConfigMap data of the brokers.
    pub fn config_files(&self, default_partitions: u32) -> BTreeMap<String, String> {
        BTreeMap::from([
            (
                "server.properties".to_string(),
                self.server_properties(default_partitions),
            ),
            ("entrypoint.sh".to_string(), self.entrypoint()),
        ])
    }

    /// The broker container. `cluster_id` is the (Secret name, key) of `CLUSTER_ID`; the JVM
    /// heap is half the memory limit (`heap_mib`), the rest is page cache and off-heap.
    pub fn container(
        &self,
        image: &str,
        resources: Value,
        heap_mib: u64,
        cluster_id: &(String, String),
    ) -> Value {
        let tcp = |port: u16| json!({"tcpSocket": {"port": port}});
        let mut ready = tcp(CLIENT_PORT);
        ready["periodSeconds"] = json!(10);
        let mut live = tcp(CONTROLLER_PORT);
        live["periodSeconds"] = json!(10);
        live["failureThreshold"] = json!(6);
        // Log recovery after an unclean stop can take minutes on a large log dir.
        let mut startup = tcp(CONTROLLER_PORT);
        startup["periodSeconds"] = json!(10);
        startup["failureThreshold"] = json!(60);
        json!({
            "name": "kafka",
            "image": image,
            "imagePullPolicy": "IfNotPresent",
            "command": ["sh", format!("{CONFIG_MOUNT}/entrypoint.sh")],
            "ports": [
                {"name": "kafka", "containerPort": CLIENT_PORT, "protocol": "TCP"},
                {"name": "controller", "containerPort": CONTROLLER_PORT, "protocol": "TCP"},
            ],
            "env": [
                {"name": "BERTH_POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "BERTH_POD_HOST", "value": format!("$(BERTH_POD_NAME).{}.{}.svc.cluster.local", self.headless(), self.namespace)},
                {"name": "BERTH_CONFIG", "value": CONFIG_MOUNT},
                {"name": "BERTH_RUN", "value": RUN_MOUNT},
                {"name": "CLUSTER_ID", "valueFrom": {"secretKeyRef": {"name": cluster_id.0, "key": cluster_id.1}}},
                {"name": "KAFKA_HEAP_OPTS", "value": format!("-Xms{heap_mib}m -Xmx{heap_mib}m")},
                {"name": "LOG_DIR", "value": "/tmp/kafka-logs"},
            ],
            "resources": resources,
            "startupProbe": startup,
            "readinessProbe": ready,
            "livenessProbe": live,
            "securityContext": hardened(USER),
            "volumeMounts": [
                {"name": "data", "mountPath": DATA_DIR},
                {"name": "config", "mountPath": CONFIG_MOUNT, "readOnly": true},
                {"name": "run", "mountPath": RUN_MOUNT},
                {"name": "tmp", "mountPath": "/tmp"},
            ],
        })
    }

    /// Required anti-affinity: two brokers on one node would make one node failure cost two
    /// replicas of every partition (with RF 3 and min.isr 2, writes stop).
    pub fn affinity(&self, selector: &Value) -> Value {
        json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": selector}},
        ]}})
    }

    /// The topic Job's pod container: the broker image's Kafka CLI runs the rendered script.
    pub fn topic_container(&self, image: &str) -> Value {
        json!({
            "name": "topics",
            "image": image,
            "imagePullPolicy": "IfNotPresent",
            "command": ["sh", format!("{CONFIG_MOUNT}/topics.sh")],
            "env": [
                {"name": "KAFKA_BOOTSTRAP_SERVERS", "value": self.bootstrap_servers()},
                {"name": "KAFKA_HEAP_OPTS", "value": "-Xms64m -Xmx192m"},
                {"name": "LOG_DIR", "value": "/tmp/kafka-logs"},
            ],
            "resources": {"requests": {"cpu": "50m", "memory": "256Mi"}, "limits": {"cpu": "500m", "memory": "384Mi"}},
            "securityContext": hardened(USER),
            "volumeMounts": [
                {"name": "topics", "mountPath": CONFIG_MOUNT, "readOnly": true},
                {"name": "tmp", "mountPath": "/tmp"},
            ],
        })
    }

    /// Strimzi (`operator: strimzi`, Strimzi ≥ 1.0, API `kafka.strimzi.io/v1`): a `Kafka`, one
    /// combined-role `KafkaNodePool`, and a `KafkaTopic` per declared topic. The same derived
    /// replication settings go into `spec.kafka.config`.
    pub fn strimzi(
        &self,
        version: &str,
        storage: &str,
        resources: Value,
        default_partitions: u32,
    ) -> Vec<Value> {
        let r = replication(self.brokers);
        let cluster_label = json!({"strimzi.io/cluster": self.name});
        let mut out = vec![
            json!({
                "apiVersion": "kafka.strimzi.io/v1",
                "kind": "Kafka",
                "metadata": {"name": self.name, "namespace": self.namespace},
                "spec": {
                    "kafka": {
                        "version": version,
                        "listeners": [{"name": "plain", "port": CLIENT_PORT, "type": "internal", "tls": false}],
                        "config": {
                            "default.replication.factor": r.default_replication_factor,
                            "min.insync.replicas": r.min_insync_replicas,
                            "offsets.topic.replication.factor": r.offsets_topic_replication_factor,
                            "transaction.state.log.replication.factor": r.transaction_state_log_replication_factor,
                            "transaction.state.log.min.isr": r.transaction_state_log_min_isr,
                            "num.partitions": default_partitions,
                            "auto.create.topics.enable": false,
                            "unclean.leader.election.enable": false,
                        },
                    },
                    "entityOperator": {"topicOperator": {}},
                },
            }),
            json!({
                "apiVersion": "kafka.strimzi.io/v1",
                "kind": "KafkaNodePool",
                "metadata": {"name": format!("{}-combined", self.name), "namespace": self.namespace, "labels": cluster_label},
                "spec": {
                    "replicas": self.brokers,
                    "roles": ["controller", "broker"],
                    // Strimzi cannot change a pool's storage type later; size can grow.
                    "storage": {"type": "jbod", "volumes": [{"id": 0, "type": "persistent-claim", "size": storage, "deleteClaim": false, "kraftMetadata": "shared"}]},
                    "resources": resources,
                    "template": {"pod": {"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                        {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"strimzi.io/cluster": self.name, "strimzi.io/pool-name": format!("{}-combined", self.name)}}},
                    ]}}}},
                },
            }),
        ];
        for t in &self.topics {
            let config: serde_json::Map<String, Value> = t
                .config
                .iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect();
            out.push(json!({
                "apiVersion": "kafka.strimzi.io/v1",
                "kind": "KafkaTopic",
                "metadata": {"name": strimzi_topic_name(&t.name), "namespace": self.namespace, "labels": cluster_label},
                "spec": {"topicName": t.name, "partitions": t.partitions, "replicas": t.replication_factor, "config": config},
            }));
        }
        out
    }
}

/// A Kubernetes name for a topic (`task.created` is a valid name; `Task_Created` is not).
pub fn strimzi_topic_name(topic: &str) -> String {
    topic
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The derivation table against the rules of the Kafka documentation (broker configs):
    /// - `min.insync.replicas` ≤ the replication factor, else acks=all produce fails with
    ///   NotEnoughReplicas on every write;
    /// - the internal topics' RF ≤ brokers, else `__consumer_offsets` /
    ///   `__transaction_state` cannot be created ("enforced at creation since 0.11");
    /// - `transaction.state.log.min.isr` ≤ its RF;
    /// - with acks=all, writes continue through one broker down iff RF − min.isr ≥ 1;
    /// - durability: with ≥ 3 brokers an acknowledged write is on at least two brokers.
    #[test]
    fn derivation_table_obeys_kafka_rules() {
        for n in 1..=9 {
            let r = replication(n);
            assert!(r.default_replication_factor <= n, "n={n}");
            assert!(r.offsets_topic_replication_factor <= n, "n={n}");
            assert!(r.transaction_state_log_replication_factor <= n, "n={n}");
            assert!(
                r.min_insync_replicas <= r.default_replication_factor,
                "n={n}"
            );
            assert!(
                r.transaction_state_log_min_isr <= r.transaction_state_log_replication_factor,
                "n={n}"
            );
            if n >= 2 {
                assert!(
                    r.default_replication_factor - r.min_insync_replicas >= 1,
                    "n={n}: one broker down would stop acks=all writes"
                );
            }
            if n >= 3 {
                assert!(
                    r.min_insync_replicas >= 2,
                    "n={n}: acked writes on one broker only"
                );
            }
        }
        assert_eq!(
            replication(1),
            Replication {
                default_replication_factor: 1,
                min_insync_replicas: 1,
                offsets_topic_replication_factor: 1,
                transaction_state_log_replication_factor: 1,
                transaction_state_log_min_isr: 1,
            }
        );
        assert_eq!(replication(3).min_insync_replicas, 2);
        assert_eq!(replication(5).default_replication_factor, 3);
    }

    #[test]
    fn server_properties_per_pod_and_static_voters() {
        let c = Cluster {
            name: "kafka".into(),
            namespace: "todo".into(),
            brokers: 3,
            topics: vec![],
        };
        let p = c.server_properties(3);
        assert!(p.contains("controller.quorum.voters=0@kafka-0.kafka-headless.todo.svc.cluster.local:9093,1@kafka-1.kafka-headless.todo.svc.cluster.local:9093,2@kafka-2.kafka-headless.todo.svc.cluster.local:9093\n"));
        assert!(p.contains("advertised.listeners=PLAINTEXT://@POD_HOST@:9092\n"));
        assert!(p.contains("auto.create.topics.enable=false\n"));
        assert!(p.contains("min.insync.replicas=2\n"));
        assert!(
            c.entrypoint()
                .contains("if [ ! -f /var/lib/kafka/data/meta.properties ]")
        );
    }

    #[test]
    fn refuses_decrease_and_rf_change() {
        let locked = BTreeMap::from([(
            "a".to_string(),
            Locked {
                partitions: 6,
                replication_factor: 3,
            },
        )]);
        let t = |p, r| Topic {
            name: "a".into(),
            partitions: p,
            replication_factor: r,
            config: BTreeMap::new(),
        };
        assert!(refused_changes(&locked, &[t(6, 3)]).is_empty());
        assert!(refused_changes(&locked, &[t(9, 3)]).is_empty());
        assert_eq!(refused_changes(&locked, &[t(3, 3)]).len(), 1);
        assert_eq!(refused_changes(&locked, &[t(6, 2)]).len(), 1);
        assert!(refused_changes(&BTreeMap::new(), &[t(1, 1)]).is_empty());
    }

    #[test]
    fn durations() {
        assert_eq!(duration_ms("7d").as_deref(), Some("604800000"));
        assert_eq!(duration_ms("12h").as_deref(), Some("43200000"));
        assert_eq!(duration_ms("500ms").as_deref(), Some("500"));
        assert_eq!(duration_ms("-1").as_deref(), Some("-1"));
        assert_eq!(duration_ms("7 days"), None);
    }
}
