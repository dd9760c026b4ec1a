//! The typed berth.yaml. Every field documents itself: these doc comments become the JSON
//! Schema's descriptions, which editors show on hover.

pub use crate::expose::{
    Cors, Expose, ExposeType, RateLimit, SecurityHeaders, SecurityHeadersSpec, Timeouts,
    TrafficPolicy,
};
pub use crate::metrics::MetricSpec;
pub use crate::podmeta::{Annotations, PodField};
pub use crate::ports::{PortFull, PortSpec, Protocol};
pub use crate::probes::{PortRef, Probe, ProbeFull, Seconds};
use crate::quantity::{Percent, ResourcePair};
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

/// A berth application: services, the external dependencies they use, and environments.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "berth.yaml")]
pub struct Spec {
    /// Application name (a DNS-1123 label); prefixes and labels every object.
    pub app: String,
    /// Image registry prefix: a relative image `name` resolves to `registry/name:version`.
    #[serde(default)]
    pub registry: Option<String>,
    /// Default image tag for services whose image carries none.
    #[serde(default)]
    pub version: Option<String>,
    /// The ingress controller that exposed services go through.
    #[serde(default)]
    pub ingress: Option<IngressSettings>,
    /// Settings of the Argo CD Applications `berth build` writes.
    #[serde(default)]
    pub argocd: Option<ArgoCdSettings>,
    /// Services, by name (each a DNS-1123 label).
    #[serde(default)]
    pub services: IndexMap<String, Service>,
    /// Databases, caches, brokers and endpoints services `use`, by name.
    #[serde(default)]
    pub dependencies: IndexMap<String, Dependency>,
    /// Environments (dev, staging, prod, …) with their overrides.
    #[serde(default)]
    pub environments: IndexMap<String, Environment>,
    /// App-wide Dapr settings (tracing) for the services with `dapr`.
    #[serde(default)]
    pub dapr: Option<crate::dapr::DaprApp>,
    /// How Prometheus scrapes the app (`{ scrape: prometheus-operator | annotations }`); see
    /// docs/operate.md.
    #[serde(default)]
    pub monitoring: Option<crate::observe::MonitoringSettings>,
}

/// Where exposed traffic comes from.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IngressSettings {
    /// `ingressClassName` of the Ingress objects (default `nginx`).
    #[serde(default)]
    pub class: Option<String>,
    /// Namespace of the ingress controller pods, allowed in by NetworkPolicy (default `ingress-nginx`).
    #[serde(default)]
    pub namespace: Option<String>,
    /// cert-manager ClusterIssuer for TLS certificates (default `letsencrypt-prod`).
    #[serde(default)]
    pub issuer: Option<String>,
}

/// Argo CD settings (used only by the generated Argo CD Applications).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ArgoCdSettings {
    /// Let argocd-image-updater move every service's image to newer tags with this strategy
    /// (`semver`: the highest semantic version, `newest-build`: the most recently built tag,
    /// `digest`: the tag's latest digest, `alphabetical`); off when absent.
    #[serde(rename = "image-updater", default)]
    pub image_updater: Option<ImageUpdateStrategy>,
}

/// An argocd-image-updater update strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ImageUpdateStrategy {
    Semver,
    NewestBuild,
    Digest,
    Alphabetical,
}

impl ImageUpdateStrategy {
    pub fn as_str(self) -> &'static str {
        match self {
            ImageUpdateStrategy::Semver => "semver",
            ImageUpdateStrategy::NewestBuild => "newest-build",
            ImageUpdateStrategy::Digest => "digest",
            ImageUpdateStrategy::Alphabetical => "alphabetical",
        }
    }
}

