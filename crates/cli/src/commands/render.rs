//! `berth render APP --env ENV [-o DIR]`: one environment as a manifest stream, or as files;
//! `--format kustomize|helm|argocd|compose -o DIR`: every environment in that format.

use super::app::{load_app_env, load_app_with};
use crate::cli::{ArgoCdArgs, ArgoCdSource, EmitFormat, RenderArgs};
use crate::failure::{CmdResult, Failure};
use berth_emit::FileSet;
use berth_render::Rendered;
use berth_spec::Loaded;
use miette::miette;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub(super) fn run(args: RenderArgs) -> CmdResult {
    let options = berth_spec::LoadOptions {
        allow_plain_secrets: args.allow_plain_secrets,
        ..Default::default()
    };
    // One environment's manifests need only that environment to be valid; every other
    // format carries all environments.
    let loaded = match &args.env {
        Some(env) if args.format == EmitFormat::Manifests => {
            load_app_env(&args.app, &options, env)?
        }
        _ => load_app_with(&args.app, &options)?,
    };
    if args.format != EmitFormat::Manifests {
        return run_format(&args, &loaded);
    }
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
    let rendered = super::app::render(app);
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
    super::app::free_at_exit((rendered, loaded));
    Ok(ExitCode::SUCCESS)
}

pub(super) fn format_name(format: EmitFormat) -> &'static str {
    match format {
        EmitFormat::Manifests => "manifests",
        EmitFormat::Kustomize => "kustomize",
        EmitFormat::Helm => "helm",
        EmitFormat::Argocd => "argocd",
        EmitFormat::Compose => "compose",
        EmitFormat::Monitoring => "monitoring",
    }
}

/// Every environment in one of the multi-environment formats, into `-o DIR`.
fn run_format(args: &RenderArgs, loaded: &Loaded) -> CmdResult {
    let name = format_name(args.format);
    let Some(dir) = &args.output_dir else {
        return Err(Failure::bad_input(miette!(
            help = format!("add -o DIR, e.g. `berth render APP --format {name} -o out/{name}`"),
            "--format {name} writes a directory of files; only manifests go to stdout"
        )));
    };
    if args.env.is_some() {
        return Err(Failure::bad_input(miette!(
            help = "drop --env, or use --format manifests for one environment",
            "--format {name} covers every environment of the app; --env does not apply"
        )));
    }
    let rendered: Vec<Rendered> = loaded.apps.iter().map(super::app::render).collect();
    // The other formats sit beside DIR, as `berth build` lays them out.
    let build_dir = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let Emitted { files, note } = emit(
        args.format,
        loaded,
        &rendered,
        None,
        &args.argocd,
        build_dir,
    )?;
    berth_emit::write_atomic(dir, &files)
        .map_err(|e| Failure::failed(miette!("cannot write {}: {e}", dir.display())))?;
    eprintln!(
        "wrote {name} for {} ({} files) to {}",
        loaded.env_names().join(", "),
        files.len(),
        dir.display()
    );
    if let Some(note) = note {
        eprintln!("note: {note}");
    }
    Ok(ExitCode::SUCCESS)
}

/// A format's files, and a note for the summary when something needs the user's attention.
pub(super) struct Emitted {
    pub files: FileSet,
    pub note: Option<String>,
}

/// Placeholder repository of the Argo CD Applications when none is given or found.
const PLACEHOLDER_REPO: &str = "https://git.example.com/CHANGE-ME.git";

