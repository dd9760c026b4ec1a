//! `compose.yaml` for running the app on a laptop: the local environment (`local`, else the
//! first dev-tier environment, else the first) with every service, and the dependencies as
//! local containers with named volumes.
//!
//! - Each service: its image, its port published on 127.0.0.1, its plain environment (the same
//!   variables the ConfigMap carries), secrets as `${NAME:-}` placeholders filled from the
//!   shell or `.env` (never a value; `.env.example` lists the names), config files mounted
//!   read-only where the cluster mounts them, the same hardening as in the cluster (read-only
//!   root filesystem with tmpfs for /tmp and writable paths, non-root user, no capabilities).
//! - Healthchecks only where the image can surely run them: a command readiness (else
//!   liveness) check runs as is; an HTTP check gets none (see `health_test`).
//! - `depends_on` on what a service uses: `service_healthy` when the other side has a
//!   healthcheck, else `service_started`.
//! - Dependencies (postgres, mysql, redis, kafka, mongodb, rabbitmq) run as containers of the
//!   official images with a named volume and their own healthcheck; `http`/`tcp` endpoints
//!   stay external (their host variables point at the real host).

use crate::files::FileSet;
use crate::yaml::to_yaml;
use berth_spec::{App, DependencyKind, ProbeAction, ResolvedDependency, Tier};
use serde_json::{Map, Value, json};

/// The environment compose.yaml runs.
pub fn local_env(apps: &[App]) -> &App {
    apps.iter()
        .find(|a| a.env == "local")
        .or_else(|| apps.iter().find(|a| a.tier == Tier::Dev))
        .unwrap_or(&apps[0])
}

