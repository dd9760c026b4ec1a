//! The pure state machine: no IO, no clocks. The daemon feeds it events (a polled candidate, the
//! outcome of the IO step it asked for) and gets back journal records to append (fsync'd, in order)
//! and at most one IO step to perform next. Recovery after a crash is a pure function of the journal
//! and the `current` link found on disk. `tests/machine_props.rs` drives it with random
//! publish / fail / crash sequences.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// One config version: the generation it was observed as, and its content hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ver {
    pub generation: u64,
    pub hash: String,
}

impl Ver {
    /// Name of the immutable version directory under `<root>/.versions/`.
    pub fn dir_name(&self) -> String {
        let short: String = self.hash.chars().take(12).collect();
        format!("{:06}-{short}", self.generation)
    }
}

/// A journal record. Every generation starts with `observed` and ends with exactly one terminal
/// record: `committed`, `rejected`, `rolled_back`, `superseded` or `aborted`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Record {
    Observed {
        generation: u64,
        hash: String,
    },
    Validated {
        generation: u64,
    },
    Rejected {
        generation: u64,
        hash: String,
        reason: String,
    },
    Published {
        generation: u64,
    },
    Swapped {
        generation: u64,
    },
    ReloadSent {
        generation: u64,
    },
    Verified {
        generation: u64,
    },
    Unhealthy {
        generation: u64,
        reason: String,
    },
    Committed {
        generation: u64,
        hash: String,
    },
    RolledBack {
        generation: u64,
        hash: String,
        to: Option<Ver>,
        degraded: bool,
    },
    Superseded {
        generation: u64,
    },
    Aborted {
        generation: u64,
        reason: String,
    },
}

impl Record {
    pub fn generation(&self) -> u64 {
        match self {
            Record::Observed { generation, .. }
            | Record::Validated { generation }
            | Record::Rejected { generation, .. }
            | Record::Published { generation }
            | Record::Swapped { generation }
            | Record::ReloadSent { generation }
            | Record::Verified { generation }
            | Record::Unhealthy { generation, .. }
            | Record::Committed { generation, .. }
            | Record::RolledBack { generation, .. }
            | Record::Superseded { generation }
            | Record::Aborted { generation, .. } => *generation,
        }
    }

    /// The step name used in logs and by `BERTH_SYNC_CRASH_AT`.
    pub fn kind(&self) -> &'static str {
        match self {
            Record::Observed { .. } => "observed",
            Record::Validated { .. } => "validated",
            Record::Rejected { .. } => "rejected",
            Record::Published { .. } => "published",
            Record::Swapped { .. } => "swapped",
            Record::ReloadSent { .. } => "reload_sent",
            Record::Verified { .. } => "verified",
            Record::Unhealthy { .. } => "unhealthy",
            Record::Committed { .. } => "committed",
            Record::RolledBack { .. } => "rolled_back",
            Record::Superseded { .. } => "superseded",
            Record::Aborted { .. } => "aborted",
        }
    }

    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Record::Committed { .. }
                | Record::Rejected { .. }
                | Record::RolledBack { .. }
                | Record::Superseded { .. }
                | Record::Aborted { .. }
        )
    }
}

/// Where the machine is. Everything but `Idle` is waiting for the outcome of one IO step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Phase {
    Idle,
    Validating {
        ver: Ver,
    },
    Publishing {
        ver: Ver,
    },
    Swapping {
        ver: Ver,
    },
    Reloading {
        ver: Ver,
    },
    Verifying {
        ver: Ver,
    },
    /// Rolling back from `bad` to the last committed version: swap, reload, verify.
    SwappingBack {
        bad: Ver,
    },
    ReloadingBack {
        bad: Ver,
    },
    VerifyingBack {
        bad: Ver,
    },
    /// After a restart: put `current` back on the last committed version (and reload it once
    /// when the interrupted generation had already told the app).
    Restoring {
        reload: bool,
    },
    RestoringReload,
}

