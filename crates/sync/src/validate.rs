//! Validation of a staged version: every `.json`, `.yaml` and `.yml` file must parse; with
//! `--schema` each of them must satisfy the JSON Schema; with `--validate-cmd` the command (run by
//! `sh -c`, `{dir}` replaced by the staging directory, env `CONFIG_DIR` and `CONFIG_VERSION`) must
//! exit 0 within `--validate-timeout`.

use std::path::Path;
use std::time::Duration;

/// Why a version was rejected; `label` is the `reason` label of the rejections metric.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub label: &'static str,
    pub message: String,
}

pub struct Validator {
    schema: Option<jsonschema::Validator>,
    command: Option<String>,
    timeout: Duration,
}

impl Validator {
    pub fn new(
        schema: Option<&Path>,
        command: Option<String>,
        timeout: Duration,
    ) -> Result<Self, String> {
        let schema = match schema {
            None => None,
            Some(p) => {
                let raw = std::fs::read(p).map_err(|e| format!("--schema {}: {e}", p.display()))?;
                let value: serde_json::Value =
                    parse_any(p, &raw).map_err(|e| format!("--schema {}: {e}", p.display()))?;
                Some(jsonschema::validator_for(&value).map_err(|e| {
                    format!("--schema {}: not a valid JSON Schema: {e}", p.display())
                })?)
            }
        };
        Ok(Validator {
            schema,
            command,
            timeout,
        })
    }

    pub async fn validate(&self, dir: &Path, version: &str) -> Result<(), Rejection> {
        let mut files = vec![];
        collect(dir, dir, &mut files).map_err(|e| Rejection {
            label: "io",
            message: e.to_string(),
        })?;
        if files.is_empty() {
            return Err(Rejection {
                label: "empty",
                message: "the version has no files".into(),
            });
        }
        for rel in &files {
            let p = dir.join(rel);
            let is_data = [".json", ".yaml", ".yml"].iter().any(|e| rel.ends_with(e));
            if !is_data {
                continue;
            }
            let raw = std::fs::read(&p).map_err(|e| Rejection {
                label: "io",
                message: format!("{rel}: {e}"),
            })?;
            let value = parse_any(&p, &raw).map_err(|e| Rejection {
                label: "parse",
                message: format!("{rel}: {e}"),
            })?;
            if let Some(schema) = &self.schema {
                let errors: Vec<String> = schema
                    .iter_errors(&value)
                    .take(5)
                    .map(|e| format!("{} at {}", e, e.instance_path()))
                    .collect();
                if !errors.is_empty() {
                    return Err(Rejection {
                        label: "schema",
                        message: format!("{rel}: {}", errors.join("; ")),
                    });
                }
            }
        }
        if let Some(cmd) = &self.command {
            run_command(cmd, dir, version, self.timeout)
                .await
                .map_err(|message| Rejection {
                    label: "command",
                    message,
                })?;
        }
        Ok(())
    }
}

fn parse_any(p: &Path, raw: &[u8]) -> Result<serde_json::Value, String> {
    let text = std::str::from_utf8(raw).map_err(|_| "not UTF-8".to_string())?;
    if p.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))
    } else {
        serde_saphyr::from_str(text).map_err(|e| format!("invalid YAML: {e}"))
    }
}

fn collect(base: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        if e.file_type()?.is_dir() {
            collect(base, &e.path(), out)?;
        } else {
            out.push(
                e.path()
                    .strip_prefix(base)
                    .expect("under base")
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
    out.sort();
    Ok(())
}

/// Run `sh -c CMD` with a timeout; Ok when it exits 0. The output tail goes into the error.
pub async fn run_command(
    cmd: &str,
    dir: &Path,
    version: &str,
    timeout: Duration,
) -> Result<(), String> {
    let cmd = cmd.replace("{dir}", &dir.to_string_lossy());
    let child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(&cmd)
        .env("CONFIG_DIR", dir)
        .env("CONFIG_VERSION", version)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("could not run `{cmd}`: {e}"))?;
    match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Err(_) => Err(format!("`{cmd}` did not finish within {timeout:?}")),
        Ok(Err(e)) => Err(format!("`{cmd}`: {e}")),
        Ok(Ok(out)) if out.status.success() => Ok(()),
        Ok(Ok(out)) => {
            let mut text = String::from_utf8_lossy(&out.stderr).into_owned();
            text.push_str(&String::from_utf8_lossy(&out.stdout));
            let tail: String = text
                .trim()
                .chars()
                .rev()
                .take(400)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            Err(format!("`{cmd}` exited with {}: {tail}", out.status))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn parse_schema_and_command() {
        let t = tempfile::tempdir().unwrap();
        let schema = t.path().join("schema.json");
        std::fs::write(&schema, r#"{"type":"object","required":["port"]}"#).unwrap();
        let dir = t.path().join("v");
        std::fs::create_dir(&dir).unwrap();
        let v = Validator::new(
            Some(&schema),
            Some("test -f {dir}/app.yaml".into()),
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(v.validate(&dir, "x").await.unwrap_err().label, "empty");
        std::fs::write(dir.join("app.yaml"), "port: [1\n").unwrap();
        assert_eq!(v.validate(&dir, "x").await.unwrap_err().label, "parse");
        std::fs::write(dir.join("app.yaml"), "name: x\n").unwrap();
        assert_eq!(v.validate(&dir, "x").await.unwrap_err().label, "schema");
        std::fs::write(dir.join("app.yaml"), "port: 80\n").unwrap();
        v.validate(&dir, "x").await.unwrap();
        let v = Validator::new(None, Some("exit 3".into()), Duration::from_secs(10)).unwrap();
        assert_eq!(v.validate(&dir, "x").await.unwrap_err().label, "command");
        let v = Validator::new(None, Some("sleep 30".into()), Duration::from_millis(200)).unwrap();
        assert!(
            v.validate(&dir, "x")
                .await
                .unwrap_err()
                .message
                .contains("did not finish")
        );
    }
}
