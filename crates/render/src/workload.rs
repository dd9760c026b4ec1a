//! Namespace, ServiceAccounts and Deployments: hardened by default.

use crate::config::ServiceConfig;
use crate::labels::{app_labels, meta, selector, service_labels};
use berth_spec::sync::{Cloud, ConfigSync, SYNC_PORT};
use berth_spec::{App, Probe, ResolvedService};
use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment,
};
use k8s_openapi::api::core::v1::Affinity;
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMapEnvSource, ConfigMapVolumeSource, Container, ContainerPort,
    EmptyDirVolumeSource, EnvFromSource, EnvVar, EnvVarSource, ExecAction, HTTPGetAction,
    Lifecycle, LifecycleHandler, Namespace, PodAffinityTerm, PodAntiAffinity, PodSecurityContext,
    PodSpec, PodTemplateSpec, Probe as KProbe, ResourceRequirements, SeccompProfile,
    SecretKeySelector, SecurityContext, ServiceAccount, SleepAction, TopologySpreadConstraint,
    Volume, VolumeMount, WeightedPodAffinityTerm,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

pub const CHECKSUM_ANNOTATION: &str = "berth.dev/config-checksum";
/// Seconds a stopping pod keeps serving, so endpoints and load balancers stop sending to it first.
pub const PRESTOP_SLEEP_SECONDS: i64 = 5;
pub const PORT_NAME: &str = "http";
pub const SYNC_VOLUME: &str = "berth-config";
pub const SYNC_CONTAINER: &str = "config-sync";
pub const SYNC_PORT_NAME: &str = "sync";

pub fn namespace(app: &App) -> Namespace {
    let mut labels = app_labels(app, "namespace");
    // Pod Security Admission: the restricted profile, which berth's pods satisfy.
    labels.insert(
        "pod-security.kubernetes.io/enforce".into(),
        "restricted".into(),
    );
    labels.insert(
        "pod-security.kubernetes.io/enforce-version".into(),
        "latest".into(),
    );
    Namespace {
        metadata: ObjectMeta {
            name: Some(app.namespace.clone()),
            labels: Some(labels),
            ..Default::default()
        },
        ..Default::default()
    }
}

pub fn service_account(app: &App, svc: &ResolvedService) -> ServiceAccount {
    let mut sa = ServiceAccount {
        metadata: meta(app, &svc.name, service_labels(app, svc)),
        // berth's services do not call the Kubernetes API; no token in their pods.
        automount_service_account_token: Some(false),
        ..Default::default()
    };
    // The config-sync sidecar reads its source with the pod's cloud identity, never static keys.
    if let Some(sync) = &svc.sync
        && let (Some(cloud), Some(id)) = (sync.cloud, &sync.identity)
    {
        let key = match cloud {
            Cloud::Aws => "eks.amazonaws.com/role-arn",
            Cloud::Gcp => "iam.gke.io/gcp-service-account",
            Cloud::Azure => "azure.workload.identity/client-id",
        };
        sa.metadata.annotations = Some(BTreeMap::from([(key.to_owned(), id.clone())]));
    }
    sa
}

fn probe(p: &Probe) -> KProbe {
    match p {
        Probe::Http(path) => KProbe {
            http_get: Some(HTTPGetAction {
                path: Some(path.clone()),
                port: IntOrString::String(PORT_NAME.into()),
                ..Default::default()
            }),
            ..Default::default()
        },
        Probe::Exec(cmd) => KProbe {
            exec: Some(ExecAction {
                command: Some(cmd.clone()),
            }),
            ..Default::default()
        },
    }
}

fn quantity(q: &berth_spec::quantity::Quantity) -> Quantity {
    Quantity(q.text.clone())
}

