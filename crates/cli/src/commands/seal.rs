//! `berth seal`: values or a plain Secret manifest → a kubeseal-compatible SealedSecret.
//!
//! Values come from files, environment variables or standard input; they are held in zeroized
//! memory, never written anywhere unencrypted and never named in a message (only their keys).

use crate::cli::{ManifestFormat, SealArgs, SealScope};
use crate::failure::{CmdResult, Failure};
use berth_seal::fetch::{ClusterTarget, FetchedCert, cert_from_cluster, cert_from_location};
use berth_seal::values::{ValueArg, ValueSource, read_all};
use berth_seal::{PlainSecret, Scope, SealError, SealingCert, Zeroizing, seal_value};
use miette::miette;
use std::io::Write;
use std::process::ExitCode;
use std::time::SystemTime;

/// Maps a library error to the exit-code classes: the user's input → 2, anything else → 1.
pub(crate) fn fail(e: SealError) -> Failure {
    if e.is_bad_input() {
        Failure::bad_input(e)
    } else {
        Failure::failed(e)
    }
}

fn scope(s: SealScope) -> Scope {
    match s {
        SealScope::Strict => Scope::Strict,
        SealScope::NamespaceWide => Scope::NamespaceWide,
        SealScope::ClusterWide => Scope::ClusterWide,
    }
}

