//! The runbook of every example and environment, as Markdown snapshots (the commands' proof,
//! through the real kubectl and helm, is `crates/cli/tests/runbook.rs`).

mod common;
use berth_operate::runbook::{Paths, runbook, slug};
use common::repo;
use std::path::PathBuf;

#[test]
fn runbooks_of_every_example() {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(repo().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("berth.yaml").exists())
        .collect();
    dirs.sort();
    for d in dirs {
        let name = d.file_name().unwrap().to_string_lossy().into_owned();
        let loaded = berth_spec::load(&d).unwrap();
        for app in &loaded.apps {
            let r = berth_render::render(app);
            let paths = Paths {
                app: format!("examples/{name}"),
                out: format!("examples/{name}/out"),
            };
            let book = runbook(app, &r, &paths);
            for s in &book.sections {
                assert_eq!(s.id, slug(&s.title));
            }
            let md = book.to_markdown();
            assert_eq!(md, runbook(app, &r, &paths).to_markdown(), "deterministic");
            insta::assert_snapshot!(format!("runbook-{name}-{}", app.env), md);
        }
    }
}

#[test]
fn slugs_and_quoting() {
    assert_eq!(
        slug("BerthPodCrashLooping: backend"),
        "berthpodcrashlooping-backend"
    );
    assert_eq!(slug("PostgreSQL db (Patroni)"), "postgresql-db-patroni");
    assert_eq!(berth_operate::runbook::quote("a=b"), "a=b");
    assert_eq!(berth_operate::runbook::quote("{.data}"), "'{.data}'");
    assert_eq!(berth_operate::runbook::quote("it's"), r"'it'\''s'");
}