pub fn deployment(app: &App, svc: &ResolvedService, config: &ServiceConfig) -> Deployment {
    let labels = service_labels(app, svc);

    let mut env = Vec::new();
    if let Some(secret) = &config.secret_name {
        for key in &svc.secrets {
            env.push(EnvVar {
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
    let env_from = config.env_map.as_ref().map(|name| {
        vec![EnvFromSource {
            config_map_ref: Some(ConfigMapEnvSource {
                name: name.clone(),
                optional: Some(false),
            }),
            ..Default::default()
        }]
    });

    // Read-only root filesystem: /tmp and every declared writable path get their own emptyDir.
    let mut volumes = vec![Volume {
        name: "tmp".into(),
        empty_dir: Some(EmptyDirVolumeSource {
            size_limit: Some(Quantity("256Mi".into())),
            ..Default::default()
        }),
        ..Default::default()
    }];
    let mut mounts = vec![VolumeMount {
        name: "tmp".into(),
        mount_path: "/tmp".into(),
        ..Default::default()
    }];
    for (i, path) in svc.writable.iter().enumerate() {
        let name = format!("writable-{i}");
        volumes.push(Volume {
            name: name.clone(),
            empty_dir: Some(EmptyDirVolumeSource {
                size_limit: Some(Quantity("1Gi".into())),
                ..Default::default()
            }),
            ..Default::default()
        });
        mounts.push(VolumeMount {
            name,
            mount_path: path.clone(),
            ..Default::default()
        });
    }
    if let Some(files) = &config.files_map {
        volumes.push(Volume {
            name: "config".into(),
            config_map: Some(ConfigMapVolumeSource {
                name: files.clone(),
                ..Default::default()
            }),
            ..Default::default()
        });
        mounts.push(VolumeMount {
            name: "config".into(),
            mount_path: svc.config_mount.clone(),
            read_only: Some(true),
            ..Default::default()
        });
    }

    // Ephemeral storage covers logs, /tmp (256Mi) and each writable path (1Gi).
    if svc.sync.is_some() {
        volumes.push(Volume {
            name: SYNC_VOLUME.into(),
            empty_dir: Some(EmptyDirVolumeSource {
                size_limit: Some(Quantity("256Mi".into())),
                ..Default::default()
            }),
            ..Default::default()
        });
        mounts.push(VolumeMount {
            name: SYNC_VOLUME.into(),
            mount_path: svc.config_mount.clone(),
            read_only: Some(true),
            ..Default::default()
        });
        // The app reads the committed version through the `current` symlink the sidecar swaps.
        env.push(EnvVar {
            name: "BERTH_CONFIG_DIR".into(),
            value: Some(format!("{}/current", svc.config_mount)),
            ..Default::default()
        });
    }

    let ephemeral_limit = format!("{}Mi", 512 + 1024 * svc.writable.len());
    let resources = ResourceRequirements {
        requests: Some(BTreeMap::from([
            ("cpu".into(), quantity(&svc.cpu.request)),
            ("memory".into(), quantity(&svc.memory.request)),
            ("ephemeral-storage".into(), Quantity("128Mi".into())),
        ])),
        limits: Some(BTreeMap::from([
            ("cpu".into(), quantity(&svc.cpu.limit)),
            ("memory".into(), quantity(&svc.memory.limit)),
            ("ephemeral-storage".into(), Quantity(ephemeral_limit)),
        ])),
        ..Default::default()
    };

    let readiness = svc.ready.as_ref().map(|p| KProbe {
        period_seconds: Some(5),
        timeout_seconds: Some(2),
        failure_threshold: Some(3),
        success_threshold: Some(1),
        ..probe(p)
    });
    // Liveness is slower to give up than readiness: a busy pod is taken out of rotation long
    // before it would be killed.
    let liveness = svc.live.as_ref().map(|p| KProbe {
        period_seconds: Some(10),
        timeout_seconds: Some(5),
        failure_threshold: Some(6),
        success_threshold: Some(1),
        ..probe(p)
    });
    // Up to 5 minutes to start before liveness takes over.
    let startup = svc.startup.as_ref().map(|p| KProbe {
        period_seconds: Some(5),
        timeout_seconds: Some(2),
        failure_threshold: Some(60),
        success_threshold: Some(1),
        ..probe(p)
    });

    let container = Container {
        name: svc.name.clone(),
        image: Some(svc.image.to_string()),
        image_pull_policy: Some("IfNotPresent".into()),
        command: svc.command.clone(),
        args: svc.args.clone(),
        ports: svc.port.map(|p| {
            vec![ContainerPort {
                name: Some(PORT_NAME.into()),
                container_port: p.into(),
                protocol: Some("TCP".into()),
                ..Default::default()
            }]
        }),
        env: (!env.is_empty()).then_some(env),
        env_from,
        resources: Some(resources),
        readiness_probe: readiness,
        liveness_probe: liveness,
        startup_probe: startup,
        lifecycle: Some(Lifecycle {
            pre_stop: Some(LifecycleHandler {
                sleep: Some(SleepAction {
                    seconds: PRESTOP_SLEEP_SECONDS,
                }),
                ..Default::default()
            }),
            ..Default::default()
        }),
        security_context: Some(hardened(svc.user)),
        volume_mounts: Some(mounts),
        termination_message_policy: Some("FallbackToLogsOnError".into()),
        ..Default::default()
    };

    let spread = |key: &str| TopologySpreadConstraint {
        max_skew: 1,
        topology_key: key.into(),
        // ScheduleAnyway: spread when the cluster allows, never leave pods pending for it.
        when_unsatisfiable: "ScheduleAnyway".into(),
        label_selector: Some(selector(app, &svc.name)),
        ..Default::default()
    };

    Deployment {
        metadata: meta(app, &svc.name, labels.clone()),
        spec: Some(DeploymentSpec {
            replicas: Some(svc.replicas as i32),
            revision_history_limit: Some(5),
            selector: selector(app, &svc.name),
            strategy: Some(DeploymentStrategy {
                type_: Some("RollingUpdate".into()),
                rolling_update: Some(RollingUpdateDeployment {
                    max_unavailable: Some(IntOrString::Int(0)),
                    max_surge: Some(IntOrString::String("25%".into())),
                }),
            }),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    annotations: Some(BTreeMap::from([(
                        CHECKSUM_ANNOTATION.into(),
                        config.checksum.clone(),
                    )])),
                    ..Default::default()
                }),
                spec: Some(PodSpec {
                    service_account_name: Some(svc.name.clone()),
                    automount_service_account_token: Some(false),
                    enable_service_links: Some(false),
                    termination_grace_period_seconds: Some(svc.grace_seconds.into()),
                    security_context: Some(PodSecurityContext {
                        run_as_non_root: Some(true),
                        run_as_user: Some(svc.user.into()),
                        run_as_group: Some(svc.user.into()),
                        fs_group: Some(svc.user.into()),
                        seccomp_profile: Some(SeccompProfile {
                            type_: "RuntimeDefault".into(),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    init_containers: svc.sync.as_ref().map(|sync| vec![sync_sidecar(svc, sync)]),
                    share_process_namespace: svc
                        .sync
                        .as_ref()
                        .is_some_and(|s| s.signal_by_name)
                        .then_some(true),
                    containers: vec![container],
                    volumes: Some(volumes),
                    topology_spread_constraints: Some(vec![
                        spread("topology.kubernetes.io/zone"),
                        spread("kubernetes.io/hostname"),
                    ]),
                    affinity: Some(Affinity {
                        pod_anti_affinity: Some(PodAntiAffinity {
                            preferred_during_scheduling_ignored_during_execution: Some(vec![
                                WeightedPodAffinityTerm {
                                    weight: 100,
                                    pod_affinity_term: PodAffinityTerm {
                                        topology_key: "kubernetes.io/hostname".into(),
                                        label_selector: Some(selector(app, &svc.name)),
                                        ..Default::default()
                                    },
                                },
                            ]),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Least privilege for every container berth writes.
fn hardened(user: u32) -> SecurityContext {
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

/// The config-sync sidecar as a native sidecar (an init container with `restartPolicy:
/// Always`): it starts before the app, stops after it, and its readiness gates the pod's.
/// It runs as the app's UID so it may signal the app's process.
fn sync_sidecar(svc: &ResolvedService, sync: &ConfigSync) -> Container {
    let mut args = vec![
        "config-sync".to_owned(),
        format!("--source={}", sync.source),
        format!("--root={}", svc.config_mount),
        format!("--reload={}", sync.reload),
        format!("--listen=0.0.0.0:{SYNC_PORT}"),
    ];
    if let (Some(Probe::Http(path)), Some(port)) = (svc.ready.as_ref(), svc.port) {
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
        image_pull_policy: Some("IfNotPresent".into()),
        args: Some(args),
        restart_policy: Some("Always".into()),
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
        security_context: Some(hardened(svc.user)),
        volume_mounts: Some(vec![
            VolumeMount {
                name: SYNC_VOLUME.into(),
                mount_path: svc.config_mount.clone(),
                ..Default::default()
            },
            VolumeMount {
                name: "tmp".into(),
                mount_path: "/tmp".into(),
                ..Default::default()
            },
        ]),
        termination_message_policy: Some("FallbackToLogsOnError".into()),
        ..Default::default()
    }
}
