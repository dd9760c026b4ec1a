//! `config: { source, reload }`: the config-sync sidecar a service asks for, checked here so a
//! typo fails at build time with a position, not in the pod at 3 a.m.

/// Port of the sidecar's health, status and metrics endpoints.
pub const SYNC_PORT: u16 = 9480;
/// Name of the sidecar's port in the pod (container port names are unique per pod).
pub const SYNC_PORT_NAME: &str = "sync";
/// berth's own image runs the sidecar (`berth config-sync`), at the version that rendered it.
pub const DEFAULT_SIDECAR_IMAGE: &str =
    concat!("ghcr.io/berth-dev/berth:", env!("CARGO_PKG_VERSION"));

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cloud {
    Aws,
    Gcp,
    Azure,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigSync {
    pub source: String,
    /// The `--reload` argument, with the process name filled in for `signal:SIG`.
    pub reload: String,
    /// The sidecar finds the process by name: the pod must share its process namespace.
    pub signal_by_name: bool,
    pub validate: Option<String>,
    pub identity: Option<String>,
    /// None for a `file://` source.
    pub cloud: Option<Cloud>,
    pub image: String,
}

const SIGNALS: &[&str] = &["HUP", "USR1", "USR2", "INT", "QUIT", "TERM", "WINCH"];

/// Which field is wrong, what is wrong, and how to fix it.
pub(crate) type Problem = (&'static str, String, Option<String>);

pub(crate) fn parse(
    source: &str,
    reload: Option<&str>,
    command: Option<&[String]>,
    validate: Option<&str>,
    identity: Option<&str>,
    image: Option<&str>,
) -> Result<ConfigSync, Problem> {
    let (scheme, rest) = source.split_once("://").unwrap_or(("", ""));
    let cloud = match scheme {
        "s3" => Some(Cloud::Aws),
        "gs" => Some(Cloud::Gcp),
        "az" => Some(Cloud::Azure),
        "file" => None,
        _ => {
            return Err((
                "source",
                format!("`{source}` is not a config source"),
                Some("use s3://BUCKET/PREFIX, gs://BUCKET/PREFIX, az://CONTAINER/PREFIX or file:///DIR".into()),
            ));
        }
    };
    if rest.trim_matches('/').is_empty() || (cloud.is_none() && !rest.starts_with('/')) {
        return Err((
            "source",
            format!("`{source}` names no bucket or directory"),
            Some("e.g. s3://my-bucket/app/config or file:///srv/config".into()),
        ));
    }
    let reload = reload.unwrap_or("none");
    let mut signal_by_name = false;
    let reload = if reload == "none" {
        reload.to_owned()
    } else if let Some(rest) = reload.strip_prefix("signal:") {
        let (sig, target) = rest.split_once(':').unwrap_or((rest, ""));
        let name = sig.trim_start_matches("SIG").to_ascii_uppercase();
        if !SIGNALS.contains(&name.as_str()) {
            return Err((
                "reload",
                format!("unknown signal `{sig}`"),
                Some(format!("use one of {}", SIGNALS.join(", "))),
            ));
        }
        // No process named: the command's program when the spec sets one, else the app
        // container's main process (the sidecar finds it in the shared process namespace).
        let target = if target.is_empty() {
            command
                .and_then(|c| c.first())
                .map(|c| c.rsplit('/').next().unwrap_or(c).to_owned())
                .unwrap_or_default()
        } else {
            target.to_owned()
        };
        signal_by_name = !target.contains('/');
        if target.is_empty() {
            format!("signal:{name}")
        } else {
            format!("signal:{name}:{target}")
        }
    } else if let Some(rest) = reload.strip_prefix("http:") {
        let (method, url) = rest.split_once(':').unwrap_or(("", rest));
        if !matches!(method.to_ascii_uppercase().as_str(), "GET" | "POST" | "PUT")
            || !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err((
                "reload",
                format!("`{reload}` is not an HTTP reload"),
                Some("write http:METHOD:URL, e.g. http:POST:http://127.0.0.1:8080/-/reload".into()),
            ));
        }
        reload.to_owned()
    } else if let Some(cmd) = reload.strip_prefix("exec:") {
        if cmd.trim().is_empty() {
            return Err(("reload", "`exec:` needs a command".into(), None));
        }
        reload.to_owned()
    } else {
        return Err((
            "reload",
            format!("`{reload}` is not a reload method"),
            Some("use signal:HUP, signal:HUP:PROCESS, http:POST:URL, exec:COMMAND or none".into()),
        ));
    };
    if let Some(id) = identity {
        let ok = match cloud {
            Some(Cloud::Aws) => id.starts_with("arn:aws") && id.contains(":role/"),
            Some(Cloud::Gcp) => id.contains('@') && id.ends_with(".iam.gserviceaccount.com"),
            Some(Cloud::Azure) => {
                id.len() == 36 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
            }
            None => false,
        };
        if !ok {
            let expected = match cloud {
                Some(Cloud::Aws) => {
                    "an IAM role ARN such as arn:aws:iam::123456789012:role/app-config"
                }
                Some(Cloud::Gcp) => {
                    "a Google service account such as app@project.iam.gserviceaccount.com"
                }
                Some(Cloud::Azure) => "an Azure client id (a UUID)",
                None => "no identity: a file:// source needs none",
            };
            return Err((
                "identity",
                format!("`{id}` is not a cloud identity for this source"),
                Some(format!("expected {expected}")),
            ));
        }
    }
    Ok(ConfigSync {
        source: source.to_owned(),
        reload,
        signal_by_name,
        validate: validate.map(str::to_owned),
        identity: identity.map(str::to_owned),
        cloud,
        image: image.unwrap_or(DEFAULT_SIDECAR_IMAGE).to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(source: &str, reload: Option<&str>, command: Option<&[String]>) -> ConfigSync {
        parse(source, reload, command, None, None, None).unwrap()
    }

    #[test]
    fn signals_name_the_process_from_the_command() {
        let cmd = vec!["/usr/bin/nginx".to_owned(), "-g".to_owned()];
        let s = ok("s3://bucket/app", Some("signal:HUP"), Some(&cmd));
        assert_eq!(s.reload, "signal:HUP:nginx");
        assert!(s.signal_by_name);
        assert_eq!(s.cloud, Some(Cloud::Aws));
        let s = ok("s3://bucket/app", Some("signal:SIGUSR1:/run/app.pid"), None);
        assert_eq!(s.reload, "signal:USR1:/run/app.pid");
        assert!(!s.signal_by_name);
        assert_eq!(ok("file:///srv/cfg", None, None).reload, "none");
        // Neither a process nor a command: the app container's main process, found by the
        // sidecar through the shared process namespace.
        let s = ok("s3://bucket/app", Some("signal:HUP"), None);
        assert_eq!(s.reload, "signal:HUP");
        assert!(s.signal_by_name);
    }

    #[test]
    fn mistakes_name_their_field() {
        let e = parse("s4://b/x", None, None, None, None, None).unwrap_err();
        assert_eq!(e.0, "source");
        let e = parse(
            "s3://b/x",
            Some("signal:KILLME:app"),
            None,
            None,
            None,
            None,
        )
        .unwrap_err();
        assert!(e.1.contains("unknown signal"));
        let e = parse(
            "s3://b/x",
            Some("http:POST:localhost"),
            None,
            None,
            None,
            None,
        )
        .unwrap_err();
        assert_eq!(e.0, "reload");
        let e = parse("s3://b/x", None, None, None, Some("my-role"), None).unwrap_err();
        assert_eq!(e.0, "identity");
        assert!(
            parse(
                "s3://b/x",
                None,
                None,
                None,
                Some("arn:aws:iam::1:role/r"),
                None
            )
            .is_ok()
        );
    }
}
