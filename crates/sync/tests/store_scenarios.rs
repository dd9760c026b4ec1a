//! End-to-end scenarios against object-store servers on 127.0.0.1, with the sidecar and a test app
//! as processes. Two S3 servers (moto and s3s-fs) get everything: commit, reject, rollback,
//! superseded publish, source outage, degraded, kill -9 at every step, and a concurrent reader that
//! must never see a mixed version. The Azure (Azurite) and GCS (fake-gcs-server) emulators get
//! every step where the store matters (all but degraded and kill -9), with the same reader.

mod support;

use berth_sync::journal;
use berth_sync::layout::Layout;
use berth_sync::machine::{Record, check_journal};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use support::*;

const BUCKET: &str = "configs";
const PREFIX: &str = "app/prod";
const LONG: Duration = Duration::from_secs(30);

/// Version `n`: three files, each carrying `n`, so a reader can tell a mixed version.
fn version(n: u32, healthy: bool) -> Vec<(&'static str, Vec<u8>)> {
    let note = if healthy { "fine" } else { "unhealthy" };
    vec![
        (
            "app.json",
            format!("{{\"version\": {n}, \"note\": \"{note}\"}}\n").into_bytes(),
        ),
        (
            "routes.yaml",
            format!(
                "version: {n}\nroutes:\n  - /a\n  - /b{}\n",
                "x".repeat(n as usize)
            )
            .into_bytes(),
        ),
        (
            "nested/limits.txt",
            format!("version {n}\n{}\n", "pad ".repeat(50 * n as usize)).into_bytes(),
        ),
    ]
}

fn invalid(n: u32) -> Vec<(&'static str, Vec<u8>)> {
    let mut v = version(n, true);
    v[0].1 = format!("{{\"version\": {n}, ").into_bytes();
    v
}

struct Env {
    server: Server,
    dir: tempfile::TempDir,
    root: PathBuf,
    app: App,
    reload: String,
    listen_port: u16,
}

impl Env {
    fn new(kind: Kind) -> Env {
        let server = Server::start(kind);
        server.create_bucket(BUCKET);
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("config");
        std::fs::create_dir_all(&root).unwrap();
        let app = App::start(&root, dir.path());
        // Cover both reload kinds: HTTP with moto and Azurite, SIGHUP (by pidfile) otherwise.
        let reload = match kind {
            Kind::Moto | Kind::Azurite => {
                format!("http:POST:http://127.0.0.1:{}/reload", app.port)
            }
            Kind::S3sFs | Kind::FakeGcs => format!("signal:HUP:{}", app.pidfile.display()),
        };
        Env {
            server,
            dir,
            root,
            app,
            reload,
            listen_port: free_port(),
        }
    }

    fn config(&self) -> serde_json::Value {
        json!({
            "source": format!("{}://{BUCKET}/{PREFIX}", self.server.kind.scheme()),
            "root": self.root,
            "reload": self.reload,
            "health_url": format!("http://127.0.0.1:{}/health", self.app.port),
            "config_version_url": format!("http://127.0.0.1:{}/version", self.app.port),
            "healthy_count": 2,
            // The app runs before the first version here, so verify that one too.
            "verify_initial": true,
            "verify_interval": "100ms",
            "verify_timeout": "4s",
            "poll_interval": "200ms",
            "max_backoff": "1s",
            "request_timeout": "3s",
            "min_reload_interval": "0ms",
            "reload_retries": 1,
            "stale_after": "1h",
            "keep_versions": 3,
            "listen": format!("127.0.0.1:{}", self.listen_port),
        })
    }