pub(super) fn run(args: SealArgs) -> CmdResult {
    let scope = scope(args.scope);

    if args.fetch_cert {
        let fetched = fetch(&args)?;
        let cert = SealingCert::from_pem(&fetched.pem, &fetched.source_name).map_err(fail)?;
        if let Err(e) = cert.ensure_valid_at(SystemTime::now()) {
            eprintln!("warning: {e}");
        }
        write_stdout(&fetched.pem)?;
        return Ok(ExitCode::SUCCESS);
    }

    // Check every argument before touching the network or reading any value.
    let value_args = args
        .values
        .iter()
        .enumerate()
        .map(|(i, a)| ValueArg::parse(a, i + 1))
        .collect::<Result<Vec<_>, _>>()
        .map_err(fail)?;
    let stdin_uses = value_args
        .iter()
        .filter(|v| v.source == ValueSource::Stdin)
        .count();
    if stdin_uses > 1 {
        return Err(Failure::bad_input(miette!(
            help = "pass the other values with KEY=@FILE or KEY=env:VARIABLE",
            "standard input can hold only one value, but {stdin_uses} values read it (`-`)"
        )));
    }
    if args.raw && value_args.len() != 1 {
        return Err(Failure::bad_input(miette!(
            help = "e.g. berth seal --raw -n NAMESPACE --name NAME @password.txt",
            "--raw seals exactly one value; {} given",
            value_args.len()
        )));
    }
    if !value_args.is_empty() && args.filename.is_some() {
        return Err(Failure::bad_input(miette!(
            "pass either values (KEY=...) or a Secret manifest (-f), not both"
        )));
    }
    let mut keys = Vec::new();
    if !args.raw {
        for v in &value_args {
            let Some(k) = v.key_or_default() else {
                return Err(Failure::bad_input(miette!(
                    help = "name the key: KEY=env:VARIABLE or KEY=-",
                    "a value from {} has no key",
                    v.source.describe()
                )));
            };
            if keys.contains(&k) {
                return Err(Failure::bad_input(miette!("the key `{k}` is given twice")));
            }
            keys.push(k);
        }
    }

    let fetched = fetch(&args)?;
    let cert = SealingCert::from_pem(&fetched.pem, &fetched.source_name).map_err(fail)?;
    cert.ensure_valid_at(SystemTime::now()).map_err(fail)?;

    let mut stdin = std::io::stdin().lock();
    let sealed = if args.raw {
        let ns = args.namespace.clone().unwrap_or_default();
        let name = args.name.clone().unwrap_or_default();
        let value = value_args[0].read(&mut stdin).map_err(fail)?;
        let mut text = seal_value(&cert, scope, &ns, &name, &value).map_err(fail)?;
        text.push('\n');
        write_stdout(text.as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    } else if value_args.is_empty() {
        let (input, source_name): (Zeroizing<Vec<u8>>, String) = match &args.filename {
            Some(p) if p.as_os_str() != "-" => (
                berth_seal::values::read_file(p)
                    .map_err(|e| Failure::bad_input(miette!("cannot read {}: {e}", p.display())))?,
                p.display().to_string(),
            ),
            _ => {
                if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
                    return Err(Failure::bad_input(miette!(
                        help = "kubectl create secret generic NAME --from-file=KEY=PATH --dry-run=client -o yaml | berth seal -n NAMESPACE",
                        "nothing to seal: pass KEY=@FILE, KEY=env:VARIABLE or KEY=- values, or a Secret manifest with -f or on standard input"
                    )));
                }
                (
                    read_all(&mut stdin, 0)
                        .map_err(|e| Failure::failed(miette!("cannot read standard input: {e}")))?,
                    "standard input".to_string(),
                )
            }
        };
        let text = std::str::from_utf8(&input).map_err(|_| {
            fail(SealError::BadSecret {
                source_name: source_name.clone(),
                reason: "not UTF-8 text".into(),
            })
        })?;
        let secret = PlainSecret::parse(text, &source_name).map_err(fail)?;
        if secret.data.is_empty() {
            return Err(fail(SealError::BadSecret {
                source_name,
                reason: "it has no data and no stringData".into(),
            }));
        }
        let (ns, name) = secret
            .identity(args.namespace.as_deref(), args.name.as_deref(), scope)
            .map_err(fail)?;
        let mut secret = secret;
        if args.type_.is_some() {
            secret.type_ = args.type_.clone();
        }
        secret.seal(&cert, scope, &ns, &name).map_err(fail)?
    } else {
        let secret = PlainSecret {
            metadata: Default::default(),
            type_: args.type_.clone(),
            immutable: None,
            data: keys
                .iter()
                .zip(&value_args)
                .map(|(k, v)| Ok((k.clone(), v.read(&mut stdin)?)))
                .collect::<Result<_, SealError>>()
                .map_err(fail)?,
        };
        let (ns, name) = secret
            .identity(args.namespace.as_deref(), args.name.as_deref(), scope)
            .map_err(fail)?;
        secret.seal(&cert, scope, &ns, &name).map_err(fail)?
    };
    let text = match args.output {
        ManifestFormat::Yaml => sealed.to_yaml(),
        ManifestFormat::Json => sealed.to_json(),
    };
    write_stdout(text.as_bytes())?;
    eprintln!(
        "sealed {} value(s) for {} (scope {scope}) with the key of {} (expires {})",
        sealed.spec.encrypted_data.len(),
        match scope {
            Scope::ClusterWide => "any namespace".to_string(),
            Scope::NamespaceWide => format!(
                "namespace {}",
                sealed.metadata.namespace.as_deref().unwrap_or("")
            ),
            Scope::Strict => format!(
                "{}/{}",
                sealed.metadata.namespace.as_deref().unwrap_or(""),
                sealed.metadata.name.as_deref().unwrap_or("")
            ),
        },
        cert.source_name(),
        cert.not_after().unwrap_or("never: a bare public key"),
    );
    Ok(ExitCode::SUCCESS)
}

fn fetch(args: &SealArgs) -> Result<FetchedCert, Failure> {
    match &args.cert {
        Some(loc) if !loc.is_empty() => cert_from_location(loc).map_err(fail),
        _ => cert_from_cluster(&ClusterTarget {
            kubeconfig: args.kubeconfig.clone(),
            context: args.context.clone(),
            controller_name: args.controller_name.clone(),
            controller_namespace: args.controller_namespace.clone(),
        })
        .map_err(fail),
    }
}

pub(crate) fn write_stdout(bytes: &[u8]) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::failed(miette!("cannot write to stdout: {e}"))),
    }
}
