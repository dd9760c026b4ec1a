//! `berth runbook APP --env E [-o markdown|json]`: the environment's runbook, from its rendered
//! objects.

use super::app::{load_app, pick_env, render};
use crate::cli::{RunbookArgs, RunbookFormat};
use crate::failure::CmdResult;
use std::path::Path;
use std::process::ExitCode;

pub(super) fn run(args: RunbookArgs) -> CmdResult {
    let loaded = load_app(&args.app)?;
    let app = pick_env(&loaded, args.env.as_deref())?;
    let out = args
        .out_dir
        .clone()
        .unwrap_or_else(|| app_dir(&args.app, &loaded.file).join("out"));
    let paths = berth_operate::runbook::Paths {
        app: display(&app_dir(&args.app, &loaded.file)),
        out: display(&out),
    };
    let book = berth_operate::runbook::runbook(app, &render(app), &paths);
    match args.output {
        RunbookFormat::Markdown => print!("{}", book.to_markdown()),
        RunbookFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&book.to_json()).expect("json")
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// The app directory as the user named it (the spec file's directory when they named the file).
pub(super) fn app_dir(arg: &Path, spec_file: &Path) -> std::path::PathBuf {
    if arg.is_dir() {
        arg.to_owned()
    } else {
        match spec_file.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => ".".into(),
        }
    }
}

pub(super) fn display(p: &Path) -> String {
    let s = p.display().to_string();
    let s = s.trim_end_matches('/');
    if s.is_empty() { ".".into() } else { s.into() }
}
