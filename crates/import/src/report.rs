//! The import report: every compose setting berth changed, dropped or needs a person to
//! decide, with where it was written and what to do. Never holds a secret's value.

use serde::Serialize;
use std::fmt::Write as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Not carried over; `what` says why.
    Dropped,
    /// Carried over differently.
    Changed,
    /// Carried over, but a person must check or fill in something.
    Review,
    /// A credential: kept out of the spec as a secret name.
    Secret,
    /// Something berth refuses to reproduce (it would be unsafe on Kubernetes).
    Refused,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Dropped => "dropped",
            Kind::Changed => "changed",
            Kind::Review => "review",
            Kind::Secret => "secret",
            Kind::Refused => "refused",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub kind: Kind,
    /// Compose file (as given), line and column; absent for project-wide notes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    pub line: usize,
    pub col: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The compose setting (`ports[1]`, `network_mode`, `environment.DB_PASSWORD`).
    pub setting: String,
    /// What berth did.
    pub what: String,
    /// What to do about it.
    pub todo: String,
}

/// A secret the spec names; its value is nowhere in berth's output.
#[derive(Debug, Clone, Serialize)]
pub struct SecretName {
    pub service: String,
    pub name: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// The compose files read.
    pub files: Vec<String>,
    /// Compose services → what they became (`service`, `dependency`, `dropped`).
    pub services: Vec<Mapped>,
    pub items: Vec<Item>,
    pub secrets: Vec<SecretName>,
    /// Files copied next to berth.yaml (config files).
    pub copied: Vec<String>,
    /// Warnings docker compose itself prints (unset variables, …).
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Mapped {
    pub compose: String,
    /// `service`, `dependency` or `dropped`.
    #[serde(rename = "as")]
    pub as_: &'static str,
    pub name: String,
}

impl Report {
    pub fn count(&self, kind: Kind) -> usize {
        self.items.iter().filter(|i| i.kind == kind).count()
    }

    /// The report for a terminal: grouped by service, one line per item plus what to do.
    pub fn human(&self) -> String {
        let mut out = String::new();
        let mut last: Option<Option<String>> = None;
        let mut items: Vec<&Item> = self.items.iter().collect();
        items.sort_by_key(|i| (i.service.clone(), i.kind, i.line));
        for i in items {
            if last.as_ref() != Some(&i.service) {
                let _ = writeln!(
                    out,
                    "\n{}",
                    match &i.service {
                        Some(s) => format!("service {s}:"),
                        None => "project:".into(),
                    }
                );
                last = Some(i.service.clone());
            }
            let at = match &i.file {
                Some(f) if i.line > 0 => format!("{f}:{}:{}", i.line, i.col),
                Some(f) => f.clone(),
                None => String::new(),
            };
            let _ = writeln!(out, "  {:<8} {} ({at})", i.kind.as_str(), i.setting);
            let _ = writeln!(out, "           {}", i.what);
            let _ = writeln!(out, "           → {}", i.todo);
        }
        let _ = writeln!(
            out,
            "\n{} services, {} dependencies, {} dropped; {} report items ({} refused, {} dropped, {} changed, {} to review, {} secrets)",
            self.services.iter().filter(|m| m.as_ == "service").count(),
            self.services
                .iter()
                .filter(|m| m.as_ == "dependency")
                .count(),
            self.services.iter().filter(|m| m.as_ == "dropped").count(),
            self.items.len(),
            self.count(Kind::Refused),
            self.count(Kind::Dropped),
            self.count(Kind::Changed),
            self.count(Kind::Review),
            self.count(Kind::Secret),
        );
        out
    }
}