/// One service: a Deployment, and a Service when it listens on a port.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// Image: `name` (resolved against `registry` and `version`), `name:tag`, or an absolute
    /// reference (`docker.io/library/nginx:1.27`, `…@sha256:…`).
    #[serde(default)]
    pub image: Option<String>,
    /// `registry: none` keeps this service's image as written (no `registry` prefix); any
    /// other value replaces the spec's `registry` for it.
    #[serde(default)]
    pub registry: Option<String>,
    /// Container port the service listens on (HTTP), named `http`. Without it (and without
    /// `ports`), the service is a worker: no Service object.
    #[serde(default)]
    pub port: Option<u16>,
    /// Several ports by name (instead of `port`): a number (HTTP), or
    /// `{ port, protocol: http|grpc|tcp|udp, service-port }`.
    #[serde(default)]
    pub ports: Option<IndexMap<String, Option<PortSpec>>>,
    /// Command (replaces the image's entrypoint).
    #[serde(default)]
    pub command: Option<Vec<String>>,
    /// Arguments.
    #[serde(default)]
    pub args: Option<Vec<String>>,
    /// Health checks: an HTTP path, a command, or `{ http | grpc | tcp | exec, …timing }`.
    #[serde(default)]
    pub health: Option<Health>,
    /// Expose the service outside the cluster: an Ingress, or a LoadBalancer/NodePort Service.
    #[serde(default)]
    pub expose: Option<Expose>,
    /// Services and dependencies this service talks to (drives NetworkPolicy and connection env vars).
    #[serde(default)]
    pub uses: Option<Vec<String>>,
    /// Environment variables (non-secret), delivered through a ConfigMap.
    #[serde(default)]
    pub env: Option<IndexMap<String, Option<String>>>,
    /// Names of secret environment variables; values never live in the spec.
    #[serde(default)]
    pub secrets: Option<Vec<String>>,
    /// Configuration files mounted into the container.
    #[serde(default)]
    pub config: Option<ConfigFiles>,
    /// CPU and memory as `request/limit` (`100m/500m`, `256Mi/512Mi`), or one value for both.
    #[serde(default)]
    pub resources: Option<Resources>,
    /// Fixed replica count (no autoscaling). Ignored when `scale` is set.
    #[serde(default)]
    pub replicas: Option<u32>,
    /// Autoscaling between `min` and `max` replicas on CPU and/or memory utilisation.
    #[serde(default)]
    pub scale: Option<Scale>,
    /// Paths the container may write to, each an emptyDir (the root filesystem is read-only):
    /// a list (`[/cache]`, 1Gi each) or path → size (`{ /cache: 2Gi }`).
    #[serde(default)]
    pub writable: Option<crate::storage::Writable>,
    /// Non-root UID the container runs as (default 10001).
    #[serde(default)]
    pub user: Option<u32>,
    /// Seconds the pod gets to drain after it is told to stop (default 30).
    #[serde(default)]
    pub grace: Option<u32>,
    // Storage, files, extra containers and placement: see storage.rs, containers.rs, placement.rs.
    /// Persistent volumes by mount path: a size (`/data: 10Gi`) or `{ size, class, access, name }`.
    /// A service with storage runs as a StatefulSet (one volume per replica) with a headless Service.
    #[serde(default)]
    pub storage: Option<IndexMap<String, crate::storage::Volume>>,
    /// StatefulSet behaviour of a service with `storage`.
    #[serde(default)]
    pub stateful: Option<crate::storage::Stateful>,
    /// Secret keys mounted as read-only files: path → key of the service's Secret (for images
    /// that read `*_FILE` variables). A key not in `secrets` is delivered like one but is not
    /// set as an environment variable.
    #[serde(rename = "secret-files", default)]
    pub secret_files: Option<IndexMap<String, String>>,
    /// A one-shot command run before the service starts, in its image with its environment and
    /// mounts (migrations, asset preparation).
    #[serde(default)]
    pub init: Option<Vec<String>>,
    /// Init containers by name, run in order before `init` and the service.
    #[serde(rename = "init-containers", default)]
    pub init_containers: Option<IndexMap<String, crate::containers::ExtraContainer>>,
    /// Sidecars by name: native sidecars (init containers with `restartPolicy: Always`) that
    /// start before the service and stop after it.
    #[serde(default)]
    pub sidecars: Option<IndexMap<String, crate::containers::ExtraContainer>>,
    /// Namespace group the service goes to (`services`); each environment maps groups to
    /// namespaces (`namespaces:`), by default `NAMESPACE-GROUP`.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Take over an existing install: keep its selector labels (selectors are immutable).
    #[serde(default)]
    pub adopt: Option<crate::placement::Adopt>,
    /// Where Prometheus scrapes the service's metrics (`{ port, path }`); see docs/operate.md.
    #[serde(default)]
    pub metrics: Option<crate::observe::Metrics>,
    /// Service level objectives, alerted on by burn rate; see docs/operate.md.
    #[serde(default)]
    pub slo: Option<crate::observe::Slo>,
    /// Labels on the pods (never part of the selector).
    #[serde(default)]
    pub labels: Option<IndexMap<String, String>>,
    /// Annotations on the pods, the ServiceAccount and the Service.
    #[serde(default)]
    pub annotations: Option<Annotations>,
    /// Environment variables from the downward API: `NAME: ip | node | node-ip | name |
    /// namespace | service-account`.
    #[serde(rename = "pod-env", default)]
    pub pod_env: Option<IndexMap<String, Option<PodField>>>,
    /// A Dapr sidecar: `true`, or `{ app-port, protocol, log-level, resources, subscribe, publish,
    /// pubsub }`; components come from the Kafka and Redis/Valkey dependencies it `uses`.
    #[serde(default)]
    pub dapr: Option<crate::dapr::Dapr>,
    /// Schema migrations run as a Job before this service's new version: `{ command: [...],
    /// database: postgres/todo }`, or a list of them (one per database).
    #[serde(default)]
    pub migrate: Option<crate::dependency::Migrations>,
}