    fn sidecar(&self, extra_env: &[(&str, &str)]) -> Sidecar {
        let mut env = self.server.env();
        env.extend(
            extra_env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        let s = Sidecar::start(&self.config(), &env, &self.dir.path().join("sidecar.log"));
        wait_port(s.port, "sidecar");
        s
    }

    /// Publish a multi-file version atomically: the files, then `_manifest.json` last.
    fn publish(&self, files: &[(&str, Vec<u8>)]) -> String {
        for (p, b) in files {
            self.server.put(BUCKET, &format!("{PREFIX}/{p}"), b);
        }
        self.server.put(
            BUCKET,
            &format!("{PREFIX}/_manifest.json"),
            manifest(files).as_bytes(),
        );
        hash_files(files)
    }

    fn journal(&self) -> Vec<Record> {
        journal::read(&self.root.join(".state/journal.jsonl")).unwrap()
    }

    fn layout(&self) -> Layout {
        Layout::new(&self.root, false)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sidecar.log")).unwrap_or_default()
    }

    /// Journal invariant holds, the last committed version has `hash`, `current` points at it,
    /// and the app reports it.
    fn assert_converged(&self, hash: &str) {
        let records = self.journal();
        let committed = check_journal(&records)
            .unwrap_or_else(|e| panic!("journal invariant: {e}\n{}", self.log()));
        let committed = committed.expect("something committed");
        assert_eq!(committed.hash, hash);
        assert_eq!(
            self.layout().read_current(),
            Some(committed.dir_name()),
            "current = last committed"
        );
        assert_eq!(
            self.app.version(),
            hash,
            "the app runs the committed version"
        );
    }

    fn wait(&self, what: &str, timeout: Duration, cond: impl FnMut() -> bool) {
        wait_until_or(what, timeout, cond, || {
            let log = self.log();
            let tail: String = log
                .lines()
                .rev()
                .take(40)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n");
            format!("sidecar log tail:\n{tail}\njournal: {:?}", self.journal())
        });
    }

    fn wait_committed(&self, s: &Sidecar, hash: &str, what: &str) {
        self.wait(what, LONG, || {
            s.committed_hash().as_deref() == Some(hash)
                && s.status()["phase"] == "idle"
                && self.app.version() == hash
        });
        self.assert_converged(hash);
    }

    fn terminal_for(&self, hash: &str) -> Vec<Record> {
        let records = self.journal();
        let gens: Vec<u64> = records
            .iter()
            .filter_map(|r| match r {
                Record::Observed {
                    generation,
                    hash: h,
                } if h == hash => Some(*generation),
                _ => None,
            })
            .collect();
        records
            .into_iter()
            .filter(|r| r.is_terminal() && gens.contains(&r.generation()))
            .collect()
    }
}

/// Loops over `current` (resolving the link once per read, as an app does), reads every file and
/// checks that the content hash matches the version directory's name and that all files carry the
/// same version number.
struct Reader {
    stop: Arc<AtomicBool>,
    reads: Arc<AtomicU64>,
    handle: Option<std::thread::JoinHandle<Vec<String>>>,
}

impl Reader {
    fn start(root: &Path) -> Reader {
        let stop = Arc::new(AtomicBool::new(false));
        let reads = Arc::new(AtomicU64::new(0));
        let (st, rd, root) = (stop.clone(), reads.clone(), root.to_path_buf());
        let handle = std::thread::spawn(move || {
            let mut problems = vec![];
            while !st.load(Ordering::Relaxed) {
                let Ok(target) = std::fs::read_link(root.join("current")) else {
                    continue;
                };
                let dir = root.join(&target);
                let name = target.file_name().unwrap().to_string_lossy().into_owned();
                // A version pruned while we read it is not a torn read: skip.
                let Ok((hash, files)) = berth_sync::hash::hash_dir(&dir) else {
                    continue;
                };
                if !dir.exists() {
                    continue;
                }
                if !name.ends_with(&hash[..12]) {
                    problems.push(format!("{name}: content hash {hash} does not match"));
                }
                let mut nums = std::collections::BTreeSet::new();
                for rel in files.keys() {
                    let Ok(text) = std::fs::read_to_string(dir.join(rel)) else {
                        continue;
                    };
                    let after = text.split("version").nth(1).unwrap_or("");
                    let n: String = after
                        .trim_start_matches(|c: char| !c.is_ascii_digit())
                        .chars()
                        .take_while(|c| c.is_ascii_digit())
                        .collect();
                    nums.insert(n);
                }
                if nums.len() > 1 {
                    problems.push(format!("{name}: mixed versions {nums:?}"));
                }
                rd.fetch_add(1, Ordering::Relaxed);
            }
            problems
        });
        Reader {
            stop,
            reads,
            handle: Some(handle),
        }
    }

