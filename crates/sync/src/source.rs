//! Reading the source: S3 (and, with their object_store features, GCS / Azure) or a local folder,
//! all through `object_store`. A poll lists the prefix; when the listing differs from the last one
//! it downloads into staging, hashes the content, and lists again to detect a publish racing the
//! download. Versions are identified by content hash, never by ETag alone.

use crate::config::{ManifestMode, SourceSpec};
use crate::hash::{sha256_hex, version_hash};
use futures::TryStreamExt;
use object_store::path::Path as ObjPath;
use object_store::{ObjectStore, ObjectStoreExt};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub const MANIFEST: &str = "_manifest.json";

/// One listed object: size, ETag (from the listing or a HEAD) and last-modified (ns).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub size: u64,
    pub e_tag: Option<String>,
    pub modified: i64,
}

/// A listing of the source, by path relative to the prefix. Two equal listings mean "unchanged".
pub type Listing = BTreeMap<String, Entry>;

pub struct Source {
    store: Arc<dyn ObjectStore>,
    prefix: Option<ObjPath>,
    /// Debugging/test hook: sleep this long between listing and downloading.
    fetch_delay: Option<Duration>,
}

/// Outcome of one poll.
pub enum Fetched {
    /// The listing did not change since the last poll.
    Unchanged,
    /// The source is not in a state to act on (empty, or manifest missing/inconsistent); retry later.
    NotReady(String),
    /// The manifest names content we already have or have quarantined: nothing to download.
    Known { listing: Listing },
    /// Content downloaded into the staging directory.
    Candidate {
        hash: String,
        listing: Listing,
        stable: bool,
        files: usize,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{0}")]
    Store(#[from] object_store::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Bad(String),
}

/// What a poll accepts.
pub struct Limits {
    pub manifest: ManifestMode,
    pub max_file_bytes: u64,
    pub max_total_bytes: u64,
}

impl Source {
    pub fn new(spec: &SourceSpec, request_timeout: Duration) -> Result<Source, SourceError> {
        let retry = object_store::RetryConfig {
            max_retries: 2,
            retry_timeout: request_timeout,
            ..Default::default()
        };
        // Timeouts through config keys: `with_client_options` would drop what `from_env` put
        // there (AWS_ALLOW_HTTP, proxies, …), for every cloud alike.
        use object_store::ClientConfigKey as C;
        const CONNECT_TIMEOUT: &str = "5s";
        let timeout = format!("{}ms", request_timeout.as_millis());
        let (store, prefix): (Arc<dyn ObjectStore>, String) = match spec {
            SourceSpec::S3 { bucket, prefix } => {
                use object_store::aws::AmazonS3ConfigKey as K;
                let s = object_store::aws::AmazonS3Builder::from_env()
                    .with_bucket_name(bucket)
                    .with_retry(retry)
                    .with_config(K::Client(C::Timeout), &timeout)
                    .with_config(K::Client(C::ConnectTimeout), CONNECT_TIMEOUT)
                    .build()?;
                (Arc::new(s), prefix.clone())
            }
            // GCS and Azure read their credentials from the environment (Workload Identity /
            // Azure Workload Identity on the pod), like S3's IRSA.
            SourceSpec::Gcs { bucket, prefix } => {
                use object_store::gcp::GoogleConfigKey as K;
                let s = object_store::gcp::GoogleCloudStorageBuilder::from_env()
                    .with_bucket_name(bucket)
                    .with_retry(retry)
                    .with_config(K::Client(C::Timeout), &timeout)
                    .with_config(K::Client(C::ConnectTimeout), CONNECT_TIMEOUT)
                    .build()?;
                (Arc::new(s), prefix.clone())
            }
            SourceSpec::Azure { container, prefix } => {
                use object_store::azure::AzureConfigKey as K;
                let s = object_store::azure::MicrosoftAzureBuilder::from_env()
                    .with_container_name(container)
                    .with_retry(retry)
                    .with_config(K::Client(C::Timeout), &timeout)
                    .with_config(K::Client(C::ConnectTimeout), CONNECT_TIMEOUT)
                    .build()?;
                (Arc::new(s), prefix.clone())
            }
            SourceSpec::Dir(dir) => {
                if !dir.is_dir() {
                    return Err(SourceError::Bad(format!(
                        "source folder {} does not exist",
                        dir.display()
                    )));
                }
                (
                    Arc::new(object_store::local::LocalFileSystem::new_with_prefix(dir)?),
                    String::new(),
                )
            }
        };
        let fetch_delay = std::env::var("BERTH_SYNC_TEST_FETCH_DELAY_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map(Duration::from_millis);
        Ok(Source {
            store,
            prefix: (!prefix.is_empty()).then(|| ObjPath::from(prefix)),
            fetch_delay,
        })
    }

    fn rel(&self, p: &ObjPath) -> Option<String> {
        let parts: Vec<String> = match &self.prefix {
            Some(pre) => p
                .prefix_match(pre)?
                .map(|x| x.as_ref().to_string())
                .collect(),
            None => p.parts().map(|x| x.as_ref().to_string()).collect(),
        };
        // Hidden files and folders (`.keep`, kubelet `..data`, `..2024_…`) are not config.
        if parts.is_empty() || parts.iter().any(|s| s.starts_with('.') || s.is_empty()) {
            return None;
        }
        Some(parts.join("/"))
    }

    fn abs(&self, rel: &str) -> ObjPath {
        match &self.prefix {
            Some(pre) => ObjPath::from(format!("{pre}/{rel}")),
            None => ObjPath::from(rel),
        }
    }

    /// List the prefix. Objects whose listing lacks an ETag (s3s-fs) get one by HEAD, so an
    /// overwrite with the same size inside the same second is still seen.
    pub async fn list(&self) -> Result<Listing, SourceError> {
        let metas: Vec<_> = self.store.list(self.prefix.as_ref()).try_collect().await?;
        let mut out = Listing::new();
        for m in metas {
            let Some(rel) = self.rel(&m.location) else {
                continue;
            };
            let e_tag = match m.e_tag {
                Some(e) => Some(e),
                None => self
                    .store
                    .head(&m.location)
                    .await
                    .ok()
                    .and_then(|h| h.e_tag),
            };
            out.insert(
                rel,
                Entry {
                    size: m.size,
                    e_tag,
                    modified: m.last_modified.timestamp_nanos_opt().unwrap_or(0),
                },
            );
        }
        Ok(out)
    }

    async fn get(&self, rel: &str, limit: u64) -> Result<bytes::Bytes, SourceError> {
        let got = self.store.get(&self.abs(rel)).await?;
        if got.meta.size > limit {
            return Err(SourceError::Bad(format!(
                "{rel} is {} bytes, over the limit of {limit}",
                got.meta.size
            )));
        }
        Ok(got.bytes().await?)
    }

    /// One poll. `last` is the listing of the last poll that was acted on; `forced` ignores it
    /// (periodic resync). `known` says whether a content hash needs no download (committed or
    /// quarantined).
    pub async fn fetch(
        &self,
        staging: &Path,
        limits: &Limits,
        last: Option<&Listing>,
        forced: bool,
        known: &(dyn Fn(&str) -> bool + Sync),
        on_download: &(dyn Fn(bool) + Sync),
    ) -> Result<Fetched, SourceError> {
        let listing = self.list().await?;
        if !forced && last == Some(&listing) {
            return Ok(Fetched::Unchanged);
        }
        if listing.is_empty() {
            return Ok(Fetched::NotReady("the source is empty".into()));
        }
        let manifest = match limits.manifest {
            ManifestMode::Off => None,
            _ if listing.contains_key(MANIFEST) => {
                let raw = self.get(MANIFEST, limits.max_file_bytes).await?;
                match parse_manifest(&raw) {
                    Ok(m) => Some(m),
                    Err(e) => return Ok(Fetched::NotReady(format!("{MANIFEST}: {e}"))),
                }
            }
            ManifestMode::Required => {
                return Ok(Fetched::NotReady(format!("waiting for {MANIFEST}")));
            }
            ManifestMode::Auto => None,
        };
        let wanted: BTreeMap<String, Option<String>> = match &manifest {
            Some(m) => {
                let hash = version_hash(m);
                if known(&hash) {
                    return Ok(Fetched::Known { listing });
                }
                m.iter()
                    .map(|(k, v)| (k.clone(), Some(v.clone())))
                    .collect()
            }
            None => listing.keys().map(|k| (k.clone(), None)).collect(),
        };
        let total: u64 = wanted
            .keys()
            .filter_map(|k| listing.get(k))
            .map(|e| e.size)
            .sum();
        if total > limits.max_total_bytes {
            return Err(SourceError::Bad(format!(
                "the source holds {total} bytes, over the limit of {}",
                limits.max_total_bytes
            )));
        }
        on_download(true);
        if let Some(d) = self.fetch_delay {
            tokio::time::sleep(d).await;
        }
        let result = self.download(staging, &wanted, limits).await;
        on_download(false);
        let files = match result? {
            Ok(files) => files,
            Err(not_ready) => {
                // A manifest whose files no longer match: if the listing moved on, a newer publish
                // overtook this one (superseded); otherwise the publish is inconsistent (not ready).
                if let Some(m) = &manifest
                    && self.list().await? != listing
                {
                    return Ok(Fetched::Candidate {
                        hash: version_hash(m),
                        listing,
                        stable: false,
                        files: m.len(),
                    });
                }
                return Ok(Fetched::NotReady(not_ready));
            }
        };
        let hash = version_hash(&files);
        let again = self.list().await?;
        Ok(Fetched::Candidate {
            hash,
            stable: again == listing,
            listing,
            files: files.len(),
        })
    }

    /// Download `wanted` into `staging`; the inner `Err` is "not ready" (a manifest hash mismatch).
    async fn download(
        &self,
        staging: &Path,
        wanted: &BTreeMap<String, Option<String>>,
        limits: &Limits,
    ) -> Result<Result<BTreeMap<String, String>, String>, SourceError> {
        let mut files = BTreeMap::new();
        for (rel, expect) in wanted {
            let bytes = match self.get(rel, limits.max_file_bytes).await {
                Ok(b) => b,
                Err(SourceError::Store(object_store::Error::NotFound { .. }))
                    if expect.is_some() =>
                {
                    return Ok(Err(format!(
                        "{MANIFEST} lists {rel}, which is not in the source (yet)"
                    )));
                }
                Err(e) => return Err(e),
            };
            let h = sha256_hex(&bytes);
            if let Some(expect) = expect
                && *expect != h
            {
                return Ok(Err(format!(
                    "{rel} does not match its hash in {MANIFEST} (publish in progress?)"
                )));
            }
            let dest = safe_join(staging, rel)?;
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&dest, &bytes)?;
            files.insert(rel.clone(), h);
        }
        Ok(Ok(files))
    }
}

fn safe_join(base: &Path, rel: &str) -> Result<PathBuf, SourceError> {
    let mut p = base.to_path_buf();
    for seg in rel.split('/') {
        if seg.is_empty() || seg == "." || seg == ".." || seg.contains('\\') {
            return Err(SourceError::Bad(format!("refusing object name {rel:?}")));
        }
        p.push(seg);
    }
    Ok(p)
}

/// `_manifest.json`: `{"files": {"path": "<sha256 hex>", …}}`.
pub fn parse_manifest(raw: &[u8]) -> Result<BTreeMap<String, String>, String> {
    #[derive(serde::Deserialize)]
    struct M {
        files: BTreeMap<String, String>,
    }
    let m: M = serde_json::from_slice(raw)
        .map_err(|e| format!("expected {{\"files\": {{PATH: SHA256, …}}}}: {e}"))?;
    if m.files.is_empty() {
        return Err("lists no files".into());
    }
    for (k, v) in &m.files {
        if v.len() != 64 || !v.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("{k}: {v:?} is not a SHA-256 hex digest"));
        }
        if k == MANIFEST || k.split('/').any(|s| s.is_empty() || s.starts_with('.')) {
            return Err(format!("{k}: not a valid file name"));
        }
    }
    Ok(m.files
        .into_iter()
        .map(|(k, v)| (k, v.to_ascii_lowercase()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcs_and_azure_sources_build_from_the_environment() {
        // No network here: building the client only reads configuration.
        let spec = SourceSpec::parse("gs://bucket/prefix").unwrap();
        assert!(Source::new(&spec, Duration::from_secs(1)).is_ok());
        // Azure needs the storage account from the environment; without it, a clear error.
        if std::env::var_os("AZURE_STORAGE_ACCOUNT_NAME").is_none() {
            let spec = SourceSpec::parse("az://container/prefix").unwrap();
            let Err(e) = Source::new(&spec, Duration::from_secs(1)) else {
                panic!("az:// without an account should fail")
            };
            assert!(e.to_string().to_lowercase().contains("account"), "{e}");
        }
    }

    #[test]
    fn manifest_format() {
        let h = "a".repeat(64);
        let m = parse_manifest(
            format!(r#"{{"files": {{"app.yaml": "{h}", "x/y.json": "{h}"}}}}"#).as_bytes(),
        )
        .unwrap();
        assert_eq!(m.len(), 2);
        assert!(parse_manifest(br#"{"files": {}}"#).is_err());
        assert!(parse_manifest(br#"{"files": {"a": "nothex"}}"#).is_err());
        assert!(parse_manifest(format!(r#"{{"files": {{"../a": "{h}"}}}}"#).as_bytes()).is_err());
        assert!(
            parse_manifest(format!(r#"{{"files": {{".hidden": "{h}"}}}}"#).as_bytes()).is_err()
        );
        assert!(safe_join(Path::new("/s"), "../etc/passwd").is_err());
        assert!(safe_join(Path::new("/s"), "a//b").is_err());
        assert_eq!(
            safe_join(Path::new("/s"), "a/b").unwrap(),
            Path::new("/s/a/b")
        );
    }
}