/// A local container for a dependency: image, its port inside, environment, data path, healthcheck.
struct Local {
    image: &'static str,
    port: u16,
    env: Vec<(&'static str, String)>,
    data: &'static str,
    health: Vec<String>,
}

fn local(dep: &ResolvedDependency, app: &str) -> Option<Local> {
    let sh = |s: &str| vec!["CMD-SHELL".to_owned(), s.to_owned()];
    Some(match dep.kind {
        DependencyKind::Postgres => Local {
            image: "postgres:17-alpine",
            port: 5432,
            env: vec![
                ("POSTGRES_USER", app.to_owned()),
                ("POSTGRES_DB", app.to_owned()),
                // Local only: no password to leak, none to configure.
                ("POSTGRES_HOST_AUTH_METHOD", "trust".to_owned()),
            ],
            data: "/var/lib/postgresql/data",
            health: sh(&format!("pg_isready -U {app} -d {app}")),
        },
        DependencyKind::Mysql => Local {
            image: "mysql:8.4",
            port: 3306,
            env: vec![
                ("MYSQL_DATABASE", app.to_owned()),
                ("MYSQL_ALLOW_EMPTY_PASSWORD", "yes".to_owned()),
            ],
            data: "/var/lib/mysql",
            health: sh("mysqladmin ping -h 127.0.0.1 --silent"),
        },
        DependencyKind::Redis => Local {
            image: "redis:7.4-alpine",
            port: 6379,
            env: vec![],
            data: "/data",
            health: sh("redis-cli ping | grep -q PONG"),
        },
        DependencyKind::Valkey => Local {
            image: "valkey/valkey:8.1-alpine",
            port: 6379,
            env: vec![],
            data: "/data",
            health: sh("valkey-cli ping | grep -q PONG"),
        },
        DependencyKind::Kafka => Local {
            image: "apache/kafka:3.9.0",
            port: 9092,
            env: vec![
                ("KAFKA_NODE_ID", "1".into()),
                ("KAFKA_PROCESS_ROLES", "broker,controller".into()),
                (
                    "KAFKA_LISTENERS",
                    "PLAINTEXT://:9092,CONTROLLER://:9093".into(),
                ),
                (
                    "KAFKA_ADVERTISED_LISTENERS",
                    format!("PLAINTEXT://{}:9092", dep.name),
                ),
                ("KAFKA_CONTROLLER_LISTENER_NAMES", "CONTROLLER".into()),
                (
                    "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP",
                    "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT".into(),
                ),
                ("KAFKA_CONTROLLER_QUORUM_VOTERS", "1@localhost:9093".into()),
                ("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "1".into()),
                ("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1".into()),
                ("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1".into()),
                ("KAFKA_LOG_DIRS", "/var/lib/kafka/data".into()),
            ],
            data: "/var/lib/kafka/data",
            health: sh(
                "/opt/kafka/bin/kafka-broker-api-versions.sh --bootstrap-server localhost:9092 >/dev/null",
            ),
        },
        DependencyKind::Mongodb => Local {
            image: "mongo:8.0",
            port: 27017,
            env: vec![],
            data: "/data/db",
            health: sh("mongosh --quiet --eval 'db.runCommand({ ping: 1 }).ok' | grep -q 1"),
        },
        DependencyKind::Rabbitmq => Local {
            image: "rabbitmq:4.0-alpine",
            port: 5672,
            env: vec![],
            data: "/var/lib/rabbitmq",
            health: sh("rabbitmq-diagnostics -q ping"),
        },
        // No local container yet (the catalogue knows them; compose keeps the endpoint).
        DependencyKind::Mariadb
        | DependencyKind::Elasticsearch
        | DependencyKind::Memcached
        | DependencyKind::Nats => return None,
        DependencyKind::Http | DependencyKind::Tcp => return None,
    })
}

fn healthcheck(test: Vec<String>, start: &str) -> Value {
    json!({
        "test": test,
        "interval": "10s",
        "timeout": "5s",
        "retries": 6,
        "start_period": start,
    })
}

/// compose.yaml (and the config files it mounts, and `.env.example`).
pub fn compose(apps: &[App]) -> FileSet {
    let app = local_env(apps);
    let mut files = FileSet::default();
    let mut services = Map::new();
    let mut volumes = Map::new();
    let mut configs = Map::new();
    let mut healthy: Vec<&str> = Vec::new();
    let mut host_ports: Vec<u16> = Vec::new();
    let mut secrets: Vec<&str> = Vec::new();

    // Dependencies first: services depend on them.
    let mut local_deps = Map::new();
    for dep in &app.dependencies {
        let Some(l) = local(dep, &app.name) else {
            continue;
        };
        let volume = format!("{}-data", dep.name);
        volumes.insert(volume.clone(), json!({}));
        let mut svc = Map::new();
        svc.insert("image".into(), l.image.into());
        if !l.env.is_empty() {
            let env: Map<String, Value> = l
                .env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), Value::from(v.clone())))
                .collect();
            svc.insert("environment".into(), env.into());
        }
        svc.insert(
            "volumes".into(),
            json!([{"type": "volume", "source": volume, "target": l.data}]),
        );
        svc.insert("healthcheck".into(), healthcheck(l.health, "20s"));
        svc.insert("restart".into(), "unless-stopped".into());
        local_deps.insert(dep.name.clone(), Value::Object(svc));
        healthy.push(&dep.name);
    }

    let mut app_services = Map::new();
    for s in &app.services {
        let mut svc = Map::new();
        svc.insert("image".into(), s.image.to_string().into());
        if let Some(c) = &s.command {
            svc.insert("entrypoint".into(), json!(c));
        }
        if let Some(a) = &s.args {
            svc.insert("command".into(), json!(a));
        }
        let mut env = Map::new();
        for (k, v) in &s.env {
            env.insert(k.clone(), v.clone().into());
        }
        // Dependencies: local containers listen on their image's port; external ones keep their host.
        for dep in app
            .dependencies
            .iter()
            .filter(|d| s.uses_dependencies.contains(&d.name))
        {
            let (host, port) = match local(dep, &app.name) {
                Some(l) => (dep.name.clone(), l.port),
                None => (dep.host.clone(), dep.port),
            };
            // The address compose reaches it at: the local container, or the external host.
            for (k, v) in berth_spec::dependency_vars(&dep.name, dep.kind, &host, port) {
                env.insert(k, v.into());
            }
        }
        for name in &s.secrets {
            env.insert(name.clone(), format!("${{{name}:-}}").into());
            if !secrets.contains(&name.as_str()) {
                secrets.push(name);
            }
        }
        if !env.is_empty() {
            svc.insert("environment".into(), env.into());
        }
        if !s.ports.is_empty() {
            let mut published = Vec::new();
            for p in &s.ports {
                // The Service port when it is free on the host, else the next free one.
                let mut host = p.service_port;
                while host_ports.contains(&host) {
                    host += 1;
                }
                host_ports.push(host);
                published.push(json!({
                    "target": p.port,
                    "published": host.to_string(),
                    "host_ip": "127.0.0.1",
                    "protocol": p.protocol.transport().to_ascii_lowercase(),
                }));
            }
            svc.insert("ports".into(), published.into());
        }
        if !s.files.is_empty() {
            let mut mounts = Vec::new();
            for (name, content) in &s.files {
                let config = format!("{}-{}", s.name, name.replace('.', "-"));
                let path = format!("config/{}/{name}", s.name);
                files.insert(path.clone(), content.clone());
                configs.insert(config.clone(), json!({"file": format!("./{path}")}));
                mounts.push(json!({
                    "source": config,
                    "target": format!("{}/{name}", s.config_mount.trim_end_matches('/')),
                }));
            }
            svc.insert("configs".into(), mounts.into());
        }
        let mut depends = Map::new();
        // Only what is not already implied through another thing it uses (a transitive
        // reduction): the start order is the same, and compose's graph walk stays linear
        // (it revisits shared dependencies once per path, which explodes on long chains).
        let direct: Vec<&String> = s.uses_dependencies.iter().chain(&s.uses_services).collect();
        let implied: std::collections::BTreeSet<String> = s
            .uses_services
            .iter()
            .flat_map(|v| reachable(app, v))
            .collect();
        for used in direct.into_iter().filter(|u| !implied.contains(*u)) {
            let is_local_dep = local_deps.contains_key(used);
            let is_service = app.services.iter().any(|o| &o.name == used);
            if !is_local_dep && !is_service {
                continue;
            }
            let has_health = is_local_dep
                || app
                    .services
                    .iter()
                    .any(|o| &o.name == used && health_test(o).is_some());
            let condition = if has_health {
                "service_healthy"
            } else {
                "service_started"
            };
            depends.insert(used.clone(), json!({"condition": condition}));
        }
        if !depends.is_empty() {
            svc.insert("depends_on".into(), depends.into());
        }
        if let Some(test) = health_test(s) {
            let start = if s.startup.is_some() { "60s" } else { "15s" };
            svc.insert("healthcheck".into(), healthcheck(test, start));
        }
        // The same hardening as the cluster's securityContext.
        svc.insert("user".into(), format!("{0}:{0}", s.user).into());
        svc.insert("read_only".into(), true.into());
        let mut tmpfs = vec!["/tmp".to_owned()];
        tmpfs.extend(s.writable.iter().map(|w| w.path.clone()));
        svc.insert("tmpfs".into(), json!(tmpfs));
        svc.insert("cap_drop".into(), json!(["ALL"]));
        svc.insert("security_opt".into(), json!(["no-new-privileges:true"]));
        svc.insert(
            "stop_grace_period".into(),
            format!("{}s", s.grace_seconds).into(),
        );
        svc.insert("restart".into(), "unless-stopped".into());
        app_services.insert(s.name.clone(), Value::Object(svc));
    }
    services.extend(app_services);
    services.extend(local_deps);

    let mut doc = Map::new();
    doc.insert("name".into(), app.name.clone().into());
    doc.insert("services".into(), services.into());
    if !volumes.is_empty() {
        doc.insert("volumes".into(), volumes.into());
    }
    if !configs.is_empty() {
        doc.insert("configs".into(), configs.into());
    }
    files.insert(
        "compose.yaml",
        format!(
            "# {} for local use (the {} environment), generated by berth from berth.yaml; do not edit.\n# docker compose up --wait    (secrets: export them, or copy .env.example to .env and fill it in)\n{}",
            app.name,
            app.env,
            to_yaml(&Value::Object(doc))
        ),
    );
    let mut example =
        String::from("# Secrets the services read; compose.yaml never holds their values.\n");
    for s in &secrets {
        example.push_str(&format!("{s}=\n"));
    }
    files.insert(".env.example", example);
    files
}

