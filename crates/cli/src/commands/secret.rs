//! `berth secret set ENV SERVICE KEY`: seal one value with the environment's certificate, for
//! exactly the Secret that will hold it (strict scope: its namespace and `SERVICE-secrets`), and
//! write it to its sealed file atomically. No other value is read or revealed.
//!
//! `berth secret list ENV`: which secrets the services of ENV read and whether each value exists.
//! Values are never read into output.

use super::app::load_app_with;
use super::atomic::write_atomically;
use super::seal::{fail, write_stdout};
use crate::cli::{OutputFormat, SecretCommand, SecretListArgs, SecretSetArgs};
use crate::failure::{CmdResult, Failure};
use berth_seal::values::{read_all, read_file};
use berth_seal::{Scope, SealingCert, Zeroizing, seal_value};
use berth_spec::{App, LoadOptions, Loaded, SecretDelivery};
use miette::miette;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

pub(super) fn run(command: SecretCommand) -> CmdResult {
    match command {
        SecretCommand::Set(args) => set(args),
        SecretCommand::List(args) => list(args),
    }
}

/// The spec with every value optional: these commands exist to fill in the missing ones.
fn load(app: &Path) -> Result<Loaded, Failure> {
    load_app_with(
        app,
        &LoadOptions {
            allow_plain_secrets: true,
            secret_values_optional: true,
        },
    )
}

fn env_app<'a>(loaded: &'a Loaded, env: &str) -> Result<&'a App, Failure> {
    loaded.app(env).ok_or_else(|| {
        Failure::bad_input(miette!(
            help = format!(
                "environments in {}: {}",
                loaded.file.display(),
                loaded.env_names().join(", ")
            ),
            "no environment `{env}` in {}",
            loaded.file.display()
        ))
    })
}

