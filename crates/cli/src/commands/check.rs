//! `berth check PATH…`: schema, production-readiness and cross-resource rules over manifests,
//! or over every environment a berth app renders. `berth explain RULE` prints a rule's docs.

use super::app::load_app;
use crate::cli::{CheckArgs, CheckFormat, Cli, Color, ExplainArgs, FailOn};
use crate::failure::{CmdResult, Failure};
use berth_check::{Config, Input, Options, Report, Severity, output};
use clap::Parser;
use miette::miette;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub(super) fn run(args: CheckArgs) -> CmdResult {
    if args.list_rules {
        let text = match args.output {
            CheckFormat::Markdown => output::rules_markdown(),
            CheckFormat::Json => output::rules_json(),
            _ => output::rules_table(),
        };
        return print(&text).map(|_| ExitCode::SUCCESS);
    }
    let mut paths: Vec<PathBuf> = args.paths.clone();
    paths.extend(args.filename.iter().cloned());
    if paths.is_empty() {
        return Err(Failure::bad_input(miette!(
            help = "berth check manifests/ | berth check -f deploy.yaml | helm template . | berth check -",
            "nothing to check: give files, directories, `-` for stdin, or an app directory"
        )));
    }
    if args.output == CheckFormat::Markdown {
        return Err(Failure::bad_input(miette!(
            "-o markdown is only for --list-rules; use human, json, sarif or junit"
        )));
    }

    let config = load_config(args.config.as_deref())?;
    let opts = Options {
        kube_version: args.kube_version.clone(),
        crd_paths: args.crd.clone(),
        config,
        prod: args.prod,
        dev: false,
        threads: None,
    };

    // Apps (directories holding berth.yaml, or the spec file) are rendered per environment,
    // each environment checked on its own (with the prod profile for prod-tier ones).
    let mut inputs = Vec::new();
    let mut reports = Vec::new();
    for p in &paths {
        if p.as_os_str() == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| Failure::bad_input(miette!("cannot read stdin: {e}")))?;
            inputs.push(Input::Text {
                name: "<stdin>".into(),
                text,
            });
        } else if let Some(spec) = app_spec(p) {
            let loaded = load_app(&spec)?;
            for app in &loaded.apps {
                let rendered = super::app::render(app);
                let name = format!("{} (env {})", loaded.file.display(), rendered.env);
                let env_opts = opts.for_tier(app.tier.as_str());
                // The rendered stream, so lines match `berth render --env ENV`; findings then
                // point at the spec entry behind each object.
                let text = berth_emit::stream(&rendered);
                let mut report = check(&[Input::Text { name, text }], &env_opts)?;
                for f in report.findings.iter_mut().chain(&mut report.suppressed) {
                    locate_in_spec(f, &loaded, app, &rendered);
                }
                reports.push(report);
            }
        } else {
            inputs.push(Input::Path(p.clone()));
        }
    }
    if !inputs.is_empty() {
        reports.push(check(&inputs, &opts)?);
    }
    let report = merge(reports);

    let fail_on = match args.fail_on {
        FailOn::Error => Some(Severity::Error),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Info => Some(Severity::Info),
        FailOn::Never => None,
    };
    let text = match args.output {
        CheckFormat::Human => output::human(&report, stdout_color()),
        CheckFormat::Json => output::json(&report),
        CheckFormat::Sarif => output::sarif(&report, &opts.config, opts.prod),
        CheckFormat::Junit => output::junit(&report, fail_on.unwrap_or(Severity::Error)),
        CheckFormat::Markdown => unreachable!(),
    };
    for n in &report.notices {
        eprintln!("note: {n}");
    }
    print(&text)?;
    if report.input_errors > 0 {
        eprintln!(
            "error: {} input error{} (malformed documents or unreadable files)",
            report.input_errors,
            if report.input_errors == 1 { "" } else { "s" }
        );
        return Ok(ExitCode::from(2));
    }
    Ok(match fail_on {
        Some(s) if report.fails(s) => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    })
}

