//! `cargo run -p berth-import --example show -- DIR`: the spec and report of one project.
fn main() {
    let dir = std::env::args()
        .nth(1)
        .expect("a compose project directory");
    let opts = berth_import::compose::Options {
        project_dir: Some(dir.into()),
        ..Default::default()
    };
    let p = berth_import::compose::load(&opts, &berth_import::compose::RealFiles).unwrap();
    let imp = berth_import::import(
        &p,
        &berth_import::Features::default(),
        &berth_import::compose::RealFiles,
    )
    .unwrap();
    println!("{}\n{}", imp.spec, imp.report.human());
}
