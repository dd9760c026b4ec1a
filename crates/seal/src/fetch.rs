//! Getting the sealing certificate: a file, an `http(s)://` or `file://` URL, or the controller in
//! the cluster through the API server's service proxy (what kubeseal does), using the kubeconfig.

use crate::SealError;
use std::path::PathBuf;
use std::time::Duration;

/// Where the controller runs, and how to reach the cluster.
#[derive(Debug, Clone)]
pub struct ClusterTarget {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub controller_name: String,
    pub controller_namespace: String,
}

impl Default for ClusterTarget {
    fn default() -> Self {
        ClusterTarget {
            kubeconfig: None,
            context: None,
            controller_name: "sealed-secrets-controller".into(),
            controller_namespace: "kube-system".into(),
        }
    }
}

/// The certificate's PEM text and a name for it in messages.
pub struct FetchedCert {
    pub pem: Vec<u8>,
    pub source_name: String,
}

const TIMEOUT: Duration = Duration::from_secs(30);
/// A certificate is a few KiB; refuse to buffer anything absurd.
const MAX_CERT_BYTES: usize = 1 << 20;

/// Reads `--cert` / `SEALED_SECRETS_CERT`: a path, `file://PATH`, or an `http(s)://` URL.
pub fn cert_from_location(location: &str) -> Result<FetchedCert, SealError> {
    if location.starts_with("http://") || location.starts_with("https://") {
        let pem = runtime()?.block_on(get_url(location))?;
        return Ok(FetchedCert {
            pem,
            source_name: location.to_string(),
        });
    }
    let path = location.strip_prefix("file://").unwrap_or(location);
    let pem = std::fs::read(path).map_err(|e| SealError::BadCert {
        source_name: path.to_string(),
        reason: e.to_string(),
    })?;
    Ok(FetchedCert {
        pem,
        source_name: path.to_string(),
    })
}

/// Fetches `/v1/cert.pem` from the controller through the API server's service proxy.
pub fn cert_from_cluster(target: &ClusterTarget) -> Result<FetchedCert, SealError> {
    let pem = runtime()?.block_on(get_cluster(target))?;
    Ok(FetchedCert {
        pem,
        source_name: format!(
            "service {}/{} in the cluster",
            target.controller_namespace, target.controller_name
        ),
    })
}

fn runtime() -> Result<tokio::runtime::Runtime, SealError> {
    // One TLS provider for the whole graph; fine if someone installed it already.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| SealError::Fetch(format!("cannot start the IO runtime: {e}")))
}

async fn get_url(url: &str) -> Result<Vec<u8>, SealError> {
    let fail = |e: String| SealError::Fetch(format!("{url}: {e}"));
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .build()
        .map_err(|e| fail(e.to_string()))?;
    let resp = client
        .get(url)
        .header("Accept", "application/x-pem-file, */*")
        .send()
        .await
        .map_err(|e| fail(error_chain(&e)))?;
    if !resp.status().is_success() {
        return Err(fail(format!("HTTP {}", resp.status())));
    }
    let body = resp.bytes().await.map_err(|e| fail(error_chain(&e)))?;
    if body.len() > MAX_CERT_BYTES {
        return Err(fail("the response is larger than 1 MiB".into()));
    }
    Ok(body.to_vec())
}

async fn get_cluster(t: &ClusterTarget) -> Result<Vec<u8>, SealError> {
    use k8s_openapi::api::core::v1::Service;
    use kube::config::{KubeConfigOptions, Kubeconfig};
    let fail = |e: String| SealError::Fetch(e);
    let options = KubeConfigOptions {
        context: t.context.clone(),
        ..Default::default()
    };
    let config = match (&t.kubeconfig, &t.context) {
        (Some(path), _) => {
            let kc = Kubeconfig::read_from(path).map_err(|e| {
                fail(format!(
                    "kubeconfig {}: {}",
                    path.display(),
                    error_chain(&e)
                ))
            })?;
            kube::Config::from_custom_kubeconfig(kc, &options)
                .await
                .map_err(|e| {
                    fail(format!(
                        "kubeconfig {}: {}",
                        path.display(),
                        error_chain(&e)
                    ))
                })?
        }
        (None, Some(_)) => kube::Config::from_kubeconfig(&options)
            .await
            .map_err(|e| fail(format!("kubeconfig: {}", error_chain(&e))))?,
        (None, None) => kube::Config::infer()
            .await
            .map_err(|e| fail(format!("no cluster configured: {}", error_chain(&e))))?,
    };
    let mut config = config;
    config.read_timeout = Some(TIMEOUT);
    config.connect_timeout = Some(TIMEOUT);
    let client = kube::Client::try_from(config).map_err(|e| fail(error_chain(&e)))?;

    let (ns, name) = (&t.controller_namespace, &t.controller_name);
    let services: kube::Api<Service> = kube::Api::namespaced(client.clone(), ns);
    let svc = services.get(name).await.map_err(|e| {
        fail(format!(
            "cannot read service {ns}/{name} (is the Sealed Secrets controller installed there?): {}",
            error_chain(&e)
        ))
    })?;
    let port = svc
        .spec
        .as_ref()
        .and_then(|s| s.ports.as_ref())
        .and_then(|p| p.first())
        .map(|p| {
            p.name
                .clone()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| p.port.to_string())
        })
        .ok_or_else(|| fail(format!("service {ns}/{name} has no port")))?;
    // client-go's ProxyGet("http", name, port, "/v1/cert.pem"), as kubeseal calls it.
    let path = format!("/api/v1/namespaces/{ns}/services/http:{name}:{port}/proxy/v1/cert.pem");
    let req = http::Request::get(&path)
        .header(http::header::ACCEPT, "application/x-pem-file, */*")
        .body(Vec::new())
        .map_err(|e| fail(e.to_string()))?;
    let text = client
        .request_text(req)
        .await
        .map_err(|e| fail(format!("GET {path}: {}", error_chain(&e))))?;
    if text.len() > MAX_CERT_BYTES {
        return Err(fail("the certificate response is larger than 1 MiB".into()));
    }
    Ok(text.into_bytes())
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}
