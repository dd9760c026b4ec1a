//! Report formats: human, JSON, SARIF 2.1.0, JUnit XML; and the rule docs (markdown, explain).

use crate::model::{Finding, Severity};
use crate::rules::{self, Meta};
use crate::{Config, Report};
use serde_json::json;
use std::fmt::Write;

struct Paint(bool);

impl Paint {
    fn c(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn sev(&self, s: Severity) -> String {
        let code = match s {
            Severity::Error => "1;31",
            Severity::Warning => "1;33",
            Severity::Info => "36",
        };
        self.c(code, &format!("{:<7}", s.as_str()))
    }
}

fn loc(f: &Finding) -> String {
    let at = if f.line == 0 {
        f.file.to_string()
    } else {
        format!("{}:{}:{}", f.file, f.line, f.col)
    };
    match &f.origin {
        // The spec entry, then where exactly in the rendered stream.
        Some(o) => format!(
            "{at} {}, env {}; line {}:{} of `berth render --env {}`",
            o.spec_path, o.environment, o.rendered_line, o.rendered_col, o.environment
        ),
        None => at,
    }
}

/// Where an object's group starts: its file and line, or the spec entry that produced it.
fn object_loc(f: &Finding) -> String {
    let at = if f.object_line > 0 {
        format!("{}:{}", f.file, f.object_line)
    } else {
        f.file.to_string()
    };
    match &f.origin {
        Some(o) => format!("{at} ({}, env {})", o.spec_path, o.environment),
        None => at,
    }
}

/// Human output: findings grouped by object, with the fix hint, and a summary line.
pub fn human(report: &Report, color: bool) -> String {
    let p = Paint(color);
    let mut out = String::new();
    type Group = (String, usize, Option<crate::ObjRef>, Option<String>);
    let mut last: Option<Group> = None;
    for f in &report.findings {
        let env = f.origin.as_ref().map(|o| o.environment.clone());
        let key = (f.file.to_string(), f.object_line, f.object.clone(), env);
        if last.as_ref() != Some(&key) {
            if last.is_some() {
                out.push('\n');
            }
            let head = match &f.object {
                Some(o) => format!("{o}"),
                None => "(no object)".to_string(),
            };
            let _ = writeln!(out, "{}  {}", p.c("1", &head), p.c("2", &object_loc(f)));
            last = Some(key);
        }
        let path = if f.path.is_empty() {
            String::new()
        } else {
            format!("{}: ", f.path)
        };
        let _ = writeln!(
            out,
            "  {} {} {}{}  {}",
            p.sev(f.severity),
            p.c("35", &f.rule),
            path,
            f.message,
            p.c("2", &format!("({})", loc(f)))
        );
        if let Some(h) = &f.hint {
            let _ = writeln!(out, "          {} {h}", p.c("32", "fix:"));
        }
    }
    if !report.suppressed.is_empty() {
        if !report.findings.is_empty() {
            out.push('\n');
        }
        let _ = writeln!(out, "{}", p.c("1", "suppressed by berth.dev/ignore:"));
        for f in &report.suppressed {
            let obj = f.object.as_ref().map(|o| o.to_string()).unwrap_or_default();
            let reason = match f.suppressed.as_deref() {
                Some("") | None => "no reason given (add berth.dev/ignore-reason)".to_string(),
                Some(r) => format!("reason: {r}"),
            };
            let _ = writeln!(
                out,
                "  {} {} on {obj} ({}) — {reason}",
                p.sev(f.severity),
                f.rule,
                loc(f)
            );
        }
    }
    if !report.findings.is_empty() || !report.suppressed.is_empty() {
        out.push('\n');
    }
    out.push_str(&summary(report, &p));
    out
}

fn summary(report: &Report, p: &Paint) -> String {
    let (e, w, i) = (
        report.count(Severity::Error),
        report.count(Severity::Warning),
        report.count(Severity::Info),
    );
    let plural = |n: usize, s: &str| format!("{n} {s}{}", if n == 1 { "" } else { "s" });
    let mark = if e > 0 {
        p.c("1;31", "✗")
    } else if w > 0 {
        p.c("1;33", "!")
    } else {
        p.c("1;32", "✓")
    };
    let mut s = format!(
        "{mark} {}, {}, {i} info in {} across {} (Kubernetes {})",
        plural(e, "error"),
        plural(w, "warning"),
        plural(report.objects, "object"),
        plural(report.files, "file"),
        report.kube_version
    );
    if !report.suppressed.is_empty() {
        let _ = write!(s, "; {} suppressed", report.suppressed.len());
    }
    s.push('\n');
    s
}

/// JSON for scripts: the whole report plus counts.
pub fn json(report: &Report) -> String {
    // Serialized from borrowed fields: no Value copy of every finding.
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Summary {
        error: usize,
        warning: usize,
        info: usize,
        suppressed: usize,
        objects: usize,
        files: usize,
        input_errors: usize,
    }
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Out<'a> {
        kube_version: &'a str,
        summary: Summary,
        findings: &'a [Finding],
        suppressed: &'a [Finding],
        notices: &'a [String],
    }
    let v = Out {
        kube_version: report.kube_version,
        summary: Summary {
            error: report.count(Severity::Error),
            warning: report.count(Severity::Warning),
            info: report.count(Severity::Info),
            suppressed: report.suppressed.len(),
            objects: report.objects,
            files: report.files,
            input_errors: report.input_errors,
        },
        findings: &report.findings,
        suppressed: &report.suppressed,
        notices: &report.notices,
    };
    serde_json::to_string_pretty(&v).expect("report serializes") + "\n"
}

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn rel_uri(file: &str) -> String {
    file.trim_start_matches("./")
        .replace('\\', "/")
        .replace(' ', "%20")
}

