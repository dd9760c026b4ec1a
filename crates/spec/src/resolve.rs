//! The resolved app of one environment: every default applied, every reference checked, every
//! image resolved. The renderer reads only this.

use crate::error::SpecError;
use crate::model::{Environment, Spec, Tier};
use crate::quantity::ResourcePair;
use crate::validate::Ctx;
use std::path::Path;

pub const DEFAULT_USER: u32 = 10001;
pub const DEFAULT_GRACE_SECONDS: u32 = 30;
pub const DEFAULT_REPLICAS: u32 = 2;
pub const DEFAULT_CONFIG_MOUNT: &str = "/config";
pub const DEFAULT_INGRESS_CLASS: &str = "nginx";
pub const DEFAULT_INGRESS_NAMESPACE: &str = "ingress-nginx";
pub const DEFAULT_ISSUER: &str = "letsencrypt-prod";

#[derive(Debug, Clone, PartialEq)]
pub struct App {
    pub name: String,
    pub env: String,
    pub tier: Tier,
    pub namespace: String,
    /// The spec's `version` (the app version label), if any.
    pub version: Option<String>,
    pub ingress: Ingress,
    /// Every namespace the environment deploys into: `namespace` first, then the namespace
    /// groups' (each name once).
    pub namespaces: Vec<crate::placement::NamespaceGroup>,
    pub services: Vec<ResolvedService>,
    pub dependencies: Vec<ResolvedDependency>,
    /// How the services' secrets are delivered (the environment's `secrets:` block).
    pub secrets: crate::secrets::SecretDelivery,
    /// The environment's `quota`: render a ResourceQuota and LimitRange from the capacity plan.
    pub quota: bool,
    /// How Prometheus finds the scrape targets (`monitoring.scrape`, default the
    /// prometheus-operator's ServiceMonitors/PodMonitors); a service's `metrics.scrape` wins.
    pub scrape: crate::observe::ScrapeMode,
    /// Things the user should know that are not errors (e.g. an ambiguous image name).
    pub warnings: Vec<SpecWarning>,
    /// App-wide Dapr settings (used when a service has a sidecar).
    pub dapr: Option<crate::dapr::ResolvedDaprApp>,
}

impl App {
    /// How Prometheus finds `svc`'s metrics: its own `metrics.scrape`, else the app's.
    pub fn scrape_mode(&self, svc: &ResolvedService) -> crate::observe::ScrapeMode {
        svc.metrics
            .as_ref()
            .and_then(|m| m.scrape)
            .unwrap_or(self.scrape)
    }
}

/// The container port `svc`'s metrics are served on: `metrics.port` (a number, or the name of
/// one of its ports), else its first port.
pub fn metrics_port(svc: &ResolvedService) -> Option<u16> {
    let m = svc.metrics.as_ref()?;
    match &m.port {
        Some(crate::observe::PortRef::Number(n)) => Some(*n),
        Some(crate::observe::PortRef::Name(name)) => {
            svc.ports.iter().find(|p| &p.name == name).map(|p| p.port)
        }
        None => svc.port,
    }
}

