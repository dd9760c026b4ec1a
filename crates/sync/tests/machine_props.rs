//! Property test: random sequences of publish / fail / crash events against the pure state machine
//! and a simulated world (source, disk, app). After every event the journal invariants hold,
//! `current` is the last committed version, only validated versions were ever swapped in, a
//! committed version is valid and healthy, the app runs the committed version, and reloads stay
//! bounded (no storm after a crash).

use berth_sync::machine::{Event, Io, Machine, Record, Step, Ver, check_journal, recover};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug)]
enum Op {
    /// The publisher writes a new version.
    Publish { valid: bool, healthy: bool },
    /// One poll and the pipeline it triggers. `fail_io`: the n-th IO step fails (disk full, signal
    /// target gone, …); `crash`: the process dies at the n-th crash point and restarts.
    Poll {
        stable: bool,
        fail_io: Option<u8>,
        crash: Option<u8>,
    },
    /// The sidecar restarts while idle.
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (any::<bool>(), prop::bool::weighted(0.7)).prop_map(|(v, h)| Op::Publish { valid: v || h, healthy: h }),
        5 => (prop::bool::weighted(0.8), prop::option::weighted(0.2, 0u8..8), prop::option::weighted(0.3, 0u8..16))
            .prop_map(|(stable, fail_io, crash)| Op::Poll { stable, fail_io, crash }),
        1 => Just(Op::Restart),
    ]
}

#[derive(Default)]
struct World {
    source: Option<String>,
    valid: BTreeMap<String, bool>,
    healthy: BTreeMap<String, bool>,
    versions: BTreeSet<String>,
    current: Option<String>,
    journal: Vec<Record>,
    app: Option<String>,
    reloads: u32,
    validated: BTreeSet<String>,
    n: u32,
}

fn hash_of(dir: &str, w: &World) -> Option<String> {
    // dir names carry 12 hex chars; our hashes are unique in their first 12 chars.
    w.valid.keys().find(|h| dir.ends_with(&h[..12])).cloned()
}

struct Outcome {
    crashed: bool,
}

/// Run a step chain; `crash` counts crash points (before and after each IO), `fail` counts IO steps.
fn drive(
    m: &mut Machine,
    w: &mut World,
    mut step: Step,
    fail: &mut Option<u8>,
    crash: &mut Option<u8>,
) -> Outcome {
    let tick = |c: &mut Option<u8>| -> bool {
        match c {
            Some(0) => {
                *c = None;
                true
            }
            Some(k) => {
                *k -= 1;
                false
            }
            None => false,
        }
    };
    loop {
        for r in step.records.drain(..) {
            w.journal.push(r);
        }
        let Some(io) = step.io.take() else {
            return Outcome { crashed: false };
        };
        if tick(crash) {
            return Outcome { crashed: true };
        }
        let failing = matches!(
            io,
            Io::Publish(_) | Io::Swap(_) | Io::Reload(_) | Io::Verify(_)
        ) && tick(fail);
        let ev = match io {
            Io::Validate(v) => {
                if w.valid[&v.hash] {
                    w.validated.insert(v.hash.clone());
                    Event::Ok
                } else {
                    Event::Failed("invalid".into())
                }
            }
            Io::Publish(v) => {
                if failing {
                    Event::Failed("disk full".into())
                } else {
                    w.versions.insert(v.dir_name());
                    Event::Ok
                }
            }
            Io::Swap(t) => {
                if failing {
                    Event::Failed("rename failed".into())
                } else {
                    if let Some(t) = &t {
                        assert!(
                            w.versions.contains(&t.dir_name()),
                            "swap to a version not on disk: {t:?}"
                        );
                        assert!(
                            w.validated.contains(&t.hash),
                            "swap to an unvalidated version: {t:?}"
                        );
                    }
                    w.current = t.map(|v| v.dir_name());
                    Event::Ok
                }
            }
            Io::Reload(_) => {
                if failing {
                    Event::Failed("no such process".into())
                } else {
                    w.reloads += 1;
                    // The app reads whatever `current` points to.
                    w.app = w.current.as_ref().and_then(|d| hash_of(d, w));
                    Event::Ok
                }
            }
            Io::Verify(v) => {
                let ok = !failing && w.app.as_ref() == Some(&v.hash) && w.healthy[&v.hash];
                if ok {
                    Event::Ok
                } else {
                    Event::Failed("unhealthy".into())
                }
            }
            Io::Discard | Io::Repoll | Io::Prune => return Outcome { crashed: false },
        };
        if tick(crash) {
            return Outcome { crashed: true };
        }
        step = m.handle(ev);
    }
}

