//! The data tier: what each dependency renders in this environment, and how the services that
//! use it are wired (connection variables, CA bundle, network policy).
//!
//! - `external`: an ExternalName Service, or for an IP a selector-less Service and its
//!   EndpointSlice (`service.rs`).
//! - `managed`: the endpoint's CA bundle (ConfigMap), the role credentials, egress to the
//!   declared network only. No server, backup or pooler objects: the provider runs them.
//! - `in-cluster`: PostgreSQL per its topology ([`postgres`]); other types one StatefulSet from
//!   their catalogue entry ([`generic`]).
//!
//! Waves (Argo CD `sync-wave`, Helm hook weight): the data tier's servers are wave
//! [`DATA_WAVE`], the role setup [`SETUP_WAVE`], migrations [`MIGRATION_WAVE`]` + step`, all
//! before the workloads (berth-emit's waves).

pub mod backup;
pub mod cache;
pub mod exporters;
pub mod generic;
pub mod kafka;
pub mod migrate;
pub mod patroni;
pub mod pgbouncer;
pub mod postgres;

use crate::labels::{app_labels, selector_labels};
use crate::{Object, Warning};
use berth_spec::dependency::DependencyMode;
use berth_spec::dependency::postgres::{Credential, Topology, credentials, object_part};
use berth_spec::{
    App, DependencyKind, ResolvedDependency, ResolvedService, SecretDelivery, env_prefix,
};
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub const WAVE_ANNOTATION: &str = "argocd.argoproj.io/sync-wave";
pub const DATA_WAVE: i32 = 3;
pub const SETUP_WAVE: i32 = 4;
pub const MIGRATION_WAVE: i32 = 5;
/// Where a managed endpoint's CA bundle is mounted in the pods that use it.
pub const CA_DIR: &str = "/etc/berth/ca";

/// An object from its JSON body (validated against the Kubernetes and CRD schemas by
/// `berth check` in the tests).
pub(crate) fn obj(app: &App, api_version: &str, kind: &str, name: &str, mut body: Value) -> Object {
    body["apiVersion"] = json!(api_version);
    body["kind"] = json!(kind);
    body["metadata"]["name"] = json!(name);
    body["metadata"]["namespace"] = json!(app.namespace);
    Object {
        api_version: api_version.into(),
        kind: kind.into(),
        name: name.into(),
        namespace: Some(app.namespace.clone()),
        body,
    }
}

/// Labels of an object of dependency `dep` (`component`: database, pooler, backup, …).
pub(crate) fn dep_labels(app: &App, name: &str, component: &str) -> BTreeMap<String, String> {
    let mut l = app_labels(app, component);
    l.insert("app.kubernetes.io/name".into(), name.to_owned());
    l
}

/// A data-tier ServiceAccount, one wave before its pods; the API token is mounted only where
/// the pods talk to the API server (`automount`).
pub(crate) fn service_account(
    app: &App,
    name: &str,
    labels: Value,
    annotations: Option<Value>,
    automount: bool,
) -> Object {
    let mut metadata = json!({"labels": labels});
    if let Some(a) = annotations {
        metadata["annotations"] = a;
    }
    obj(
        app,
        "v1",
        "ServiceAccount",
        name,
        with_wave(
            json!({"metadata": metadata, "automountServiceAccountToken": automount}),
            DATA_WAVE - 1,
        ),
    )
}

pub(crate) fn with_wave(mut body: Value, wave: i32) -> Value {
    body["metadata"]["annotations"][WAVE_ANNOTATION] = json!(wave.to_string());
    body
}

/// The pods of dependency `dep` that accept client connections on its port (the pooler's when
/// there is one), as a NetworkPolicy peer selector.
pub fn client_target(app: &App, dep: &ResolvedDependency) -> Option<(Value, u16)> {
    if dep.mode != DependencyMode::InCluster {
        return None;
    }
    if let Some(pg) = &dep.postgres {
        if pg.pooler.is_some() {
            return Some((postgres::pooler_selector(app, dep), 5432));
        }
        return Some((postgres::server_selector(app, dep, pg.topology), dep.port));
    }
    if dep.kafka.is_some() {
        return Some((kafka::broker_selector(app, dep), dep.port));
    }
    Some((
        json!({"matchLabels": selector_labels(app, &dep.name)}),
        dep.port,
    ))
}

