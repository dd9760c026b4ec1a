//! Daemon configuration (built by `berth config-sync` from its flags, or from JSON by the test
//! harness) and the parsers for its string forms.

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct ConfigError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, ConfigError> {
    Err(ConfigError(msg.into()))
}

/// Where config comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceSpec {
    S3 { bucket: String, prefix: String },
    Gcs { bucket: String, prefix: String },
    Azure { container: String, prefix: String },
    Dir(PathBuf),
}

impl SourceSpec {
    pub fn parse(s: &str) -> Result<Self, ConfigError> {
        let split = |rest: &str| -> Result<(String, String), ConfigError> {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return err(format!(
                    "source `{s}` has no bucket: expected SCHEME://BUCKET[/PREFIX]"
                ));
            }
            Ok((bucket.to_string(), prefix.trim_matches('/').to_string()))
        };
        if let Some(rest) = s.strip_prefix("s3://") {
            let (bucket, prefix) = split(rest)?;
            Ok(SourceSpec::S3 { bucket, prefix })
        } else if let Some(rest) = s.strip_prefix("gs://") {
            let (bucket, prefix) = split(rest)?;
            Ok(SourceSpec::Gcs { bucket, prefix })
        } else if let Some(rest) = s.strip_prefix("az://") {
            let (container, prefix) = split(rest)?;
            Ok(SourceSpec::Azure { container, prefix })
        } else if let Some(rest) = s.strip_prefix("file://") {
            if !rest.starts_with('/') {
                return err(format!(
                    "source `{s}`: file:// needs an absolute path, e.g. file:///etc/app-config"
                ));
            }
            Ok(SourceSpec::Dir(PathBuf::from(rest)))
        } else {
            err(format!(
                "source `{s}`: expected s3://BUCKET/PREFIX, gs://BUCKET/PREFIX, az://CONTAINER/PREFIX or file:///DIR"
            ))
        }
    }
}

/// How to tell the app that `current` changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReloadSpec {
    /// Send `signal` to the process named `target` (found in /proc; needs `shareProcessNamespace`),
    /// or to the PID in the file `target` when it contains a `/`. An empty `target` means the
    /// main process of every other container in the pod (see `reload::find_pids`).
    Signal {
        signal: i32,
        name: String,
        target: String,
    },
    Http {
        method: String,
        url: String,
    },
    Exec {
        command: String,
    },
    None,
}

pub fn signal_number(name: &str) -> Option<i32> {
    let n = name.trim_start_matches("SIG").to_ascii_uppercase();
    Some(match n.as_str() {
        "HUP" => libc::SIGHUP,
        "INT" => libc::SIGINT,
        "QUIT" => libc::SIGQUIT,
        "USR1" => libc::SIGUSR1,
        "USR2" => libc::SIGUSR2,
        "TERM" => libc::SIGTERM,
        "WINCH" => libc::SIGWINCH,
        _ => return None,
    })
}

impl ReloadSpec {
    pub fn parse(s: &str) -> Result<Self, ConfigError> {
        if s == "none" {
            return Ok(ReloadSpec::None);
        }
        if let Some(rest) = s.strip_prefix("signal:") {
            let (sig, target) = rest.split_once(':').unwrap_or((rest, ""));
            let Some(signal) = signal_number(sig) else {
                return err(format!(
                    "reload `{s}`: unknown signal `{sig}` (use HUP, USR1, USR2, INT, QUIT, TERM or WINCH)"
                ));
            };
            return Ok(ReloadSpec::Signal {
                signal,
                name: sig.trim_start_matches("SIG").to_ascii_uppercase(),
                target: target.to_string(),
            });
        }
        if let Some(rest) = s.strip_prefix("http:") {
            let (method, url) = rest.split_once(':').unwrap_or(("", rest));
            let method = method.to_ascii_uppercase();
            if !matches!(method.as_str(), "GET" | "POST" | "PUT")
                || !(url.starts_with("http://") || url.starts_with("https://"))
            {
                return err(format!(
                    "reload `{s}`: expected http:METHOD:URL, e.g. http:POST:http://127.0.0.1:8080/-/reload"
                ));
            }
            return Ok(ReloadSpec::Http {
                method,
                url: url.to_string(),
            });
        }
        if let Some(cmd) = s.strip_prefix("exec:") {
            if cmd.trim().is_empty() {
                return err(format!("reload `{s}`: exec: needs a command"));
            }
            return Ok(ReloadSpec::Exec {
                command: cmd.to_string(),
            });
        }
        err(format!(
            "reload `{s}`: expected signal:SIG[:PROCESS|PIDFILE], http:METHOD:URL, exec:COMMAND or none"
        ))
    }
}

