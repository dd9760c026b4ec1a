//! `berth build APP`: every environment, every output, into APP/out/, with a summary.

use super::app::load_app_with;
use super::render::{emit, format_name};
use super::timing::phase;
use crate::cli::{ArgoCdArgs, BuildArgs, EmitFormat, OutputFormat};
use crate::failure::{CmdResult, Failure};
use berth_emit::FileSet;
use berth_render::Rendered;
use berth_spec::Loaded;
use miette::miette;
use std::collections::BTreeMap;
use std::process::ExitCode;

pub(super) fn run(args: BuildArgs) -> CmdResult {
    let loaded = phase("load", || {
        load_app_with(
            &args.app,
            &berth_spec::LoadOptions {
                allow_plain_secrets: args.allow_plain_secrets,
                ..Default::default()
            },
        )
    })?;
    let app_dir = loaded
        .file
        .parent()
        .map(|p| {
            if p.as_os_str().is_empty() {
                std::path::Path::new(".")
            } else {
                p
            }
        })
        .unwrap_or(std::path::Path::new("."))
        .to_owned();
    let out_dir = args.out_dir.clone().unwrap_or_else(|| app_dir.join("out"));

    let rendered: Vec<Rendered> = loaded
        .apps
        .iter()
        .map(|app| phase(&format!("render {}", app.env), || super::app::render(app)))
        .collect();
    // berth check is the judge every berth output must pass, with each environment's tier
    // profile. It needs only the rendered objects, so the environments are checked on their own
    // threads while the formats are emitted and written (mostly the kernel creating files).
    let (emitted, checks) = std::thread::scope(|scope| {
        let checks: Vec<_> = loaded
            .apps
            .iter()
            .zip(&rendered)
            .map(|(app, r)| {
                scope.spawn(move || phase(&format!("check {}", r.env), || check_env(app.tier, r)))
            })
            .collect();
        let paths = berth_operate::runbook::Paths {
            app: super::runbook::display(&super::runbook::app_dir(&args.app, &loaded.file)),
            out: super::runbook::display(&out_dir),
        };
        let emitted = emit_all(&loaded, &rendered, &args.argocd, &out_dir, &paths);
        let checks: Result<Vec<CheckStatus>, Failure> = checks
            .into_iter()
            .map(|h| h.join().expect("check thread"))
            .collect();
        (emitted, checks)
    });
    let (formats, written) = emitted?;
    written.map_err(|e| Failure::failed(miette!("cannot write {}: {e}", out_dir.display())))?;
    let checks = checks?;
    phase("lock", || write_lock(&app_dir, &loaded));

    match args.output {
        OutputFormat::Json => {
            let summary: Vec<_> = rendered
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    serde_json::json!({
                        "environment": r.env,
                        "namespace": r.namespace,
                        "directory": out_dir.join(&r.env).display().to_string(),
                        "objects": r.objects.len(),
                        "kinds": kinds(r),
                        "warnings": r.warnings.iter().map(|w| serde_json::json!({"path": w.path, "message": w.message})).collect::<Vec<_>>(),
                        "check": checks[i].to_json(),
                    })
                })
                .collect();
            let doc = serde_json::json!({
                "app": loaded.spec.app,
                "output": out_dir.display().to_string(),
                "environments": summary,
                "formats": formats.iter().map(|f| serde_json::json!({
                    "format": f.name,
                    "directory": f.directory.display().to_string(),
                    "files": f.files,
                    "status": "ok",
                    "note": f.note,
                })).collect::<Vec<_>>(),
            });
            println!("{}", serde_json::to_string_pretty(&doc).expect("json"));
        }
        OutputFormat::Table => {
            print_table(&loaded.spec.app, &out_dir, &rendered, &formats, &checks)
        }
    }
    super::app::free_at_exit((loaded, rendered));
    let errors: usize = checks.iter().map(|c| c.errors).sum();
    if errors > 0 {
        eprintln!(
            "error: berth check found {errors} error{} in the rendered output; run `berth check {}` for details",
            if errors == 1 { "" } else { "s" },
            args.app.display()
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Records the declared Kafka topics of every environment in `berth.lock` next to berth.yaml
/// (the load already refused any partition decrease or replication change against the old one).
/// Written only when it changes and only for apps with topics; a read-only checkout warns.
fn write_lock(app_dir: &std::path::Path, loaded: &Loaded) {
    use berth_spec::dependency::kafka::{LOCK_FILE, LockFile};
    let path = app_dir.join(LOCK_FILE);
    let old_text = std::fs::read_to_string(&path).ok();
    let old = old_text
        .as_deref()
        .and_then(|t| LockFile::parse(t).ok())
        .unwrap_or_default();
    let new = old.updated(&loaded.apps);
    if new.is_empty() && old_text.is_none() {
        return;
    }
    let text = new.to_text();
    if old_text.as_deref() == Some(text.as_str()) {
        return;
    }
    if let Err(e) = super::atomic::write_atomically(&path, text.as_bytes()) {
        eprintln!(
            "warning: cannot write {}: {e}; the next render cannot check topic changes against this build",
            path.display()
        );
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// What `berth check` says about one environment's render.
struct CheckStatus {
    errors: usize,
    warnings: usize,
    infos: usize,
}

impl CheckStatus {
    fn summary(&self) -> String {
        match (self.errors, self.warnings) {
            (0, 0) => "ok".into(),
            (e, w) => format!("{}, {}", plural(e, "error"), plural(w, "warning")),
        }
    }
    fn to_json(&self) -> serde_json::Value {
        serde_json::json!({"errors": self.errors, "warnings": self.warnings, "info": self.infos})
    }
}

/// Every format, in memory first; then one atomic write of the whole directory.
fn emit_all(
    loaded: &Loaded,
    rendered: &[Rendered],
    argocd: &ArgoCdArgs,
    out_dir: &std::path::Path,
    paths: &berth_operate::runbook::Paths,
) -> Result<(Vec<FormatStatus>, std::io::Result<()>), Failure> {
    let mut files = FileSet::default();
    let mut formats = Vec::new();
    // The Helm chart's README draws them, and `graph/` writes them.
    let graphs: Vec<berth_operate::graph::Graph> = phase("graph", || {
        loaded
            .apps
            .iter()
            .zip(rendered)
            .map(|(app, r)| berth_operate::graph::graph(r, &app.ingress.namespace))
            .collect()
    });
    for format in FORMATS {
        let emitted = phase(format_name(format), || {
            emit(format, loaded, rendered, Some(&graphs), argocd, out_dir)
        })?;
        let set = emitted.files;
        let name = format_name(format);
        formats.push(FormatStatus {
            name,
            directory: match format {
                EmitFormat::Manifests => out_dir.join("<env>"),
                _ => out_dir.join(name),
            },
            files: set.len(),
            note: emitted.note,
        });
        match format {
            EmitFormat::Manifests => files.nest("", set),
            _ => files.nest(name, set),
        }
    }
    for (name, set) in super::operate::outputs(loaded, rendered, &graphs, paths) {
        formats.push(FormatStatus {
            name,
            directory: out_dir.join(name),
            files: set.len(),
            note: None,
        });
        files.nest(name, set);
    }
    let written = phase("write", || berth_emit::write_atomic(out_dir, &files));
    Ok((formats, written))
}

fn check_env(tier: berth_spec::Tier, r: &Rendered) -> Result<CheckStatus, Failure> {
    use berth_check::{Input, Options, Severity};
    let input = Input::Objects {
        name: r.env.clone(),
        objects: r.objects.iter().map(|o| &o.body).collect(),
    };
    let opts = Options::default().for_tier(tier.as_str());
    let report = berth_check::check(&[input], &opts)
        .map_err(|e| Failure::failed(miette!("berth check failed on {}: {e}", r.env)))?;
    Ok(CheckStatus {
        errors: report.count(Severity::Error),
        warnings: report.count(Severity::Warning),
        infos: report.count(Severity::Info),
    })
}

/// Every format `berth build` writes, in the order the summary lists them.
const FORMATS: [EmitFormat; 6] = [
    EmitFormat::Manifests,
    EmitFormat::Kustomize,
    EmitFormat::Helm,
    EmitFormat::Argocd,
    EmitFormat::Compose,
    EmitFormat::Monitoring,
];

struct FormatStatus {
    name: &'static str,
    directory: std::path::PathBuf,
    files: usize,
    note: Option<String>,
}

fn kinds(r: &Rendered) -> BTreeMap<String, usize> {
    let mut kinds = BTreeMap::new();
    for o in &r.objects {
        *kinds.entry(o.kind.clone()).or_insert(0) += 1;
    }
    kinds
}

/// Short kind names for the summary table.
fn short(kind: &str) -> &str {
    match kind {
        "Namespace" => "ns",
        "NetworkPolicy" => "netpol",
        "PodDisruptionBudget" => "pdb",
        "ServiceAccount" => "sa",
        "ConfigMap" => "cm",
        "Service" => "svc",
        "Deployment" => "deploy",
        "HorizontalPodAutoscaler" => "hpa",
        "Ingress" => "ing",
        "Secret" => "secret",
        "SealedSecret" => "sealed",
        "ExternalSecret" => "extsecret",
        other => other,
    }
}

fn print_table(
    app: &str,
    out_dir: &std::path::Path,
    rendered: &[Rendered],
    formats: &[FormatStatus],
    checks: &[CheckStatus],
) {
    let rows: Vec<[String; 6]> = rendered
        .iter()
        .zip(checks)
        .map(|(r, c)| {
            let k = kinds(r)
                .iter()
                .map(|(kind, n)| format!("{} {n}", short(kind)))
                .collect::<Vec<_>>()
                .join(", ");
            [
                r.env.clone(),
                r.namespace.clone(),
                r.objects.len().to_string(),
                k,
                r.warnings.len().to_string(),
                c.summary(),
            ]
        })
        .collect();
    let header = [
        "ENVIRONMENT",
        "NAMESPACE",
        "OBJECTS",
        "KINDS",
        "WARNINGS",
        "CHECK",
    ];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let line = |cells: [&str; 6]| {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i == 5 {
                s.push_str(cell);
            } else {
                s.push_str(&format!("{cell:<w$}   "));
            }
        }
        println!("{}", s.trim_end());
    };
    println!("built {app} → {}", out_dir.display());
    println!();
    line(header);
    for row in &rows {
        line([&row[0], &row[1], &row[2], &row[3], &row[4], &row[5]]);
    }
    println!();
    let width = formats
        .iter()
        .map(|f| f.name.len())
        .max()
        .unwrap_or(0)
        .max(6);
    let dir_width = formats
        .iter()
        .map(|f| f.directory.display().to_string().len())
        .max()
        .unwrap_or(0)
        .max(9);
    println!(
        "{:<width$}   {:<dir_width$}   FILES   STATUS",
        "FORMAT", "DIRECTORY"
    );
    for f in formats {
        let status = match &f.note {
            Some(n) => format!("ok ({n})"),
            None => "ok".into(),
        };
        println!(
            "{:<width$}   {:<dir_width$}   {:<5}   {status}",
            f.name,
            f.directory.display().to_string(),
            f.files
        );
    }
    let warnings: Vec<_> = rendered
        .iter()
        .flat_map(|r| r.warnings.iter().map(move |w| (r.env.as_str(), w)))
        .collect();
    if !warnings.is_empty() {
        println!();
        for (env, w) in warnings {
            println!("warning [{env}] {}: {}", w.path, w.message);
        }
    }
}