impl Phase {
    pub fn name(&self) -> &'static str {
        match self {
            Phase::Idle => "idle",
            Phase::Validating { .. } => "validating",
            Phase::Publishing { .. } => "publishing",
            Phase::Swapping { .. } => "swapping",
            Phase::Reloading { .. } => "reloading",
            Phase::Verifying { .. } => "verifying",
            Phase::SwappingBack { .. } => "swapping_back",
            Phase::ReloadingBack { .. } => "reloading_back",
            Phase::VerifyingBack { .. } => "verifying_back",
            Phase::Restoring { .. } => "restoring",
            Phase::RestoringReload => "restoring_reload",
        }
    }
}

/// What the daemon tells the machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A poll downloaded the source into staging and hashed it. `stable` is false when the
    /// source listing changed while downloading (a publish raced the download).
    Candidate { hash: String, stable: bool },
    /// The IO step asked for succeeded.
    Ok,
    /// The IO step asked for failed, with a reason.
    Failed(String),
}

/// The IO the daemon performs next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Io {
    /// Validate the staged candidate (parse, schema, command).
    Validate(Ver),
    /// Move the staged candidate to `.versions/<dir_name>` (fsync'd, immutable).
    Publish(Ver),
    /// Point `current` at this version (`None`: remove `current`), atomically.
    Swap(Option<Ver>),
    /// Tell the app to reload.
    Reload(Ver),
    /// Wait for the app to be healthy on this version.
    Verify(Ver),
    /// Throw the staged candidate away; nothing else to do.
    Discard,
    /// Throw the staged candidate away and poll again at once (it was superseded).
    Repoll,
    /// A commit happened: prune old version directories (never the committed one).
    Prune,
}

/// Output of one transition.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Step {
    pub records: Vec<Record>,
    pub io: Option<Io>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Machine {
    pub phase: Phase,
    /// Last committed version (last known good).
    pub committed: Option<Ver>,
    /// The version `current` points to, as far as the machine knows.
    pub current: Option<Ver>,
    /// Content hash not to retry until the source changes (last rejected or rolled back).
    pub quarantine: Option<String>,
    pub last_gen: u64,
    /// The last rollback failed: readiness reports 503 until a version commits.
    pub degraded: bool,
    pub last_error: Option<String>,
    /// Reload and verify the very first version too. When false (the daemon's default), the first
    /// version on an empty root commits right after the swap: in a pod the app only starts once the
    /// native sidecar is ready, so there is nothing to reload or verify yet.
    pub verify_initial: bool,
}

impl Default for Machine {
    fn default() -> Self {
        Machine {
            phase: Phase::Idle,
            committed: None,
            current: None,
            quarantine: None,
            last_gen: 0,
            degraded: false,
            last_error: None,
            verify_initial: true,
        }
    }
}

impl Machine {
    pub fn is_idle(&self) -> bool {
        self.phase == Phase::Idle
    }

    /// The generation in flight, if any.
    pub fn pending(&self) -> Option<&Ver> {
        match &self.phase {
            Phase::Validating { ver }
            | Phase::Publishing { ver }
            | Phase::Swapping { ver }
            | Phase::Reloading { ver }
            | Phase::Verifying { ver } => Some(ver),
            Phase::SwappingBack { bad }
            | Phase::ReloadingBack { bad }
            | Phase::VerifyingBack { bad } => Some(bad),
            _ => None,
        }
    }

    /// Would a candidate with this hash start a new generation?
    pub fn wants(&self, hash: &str) -> bool {
        self.committed.as_ref().map(|c| c.hash.as_str()) != Some(hash)
            && self.quarantine.as_deref() != Some(hash)
    }