/// Health checks. Each is an HTTP path (`/healthz`), a command (`[cmd, arg]`), or the full form
/// `{ http: /path, port: NAME }`, `{ grpc: PORT }`, `{ tcp: PORT }`, `{ exec: [cmd] }` with timing.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Health {
    /// Readiness: traffic is sent only while this passes.
    #[serde(default)]
    pub ready: Option<Probe>,
    /// Liveness: the container is restarted when this keeps failing.
    #[serde(default)]
    pub live: Option<Probe>,
    /// Startup: other checks wait until this passes once (for slow starters).
    #[serde(default)]
    pub startup: Option<Probe>,
}

/// Configuration files.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigFiles {
    /// File name in the container → path of its content, relative to berth.yaml.
    #[serde(default)]
    pub files: Option<IndexMap<String, Option<String>>>,
    /// Directory the files are mounted in (default `/config`). With `source`, the app reads
    /// the current version from `MOUNT/current` (also in `$BERTH_CONFIG_DIR`).
    #[serde(default)]
    pub mount: Option<String>,
    /// Hot-reload the configuration from an object store or folder through the config-sync
    /// sidecar: `s3://BUCKET/PREFIX`, `gs://BUCKET/PREFIX`, `az://CONTAINER/PREFIX` or `file:///DIR`.
    #[serde(default)]
    pub source: Option<String>,
    /// How the sidecar tells the app about a new version: `signal:HUP` (to the container's
    /// command, or `signal:HUP:PROCESS`), `signal:HUP:/path/to.pid`, `http:POST:URL`,
    /// `exec:COMMAND` or `none` (default `none`).
    #[serde(default)]
    pub reload: Option<String>,
    /// Command that validates a new version before it is published; `{dir}` is its directory.
    #[serde(default)]
    pub validate: Option<String>,
    /// Cloud identity the sidecar reads the source with: an IAM role ARN (S3, IRSA), a Google
    /// service account e-mail (GCS, Workload Identity) or an Azure client id. Never static keys.
    #[serde(default)]
    pub identity: Option<String>,
    /// Image of the sidecar (default: berth's own image at this berth version).
    #[serde(default)]
    pub sidecar: Option<String>,
}

/// Resource requests and limits.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    /// CPU `request/limit`, e.g. `100m/500m` (default `100m/500m`).
    #[serde(default)]
    pub cpu: Option<ResourcePair>,
    /// Memory `request/limit`, e.g. `256Mi/512Mi` (default `128Mi/256Mi`).
    #[serde(default)]
    pub memory: Option<ResourcePair>,
}

