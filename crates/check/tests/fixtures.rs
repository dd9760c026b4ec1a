//! One fixture pair per rule: `fixtures/<rule-id>/pass.yaml` has no finding of the rule,
//! `fail.yaml` has at least one. Every rule is enabled (off-by-default ones at info) and the
//! prod profile is on, so each pair exercises its rule.

use berth_check::{Config, Input, Options, Severity, check, rules};
use std::path::{Path, PathBuf};

fn all_enabled() -> Options {
    let mut config = Config::default();
    for r in rules::all() {
        let m = r.meta();
        config.severities.insert(
            m.id.to_string(),
            Some(m.prod_severity.or(m.severity).unwrap_or(Severity::Info)),
        );
    }
    Options {
        config,
        prod: true,
        ..Default::default()
    }
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn findings(path: &Path) -> Vec<(String, String)> {
    let r = check(&[Input::Path(path.to_path_buf())], &all_enabled()).expect("check runs");
    r.findings
        .into_iter()
        .map(|f| {
            (
                f.rule,
                format!("{}:{}: {} {}", f.file, f.line, f.path, f.message),
            )
        })
        .collect()
}

#[test]
fn golden_bundle_has_no_findings() {
    let f = findings(&dir().join("golden.yaml"));
    assert!(f.is_empty(), "golden.yaml must pass every rule: {f:#?}");
}

#[test]
fn every_rule_has_a_fixture_pair_that_passes_and_fails() {
    let mut problems = Vec::new();
    for r in rules::all() {
        let id = r.meta().id;
        let (pass, fail) = (
            dir().join(id).join("pass.yaml"),
            dir().join(id).join("fail.yaml"),
        );
        if !pass.is_file() || !fail.is_file() {
            problems.push(format!(
                "{id}: missing fixtures/{id}/pass.yaml or fail.yaml"
            ));
            continue;
        }
        let p: Vec<_> = findings(&pass)
            .into_iter()
            .filter(|(r, _)| r == id)
            .collect();
        if !p.is_empty() {
            problems.push(format!("{id}: pass.yaml has findings: {p:?}"));
        }
        let f: Vec<_> = findings(&fail)
            .into_iter()
            .filter(|(r, _)| r == id)
            .collect();
        if f.is_empty() {
            problems.push(format!("{id}: fail.yaml has no finding of the rule"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn fixture_dirs_belong_to_rules() {
    for e in std::fs::read_dir(dir()).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            let name = e.file_name().to_string_lossy().to_string();
            assert!(
                rules::find(&name).is_some(),
                "fixtures/{name} matches no rule"
            );
        }
    }
}

/// Readiness gates Service traffic only: the selected `web` pod without a readinessProbe is
/// flagged, the `worker` Deployment that no Service selects (also without one) is not.
#[test]
fn readiness_probe_missing_flags_selected_pods_only() {
    let rule = "readiness-probe-missing";
    for (file, expected) in [("fail.yaml", 1), ("pass.yaml", 0)] {
        let f: Vec<_> = findings(&dir().join(rule).join(file))
            .into_iter()
            .filter(|(r, _)| r == rule)
            .collect();
        assert_eq!(f.len(), expected, "{file}: {f:#?}");
        assert!(
            f.iter().all(|(_, m)| m.contains("container `web`")),
            "{file}: only the selected web container may be flagged: {f:#?}"
        );
    }
    // The worker is in both files and has no readinessProbe.
    let fail = std::fs::read_to_string(dir().join(rule).join("fail.yaml")).unwrap();
    assert!(fail.contains("name: worker") && !fail.contains("readinessProbe"));
}

/// The dev profile (a dev-tier render, `Options::for_tier("dev")`) is milder where the spec
/// allows more in dev: `plaintext-secret` is off, `image-tag-mutable` a warning.
#[test]
fn the_dev_profile_relaxes_what_the_spec_allows_in_dev() {
    let severities = |rule: &str, tier: &str| {
        let file = dir().join(rule).join("fail.yaml");
        check(&[Input::Path(file)], &Options::default().for_tier(tier))
            .unwrap()
            .findings
            .iter()
            .filter(|f| f.rule == rule)
            .map(|f| f.severity)
            .collect::<Vec<_>>()
    };
    for tier in ["staging", "prod"] {
        let plain = severities("plaintext-secret", tier);
        assert!(
            !plain.is_empty(),
            "a plain Secret must be flagged in {tier}"
        );
        let tags = severities("image-tag-mutable", tier);
        assert!(
            !tags.is_empty() && tags.iter().all(|s| *s == Severity::Error),
            "{tier}: {tags:?}"
        );
    }
    assert!(
        severities("plaintext-secret", "dev").is_empty(),
        "dev-tier renders may hold plain Secrets"
    );
    let tags = severities("image-tag-mutable", "dev");
    assert!(
        !tags.is_empty() && tags.iter().all(|s| *s == Severity::Warning),
        "{tags:?}"
    );
    // --prod wins over the tier.
    let prod = Options {
        prod: true,
        ..Default::default()
    };
    assert!(prod.for_tier("dev").prod && !prod.for_tier("dev").dev);
}
