//! Proof (f): berth import against kompose on the 43 corpus projects with kompose's golden
//! outputs. For each project, both outputs are measured by `berth check` (and object counts):
//! workloads with CPU+memory limits, with readiness+liveness probes (counted from the pod spec), running as non-root, with a
//! read-only root filesystem; NetworkPolicies, PodDisruptionBudgets, persistent volumes, and
//! credential values written into plain env. berth's side is the imported spec's prod render.
//!
//! The table in docs/import.md is this test's output: `BERTH_UPDATE_DOCS=1 cargo test -p
//! berth-import --test kompose_compare` rewrites it; otherwise the test fails when it is stale.
//! It also fails if berth's output is worse than kompose's on any measure of any project.

mod common;
use common::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

#[derive(Default, Debug, Clone, Copy)]
struct Measure {
    workloads: usize,
    limits: usize,
    probes: usize,
    non_root: usize,
    read_only: usize,
    netpols: usize,
    pdbs: usize,
    volumes: usize,
    /// Credential values written in plain env (`credential-literal` findings).
    plain_creds: usize,
}

const WORKLOADS: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
    "Pod",
    "DeploymentConfig",
];

fn measure(text: &str, name: &str, prod: bool) -> Measure {
    let mut m = Measure::default();
    let mut workloads: BTreeSet<String> = BTreeSet::new();
    let mut objs: Vec<serde_json::Value> = Vec::new();
    for doc in berth_yaml::parse_stream(text, berth_yaml::Limits::default()) {
        if let Ok(Some(n)) = doc.root {
            let j = n.to_json();
            if j["kind"] == "List" {
                objs.extend(j["items"].as_array().cloned().unwrap_or_default());
            } else {
                objs.push(j);
            }
        }
    }
    for o in &objs {
        let kind = o["kind"].as_str().unwrap_or("");
        let oname = o["metadata"]["name"].as_str().unwrap_or("");
        match kind {
            k if WORKLOADS.contains(&k) => {
                workloads.insert(format!("{k}/{oname}"));
                // Probes from the pod spec: berth check's probe rules skip one-shot Pods and Jobs.
                let pod = match k {
                    "Pod" => &o["spec"],
                    "CronJob" => &o["spec"]["jobTemplate"]["spec"]["template"]["spec"],
                    _ => &o["spec"]["template"]["spec"],
                };
                let cs = pod["containers"].as_array().cloned().unwrap_or_default();
                if !cs.is_empty()
                    && cs.iter().all(|c| {
                        c.get("readinessProbe").is_some() && c.get("livenessProbe").is_some()
                    })
                {
                    m.probes += 1;
                }
                m.volumes += o["spec"]["volumeClaimTemplates"]
                    .as_array()
                    .map_or(0, |v| v.len());
            }
            "NetworkPolicy" => m.netpols += 1,
            "PodDisruptionBudget" => m.pdbs += 1,
            "PersistentVolumeClaim" => m.volumes += 1,
            _ => {}
        }
    }
    m.workloads = workloads.len();
    let opts = berth_check::Options {
        prod,
        ..Default::default()
    };
    let report = berth_check::check(
        &[berth_check::Input::Text {
            name: name.into(),
            text: text.into(),
        }],
        &opts,
    )
    .unwrap();
    let mut lacking: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for f in &report.findings {
        let Some(obj) = &f.object else { continue };
        let key = format!("{}/{}", obj.kind, obj.name);
        let measure = match f.rule.as_str() {
            "cpu-limit-missing" | "memory-limit-missing" => "limits",
            "run-as-non-root" => "non_root",
            "read-only-root-fs" => "read_only",
            "credential-literal" => {
                m.plain_creds += 1;
                continue;
            }
            _ => continue,
        };
        lacking.entry(measure).or_default().insert(key);
    }
    let has = |k: &str| {
        m.workloads
            - lacking
                .get(k)
                .map_or(0, |s| s.iter().filter(|o| workloads.contains(*o)).count())
    };
    m.limits = has("limits");
    m.non_root = has("non_root");
    m.read_only = has("read_only");
    m
}

fn kompose_output(dir: &Path) -> Option<String> {
    let k = dir.join("kompose");
    let mut files: Vec<_> = std::fs::read_dir(&k)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        })
        .collect();
    files.sort();
    let pick = files
        .iter()
        .find(|p| p.file_name().unwrap() == "output-k8s.yaml")
        .or(files.first())?;
    std::fs::read_to_string(pick).ok()
}

fn cell(k: usize, b: usize, of: Option<(usize, usize)>) -> String {
    match of {
        Some((kw, bw)) => format!("{k}/{kw} · **{b}/{bw}**"),
        None => format!("{k} · **{b}**"),
    }
}