/// One broker or one cache node outside dev: a drain takes it down.
fn single_warning(app: &App, dep: &ResolvedDependency, warnings: &mut Vec<Warning>) {
    if app.tier == berth_spec::Tier::Dev {
        return;
    }
    let single = match (&dep.kafka, &dep.redis) {
        (Some(k), _) => k.brokers == 1 && k.operator.is_none(),
        (_, Some(r)) => r.sentinel.is_none(),
        _ => false,
    };
    if single {
        let fix = if dep.kafka.is_some() {
            "use `brokers: 3`"
        } else {
            "use `ha: { replicas: 2, sentinel: true }`"
        };
        warnings.push(Warning {
            path: format!("dependencies.{}", dep.name),
            message: format!(
                "`{}` is a single {} in {}: nothing fails over, and a node drain takes it down; {fix}",
                dep.name,
                if dep.kafka.is_some() { "broker" } else { "instance" },
                app.env
            ),
        });
    }
}

/// Every object of every dependency.
pub fn objects(app: &App, warnings: &mut Vec<Warning>) -> Vec<Object> {
    let mut out = Vec::new();
    for dep in &app.dependencies {
        match dep.mode {
            DependencyMode::External => {}
            DependencyMode::Managed => {
                if let Some(ca) = &dep.tls_ca {
                    out.push(obj(
                        app,
                        "v1",
                        "ConfigMap",
                        &ca_map(dep),
                        json!({
                            "metadata": {"labels": dep_labels(app, &dep.name, "database")},
                            "data": {"ca.pem": String::from_utf8_lossy(ca)},
                        }),
                    ));
                } else if dep.kind == DependencyKind::Postgres {
                    warnings.push(Warning {
                        path: format!("dependencies.{}.tls", dep.name),
                        message: format!("managed `{}` has no `tls.ca`: clients use sslmode=require, which encrypts but does not check the server's certificate", dep.name),
                    });
                }
                out.extend(kafka::managed_objects(app, dep, warnings));
                if dep.cidr.is_none() {
                    warnings.push(Warning {
                        path: format!("dependencies.{}.cidr", dep.name),
                        message: format!("managed `{}` has no `cidr`: its users may reach port {} on any address", dep.name, dep.port),
                    });
                }
            }
            DependencyMode::InCluster => match dep.kind {
                DependencyKind::Postgres => out.extend(postgres::objects(app, dep, warnings)),
                DependencyKind::Redis | DependencyKind::Valkey if dep.redis.is_some() => {
                    single_warning(app, dep, warnings);
                    out.extend(cache::objects(app, dep))
                }
                DependencyKind::Kafka if dep.kafka.is_some() => {
                    single_warning(app, dep, warnings);
                    out.extend(kafka::objects(app, dep))
                }
                _ => out.extend(generic::objects(app, dep)),
            },
        }
        out.extend(credential_objects(app, dep));
        if let Some(c) = berth_spec::dependency::kafka::cluster_id(dep) {
            out.extend(single_value_secret(
                app,
                &c.secret,
                berth_spec::dependency::kafka::CLUSTER_ID_KEY,
                dep_labels(app, &dep.name, kafka::COMPONENT),
            ));
        }
    }
    for svc in &app.services {
        for m in &svc.migrations {
            if let Some(dep) = app.dependencies.iter().find(|d| d.name == m.dependency) {
                out.extend(migrate::objects(app, svc, dep, m));
            }
        }
    }
    out
}

pub(crate) fn ca_map(dep: &ResolvedDependency) -> String {
    format!("{}-ca", dep.name)
}