/// Everything `from` uses, directly or through other services (the graph is acyclic: the
/// spec loader refuses cycles).
fn reachable(app: &App, from: &str) -> std::collections::BTreeSet<String> {
    let mut seen = std::collections::BTreeSet::new();
    let mut stack = vec![from.to_owned()];
    while let Some(name) = stack.pop() {
        if let Some(svc) = app.services.iter().find(|o| o.name == name) {
            for used in svc.uses_dependencies.iter().chain(&svc.uses_services) {
                if seen.insert(used.clone()) {
                    stack.push(used.clone());
                }
            }
        }
    }
    seen
}

/// Only a command check: compose runs a healthcheck inside the service's own container, and
/// an HTTP, gRPC or TCP check would need a client there (`wget`, `curl`, `grpc_health_probe`,
/// a shell) that distroless and scratch images do not have; a check that can never pass would
/// keep dependants waiting and `docker compose up --wait` from finishing. Services checked
/// another way get none (and their dependants wait for them to start).
fn health_test(s: &berth_spec::ResolvedService) -> Option<Vec<String>> {
    match &s.ready.as_ref().or(s.live.as_ref())?.action {
        ProbeAction::Exec(cmd) => {
            let mut t = vec!["CMD".to_owned()];
            t.extend(cmd.iter().cloned());
            Some(t)
        }
        _ => None,
    }
}