#[test]
fn berth_import_against_kompose() {
    let features = features();
    let mut rows = Vec::new();
    let mut worse = Vec::new();
    let mut totals = [0usize; 18];
    for (name, dir) in corpus_projects() {
        let Some(kompose) = kompose_output(&dir) else {
            continue;
        };
        let project = load(&dir).unwrap();
        let Ok(imp) = berth_import::import(&project, &features, &berth_import::compose::RealFiles)
        else {
            rows.push(format!(
                "| {name} | refused: no service enabled | | | | | | | |"
            ));
            continue;
        };
        let loaded = load_spec(&imp).unwrap();
        let prod = loaded.apps.iter().find(|a| a.env == "prod").unwrap();
        let text = berth_emit::stream(&berth_render::render(prod));
        let k = measure(&kompose, "kompose", true);
        let b = measure(&text, "berth", true);
        let pairs = [
            (k.limits, b.limits, k.workloads, b.workloads),
            (k.probes, b.probes, k.workloads, b.workloads),
            (k.non_root, b.non_root, k.workloads, b.workloads),
            (k.read_only, b.read_only, k.workloads, b.workloads),
        ];
        for (i, (kv, bv, kw, bw)) in pairs.iter().enumerate() {
            // Share of workloads, so a different workload count compares fairly.
            if *kw > 0 && *bw > 0 && bv * kw < kv * bw {
                worse.push(format!(
                    "{name}: measure {i}: berth {bv}/{bw}, kompose {kv}/{kw}"
                ));
            }
        }
        if b.netpols < k.netpols || b.pdbs < k.pdbs || b.plain_creds > k.plain_creds {
            worse.push(format!("{name}: berth {b:?} vs kompose {k:?}"));
        }
        let vals = [
            k.workloads,
            b.workloads,
            k.limits,
            b.limits,
            k.probes,
            b.probes,
            k.non_root,
            b.non_root,
            k.read_only,
            b.read_only,
            k.netpols,
            b.netpols,
            k.pdbs,
            b.pdbs,
            k.volumes,
            b.volumes,
            k.plain_creds,
            b.plain_creds,
        ];
        for (t, v) in totals.iter_mut().zip(vals) {
            *t += v;
        }
        rows.push(format!(
            "| {name} | {} | {} | {} | {} | {} | {} | {} | {} |",
            cell(k.limits, b.limits, Some((k.workloads, b.workloads))),
            cell(k.probes, b.probes, Some((k.workloads, b.workloads))),
            cell(k.non_root, b.non_root, Some((k.workloads, b.workloads))),
            cell(k.read_only, b.read_only, Some((k.workloads, b.workloads))),
            cell(k.netpols, b.netpols, None),
            cell(k.pdbs, b.pdbs, None),
            cell(k.volumes, b.volumes, None),
            cell(k.plain_creds, b.plain_creds, None),
        ));
    }
    let t = totals;
    rows.push(format!(
        "| **all {} projects** | {}/{} · **{}/{}** | {}/{} · **{}/{}** | {}/{} · **{}/{}** | {}/{} · **{}/{}** | {} · **{}** | {} · **{}** | {} · **{}** | {} · **{}** |",
        rows.len(), t[2], t[0], t[3], t[1], t[4], t[0], t[5], t[1], t[6], t[0], t[7], t[1], t[8], t[0], t[9], t[1], t[10], t[11], t[12], t[13], t[14], t[15], t[16], t[17]
    ));
    let table = format!(
        "| project | workloads with CPU+memory limits | with readiness+liveness probes | non-root | read-only root FS | NetworkPolicies | PDBs | persistent volumes | credential values in plain env |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n{}\n",
        rows.join("\n")
    );
    let doc_path = repo().join("docs/import.md");
    let doc = std::fs::read_to_string(&doc_path).unwrap_or_default();
    let (begin, end) = (
        "<!-- kompose-table:begin -->\n",
        "<!-- kompose-table:end -->",
    );
    let (Some(a), Some(z)) = (doc.find(begin), doc.find(end)) else {
        panic!("docs/import.md has no {begin:?} … {end:?} markers");
    };
    let current = &doc[a + begin.len()..z];
    if std::env::var_os("BERTH_UPDATE_DOCS").is_some() {
        let new = format!("{}{begin}{table}{}", &doc[..a], &doc[z..]);
        std::fs::write(&doc_path, new).unwrap();
    } else {
        assert_eq!(
            current, table,
            "docs/import.md's kompose table is stale: BERTH_UPDATE_DOCS=1 cargo test -p berth-import --test kompose_compare"
        );
    }
    println!("{table}");
    assert!(
        worse.is_empty(),
        "berth is worse than kompose:\n{}",
        worse.join("\n")
    );
}