    pub fn handle(&mut self, event: Event) -> Step {
        let phase = std::mem::replace(&mut self.phase, Phase::Idle);
        let mut step = Step::default();
        match (phase, event) {
            (Phase::Idle, Event::Candidate { hash, stable }) => {
                if !self.wants(&hash) {
                    step.io = Some(Io::Discard);
                    return step;
                }
                self.last_gen += 1;
                let ver = Ver {
                    generation: self.last_gen,
                    hash: hash.clone(),
                };
                step.records.push(Record::Observed {
                    generation: ver.generation,
                    hash,
                });
                if stable {
                    step.io = Some(Io::Validate(ver.clone()));
                    self.phase = Phase::Validating { ver };
                } else {
                    step.records.push(Record::Superseded {
                        generation: ver.generation,
                    });
                    step.io = Some(Io::Repoll);
                }
            }
            (phase @ Phase::Idle, _) => {
                // An outcome with nothing in flight: ignore (the daemon never sends one).
                self.phase = phase;
            }
            (phase, Event::Candidate { .. }) => {
                // Single flight: a candidate while busy is dropped; the next poll sees the newest.
                self.phase = phase;
                step.io = Some(Io::Discard);
            }
            (Phase::Validating { ver }, Event::Ok) => {
                step.records.push(Record::Validated {
                    generation: ver.generation,
                });
                step.io = Some(Io::Publish(ver.clone()));
                self.phase = Phase::Publishing { ver };
            }
            (Phase::Validating { ver }, Event::Failed(reason)) => {
                self.last_error = Some(format!("rejected {}: {reason}", ver.dir_name()));
                self.quarantine = Some(ver.hash.clone());
                step.records.push(Record::Rejected {
                    generation: ver.generation,
                    hash: ver.hash,
                    reason,
                });
                step.io = Some(Io::Discard);
            }
            (Phase::Publishing { ver }, Event::Ok) => {
                step.records.push(Record::Published {
                    generation: ver.generation,
                });
                step.io = Some(Io::Swap(Some(ver.clone())));
                self.phase = Phase::Swapping { ver };
            }
            (Phase::Publishing { ver }, Event::Failed(reason)) => {
                self.last_error = Some(format!("could not publish {}: {reason}", ver.dir_name()));
                step.records.push(Record::Aborted {
                    generation: ver.generation,
                    reason,
                });
                step.io = Some(Io::Discard);
            }
            (Phase::Swapping { ver }, Event::Ok) => {
                self.current = Some(ver.clone());
                step.records.push(Record::Swapped {
                    generation: ver.generation,
                });
                if self.committed.is_none() && !self.verify_initial {
                    // Bootstrap: the first version commits without an app to tell.
                    step.records.push(Record::Committed {
                        generation: ver.generation,
                        hash: ver.hash.clone(),
                    });
                    self.committed = Some(ver);
                    self.quarantine = None;
                    self.degraded = false;
                    self.last_error = None;
                    step.io = Some(Io::Prune);
                } else {
                    step.io = Some(Io::Reload(ver.clone()));
                    self.phase = Phase::Reloading { ver };
                }
            }
            (Phase::Swapping { ver }, Event::Failed(reason)) => {
                self.last_error = Some(format!("could not swap to {}: {reason}", ver.dir_name()));
                step.records.push(Record::Aborted {
                    generation: ver.generation,
                    reason,
                });
            }
            (Phase::Reloading { ver }, Event::Ok) => {
                step.records.push(Record::ReloadSent {
                    generation: ver.generation,
                });
                step.io = Some(Io::Verify(ver.clone()));
                self.phase = Phase::Verifying { ver };
            }
            (Phase::Reloading { ver }, Event::Failed(reason))
            | (Phase::Verifying { ver }, Event::Failed(reason)) => {
                self.last_error = Some(format!("{} unhealthy: {reason}", ver.dir_name()));
                step.records.push(Record::Unhealthy {
                    generation: ver.generation,
                    reason,
                });
                step.io = Some(Io::Swap(self.committed.clone()));
                self.phase = Phase::SwappingBack { bad: ver };
            }
            (Phase::Verifying { ver }, Event::Ok) => {
                step.records.push(Record::Verified {
                    generation: ver.generation,
                });
                step.records.push(Record::Committed {
                    generation: ver.generation,
                    hash: ver.hash.clone(),
                });
                self.committed = Some(ver);
                self.quarantine = None;
                self.degraded = false;
                self.last_error = None;
                step.io = Some(Io::Prune);
            }
            (Phase::SwappingBack { bad }, Event::Ok) => {
                self.current = self.committed.clone();
                match self.committed.clone() {
                    Some(good) => {
                        step.io = Some(Io::Reload(good));
                        self.phase = Phase::ReloadingBack { bad };
                    }
                    // Nothing to go back to: `current` is gone, the app has no config.
                    None => self.finish_rollback(bad, true, &mut step),
                }
            }
            (Phase::SwappingBack { bad }, Event::Failed(reason)) => {
                self.last_error =
                    Some(format!("rollback from {} failed: {reason}", bad.dir_name()));
                self.finish_rollback(bad, true, &mut step);
            }
            (Phase::ReloadingBack { bad }, Event::Ok) => {
                step.io = Some(Io::Verify(
                    self.committed.clone().expect("rollback target exists"),
                ));
                self.phase = Phase::VerifyingBack { bad };
            }
            (Phase::ReloadingBack { bad }, Event::Failed(reason))
            | (Phase::VerifyingBack { bad }, Event::Failed(reason)) => {
                self.last_error = Some(format!(
                    "rollback from {} is unhealthy too: {reason}",
                    bad.dir_name()
                ));
                self.finish_rollback(bad, true, &mut step);
            }
            (Phase::VerifyingBack { bad }, Event::Ok) => {
                self.finish_rollback(bad, false, &mut step)
            }
            (Phase::Restoring { reload }, Event::Ok) => {
                self.current = self.committed.clone();
                if let (true, Some(good)) = (reload, self.committed.clone()) {
                    step.io = Some(Io::Reload(good));
                    self.phase = Phase::RestoringReload;
                }
            }
            (Phase::Restoring { .. }, Event::Failed(reason)) => {
                self.last_error = Some(format!(
                    "could not restore the last committed version: {reason}"
                ));
                self.degraded = true;
            }
            (Phase::RestoringReload, Event::Ok) => {}
            (Phase::RestoringReload, Event::Failed(reason)) => {
                self.last_error = Some(format!("reload after restart failed: {reason}"));
            }
        }
        step
    }