    fn finish(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let problems = self.handle.take().unwrap().join().unwrap();
        assert!(
            problems.is_empty(),
            "the reader saw torn or mixed versions: {problems:?}"
        );
        assert!(
            self.reads.load(Ordering::Relaxed) > 0,
            "the reader read something"
        );
    }
}

/// `full`: everything; otherwise the steps where the store matters (1–7: all but the degraded app
/// and the kill -9 series, which only involve the sidecar, the app and the disk).
fn scenarios(kind: Kind, full: bool) {
    let mut env = Env::new(kind);
    let reader = Reader::start(&env.root);
    let mut s = env.sidecar(&[]);

    // 1. v1 → committed.
    let h1 = env.publish(&version(1, true));
    env.wait_committed(&s, &h1, "v1 committed");
    assert_eq!(http("GET", s.port, "/readyz").0, 200);
    assert_eq!(http("GET", s.port, "/healthz").0, 200);

    // 2. invalid v2 → rejected, current unchanged.
    let h2 = env.publish(&invalid(2));
    env.wait("v2 rejected", LONG, || {
        env.terminal_for(&h2)
            .iter()
            .any(|r| matches!(r, Record::Rejected { reason, .. } if reason.starts_with("parse")))
    });
    env.assert_converged(&h1);
    assert_eq!(s.status()["quarantined"], h2.as_str());

    // 3. v3 → committed.
    let h3 = env.publish(&version(3, true));
    env.wait_committed(&s, &h3, "v3 committed");

    // 4. v4 makes the app unhealthy → rolled back to v3.
    let h4 = env.publish(&version(4, false));
    env.wait("v4 rolled back", LONG, || {
        env.terminal_for(&h4).iter().any(|r| {
            matches!(
                r,
                Record::RolledBack {
                    degraded: false,
                    ..
                }
            )
        })
    });
    env.wait_committed(&s, &h3, "v3 restored");
    assert_eq!(http("GET", s.port, "/readyz").0, 200);
    let metrics = http("GET", s.port, "/metrics").1;
    assert!(
        metrics.contains("config_sync_rollbacks_total 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("config_sync_rejected_total{reason=\"parse\"} 1"),
        "{metrics}"
    );

    // 5. A restart while idle adopts the committed version without reloading the app.
    let reloads = env.app.reloads();
    s.proc.kill();
    s = env.sidecar(&[("BERTH_SYNC_TEST_FETCH_DELAY_MS", "1500")]);
    env.wait("sidecar ready after restart", LONG, || {
        http("GET", s.port, "/readyz").0 == 200 && s.status()["polls"].as_u64() > Some(1)
    });
    assert_eq!(env.app.reloads(), reloads, "no reload on restart");
    env.assert_converged(&h3);

    // 6. A publish during a download → superseded, then the newer one committed.
    let gens_before = env.journal().len();
    env.publish(&version(5, true));
    env.wait("download of v5 in progress", LONG, || {
        s.status()["fetching"] == true
    });
    let h6 = env.publish(&version(6, true));
    env.wait_committed(&s, &h6, "v6 committed after v5 was superseded");
    let new: Vec<Record> = env.journal()[gens_before..].to_vec();
    assert!(
        new.iter().any(|r| matches!(r, Record::Superseded { .. })),
        "superseded recorded: {new:?}"
    );
    s.proc.kill();
    s = env.sidecar(&[]);

    // 7. Source down for a while → keeps serving, stays live and ready; recovers.
    env.server.down();
    env.wait("polls failing", LONG, || {
        s.status()["consecutive_poll_failures"].as_u64() >= Some(3)
    });
    assert_eq!(
        http("GET", s.port, "/healthz").0,
        200,
        "liveness holds within stale_after"
    );
    assert_eq!(
        http("GET", s.port, "/readyz").0,
        200,
        "still ready: serving the last good version"
    );
    env.assert_converged(&h6);
    env.server.up();
    env.server.create_bucket(BUCKET);
    let h7 = env.publish(&version(7, true));
    env.wait_committed(&s, &h7, "v7 committed after the outage");
    assert_eq!(s.status()["consecutive_poll_failures"], 0);

    if !full {
        drop(s);
        reader.finish();
        return;
    }

    // 8. App gone: the reload and the rollback both fail → Degraded (readyz 503), last good kept.
    env.app.down();
    let h8 = env.publish(&version(8, true));
    env.wait("degraded", LONG, || s.status()["degraded"] == true);
    assert_eq!(http("GET", s.port, "/readyz").0, 503);
    assert!(
        env.terminal_for(&h8)
            .iter()
            .any(|r| matches!(r, Record::RolledBack { degraded: true, .. }))
    );
    assert!(
        env.root
            .join(".versions")
            .join(env.layout().read_current().unwrap())
            .is_dir()
    );
    env.app.up();
    let h9 = env.publish(&version(9, true));
    env.wait_committed(&s, &h9, "v9 committed, degraded cleared");
    assert_eq!(http("GET", s.port, "/readyz").0, 200);
    drop(s);

    // 9. kill -9 at every step → restart converges, journal invariant holds, no reload storm.
    let mut n = 10;
    for step in [
        "observed",
        "validated",
        "published",
        "swap-rename",
        "swapped",
        "reload_sent",
        "verified",
        "committed",
    ] {
        let crash = env.sidecar(&[(berth_sync::CRASH_ENV, step)]);
        let mut crash = crash;
        let h = env.publish(&version(n, true));
        let st = crash.proc.wait_exit(LONG);
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(st.signal(), Some(9), "crashed at {step}: {}", env.log());
        check_journal(&env.journal()).unwrap_or_else(|e| panic!("after a crash at {step}: {e}"));
        let reloads = env.app.reloads();
        let s = env.sidecar(&[]);
        env.wait_committed(&s, &h, &format!("v{n} committed after a crash at {step}"));
        assert!(
            env.app.reloads() - reloads <= 2,
            "crash at {step}: at most one extra reload"
        );
        drop(s);
        n += 1;
    }
    // … and during a rollback.
    let s = env.sidecar(&[]);
    let good = env.publish(&version(n, true));
    env.wait_committed(&s, &good, "good version before the rollback crash");
    drop(s);
    let mut crash = env.sidecar(&[(berth_sync::CRASH_ENV, "unhealthy")]);
    let bad = env.publish(&version(n + 1, false));
    crash.proc.wait_exit(LONG);
    let s = env.sidecar(&[]);
    env.wait("rollback finished after the restart", LONG, || {
        env.terminal_for(&bad)
            .iter()
            .any(|r| matches!(r, Record::RolledBack { .. }))
    });
    env.wait_committed(&s, &good, "last good restored after a crash mid-rollback");
    drop(s);

    reader.finish();
}

#[test]
fn moto_scenarios() {
    scenarios(Kind::Moto, true);
}

#[test]
fn s3s_fs_scenarios() {
    scenarios(Kind::S3sFs, true);
}

/// az://: object_store's Azure client in emulator mode (`AZURE_STORAGE_USE_EMULATOR`,
/// `AZURITE_BLOB_STORAGE_URL`) against Azurite.
#[test]
fn azurite_scenarios() {
    scenarios(Kind::Azurite, false);
}

/// gs://: object_store's GCS client with `GOOGLE_BASE_URL` and `GOOGLE_SKIP_SIGNATURE` against
/// fake-gcs-server.
#[test]
fn fake_gcs_scenarios() {
    scenarios(Kind::FakeGcs, false);
}
