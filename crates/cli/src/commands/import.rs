//! `berth import`: a compose project → berth.yaml (+ copied config files), written atomically,
//! and the report (table or JSON) on stdout. Input docker compose would refuse exits 2 with
//! file:line:col. `berth init`: a starter spec.

use super::atomic::write_atomically;
use crate::cli::{ImportArgs, InitArgs};
use crate::failure::{CmdResult, Failure};
use berth_import::compose::{self, Options, RealFiles};
use berth_import::{Features, FileSource};
use miette::miette;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn bad(diags: &[compose::Diag]) -> Failure {
    let text = diags
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    let help = diags.iter().find_map(|d| d.help.clone());
    match help {
        Some(h) => Failure::bad_input(miette!(help = h, "{text}")),
        None => Failure::bad_input(miette!("{text}")),
    }
}

pub(super) fn run(args: ImportArgs) -> CmdResult {
    let (json, out_path) = match args.output.as_deref() {
        Some("json") => (true, None),
        Some("table") | None => (false, None),
        Some(path) => (false, Some(PathBuf::from(path))),
    };
    let mut opts = Options {
        env_files: args.env_files.clone(),
        profiles: args.profiles.clone(),
        project_dir: args.project_directory.clone(),
        environment: std::env::vars().collect(),
        ..Default::default()
    };
    match &args.path {
        Some(p) if p.is_dir() => {
            if opts.project_dir.is_none() {
                opts.project_dir = Some(p.clone());
            }
            if !args.files.is_empty() {
                opts.files = compose::find_files(p, &RealFiles).unwrap_or_default();
            }
        }
        Some(p) => opts.files.push(p.clone()),
        None => {
            if !args.files.is_empty() && opts.project_dir.is_none() {
                // `-f` alone: like docker compose, relative to the first file.
            } else if opts.project_dir.is_none() {
                opts.project_dir = Some(PathBuf::from("."));
            }
        }
    }
    opts.files.extend(args.files.iter().cloned());
    if opts.files.is_empty()
        && let Some(dir) = &opts.project_dir
        && compose::find_files(dir, &RealFiles).is_none()
    {
        return Err(Failure::bad_input(miette!(
            help = format!(
                "run it where compose.yaml is, or name the file: berth import path/to/compose.yaml"
            ),
            "no compose file in {}: expected one of {}",
            dir.display(),
            compose::DEFAULT_FILES.join(", ")
        )));
    }
    let project = compose::load(&opts, &RealFiles).map_err(|e| bad(&e.0))?;
    let features = Features::from_schema(&berth_spec::json_schema());
    let imported = berth_import::import(&project, &features, &RealFiles).map_err(|d| bad(&[d]))?;
    let spec_path = out_path.unwrap_or_else(|| project.dir.join("berth.yaml"));
    let spec_dir = spec_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    // Refuse before writing anything.
    if spec_path.exists() && !args.force {
        return Err(Failure::bad_input(miette!(
            help = "pass --force to overwrite it, or -o OTHER.yaml",
            "{} exists; berth import does not overwrite it",
            spec_path.display()
        )));
    }
    let mut writes: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    for f in &imported.files {
        let bytes = match &f.source {
            FileSource::Copy(p) => std::fs::read(p)
                .map_err(|e| Failure::failed(miette!("cannot read {}: {e}", p.display())))?,
            FileSource::Content(c) => c.clone().into_bytes(),
        };
        let dest = spec_dir.join(&f.path);
        if dest.exists() && !args.force && std::fs::read(&dest).ok().as_deref() != Some(&bytes[..])
        {
            return Err(Failure::bad_input(miette!(
                help = "pass --force to overwrite it",
                "{} exists with other content; berth import does not overwrite it",
                dest.display()
            )));
        }
        writes.push((dest, bytes));
    }
    for (dest, bytes) in &writes {
        write_atomically(dest, bytes)
            .map_err(|e| Failure::failed(miette!("cannot write {}: {e}", dest.display())))?;
    }
    write_atomically(&spec_path, imported.spec.as_bytes())
        .map_err(|e| Failure::failed(miette!("cannot write {}: {e}", spec_path.display())))?;
    let mut report = imported.report;
    report.copied = writes
        .iter()
        .map(|(d, _)| d.display().to_string())
        .collect();
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    let text = if json {
        let mut v = serde_json::to_value(&report).map_err(|e| Failure::failed(miette!("{e}")))?;
        v["spec"] = serde_json::Value::String(spec_path.display().to_string());
        serde_json::to_string_pretty(&v).unwrap() + "\n"
    } else {
        format!(
            "wrote {}{}\n{}",
            spec_path.display(),
            if writes.is_empty() {
                String::new()
            } else {
                format!(" and {} config files", writes.len())
            },
            report.human()
        )
    };
    std::io::stdout()
        .write_all(text.as_bytes())
        .map_err(|e| Failure::failed(miette!("{e}")))?;
    Ok(ExitCode::SUCCESS)
}

pub(super) fn init(args: InitArgs) -> CmdResult {
    let mut services = Vec::new();
    for s in &args.services {
        let Some((name, rest)) = s.split_once('=') else {
            return Err(Failure::bad_input(miette!(
                help = "write it as NAME=IMAGE:PORT, e.g. web=ghcr.io/acme/web:1.0.0:8080",
                "--service {s:?} has no `=`"
            )));
        };
        // IMAGE:PORT: a trailing number after the image's tag is the port.
        let (image, port) = match rest.rsplit_once(':') {
            Some((img, p))
                if p.parse::<u16>().is_ok()
                    && img
                        .rsplit('/')
                        .next()
                        .is_some_and(|last| last.contains(':') || img.contains('@')) =>
            {
                (img.to_owned(), p.parse().ok())
            }
            Some((img, p)) if p.parse::<u16>().is_ok() && !img.contains(':') => {
                (img.to_owned(), p.parse().ok())
            }
            _ => (rest.to_owned(), None),
        };
        if image.is_empty() || name.is_empty() {
            return Err(Failure::bad_input(miette!(
                help = "write it as NAME=IMAGE:PORT",
                "--service {s:?} needs a name and an image"
            )));
        }
        services.push((name.to_owned(), image, port));
    }
    let app = args
        .app
        .clone()
        .unwrap_or_else(|| compose::project_name(&args.dir));
    let spec = berth_import::scaffold(&app, &services);
    let path = args.dir.join("berth.yaml");
    if path.exists() && !args.force {
        return Err(Failure::bad_input(miette!(
            help = "pass --force to overwrite it",
            "{} exists; berth init does not overwrite it",
            path.display()
        )));
    }
    write_atomically(&path, spec.as_bytes())
        .map_err(|e| Failure::failed(miette!("cannot write {}: {e}", path.display())))?;
    println!(
        "wrote {}: edit the `# REVIEW` lines, then `berth build {}`",
        path.display(),
        args.dir.display()
    );
    Ok(ExitCode::SUCCESS)
}
