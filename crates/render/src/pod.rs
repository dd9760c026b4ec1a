//! The one place a pod is hardened: every workload kind (Deployment, and whatever else runs a
//! container) builds its pod template with [`PodBuilder`], so security contexts, resources,
//! probes, volumes, env, sidecars and spreading are written once.
//!
//! Two entry points:
//! - [`PodBuilder::for_service`]: the pod of a berth service: its image, ports, probes, env
//!   from its ConfigMap and Secret, writable paths, config files, the config-sync sidecar,
//!   spreading over zones and nodes, and the config checksum annotation.
//! - [`PodBuilder::new`]: any other pod (a database, a migration Job, a `helm test` Pod). It
//!   starts with every hardening default and nothing else; add what it needs:
//!
//! ```
//! use berth_render::pod::{PodBuilder, RestartPolicy};
//! use k8s_openapi::api::core::v1::Container;
//!
//! let mut pod = PodBuilder::new("migrate", "ghcr.io/acme/api:1.2", 10001);
//! pod.restart_policy(RestartPolicy::OnFailure)
//!     .command(vec!["./migrate".into()])
//!     .resources(("50m", "500m"), ("64Mi", "256Mi"))
//!     .env("RUST_LOG", "info")
//!     .writable("/var/cache/migrate", 1024)
//!     .init_container(Container {
//!         name: "wait".into(),
//!         image: Some("ghcr.io/acme/api:1.2".into()),
//!         command: Some(vec!["./wait-for-db".into()]),
//!         ..Default::default()
//!     });
//! let template = pod.build();
//! let spec = template.spec.unwrap();
//! assert_eq!(spec.restart_policy.as_deref(), Some("OnFailure"));
//! // Hardened like the main container: same user, read-only root, no capabilities.
//! let init = &spec.init_containers.unwrap()[0];
//! assert_eq!(init.security_context.as_ref().unwrap().run_as_user, Some(10001));
//! ```
//!
//! A workload kind wraps the [`PodTemplateSpec`] from [`PodBuilder::build`] in its own object
//! (see `deployment.rs`); a bare Pod uses [`PodBuilder::build_pod`].

use crate::config_map::ServiceConfig;
use crate::labels::{pod_labels, selector};
use crate::origin::{ObjectOrigins, Origin, SpecPath, docs, spec_path};
use berth_spec::sync::{ConfigSync, SYNC_PORT};
use berth_spec::{App, ProbeAction, ResolvedProbe, ResolvedService};
use k8s_openapi::api::core::v1::{
    Affinity, Capabilities, ConfigMapEnvSource, ConfigMapVolumeSource, Container, ContainerPort,
    EmptyDirVolumeSource, EnvFromSource, EnvVar, EnvVarSource, ExecAction, GRPCAction,
    HTTPGetAction, HTTPHeader, KeyToPath, Lifecycle, LifecycleHandler, ObjectFieldSelector, Pod,
    PodAffinityTerm, PodAntiAffinity, PodSecurityContext, PodSpec, PodTemplateSpec,
    Probe as KProbe, ResourceRequirements, SeccompProfile, SecretKeySelector, SecretVolumeSource,
    SecurityContext, SleepAction, Sysctl, TCPSocketAction, TopologySpreadConstraint, Volume,
    VolumeMount, WeightedPodAffinityTerm,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

/// Pod annotation a Prometheus without the operator selects scrape targets by (with
/// `prometheus.io/port` and `prometheus.io/path`).
pub const SCRAPE_ANNOTATION: &str = "prometheus.io/scrape";

/// Pod template annotation: SHA-256 of a service's configuration, so a change rolls its pods.
pub const CHECKSUM_ANNOTATION: &str = "berth.dev/config-checksum";
/// Seconds a stopping pod keeps serving, so endpoints and load balancers stop sending to it first.
pub const PRESTOP_SLEEP_SECONDS: i64 = 5;
/// The emptyDir the config-sync sidecar writes versions into and the app reads them from.
pub const SYNC_VOLUME: &str = "berth-config";
pub const SYNC_CONTAINER: &str = "config-sync";
pub use berth_spec::sync::SYNC_PORT_NAME;

/// The pod volume holding a service's `secret-files`.
pub const SECRET_FILES_VOLUME: &str = "secret-files";
/// Name of the init container running a service's `init` command.
pub const INIT_CONTAINER: &str = "init";
/// Ephemeral storage (request, limit) of a user's init container or sidecar.
const EXTRA_EPHEMERAL: (&str, &str) = ("64Mi", "256Mi");

/// `/tmp` is an emptyDir of this size in every pod (the root filesystem is read-only).
const TMP_MIB: u64 = 256;
/// Ephemeral storage limit beyond the writable paths: logs and `/tmp`.
const EPHEMERAL_BASE_MIB: u64 = 512;
const EPHEMERAL_REQUEST: &str = "128Mi";

/// A pod's `restartPolicy`. `Always` is a long-running server (probes and a preStop sleep);
/// `OnFailure` and `Never` run to completion (Jobs, CronJobs, test Pods): no probes, no preStop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartPolicy {
    Always,
    OnFailure,
    Never,
}

impl RestartPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            RestartPolicy::Always => "Always",
            RestartPolicy::OnFailure => "OnFailure",
            RestartPolicy::Never => "Never",
        }
    }
}

/// Builds a hardened pod: see the [module docs](self).
///
/// Every pod gets: non-root user and group (`user`), `fsGroup`, seccomp `RuntimeDefault`, no
/// service account token, no service links; every container (main, init, sidecar): no privilege
/// escalation, read-only root filesystem, all capabilities dropped, `IfNotPresent` pulls,
/// `FallbackToLogsOnError`, a `/tmp` emptyDir, and resource requests and limits including
/// ephemeral storage (sized from the emptyDirs). Long-running pods also get probes with
/// default timings and a preStop sleep.
#[derive(Debug, Clone)]
pub struct PodBuilder {
    container: Container,
    user: u32,
    restart: RestartPolicy,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
    service_account: Option<String>,
    grace_seconds: Option<i64>,
    cpu: Option<(Quantity, Quantity)>,
    memory: Option<(Quantity, Quantity)>,
    env: Vec<EnvVar>,
    env_from: Vec<EnvFromSource>,
    volumes: Vec<Volume>,
    mounts: Vec<VolumeMount>,
    /// Sum of the writable emptyDirs, counted into the ephemeral storage limit.
    writable_mib: u64,
    writable_count: usize,
    init_containers: Vec<Container>,
    /// The one-shot `init` command: an init container like the main one, run last.
    init_command: Option<Vec<String>>,
    spread: Option<LabelSelector>,
    share_process_namespace: bool,
    sysctls: Vec<Sysctl>,
    /// Set when the pod mounts persistent volumes (`OnRootMismatch`).
    fs_group_change_policy: Option<String>,
    /// Where the values came from, by pointer into the pod template (`berth explain`).
    origins: ObjectOrigins,
}

impl PodBuilder {
    /// A pod running `image` as `name` (the main container's name) under UID/GID `user`, with
    /// every hardening default and nothing else: `restartPolicy: Always`, no ports, probes, env
    /// or service account. Resources default to a small request (10m CPU, 16Mi) and limit
    /// (100m, 64Mi) until [`resources`](Self::resources) sets them.
    pub fn new(name: &str, image: impl Into<String>, user: u32) -> PodBuilder {
        PodBuilder {
            container: Container {
                name: name.to_owned(),
                image: Some(image.into()),
                ..Default::default()
            },
            user,
            restart: RestartPolicy::Always,
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            service_account: None,
            grace_seconds: None,
            cpu: None,
            memory: None,
            env: Vec::new(),
            env_from: Vec::new(),
            volumes: vec![empty_dir("tmp", TMP_MIB)],
            mounts: vec![mount("tmp", "/tmp", false)],
            writable_mib: 0,
            writable_count: 0,
            init_containers: Vec::new(),
            init_command: None,
            spread: None,
            share_process_namespace: false,
            sysctls: Vec::new(),
            fs_group_change_policy: None,
            origins: ObjectOrigins::default(),
        }
    }

