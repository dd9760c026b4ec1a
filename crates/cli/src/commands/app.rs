//! Loading an app for the commands that take one, with errors mapped to exit codes.

use crate::failure::Failure;
use berth_spec::{LoadError, LoadOptions, Loaded, load_env_with, load_with};
use std::path::Path;

pub(super) fn load_app(path: &Path) -> Result<Loaded, Failure> {
    load_app_with(path, &LoadOptions::default())
}

pub(super) fn load_app_with(path: &Path, options: &LoadOptions) -> Result<Loaded, Failure> {
    load_with(path, options).map_err(failure)
}

/// For a command that uses one environment: the others' errors do not stop it; they are
/// printed as warnings (with file, line and column), and those environments are left out.
pub(super) fn load_app_env(
    path: &Path,
    options: &LoadOptions,
    env: &str,
) -> Result<Loaded, Failure> {
    let loaded = load_env_with(path, options, env).map_err(failure)?;
    for w in &loaded.warnings {
        eprintln!(
            "warning: {} (another environment; `berth build` fails on it)",
            w.one_line()
        );
    }
    Ok(loaded)
}

fn failure(e: LoadError) -> Failure {
    if let LoadError::Invalid(errors) = &e
        && errors.errors.len() == 1
    {
        // One error reads best on its own, without the "has 1 error" wrapper.
        return Failure::bad_input(errors.errors[0].clone());
    }
    if e.is_bad_input() {
        Failure::bad_input(e)
    } else {
        Failure::failed(e)
    }
}

/// One environment's objects: the renderer's, plus what is derived from them (the capacity
/// plan's ResourceQuota and LimitRange when the environment sets `quota: true`).
pub(super) fn render(app: &berth_spec::App) -> berth_render::Rendered {
    let mut rendered = berth_render::render(app);
    add_quota(app, &mut rendered, None);
    rendered
}

/// [`render`] with the origin of every field (`berth explain`, `berth diff-env`).
pub(super) fn render_traced(
    app: &berth_spec::App,
) -> (berth_render::Rendered, berth_render::origin::Provenance) {
    let (mut rendered, mut origins) = berth_render::render_traced(app);
    add_quota(app, &mut rendered, Some(&mut origins));
    (rendered, origins)
}

/// The capacity plan's quota objects (`quota: true`), claimed in `origins` when recording.
fn add_quota(
    app: &berth_spec::App,
    rendered: &mut berth_render::Rendered,
    mut origins: Option<&mut berth_render::origin::Provenance>,
) {
    use berth_render::origin::{Origin, docs, spec_path};
    if !app.quota {
        return;
    }
    for body in berth_operate::capacity::quota_objects(rendered, &app.name) {
        let o = object(body);
        if let Some(origins) = origins.as_deref_mut() {
            origins.claim(
                &o,
                Origin::rule(
                    "the capacity plan's maximum, per namespace (`quota: true`)",
                    docs::OPERATE,
                    vec![spec_path(&["environments", &app.env, "quota"])],
                ),
            );
        }
        rendered.objects.push(o);
    }
    berth_render::sort(&mut rendered.objects);
}

/// Leaves `value` to the process's exit instead of freeing it allocation by allocation: a
/// command calls this on its loaded spec and renders just before it returns, when freeing
/// some thousand JSON trees (malloc consolidating its free lists) would cost a fifth of
/// rendering them.
pub(super) fn free_at_exit<T>(value: T) {
    std::mem::forget(value);
}

/// A derived object (built as JSON) as a rendered one.
pub(super) fn object(body: serde_json::Value) -> berth_render::Object {
    let text = |p: &str| body.pointer(p).and_then(|v| v.as_str()).map(str::to_owned);
    berth_render::Object {
        api_version: text("/apiVersion").unwrap_or_default(),
        kind: text("/kind").unwrap_or_default(),
        name: text("/metadata/name").unwrap_or_default(),
        namespace: text("/metadata/namespace"),
        body,
    }
}

/// The environments a command covers: `--env` alone, or every one.
pub(super) fn pick_envs<'a>(
    loaded: &'a Loaded,
    env: Option<&str>,
) -> Result<Vec<&'a berth_spec::App>, Failure> {
    match env {
        None => Ok(loaded.apps.iter().collect()),
        Some(e) => pick_env(loaded, Some(e)).map(|a| vec![a]),
    }
}

/// One environment: `--env`, or the only one.
pub(super) fn pick_env<'a>(
    loaded: &'a Loaded,
    env: Option<&str>,
) -> Result<&'a berth_spec::App, Failure> {
    let envs = loaded.env_names();
    match env {
        Some(env) => loaded.app(env).ok_or_else(|| {
            Failure::bad_input(miette::miette!(
                help = format!(
                    "environments in {}: {}",
                    loaded.file.display(),
                    envs.join(", ")
                ),
                "no environment `{env}` in {}",
                loaded.file.display()
            ))
        }),
        None if envs.len() == 1 => Ok(&loaded.apps[0]),
        None => Err(Failure::bad_input(miette::miette!(
            help = format!("pick one with --env: {}", envs.join(", ")),
            "{} defines {} environments; which one?",
            loaded.file.display(),
            envs.len()
        ))),
    }
}
