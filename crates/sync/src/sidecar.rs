//! What `berth render` needs to add the sidecar to a pod, as pure data: no IO, no Kubernetes types.
//! The renderer maps a service's `config: { source, reload }` through [`plan`].

use crate::config::{ConfigError, ReloadSpec, SourceSpec};

/// Port of the sidecar's HTTP endpoints.
pub const DEFAULT_PORT: u16 = 9480;
pub const DEFAULT_LISTEN: &str = "0.0.0.0:9480";
/// Where the shared emptyDir is mounted in both containers.
pub const DEFAULT_ROOT: &str = "/config";
/// Name of the shared emptyDir volume.
pub const VOLUME_NAME: &str = "berth-config";
/// Name of the native sidecar container.
pub const CONTAINER_NAME: &str = "config-sync";
pub const LIVENESS_PATH: &str = "/healthz";
pub const READINESS_PATH: &str = "/readyz";
pub const METRICS_PATH: &str = "/metrics";
pub const STATUS_PATH: &str = "/status";

/// Everything the renderer emits for one service with `config:`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SidecarPlan {
    /// Container args after the image's entrypoint `berth`: `config-sync --source … --reload …`.
    pub args: Vec<String>,
    pub port: u16,
    /// Name for the container port.
    pub port_name: &'static str,
    /// startupProbe and readinessProbe: ready once the first version is on disk (it commits
    /// without the app), so the app container starts with its config in place.
    pub startup_path: &'static str,
    pub liveness_path: &'static str,
    pub readiness_path: &'static str,
    pub volume_name: &'static str,
    /// Mount path in the sidecar and the app container (read-only in the app).
    pub mount_path: &'static str,
    /// The directory the app reads its config from (never mount it with subPath).
    pub app_config_dir: String,
    /// Signal reloads by process name need `shareProcessNamespace: true` on the pod.
    pub share_process_namespace: bool,
    /// Which cloud identity the sidecar uses (IRSA / Workload Identity / Azure Workload Identity);
    /// `None` for a local folder.
    pub cloud: Option<&'static str>,
}

/// The sidecar for a `source` and `reload` string as a user writes them in berth.yaml
/// (`reload: signal:HUP` may omit the process; the renderer then passes the app container's
/// process name as `process`).
pub fn plan(source: &str, reload: &str, process: Option<&str>) -> Result<SidecarPlan, ConfigError> {
    let src = SourceSpec::parse(source)?;
    let reload = match (reload.strip_prefix("signal:"), process) {
        (Some(sig), Some(p)) if !sig.contains(':') => format!("signal:{sig}:{p}"),
        _ => reload.to_string(),
    };
    let spec = ReloadSpec::parse(&reload)?;
    let cloud = match src {
        SourceSpec::S3 { .. } => Some("aws"),
        SourceSpec::Gcs { .. } => Some("gcp"),
        SourceSpec::Azure { .. } => Some("azure"),
        SourceSpec::Dir(_) => None,
    };
    let args = vec![
        "config-sync".to_string(),
        format!("--source={source}"),
        format!("--root={DEFAULT_ROOT}"),
        format!("--reload={reload}"),
        format!("--listen={DEFAULT_LISTEN}"),
    ];
    Ok(SidecarPlan {
        args,
        port: DEFAULT_PORT,
        port_name: CONTAINER_NAME,
        startup_path: READINESS_PATH,
        liveness_path: LIVENESS_PATH,
        readiness_path: READINESS_PATH,
        volume_name: VOLUME_NAME,
        mount_path: DEFAULT_ROOT,
        app_config_dir: format!("{DEFAULT_ROOT}/current"),
        share_process_namespace: matches!(&spec, ReloadSpec::Signal { target, .. } if !target.contains('/')),
        cloud,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_by_name_shares_process_namespace() {
        let p = plan("s3://b/app", "signal:HUP", Some("nginx")).unwrap();
        assert!(p.share_process_namespace);
        assert!(p.args.contains(&"--reload=signal:HUP:nginx".to_string()));
        assert_eq!(p.cloud, Some("aws"));
        let p = plan(
            "s3://b/app",
            "http:POST:http://127.0.0.1:8080/-/reload",
            None,
        )
        .unwrap();
        assert!(!p.share_process_namespace);
        // No process at all: the app container's main process, still through the shared namespace.
        let p = plan("s3://b/app", "signal:HUP", None).unwrap();
        assert!(p.share_process_namespace);
        assert!(p.args.contains(&"--reload=signal:HUP".to_string()));
    }
}