/// `_manifest.json` handling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ManifestMode {
    /// Use `_manifest.json` when the source has one.
    #[default]
    Auto,
    /// Do nothing until the source has a valid `_manifest.json`.
    Required,
    /// Ignore `_manifest.json` (it is then synced like any other file).
    Off,
}

impl std::str::FromStr for ManifestMode {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        match s {
            "auto" => Ok(ManifestMode::Auto),
            "required" => Ok(ManifestMode::Required),
            "off" => Ok(ManifestMode::Off),
            _ => err(format!(
                "manifest mode `{s}`: expected auto, required or off"
            )),
        }
    }
}

/// `500ms`, `2s`, `5m`, `1h`, or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, ConfigError> {
    let s = s.trim();
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map(|i| s.split_at(i))
        .unwrap_or((s, "s"));
    let Ok(n) = num.parse::<f64>() else {
        return err(format!("duration `{s}`: expected e.g. 500ms, 2s, 5m, 1h"));
    };
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => {
            return err(format!(
                "duration `{s}`: unknown unit `{unit}` (ms, s, m, h)"
            ));
        }
    };
    Ok(Duration::from_secs_f64(secs))
}

mod dur {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;
    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{}ms", d.as_millis()))
    }
    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        super::parse_duration(&s).map_err(serde::de::Error::custom)
    }
}

/// The defaults of every setting, written once: [`Config::default`] parses them and the CLI's
/// flags (`berth config-sync`, `crates/cli/src/cli.rs`) show and use them. Durations in the
/// flag syntax ([`parse_duration`]).
pub mod defaults {
    pub const ROOT: &str = "/config";
    pub const VALIDATE_TIMEOUT: &str = "30s";
    pub const RELOAD: &str = "none";
    pub const RELOAD_TIMEOUT: &str = "10s";
    pub const RELOAD_RETRIES: u32 = 3;
    pub const MIN_RELOAD_INTERVAL: &str = "1s";
    pub const HEALTHY_COUNT: u32 = 3;
    pub const VERIFY_TIMEOUT: &str = "30s";
    pub const VERIFY_INTERVAL: &str = "200ms";
    pub const POLL_INTERVAL: &str = "30s";
    pub const MAX_BACKOFF: &str = "5m";
    pub const RESYNC_INTERVAL: &str = "5m";
    pub const DEBOUNCE: &str = "300ms";
    pub const STALE_AFTER: &str = "10m";
    pub const REQUEST_TIMEOUT: &str = "30s";
    pub const LISTEN: &str = "0.0.0.0:9480";
    pub const MANIFEST: &str = "auto";
    pub const KEEP_VERSIONS: usize = 3;
    pub const MAX_FILE_BYTES: u64 = 16 << 20;
    pub const MAX_TOTAL_BYTES: u64 = 64 << 20;
}

/// Everything the daemon needs. Defaults match the CLI's.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub source: String,
    pub root: PathBuf,
    pub validate_cmd: Option<String>,
    #[serde(with = "dur")]
    pub validate_timeout: Duration,
    pub schema: Option<PathBuf>,
    pub reload: String,
    #[serde(with = "dur")]
    pub reload_timeout: Duration,
    pub reload_retries: u32,
    #[serde(with = "dur")]
    pub min_reload_interval: Duration,
    pub health_url: Option<String>,
    pub config_version_url: Option<String>,
    pub healthy_count: u32,
    pub verify_initial: bool,
    #[serde(with = "dur")]
    pub verify_timeout: Duration,
    #[serde(with = "dur")]
    pub verify_interval: Duration,
    #[serde(with = "dur")]
    pub poll_interval: Duration,
    #[serde(with = "dur")]
    pub max_backoff: Duration,
    #[serde(with = "dur")]
    pub resync_interval: Duration,
    #[serde(with = "dur")]
    pub debounce: Duration,
    #[serde(with = "dur")]
    pub stale_after: Duration,
    #[serde(with = "dur")]
    pub request_timeout: Duration,
    pub listen: SocketAddr,
    pub kubelet_compatible: bool,
    pub manifest: ManifestMode,
    pub keep_versions: usize,
    pub max_file_bytes: u64,
    pub max_total_bytes: u64,
}

