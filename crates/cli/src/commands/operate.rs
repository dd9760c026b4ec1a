//! The operating outputs `berth build` writes beside the deployable formats, each one a
//! command's output for every environment: `capacity/ENV.{txt,json}`.

use berth_emit::FileSet;
use berth_render::Rendered;
use berth_spec::Loaded;

/// Each output's directory name and files.
pub fn outputs(loaded: &Loaded, rendered: &[Rendered]) -> Vec<(&'static str, FileSet)> {
    let _ = loaded;
    let mut capacity = FileSet::default();
    for r in rendered {
        let plan = berth_operate::capacity::plan(r);
        capacity.insert(format!("{}.txt", r.env), plan.to_text());
        let mut json = serde_json::to_string_pretty(&plan.to_json()).expect("json");
        json.push('\n');
        capacity.insert(format!("{}.json", r.env), json);
    }
    vec![("capacity", capacity)]
}
