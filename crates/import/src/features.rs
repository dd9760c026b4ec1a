//! Which berth.yaml fields this berth has. Other parts of the spec land over time (a `ports:`
//! map, storage, typed in-cluster dependencies, …); the importer reads the spec's own JSON
//! Schema to know what it may write, and falls back (with a note in the report) otherwise.

use serde_json::Value;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Features {
    /// `services.X.ports` (name → port with protocol).
    pub ports_map: bool,
    /// tcp / grpc probes and probe timing (`period`, `timeout`, `failures`, `delay`).
    pub probe_forms: bool,
    /// `expose.type: load-balancer | node-port`.
    pub expose_type: bool,
    /// `services.X.storage` (persistent volumes).
    pub storage: bool,
    /// `services.X.secret-files`.
    pub secret_files: bool,
    /// `services.X.labels` (pod labels).
    pub labels: bool,
    /// `dependencies.X.mode` / `version` / `storage` (in-cluster typed dependencies), and the
    /// dependency types the spec accepts.
    pub in_cluster: bool,
    pub dependency_types: Vec<String>,
    /// `databases` on dependencies.
    pub databases: bool,
}

fn def<'a>(schema: &'a Value, name: &str) -> Option<&'a Value> {
    schema
        .get("$defs")
        .or_else(|| schema.get("definitions"))
        .and_then(|d| d.get(name))
}

fn has_prop(schema: &Value, def_name: &str, prop: &str) -> bool {
    def(schema, def_name)
        .and_then(|d| d.get("properties"))
        .is_some_and(|p| p.get(prop).is_some())
}

fn strings_in(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings_in(x, out)),
        Value::Object(o) => o.values().for_each(|x| strings_in(x, out)),
        _ => {}
    }
}

impl Features {
    /// Reads the features from `berth schema` (`berth_spec::json_schema()`).
    pub fn from_schema(schema: &Value) -> Features {
        let mut kinds = Vec::new();
        if let Some(k) = def(schema, "DependencyKind") {
            strings_in(k.get("enum").unwrap_or(&Value::Null), &mut kinds);
            if let Some(one_of) = k.get("oneOf") {
                for alt in one_of.as_array().into_iter().flatten() {
                    strings_in(
                        alt.get("enum")
                            .or_else(|| alt.get("const"))
                            .unwrap_or(&Value::Null),
                        &mut kinds,
                    );
                }
            }
        }
        let probe_text = def(schema, "Probe")
            .map(|p| p.to_string())
            .unwrap_or_default();
        Features {
            ports_map: has_prop(schema, "Service", "ports"),
            probe_forms: probe_text.contains("\"tcp\"") && probe_text.contains("\"period\""),
            expose_type: has_prop(schema, "Expose", "type"),
            storage: has_prop(schema, "Service", "storage"),
            secret_files: has_prop(schema, "Service", "secret-files"),
            labels: has_prop(schema, "Service", "labels"),
            in_cluster: has_prop(schema, "Dependency", "mode")
                && has_prop(schema, "Dependency", "version")
                && has_prop(schema, "Dependency", "storage"),
            databases: has_prop(schema, "Dependency", "databases"),
            dependency_types: kinds,
        }
    }

    /// Everything in /work/plan/spec-shape.md (for unit tests of the mapping rules).
    pub fn all() -> Features {
        Features {
            ports_map: true,
            probe_forms: true,
            expose_type: true,
            storage: true,
            secret_files: true,
            labels: true,
            in_cluster: true,
            databases: true,
            dependency_types: [
                "postgres",
                "mysql",
                "mariadb",
                "redis",
                "valkey",
                "kafka",
                "mongodb",
                "rabbitmq",
                "elasticsearch",
                "memcached",
                "nats",
                "http",
                "tcp",
            ]
            .map(String::from)
            .to_vec(),
        }
    }

    pub fn dependency(&self, kind: &str) -> bool {
        self.in_cluster && self.dependency_types.iter().any(|k| k == kind)
    }
}