    fn finish_rollback(&mut self, bad: Ver, degraded: bool, step: &mut Step) {
        self.quarantine = Some(bad.hash.clone());
        self.degraded = degraded;
        step.records.push(Record::RolledBack {
            generation: bad.generation,
            hash: bad.hash,
            to: self.committed.clone(),
            degraded,
        });
    }
}

/// Rebuild the machine after a (re)start from the journal and the version `current` points to on
/// disk (its directory name). Returns the machine and the first step to run: closing an interrupted
/// generation, and putting `current` back on the last committed version. No reload happens unless
/// the interrupted generation had swapped `current` (its reload may have reached the app before
/// the `reload_sent` record was written), so a crash costs at most one extra reload.
pub fn recover(records: &[Record], disk_current: Option<&str>) -> (Machine, Step) {
    let mut m = Machine::default();
    let mut open: Option<(Ver, Vec<&Record>)> = None;
    for r in records {
        m.last_gen = m.last_gen.max(r.generation());
        match r {
            Record::Observed { generation, hash } => {
                open = Some((
                    Ver {
                        generation: *generation,
                        hash: hash.clone(),
                    },
                    vec![r],
                ))
            }
            other => {
                if let Some((_, seen)) = open.as_mut() {
                    seen.push(other);
                }
            }
        }
        match r {
            Record::Committed { generation, hash } => {
                m.committed = Some(Ver {
                    generation: *generation,
                    hash: hash.clone(),
                });
                m.quarantine = None;
                m.degraded = false;
            }
            Record::Rejected { hash, .. } => m.quarantine = Some(hash.clone()),
            Record::RolledBack { hash, degraded, .. } => {
                m.quarantine = Some(hash.clone());
                m.degraded = *degraded;
            }
            _ => {}
        }
        if r.is_terminal() {
            open = None;
        }
    }
    let mut step = Step::default();
    let mut reload = false;
    if let Some((ver, seen)) = open {
        let has = |k: &str| seen.iter().any(|r| r.kind() == k);
        if has("unhealthy") {
            // Crashed while rolling back: run the rollback again from the swap.
            m.current = Some(ver.clone());
            step.io = Some(Io::Swap(m.committed.clone()));
            m.phase = Phase::SwappingBack { bad: ver };
            return (m, step);
        }
        if has("verified") && disk_current == Some(ver.dir_name().as_str()) {
            step.records.push(Record::Committed {
                generation: ver.generation,
                hash: ver.hash.clone(),
            });
            m.committed = Some(ver.clone());
            m.quarantine = None;
            m.degraded = false;
        } else {
            // The reload may have gone out before its record did: once swapped, reload again.
            reload = has("swapped");
            step.records.push(Record::Aborted {
                generation: ver.generation,
                reason: "interrupted by a restart".into(),
            });
        }
    }
    let want = m.committed.as_ref().map(Ver::dir_name);
    m.current = m.committed.clone();
    if disk_current != want.as_deref() {
        step.io = Some(Io::Swap(m.committed.clone()));
        m.phase = Phase::Restoring { reload };
    }
    (m, step)
}