/// Autoscaling.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scale {
    /// Fewest replicas (default 2).
    #[serde(default)]
    pub min: Option<u32>,
    /// Most replicas.
    #[serde(default)]
    pub max: Option<u32>,
    /// Target average CPU utilisation of requests, `70%`.
    #[serde(default)]
    pub cpu: Option<Percent>,
    /// Target average memory utilisation of requests, `80%`.
    #[serde(default)]
    pub memory: Option<Percent>,
    /// Custom metrics: `{ pods: NAME, average: "100" }`, `{ external: NAME, selector: {…}, value: "30" }`.
    #[serde(default)]
    pub metrics: Option<Vec<MetricSpec>>,
}

/// A database, cache or broker that services use: run in the cluster (`mode: in-cluster`), a
/// cloud provider's managed service (`mode: managed`) or any other endpoint (`mode: external`).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dependency {
    /// Kind of dependency: postgres, mysql, mariadb, redis, valkey, kafka, mongodb, rabbitmq,
    /// elasticsearch, memcached, nats, http, tcp.
    #[serde(rename = "type", default)]
    pub kind: Option<DependencyKind>,
    /// `in-cluster`, `managed` or `external` (default: `external` when `host` is set, else
    /// `in-cluster`).
    #[serde(default)]
    pub mode: Option<crate::dependency::DependencyMode>,
    /// Host name of the endpoint (managed, external).
    #[serde(default)]
    pub host: Option<String>,
    /// Port (default: the kind's usual port).
    #[serde(default)]
    pub port: Option<u16>,
    /// In-cluster: image tag of the type's image (`"16"`).
    #[serde(default)]
    pub version: Option<String>,
    /// In-cluster: the image instead of the type's (`postgres:16.4`).
    #[serde(default)]
    pub image: Option<String>,
    /// In-cluster: volume size per instance (default `10Gi`; `1Gi` in dev).
    #[serde(default)]
    pub storage: Option<String>,
    /// postgres: the databases, each with its own owner role of the same name (default: one
    /// database named after the dependency).
    #[serde(default)]
    pub databases: Option<Vec<String>>,
    /// In-cluster: CPU and memory per instance as `request/limit`.
    #[serde(default)]
    pub resources: Option<Resources>,
    /// In-cluster: `false`, or HA settings (postgres: `{ instances: 3, operator: cloudnative-pg | none }`).
    #[serde(default)]
    pub ha: Option<crate::dependency::HaSpec>,
    /// postgres in-cluster: PgBouncer in front of the writer.
    #[serde(default)]
    pub pooler: Option<crate::dependency::PoolerSpec>,
    /// postgres in-cluster: continuous backups to an object store, with restore and restore check.
    #[serde(default)]
    pub backup: Option<crate::dependency::BackupSpec>,
    /// managed/external: the network (CIDR) the endpoint lives in; egress is allowed only there.
    #[serde(default)]
    pub cidr: Option<String>,
    /// managed/external: TLS settings (`{ ca: certs/rds-ca.pem }` → `sslmode=verify-full`).
    #[serde(default)]
    pub tls: Option<crate::dependency::TlsSpec>,
    /// kafka in-cluster: KRaft nodes, each broker and controller (default 1; 3 tolerate one down).
    #[serde(default)]
    pub brokers: Option<u32>,
    /// kafka: declared topics (`task.created: { partitions: 3, retention: 7d }`), created by a Job
    /// (or Strimzi `KafkaTopic`s); their partitions and replicas are kept in `berth.lock`.
    #[serde(default)]
    pub topics: Option<IndexMap<String, crate::dependency::TopicSpec>>,
    /// kafka in-cluster: `strimzi` renders Strimzi `Kafka`, `KafkaNodePool` and `KafkaTopic`
    /// resources for the Strimzi operator instead of berth's own StatefulSet and topic Job.
    #[serde(default)]
    pub operator: Option<crate::dependency::KafkaOperator>,
    /// redis/valkey in-cluster: `aof` (default: append-only file, fsync every second) or `rdb`
    /// (snapshots only).
    #[serde(default)]
    pub persistence: Option<crate::dependency::Persistence>,
    /// managed redis/valkey: the endpoint is a Redis Cluster (ElastiCache cluster mode enabled,
    /// Memorystore Cluster, Azure Cache clustering): clients must speak the cluster protocol.
    #[serde(rename = "cluster-mode", default)]
    pub cluster_mode: Option<bool>,
    /// managed: the provider — elasticache, memorystore, azure-cache (redis/valkey); msk,
    /// confluent, event-hubs (kafka). Sets the usual port, TLS and SASL mechanism.
    #[serde(default)]
    pub provider: Option<crate::dependency::Provider>,
    /// managed kafka: SASL authentication (`{ mechanism: scram-sha-512, username: app }`); the
    /// password comes through the environment's secret mode.
    #[serde(default)]
    pub sasl: Option<crate::dependency::SaslSpec>,
    /// In-cluster postgres, redis, valkey, kafka: the metrics exporter (a sidecar, Patroni's own
    /// REST API, Strimzi's Kafka Exporter) and its PodMonitor and alerts (default `true`);
    /// `false` renders none of them. See docs/operate.md.
    #[serde(default)]
    pub metrics: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DependencyKind {
    Postgres,
    Mysql,
    Mariadb,
    Redis,
    Valkey,
    Kafka,
    Mongodb,
    Rabbitmq,
    Elasticsearch,
    Memcached,
    Nats,
    Http,
    Tcp,
}