fn restart(w: &mut World, verify_initial: bool) -> Machine {
    let (mut m, step) = recover(&w.journal, w.current.as_deref());
    m.verify_initial = verify_initial;
    let before = w.reloads;
    drive(&mut m, w, step, &mut None, &mut None);
    assert!(
        w.reloads - before <= 2,
        "a restart reloads at most once (plus a rollback)"
    );
    m
}

/// The app container starts once the sidecar has committed a first version (a bootstrap commit
/// reloads nothing); it then reads `current`.
fn app_starts(m: &Machine, w: &mut World) {
    if w.app.is_none() && m.committed.is_some() {
        w.app = w.current.as_ref().and_then(|d| hash_of(d, w));
    }
}

fn check(m: &Machine, w: &World) {
    assert!(m.is_idle(), "idle between events: {:?}", m.phase);
    let committed = check_journal(&w.journal)
        .unwrap_or_else(|e| panic!("journal invariant: {e}\n{:#?}", w.journal));
    assert_eq!(
        committed, m.committed,
        "journal and machine agree on the last committed version"
    );
    if !m.degraded {
        assert_eq!(
            w.current,
            m.committed.as_ref().map(Ver::dir_name),
            "current is the last committed version"
        );
    }
    if let Some(c) = &m.committed {
        let first = w.journal.iter().find_map(|r| match r {
            Record::Committed { generation, .. } => Some(*generation),
            _ => None,
        });
        let unverified_bootstrap = !m.verify_initial && first == Some(c.generation);
        assert!(w.valid[&c.hash], "only valid versions commit");
        assert!(
            w.healthy[&c.hash] || unverified_bootstrap,
            "only healthy versions commit (but the bootstrap one)"
        );
        assert!(
            w.versions.contains(&c.dir_name()),
            "the last good version is never deleted"
        );
        if !m.degraded {
            assert_eq!(
                w.app.as_ref(),
                Some(&c.hash),
                "the app runs the committed version"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]
    #[test]
    fn random_publish_fail_crash_sequences(ops in prop::collection::vec(op(), 1..40), verify_initial in any::<bool>()) {
        let mut w = World::default();
        let mut m = restart(&mut w, verify_initial);
        for op in ops {
            match op {
                Op::Publish { valid, healthy } => {
                    w.n += 1;
                    let h = format!("{:012x}{}", w.n, "0".repeat(52));
                    w.valid.insert(h.clone(), valid);
                    w.healthy.insert(h.clone(), healthy);
                    w.source = Some(h);
                }
                Op::Poll { stable, mut fail_io, mut crash } => {
                    let Some(h) = w.source.clone() else { continue };
                    let reloads = w.reloads;
                    let clean = stable && fail_io.is_none() && crash.is_none();
                    let wanted = m.wants(&h);
                    // The very first version commits without verification unless verify_initial.
                    let bootstrap = !verify_initial && m.committed.is_none();
                    let step = m.handle(Event::Candidate { hash: h.clone(), stable });
                    let out = drive(&mut m, &mut w, step, &mut fail_io, &mut crash);
                    if out.crashed {
                        m = restart(&mut w, verify_initial);
                    } else {
                        prop_assert!(w.reloads - reloads <= 2, "one change: at most a reload and a rollback reload");
                    }
                    if clean && wanted {
                        let good = w.valid[&h] && (w.healthy[&h] || bootstrap);
                        prop_assert_eq!(good, m.committed.as_ref().map(|c| &c.hash) == Some(&h),
                            "a clean poll commits a good version and only a good one");
                        if !good {
                            prop_assert_eq!(m.quarantine.as_ref(), Some(&h), "a bad version is quarantined");
                        }
                    }
                }
                Op::Restart => {
                    let reloads = w.reloads;
                    m = restart(&mut w, verify_initial);
                    prop_assert_eq!(w.reloads, reloads, "restarting while idle reloads nothing");
                }
            }
            app_starts(&m, &mut w);
            check(&m, &w);
        }
        // Convergence: with no more faults, a good source version ends up committed, unless a
        // failure quarantined exactly that content (it then waits for the source to change).
        if let Some(h) = w.source.clone()
            && m.quarantine.as_ref() == Some(&h)
        {
            let failed = w.journal.iter().any(|r| matches!(r,
                Record::Rejected { hash, .. } | Record::RolledBack { hash, .. } if *hash == h));
            prop_assert!(failed, "quarantine only follows a recorded failure");
        } else if let Some(h) = w.source.clone()
            && w.valid[&h] && w.healthy[&h]
        {
            let step = m.handle(Event::Candidate { hash: h.clone(), stable: true });
            drive(&mut m, &mut w, step, &mut None, &mut None);
            app_starts(&m, &mut w);
            check(&m, &w);
            prop_assert_eq!(m.committed.map(|c| c.hash), Some(h));
        }
    }
}