/// A warning about the spec, with the spec path it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecWarning {
    pub path: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Ingress {
    pub class: String,
    pub namespace: String,
    pub issuer: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedService {
    pub name: String,
    pub image: ImageRef,
    /// The first port's container port (the whole list is `ports`).
    pub port: Option<u16>,
    /// Every port, in the spec's order (`port: N` is one port named `http`).
    pub ports: Vec<crate::ports::ResolvedPort>,
    pub command: Option<Vec<String>>,
    pub args: Option<Vec<String>>,
    pub ready: Option<crate::probes::ResolvedProbe>,
    pub live: Option<crate::probes::ResolvedProbe>,
    pub startup: Option<crate::probes::ResolvedProbe>,
    pub expose: Option<crate::expose::Exposure>,
    /// Labels, annotations and downward-API variables the service asked for.
    pub meta: crate::podmeta::PodMeta,
    /// Services this one calls (they have ports).
    pub uses_services: Vec<String>,
    /// Dependencies this one calls.
    pub uses_dependencies: Vec<String>,
    /// PostgreSQL databases it connects to (dependency, database), in `uses` order.
    pub uses_databases: Vec<(String, String)>,
    /// Its schema migrations (one Job each).
    pub migrations: Vec<crate::dependency::postgres::ResolvedMigration>,
    /// Plain environment: connection variables for what it uses, then the spec's `env` (which wins).
    pub env: Vec<(String, String)>,
    pub secrets: Vec<String>,
    /// Config files: name in the container → content.
    pub files: Vec<(String, Vec<u8>)>,
    pub config_mount: String,
    pub cpu: ResourcePair,
    pub memory: ResourcePair,
    /// Replicas (the autoscaler's minimum when it scales).
    pub replicas: u32,
    pub autoscale: Option<Autoscale>,
    /// Writable emptyDirs with their sizes.
    pub writable: Vec<crate::storage::WritablePath>,
    pub user: u32,
    pub grace_seconds: u32,
    /// The config-sync sidecar, when `config.source` is set.
    pub sync: Option<crate::sync::ConfigSync>,
    /// Persistent volumes; not empty means the service runs as a StatefulSet.
    pub storage: Vec<crate::storage::ResolvedVolume>,
    /// StatefulSet settings (Some exactly when `storage` is not empty).
    pub stateful: Option<crate::storage::StatefulSettings>,
    /// Secret keys mounted as files.
    pub secret_files: Vec<crate::storage::SecretFile>,
    /// The one-shot `init` command (run in the service's own container spec).
    pub init: Option<Vec<String>>,
    pub init_containers: Vec<crate::containers::ResolvedContainer>,
    pub sidecars: Vec<crate::containers::ResolvedContainer>,
    /// The namespace the service's objects go to.
    pub namespace: String,
    /// Its namespace group, if it names one.
    pub namespace_group: Option<String>,
    /// The adopted selector (`adopt.selector`), which replaces berth's selector labels.
    pub adopt_selector: Option<std::collections::BTreeMap<String, String>>,
    /// Where its metrics are scraped.
    pub metrics: Option<crate::observe::Metrics>,
    /// Its objectives.
    pub slo: Option<crate::observe::Slo>,
    /// Its Dapr sidecar, when on.
    pub dapr: Option<crate::dapr::ResolvedDapr>,
}

impl ResolvedService {
    /// Every key of the service's Secret: `secrets` (set as environment variables), then the
    /// keys only `secret_files` reads.
    pub fn secret_keys(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = self.secrets.iter().map(String::as_str).collect();
        for f in &self.secret_files {
            if !keys.contains(&f.key.as_str()) {
                keys.push(&f.key);
            }
        }
        keys
    }

    /// Runs as a StatefulSet (it has persistent volumes).
    pub fn is_stateful(&self) -> bool {
        !self.storage.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Autoscale {
    pub min: u32,
    pub max: u32,
    pub cpu: Option<u8>,
    pub memory: Option<u8>,
    /// Pods and External metrics.
    pub metrics: Vec<crate::metrics::CustomMetric>,
}

impl ResolvedService {
    /// The lowest container port below 1024, which a non-root container may bind only with
    /// `net.ipv4.ip_unprivileged_port_start` lowered to it.
    pub fn privileged_port(&self) -> Option<u16> {
        self.ports
            .iter()
            .map(|p| p.port)
            .filter(|p| *p < 1024)
            .min()
    }
}

pub use crate::dependency::postgres::ResolvedDependency;

/// An image reference split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// Repository including registry, without tag or digest.
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl std::fmt::Display for ImageRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// Resolves `image` against the registry and default version (see [`crate::resolve_image`]
/// for the rule).
pub fn image_ref(image: &str, registry: Option<&str>, version: Option<&str>) -> ImageRef {
    crate::images::resolve_image(image, registry, version).0
}

/// The registry that applies to a service: its own `registry` (`none`: no prefix), else the spec's.
pub(crate) fn service_registry<'a>(
    spec: &'a Spec,
    svc: &'a crate::model::Service,
) -> Option<&'a str> {
    match svc.registry.as_deref() {
        Some("none") => None,
        Some(r) => Some(r),
        None => spec.registry.as_deref(),
    }
}

/// `APP-ENV`; a spec without environments deploys into a namespace named after the app.
pub(crate) fn default_namespace(app: &str, ctx: &Ctx) -> String {
    if ctx.env_root.is_none() {
        app.to_owned()
    } else {
        format!("{app}-{}", ctx.env)
    }
}

pub(crate) fn tier_of(env_name: &str, env: &Environment) -> Tier {
    env.tier.unwrap_or_else(|| Tier::from_env_name(env_name))
}

/// `postgres` → `POSTGRES`, `recurring-tasks` → `RECURRING_TASKS`.
pub fn env_prefix(name: &str) -> String {
    name.to_ascii_uppercase().replace('-', "_")
}

pub(crate) fn resolve(
    ctx: &Ctx,
    spec: &Spec,
    env: &Environment,
    read_file: &dyn Fn(&Path) -> std::io::Result<Vec<u8>>,
) -> Result<App, Vec<SpecError>> {
    let mut errors = Vec::new();
    let tier = tier_of(ctx.env, env);
    let ingress_spec = spec.ingress.clone().unwrap_or_default();
    let ingress = Ingress {
        class: ingress_spec
            .class
            .unwrap_or_else(|| DEFAULT_INGRESS_CLASS.into()),
        namespace: ingress_spec
            .namespace
            .unwrap_or_else(|| DEFAULT_INGRESS_NAMESPACE.into()),
        issuer: ingress_spec.issuer.unwrap_or_else(|| DEFAULT_ISSUER.into()),
    };
    let dependencies =
        crate::dependency::postgres::resolve_dependencies(ctx, spec, tier, read_file, &mut errors);
    let mut migrations =
        crate::dependency::postgres::resolve_migrations(ctx, spec, &dependencies, &mut errors);

    let namespace = env
        .namespace
        .clone()
        .unwrap_or_else(|| default_namespace(&spec.app, ctx));
    let namespace_of = |svc: &crate::model::Service| match &svc.namespace {
        Some(g) => crate::placement::group_namespace(env, &namespace, g),
        None => namespace.clone(),
    };

    let mut services = Vec::new();
    let mut warnings = Vec::new();
    let mut ports_of = std::collections::HashMap::new();
    for (name, svc) in &spec.services {
        let written = svc.image.as_deref().unwrap_or_default();
        let (image, note) = crate::images::resolve_image(
            written,
            service_registry(spec, svc),
            spec.version.as_deref(),
        );
        if note == crate::images::ImageNote::AmbiguousOfficial {
            warnings.push(SpecWarning {
                path: format!("services.{name}.image"),
                message: format!(
                    "`{written}` is also a Docker Hub official image; berth resolves it as one of this app's own images, to `{image}` (write `{written}:TAG` for Docker Hub's{})",
                    if service_registry(spec, svc).is_some() {
                        ", or set `registry: none` on the service"
                    } else {
                        ""
                    }
                ),
            });
        }
        let ports = crate::ports::resolve_ports(ctx, name, svc, &image.repository, &mut errors);
        ports_of.insert(name.clone(), (ports, image.repository.clone()));
    }
    for (name, svc) in &spec.services {
        let (ports, repository) = ports_of[name].clone();
        let (image, _) = crate::images::resolve_image(
            svc.image.as_deref().unwrap_or_default(),
            service_registry(spec, svc),
            spec.version.as_deref(),
        );
        debug_assert_eq!(image.repository, repository);
        let own_ns = namespace_of(svc);
        let uses: Vec<String> = svc.uses.clone().unwrap_or_default();
        let uses_services: Vec<String> = uses
            .iter()
            .filter(|u| spec.services.contains_key(*u))
            .cloned()
            .collect();
        let mut uses_dependencies: Vec<String> = Vec::new();
        let mut uses_databases: Vec<(String, String)> = Vec::new();
        for u in &uses {
            // `DEP` (every database of it) or `DEP/DATABASE`.
            let (dep, db) = match u.split_once('/') {
                Some((d, db)) => (d, Some(db)),
                None => (u.as_str(), None),
            };
            let Some(resolved) = dependencies.iter().find(|d| d.name == dep) else {
                continue;
            };
            if !uses_dependencies.iter().any(|d| d == dep) {
                uses_dependencies.push(dep.to_owned());
            }
            if let Some(pg) = &resolved.postgres {
                for name in &pg.databases {
                    if db.is_none_or(|db| db == name)
                        && !uses_databases.iter().any(|(d, n)| d == dep && n == name)
                    {
                        uses_databases.push((dep.to_owned(), name.clone()));
                    }
                }
            }
        }

        let mut vars: Vec<(String, String)> = Vec::new();
        for used in &uses_dependencies {
            if let Some(d) = dependencies.iter().find(|d| &d.name == used) {
                // External: the in-cluster name (an ExternalName Service) stays stable when the
                // endpoint moves. In-cluster: the Service clients use (writer or pooler).
                // Managed: the endpoint itself, which its TLS certificate names.
                let host = match d.mode {
                    crate::dependency::DependencyMode::External => {
                        crate::placement::service_host(used, &namespace, &own_ns)
                    }
                    crate::dependency::DependencyMode::InCluster => {
                        crate::placement::service_host(&d.host, &namespace, &own_ns)
                    }
                    crate::dependency::DependencyMode::Managed => d.host.clone(),
                };
                vars.extend(crate::connect::resolved_dependency_vars(
                    d, &host, &namespace,
                ));
            }
        }
        for used in &uses_services {
            let (used_ports, used_repo) = &ports_of[used];
            let host =
                crate::placement::service_host(used, &namespace_of(&spec.services[used]), &own_ns);
            vars.extend(crate::ports::service_vars(
                used, &host, used_ports, used_repo,
            ));
        }
        for (k, v) in svc.env.iter().flatten() {
            let Some(v) = v else { continue };
            vars.retain(|(existing, _)| existing != k);
            vars.push((k.clone(), v.clone()));
        }

        let mut files = Vec::new();
        if let Some(config) = &svc.config {
            for (file_name, rel) in config.files.iter().flatten() {
                let Some(rel) = rel else { continue };
                if file_name.contains('/') || file_name.starts_with('.') || file_name.is_empty() {
                    errors.push(ctx.err(
                        &["services", name, "config", "files", file_name],
                        format!("`{file_name}` is not a plain file name"),
                        Some("use a name without `/` that does not start with `.`; set `config.mount` for the directory".into()),
                    ));
                    continue;
                }
                match read_file(Path::new(rel)) {
                    Ok(bytes) => files.push((file_name.clone(), bytes)),
                    Err(e) => errors.push(ctx.err(
                        &["services", name, "config", "files", file_name],
                        format!("cannot read config file `{rel}`: {e}"),
                        Some("paths are relative to the directory holding berth.yaml".into()),
                    )),
                }
            }
        }

        let mut sync = None;
        if let Some(config) = &svc.config
            && let Some(source) = &config.source
        {
            if config.files.as_ref().is_some_and(|f| !f.is_empty()) {
                errors.push(ctx.err(
                    &["services", name, "config", "source"],
                    "`config.source` and `config.files` cannot be used together",
                    Some("publish the files to the source instead, or drop `source` to ship them in a ConfigMap".into()),
                ));
            }
            match crate::sync::parse(
                source,
                config.reload.as_deref(),
                svc.command.as_deref(),
                config.validate.as_deref(),
                config.identity.as_deref(),
                config.sidecar.as_deref(),
            ) {
                Ok(s) => sync = Some(s),
                Err((field, message, help)) => {
                    errors.push(ctx.err(&["services", name, "config", field], message, help))
                }
            }
        } else if let Some(config) = &svc.config {
            for field in ["reload", "validate", "identity", "sidecar"] {
                let set = match field {
                    "reload" => config.reload.is_some(),
                    "validate" => config.validate.is_some(),
                    "identity" => config.identity.is_some(),
                    _ => config.sidecar.is_some(),
                };
                if set {
                    errors.push(ctx.err(
                        &["services", name, "config", field],
                        format!("`config.{field}` only applies with `config.source`"),
                        Some("add `source: s3://BUCKET/PREFIX` (or gs://, az://, file://), or remove it".into()),
                    ));
                }
            }
        }

        if sync.is_some()
            && let Some(p) = ports
                .iter()
                .find(|p| p.name == crate::sync::SYNC_PORT_NAME || p.port == crate::sync::SYNC_PORT)
        {
            errors.push(ctx.err(
                &["services", name, "ports", &p.name],
                format!(
                    "port `{}` ({}) is taken by the config-sync sidecar (`{}`, {})",
                    p.name,
                    p.port,
                    crate::sync::SYNC_PORT_NAME,
                    crate::sync::SYNC_PORT
                ),
                Some("give the port another name and number".into()),
            ));
        }

        let resources = svc.resources.clone().unwrap_or_default();
        let cpu = resources
            .cpu
            .unwrap_or_else(|| ResourcePair::parse("100m/500m").expect("valid default"));
        let memory = resources
            .memory
            .unwrap_or_else(|| ResourcePair::parse("128Mi/256Mi").expect("valid default"));

        let (replicas, autoscale) = match (env.replicas, &svc.scale) {
            (Some(n), _) => (n, None),
            (None, Some(scale)) => {
                let min = scale.min.unwrap_or(DEFAULT_REPLICAS);
                let max = scale.max.unwrap_or(min);
                let metrics = crate::metrics::resolve_metrics(
                    ctx,
                    name,
                    scale.metrics.as_deref().unwrap_or_default(),
                    &mut errors,
                );
                let auto = (max > min).then(|| Autoscale {
                    min,
                    max,
                    cpu: scale.cpu.map(|p| p.0),
                    memory: scale.memory.map(|p| p.0),
                    metrics,
                });
                (min, auto)
            }
            (None, None) => (svc.replicas.unwrap_or(DEFAULT_REPLICAS), None),
        };

        let stored = crate::storage::resolve(svc, env);
        let health = svc.health.clone().unwrap_or_default();
        let mut probe = |key: &str, p: &Option<crate::probes::Probe>| {
            p.as_ref()
                .and_then(|p| crate::probes::resolve_probe(ctx, name, key, p, &ports, &mut errors))
        };
        let ready = probe("ready", &health.ready);
        let live = probe("live", &health.live);
        let startup = probe("startup", &health.startup);
        let expose = svc
            .expose
            .as_ref()
            .and_then(|e| crate::expose::resolve_expose(ctx, name, e, &ports, &mut errors));
        let meta = crate::podmeta::resolve_pod_meta(ctx, name, svc, &mut errors);
        for (var, _) in &meta.pod_env {
            vars.retain(|(existing, _)| existing != var);
        }
        services.push(ResolvedService {
            name: name.clone(),
            image,
            port: ports.first().map(|p| p.port),
            ports,
            command: svc.command.clone(),
            args: svc.args.clone(),
            ready,
            live,
            startup,
            expose,
            meta,
            uses_services,
            uses_dependencies,
            uses_databases,
            migrations: {
                let mine: Vec<_> = migrations
                    .iter()
                    .filter(|(s, _)| s == name)
                    .map(|(_, m)| m.clone())
                    .collect();
                migrations.retain(|(s, _)| s != name);
                mine
            },
            env: vars,
            secrets: svc.secrets.clone().unwrap_or_default(),
            files,
            config_mount: svc
                .config
                .as_ref()
                .and_then(|c| c.mount.clone())
                .unwrap_or_else(|| DEFAULT_CONFIG_MOUNT.into()),
            cpu,
            memory,
            replicas,
            autoscale,
            writable: stored.writable,
            user: svc.user.unwrap_or(DEFAULT_USER),
            grace_seconds: svc.grace.unwrap_or(DEFAULT_GRACE_SECONDS),
            sync,
            storage: stored.storage,
            stateful: stored.stateful,
            secret_files: stored.secret_files,
            init: svc.init.clone(),
            init_containers: crate::containers::resolve_all(&svc.init_containers),
            sidecars: crate::containers::resolve_all(&svc.sidecars),
            namespace: own_ns,
            namespace_group: svc.namespace.clone(),
            adopt_selector: crate::placement::adopted_selector(&svc.adopt),
            metrics: svc.metrics.clone(),
            slo: svc.slo.clone(),
            dapr: crate::dapr::resolve(ctx, spec, name, &mut errors),
        });
        if let Some(slo) = &svc.slo {
            for (key, value) in slo.latency.iter().flatten() {
                if let Err(message) = crate::observe::check_latency(key, value) {
                    errors.push(
                        ctx.err(
                            &["services", name, "slo", "latency", key],
                            message,
                            Some(
                                "write a percentile and a duration, e.g. `latency: { p99: 300ms }`"
                                    .into(),
                            ),
                        ),
                    );
                }
            }
            if slo.requests.is_none() && (slo.availability.is_some() || slo.latency.is_some()) {
                errors.push(ctx.err(
                    &["services", name, "slo"],
                    "an SLO needs `requests`, the PromQL selector of the request counter",
                    Some("e.g. `requests: 'http_requests_total{job=\"NAME\"}'`".into()),
                ));
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(App {
        name: spec.app.clone(),
        env: ctx.env.to_owned(),
        tier,
        namespaces: crate::placement::namespaces(spec, env, &namespace),
        namespace,
        version: spec.version.clone(),
        ingress,
        services,
        dependencies,
        secrets: Default::default(),
        quota: env.quota.unwrap_or(false),
        scrape: spec
            .monitoring
            .as_ref()
            .and_then(|m| m.scrape)
            .unwrap_or_default(),
        warnings,
        dapr: crate::dapr::resolve_app(spec),
    })
}
