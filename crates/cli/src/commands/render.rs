//! `berth render APP --env ENV [-o DIR]`: one environment as a manifest stream, or as files.

use super::app::load_app;
use crate::cli::RenderArgs;
use crate::failure::{CmdResult, Failure};
use miette::miette;
use std::io::Write;
use std::process::ExitCode;

pub fn run(args: RenderArgs) -> CmdResult {
    let loaded = load_app(&args.app)?;
    let envs = loaded.env_names();
    let app = match &args.env {
        Some(env) => loaded.app(env).ok_or_else(|| {
            Failure::bad_input(miette!(
                help = format!(
                    "environments in {}: {}",
                    loaded.file.display(),
                    envs.join(", ")
                ),
                "no environment `{env}` in {}",
                loaded.file.display()
            ))
        })?,
        None if envs.len() == 1 => &loaded.apps[0],
        None => {
            return Err(Failure::bad_input(miette!(
                help = format!("pick one with --env: {}", envs.join(", ")),
                "{} defines {} environments; which one?",
                loaded.file.display(),
                envs.len()
            )));
        }
    };
    let rendered = berth_render::render(app);
    for w in &rendered.warnings {
        eprintln!("warning: {}: {}", w.path, w.message);
    }
    match &args.output_dir {
        Some(dir) => {
            let files = berth_emit::manifests(&rendered);
            berth_emit::write_atomic(dir, &files)
                .map_err(|e| Failure::failed(miette!("cannot write {}: {e}", dir.display())))?;
            eprintln!(
                "wrote {} objects of {} to {}",
                rendered.objects.len(),
                rendered.env,
                dir.display()
            );
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(berth_emit::stream(&rendered).as_bytes())
                .and_then(|_| out.flush())
                .map_err(|e| Failure::failed(miette!("cannot write to stdout: {e}")))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
