//! `berth unseal --private-key KEY [-f SEALED.yaml]`: offline recovery of a SealedSecret, like
//! `kubeseal --recovery-unseal`. Prints the Secret (values base64 in `data`) on stdout only.

use super::seal::{fail, write_stdout};
use crate::cli::{ManifestFormat, UnsealArgs};
use crate::failure::{CmdResult, Failure};
use berth_seal::unseal::{parse_private_keys, unseal};
use berth_seal::values::{read_all, read_file};
use berth_seal::{SealError, SealedSecret};
use miette::miette;
use std::process::ExitCode;

pub(super) fn run(args: UnsealArgs) -> CmdResult {
    let mut keys = Vec::new();
    for path in &args.private_keys {
        let bytes = read_file(path).map_err(|e| {
            Failure::bad_input(miette!(
                "cannot read private key file {}: {e}",
                path.display()
            ))
        })?;
        keys.extend(parse_private_keys(&bytes, &path.display().to_string()).map_err(fail)?);
    }
    let (input, source_name) = match &args.filename {
        Some(p) if p.as_os_str() != "-" => (
            read_file(p)
                .map_err(|e| Failure::bad_input(miette!("cannot read {}: {e}", p.display())))?,
            p.display().to_string(),
        ),
        _ => (
            read_all(&mut std::io::stdin().lock(), 0)
                .map_err(|e| Failure::failed(miette!("cannot read standard input: {e}")))?,
            "standard input".to_string(),
        ),
    };
    let text = std::str::from_utf8(&input).map_err(|_| {
        fail(SealError::BadSealedSecret {
            source_name: source_name.clone(),
            reason: "not UTF-8 text".into(),
        })
    })?;
    let ss = SealedSecret::parse(text, &source_name).map_err(fail)?;
    let secret = unseal(&ss, &keys).map_err(fail)?;
    let out = match args.output {
        ManifestFormat::Yaml => secret.to_yaml(),
        ManifestFormat::Json => secret.to_json(),
    };
    write_stdout(out.as_bytes())?;
    for note in &secret.notes {
        eprintln!("note: {note}");
    }
    let mut used: Vec<usize> = secret.opened_by.values().copied().collect();
    used.sort_unstable();
    used.dedup();
    for i in used {
        let k = &keys[i];
        let n = secret.opened_by.values().filter(|j| **j == i).count();
        eprintln!(
            "unsealed {n} value(s) with key {} of {}: {} ({})",
            i + 1,
            keys.len(),
            k.source,
            k.fingerprint
        );
    }
    Ok(ExitCode::SUCCESS)
}