/// `berth explain RULE`.
pub(super) fn explain_rule(args: ExplainArgs) -> CmdResult {
    match berth_check::rules::find(&args.rule) {
        Some(r) => print(&output::explain(r.meta())).map(|_| ExitCode::SUCCESS),
        None => {
            let ids: Vec<&str> = berth_check::rules::all()
                .iter()
                .map(|r| r.meta().id)
                .collect();
            let near: Vec<&str> = ids
                .iter()
                .filter(|id| id.contains(args.rule.as_str()) || args.rule.contains(*id))
                .copied()
                .collect();
            Err(Failure::bad_input(miette!(
                help = if near.is_empty() {
                    "`berth check --list-rules` lists them".to_string()
                } else {
                    format!("did you mean: {}", near.join(", "))
                },
                "no rule `{}`",
                args.rule
            )))
        }
    }
}

fn check(inputs: &[Input], opts: &Options) -> Result<Report, Failure> {
    berth_check::check(inputs, opts).map_err(|e| Failure::bad_input(miette!("{e}")))
}

fn merge(reports: Vec<Report>) -> Report {
    let mut it = reports.into_iter();
    let mut r = it.next().expect("at least one report");
    for o in it {
        r.findings.extend(o.findings);
        r.suppressed.extend(o.suppressed);
        r.notices.extend(o.notices);
        r.files += o.files;
        r.objects += o.objects;
        r.input_errors += o.input_errors;
    }
    r
}

/// Points a finding on a rendered object at the spec entry that produced it (the service or
/// dependency named by the object's `app.kubernetes.io/name` label, else the environment), and
/// keeps where it is in the rendered stream as its origin.
fn locate_in_spec(
    f: &mut berth_check::Finding,
    loaded: &berth_spec::Loaded,
    app: &berth_spec::App,
    rendered: &berth_render::Rendered,
) {
    let object = f.object.as_ref().and_then(|o| {
        rendered
            .objects
            .iter()
            .find(|r| r.kind == o.kind && r.name == o.name && r.namespace == o.namespace)
    });
    let label = |key: &str| {
        object
            .and_then(|o| o.body["metadata"]["labels"][key].as_str())
            .unwrap_or_default()
    };
    let (name, component) = (
        label("app.kubernetes.io/name"),
        label("app.kubernetes.io/component"),
    );
    // The app's own objects (namespace, default policies) carry the app's name.
    let own = matches!(component, "namespace" | "network-policy");
    let path: Vec<&str> = if !own && app.services.iter().any(|s| s.name == name) {
        vec!["services", name]
    } else if !own && app.dependencies.iter().any(|d| d.name == name) {
        vec!["dependencies", name]
    } else if loaded.position(&["environments", &app.env]).is_some() {
        vec!["environments", &app.env]
    } else {
        vec!["app"]
    };
    let (line, col) = loaded.position(&path).unwrap_or((1, 1));
    f.origin = Some(berth_check::Origin {
        spec_path: path.join("."),
        environment: app.env.clone(),
        rendered_line: f.line,
        rendered_col: f.col,
    });
    f.file = loaded.file.display().to_string().into();
    f.line = line;
    f.col = col;
    f.object_line = line;
}

/// The berth.yaml of an app directory (or the path itself when it is one).
fn app_spec(p: &Path) -> Option<PathBuf> {
    if p.is_dir() {
        let f = p.join("berth.yaml");
        return f.is_file().then_some(f);
    }
    (p.file_name().is_some_and(|n| n == "berth.yaml")).then(|| p.to_path_buf())
}

fn load_config(explicit: Option<&Path>) -> Result<Config, Failure> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => {
            let p = PathBuf::from(berth_check::config::FILE_NAME);
            if !p.is_file() {
                return Ok(Config::default());
            }
            p
        }
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Failure::bad_input(miette!("cannot read {}: {e}", path.display())))?;
    Config::parse(&path.display().to_string(), &text)
        .map_err(|e| Failure::bad_input(miette!("{e}")))
}

/// Colour the report on stdout? The global `--color auto|always|never` (`auto`: stdout is a
/// terminal and NO_COLOR is unset). Commands receive only their own arguments, so the global
/// flag is read back from the (already validated) command line.
fn stdout_color() -> bool {
    match Cli::try_parse().map_or(Color::Auto, |c| c.color) {
        Color::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        Color::Always => true,
        Color::Never => false,
    }
}

fn print(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .map_err(|e| Failure::failed(miette!("cannot write to stdout: {e}")))
}