/// Check the journal invariants; returns the last committed version.
///
/// 1. Generations are observed in increasing order, one at a time: a generation starts only after
///    the previous one reached its terminal record.
/// 2. Within a generation records follow the pipeline order, and exactly one terminal record ends it
///    (only the last generation may still be open).
/// 3. `committed` is always preceded by `verified` (or, for the very first commit only, by
///    `swapped`: the bootstrap commit); `rolled_back` by `unhealthy`.
pub fn check_journal(records: &[Record]) -> Result<Option<Ver>, String> {
    let mut committed = None;
    let mut open: Option<(Ver, &'static str)> = None;
    let mut last_gen = 0;
    let mut terminals = BTreeSet::new();
    for (i, r) in records.iter().enumerate() {
        let at = || format!("record {i} ({} generation {})", r.kind(), r.generation());
        if let Record::Observed { generation, hash } = r {
            if let Some((v, _)) = &open {
                return Err(format!(
                    "{}: generation {} is still open",
                    at(),
                    v.generation
                ));
            }
            if *generation <= last_gen {
                return Err(format!(
                    "{}: generation numbers must increase (last {last_gen})",
                    at()
                ));
            }
            last_gen = *generation;
            open = Some((
                Ver {
                    generation: *generation,
                    hash: hash.clone(),
                },
                "observed",
            ));
            continue;
        }
        let Some((ver, prev)) = open.as_mut() else {
            return Err(format!("{}: no open generation", at()));
        };
        if r.generation() != ver.generation {
            return Err(format!("{}: open generation is {}", at(), ver.generation));
        }
        let kind = r.kind();
        let ok = match kind {
            "validated" | "rejected" => *prev == "observed",
            "published" => *prev == "validated",
            "swapped" => *prev == "published",
            "reload_sent" => *prev == "swapped",
            "verified" => *prev == "reload_sent",
            "unhealthy" => matches!(*prev, "swapped" | "reload_sent"),
            // `swapped` → `committed`: the bootstrap commit of the very first version.
            "committed" => *prev == "verified" || (*prev == "swapped" && committed.is_none()),
            "rolled_back" => *prev == "unhealthy",
            "superseded" => *prev == "observed",
            "aborted" => !matches!(*prev, "unhealthy"),
            _ => false,
        };
        if !ok {
            return Err(format!("{}: may not follow {prev}", at()));
        }
        if let Record::Committed { generation, hash } = r {
            if *hash != ver.hash {
                return Err(format!("{}: hash differs from the observed one", at()));
            }
            committed = Some(Ver {
                generation: *generation,
                hash: hash.clone(),
            });
        }
        if r.is_terminal() {
            if !terminals.insert(ver.generation) {
                return Err(format!("{}: second terminal record", at()));
            }
            open = None;
        } else {
            *prev = kind;
        }
    }
    Ok(committed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(m: &mut Machine, ev: Event) -> Step {
        m.handle(ev)
    }

    #[test]
    fn happy_path_commits() {
        let mut m = Machine::default();
        let s = run(
            &mut m,
            Event::Candidate {
                hash: "a".repeat(64),
                stable: true,
            },
        );
        assert!(matches!(s.io, Some(Io::Validate(_))));
        let mut journal = s.records;
        for expect in ["publish", "swap", "reload", "verify", "prune"] {
            let s = run(&mut m, Event::Ok);
            journal.extend(s.records);
            let got = format!("{:?}", s.io).to_lowercase();
            assert!(got.contains(expect), "{got} should be {expect}");
        }
        assert_eq!(m.committed.as_ref().unwrap().hash, "a".repeat(64));
        assert_eq!(check_journal(&journal).unwrap(), m.committed);
        // Same content again: nothing happens.
        let s = run(
            &mut m,
            Event::Candidate {
                hash: "a".repeat(64),
                stable: true,
            },
        );
        assert_eq!(
            s,
            Step {
                records: vec![],
                io: Some(Io::Discard)
            }
        );
    }

    #[test]
    fn recovery_after_swap_restores_and_reloads_once() {
        let records = vec![
            Record::Observed {
                generation: 1,
                hash: "a".repeat(64),
            },
            Record::Validated { generation: 1 },
            Record::Published { generation: 1 },
            Record::Swapped { generation: 1 },
            Record::ReloadSent { generation: 1 },
            Record::Verified { generation: 1 },
            Record::Committed {
                generation: 1,
                hash: "a".repeat(64),
            },
            Record::Observed {
                generation: 2,
                hash: "b".repeat(64),
            },
            Record::Validated { generation: 2 },
            Record::Published { generation: 2 },
            Record::Swapped { generation: 2 },
        ];
        let v2 = Ver {
            generation: 2,
            hash: "b".repeat(64),
        }
        .dir_name();
        let (m, step) = recover(&records, Some(&v2));
        assert_eq!(m.phase, Phase::Restoring { reload: true });
        assert!(matches!(
            step.io,
            Some(Io::Swap(Some(Ver { generation: 1, .. })))
        ));
        let mut all = records.clone();
        all.extend(step.records);
        assert_eq!(check_journal(&all).unwrap().unwrap().generation, 1);
    }

    #[test]
    fn bootstrap_commits_the_first_version_only() {
        let mut m = Machine {
            verify_initial: false,
            ..Machine::default()
        };
        let mut journal = m
            .handle(Event::Candidate {
                hash: "a".repeat(64),
                stable: true,
            })
            .records;
        for _ in 0..3 {
            journal.extend(m.handle(Event::Ok).records);
        }
        assert_eq!(m.committed.as_ref().map(|v| v.generation), Some(1));
        assert!(m.is_idle());
        assert_eq!(check_journal(&journal).unwrap().unwrap().generation, 1);
        // The second version goes through reload and verification.
        journal.extend(
            m.handle(Event::Candidate {
                hash: "b".repeat(64),
                stable: true,
            })
            .records,
        );
        let mut ios = vec![];
        for _ in 0..5 {
            let s = m.handle(Event::Ok);
            journal.extend(s.records);
            ios.push(format!("{:?}", s.io));
        }
        assert!(
            ios.iter().any(|i| i.contains("Reload")) && ios.iter().any(|i| i.contains("Verify")),
            "{ios:?}"
        );
        check_journal(&journal).unwrap();
        // A `swapped` → `committed` shortcut after a first commit breaks the invariant.
        let h = "c".repeat(64);
        let mut bad = journal.clone();
        bad.extend([
            Record::Observed {
                generation: 9,
                hash: h.clone(),
            },
            Record::Validated { generation: 9 },
            Record::Published { generation: 9 },
            Record::Swapped { generation: 9 },
            Record::Committed {
                generation: 9,
                hash: h,
            },
        ]);
        assert!(check_journal(&bad).is_err());
    }

    #[test]
    fn journal_checker_catches_bad_orders() {
        let h = "a".repeat(64);
        assert!(check_journal(&[Record::Validated { generation: 1 }]).is_err());
        assert!(
            check_journal(&[
                Record::Observed {
                    generation: 1,
                    hash: h.clone()
                },
                Record::Observed {
                    generation: 2,
                    hash: h.clone()
                }
            ])
            .is_err()
        );
        assert!(
            check_journal(&[
                Record::Observed {
                    generation: 1,
                    hash: h.clone()
                },
                Record::Validated { generation: 1 },
                Record::Committed {
                    generation: 1,
                    hash: h.clone()
                }
            ])
            .is_err()
        );
        assert!(
            check_journal(&[
                Record::Observed {
                    generation: 1,
                    hash: h.clone()
                },
                Record::Superseded { generation: 1 },
                Record::Aborted {
                    generation: 1,
                    reason: String::new()
                }
            ])
            .is_err()
        );
    }
}