impl DependencyKind {
    pub const ALL: &[DependencyKind] = &[
        DependencyKind::Postgres,
        DependencyKind::Mysql,
        DependencyKind::Mariadb,
        DependencyKind::Redis,
        DependencyKind::Valkey,
        DependencyKind::Kafka,
        DependencyKind::Mongodb,
        DependencyKind::Rabbitmq,
        DependencyKind::Elasticsearch,
        DependencyKind::Memcached,
        DependencyKind::Nats,
        DependencyKind::Http,
        DependencyKind::Tcp,
    ];
    pub fn default_port(self) -> Option<u16> {
        crate::dependency::catalogue::entry(self).port
    }
    pub fn as_str(self) -> &'static str {
        match self {
            DependencyKind::Postgres => "postgres",
            DependencyKind::Mysql => "mysql",
            DependencyKind::Mariadb => "mariadb",
            DependencyKind::Redis => "redis",
            DependencyKind::Valkey => "valkey",
            DependencyKind::Kafka => "kafka",
            DependencyKind::Mongodb => "mongodb",
            DependencyKind::Rabbitmq => "rabbitmq",
            DependencyKind::Elasticsearch => "elasticsearch",
            DependencyKind::Memcached => "memcached",
            DependencyKind::Nats => "nats",
            DependencyKind::Http => "http",
            DependencyKind::Tcp => "tcp",
        }
    }
}