fn app_dir(loaded: &Loaded) -> PathBuf {
    match loaded.file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

fn set(args: SecretSetArgs) -> CmdResult {
    let loaded = load(&args.app)?;
    let app = env_app(&loaded, &args.env)?;
    let env = &args.env;
    let sealed = match &app.secrets {
        SecretDelivery::Sealed(s) => s,
        other => {
            let (what, help) = match other {
                SecretDelivery::References => (
                    "has no `secrets:` block".to_owned(),
                    format!(
                        "add `secrets: {{ mode: sealed, cert: certs/{env}.pem, values: secrets/{env}/ }}` to environment `{env}` (see docs/secrets.md)"
                    ),
                ),
                SecretDelivery::Plain(p) => (
                    "uses `mode: plain`".to_owned(),
                    format!("its values are in `{}`; edit that file", p.from),
                ),
                SecretDelivery::External(e) => (
                    "uses `mode: external`".to_owned(),
                    format!(
                        "its values live in the secret store `{}`, under `{}/SERVICE`; set them there",
                        e.store, e.path
                    ),
                ),
                SecretDelivery::Sealed(_) => unreachable!(),
            };
            return Err(Failure::bad_input(miette!(
                help = help,
                "environment `{env}` {what}; `berth secret set` writes sealed values only"
            )));
        }
    };
    let Some(svc) = app.services.iter().find(|s| s.name == args.service) else {
        return Err(Failure::bad_input(miette!(
            help = format!(
                "services in environment `{env}`: {}",
                app.services
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "no service `{}` in environment `{env}`",
            args.service
        )));
    };
    let keys = svc.secret_keys();
    if !keys.contains(&args.key.as_str()) {
        return Err(Failure::bad_input(miette!(
            help = format!(
                "add `{}` to `services.{}.secrets` in {} first{}",
                args.key,
                svc.name,
                loaded.file.display(),
                if keys.is_empty() {
                    String::new()
                } else {
                    format!(" (it reads: {})", keys.join(", "))
                }
            ),
            "service `{}` has no secret `{}`",
            svc.name,
            args.key
        )));
    }

    // The certificate before the value: no value is read for nothing.
    let cert_source = app_dir(&loaded).join(&sealed.cert);
    let cert = SealingCert::from_pem(&sealed.cert_pem, &cert_source.display().to_string())
        .map_err(fail)?;
    cert.ensure_valid_at(SystemTime::now()).map_err(fail)?;

    let (value, from) = read_value(&args)?;
    if value.is_empty() {
        return Err(Failure::bad_input(miette!(
            help = "pass the value on standard input (`printf %s \"$VALUE\" | berth secret set …`), or with --from-file / --from-env",
            "the value for `{}` is empty ({from})",
            args.key
        )));
    }
    let name = format!("{}-secrets", svc.name);
    let ciphertext =
        seal_value(&cert, Scope::Strict, &svc.namespace, &name, &value).map_err(fail)?;
    drop(value);

    let rel = sealed.value_path(&svc.name, &args.key);
    let path = app_dir(&loaded).join(&rel);
    let existed = path.exists();
    write_atomically(&path, format!("{ciphertext}\n").as_bytes()).map_err(|e| {
        Failure::failed(miette!(
            "cannot write the sealed value to {}: {e}",
            path.display()
        ))
    })?;
    eprintln!(
        "{} {} ({from}) for Secret {}/{name}, strict scope, certificate {} (sha256 {}, valid until {}) -> {}",
        if existed { "resealed" } else { "sealed" },
        args.key,
        svc.namespace,
        sealed.cert,
        cert.fingerprint().trim_start_matches("sha256:"),
        cert.not_after().unwrap_or("unknown"),
        rel.display(),
    );
    Ok(ExitCode::SUCCESS)
}

/// The value from --from-file, --from-env or standard input, in zeroized memory, and a
/// description of where it came from (never the value).
fn read_value(args: &SecretSetArgs) -> Result<(Zeroizing<Vec<u8>>, String), Failure> {
    if let Some(file) = &args.from_file {
        let value = read_file(file).map_err(|e| {
            Failure::bad_input(miette!(
                "cannot read the value from {}: {e}",
                file.display()
            ))
        })?;
        return Ok((value, format!("from file {}", file.display())));
    }
    if let Some(var) = &args.from_env {
        let Some(os) = std::env::var_os(var) else {
            return Err(Failure::bad_input(miette!(
                help = format!("export {var} first, or pass the value on standard input"),
                "environment variable `{var}` is not set"
            )));
        };
        let value = Zeroizing::new(os.into_encoded_bytes());
        return Ok((value, format!("from ${var}")));
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprintln!(
            "reading the value of {} from standard input (not echoed to any file; end with Ctrl-D)",
            args.key
        );
    }
    let value = read_all(&mut stdin.lock(), 0)
        .map_err(|e| Failure::failed(miette!("cannot read the value from standard input: {e}")))?;
    Ok((value, "from standard input".to_owned()))
}

fn list(args: SecretListArgs) -> CmdResult {
    let loaded = load(&args.app)?;
    let app = env_app(&loaded, &args.env)?;
    // (service, key, present, where)
    let mut rows: Vec<(String, String, Option<bool>, String)> = Vec::new();
    let mode = app.secrets.mode().map(|m| m.as_str()).unwrap_or("none");
    for svc in &app.services {
        for key in svc.secret_keys() {
            let (present, location) = match &app.secrets {
                SecretDelivery::References => (
                    None,
                    format!("Secret {}-secrets (created outside berth)", svc.name),
                ),
                SecretDelivery::Plain(p) => {
                    let present = p
                        .services
                        .get(&svc.name)
                        .and_then(|v| v.iter().find(|(k, _)| k == key))
                        .is_some_and(|(_, v)| v.is_some());
                    (Some(present), p.from.clone())
                }
                SecretDelivery::Sealed(s) => {
                    let present = s
                        .services
                        .get(&svc.name)
                        .and_then(|v| v.iter().find(|(k, _)| k == key))
                        .is_some_and(|(_, v)| v.is_some());
                    (
                        Some(present),
                        s.value_path(&svc.name, key).display().to_string(),
                    )
                }
                SecretDelivery::External(e) => (
                    None,
                    format!(
                        "{} {}: {} property {key}",
                        e.store_kind.as_str(),
                        e.store,
                        e.remote_key(&svc.name)
                    ),
                ),
            };
            rows.push((svc.name.clone(), key.to_owned(), present, location));
        }
    }
    let missing = rows.iter().filter(|r| r.2 == Some(false)).count();
    match args.output {
        OutputFormat::Json => {
            let json = serde_json::json!({
                "env": app.env,
                "mode": mode,
                "secrets": rows.iter().map(|(s, k, p, l)| serde_json::json!({
                    "service": s, "key": k, "present": p, "location": l,
                })).collect::<Vec<_>>(),
            });
            write_stdout(format!("{}\n", serde_json::to_string_pretty(&json).unwrap()).as_bytes())?;
        }
        OutputFormat::Table => {
            let mut out = format!("environment {} (mode: {mode})\n", app.env);
            let w_svc = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(7);
            let w_key = rows.iter().map(|r| r.1.len()).max().unwrap_or(0).max(3);
            out.push_str(&format!(
                "{:w_svc$}  {:w_key$}  {:8}  {}\n",
                "SERVICE", "KEY", "VALUE", "WHERE"
            ));
            for (s, k, p, l) in &rows {
                let status = match p {
                    Some(true) => "present",
                    Some(false) => "MISSING",
                    None => "-",
                };
                out.push_str(&format!("{s:w_svc$}  {k:w_key$}  {status:8}  {l}\n"));
            }
            if rows.is_empty() {
                out.push_str("(no service reads secrets)\n");
            }
            write_stdout(out.as_bytes())?;
            if missing > 0 && matches!(app.secrets, SecretDelivery::Sealed(_)) {
                eprintln!(
                    "{missing} value(s) missing: seal each with `berth secret set {} SERVICE KEY`",
                    app.env
                );
            }
        }
    }
    Ok(if missing > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