/// One format's files. `build_dir` is the directory holding every format (for Argo CD paths);
/// `graphs`, each environment's graph when the caller has them (else Helm computes its own).
pub(super) fn emit(
    format: EmitFormat,
    loaded: &Loaded,
    rendered: &[Rendered],
    graphs: Option<&[berth_operate::graph::Graph]>,
    argocd: &ArgoCdArgs,
    build_dir: &Path,
) -> Result<Emitted, Failure> {
    let mut note = None;
    let files = match format {
        EmitFormat::Manifests => {
            let mut files = FileSet::default();
            for r in rendered {
                files.nest(&r.env, berth_emit::manifests(r));
            }
            files
        }
        EmitFormat::Kustomize => berth_emit::kustomize(&loaded.spec.app, rendered),
        EmitFormat::Helm => match graphs {
            Some(g) => berth_emit::helm_with_graphs(&loaded.apps, rendered, g),
            None => berth_emit::helm(&loaded.apps, rendered),
        },
        EmitFormat::Monitoring => super::operate::monitoring(loaded, rendered),
        EmitFormat::Compose => {
            let local = berth_emit::local_env(&loaded.apps);
            note = Some(format!("the {} environment", local.env));
            berth_emit::compose(&loaded.apps)
        }
        EmitFormat::Argocd => {
            let (path, path_note) = argocd_path(argocd, build_dir, &loaded.file)?;
            let repo_url = argocd.argocd_repo.clone().or_else(|| origin_url(build_dir));
            let mut notes: Vec<String> = path_note.into_iter().collect();
            if repo_url.is_none() {
                notes.insert(0, "placeholder repository: pass --argocd-repo URL".into());
            }
            note = (!notes.is_empty()).then(|| notes.join("; "));
            let opts = berth_emit::ArgoCdOptions {
                source: match argocd.argocd_source {
                    ArgoCdSource::Kustomize => berth_emit::ArgoCdSource::Kustomize,
                    ArgoCdSource::Helm => berth_emit::ArgoCdSource::Helm,
                },
                repo_url: repo_url.unwrap_or_else(|| PLACEHOLDER_REPO.into()),
                revision: argocd.argocd_revision.clone(),
                path,
                image_updater: loaded.spec.argocd.as_ref().and_then(|a| a.image_updater),
            };
            berth_emit::argocd(&loaded.apps, &opts)
        }
    };
    Ok(Emitted { files, note })
}

/// The `origin` remote of the git checkout holding `dir`, if any.
fn origin_url(dir: &Path) -> Option<String> {
    let mut probe = dir;
    while !probe.exists() {
        probe = probe.parent().filter(|p| !p.as_os_str().is_empty())?;
    }
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(probe)
        .args(["config", "--get", "remote.origin.url"])
        .output()
        .ok()?;
    let url = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !url.is_empty()).then_some(url)
}

/// The path of the build output in the repository Argo CD pulls: `--argocd-path`, else the
/// output directory relative to the git checkout holding it. An output directory outside the
/// checkout that holds the app has no path in that repository: refused, with the fix. With no
/// checkout at all, the path is taken relative to the app directory, with a note.
fn argocd_path(
    argocd: &ArgoCdArgs,
    build_dir: &Path,
    spec: &Path,
) -> Result<(String, Option<String>), Failure> {
    if let Some(p) = &argocd.argocd_path {
        return Ok((p.clone(), None));
    }
    let out = absolute(build_dir);
    if let Some(root) = git_root(&out) {
        return Ok((slash(out.strip_prefix(&root).unwrap_or(&out)), None));
    }
    let app_dir = absolute(spec.parent().unwrap_or(Path::new(".")));
    if let Some(root) = git_root(&app_dir) {
        return Err(Failure::bad_input(miette!(
            help = format!(
                "write the output inside the checkout (e.g. --out-dir {}), or say where it is committed: --argocd-path PATH",
                app_dir.join("out").display()
            ),
            "the output directory {} is outside the git checkout {} that holds the app, so the Argo CD Applications cannot name its path in the repository",
            out.display(),
            root.display()
        )));
    }
    match out.strip_prefix(&app_dir) {
        Ok(rel) => Ok((
            slash(rel),
            Some(format!(
                "no git checkout: the Argo CD path `{}` assumes the app directory is the repository root (else pass --argocd-path PATH)",
                slash(rel)
            )),
        )),
        Err(_) => Err(Failure::bad_input(miette!(
            help = "pass --argocd-path PATH: where the output directory is committed in the repository Argo CD pulls",
            "the output directory {} is in no git checkout and outside the app directory, so the Argo CD Applications cannot name its path in the repository",
            out.display()
        ))),
    }
}

/// `dir` as an absolute path without `.` and `..`.
fn absolute(dir: &Path) -> PathBuf {
    let abs: PathBuf = if dir.is_absolute() {
        dir.to_owned()
    } else {
        std::env::current_dir().unwrap_or_default().join(dir)
    };
    let mut clean = PathBuf::new();
    for c in abs.components() {
        match c {
            std::path::Component::ParentDir => {
                clean.pop();
            }
            std::path::Component::CurDir => {}
            other => clean.push(other),
        }
    }
    clean
}

/// The root of the git checkout holding `dir` (absolute), if any.
fn git_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|p| p.join(".git").exists())
        .map(Path::to_path_buf)
}

fn slash(p: &Path) -> String {
    let s: Vec<String> = p
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if s.is_empty() {
        ".".into()
    } else {
        s.join("/")
    }
}