/// SARIF 2.1.0 (GitHub code scanning).
pub fn sarif(report: &Report, config: &Config, prod: bool) -> String {
    let all = rules::all();
    let rule_defs: Vec<_> = all
        .iter()
        .map(|r| {
            let m = r.meta();
            json!({
                "id": m.id,
                "name": m.id,
                "shortDescription": {"text": m.summary},
                "fullDescription": {"text": m.why},
                "help": {
                    "text": format!("{}\n\n{}", m.hint, m.fix),
                    "markdown": format!("{}\n\n```yaml\n{}```", m.why, m.fix),
                },
                "defaultConfiguration": {
                    "level": config.severity(m, prod, false).map_or("none", sarif_level),
                },
                "properties": {"tags": [m.category]},
            })
        })
        .collect();
    let result = |f: &Finding| {
        let idx = all.iter().position(|r| r.meta().id == f.rule).unwrap_or(0);
        let mut region = json!({});
        if f.line > 0 {
            region = json!({"startLine": f.line, "startColumn": f.col.max(1)});
        }
        let mut loc = json!({"physicalLocation": {"artifactLocation": {"uri": rel_uri(&f.file)}}});
        if f.line > 0 {
            loc["physicalLocation"]["region"] = region;
        }
        if let Some(o) = &f.object {
            loc["logicalLocations"] =
                json!([{"name": o.name, "fullyQualifiedName": o.to_string(), "kind": o.kind}]);
        }
        let mut text = f.message.clone();
        if !f.path.is_empty() {
            text = format!("{}: {text}", f.path);
        }
        let mut r = json!({
            "ruleId": f.rule,
            "ruleIndex": idx,
            "level": sarif_level(f.severity),
            "message": {"text": text},
            "locations": [loc],
        });
        if let Some(reason) = &f.suppressed {
            r["suppressions"] = json!([{"kind": "inSource", "justification": reason}]);
        }
        r
    };
    let results: Vec<_> = report
        .findings
        .iter()
        .chain(report.suppressed.iter())
        .map(result)
        .collect();
    let v = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "berth-check",
                "informationUri": "https://github.com/berth-dev/berth",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rule_defs,
            }},
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&v).expect("sarif serializes") + "\n"
}