/// One environment: where it deploys, and what differs from the base spec.
///
/// Merge rules: mappings merge key by key, lists replace, `null` removes.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    /// Namespace to deploy into (default `<app>-<environment>`).
    #[serde(default)]
    pub namespace: Option<String>,
    /// `dev`, `staging` or `prod` (default from the name: dev/development/local → dev,
    /// prod/production → prod, anything else → staging). Untagged or `latest` images are errors outside dev.
    #[serde(default)]
    pub tier: Option<Tier>,
    /// Run every service with exactly this many replicas, without autoscaling.
    #[serde(default)]
    pub replicas: Option<u32>,
    /// Override of the registry.
    #[serde(default)]
    pub registry: Option<String>,
    /// Override of the default image tag.
    #[serde(default)]
    pub version: Option<String>,
    /// Override of the ingress settings.
    #[serde(default)]
    pub ingress: Option<IngressSettings>,
    /// Override of the monitoring settings (`{ scrape: annotations }`).
    #[serde(default)]
    pub monitoring: Option<crate::observe::MonitoringSettings>,
    /// Per-service overrides (any service field; `null` removes a field).
    #[serde(default)]
    pub services: Option<IndexMap<String, Option<Service>>>,
    /// Per-dependency overrides.
    #[serde(default)]
    pub dependencies: Option<IndexMap<String, Option<Dependency>>>,
    /// Namespace groups → namespace names (`{ services: shop-svc }`); an unmapped group goes to
    /// `NAMESPACE-GROUP`.
    #[serde(default)]
    pub namespaces: Option<IndexMap<String, String>>,
    /// StorageClass of this environment's persistent volumes (a volume's own `class` wins;
    /// default: the cluster's default class).
    #[serde(rename = "storage-class", default)]
    pub storage_class: Option<String>,
    /// How the values of the services' `secrets` reach the cluster in this environment (without
    /// it, the workloads only reference the Secret `NAME-secrets`, created outside berth).
    #[serde(default)]
    pub secrets: Option<SecretsSettings>,
    /// Render a ResourceQuota and LimitRange per namespace from the capacity plan's maximum
    /// (`berth capacity`), so the namespace cannot outgrow its plan (default false).
    #[serde(default)]
    pub quota: Option<bool>,
}

/// How an environment delivers secret values: `plain` (a Secret from a dotenv file; dev only),
/// `sealed` (SealedSecrets from committed, per-key sealed files) or `external` (ExternalSecrets
/// that the External Secrets Operator fills from a secret store).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretsSettings {
    /// `plain`, `sealed` or `external`.
    pub mode: SecretMode,
    /// `plain`: the dotenv file (`KEY=value` lines) holding the values, relative to berth.yaml.
    #[serde(default)]
    pub from: Option<String>,
    /// `sealed`: the Sealed Secrets controller's certificate (PEM), relative to berth.yaml.
    #[serde(default)]
    pub cert: Option<String>,
    /// `sealed`: directory of sealed values, one file per key: `VALUES/SERVICE/KEY`.
    #[serde(default)]
    pub values: Option<String>,
    /// `external`: name of the SecretStore or ClusterSecretStore.
    #[serde(default)]
    pub store: Option<String>,
    /// `external`: `ClusterSecretStore` (default) or `SecretStore`.
    #[serde(rename = "storeKind", default)]
    pub store_kind: Option<StoreKind>,
    /// `external`: prefix of the remote keys; service `NAME` reads key `PATH/NAME`, one property per secret.
    #[serde(default)]
    pub path: Option<String>,
    /// `external`: how often the operator refreshes the values, a duration such as `1h` or `15m` (default `1h`).
    #[serde(default)]
    pub refresh: Option<String>,
}

/// How secret values are delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SecretMode {
    /// A plain Secret from a dotenv file (dev only, unless `--allow-plain-secrets`).
    Plain,
    /// A SealedSecret (Bitnami Sealed Secrets) from sealed files committed with the spec.
    Sealed,
    /// An ExternalSecret (External Secrets Operator) per service.
    External,
}

impl SecretMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SecretMode::Plain => "plain",
            SecretMode::Sealed => "sealed",
            SecretMode::External => "external",
        }
    }
}

/// The kind of External Secrets store an ExternalSecret reads from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
pub enum StoreKind {
    #[default]
    ClusterSecretStore,
    SecretStore,
}

impl StoreKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StoreKind::ClusterSecretStore => "ClusterSecretStore",
            StoreKind::SecretStore => "SecretStore",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Dev,
    Staging,
    Prod,
}

impl Tier {
    pub fn from_env_name(name: &str) -> Tier {
        match name {
            "dev" | "development" | "local" => Tier::Dev,
            "prod" | "production" | "live" => Tier::Prod,
            _ => Tier::Staging,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Dev => "dev",
            Tier::Staging => "staging",
            Tier::Prod => "prod",
        }
    }
}