/// The Secrets of a dependency's roles (`kubernetes.io/basic-auth`: `username`, `password`),
/// delivered by the environment's secret mode; without one they are created outside berth and
/// only referenced. A password never enters a ConfigMap, the spec, or plain output outside dev.
///
/// A service in another namespace group reads its own copy, delivered the same way in its
/// namespace (a Secret — and the Dapr Component that references it — is read only in its own
/// namespace); `mode: sealed` cannot, and the spec refuses it (strict scope).
fn credential_objects(app: &App, dep: &ResolvedDependency) -> Vec<Object> {
    let mut wanted: Vec<(String, Credential)> = credentials(dep)
        .into_iter()
        .map(|c| (app.namespace.clone(), c))
        .collect();
    for (ns, _, c) in
        berth_spec::dependency::postgres::foreign_credentials(&app.namespace, &app.services, dep)
    {
        wanted.push((ns, c));
    }
    let mut out = Vec::new();
    for (ns, c) in wanted {
        let labels = dep_labels(app, &dep.name, "credentials");
        // Before the servers and setup Jobs that read them.
        let wave = DATA_WAVE - 1;
        match &app.secrets {
            SecretDelivery::References => {}
            SecretDelivery::Plain(plain) => {
                let Some(v) = plain
                    .services
                    .get(&c.secret)
                    .and_then(|v| v.first())
                    .and_then(|(_, v)| v.as_ref())
                else {
                    continue;
                };
                let secret = k8s_openapi::api::core::v1::Secret {
                    metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                        name: Some(c.secret.clone()),
                        namespace: Some(ns.clone()),
                        labels: Some(labels),
                        annotations: Some(BTreeMap::from([(
                            WAVE_ANNOTATION.to_owned(),
                            wave.to_string(),
                        )])),
                        ..Default::default()
                    },
                    type_: Some("kubernetes.io/basic-auth".into()),
                    data: Some(BTreeMap::from([
                        (
                            "username".to_owned(),
                            k8s_openapi::ByteString(c.role.clone().into_bytes()),
                        ),
                        (
                            "password".to_owned(),
                            k8s_openapi::ByteString(v.expose().to_vec()),
                        ),
                    ])),
                    ..Default::default()
                };
                out.push(Object::from_typed(&secret));
            }
            SecretDelivery::Sealed(sealed) => {
                let Some(values) = sealed.services.get(&c.secret) else {
                    continue;
                };
                if ns != app.namespace {
                    continue;
                }
                let enc: serde_json::Map<String, Value> = values
                    .iter()
                    .filter_map(|(k, v)| Some((k.clone(), Value::String(v.clone()?))))
                    .collect();
                out.push(obj(app, crate::secrets::SEALED_SECRET_API_VERSION, "SealedSecret", &c.secret, with_wave(json!({
                    "metadata": {"labels": labels},
                    "spec": {
                        "encryptedData": enc,
                        "template": {
                            "metadata": {"name": c.secret, "namespace": app.namespace, "labels": labels},
                            "type": "kubernetes.io/basic-auth",
                            // The role name is not a secret; only the password is sealed.
                            "data": {"username": c.role},
                        },
                    },
                }), wave)));
            }
            SecretDelivery::External(ext) => {
                out.push(in_namespace(obj(app, crate::secrets::EXTERNAL_SECRET_API_VERSION, "ExternalSecret", &c.secret, with_wave(json!({
                    "metadata": {"labels": labels},
                    "spec": {
                        "refreshInterval": ext.refresh,
                        "secretStoreRef": {"name": ext.store, "kind": ext.store_kind.as_str()},
                        "target": {
                            "name": c.secret,
                            "creationPolicy": "Owner",
                            "template": {
                                "type": "kubernetes.io/basic-auth",
                                "engineVersion": "v2",
                                "data": {"username": c.role, "password": "{{ .password }}"},
                            },
                        },
                        "data": [{"secretKey": "password", "remoteRef": {"key": ext.remote_key(&c.secret), "property": "password"}}],
                    },
                }), wave)), &ns));
            }
        }
    }
    out
}

/// `o` moved to namespace `ns`.
fn in_namespace(mut o: Object, ns: &str) -> Object {
    o.body["metadata"]["namespace"] = json!(ns);
    o.namespace = Some(ns.to_owned());
    o
}

/// The object that delivers an Opaque Secret `name` holding one value under `key` (a KRaft
/// cluster ID), by the environment's secret mode: a plain Secret (dev), a SealedSecret of the
/// sealed value `VALUES/NAME/KEY`, or an ExternalSecret of remote key `PATH/NAME`, property `KEY`.
/// Without a secret mode the Secret is created outside berth and only referenced.
fn single_value_secret(
    app: &App,
    name: &str,
    key: &str,
    labels: BTreeMap<String, String>,
) -> Option<Object> {
    // Before the servers that read it.
    let wave = DATA_WAVE - 1;
    match &app.secrets {
        SecretDelivery::References => None,
        SecretDelivery::Plain(plain) => {
            let (_, v) = plain.services.get(name)?.first()?;
            let secret = k8s_openapi::api::core::v1::Secret {
                metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                    name: Some(name.to_owned()),
                    namespace: Some(app.namespace.clone()),
                    labels: Some(labels),
                    annotations: Some(BTreeMap::from([(
                        WAVE_ANNOTATION.to_owned(),
                        wave.to_string(),
                    )])),
                    ..Default::default()
                },
                type_: Some("Opaque".into()),
                data: Some(BTreeMap::from([(
                    key.to_owned(),
                    k8s_openapi::ByteString(v.as_ref()?.expose().to_vec()),
                )])),
                ..Default::default()
            };
            Some(Object::from_typed(&secret))
        }
        SecretDelivery::Sealed(sealed) => {
            let (_, v) = sealed.services.get(name)?.first()?;
            Some(obj(
                app,
                crate::secrets::SEALED_SECRET_API_VERSION,
                "SealedSecret",
                name,
                with_wave(
                    json!({
                        "metadata": {"labels": labels},
                        "spec": {
                            "encryptedData": {key: v.clone()?},
                            "template": {
                                "metadata": {"name": name, "namespace": app.namespace, "labels": labels},
                                "type": "Opaque",
                            },
                        },
                    }),
                    wave,
                ),
            ))
        }
        SecretDelivery::External(ext) => Some(obj(
            app,
            crate::secrets::EXTERNAL_SECRET_API_VERSION,
            "ExternalSecret",
            name,
            with_wave(
                json!({
                    "metadata": {"labels": labels},
                    "spec": {
                        "refreshInterval": ext.refresh,
                        "secretStoreRef": {"name": ext.store, "kind": ext.store_kind.as_str()},
                        "target": {"name": name, "creationPolicy": "Owner"},
                        "data": [{"secretKey": key, "remoteRef": {"key": ext.remote_key(name), "property": key}}],
                    },
                }),
                wave,
            ),
        )),
    }
}