fn xml_escape(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&apos;".to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// JUnit XML: one test case per finding (failing when it reaches `fail_on`).
pub fn junit(report: &Report, fail_on: Severity) -> String {
    let failures = report
        .findings
        .iter()
        .filter(|f| f.severity >= fail_on)
        .count();
    let tests = report.findings.len().max(1);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"berth check\" tests=\"{tests}\" failures=\"{failures}\">"
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"berth check (Kubernetes {})\" tests=\"{tests}\" failures=\"{failures}\">",
        report.kube_version
    );
    if report.findings.is_empty() {
        let _ = writeln!(
            out,
            "    <testcase classname=\"berth-check\" name=\"no findings\"/>"
        );
    }
    for f in &report.findings {
        let obj = f.object.as_ref().map(|o| o.to_string()).unwrap_or_default();
        let name = xml_escape(&format!("{} {obj}", f.rule));
        let class = xml_escape(&f.file);
        let body = xml_escape(&format!(
            "{}: {}{}",
            loc(f),
            if f.path.is_empty() {
                String::new()
            } else {
                format!("{}: ", f.path)
            },
            f.message
        ));
        if f.severity >= fail_on {
            let _ = writeln!(
                out,
                "    <testcase classname=\"{class}\" name=\"{name}\">\n      <failure type=\"{}\" message=\"{}\">{body}</failure>\n    </testcase>",
                f.severity,
                xml_escape(&f.message)
            );
        } else {
            let _ = writeln!(
                out,
                "    <testcase classname=\"{class}\" name=\"{name}\">\n      <system-out>{}: {body}</system-out>\n    </testcase>",
                f.severity
            );
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

fn sev_cell(m: &Meta) -> String {
    let base = m.severity.map_or("off".to_string(), |s| s.to_string());
    let mut notes = Vec::new();
    if let Some(p) = m.prod_severity.filter(|p| Some(*p) != m.severity) {
        notes.push(format!("{p} with --prod"));
    }
    if let Some(d) = crate::config::dev_severity(m.id) {
        notes.push(format!(
            "{} in dev",
            d.map_or("off".to_string(), |s| s.to_string())
        ));
    }
    if notes.is_empty() {
        base
    } else {
        format!("{base} ({})", notes.join("; "))
    }
}

/// `docs/rules.md`, generated from the rule definitions.
pub fn rules_markdown() -> String {
    let mut out = String::from(
        "# berth check rules\n\n\
         <!-- Generated by `berth check --list-rules -o markdown` from crates/check/src/rules/*.rs; \
         a test fails when this file is stale. Do not edit by hand. -->\n\n\
         Severities can be changed or rules disabled in `.berth-check.yaml`; one object can opt out with the \
         annotation `berth.dev/ignore: \"rule-id,other-id\"` (and `berth.dev/ignore-reason`). \
         `berth explain RULE` prints a rule's full docs. Cross-resource rules (marked ⇄) read all input \
         objects together. `berth check APP` and `berth build` judge each environment by its tier: a \
         prod-tier render with the `--prod` severities, a dev-tier render with the `in dev` ones \
         (what the spec allows only in dev is never an error there). Their findings point at the spec \
         entry that produced the object (`berth.yaml:8:3`, `services.worker`, with the environment) and \
         say where in `berth render --env ENV` the field is (`-o json`: `specPath`, `environment`, \
         `renderedLine`, `renderedCol`). Berth's own output is read once: in an environment directory \
         (`berth check out/prod`) `all.yaml` is skipped when it holds exactly the per-object files' \
         objects, and a `berth build` root (`berth check out`) is checked through its environment \
         directories only (a note names what was skipped).\n\n\
         | Rule | Severity | What it checks | kube-score | kube-linter | Polaris | Checkov |\n\
         | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    let cell = |s: &str| {
        if s.is_empty() {
            "—".to_string()
        } else {
            s.replace('|', "\\|")
        }
    };
    for r in rules::all() {
        let m = r.meta();
        let _ = writeln!(
            out,
            "| [`{}`](#{}){} | {} | {} | {} | {} | {} | {} |",
            m.id,
            m.id,
            if m.cross { " ⇄" } else { "" },
            sev_cell(m),
            cell(m.summary),
            cell(m.equiv[0]),
            cell(m.equiv[1]),
            cell(m.equiv[2]),
            cell(m.equiv[3]),
        );
    }
    out.push_str("\n## Rules\n");
    let mut cat = "";
    for r in rules::all() {
        let m = r.meta();
        if m.category != cat {
            cat = m.category;
            let _ = write!(out, "\n### {cat}\n");
        }
        let _ = write!(
            out,
            "\n#### {}\n\n**{}** · default severity: {}{}\n\n{}\n\nFix: {}\n\n```yaml\n{}```\n",
            m.id,
            m.summary,
            sev_cell(m),
            if m.cross { " · cross-resource" } else { "" },
            m.why,
            m.hint,
            m.fix
        );
    }
    out
}

/// Plain-text list for `--list-rules`.
pub fn rules_table() -> String {
    let mut out = String::new();
    for r in rules::all() {
        let m = r.meta();
        let _ = writeln!(out, "{:<38} {:<26} {}", m.id, sev_cell(m), m.summary);
    }
    out
}

pub fn rules_json() -> String {
    let v: Vec<_> = rules::all()
        .iter()
        .map(|r| {
            let m = r.meta();
            json!({
                "id": m.id, "category": m.category,
                "severity": m.severity.map_or("off".into(), |s| s.to_string()),
                "prodSeverity": m.prod_severity.map(|s| s.to_string()),
                "summary": m.summary, "why": m.why, "fix": m.fix, "hint": m.hint, "crossResource": m.cross,
                "equivalents": {"kube-score": m.equiv[0], "kube-linter": m.equiv[1], "polaris": m.equiv[2], "checkov": m.equiv[3]},
            })
        })
        .collect();
    serde_json::to_string_pretty(&v).expect("rules serialize") + "\n"
}

/// `berth explain RULE`.
pub fn explain(m: &Meta) -> String {
    let eq: Vec<String> = ["kube-score", "kube-linter", "Polaris", "Checkov"]
        .iter()
        .zip(m.equiv.iter())
        .filter(|(_, e)| !e.is_empty())
        .map(|(t, e)| format!("  {t}: {e}"))
        .collect();
    format!(
        "{} ({}, default severity {}{})\n\n{}\n\nWhy:\n  {}\n\nFix: {}\n\n{}\n{}",
        m.id,
        m.category,
        sev_cell(m),
        if m.cross { ", cross-resource" } else { "" },
        m.summary,
        m.why,
        m.hint,
        m.fix
            .lines()
            .map(|l| format!("    {l}\n"))
            .collect::<String>(),
        if eq.is_empty() {
            String::new()
        } else {
            format!("\nEquivalents:\n{}\n", eq.join("\n"))
        }
    )
}