    /// Records where the field at `pointer` (into the pod template) came from; what the builder
    /// sets itself (hardening, default timings, `/tmp`) it records in [`build_traced`](Self::build_traced).
    pub fn origin(&mut self, pointer: &str, origin: Origin) -> &mut Self {
        self.origins.set(pointer, origin);
        self
    }

    /// The pod of a berth service: everything [`new`](Self::new) does, plus the service's
    /// command, port, probes, resources, secrets and ConfigMap env, writable paths, config
    /// files, config-sync sidecar, labels, checksum annotation, ServiceAccount, grace period
    /// and spreading.
    pub fn for_service(app: &App, svc: &ResolvedService, config: &ServiceConfig) -> PodBuilder {
        let mut b = PodBuilder::new(&svc.name, svc.image.to_string(), svc.user);
        let sp = |rest: &[&str]| service_path(svc, rest);
        b.origin("/spec/containers/0/name", Origin::spec(sp(&[])))
            .origin("/spec/containers/0/image", image_origin(svc, &sp));
        // The service's own labels and annotations go on the pod (never into the selector);
        // berth's own win over them.
        b.labels = svc.meta.labels.clone();
        // (an adopted selector's labels go on top: they must select the pod)
        b.labels.extend(pod_labels(app, svc));
        b.annotations = svc.meta.pod_annotations.clone();
        trace_meta(&mut b.origins, app, svc);
        b.annotation(CHECKSUM_ANNOTATION, &config.checksum)
            .service_account(&svc.name)
            .grace_seconds(svc.grace_seconds.into())
            .spread(selector(app, &svc.name));
        b.origin(
            "/spec/serviceAccountName",
            Origin::rule(
                "the service's own ServiceAccount",
                docs::RENDERS,
                vec![sp(&[])],
            ),
        )
        .origin(
            "/spec/terminationGracePeriodSeconds",
            Origin::spec_or_default(sp(&["grace"]), "30", docs::SERVICES),
        )
        .origin(
            "/spec/securityContext/runAsUser",
            Origin::spec_or_default(sp(&["user"]), "10001", docs::SERVICES),
        )
        .origin(
            "/spec/securityContext/runAsGroup",
            Origin::spec_or_default(sp(&["user"]), "10001", docs::SERVICES),
        )
        .origin(
            "/spec/securityContext/fsGroup",
            Origin::spec_or_default(sp(&["user"]), "10001", docs::SERVICES),
        );
        for field in ["runAsUser", "runAsGroup"] {
            b.origin(
                &format!("/spec/containers/0/securityContext/{field}"),
                Origin::spec_or_default(sp(&["user"]), "10001", docs::SERVICES),
            );
        }
        b.container.command = svc.command.clone();
        b.container.args = svc.args.clone();
        trace_list(
            &mut b.origins,
            "/spec/containers/0/command",
            &sp(&["command"]),
            svc.command.as_deref(),
        );
        trace_list(
            &mut b.origins,
            "/spec/containers/0/args",
            &sp(&["args"]),
            svc.args.as_deref(),
        );
        for (i, p) in svc.ports.iter().enumerate() {
            b.port_with_protocol(&p.name, p.port, p.protocol.transport());
            let at = format!("/spec/containers/0/ports/{i}");
            b.origin(
                &at,
                Origin::rule(
                    "a declared port",
                    docs::PORTS,
                    vec![sp(&["ports"]), sp(&["port"])],
                ),
            )
            .origin(
                &format!("{at}/containerPort"),
                Origin::Spec {
                    paths: vec![
                        sp(&["ports", &p.name, "port"]),
                        sp(&["ports", &p.name]),
                        sp(&["port"]),
                    ],
                    otherwise: None,
                },
            )
            .origin(
                &format!("{at}/name"),
                Origin::Spec {
                    paths: vec![sp(&["ports", &p.name])],
                    otherwise: Some(Box::new(Origin::rule(
                        "`port: N` is one port named `http` (or after a known server image)",
                        docs::SERVICES,
                        vec![sp(&["port"]), sp(&["image"])],
                    ))),
                },
            );
        }
        // A non-root container with every capability dropped cannot bind a port below 1024;
        // the namespaced safe sysctl (allowed by Pod Security `restricted`) lowers the bound to
        // the lowest port the service listens on.
        if let Some(lowest) = svc.privileged_port() {
            b.sysctl("net.ipv4.ip_unprivileged_port_start", &lowest.to_string());
            b.origin(
                "/spec/securityContext/sysctls",
                Origin::rule(
                    "a port below 1024 lowers the unprivileged port start to it",
                    docs::RENDERS,
                    vec![sp(&["ports"]), sp(&["port"])],
                ),
            );
        }
        b.cpu = Some((quantity(&svc.cpu.request), quantity(&svc.cpu.limit)));
        b.memory = Some((quantity(&svc.memory.request), quantity(&svc.memory.limit)));
        for (kind, res, default) in [
            ("requests", "cpu", "100m/500m"),
            ("limits", "cpu", "100m/500m"),
            ("requests", "memory", "128Mi/256Mi"),
            ("limits", "memory", "128Mi/256Mi"),
        ] {
            b.origin(
                &format!("/spec/containers/0/resources/{kind}/{res}"),
                Origin::spec_or_default(sp(&["resources", res]), default, docs::SERVICES),
            );
        }
        b.readiness(svc.ready.as_ref().map(probe))
            .liveness(svc.live.as_ref().map(probe))
            .startup(svc.startup.as_ref().map(probe));
        for (field, key, p, timings) in [
            ("readinessProbe", "ready", &svc.ready, ("5", "2", "3")),
            ("livenessProbe", "live", &svc.live, ("10", "5", "6")),
            ("startupProbe", "startup", &svc.startup, ("5", "2", "60")),
        ] {
            if let Some(p) = p {
                trace_probe(
                    &mut b.origins,
                    &format!("/spec/containers/0/{field}"),
                    &sp(&["health", key]),
                    p,
                    timings,
                );
            }
        }
        for (name, field_path) in &svc.meta.pod_env {
            let at = format!("/spec/containers/0/env/{}", b.env.len());
            b.origin(&format!("{at}/name"), Origin::spec(sp(&["pod-env", name])))
                .origin(
                    &at,
                    Origin::rule(
                        "a downward-API variable from `pod-env`",
                        docs::SERVICES,
                        vec![sp(&["pod-env", name])],
                    ),
                );
            b.env_var(EnvVar {
                name: name.clone(),
                value_from: Some(EnvVarSource {
                    field_ref: Some(ObjectFieldSelector {
                        field_path: field_path.clone(),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            });
        }
        if let Some(secret) = &config.secret_name {
            for (j, key) in svc.secrets.iter().enumerate() {
                let at = format!("/spec/containers/0/env/{}", b.env.len());
                b.origin(
                    &at,
                    Origin::rule(
                        "a secret variable, read from the service's Secret `NAME-secrets`",
                        docs::SECRETS,
                        vec![sp(&["secrets"])],
                    ),
                )
                .origin(
                    &format!("{at}/name"),
                    Origin::spec(sp(&["secrets", &j.to_string()])),
                )
                .origin(
                    &format!("{at}/valueFrom/secretKeyRef/key"),
                    Origin::spec(sp(&["secrets", &j.to_string()])),
                );
                b.env_var(EnvVar {
                    name: key.clone(),
                    value_from: Some(EnvVarSource {
                        secret_key_ref: Some(SecretKeySelector {
                            name: secret.clone(),
                            key: key.clone(),
                            optional: Some(false),
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                });
            }
        }
        if let Some(name) = &config.env_map {
            b.origin(
                "/spec/containers/0/envFrom",
                Origin::rule(
                    "the plain environment, from ConfigMap `NAME-env`",
                    docs::RENDERS,
                    vec![sp(&["env"]), sp(&["uses"])],
                ),
            );
            b.env_from.push(EnvFromSource {
                config_map_ref: Some(ConfigMapEnvSource {
                    name: name.clone(),
                    optional: Some(false),
                }),
                ..Default::default()
            });
        }
        // Connections to the databases it uses (PG*, DATABASE_URL) and their CA bundles.
        let wiring = crate::data::wiring(app, svc, &crate::data::service_connections(app, svc));
        for v in wiring.env {
            b.origin(
                &format!("/spec/containers/0/env/{}", b.env.len()),
                Origin::rule(
                    "a connection to a database it uses",
                    docs::DEPENDENCIES,
                    vec![sp(&["uses"])],
                ),
            );
            if let Ok(var) = serde_json::from_value::<EnvVar>(v) {
                b.env_var(var);
            }
        }
        for (v, m) in wiring.volumes.into_iter().zip(wiring.mounts) {
            if let (Ok(vol), Some(path)) =
                (serde_json::from_value::<Volume>(v), m["mountPath"].as_str())
            {
                b.trace_volume(Origin::rule(
                    "a database's CA bundle",
                    docs::DEPENDENCIES,
                    vec![sp(&["uses"])],
                ));
                b.volume(vol, path);
            }
        }
        for (i, w) in svc.writable.iter().enumerate() {
            let written = Origin::Spec {
                paths: vec![
                    sp(&["writable", &w.path]),
                    sp(&["writable", &i.to_string()]),
                ],
                otherwise: None,
            };
            let (v, m) = (b.volumes.len(), b.mounts.len());
            b.origin(
                &format!("/spec/volumes/{v}"),
                Origin::rule(
                    "a writable path: an emptyDir",
                    docs::SERVICES,
                    vec![sp(&["writable"])],
                ),
            )
            .origin(
                &format!("/spec/volumes/{v}/emptyDir/sizeLimit"),
                Origin::Spec {
                    paths: vec![sp(&["writable", &w.path])],
                    otherwise: Some(Box::new(Origin::Default {
                        value: "1Gi".into(),
                        doc: docs::SERVICES,
                    })),
                },
            )
            .origin(
                &format!("/spec/containers/0/volumeMounts/{m}"),
                Origin::rule(
                    "a writable path: an emptyDir",
                    docs::SERVICES,
                    vec![sp(&["writable"])],
                ),
            )
            .origin(
                &format!("/spec/containers/0/volumeMounts/{m}/mountPath"),
                written,
            );
            b.writable(&w.path, (w.size.value / 1048576.0).ceil() as u64);
        }
        if let Some(files) = &config.files_map {
            b.trace_volume(Origin::rule(
                "the config files, from ConfigMap `NAME-files`",
                docs::SERVICES,
                vec![sp(&["config", "files"])],
            ));
            b.origin(
                &format!(
                    "/spec/containers/0/volumeMounts/{}/mountPath",
                    b.mounts.len()
                ),
                Origin::spec_or_default(sp(&["config", "mount"]), "/config", docs::SERVICES),
            );
            b.volume(
                Volume {
                    name: "config".into(),
                    config_map: Some(ConfigMapVolumeSource {
                        name: files.clone(),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                &svc.config_mount,
            );
        }
        if let Some(sync) = &svc.sync {
            let rule = Origin::rule(
                "the config-sync sidecar (`config.source`)",
                docs::CONFIG_SYNC,
                vec![sp(&["config", "source"])],
            );
            b.trace_volume(rule.clone());
            let (env, init) = (b.env.len(), b.init_containers.len());
            b.origin(&format!("/spec/containers/0/env/{env}"), rule.clone())
                .origin(&format!("/spec/initContainers/{init}"), rule.clone())
                .origin("/spec/shareProcessNamespace", rule);
            // Not counted into the ephemeral limit: the sidecar's own limit covers what it writes.
            b.volume(empty_dir(SYNC_VOLUME, 256), &svc.config_mount);
            // The app reads the committed version through the `current` symlink the sidecar swaps.
            b.env("BERTH_CONFIG_DIR", format!("{}/current", svc.config_mount));
            b.sidecar(sync_sidecar(svc, sync));
            if sync.signal_by_name {
                b.share_process_namespace = true;
            }
        }
        // Persistent volumes come from the StatefulSet's volume claim templates.
        for v in &svc.storage {
            b.origin(
                &format!("/spec/containers/0/volumeMounts/{}", b.mounts.len()),
                Origin::rule(
                    "a persistent volume's mount",
                    docs::STORAGE,
                    vec![sp(&["storage", &v.path])],
                ),
            )
            .origin(
                "/spec/securityContext/fsGroupChangePolicy",
                Origin::rule(
                    "a pod with persistent volumes is re-chowned only on a root mismatch",
                    docs::STORAGE,
                    vec![sp(&["storage"])],
                ),
            );
            b.claim(&v.name, &v.path);
        }
        if let Some(secret) = &config.secret_name
            && !svc.secret_files.is_empty()
        {
            let rule = Origin::rule(
                "secret keys as files",
                docs::SERVICES,
                vec![sp(&["secret-files"])],
            );
            for m in b.mounts.len()..b.mounts.len() + svc.secret_files.len() {
                b.origin(
                    &format!("/spec/containers/0/volumeMounts/{m}"),
                    rule.clone(),
                );
            }
            b.trace_volume(rule);
            b.secret_files(secret, &svc.secret_files);
        }
        // Sidecars start first (an init container may use a proxy sidecar), then the named init
        // containers, then `init`.
        for (key, list, sidecar) in [
            ("sidecars", &svc.sidecars, true),
            ("init-containers", &svc.init_containers, false),
        ] {
            for c in list {
                let at = format!("/spec/initContainers/{}", b.init_containers.len());
                b.origin(
                    &at,
                    Origin::rule(
                        format!("the `{key}` entry `{}`", c.name),
                        docs::SERVICES,
                        vec![sp(&[key, &c.name])],
                    ),
                )
                .origin(&format!("{at}/name"), Origin::spec(sp(&[key, &c.name])));
                let container = b.extra_container(c, sidecar);
                if sidecar {
                    b.sidecar(container);
                } else {
                    b.init_container(container);
                }
            }
        }
        if let Some(cmd) = &svc.init {
            let at = format!("/spec/initContainers/{}", b.init_containers.len());
            b.origin(
                &at,
                Origin::rule(
                    "the `init` command: the service's own container, run once before it",
                    docs::SERVICES,
                    vec![sp(&["init"])],
                ),
            )
            .origin(
                &format!("{at}/name"),
                Origin::rule(
                    "the `init` container's name",
                    docs::SERVICES,
                    vec![sp(&["init"])],
                ),
            )
            .origin(&format!("{at}/image"), image_origin(svc, &sp));
            trace_list(
                &mut b.origins,
                &format!("{at}/command"),
                &sp(&["init"]),
                Some(cmd),
            );
            b.init_command(cmd.clone());
        }
        if app.scrape_mode(svc) == berth_spec::observe::ScrapeMode::Annotations
            && let (Some(m), Some(port)) = (&svc.metrics, berth_spec::metrics_port(svc))
        {
            // For a Prometheus without the operator (its kubernetes-pods job keeps pods that
            // carry these); the ServiceMonitor is left out of the monitoring output.
            let path = m.path.clone().unwrap_or_else(|| "/metrics".into());
            for (k, v, rest) in [
                (SCRAPE_ANNOTATION, "true".to_owned(), "scrape"),
                ("prometheus.io/port", port.to_string(), "port"),
                ("prometheus.io/path", path, "path"),
            ] {
                b.origin(
                    &format!("/metadata/annotations/{}", crate::origin::escape(k)),
                    Origin::rule(
                        "scrape annotations (`monitoring.scrape: annotations`)",
                        docs::OPERATE,
                        vec![
                            sp(&["metrics", rest]),
                            sp(&["metrics", "scrape"]),
                            spec_path(&["monitoring", "scrape"]),
                        ],
                    ),
                );
                b.annotation(k, &v);
            }
        }
        if let Some(d) = &svc.dapr {
            let rule = Origin::rule(
                "the Dapr sidecar's pod annotations and label",
                docs::DAPR,
                vec![sp(&["dapr"])],
            );
            for (k, v) in crate::dapr::pod_annotations(app, d) {
                b.origin(
                    &format!("/metadata/annotations/{}", crate::origin::escape(&k)),
                    rule.clone(),
                );
                b.annotation(&k, &v);
            }
            b.origin(
                &format!(
                    "/metadata/labels/{}",
                    crate::origin::escape(crate::dapr::POD_LABEL)
                ),
                rule,
            );
            b.label(crate::dapr::POD_LABEL, "true");
        }
        b
    }

    /// Mounts persistent volume `claim` (a volume claim template of the StatefulSet, so not a
    /// pod volume) at `path`, and lets the kubelet give it to the pod's group only when its
    /// root is not already theirs (`fsGroupChangePolicy: OnRootMismatch`): a large volume is not
    /// re-chowned on every start.
    pub fn claim(&mut self, claim: &str, path: &str) -> &mut Self {
        self.mounts.push(mount(claim, path, false));
        self.fs_group_change_policy = Some("OnRootMismatch".into());
        self
    }

    /// Keys of Secret `secret` as read-only files (mode 0400, readable by the pod's `fsGroup`),
    /// one secret volume with `items`, each file mounted by `subPath` so nothing the image has in
    /// that directory is hidden.
    pub fn secret_files(&mut self, secret: &str, files: &[berth_spec::SecretFile]) -> &mut Self {
        let mut items: Vec<KeyToPath> = Vec::new();
        for f in files {
            if !items.iter().any(|i| i.key == f.key) {
                items.push(KeyToPath {
                    key: f.key.clone(),
                    path: f.key.clone(),
                    ..Default::default()
                });
            }
            self.mounts.push(VolumeMount {
                name: SECRET_FILES_VOLUME.into(),
                mount_path: f.path.clone(),
                sub_path: Some(f.key.clone()),
                read_only: Some(true),
                ..Default::default()
            });
        }
        self.volumes.push(Volume {
            name: SECRET_FILES_VOLUME.into(),
            secret: Some(SecretVolumeSource {
                secret_name: Some(secret.into()),
                items: Some(items),
                default_mode: Some(0o400),
                optional: Some(false),
            }),
            ..Default::default()
        });
        self
    }

    /// A one-shot init container `init` running `command` in the main container's image, with
    /// its environment, mounts and resources; it runs after every other init container.
    pub fn init_command(&mut self, command: Vec<String>) -> &mut Self {
        self.init_command = Some(command);
        self
    }

    /// A user's init container or sidecar: its image, command, env, ports and resources, `/tmp`
    /// and the main container's mounts of the paths it names (hardening comes from
    /// [`init_container`](Self::init_container) / [`sidecar`](Self::sidecar)).
    fn extra_container(&self, c: &berth_spec::ResolvedContainer, sidecar: bool) -> Container {
        let mounts: Vec<VolumeMount> = c
            .mounts
            .iter()
            .filter_map(|path| self.mounts.iter().find(|m| &m.mount_path == path).cloned())
            .collect();
        let ports: Vec<ContainerPort> = c
            .ports
            .iter()
            .map(|(name, port)| ContainerPort {
                name: Some(name.clone()),
                container_port: (*port).into(),
                protocol: Some("TCP".into()),
                ..Default::default()
            })
            .collect();
        let env: Vec<EnvVar> = c
            .env
            .iter()
            .map(|(k, v)| EnvVar {
                name: k.clone(),
                value: Some(v.clone()),
                ..Default::default()
            })
            .collect();
        Container {
            name: c.name.clone(),
            image: Some(c.image.to_string()),
            command: c.command.clone(),
            args: c.args.clone(),
            env: (!env.is_empty()).then_some(env),
            ports: (sidecar && !ports.is_empty()).then_some(ports),
            resources: Some(ResourceRequirements {
                requests: Some(BTreeMap::from([
                    ("cpu".into(), quantity(&c.cpu.request)),
                    ("memory".into(), quantity(&c.memory.request)),
                    (
                        "ephemeral-storage".into(),
                        Quantity(EXTRA_EPHEMERAL.0.into()),
                    ),
                ])),
                limits: Some(BTreeMap::from([
                    ("cpu".into(), quantity(&c.cpu.limit)),
                    ("memory".into(), quantity(&c.memory.limit)),
                    (
                        "ephemeral-storage".into(),
                        Quantity(EXTRA_EPHEMERAL.1.into()),
                    ),
                ])),
                ..Default::default()
            }),
            volume_mounts: (!mounts.is_empty()).then_some(mounts),
            ..Default::default()
        }
    }

    /// `restartPolicy` of the pod (default `Always`). Anything but `Always` drops the probes and
    /// the preStop sleep: a pod that runs to completion is never taken out of rotation.
    pub fn restart_policy(&mut self, policy: RestartPolicy) -> &mut Self {
        self.restart = policy;
        self
    }

    /// The main container's command (the image's entrypoint when unset).
    pub fn command(&mut self, command: Vec<String>) -> &mut Self {
        self.container.command = Some(command);
        self
    }

    /// The main container's arguments.
    pub fn args(&mut self, args: Vec<String>) -> &mut Self {
        self.container.args = Some(args);
        self
    }

    /// A named TCP container port.
    pub fn port(&mut self, name: &str, port: u16) -> &mut Self {
        self.port_with_protocol(name, port, "TCP")
    }

    /// A named container port with its transport protocol (`TCP` or `UDP`).
    pub fn port_with_protocol(&mut self, name: &str, port: u16, protocol: &str) -> &mut Self {
        self.container
            .ports
            .get_or_insert_with(Vec::new)
            .push(ContainerPort {
                name: Some(name.into()),
                container_port: port.into(),
                protocol: Some(protocol.into()),
                ..Default::default()
            });
        self
    }

    /// A namespaced sysctl in the pod securityContext (only the safe ones belong here: Pod
    /// Security `restricted` refuses the rest).
    pub fn sysctl(&mut self, name: &str, value: &str) -> &mut Self {
        self.sysctls.push(Sysctl {
            name: name.into(),
            value: value.into(),
        });
        self
    }

    /// CPU and memory of the main container as `(request, limit)` quantities.
    pub fn resources(&mut self, cpu: (&str, &str), memory: (&str, &str)) -> &mut Self {
        self.cpu = Some((Quantity(cpu.0.into()), Quantity(cpu.1.into())));
        self.memory = Some((Quantity(memory.0.into()), Quantity(memory.1.into())));
        self
    }

    /// Readiness probe; the timings it leaves unset get the defaults (every 5 s, 2 s timeout,
    /// out of rotation after 3 failures).
    pub fn readiness(&mut self, probe: Option<KProbe>) -> &mut Self {
        self.container.readiness_probe = probe.map(|p| with_timings(p, 5, 2, 3));
        self
    }

    /// Liveness probe; default timings are slower to give up than readiness (every 10 s, 5 s
    /// timeout, 6 failures): a busy pod is taken out of rotation long before it would be killed.
    pub fn liveness(&mut self, probe: Option<KProbe>) -> &mut Self {
        self.container.liveness_probe = probe.map(|p| with_timings(p, 10, 5, 6));
        self
    }

    /// Startup probe; by default up to 5 minutes (60 × 5 s) before liveness takes over.
    pub fn startup(&mut self, probe: Option<KProbe>) -> &mut Self {
        self.container.startup_probe = probe.map(|p| with_timings(p, 5, 2, 60));
        self
    }

    /// A plain environment variable of the main container.
    pub fn env(&mut self, name: &str, value: impl Into<String>) -> &mut Self {
        self.env_var(EnvVar {
            name: name.into(),
            value: Some(value.into()),
            ..Default::default()
        })
    }

    /// Any environment variable of the main container (from a Secret key, the downward API…).
    pub fn env_var(&mut self, var: EnvVar) -> &mut Self {
        self.env.push(var);
        self
    }

    /// A writable path on the read-only root filesystem: an emptyDir of `size_mib` MiB, counted
    /// into the ephemeral storage limit.
    pub fn writable(&mut self, path: &str, size_mib: u64) -> &mut Self {
        let name = format!("writable-{}", self.writable_count);
        self.writable_count += 1;
        self.writable_mib += size_mib;
        self.volumes.push(empty_dir(&name, size_mib));
        self.mounts.push(mount(&name, path, false));
        self
    }

    /// A volume mounted read-only into the main container at `path`.
    pub fn volume(&mut self, volume: Volume, path: &str) -> &mut Self {
        self.mounts.push(mount(&volume.name, path, true));
        self.volumes.push(volume);
        self
    }

    /// A volume the pod carries without mounting it in the main container (for an init
    /// container or sidecar to mount), or with mounts added by [`mount`](Self::mount).
    pub fn extra_volume(&mut self, volume: Volume) -> &mut Self {
        self.volumes.push(volume);
        self
    }

    /// A mount of the main container (of a volume from [`extra_volume`](Self::extra_volume)
    /// or a StatefulSet's volume claim template).
    pub fn mount(&mut self, mount: VolumeMount) -> &mut Self {
        self.mounts.push(mount);
        self
    }

    /// A pod label (the selector labels of a workload go here).
    pub fn label(&mut self, key: &str, value: &str) -> &mut Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// A pod annotation.
    pub fn annotation(&mut self, key: &str, value: &str) -> &mut Self {
        self.annotations.insert(key.into(), value.into());
        self
    }

    /// The pod's ServiceAccount (its token is never mounted).
    pub fn service_account(&mut self, name: &str) -> &mut Self {
        self.service_account = Some(name.into());
        self
    }

    /// `terminationGracePeriodSeconds`.
    pub fn grace_seconds(&mut self, seconds: i64) -> &mut Self {
        self.grace_seconds = Some(seconds);
        self
    }

    /// Spread the pods `selector` matches over zones and nodes, and prefer nodes without one
    /// (never leaving a pod pending for it).
    pub fn spread(&mut self, selector: LabelSelector) -> &mut Self {
        self.spread = Some(selector);
        self
    }

    /// An init container, run to completion before the main container starts. Unless it sets
    /// them itself it gets the pod's user and hardened security context, `IfNotPresent`,
    /// `FallbackToLogsOnError`, the `/tmp` mount and the main container's resources.
    pub fn init_container(&mut self, container: Container) -> &mut Self {
        let c = self.harden(container);
        self.init_containers.push(c);
        self
    }

    /// A native sidecar (an init container with `restartPolicy: Always`): it starts before the
    /// main container, runs beside it and stops after it. Hardened as an
    /// [`init_container`](Self::init_container) is.
    pub fn sidecar(&mut self, container: Container) -> &mut Self {
        let mut c = self.harden(container);
        c.restart_policy = Some("Always".into());
        self.init_containers.push(c);
        self
    }

    /// What every extra container gets unless it says otherwise: the pod's user and the
    /// hardened security context, `IfNotPresent`, `FallbackToLogsOnError`, the `/tmp` mount,
    /// and (in [`build`](Self::build)) the main container's resources.
    fn harden(&self, mut c: Container) -> Container {
        c.security_context
            .get_or_insert_with(|| hardened(self.user));
        c.image_pull_policy
            .get_or_insert_with(|| "IfNotPresent".into());
        c.termination_message_policy
            .get_or_insert_with(|| "FallbackToLogsOnError".into());
        let mounts = c.volume_mounts.get_or_insert_with(Vec::new);
        if !mounts.iter().any(|m| m.mount_path == "/tmp") {
            mounts.push(mount("tmp", "/tmp", false));
        }
        c
    }

    fn main_resources(&self) -> ResourceRequirements {
        let (cpu_req, cpu_lim) = self
            .cpu
            .clone()
            .unwrap_or_else(|| (Quantity("10m".into()), Quantity("100m".into())));
        let (mem_req, mem_lim) = self
            .memory
            .clone()
            .unwrap_or_else(|| (Quantity("16Mi".into()), Quantity("64Mi".into())));
        ResourceRequirements {
            requests: Some(BTreeMap::from([
                ("cpu".into(), cpu_req),
                ("memory".into(), mem_req),
                (
                    "ephemeral-storage".into(),
                    Quantity(EPHEMERAL_REQUEST.into()),
                ),
            ])),
            limits: Some(BTreeMap::from([
                ("cpu".into(), cpu_lim),
                ("memory".into(), mem_lim),
                (
                    "ephemeral-storage".into(),
                    Quantity(format!("{}Mi", EPHEMERAL_BASE_MIB + self.writable_mib)),
                ),
            ])),
            ..Default::default()
        }
    }

    /// Records the origin of the next volume (and main-container mount) added.
    fn trace_volume(&mut self, origin: Origin) {
        self.origins
            .set(
                format!("/spec/volumes/{}", self.volumes.len()),
                origin.clone(),
            )
            .set(
                format!("/spec/containers/0/volumeMounts/{}", self.mounts.len()),
                origin,
            );
    }

    /// The pod template (labels, annotations and spec) for a workload object.
    pub fn build(self) -> PodTemplateSpec {
        self.build_traced().0
    }

    /// [`build`](Self::build), with the origins of the template's fields: those recorded with
    /// [`origin`](Self::origin) and those the builder sets itself (pointers into the template).
    pub fn build_traced(mut self) -> (PodTemplateSpec, ObjectOrigins) {
        let mut o = std::mem::take(&mut self.origins);
        let template = self.build_untraced(&mut o);
        (template, o)
    }

    fn build_untraced(self, o: &mut ObjectOrigins) -> PodTemplateSpec {
        let hardening = |what: &str| {
            Origin::rule(
                format!("pod builder hardening: {what}"),
                docs::RENDERS,
                vec![],
            )
        };
        let mut own = |p: String, origin: Origin| {
            o.set_default(p, origin);
        };
        own(
            "/spec/automountServiceAccountToken".into(),
            hardening("no service account token"),
        );
        own(
            "/spec/enableServiceLinks".into(),
            hardening("no service links"),
        );
        own(
            "/spec/securityContext".into(),
            hardening("non-root user and group, fsGroup, seccomp RuntimeDefault"),
        );
        own(
            "/spec/restartPolicy".into(),
            Origin::rule(
                "a pod that runs to completion restarts on failure or never",
                docs::RENDERS,
                vec![],
            ),
        );
        own(
            "/spec/volumes/0".into(),
            hardening("a /tmp emptyDir (256 MiB) on the read-only root"),
        );
        own(
            "/spec/topologySpreadConstraints".into(),
            Origin::rule(
                "spread over zones and nodes (ScheduleAnyway)",
                docs::RENDERS,
                vec![],
            ),
        );
        own(
            "/spec/affinity".into(),
            Origin::rule("preferred anti-affinity by node", docs::RENDERS, vec![]),
        );
        own(
            "/spec/shareProcessNamespace".into(),
            hardening("shared process namespace for a sidecar that signals the app"),
        );
        let tmp_mount = |c: &Container| {
            c.volume_mounts
                .iter()
                .flatten()
                .position(|m| m.mount_path == "/tmp")
        };
        let mut containers: Vec<(String, Option<usize>, bool)> =
            vec![("/spec/containers/0".into(), Some(0), true)];
        for (i, ic) in self.init_containers.iter().enumerate() {
            containers.push((
                format!("/spec/initContainers/{i}"),
                tmp_mount(ic),
                ic.resources.is_some(),
            ));
        }
        if self.init_command.is_some() {
            containers.push((
                format!("/spec/initContainers/{}", self.init_containers.len()),
                Some(0),
                false,
            ));
        }
        for (c, tmp, own_resources) in containers {
            own(
                format!("{c}/securityContext"),
                hardening("no privilege escalation, read-only root, no capabilities, seccomp"),
            );
            own(
                format!("{c}/imagePullPolicy"),
                hardening("IfNotPresent pulls"),
            );
            own(
                format!("{c}/terminationMessagePolicy"),
                hardening("FallbackToLogsOnError"),
            );
            if let Some(t) = tmp {
                own(
                    format!("{c}/volumeMounts/{t}"),
                    hardening("the /tmp emptyDir"),
                );
            }
            if !own_resources {
                own(
                    format!("{c}/resources"),
                    Origin::rule("the main container's resources", docs::RENDERS, vec![]),
                );
            }
        }
        let c = "/spec/containers/0";
        own(
            format!("{c}/lifecycle"),
            Origin::rule(
                "a 5 s preStop sleep, so endpoints stop sending first",
                docs::RENDERS,
                vec![],
            ),
        );
        own(
            format!("{c}/resources/requests/ephemeral-storage"),
            Origin::Default {
                value: EPHEMERAL_REQUEST.into(),
                doc: docs::SERVICES,
            },
        );
        own(
            format!("{c}/resources/limits/ephemeral-storage"),
            Origin::rule(
                format!("{EPHEMERAL_BASE_MIB} MiB plus the writable paths' sizes"),
                docs::SERVICES,
                vec![],
            ),
        );
        own(
            format!("{c}/resources"),
            Origin::rule(
                "the pod builder's small default (10m/100m CPU, 16Mi/64Mi memory) unless set",
                docs::RENDERS,
                vec![],
            ),
        );
        let resources = self.main_resources();
        let mut init_containers = self.init_containers;
        for c in &mut init_containers {
            c.resources.get_or_insert_with(|| resources.clone());
        }
        let long_running = self.restart == RestartPolicy::Always;
        let mut c = self.container;
        c.image_pull_policy = Some("IfNotPresent".into());
        c.env = (!self.env.is_empty()).then_some(self.env);
        c.env_from = (!self.env_from.is_empty()).then_some(self.env_from);
        c.resources = Some(resources);
        if long_running {
            c.lifecycle = Some(Lifecycle {
                pre_stop: Some(LifecycleHandler {
                    sleep: Some(SleepAction {
                        seconds: PRESTOP_SLEEP_SECONDS,
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            });
        } else {
            c.readiness_probe = None;
            c.liveness_probe = None;
            c.startup_probe = None;
        }
        c.security_context = Some(hardened(self.user));
        c.volume_mounts = Some(self.mounts);
        c.termination_message_policy = Some("FallbackToLogsOnError".into());
        if let Some(command) = self.init_command {
            // The service's own container, run once to completion before it.
            init_containers.push(Container {
                name: INIT_CONTAINER.into(),
                command: Some(command),
                args: None,
                ports: None,
                readiness_probe: None,
                liveness_probe: None,
                startup_probe: None,
                lifecycle: None,
                ..c.clone()
            });
        }

        let user = i64::from(self.user);
        let (spread, affinity) = match self.spread {
            Some(sel) => {
                let spread = |key: &str| TopologySpreadConstraint {
                    max_skew: 1,
                    topology_key: key.into(),
                    // ScheduleAnyway: spread when the cluster allows, never leave pods pending for it.
                    when_unsatisfiable: "ScheduleAnyway".into(),
                    label_selector: Some(sel.clone()),
                    ..Default::default()
                };
                let affinity = Affinity {
                    pod_anti_affinity: Some(PodAntiAffinity {
                        preferred_during_scheduling_ignored_during_execution: Some(vec![
                            WeightedPodAffinityTerm {
                                weight: 100,
                                pod_affinity_term: PodAffinityTerm {
                                    topology_key: "kubernetes.io/hostname".into(),
                                    label_selector: Some(sel.clone()),
                                    ..Default::default()
                                },
                            },
                        ]),
                        ..Default::default()
                    }),
                    ..Default::default()
                };
                (
                    Some(vec![
                        spread("topology.kubernetes.io/zone"),
                        spread("kubernetes.io/hostname"),
                    ]),
                    Some(affinity),
                )
            }
            None => (None, None),
        };
        PodTemplateSpec {
            metadata: Some(ObjectMeta {
                labels: (!self.labels.is_empty()).then_some(self.labels),
                annotations: (!self.annotations.is_empty()).then_some(self.annotations),
                ..Default::default()
            }),
            spec: Some(PodSpec {
                // Unset is Always; said only where it differs, as the API server defaults it.
                restart_policy: (!long_running).then(|| self.restart.as_str().into()),
                service_account_name: self.service_account,
                automount_service_account_token: Some(false),
                enable_service_links: Some(false),
                termination_grace_period_seconds: self.grace_seconds,
                security_context: Some(PodSecurityContext {
                    run_as_non_root: Some(true),
                    run_as_user: Some(user),
                    run_as_group: Some(user),
                    fs_group: Some(user),
                    fs_group_change_policy: self.fs_group_change_policy,
                    seccomp_profile: Some(SeccompProfile {
                        type_: "RuntimeDefault".into(),
                        ..Default::default()
                    }),
                    sysctls: (!self.sysctls.is_empty()).then_some(self.sysctls),
                    ..Default::default()
                }),
                init_containers: (!init_containers.is_empty()).then_some(init_containers),
                share_process_namespace: self.share_process_namespace.then_some(true),
                containers: vec![c],
                volumes: Some(self.volumes),
                topology_spread_constraints: spread,
                affinity,
                ..Default::default()
            }),
        }
    }

    /// A bare Pod object with `metadata` (name, namespace…); the builder's labels and
    /// annotations join the ones it has.
    pub fn build_pod(self, mut metadata: ObjectMeta) -> Pod {
        let template = self.build();
        if let Some(m) = template.metadata {
            for (field, own) in [
                (&mut metadata.labels, m.labels),
                (&mut metadata.annotations, m.annotations),
            ] {
                if let Some(own) = own {
                    field.get_or_insert_with(BTreeMap::new).extend(own);
                }
            }
        }
        Pod {
            metadata,
            spec: template.spec,
            ..Default::default()
        }
    }
}

/// `services.NAME.REST…`
fn service_path(svc: &ResolvedService, rest: &[&str]) -> SpecPath {
    let mut p = spec_path(&["services", svc.name.as_str()]);
    p.extend(rest.iter().map(|r| (*r).to_owned()));
    p
}

/// The image: the spec's `image`, with the registry and the `version` tag applied.
fn image_origin(svc: &ResolvedService, sp: &dyn Fn(&[&str]) -> SpecPath) -> Origin {
    let _ = svc;
    Origin::rule(
        "the image: `image`, prefixed with the `registry` and tagged with `version` unless it has its own",
        docs::IMAGES,
        vec![
            sp(&["image"]),
            sp(&["registry"]),
            spec_path(&["registry"]),
            spec_path(&["version"]),
        ],
    )
}

/// Pod labels and annotations: berth's labels, the service's `labels` and `annotations.pod`.
fn trace_meta(o: &mut ObjectOrigins, app: &App, svc: &ResolvedService) {
    let sp = |rest: &[&str]| service_path(svc, rest);
    o.set(
        "/metadata/labels",
        Origin::rule(
            "berth's app.kubernetes.io/* labels",
            docs::RENDERS,
            vec![sp(&[]), spec_path(&["app"])],
        ),
    );
    for k in svc.meta.labels.keys() {
        if !pod_labels(app, svc).contains_key(k) {
            o.set(
                format!("/metadata/labels/{}", crate::origin::escape(k)),
                Origin::spec(sp(&["labels", k])),
            );
        }
    }
    for k in svc.meta.pod_annotations.keys() {
        o.set(
            format!("/metadata/annotations/{}", crate::origin::escape(k)),
            Origin::spec(sp(&["annotations", "pod", k])),
        );
    }
    o.set(
        format!("/metadata/annotations/{}", crate::origin::escape(CHECKSUM_ANNOTATION)),
        Origin::rule("SHA-256 over the service's ConfigMaps, secret names and secret delivery, so a change rolls the pods", docs::RENDERS, vec![sp(&["env"]), sp(&["config"]), sp(&["secrets"])]),
    );
}

/// A list written in the spec, item by item.
fn trace_list(o: &mut ObjectOrigins, at: &str, path: &SpecPath, items: Option<&[String]>) {
    for i in 0..items.map_or(0, <[String]>::len) {
        let mut p = path.clone();
        p.push(i.to_string());
        o.set(format!("{at}/{i}"), Origin::spec(p));
    }
}

/// A probe of the service: its action from `health.KEY`, timings from the spec or the defaults.
fn trace_probe(
    o: &mut ObjectOrigins,
    at: &str,
    key: &SpecPath,
    p: &ResolvedProbe,
    defaults: (&str, &str, &str),
) {
    let k = |rest: &[&str]| {
        let mut path = key.clone();
        path.extend(rest.iter().map(|r| (*r).to_owned()));
        path
    };
    o.set(
        at,
        Origin::rule("a probe from `health`", docs::HEALTH, vec![key.clone()]),
    );
    match &p.action {
        ProbeAction::Http { headers, .. } => {
            o.set(
                format!("{at}/httpGet/path"),
                Origin::Spec {
                    paths: vec![k(&["http"]), key.clone()],
                    otherwise: None,
                },
            );
            o.set(
                format!("{at}/httpGet/port"),
                Origin::Spec {
                    paths: vec![k(&["port"])],
                    otherwise: Some(Box::new(Origin::rule(
                        "an HTTP probe targets the first port",
                        docs::HEALTH,
                        vec![],
                    ))),
                },
            );
            for (i, (name, _)) in headers.iter().enumerate() {
                o.set(
                    format!("{at}/httpGet/httpHeaders/{i}/name"),
                    Origin::spec(k(&["headers", name])),
                );
                o.set(
                    format!("{at}/httpGet/httpHeaders/{i}/value"),
                    Origin::spec(k(&["headers", name])),
                );
            }
        }
        ProbeAction::Grpc { service, .. } => {
            o.set(
                format!("{at}/grpc/port"),
                Origin::rule(
                    "the number of the port `grpc` names (a gRPC probe takes no port name)",
                    docs::HEALTH,
                    vec![k(&["grpc"])],
                ),
            );
            if service.is_some() {
                o.set(format!("{at}/grpc/service"), Origin::spec(k(&["grpc"])));
            }
        }
        ProbeAction::Tcp { .. } => {
            o.set(
                format!("{at}/tcpSocket/port"),
                Origin::Spec {
                    paths: vec![k(&["tcp"])],
                    otherwise: None,
                },
            );
        }
        ProbeAction::Exec(cmd) => {
            for i in 0..cmd.len() {
                o.set(
                    format!("{at}/exec/command/{i}"),
                    Origin::Spec {
                        paths: vec![k(&["exec", &i.to_string()]), k(&[&i.to_string()])],
                        otherwise: None,
                    },
                );
            }
        }
    }
    for (field, spec_key, default) in [
        ("periodSeconds", "period", defaults.0),
        ("timeoutSeconds", "timeout", defaults.1),
        ("failureThreshold", "failures", defaults.2),
    ] {
        o.set(
            format!("{at}/{field}"),
            Origin::spec_or_default(k(&[spec_key]), default, docs::SERVICES),
        );
    }
    o.set(
        format!("{at}/initialDelaySeconds"),
        Origin::spec(k(&["delay"])),
    );
    o.set(
        format!("{at}/successThreshold"),
        Origin::Default {
            value: "1".into(),
            doc: docs::HEALTH,
        },
    );
}

/// A service's probe: its action and the timings the spec sets (the builder fills in the
/// defaults of the probe's role for the rest).
pub fn probe(p: &ResolvedProbe) -> KProbe {
    let mut k = KProbe {
        period_seconds: p.period.map(|v| v as i32),
        timeout_seconds: p.timeout.map(|v| v as i32),
        failure_threshold: p.failures.map(|v| v as i32),
        initial_delay_seconds: p.delay.filter(|d| *d > 0).map(|d| d as i32),
        ..Default::default()
    };
    match &p.action {
        ProbeAction::Http {
            path,
            port,
            headers,
            ..
        } => {
            k.http_get = Some(HTTPGetAction {
                path: Some(path.clone()),
                port: IntOrString::String(port.clone()),
                http_headers: (!headers.is_empty()).then(|| {
                    headers
                        .iter()
                        .map(|(name, value)| HTTPHeader {
                            name: name.clone(),
                            value: value.clone(),
                        })
                        .collect()
                }),
                ..Default::default()
            })
        }
        // The gRPC probe takes a port number only, never a name.
        ProbeAction::Grpc { port, service } => {
            k.grpc = Some(GRPCAction {
                port: (*port).into(),
                service: service.clone(),
            })
        }
        ProbeAction::Tcp { port, .. } => {
            k.tcp_socket = Some(TCPSocketAction {
                port: IntOrString::String(port.clone()),
                ..Default::default()
            })
        }
        ProbeAction::Exec(cmd) => {
            k.exec = Some(ExecAction {
                command: Some(cmd.clone()),
            })
        }
    }
    k
}

fn with_timings(mut p: KProbe, period: i32, timeout: i32, failures: i32) -> KProbe {
    p.period_seconds.get_or_insert(period);
    p.timeout_seconds.get_or_insert(timeout);
    p.failure_threshold.get_or_insert(failures);
    p.success_threshold.get_or_insert(1);
    p
}

fn quantity(q: &berth_spec::quantity::Quantity) -> Quantity {
    Quantity(q.text.clone())
}

fn empty_dir(name: &str, size_mib: u64) -> Volume {
    Volume {
        name: name.into(),
        empty_dir: Some(EmptyDirVolumeSource {
            size_limit: Some(Quantity(mib(size_mib))),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// `1Gi` for whole GiB (as the spec's sizes read), else `NMi`.
fn mib(n: u64) -> String {
    if n > 0 && n.is_multiple_of(1024) {
        format!("{}Gi", n / 1024)
    } else {
        format!("{n}Mi")
    }
}

fn mount(name: &str, path: &str, read_only: bool) -> VolumeMount {
    VolumeMount {
        name: name.into(),
        mount_path: path.into(),
        read_only: read_only.then_some(true),
        ..Default::default()
    }
}

/// Least privilege for every container berth writes.
pub fn hardened(user: u32) -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        privileged: Some(false),
        read_only_root_filesystem: Some(true),
        run_as_non_root: Some(true),
        run_as_user: Some(user.into()),
        run_as_group: Some(user.into()),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".into()]),
            ..Default::default()
        }),
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The config-sync sidecar. It runs as the app's UID so it may signal the app's process.
fn sync_sidecar(svc: &ResolvedService, sync: &ConfigSync) -> Container {
    let mut args = vec![
        "config-sync".to_owned(),
        format!("--source={}", sync.source),
        format!("--root={}", svc.config_mount),
        format!("--reload={}", sync.reload),
        format!("--listen=0.0.0.0:{SYNC_PORT}"),
    ];
    if let Some((path, port)) = svc.ready.as_ref().and_then(ResolvedProbe::http) {
        args.push(format!("--health-url=http://127.0.0.1:{port}{path}"));
    }
    if let Some(cmd) = &sync.validate {
        args.push(format!("--validate-cmd={cmd}"));
    }
    let http = |path: &str| KProbe {
        http_get: Some(HTTPGetAction {
            path: Some(path.into()),
            port: IntOrString::String(SYNC_PORT_NAME.into()),
            ..Default::default()
        }),
        period_seconds: Some(10),
        timeout_seconds: Some(2),
        failure_threshold: Some(3),
        success_threshold: Some(1),
        ..Default::default()
    };
    Container {
        name: SYNC_CONTAINER.into(),
        image: Some(sync.image.clone()),
        args: Some(args),
        ports: Some(vec![ContainerPort {
            name: Some(SYNC_PORT_NAME.into()),
            container_port: SYNC_PORT.into(),
            protocol: Some("TCP".into()),
            ..Default::default()
        }]),
        // The app starts only once the first version is on disk (the sidecar commits its first
        // version without waiting for the app); up to 5 minutes.
        startup_probe: Some(KProbe {
            period_seconds: Some(2),
            failure_threshold: Some(150),
            ..http("/readyz")
        }),
        readiness_probe: Some(http("/readyz")),
        liveness_probe: Some(KProbe {
            failure_threshold: Some(6),
            ..http("/healthz")
        }),
        resources: Some(ResourceRequirements {
            requests: Some(BTreeMap::from([
                ("cpu".into(), Quantity("10m".into())),
                ("memory".into(), Quantity("32Mi".into())),
                ("ephemeral-storage".into(), Quantity("64Mi".into())),
            ])),
            limits: Some(BTreeMap::from([
                ("cpu".into(), Quantity("200m".into())),
                ("memory".into(), Quantity("64Mi".into())),
                ("ephemeral-storage".into(), Quantity("512Mi".into())),
            ])),
            ..Default::default()
        }),
        // The sidecar writes the versions the app reads.
        volume_mounts: Some(vec![
            mount(SYNC_VOLUME, &svc.config_mount, false),
            mount("tmp", "/tmp", false),
        ]),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http_probe() -> KProbe {
        probe(&ResolvedProbe {
            action: ProbeAction::Http {
                path: "/healthz".into(),
                port: "http".into(),
                number: 8080,
                headers: vec![],
            },
            period: None,
            timeout: None,
            failures: None,
            delay: None,
        })
    }

    #[test]
    fn a_long_running_pod_is_hardened_and_probed() {
        let mut b = PodBuilder::new("db", "postgres:16", 999);
        b.port("pg", 5432)
            .readiness(Some(KProbe {
                period_seconds: Some(30),
                ..http_probe()
            }))
            .writable("/var/lib/postgresql", 2048);
        let spec = b.build().spec.unwrap();
        assert_eq!(spec.restart_policy, None);
        assert_eq!(spec.automount_service_account_token, Some(false));
        let psc = spec.security_context.unwrap();
        assert_eq!((psc.run_as_user, psc.fs_group), (Some(999), Some(999)));
        let c = &spec.containers[0];
        let sc = c.security_context.as_ref().unwrap();
        assert_eq!(sc.read_only_root_filesystem, Some(true));
        assert_eq!(sc.allow_privilege_escalation, Some(false));
        let ready = c.readiness_probe.as_ref().unwrap();
        // The override wins; what it leaves unset gets the default.
        assert_eq!(
            (ready.period_seconds, ready.timeout_seconds),
            (Some(30), Some(2))
        );
        assert!(c.lifecycle.as_ref().unwrap().pre_stop.is_some());
        let limits = c.resources.as_ref().unwrap().limits.as_ref().unwrap();
        assert_eq!(limits["ephemeral-storage"].0, "2560Mi");
        let mounts: Vec<&str> = c
            .volume_mounts
            .iter()
            .flatten()
            .map(|m| m.mount_path.as_str())
            .collect();
        assert_eq!(mounts, ["/tmp", "/var/lib/postgresql"]);
        assert_eq!(
            spec.volumes.unwrap()[1]
                .empty_dir
                .as_ref()
                .unwrap()
                .size_limit,
            Some(Quantity("2Gi".into()))
        );
    }

    #[test]
    fn a_pod_that_runs_to_completion_has_no_probes_or_pre_stop() {
        let mut b = PodBuilder::new("migrate", "api:1", 10001);
        b.restart_policy(RestartPolicy::Never)
            .readiness(Some(http_probe()))
            .liveness(Some(http_probe()));
        let spec = b.build().spec.unwrap();
        assert_eq!(spec.restart_policy.as_deref(), Some("Never"));
        let c = &spec.containers[0];
        assert!(c.readiness_probe.is_none() && c.liveness_probe.is_none());
        assert!(c.lifecycle.is_none());
    }

    #[test]
    fn init_containers_and_sidecars_inherit_the_hardening() {
        let mut b = PodBuilder::new("app", "app:1", 10001);
        b.resources(("100m", "1"), ("128Mi", "256Mi"))
            .init_container(Container {
                name: "init".into(),
                image: Some("app:1".into()),
                ..Default::default()
            })
            .sidecar(Container {
                name: "proxy".into(),
                image: Some("proxy:1".into()),
                ..Default::default()
            });
        let spec = b.build().spec.unwrap();
        let init = spec.init_containers.unwrap();
        assert_eq!(init[0].restart_policy, None);
        assert_eq!(init[1].restart_policy.as_deref(), Some("Always"));
        for c in &init {
            assert_eq!(c.security_context, Some(hardened(10001)));
            assert_eq!(c.volume_mounts.as_ref().unwrap()[0].mount_path, "/tmp");
            let limits = c.resources.as_ref().unwrap().limits.as_ref().unwrap();
            assert_eq!(limits["memory"].0, "256Mi");
        }
    }

    #[test]
    fn a_bare_pod_keeps_its_metadata_and_gains_the_builders_labels() {
        let mut b = PodBuilder::new("ready", "curl:8", 10001);
        b.label("app.kubernetes.io/name", "web-test")
            .restart_policy(RestartPolicy::Never);
        let pod = b.build_pod(ObjectMeta {
            name: Some("web-test".into()),
            namespace: Some("shop".into()),
            ..Default::default()
        });
        assert_eq!(pod.metadata.namespace.as_deref(), Some("shop"));
        assert_eq!(
            pod.metadata.labels.unwrap()["app.kubernetes.io/name"],
            "web-test"
        );
        assert!(pod.metadata.annotations.is_none());
    }
}
