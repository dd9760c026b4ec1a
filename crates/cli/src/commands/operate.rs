//! The operating outputs `berth build` writes beside the deployable formats, each one a
//! command's output for every environment: `capacity/ENV.{txt,json}`, `graph/ENV.{svg,mmd,dot}`,
//! `runbook/ENV.md`.

use super::timing::phase;
use berth_emit::FileSet;
use berth_render::Rendered;
use berth_spec::Loaded;

/// Each output's directory name and files. `graphs`: each environment's
/// (`berth_operate::graph::graph`); `paths`: the app and output directories as the runbook's
/// commands name them.
pub(super) fn outputs(
    loaded: &Loaded,
    rendered: &[Rendered],
    graphs: &[berth_operate::graph::Graph],
    paths: &berth_operate::runbook::Paths,
) -> Vec<(&'static str, FileSet)> {
    let mut capacity = FileSet::default();
    for r in rendered {
        let plan = phase("capacity plan", || berth_operate::capacity::plan(r));
        capacity.insert(format!("{}.txt", r.env), plan.to_text());
        let mut json = serde_json::to_string_pretty(&plan.to_json()).expect("json");
        json.push('\n');
        capacity.insert(format!("{}.json", r.env), json);
    }
    let mut graph = FileSet::default();
    for (r, g) in rendered.iter().zip(graphs) {
        graph.insert(format!("{}.svg", r.env), phase("graph svg", || g.to_svg()));
        graph.insert(format!("{}.mmd", r.env), g.to_mermaid());
        graph.insert(format!("{}.dot", r.env), g.to_dot());
    }
    let mut runbook = FileSet::default();
    for (app, r) in loaded.apps.iter().zip(rendered) {
        let book = phase("runbook", || berth_operate::runbook::runbook(app, r, paths));
        runbook.insert(format!("{}.md", r.env), book.to_markdown());
    }
    vec![
        ("capacity", capacity),
        ("graph", graph),
        ("runbook", runbook),
    ]
}

/// `monitoring/ENV/`: one file per monitoring object and all.yaml, per environment.
pub(super) fn monitoring(loaded: &Loaded, rendered: &[Rendered]) -> FileSet {
    let mut files = FileSet::default();
    for (app, r) in loaded.apps.iter().zip(rendered) {
        let objects = berth_operate::monitoring::objects(app, r)
            .into_iter()
            .map(super::app::object)
            .collect();
        let set = Rendered {
            env: r.env.clone(),
            namespace: r.namespace.clone(),
            namespaces: r.namespaces.clone(),
            objects,
            warnings: Vec::new(),
        };
        files.nest(&r.env, berth_emit::manifests(&set));
    }
    files
}