/// The credential of a database's owner role.
pub(crate) fn owner(dep: &ResolvedDependency, db: &str) -> Credential {
    credentials(dep)
        .into_iter()
        .find(|c| c.role == db)
        .expect("every database has an owner credential")
}

/// Connection settings of one database, in the forms drivers take.
pub struct Connection {
    pub host: String,
    pub port: u16,
    pub database: String,
    pub role: String,
    pub secret: String,
    /// `sslmode` and friends for the URL.
    pub query: Vec<(String, String)>,
}

/// How a client reaches `db` of `dep`: through the pooler when there is one, unless `direct`
/// (migrations, which need session state a transaction pool drops).
pub fn connection(dep: &ResolvedDependency, db: &str, direct: bool) -> Option<Connection> {
    let pg = dep.postgres.as_ref()?;
    let host = if direct {
        pg.writer.clone()
    } else {
        dep.host.clone()
    };
    let mut query = vec![("target_session_attrs".to_owned(), "read-write".to_owned())];
    if dep.mode == DependencyMode::Managed {
        if dep.tls_ca.is_some() {
            query.push(("sslmode".into(), "verify-full".into()));
            query.push((
                "sslrootcert".into(),
                format!("{CA_DIR}/{}/ca.pem", dep.name),
            ));
        } else {
            query.push(("sslmode".into(), "require".into()));
        }
    }
    let c = owner(dep, db);
    Some(Connection {
        host,
        port: dep.port,
        database: db.to_owned(),
        role: c.role,
        secret: c.secret,
        query,
    })
}

fn env(name: &str, value: &str) -> Value {
    json!({"name": name, "value": value})
}