/// Keys of an environment that override the base spec (the rest are the environment's own settings).
pub(crate) const OVERRIDE_KEYS: &[&str] = &[
    "registry",
    "version",
    "ingress",
    "monitoring",
    "services",
    "dependencies",
];

#[cfg(test)]
mod argocd_settings_tests {
    use super::ImageUpdateStrategy;
    use crate::load_str;
    use std::path::Path;

    const BASE: &str = "app: shop\nversion: 1.0.0\nservices:\n  web: { image: web, port: 80 }\nenvironments:\n  dev: {}\n";

    fn load(extra: &str) -> Result<crate::Loaded, crate::SpecErrors> {
        load_str(Path::new("berth.yaml"), &format!("{BASE}{extra}"), &|_| {
            Ok(Vec::new())
        })
    }

    #[test]
    fn image_updater_is_optional_and_checked() {
        assert!(load("").unwrap().spec.argocd.is_none());
        let loaded = load("argocd: { image-updater: newest-build }\n").unwrap();
        assert_eq!(
            loaded.spec.argocd.unwrap().image_updater,
            Some(ImageUpdateStrategy::NewestBuild)
        );
        let errors = load("argocd: { image-updater: newest }\n").unwrap_err();
        assert!(
            errors.errors[0].to_string().contains("newest"),
            "{:?}",
            errors.errors
        );
        assert!(load("argocd: { image-update: semver }\n").is_err());
    }
}

#[cfg(test)]
mod monitoring_settings_tests {
    use crate::load_str;
    use crate::observe::ScrapeMode;
    use std::path::Path;

    const BASE: &str = "app: shop\nversion: 1.0.0\nservices:\n  web: { image: web, port: 80, metrics: { path: /m } }\n  api: { image: api, port: 81, metrics: { scrape: annotations } }\ndependencies:\n  cache: { type: redis }\n";

    fn load(extra: &str) -> Result<crate::Loaded, crate::SpecErrors> {
        load_str(Path::new("berth.yaml"), &format!("{BASE}{extra}"), &|_| {
            Ok(Vec::new())
        })
    }

    #[test]
    fn scrape_mode_is_app_wide_per_environment_and_per_service() {
        let loaded = load(
            "monitoring: { scrape: annotations }\nenvironments:\n  dev: {}\n  prod:\n    monitoring: { scrape: prometheus-operator }\n    dependencies: { cache: { metrics: false } }\n",
        )
        .unwrap();
        let app = |e: &str| loaded.apps.iter().find(|a| a.env == e).unwrap();
        let svc = |e: &str, s: &str| {
            let a = app(e);
            a.scrape_mode(a.services.iter().find(|x| x.name == s).unwrap())
        };
        assert_eq!(app("dev").scrape, ScrapeMode::Annotations);
        assert_eq!(app("prod").scrape, ScrapeMode::PrometheusOperator);
        assert_eq!(svc("prod", "web"), ScrapeMode::PrometheusOperator);
        assert_eq!(
            svc("prod", "api"),
            ScrapeMode::Annotations,
            "the service's own wins"
        );
        let metrics = |e: &str| app(e).dependencies[0].server.as_ref().unwrap().metrics;
        assert!(metrics("dev"), "exporters are on by default");
        assert!(!metrics("prod"));
        let web = app("dev")
            .services
            .iter()
            .find(|x| x.name == "web")
            .unwrap();
        assert_eq!(
            crate::metrics_port(web),
            Some(80),
            "the service's port by default"
        );
    }

    #[test]
    fn a_misspelt_scrape_mode_is_an_error() {
        let errors = load("monitoring: { scrape: annotation }\n").unwrap_err();
        assert!(
            errors.errors[0].to_string().contains("annotation"),
            "{:?}",
            errors.errors
        );
        assert!(load("monitoring: { scrap: annotations }\n").is_err());
        let errors =
            load("environments:\n  dev:\n    dependencies: { cache: { metrics: maybe } }\n")
                .unwrap_err();
        assert!(
            errors.errors[0].to_string().contains("metrics"),
            "{:?}",
            errors.errors
        );
    }
}