impl Default for Config {
    fn default() -> Self {
        let d = |s: &str| parse_duration(s).expect("valid default duration");
        Config {
            source: String::new(),
            root: PathBuf::from(defaults::ROOT),
            validate_cmd: None,
            validate_timeout: d(defaults::VALIDATE_TIMEOUT),
            schema: None,
            reload: defaults::RELOAD.into(),
            reload_timeout: d(defaults::RELOAD_TIMEOUT),
            reload_retries: defaults::RELOAD_RETRIES,
            min_reload_interval: d(defaults::MIN_RELOAD_INTERVAL),
            health_url: None,
            config_version_url: None,
            healthy_count: defaults::HEALTHY_COUNT,
            verify_initial: false,
            verify_timeout: d(defaults::VERIFY_TIMEOUT),
            verify_interval: d(defaults::VERIFY_INTERVAL),
            poll_interval: d(defaults::POLL_INTERVAL),
            max_backoff: d(defaults::MAX_BACKOFF),
            resync_interval: d(defaults::RESYNC_INTERVAL),
            debounce: d(defaults::DEBOUNCE),
            stale_after: d(defaults::STALE_AFTER),
            request_timeout: d(defaults::REQUEST_TIMEOUT),
            listen: defaults::LISTEN.parse().expect("valid default"),
            kubelet_compatible: false,
            manifest: defaults::MANIFEST.parse().expect("valid default"),
            keep_versions: defaults::KEEP_VERSIONS,
            max_file_bytes: defaults::MAX_FILE_BYTES,
            max_total_bytes: defaults::MAX_TOTAL_BYTES,
        }
    }
}

impl Config {
    /// Check the string forms; returns the parsed source and reload.
    pub fn parsed(&self) -> Result<(SourceSpec, ReloadSpec), ConfigError> {
        let source = SourceSpec::parse(&self.source)?;
        let reload = ReloadSpec::parse(&self.reload)?;
        if self.healthy_count == 0 {
            return err("--healthy-count must be at least 1");
        }
        if self.poll_interval.is_zero() {
            return err("--poll-interval must be more than 0");
        }
        Ok((source, reload))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources() {
        assert_eq!(
            SourceSpec::parse("s3://b/a/b/").unwrap(),
            SourceSpec::S3 {
                bucket: "b".into(),
                prefix: "a/b".into()
            }
        );
        assert_eq!(
            SourceSpec::parse("file:///x").unwrap(),
            SourceSpec::Dir("/x".into())
        );
        assert!(SourceSpec::parse("s3://").is_err());
        assert!(SourceSpec::parse("file://rel").is_err());
        assert!(SourceSpec::parse("http://x").is_err());
    }

    #[test]
    fn reloads() {
        assert_eq!(
            ReloadSpec::parse("signal:HUP:nginx").unwrap(),
            ReloadSpec::Signal {
                signal: libc::SIGHUP,
                name: "HUP".into(),
                target: "nginx".into()
            }
        );
        assert_eq!(
            ReloadSpec::parse("http:POST:http://127.0.0.1:1/-/reload").unwrap(),
            ReloadSpec::Http {
                method: "POST".into(),
                url: "http://127.0.0.1:1/-/reload".into()
            }
        );
        assert_eq!(
            ReloadSpec::parse("exec:kill -HUP 1").unwrap(),
            ReloadSpec::Exec {
                command: "kill -HUP 1".into()
            }
        );
        assert!(ReloadSpec::parse("signal:FOO:x").is_err());
        assert_eq!(
            ReloadSpec::parse("signal:HUP").unwrap(),
            ReloadSpec::Signal {
                signal: libc::SIGHUP,
                name: "HUP".into(),
                target: String::new(),
            }
        );
        assert!(ReloadSpec::parse("http:POST:ftp://x").is_err());
        assert!(ReloadSpec::parse("bogus").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert!(parse_duration("5x").is_err());
        let c: Config =
            serde_json::from_str(r#"{"source":"file:///x","poll_interval":"100ms"}"#).unwrap();
        assert_eq!(c.poll_interval, Duration::from_millis(100));
    }
}