fn env_secret(name: &str, secret: &str, key: &str) -> Value {
    json!({"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key, "optional": false}}})
}

/// The container env for connections: PG* for the first, `DATABASE_URL` for each (prefixed
/// `DEP_DB_` after the first). The password only ever travels as a `secretKeyRef`; the URL is
/// composed by Kubernetes from `$(VAR)` references, so berth never sees or prints it.
pub fn connection_env(conns: &[(String, Connection)], taken: &dyn Fn(&str) -> bool) -> Vec<Value> {
    let mut out = Vec::new();
    for (i, (prefix, c)) in conns.iter().enumerate() {
        let p = if i == 0 {
            String::new()
        } else {
            format!("{prefix}_")
        };
        let pw = if i == 0 {
            "PGPASSWORD".to_owned()
        } else {
            format!("{p}PGPASSWORD")
        };
        let mut vars = Vec::new();
        if i == 0 {
            vars.push(env("PGHOST", &c.host));
            vars.push(env("PGPORT", &c.port.to_string()));
            vars.push(env("PGDATABASE", &c.database));
            vars.push(env("PGUSER", &c.role));
            vars.push(env_secret("PGPASSWORD", &c.secret, "password"));
            vars.push(env("PGTARGETSESSIONATTRS", "read-write"));
            for (k, v) in &c.query {
                match k.as_str() {
                    "sslmode" => vars.push(env("PGSSLMODE", v)),
                    "sslrootcert" => vars.push(env("PGSSLROOTCERT", v)),
                    _ => {}
                }
            }
        } else {
            vars.push(env_secret(&pw, &c.secret, "password"));
        }
        let query: Vec<String> = c.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let host = if c.host.contains(':') {
            format!("[{}]", c.host)
        } else {
            c.host.clone()
        };
        vars.push(env(
            &format!("{p}DATABASE_URL"),
            &format!(
                "postgresql://{}:$({pw})@{}:{}/{}?{}",
                c.role,
                host,
                c.port,
                c.database,
                query.join("&")
            ),
        ));
        for v in vars {
            let name = v["name"].as_str().unwrap_or_default().to_owned();
            // The service's own env or secrets of the same name win.
            if !taken(&name) && !out.iter().any(|o: &Value| o["name"] == name.as_str()) {
                out.push(v);
            }
        }
    }
    out
}

/// The connections of a service (in `uses` order).
pub fn service_connections(app: &App, svc: &ResolvedService) -> Vec<(String, Connection)> {
    svc.uses_databases
        .iter()
        .filter_map(|(d, db)| {
            let dep = app.dependencies.iter().find(|x| &x.name == d)?;
            Some((
                format!("{}_{}", env_prefix(d), env_prefix(&object_part(db))),
                connection(dep, db, false)?,
            ))
        })
        .collect()
}

/// Container env, volumes and mounts a service gets from the dependencies it uses.
pub struct Wiring {
    pub env: Vec<Value>,
    pub volumes: Vec<Value>,
    pub mounts: Vec<Value>,
}

pub fn wiring(app: &App, svc: &ResolvedService, conns: &[(String, Connection)]) -> Wiring {
    let taken = |n: &str| {
        svc.secrets.iter().any(|s| s == n)
            || svc.env.iter().any(|(k, _)| k == n && !k.starts_with("PG"))
    };
    let mut env = connection_env(conns, &taken);
    // Redis/Valkey password (and the URL composed from it), Kafka SASL password.
    for d in &svc.uses_dependencies {
        let Some(dep) = app.dependencies.iter().find(|x| &x.name == d) else {
            continue;
        };
        let host = match dep.mode {
            DependencyMode::InCluster => {
                berth_spec::service_host(&dep.host, &app.namespace, &svc.namespace)
            }
            _ => dep.host.clone(),
        };
        let mut extra = cache::client_env(dep, &host);
        if let Some(c) = credentials(dep)
            .into_iter()
            .find(|_| dep.kafka.as_ref().is_some_and(|k| k.sasl.is_some()))
        {
            extra.push(env_secret(
                &format!("{}_SASL_PASSWORD", env_prefix(&dep.name)),
                &c.secret,
                "password",
            ));
        }
        for v in extra {
            let name = v["name"].as_str().unwrap_or_default().to_owned();
            if !taken(&name) && !env.iter().any(|o: &Value| o["name"] == name.as_str()) {
                env.push(v);
            }
        }
    }
    let mut volumes = Vec::new();
    let mut mounts = Vec::new();
    for d in &svc.uses_dependencies {
        let Some(dep) = app.dependencies.iter().find(|x| &x.name == d) else {
            continue;
        };
        if dep.mode == DependencyMode::Managed && dep.tls_ca.is_some() {
            let vol = format!("ca-{}", dep.name);
            volumes.push(json!({"name": vol, "configMap": {"name": ca_map(dep)}}));
            mounts.push(json!({"name": vol, "mountPath": format!("{CA_DIR}/{}", dep.name), "readOnly": true}));
        }
    }
    Wiring {
        env,
        volumes,
        mounts,
    }
}

/// Egress rules from a user of `dep` to it: its pods (in-cluster), its network (managed/external
/// with `cidr`), else its port anywhere.
pub fn egress_to(app: &App, dep: &ResolvedDependency) -> Value {
    let port = |p: u16| json!([{"port": p, "protocol": "TCP"}]);
    match client_target(app, dep) {
        Some((selector, _)) if dep.redis.is_some() => {
            let ports: Vec<Value> = cache::client_ports(dep)
                .into_iter()
                .map(|p| json!({"port": p, "protocol": "TCP"}))
                .collect();
            json!({"to": [{"podSelector": selector}], "ports": ports})
        }
        Some((selector, p)) => json!({"to": [{"podSelector": selector}], "ports": port(p)}),
        None => {
            // An endpoint at an IP is reached at that IP alone unless its `cidr` says more.
            let cidr = dep.network().unwrap_or_else(|| "0.0.0.0/0".into());
            json!({"to": [{"ipBlock": {"cidr": cidr}}], "ports": port(dep.port)})
        }
    }
}

/// Whether the topology runs its own pods berth renders (not an operator's).
pub(crate) fn own_pods(t: Option<Topology>) -> bool {
    matches!(t, Some(Topology::Single) | Some(Topology::Patroni { .. }))
}
