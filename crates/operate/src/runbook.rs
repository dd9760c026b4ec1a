//! The runbook of one environment: deploy, verify, roll back and troubleshoot the app with every
//! command complete (the real namespaces, release, Application, object and container names), for
//! each delivery path berth emits; migrations, secrets and each data service's failover,
//! switchover and restore; a section per generated alert (the alert's `runbook_url` points at it);
//! and a troubleshooting table by symptom.
//!
//! Everything is read from the rendered objects (and the monitoring rules derived from them), so
//! a name in a command is a name the cluster will have. Commands are data ([`Cmd`]: argv, not a
//! shell string), so a test can run each one through the real tool's flag parser.

use crate::k8s::{self, Role};
use crate::monitoring;
use berth_render::{Object, Rendered};
use berth_spec::{App, Tier};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// Where the commands find berth's outputs: the app directory and the build output directory,
/// as the user wrote them (commands run from the directory `berth` was run in).
#[derive(Debug, Clone)]
pub struct Paths {
    /// The app directory (holding berth.yaml), e.g. `examples/todo`.
    pub app: String,
    /// The `berth build` output directory, e.g. `examples/todo/out`.
    pub out: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Runbook {
    pub app: String,
    pub environment: String,
    pub namespaces: Vec<String>,
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Section {
    /// The Markdown anchor of the heading (GitHub's slug of `title`).
    pub id: String,
    pub title: String,
    /// Heading level: 2 or 3.
    pub level: u8,
    pub blocks: Vec<Block>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Block {
    Text {
        text: String,
    },
    Commands {
        commands: Vec<Cmd>,
    },
    Table {
        columns: Vec<String>,
        rows: Vec<Row>,
    },
}

/// A table row: text cells, then the commands that diagnose it.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub cells: Vec<String>,
    pub commands: Vec<Cmd>,
}

/// One command line: a pipeline of argv vectors (usually one), with an optional comment.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Cmd {
    pub pipeline: Vec<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Addresses something the app does not own (a controller, a node, a storage class).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub outside_app: bool,
}

impl Cmd {
    fn new<S: AsRef<str>>(argv: &[S]) -> Self {
        Cmd {
            pipeline: vec![argv.iter().map(|s| s.as_ref().to_owned()).collect()],
            comment: None,
            outside_app: false,
        }
    }
    fn note(mut self, c: impl Into<String>) -> Self {
        self.comment = Some(c.into());
        self
    }
    fn outside(mut self) -> Self {
        self.outside_app = true;
        self
    }
    fn pipe<S: AsRef<str>>(mut self, argv: &[S]) -> Self {
        self.pipeline
            .push(argv.iter().map(|s| s.as_ref().to_owned()).collect());
        self
    }
    /// The command as a shell line, each word quoted when the shell would change it.
    pub fn line(&self) -> String {
        self.pipeline
            .iter()
            .map(|argv| argv.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
            .join(" | ")
    }
}

/// POSIX shell quoting: bare when safe, else single quotes.
pub fn quote(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c));
    if safe {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// GitHub's heading anchor: lowercase, punctuation other than `-` and `_` dropped, spaces to `-`.
pub fn slug(title: &str) -> String {
    title
        .to_lowercase()
        .chars()
        .filter_map(|c| {
            if c == ' ' {
                Some('-')
            } else if c.is_alphanumeric() || c == '-' || c == '_' {
                Some(c)
            } else {
                None
            }
        })
        .collect()
}

fn kc<S: AsRef<str>>(ns: &str, args: &[S]) -> Cmd {
    let mut argv = vec!["kubectl".to_string(), "-n".into(), ns.to_owned()];
    argv.extend(args.iter().map(|s| s.as_ref().to_owned()));
    Cmd {
        pipeline: vec![argv],
        comment: None,
        outside_app: false,
    }
}

fn text(t: impl Into<String>) -> Block {
    Block::Text { text: t.into() }
}

fn cmds(c: Vec<Cmd>) -> Block {
    Block::Commands { commands: c }
}

struct Builder {
    sections: Vec<Section>,
}

impl Builder {
    fn section(&mut self, level: u8, title: impl Into<String>, blocks: Vec<Block>) {
        let title = title.into();
        self.sections.push(Section {
            id: slug(&title),
            title,
            level,
            blocks,
        });
    }
}

/// A workload as the runbook needs it.
struct W<'a> {
    kind: String,
    name: String,
    ns: String,
    /// `kind/name` for kubectl (`deployment/backend`).
    reference: String,
    /// `k=v,k=v` selecting its pods.
    selector: Option<String>,
    containers: Vec<String>,
    role: Role,
    object: &'a Object,
}

fn workloads<'a>(r: &'a Rendered) -> Vec<W<'a>> {
    k8s::workloads(r)
        .into_iter()
        .filter(|w| w.pod_spec.is_some())
        .map(|w| {
            let o = w.object;
            let ps = w.pod_spec.unwrap();
            // The main containers and the native sidecars (init containers that keep running).
            let sidecars = ps["initContainers"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|c| c["restartPolicy"] == "Always");
            let containers = ps["containers"]
                .as_array()
                .into_iter()
                .flatten()
                .chain(sidecars)
                .filter_map(|c| c["name"].as_str().map(str::to_owned))
                .collect();
            let selector = match o.kind.as_str() {
                // The operator's Deployment of the same name runs the PgBouncer pods.
                "Pooler" => Some(format!("cnpg.io/poolerName={}", o.name)),
                "Deployment" | "StatefulSet" => o
                    .body
                    .pointer("/spec/selector")
                    .and_then(k8s::selector_string),
                _ => name_selector(&w.pod_labels),
            };
            let kind = if o.kind == "Pooler" {
                "deployment".to_string()
            } else {
                o.kind.to_ascii_lowercase()
            };
            W {
                reference: format!("{kind}/{}", o.name),
                kind,
                name: o.name.clone(),
                ns: o.namespace.clone().unwrap_or_else(|| r.namespace.clone()),
                selector,
                containers,
                role: w.role,
                object: o,
            }
        })
        .collect()
}

fn name_selector(labels: &k8s::Labels) -> Option<String> {
    labels
        .get("app.kubernetes.io/name")
        .map(|v| format!("app.kubernetes.io/name={v}"))
}

fn component(o: &Object) -> Option<&str> {
    o.body
        .pointer("/metadata/labels/app.kubernetes.io~1component")
        .and_then(Value::as_str)
}

fn str_at<'a>(v: &'a Value, p: &str) -> Option<&'a str> {
    v.pointer(p).and_then(Value::as_str)
}

/// The runbook of one environment. `monitoring_objects` are the environment's monitoring objects
/// ([`monitoring::objects`]): one section per alert their PrometheusRule defines.
pub fn runbook(app: &App, r: &Rendered, paths: &Paths) -> Runbook {
    let mut namespaces: Vec<String> = vec![r.namespace.clone()];
    for o in &r.objects {
        if let Some(ns) = &o.namespace
            && !namespaces.contains(ns)
        {
            namespaces.push(ns.clone());
        }
    }
    let ws = workloads(r);
    let mut b = Builder {
        sections: Vec::new(),
    };
    let ns = r.namespace.clone();
    let argo_app = format!("{}-{}", app.name, app.env);
    let release = app.name.clone();
    let services: Vec<&W> = ws
        .iter()
        .filter(|w| {
            w.role != Role::Batch
                && !matches!(component(w.object), Some("database" | "cache" | "broker"))
                && w.object.kind != "Pooler"
        })
        .collect();

    b.section(
        2,
        "About this runbook",
        vec![text(format!(
            "Generated by berth from `{app_dir}/berth.yaml` for the `{env}` environment ({tier} tier) of `{name}`: namespace{s} {list}. \
             Commands run from the directory you ran berth in; `{out}` is where `berth build` writes the outputs they use. \
             Regenerate with `berth runbook {app_dir} --env {env}` (or `berth build`, which writes `runbook/{env}.md`).",
            app_dir = paths.app,
            env = app.env,
            tier = app.tier.as_str(),
            name = app.name,
            s = if namespaces.len() == 1 { "" } else { "s" },
            list = namespaces.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", "),
            out = paths.out,
        ))],
    );

    deploy(&mut b, app, r, paths, &ns, &argo_app, &release, &ws);
    verify(
        &mut b,
        app,
        r,
        &argo_app,
        &release,
        &ns,
        &services,
        &namespaces,
    );
    rollback(&mut b, app, &argo_app, &release, &ns, &services, paths);
    migrations(&mut b, &argo_app, &release, paths, app, &ws);
    secrets(&mut b, r, app);
    data_services(&mut b, r, &ws);
    alerts(&mut b, app, r, &ws);
    troubleshooting(&mut b, app, r, paths, &services, &namespaces);

    // A link to a section this environment does not have (no migrations, no data services)
    // becomes plain text.
    let ids: BTreeSet<String> = b.sections.iter().map(|s| s.id.clone()).collect();
    for s in &mut b.sections {
        for block in &mut s.blocks {
            if let Block::Text { text } = block {
                *text = unlink_missing(text, &ids);
            }
        }
    }
    Runbook {
        app: app.name.clone(),
        environment: app.env.clone(),
        namespaces,
        sections: b.sections,
    }
}

fn unlink_missing(text: &str, ids: &BTreeSet<String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let Some(close) = after.find("](#") else {
            break;
        };
        let target_start = close + 3;
        let Some(end) = after[target_start..].find(')') else {
            break;
        };
        let label = &after[..close];
        let target = &after[target_start..target_start + end];
        out.push_str(&rest[..open]);
        if ids.contains(target) {
            out.push_str(&format!("[{label}](#{target})"));
        } else {
            out.push_str(label);
        }
        rest = &after[target_start + end + 1..];
    }
    out.push_str(rest);
    out
}

#[allow(clippy::too_many_arguments)]
fn deploy(
    b: &mut Builder,
    app: &App,
    r: &Rendered,
    paths: &Paths,
    ns: &str,
    argo_app: &str,
    release: &str,
    ws: &[W],
) {
    let out = &paths.out;
    let manual = app.tier == Tier::Prod;
    b.section(
        2,
        "Deploy",
        vec![text(
            "Three delivery paths berth builds; use the one this environment is managed by, never two at once \
             (each would prune or overwrite the other's objects). `berth build` first: every path reads its output.",
        ), cmds(vec![Cmd::new(&["berth", "build", &paths.app])])],
    );
    b.section(
        3,
        "Deploy with Argo CD",
        vec![
            text(format!(
                "Application `{argo_app}` in namespace `argocd` (the app of apps `{}-root` creates it from `{out}/argocd/apps/`). \
                 Its sync is {}. Commit the build output, then:",
                app.name,
                if manual { "manual (a prod-tier environment): nothing changes until you sync" } else { "automated (prune, self-heal): a commit deploys" }
            )),
            cmds(vec![
                Cmd::new(&["kubectl", "apply", "-n", "argocd", "-f", &format!("{out}/argocd/root.yaml")])
                    .note("once per cluster: the AppProject and every environment's Application")
                    .outside(),
                Cmd::new(&["argocd", "app", "diff", argo_app]).note("what a sync would change"),
                Cmd::new(&["argocd", "app", "sync", argo_app]),
                Cmd::new(&["argocd", "app", "wait", argo_app, "--health", "--timeout", "900"]),
            ]),
        ],
    );
    let mut helm = vec![Cmd::new(&[
        "helm",
        "upgrade",
        "--install",
        release,
        &format!("{out}/helm"),
        "-n",
        ns,
        "--create-namespace",
        "-f",
        &format!("{out}/helm/values-{}.yaml", app.env),
        "--wait",
        "--timeout",
        "15m",
    ])];
    if let Some(nsobj) = r
        .objects
        .iter()
        .find(|o| o.kind == "Namespace" && o.name == ns)
    {
        let psa: Vec<String> = nsobj.body["metadata"]["labels"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| k.starts_with("pod-security.kubernetes.io/"))
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
            .collect();
        if !psa.is_empty() {
            let mut argv = vec![
                "kubectl".to_string(),
                "label".into(),
                "namespace".into(),
                ns.into(),
            ];
            argv.extend(psa);
            argv.push("--overwrite".into());
            helm.push(
                Cmd::new(&argv).note("the chart leaves the namespace to --create-namespace: give it berth's Pod Security labels"),
            );
        }
    }
    b.section(
        3,
        "Deploy with Helm",
        vec![
            text(format!(
                "Release `{release}` in namespace `{ns}`, values `values-{}.yaml`. Migrations run as hooks before the upgrade's objects change (see [Migrations](#migrations)).",
                app.env
            )),
            cmds(helm),
        ],
    );
    let mut k = vec![
        Cmd::new(&[
            "kubectl",
            "diff",
            "-k",
            &format!("{out}/kustomize/overlays/{}", app.env),
        ])
        .note("what would change (exit code 1 when something does)"),
        Cmd::new(&[
            "kubectl",
            "apply",
            "-k",
            &format!("{out}/kustomize/overlays/{}", app.env),
        ]),
    ];
    for w in ws
        .iter()
        .filter(|w| matches!(w.kind.as_str(), "deployment" | "statefulset"))
    {
        k.push(kc(
            &w.ns,
            &["rollout", "status", &w.reference, "--timeout=10m"],
        ));
    }
    b.section(
        3,
        "Deploy with kubectl and Kustomize",
        vec![
            text("Applies everything at once: the migration Jobs start with the new Deployments, so new pods may start before the schema is migrated (Argo CD and Helm order them). A Job's pod template cannot change: delete a finished migration Job before applying a new version (see [Migrations](#migrations))."),
            cmds(k),
        ],
    );
}

#[allow(clippy::too_many_arguments)]
fn verify(
    b: &mut Builder,
    _app: &App,
    r: &Rendered,
    argo_app: &str,
    release: &str,
    ns: &str,
    services: &[&W],
    namespaces: &[String],
) {
    let mut c = Vec::new();
    for n in namespaces {
        let kinds: Vec<&str> = ["deployments", "statefulsets", "jobs", "pods"]
            .into_iter()
            .filter(|k| {
                *k == "pods"
                    || r.objects.iter().any(|o| {
                        o.namespace.as_deref() == Some(n)
                            && format!("{}s", o.kind.to_ascii_lowercase()) == *k
                    })
            })
            .collect();
        c.push(kc(n, &["get", &kinds.join(","), "-o", "wide"]));
    }
    for w in services
        .iter()
        .filter(|w| matches!(w.kind.as_str(), "deployment" | "statefulset"))
    {
        c.push(kc(
            &w.ns,
            &["rollout", "status", &w.reference, "--timeout=5m"],
        ));
    }
    for o in r.objects.iter().filter(|o| o.kind == "Ingress") {
        let ons = o.namespace.as_deref().unwrap_or(ns);
        c.push(kc(ons, &["get", "ingress", &o.name]));
    }
    c.push(Cmd::new(&["argocd", "app", "get", argo_app]).note("Argo CD: Synced and Healthy"));
    c.push(Cmd::new(&["helm", "status", release, "-n", ns]).note("Helm: STATUS deployed"));
    c.push(
        Cmd::new(&["helm", "test", release, "-n", ns])
            .note("Helm: the chart's test Pods reach each service"),
    );
    b.section(
        2,
        "Verify",
        vec![
            text("Every workload rolled out and ready, every Job complete; then the delivery tool's own view."),
            cmds(c),
        ],
    );
}

fn rollback(
    b: &mut Builder,
    app: &App,
    argo_app: &str,
    release: &str,
    ns: &str,
    services: &[&W],
    paths: &Paths,
) {
    b.section(
        2,
        "Roll back",
        vec![text(
            "A rollback restores the objects, not the database: migrations already applied stay. Roll back only to a version whose code works with the current schema, or restore the database (see [Data services](#data-services)). \
             Then fix berth.yaml (or revert the commit) so the next deploy does not bring the bad version back.",
        )],
    );
    let automated = app.tier != Tier::Prod;
    let mut argo = vec![Cmd::new(&["argocd", "app", "history", argo_app])];
    if automated {
        argo.push(
            Cmd::new(&["argocd", "app", "set", argo_app, "--sync-policy", "none"])
                .note("automated sync would undo a rollback at once: turn it off first"),
        );
    }
    argo.push(
        Cmd::new(&["argocd", "app", "rollback", argo_app])
            .note("to the previous history entry; give its ID to pick another"),
    );
    argo.push(Cmd::new(&[
        "argocd",
        "app",
        "wait",
        argo_app,
        "--health",
        "--timeout",
        "900",
    ]));
    b.section(
        3,
        "Roll back with Argo CD",
        vec![
            text(if automated {
                "The durable rollback is `git revert` of the build commit (Argo CD syncs it). For an immediate one:".to_string()
            } else {
                "Manual sync: roll back to an earlier sync, then revert the commit before the next sync.".to_string()
            }),
            cmds(argo),
        ],
    );
    if automated {
        b.sections.last_mut().unwrap().blocks.push(text(format!(
            "After the revert is committed, turn automated sync back on with `argocd app set {argo_app} --sync-policy automated --auto-prune --self-heal`."
        )));
    }
    b.section(
        3,
        "Roll back with Helm",
        vec![cmds(vec![
            Cmd::new(&["helm", "history", release, "-n", ns]),
            Cmd::new(&[
                "helm",
                "rollback",
                release,
                "-n",
                ns,
                "--wait",
                "--timeout",
                "15m",
            ])
            .note("to the previous revision; give a REVISION from the history to pick another"),
        ])],
    );
    let mut k = Vec::new();
    for w in services
        .iter()
        .filter(|w| matches!(w.kind.as_str(), "deployment" | "statefulset"))
    {
        k.push(kc(&w.ns, &["rollout", "history", &w.reference]));
        k.push(kc(&w.ns, &["rollout", "undo", &w.reference]));
        k.push(kc(
            &w.ns,
            &["rollout", "status", &w.reference, "--timeout=5m"],
        ));
    }
    b.section(
        3,
        "Roll back with kubectl",
        vec![
            text(format!(
                "`rollout undo` returns one workload to its previous revision (ConfigMaps and Secrets stay as they are). To return everything, check out the previous build of `{}` and apply it as in [Deploy with kubectl and Kustomize](#deploy-with-kubectl-and-kustomize).",
                paths.out
            )),
            cmds(k),
        ],
    );
}

fn migrations(b: &mut Builder, argo_app: &str, release: &str, paths: &Paths, app: &App, ws: &[W]) {
    let jobs: Vec<&W> = ws
        .iter()
        .filter(|w| w.kind == "job" && component(w.object) == Some("migration"))
        .collect();
    if jobs.is_empty() {
        return;
    }
    let mut blocks = vec![text(
        "Each migration is a Job, in order (Argo CD Sync hooks at their sync waves, Helm post-install/pre-upgrade hooks by weight), \
         before any workload changes. `backoffLimit: 1` and a deadline: a failing migration is tried twice and then fails; the Job and its pods are kept for their logs.",
    )];
    for j in &jobs {
        let container = j.containers.first().cloned().unwrap_or_default();
        let target = j
            .object
            .body
            .pointer("/metadata/annotations/berth.dev~1migrates")
            .and_then(Value::as_str)
            .unwrap_or("");
        blocks.push(text(format!("`job/{}` (database `{target}`):", j.name)));
        blocks.push(cmds(vec![
            kc(&j.ns, &["get", "job", &j.name, "--watch"]).note("watch it (Ctrl-C to stop)"),
            kc(
                &j.ns,
                &[
                    "wait",
                    "--for=condition=complete",
                    &format!("job/{}", j.name),
                    "--timeout=15m",
                ],
            ),
            kc(
                &j.ns,
                &[
                    "logs",
                    &format!("job/{}", j.name),
                    "-c",
                    &container,
                    "--follow",
                ],
            ),
            kc(&j.ns, &["describe", "job", &j.name])
                .note("events: why a pod did not start or was killed (deadline, OOM)"),
        ]));
    }
    b.section(2, "Migrations", blocks);
    let first = jobs[0];
    b.section(
        3,
        "A failed migration",
        vec![
            text(format!(
                "What it leaves: the Job with condition Failed and its pods (read their logs as above), the database as far as the tool got \
                 (PostgreSQL runs DDL in transactions: Alembic, Flyway, goose and Prisma apply each migration in one, so a failed one leaves no half-applied step; check the tool's version table), \
                 and the old version still serving: Argo CD stops the sync at the failed hook's wave (`argocd app get {argo_app}` shows it), Helm marks the upgrade failed (`helm history {release} -n {}`) without changing the workloads. \
                 Nothing retries on its own."
                , first.ns
            )),
            text("To re-run: fix the migration (or the database), then deploy again. The hooks' delete policy (before-hook-creation) removes the old Job first, so with Argo CD or Helm just sync or upgrade again:"),
            cmds(vec![
                Cmd::new(&["argocd", "app", "sync", argo_app]),
                Cmd::new(&[
                    "helm", "upgrade", "--install", release, &format!("{}/helm", paths.out), "-n", &first.ns,
                    "-f", &format!("{}/helm/values-{}.yaml", paths.out, app.env), "--wait", "--timeout", "15m",
                ]),
            ]),
            text("With kubectl, delete the Job (its template is immutable) and apply again:"),
            cmds(
                jobs.iter()
                    .map(|j| kc(&j.ns, &["delete", "job", &j.name]))
                    .chain(std::iter::once(Cmd::new(&[
                        "kubectl", "apply", "-k", &format!("{}/kustomize/overlays/{}", paths.out, app.env),
                    ])))
                    .collect(),
            ),
        ],
    );
}

fn secrets(b: &mut Builder, r: &Rendered, app: &App) {
    let sealed: Vec<&Object> = r
        .objects
        .iter()
        .filter(|o| o.kind == "SealedSecret")
        .collect();
    let external: Vec<&Object> = r
        .objects
        .iter()
        .filter(|o| o.kind == "ExternalSecret")
        .collect();
    let plain: Vec<&Object> = r.objects.iter().filter(|o| o.kind == "Secret").collect();
    if sealed.is_empty() && external.is_empty() && plain.is_empty() {
        return;
    }
    let mut blocks = vec![text(
        "A pod whose Secret is missing waits in `CreateContainerConfigError` (`kubectl describe pod` says which key of which Secret). Values are never printed here; `kubectl get secret` shows only names and key counts.",
    )];
    for o in &plain {
        let ns = o.namespace.as_deref().unwrap_or(&r.namespace);
        blocks.push(cmds(vec![kc(ns, &["get", "secret", &o.name])]));
    }
    b.section(2, "Secrets", blocks);
    if !sealed.is_empty() {
        let mut c = Vec::new();
        for o in &sealed {
            let ns = o.namespace.as_deref().unwrap_or(&r.namespace);
            c.push(kc(
                ns,
                &[
                    "get",
                    "sealedsecret",
                    &o.name,
                    "-o",
                    "jsonpath={.status.conditions}",
                ],
            ));
            c.push(kc(ns, &["describe", "sealedsecret", &o.name]));
            c.push(kc(ns, &["get", "secret", &o.name]));
        }
        c.push(
            Cmd::new(&[
                "kubectl",
                "-n",
                "kube-system",
                "logs",
                "-l",
                "app.kubernetes.io/name=sealed-secrets",
                "--tail=100",
            ])
            .note("the controller's log names the SealedSecret it could not unseal")
            .outside(),
        );
        b.section(
            3,
            "A sealed secret does not decrypt",
            vec![
                text("Sealed for another controller key (a new cluster, a rotated key) or for another namespace or name (berth seals with strict scope: the SealedSecret decrypts only as `NAMESPACE/NAME`). The condition says `no key could decrypt secret`. Fix: fetch the controller's current certificate and seal the values again, then deploy:"),
                cmds(c),
                text(format!(
                    "`berth seal --fetch-cert > CERT` (the `cert:` path of the `{}` environment in berth.yaml), then `berth secret set` for each value and `berth build`. To recover the values themselves from a backup of the controller's keys: `berth unseal`.",
                    app.env
                )),
            ],
        );
    }
    if !external.is_empty() {
        let mut c = Vec::new();
        let mut stores = BTreeSet::new();
        for o in &external {
            let ns = o.namespace.as_deref().unwrap_or(&r.namespace);
            c.push(kc(ns, &["get", "externalsecret", &o.name]));
            c.push(kc(ns, &["describe", "externalsecret", &o.name]));
            if let (Some(kind), Some(name)) = (
                str_at(&o.body, "/spec/secretStoreRef/kind"),
                str_at(&o.body, "/spec/secretStoreRef/name"),
            ) {
                stores.insert((kind.to_ascii_lowercase(), name.to_owned(), ns.to_owned()));
            }
        }
        for (kind, name, ns) in &stores {
            if kind == "clustersecretstore" {
                c.push(
                    Cmd::new(&["kubectl", "get", "clustersecretstore", name])
                        .note("Ready: the store's credentials work")
                        .outside(),
                );
            } else {
                c.push(kc(ns, &["get", "secretstore", name]).outside());
            }
        }
        c.push(
            Cmd::new(&[
                "kubectl",
                "-n",
                "external-secrets",
                "logs",
                "-l",
                "app.kubernetes.io/name=external-secrets",
                "--tail=100",
            ])
            .outside(),
        );
        b.section(
            3,
            "An external secret does not sync",
            vec![
                text("`STATUS` is `SecretSynced` when the Secret is current. `SecretSyncedError` names the cause in its events: the store is not Ready (credentials, IAM role), the key or property does not exist at the remote path, or access is denied. Fix the value or permission in the store; it is fetched again within the refresh interval."),
                cmds(c),
            ],
        );
    }
}

fn data_services(b: &mut Builder, r: &Rendered, ws: &[W]) {
    let clusters: Vec<&Object> = r
        .objects
        .iter()
        .filter(|o| o.kind == "Cluster" && o.api_version.starts_with("postgresql.cnpg.io/"))
        .collect();
    let statefulsets: Vec<&W> = ws.iter().filter(|w| w.kind == "statefulset").collect();
    let patroni: Vec<&W> = statefulsets
        .iter()
        .copied()
        .filter(|w| w.containers.iter().any(|c| c == "patroni"))
        .collect();
    let single_pg: Vec<&W> = statefulsets
        .iter()
        .copied()
        .filter(|w| {
            component(w.object) == Some("database") && w.containers.iter().any(|c| c == "postgres")
        })
        .collect();
    let sentinels: Vec<&W> = statefulsets
        .iter()
        .copied()
        .filter(|w| w.containers.iter().any(|c| c == "sentinel"))
        .collect();
    let kafkas: Vec<&W> = statefulsets
        .iter()
        .copied()
        .filter(|w| container_image(w.object, "").is_some_and(|i| i.contains("kafka")))
        .collect();
    let strimzi: Vec<&Object> = r
        .objects
        .iter()
        .filter(|o| o.kind == "Kafka" && o.api_version.starts_with("kafka.strimzi.io/"))
        .collect();
    if clusters.is_empty()
        && patroni.is_empty()
        && single_pg.is_empty()
        && sentinels.is_empty()
        && kafkas.is_empty()
        && strimzi.is_empty()
    {
        return;
    }
    b.section(
        2,
        "Data services",
        vec![text("Failover, switchover and restore for each database, cache and broker this environment runs in the cluster. Clients connect through the Services berth names in their env (`PGHOST`, `DATABASE_URL`), never a pod, and retry through a failover.")],
    );
    for c in clusters {
        cnpg(b, r, c);
    }
    for w in patroni {
        patroni_section(b, r, w);
    }
    for w in single_pg {
        single_postgres(b, r, w);
    }
    for w in sentinels {
        sentinel_section(b, w);
    }
    for w in kafkas {
        kafka_section(b, w);
    }
    for k in strimzi {
        strimzi_section(b, r, k);
    }
}

fn container_image<'a>(o: &'a Object, name: &str) -> Option<&'a str> {
    let spec = o.body.pointer("/spec/template/spec")?;
    ["containers", "initContainers"]
        .iter()
        .flat_map(|k| spec[k].as_array().into_iter().flatten())
        .find(|c| name.is_empty() || c["name"] == name)
        .and_then(|c| c["image"].as_str())
}

fn restore_check<'a>(r: &'a Rendered, db: &str, ns: &str) -> Option<&'a Object> {
    let name = format!("{db}-restore-check");
    r.objects
        .iter()
        .find(|o| o.kind == "CronJob" && o.name == name && o.namespace.as_deref() == Some(ns))
}

fn restore_check_cmds(ns: &str, cron: &Object) -> Vec<Cmd> {
    let manual = format!("{}-manual", cron.name);
    vec![
        kc(
            ns,
            &[
                "create",
                "job",
                &manual,
                &format!("--from=cronjob/{}", cron.name),
            ],
        )
        .note("run the restore check now"),
        kc(
            ns,
            &[
                "wait",
                "--for=condition=complete",
                &format!("job/{manual}"),
                "--timeout=2h",
            ],
        ),
        kc(ns, &["logs", &format!("job/{manual}"), "--follow"]),
        kc(ns, &["delete", "job", &manual]),
    ]
}

fn cnpg(b: &mut Builder, r: &Rendered, c: &Object) {
    let ns = c.namespace.as_deref().unwrap_or(&r.namespace);
    let name = &c.name;
    let instances = c
        .body
        .pointer("/spec/instances")
        .and_then(Value::as_u64)
        .unwrap_or(1);
    let sel = format!("cnpg.io/cluster={name}");
    let mut blocks = vec![
        text(format!(
            "CloudNativePG cluster `{name}`: {instances} instance{} (pods `{name}-1`…), writer Service `{name}-rw`, readers `{name}-ro`. \
             The operator fails over on its own (a replica is promoted within seconds of the primary's loss); `kubectl cnpg` is its kubectl plugin.",
            if instances == 1 { "" } else { "s" }
        )),
        cmds(vec![
            kc(ns, &["get", "cluster", name]),
            kc(
                ns,
                &[
                    "get",
                    "pods",
                    "-l",
                    &sel,
                    "-L",
                    "cnpg.io/instanceRole",
                    "-o",
                    "wide",
                ],
            ),
            Cmd::new(&["kubectl", "cnpg", "status", name, "-n", ns])
                .note("primary, replicas, replication lag, last backup"),
        ]),
    ];
    if instances > 1 {
        blocks.push(text(format!(
            "Switchover (planned, e.g. before draining the primary's node): promote a healthy replica; the old primary becomes a replica. Pick one `status` lists as a standby (`{name}-2` here):"
        )));
        blocks.push(cmds(vec![Cmd::new(&[
            "kubectl",
            "cnpg",
            "promote",
            name,
            &format!("{name}-2"),
            "-n",
            ns,
        ])]));
        blocks.push(text(
            "Failover is automatic. When it does not happen (every replica lagging too far, or the cluster `Unhealthy`), read the operator's reasoning in the cluster's status and events:",
        ));
        blocks.push(cmds(vec![
            kc(ns, &["describe", "cluster", name]),
            Cmd::new(&[
                "kubectl",
                "-n",
                "cnpg-system",
                "logs",
                "-l",
                "app.kubernetes.io/name=cloudnative-pg",
                "--tail=200",
            ])
            .outside(),
        ]));
    }
    b.section(3, format!("PostgreSQL {name} (CloudNativePG)"), blocks);
    let restore_cm = format!("{name}-restore");
    let has_restore = r.objects.iter().any(|o| {
        o.kind == "ConfigMap" && o.name == restore_cm && o.namespace.as_deref() == Some(ns)
    });
    let backups: Vec<&Object> = r
        .objects
        .iter()
        .filter(|o| {
            o.kind == "ScheduledBackup" && str_at(&o.body, "/spec/cluster/name") == Some(name)
        })
        .collect();
    if backups.is_empty() && !has_restore {
        return;
    }
    let mut blocks = Vec::new();
    for sb in &backups {
        let schedule = str_at(&sb.body, "/spec/schedule").unwrap_or("");
        blocks.push(text(format!(
            "Backups: ScheduledBackup `{}` (`{schedule}`, seconds first) through the barman-cloud plugin, WAL archived continuously. List them, and take one now:",
            sb.name
        )));
        let mut take = vec![
            "kubectl",
            "cnpg",
            "backup",
            name.as_str(),
            "-n",
            ns,
            "--method",
            "plugin",
        ];
        let plugin = str_at(&sb.body, "/spec/pluginConfiguration/name");
        if let Some(p) = plugin {
            take.push("--plugin-name");
            take.push(p);
        }
        blocks.push(cmds(vec![
            kc(ns, &["get", "backups", "-l", &sel]),
            Cmd::new(&take),
        ]));
    }
    if has_restore {
        blocks.push(text(format!(
            "Restore: a restore never overwrites `{name}`; it bootstraps a new cluster `{restore_cm}` from the object store (ConfigMap `{restore_cm}`, key `cluster.json`; add `spec.bootstrap.recovery.recoveryTarget.targetTime` for a point in time). \
             Check the data in it, then move the app over: change the dependency in berth.yaml (or restore under the old name after deleting the damaged cluster) and deploy."
        )));
        blocks.push(cmds(vec![
            kc(
                ns,
                &[
                    "get",
                    "configmap",
                    &restore_cm,
                    "-o",
                    "jsonpath={.data.cluster\\.json}",
                ],
            )
            .pipe(&["kubectl", "apply", "-f", "-"])
            .note("creates the restored cluster beside the live one"),
            kc(
                ns,
                &[
                    "wait",
                    "--for=condition=Ready",
                    &format!("cluster/{restore_cm}"),
                    "--timeout=2h",
                ],
            ),
        ]));
    }
    if let Some(cron) = restore_check(r, name, ns) {
        blocks.push(text(format!(
            "The CronJob `{}` does exactly this every week on a scratch cluster and fails loudly; run it on demand:",
            cron.name
        )));
        blocks.push(cmds(restore_check_cmds(ns, cron)));
    }
    b.section(3, format!("Back up and restore {name}"), blocks);
}

fn patroni_config(w: &W) -> String {
    w.object
        .body
        .pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|c| c["name"] == "patroni")
        .and_then(|c| c["command"].as_array())
        .and_then(|cmd| {
            cmd.iter()
                .filter_map(Value::as_str)
                .find(|a| a.ends_with(".yml") || a.ends_with(".yaml"))
        })
        .unwrap_or("/etc/patroni.yml")
        .to_owned()
}

fn replicas(w: &W) -> u64 {
    w.object
        .body
        .pointer("/spec/replicas")
        .and_then(Value::as_u64)
        .unwrap_or(1)
}

fn patroni_section(b: &mut Builder, r: &Rendered, w: &W) {
    let ns = &w.ns;
    let name = &w.name;
    let conf = patroni_config(w);
    let n = replicas(w);
    let exec = |pod: &str, args: &[&str]| {
        let mut v: Vec<&str> = vec![
            "exec",
            pod,
            "-c",
            "patroni",
            "--",
            "patronictl",
            "-c",
            conf.as_str(),
        ];
        v.extend(args);
        kc(ns, &v)
    };
    let sel = w.selector.clone().unwrap_or_default();
    let candidate = format!("{name}-1");
    let mut blocks = vec![
        text(format!(
            "Patroni cluster `{name}`: {n} pods `{name}-0`…`{name}-{}`, the leader labelled `berth.dev/role=primary`, writer Service `{name}`. Patroni fails over on its own (about 20 s: the leader lock's ttl plus a loop). `patronictl` runs in any member:",
            n.saturating_sub(1)
        )),
        cmds(vec![
            kc(
                ns,
                &[
                    "get",
                    "pods",
                    "-l",
                    &sel,
                    "-L",
                    "berth.dev/role",
                    "-o",
                    "wide",
                ],
            ),
            exec(&format!("{name}-0"), &["list"]).note("members, leader, lag in MB, timeline"),
        ]),
        text(format!(
            "Switchover (planned): hand the leader role to a healthy replica (`{candidate}` here; `list` shows which are streaming):"
        )),
        cmds(vec![exec(
            &format!("{name}-0"),
            &["switchover", "--candidate", &candidate, "--force"],
        )]),
        text(
            "Failover by hand, only when there is no leader and Patroni will not elect one (every replica over `maximum_lag_on_failover`): it may lose the writes the replica had not received.",
        ),
        cmds(vec![exec(
            &format!("{name}-0"),
            &["failover", "--candidate", &candidate, "--force"],
        )]),
        text(
            "A replica that will not rejoin (diverged timeline, corrupt data): rebuild it from the leader:",
        ),
        cmds(vec![exec(
            &format!("{name}-0"),
            &["reinit", name, &candidate, "--force"],
        )]),
    ];
    if let Some(cron) = restore_check(r, name, ns) {
        blocks.push(text(format!(
            "Restore: base backups and WAL are in the object store (`restore.sh` in ConfigMap `{name}-scripts`, see docs/dependencies.md). The CronJob `{}` restores the latest backup into a scratch volume every week and fails loudly; run it on demand:",
            cron.name
        )));
        blocks.push(cmds(restore_check_cmds(ns, cron)));
    } else {
        blocks.push(text("No backup is configured for this environment: losing every member loses the data. Set `backup:` on the dependency."));
    }
    b.section(3, format!("PostgreSQL {name} (Patroni)"), blocks);
}

fn single_postgres(b: &mut Builder, r: &Rendered, w: &W) {
    let ns = &w.ns;
    let name = &w.name;
    let pod = format!("{name}-0");
    let claim = w
        .object
        .body
        .pointer("/spec/volumeClaimTemplates/0/metadata/name")
        .and_then(Value::as_str)
        .map(|c| format!("{c}-{pod}"));
    let mut c = vec![
        kc(ns, &["get", "pod", &pod, "-o", "wide"]),
        kc(ns, &["logs", &pod, "-c", "postgres", "--tail=100"]),
    ];
    if let Some(claim) = &claim {
        c.push(kc(ns, &["describe", "pvc", claim]));
    }
    let mut blocks = vec![
        text(
            "One instance (`ha: false`): no replica, so no failover: **manual promotion only**. A crash or pod restart is survived (same volume); the loss of the node is not until the volume attaches elsewhere. \
             For HA, set `ha: true` on the dependency (CloudNativePG or Patroni).",
        ),
        cmds(c),
        text(format!(
            "The node is gone and `{pod}` is stuck `Terminating`: make sure the node is really down (a second writer on the same volume corrupts it), then delete the pod so the StatefulSet recreates it where the volume can attach:"
        )),
        cmds(vec![kc(
            ns,
            &["delete", "pod", &pod, "--grace-period=0", "--force"],
        )]),
    ];
    if let Some(cron) = restore_check(r, name, ns) {
        blocks.push(text(format!(
            "The volume is lost: restore from the object store (`restore.sh` in ConfigMap `{name}-scripts`, see docs/dependencies.md). The CronJob `{}` proves the latest backup restores; run it on demand:",
            cron.name
        )));
        blocks.push(cmds(restore_check_cmds(ns, cron)));
    } else {
        blocks.push(text("No backup is configured for this environment: a lost volume is lost data. Set `backup:` on the dependency."));
    }
    b.section(3, format!("PostgreSQL {name} (single instance)"), blocks);
}

fn sentinel_section(b: &mut Builder, w: &W) {
    let ns = &w.ns;
    let name = &w.name;
    let cli = if container_image(w.object, "sentinel").is_some_and(|i| i.contains("valkey")) {
        "valkey-cli"
    } else {
        "redis-cli"
    };
    let server = w
        .containers
        .iter()
        .find(|c| *c != "sentinel")
        .cloned()
        .unwrap_or_else(|| "redis".into());
    let sentinel_cmd = |pod: &str, command: &str| {
        kc(
            ns,
            &[
                "exec",
                pod,
                "-c",
                "sentinel",
                "--",
                "sh",
                "-c",
                &format!("REDISCLI_AUTH=\"$REDIS_PASSWORD\" {cli} -p 26379 {command}"),
            ],
        )
    };
    let pod = format!("{name}-0");
    let blocks = vec![
        text(format!(
            "Sentinel-managed `{name}`: {} pods, each a {server} and a Sentinel; the master set is named `{name}`. Sentinels fail over on their own once a quorum agrees the master is down.",
            replicas(w)
        )),
        cmds(vec![
            sentinel_cmd(&pod, &format!("SENTINEL get-master-addr-by-name {name}"))
                .note("the current master"),
            sentinel_cmd(&pod, &format!("SENTINEL replicas {name}")),
            sentinel_cmd(&pod, &format!("SENTINEL ckquorum {name}"))
                .note("enough Sentinels agree to fail over"),
        ]),
        text("Switchover (planned): ask the Sentinels to promote a replica now:"),
        cmds(vec![sentinel_cmd(
            &pod,
            &format!("SENTINEL FAILOVER {name}"),
        )]),
    ];
    b.section(3, format!("{name} (Sentinel)"), blocks);
}

/// A Kafka CLI script run in a broker container against its own client listener.
fn kafka_tool(ns: &str, pod: &str, container: &str, script: &str, args: &[&str]) -> Cmd {
    let path = format!("/opt/kafka/bin/{script}");
    let mut argv = vec!["exec", pod, "-c", container, "--", &path];
    argv.extend(["--bootstrap-server", "localhost:9092"]);
    argv.extend(args);
    kc(ns, &argv)
}

fn kafka_section(b: &mut Builder, w: &W) {
    let ns = &w.ns;
    let pod = format!("{}-0", w.name);
    let container = w.containers.first().cloned().unwrap_or_default();
    b.section(
        3,
        format!("Kafka {}", w.name),
        vec![
            text(format!("KRaft cluster `{}`: {} brokers. Partitions lead from the in-sync replicas on their own; a broker back from an outage catches up and rejoins the ISR.", w.name, replicas(w))),
            cmds(vec![
                kafka_tool(ns, &pod, &container, "kafka-topics.sh", &["--describe", "--under-replicated-partitions"]),
                kafka_tool(ns, &pod, &container, "kafka-metadata-quorum.sh", &["describe", "--status"]),
            ]),
        ],
    );
}

/// A Strimzi-managed cluster: the operator names broker pods `CLUSTER-POOL-ID` (node IDs from 0),
/// runs them from a StrimziPodSet per pool, and reconciles topics from its entity operator.
fn strimzi_section(b: &mut Builder, r: &Rendered, k: &Object) {
    let ns = k.namespace.as_deref().unwrap_or(&r.namespace);
    let name = &k.name;
    let pools: Vec<(&str, u64)> = r
        .objects
        .iter()
        .filter(|o| {
            o.kind == "KafkaNodePool"
                && o.namespace.as_deref().unwrap_or(&r.namespace) == ns
                && o.body.pointer("/metadata/labels/strimzi.io~1cluster")
                    == Some(&Value::from(name.as_str()))
        })
        .map(|o| {
            let n = o
                .body
                .pointer("/spec/replicas")
                .and_then(Value::as_u64)
                .unwrap_or(1);
            (o.name.as_str(), n)
        })
        .collect();
    let brokers: u64 = pools.iter().map(|(_, n)| n).sum();
    let Some((pool, _)) = pools.first() else {
        return;
    };
    let pod = format!("{name}-{pool}-0");
    let sel = format!("strimzi.io/cluster={name}");
    let tool = |script: &str, args: &[&str]| kafka_tool(ns, &pod, "kafka", script, args);
    let mut blocks = vec![
        text(format!(
            "Strimzi cluster `{name}`: {brokers} KRaft node{} in pool{} {} (pods `{pod}`…). The operator rolls the pods and keeps each `KafkaTopic` in step with the brokers; partitions lead from the in-sync replicas on their own.",
            if brokers == 1 { "" } else { "s" },
            if pools.len() == 1 { "" } else { "s" },
            pools
                .iter()
                .map(|(p, _)| format!("`{p}`"))
                .collect::<Vec<_>>()
                .join(", "),
        )),
        cmds(vec![
            kc(ns, &["get", "kafka", name]).note("READY True when the operator has reconciled it"),
            kc(ns, &["get", "kafkanodepool", "-l", &sel]),
            kc(ns, &["get", "pods", "-l", &sel, "-o", "wide"]),
            kc(ns, &["get", "kafkatopic", "-l", &sel]).note("a topic not READY names its reason"),
        ]),
        cmds(vec![
            tool(
                "kafka-topics.sh",
                &["--describe", "--under-replicated-partitions"],
            )
            .note("partitions missing an in-sync replica"),
            tool("kafka-metadata-quorum.sh", &["describe", "--status"])
                .note("the KRaft leader and each voter's lag"),
        ]),
        text(
            "A cluster or topic that stays not ready: read the operator's reasoning in the status, then the topic operator's log:",
        ),
        cmds(vec![
            kc(ns, &["describe", "kafka", name]),
            kc(
                ns,
                &[
                    "logs",
                    &format!("deployment/{name}-entity-operator"),
                    "-c",
                    "topic-operator",
                    "--tail=200",
                ],
            ),
            Cmd::new(&[
                "kubectl",
                "get",
                "pods",
                "-A",
                "-l",
                "strimzi.io/kind=cluster-operator",
            ])
            .note("where the cluster operator runs; read its log there")
            .outside(),
        ]),
    ];
    blocks.push(text(
        "Rolling restart (e.g. after a node problem): the operator restarts one broker at a time and waits for its partitions to be in sync again. Annotate the pool's StrimziPodSet, or one pod to restart only it:",
    ));
    blocks.push(cmds(vec![
        kc(
            ns,
            &[
                "annotate",
                "strimzipodset",
                &format!("{name}-{pool}"),
                "strimzi.io/manual-rolling-update=true",
            ],
        ),
        kc(
            ns,
            &[
                "annotate",
                "pod",
                &pod,
                "strimzi.io/manual-rolling-update=true",
            ],
        ),
    ]));
    b.section(3, format!("Kafka {name} (Strimzi)"), blocks);
}

fn alerts(b: &mut Builder, app: &App, r: &Rendered, ws: &[W]) {
    let groups = monitoring::rule_groups(app, r);
    let rules: Vec<&Value> = groups
        .iter()
        .flat_map(|g| g["rules"].as_array().into_iter().flatten())
        .filter(|r| r.get("alert").is_some())
        .collect();
    if rules.is_empty() {
        return;
    }
    b.section(
        2,
        "Alerts",
        vec![text(format!(
            "One section per alert of the PrometheusRule `{}-alerts` (`berth render --format monitoring`); each alert's `runbook_url` links here.",
            app.name
        ))],
    );
    let mut seen = BTreeSet::new();
    for rule in rules {
        let alert = rule["alert"].as_str().unwrap_or_default();
        let subject = rule["labels"]["berth_subject"].as_str().unwrap_or_default();
        let ns = rule["labels"]["namespace"]
            .as_str()
            .unwrap_or(&r.namespace)
            .to_owned();
        let anchor = monitoring::runbook_anchor(alert, subject);
        if !seen.insert(anchor.clone()) {
            continue;
        }
        let title = format!("{alert}: {subject}");
        debug_assert_eq!(slug(&title), anchor);
        let mut blocks = vec![text(format!(
            "Severity `{}`, fires when this has held for `{}`: `{}`",
            rule["labels"]["severity"].as_str().unwrap_or_default(),
            rule["for"].as_str().unwrap_or_default(),
            rule["expr"].as_str().unwrap_or_default(),
        ))];
        blocks.extend(alert_steps(app, r, ws, alert, subject, &ns));
        b.section(3, title, blocks);
    }
}

fn by_name<'a>(ws: &'a [W<'a>], name: &str, ns: &str) -> Option<&'a W<'a>> {
    ws.iter().find(|w| w.name == name && w.ns == ns)
}

fn pod_cmds(w: &W, container: &str) -> Vec<Cmd> {
    let sel = w.selector.clone().unwrap_or_default();
    vec![
        kc(&w.ns, &["get", "pods", "-l", &sel, "-o", "wide"]),
        kc(&w.ns, &["describe", "pods", "-l", &sel]),
        kc(
            &w.ns,
            &[
                "logs",
                &w.reference,
                "-c",
                container,
                "--previous",
                "--tail=200",
            ],
        )
        .note("the last crashed container's output"),
    ]
}

fn alert_steps(
    app: &App,
    r: &Rendered,
    ws: &[W],
    alert: &str,
    subject: &str,
    ns: &str,
) -> Vec<Block> {
    match alert {
        "BerthPodCrashLooping" => {
            let owners: Vec<&W> = ws
                .iter()
                .filter(|w| {
                    w.ns == ns && w.role != Role::Batch && w.containers.iter().any(|c| c == subject)
                })
                .collect();
            let mut out = vec![text(format!(
                "Container `{subject}` restarts again and again. Its last output says why (see [CrashLoopBackOff](#crashloopbackoff)):"
            ))];
            for w in owners {
                out.push(cmds(pod_cmds(w, subject)));
            }
            out
        }
        "BerthReplicasUnavailable" => {
            let Some(w) = by_name(ws, subject, ns) else {
                return vec![];
            };
            let mut c = vec![kc(ns, &["rollout", "status", &w.reference, "--timeout=1m"])];
            c.extend(pod_cmds(
                w,
                w.containers.first().map(String::as_str).unwrap_or_default(),
            ));
            c.push(kc(
                ns,
                &[
                    "get",
                    "events",
                    "--field-selector",
                    "involvedObject.kind=Pod",
                    "--sort-by=.lastTimestamp",
                ],
            ));
            vec![
                text(format!(
                    "Fewer `{subject}` pods are ready than its rollout allows. A rollout that does not finish: roll it back ([Roll back](#roll-back)); pods that cannot be scheduled: [Pending](#pending-pod)."
                )),
                cmds(c),
            ]
        }
        "BerthAutoscalerAtMax" => {
            let target = r.objects.iter().find(|o| {
                o.kind == "HorizontalPodAutoscaler"
                    && o.name == subject
                    && o.namespace.as_deref() == Some(ns)
            });
            let mut c = vec![kc(ns, &["describe", "hpa", subject])];
            if let Some(t) = target.and_then(|t| str_at(&t.body, "/spec/scaleTargetRef/name"))
                && let Some(w) = by_name(ws, t, ns)
            {
                c.push(kc(
                    ns,
                    &["top", "pods", "-l", &w.selector.clone().unwrap_or_default()],
                ));
            }
            vec![
                text(format!(
                    "The autoscaler `{subject}` wants more replicas than its maximum: the load exceeds what the environment was sized for. Raise `autoscale.max` in berth.yaml (check the cluster fits: `berth capacity`), or find what drives the load."
                )),
                cmds(c),
            ]
        }
        "BerthJobFailed" => {
            let Some(w) = by_name(ws, subject, ns) else {
                return vec![];
            };
            let sel = w.selector.clone().unwrap_or_default();
            let mut c = vec![
                kc(ns, &["get", "jobs", "-l", &sel]),
                kc(ns, &["describe", "jobs", "-l", &sel]),
                kc(ns, &["logs", "-l", &sel, "--tail=200", "--all-containers"]),
            ];
            if w.kind == "job" {
                c.insert(
                    0,
                    kc(ns, &["logs", &format!("job/{}", w.name), "--tail=200"]),
                );
            }
            let what = match component(w.object) {
                Some("migration") => {
                    "A migration failed: see [A failed migration](#a-failed-migration)."
                }
                Some("restore-check") => {
                    "The weekly restore check could not restore the latest backup: the backups may not be usable. See the database's restore section under [Data services](#data-services), and fix before you need them."
                }
                Some("backup") => {
                    "A backup failed: the recovery point is getting older. See [Data services](#data-services)."
                }
                _ => "A Job failed.",
            };
            vec![text(what), cmds(c)]
        }
        "BerthVolumeFillingUp" => {
            let mut c = vec![kc(ns, &["get", "pvc"])];
            for w in ws.iter().filter(|w| w.ns == ns && w.kind == "statefulset") {
                for vct in w
                    .object
                    .body
                    .pointer("/spec/volumeClaimTemplates")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(n) = str_at(vct, "/metadata/name") {
                        c.push(kc(ns, &["describe", "pvc", &format!("{n}-{}-0", w.name)]));
                    }
                }
            }
            vec![
                text(
                    "A volume will be full within hours at its current rate. Databases stop writing when full. Free space (old WAL, logs) or grow the volume: raise `storage` in berth.yaml if the storage class allows expansion (`kubectl get storageclass`, `ALLOWVOLUMEEXPANSION`).",
                ),
                cmds(c),
            ]
        }
        "BerthErrorBudgetBurnFast" | "BerthErrorBudgetBurnSlow" => {
            let svc = app
                .services
                .iter()
                .map(|s| s.name.as_str())
                .filter(|s| subject.starts_with(&format!("{s}-")))
                .max_by_key(|s| s.len());
            let Some(svc) = svc else { return vec![] };
            let Some(w) = ws.iter().find(|w| w.name == svc) else {
                return vec![];
            };
            let container = w.containers.first().cloned().unwrap_or_default();
            vec![
                text(format!(
                    "`{svc}` fails (or is slow for) more requests than its SLO allows: at this rate the month's error budget is gone in days (fast: about two days). A recent deploy is the usual cause: compare with the rollout history and roll back ([Roll back](#roll-back))."
                )),
                cmds(vec![
                    kc(&w.ns, &["rollout", "history", &w.reference]),
                    kc(
                        &w.ns,
                        &[
                            "logs",
                            &w.reference,
                            "-c",
                            &container,
                            "--since=1h",
                            "--tail=200",
                        ],
                    ),
                    kc(
                        &w.ns,
                        &[
                            "get",
                            "pods",
                            "-l",
                            &w.selector.clone().unwrap_or_default(),
                            "-o",
                            "wide",
                        ],
                    ),
                ]),
            ]
        }
        _ => data_alert_steps(r, ws, alert, subject, ns),
    }
}

/// The data tier's alerts (replication, backups, quorum, partitions, the exporters' metrics).
fn data_alert_steps(r: &Rendered, ws: &[W], alert: &str, subject: &str, ns: &str) -> Vec<Block> {
    let cnpg = r
        .objects
        .iter()
        .any(|o| o.kind == "Cluster" && o.name == subject && o.namespace.as_deref() == Some(ns));
    let sts = by_name(ws, subject, ns);
    let has = |c: &str| sts.is_some_and(|w| w.containers.iter().any(|x| x == c));
    let kafka =
        sts.is_some_and(|w| container_image(w.object, "").is_some_and(|i| i.contains("kafka")));
    // The procedures section of the data service (none for an operator-run Kafka).
    let section = if cnpg && alert == "BerthBackupTooOld" {
        Some(slug(&format!("Back up and restore {subject}")))
    } else if cnpg {
        Some(slug(&format!("PostgreSQL {subject} (CloudNativePG)")))
    } else if has("patroni") {
        Some(slug(&format!("PostgreSQL {subject} (Patroni)")))
    } else if has("sentinel") {
        Some(slug(&format!("{subject} (Sentinel)")))
    } else if sts.is_some_and(|w| component(w.object) == Some("database") && has("postgres")) {
        Some(slug(&format!("PostgreSQL {subject} (single instance)")))
    } else if kafka {
        Some(slug(&format!("Kafka {subject}")))
    } else if r.objects.iter().any(|o| {
        o.kind == "Kafka"
            && o.api_version.starts_with("kafka.strimzi.io/")
            && o.name == subject
            && o.namespace.as_deref() == Some(ns)
    }) {
        Some(slug(&format!("Kafka {subject} (Strimzi)")))
    } else {
        None
    };
    let what = match alert {
        "BerthReplicationLagging" => {
            "A replica is far behind its primary: a failover now would lose what it has not received (Patroni refuses to promote it), and reads from it are stale. Usual causes: a long transaction or bulk load on the primary, a replica starved of CPU or disk I/O, the network."
        }
        "BerthBackupTooOld" => {
            "The last completed backup is older than the schedule allows: backups are failing or not running. The recovery point grows with every hour."
        }
        "BerthSentinelNoQuorum" => {
            "Fewer Sentinels are ready than the quorum needs, or none of them sees a quorum: if the master fails now, nothing fails over. Sentinel pods down or not ready (a node lost, a zone out) are the usual cause, else Sentinels that cannot reach each other (NetworkPolicy, DNS); `SENTINEL ckquorum` in the procedures says what each one sees."
        }
        "BerthKafkaUnderReplicated" => {
            "Partitions have fewer in-sync replicas than their replication factor: a broker is down or falling behind; one more loss may make them unavailable (min.insync.replicas). Brief during a rolling restart; this fires after 10 minutes."
        }
        "BerthKafkaOfflinePartitions" => {
            "Partitions have no leader: producers and consumers of them fail now. Every replica of those partitions is on brokers that are down (or out of the ISR with unclean leader election off): bring the brokers back; the partitions elect a leader once an in-sync replica returns."
        }
        "BerthMetricsDown" => {
            "Prometheus cannot scrape this data service: its pod is down, its exporter crashes, or the monitoring namespace is kept out (the NetworkPolicy `DEP-allow-prometheus` of the monitoring output is not applied). Until it is back, the alerts on its metrics cannot fire."
        }
        "BerthPostgresDown" => {
            "PostgreSQL does not answer on this pod although the pod runs: it is starting, recovering, out of disk, or crashing. Its log says which."
        }
        "BerthPostgresNoPrimary" => {
            "No member holds Patroni's leader lock: every write fails. Patroni elects a leader within its TTL unless no member is eligible (all lagging beyond maximum_lag_on_failover, or the Kubernetes API unreachable)."
        }
        "BerthRedisDown" => {
            "The data node does not answer its exporter (authenticated PING fails): it is loading its data after a restart, out of memory, or crashing."
        }
        "BerthRedisReplicationBroken" => {
            "A replica has lost its link to the master: it serves stale data and is no candidate for failover. Usual causes: the master restarting, a full resync that keeps failing (output buffer limits, disk), the network."
        }
        _ => "",
    }
    .replace("DEP-", &format!("{subject}-"));
    let mut out = vec![text(match &section {
        Some(section) => format!("{what} Procedures: [{subject}](#{section})."),
        None => what.to_owned(),
    })];
    if cnpg {
        let mut c = vec![
            Cmd::new(&["kubectl", "cnpg", "status", subject, "-n", ns]),
            kc(ns, &["describe", "cluster", subject]),
        ];
        if alert == "BerthBackupTooOld" {
            c.push(kc(
                ns,
                &[
                    "get",
                    "backups",
                    "-l",
                    &format!("cnpg.io/cluster={subject}"),
                ],
            ));
        }
        out.push(cmds(c));
    } else if let Some(w) = sts {
        let pod = format!("{}-0", w.name);
        let mut c = vec![kc(
            ns,
            &[
                "get",
                "pods",
                "-l",
                &w.selector.clone().unwrap_or_default(),
                "-o",
                "wide",
            ],
        )];
        let main = w.containers.first().cloned().unwrap_or_default();
        match alert {
            "BerthMetricsDown" => {
                let exporter = if has("exporter") {
                    "exporter"
                } else {
                    main.as_str()
                };
                c.push(kc(ns, &["logs", &pod, "-c", exporter, "--tail=100"]));
            }
            "BerthPostgresDown" | "BerthRedisDown" => {
                c.push(
                    kc(ns, &["logs", &pod, "-c", &main, "--tail=200"])
                        .note("pod 0; the alert names the pod"),
                );
            }
            "BerthKafkaOfflinePartitions" if kafka => {
                c.push(kafka_tool(
                    ns,
                    &pod,
                    &main,
                    "kafka-topics.sh",
                    &["--describe", "--unavailable-partitions"],
                ));
            }
            "BerthKafkaUnderReplicated" if kafka => {
                c.push(kafka_tool(
                    ns,
                    &pod,
                    &main,
                    "kafka-topics.sh",
                    &["--describe", "--under-replicated-partitions"],
                ));
            }
            _ => {}
        }
        out.push(cmds(c));
    }
    out
}

fn troubleshooting(
    b: &mut Builder,
    app: &App,
    r: &Rendered,
    paths: &Paths,
    services: &[&W],
    namespaces: &[String],
) {
    let part_of = format!("app.kubernetes.io/part-of={}", app.name);
    let per_ns = |f: &dyn Fn(&str) -> Vec<Cmd>| -> Vec<Cmd> {
        namespaces.iter().flat_map(|n| f(n)).collect()
    };
    let ns_of_pods: Vec<String> = namespaces
        .iter()
        .filter(|n| {
            services.iter().any(|w| &w.ns == *n)
                || r.objects.iter().any(|o| {
                    o.namespace.as_deref() == Some(n.as_str())
                        && matches!(o.kind.as_str(), "Job" | "CronJob" | "Cluster")
                })
        })
        .cloned()
        .collect();
    let per_pod_ns = |f: &dyn Fn(&str) -> Vec<Cmd>| -> Vec<Cmd> {
        ns_of_pods.iter().flat_map(|n| f(n)).collect()
    };
    let images: BTreeSet<String> = r
        .objects
        .iter()
        .flat_map(|o| {
            let t = match o.kind.as_str() {
                "CronJob" => o.body.pointer("/spec/jobTemplate/spec/template/spec"),
                _ => o.body.pointer("/spec/template/spec"),
            };
            t.into_iter().flat_map(|s| {
                ["initContainers", "containers"]
                    .into_iter()
                    .flat_map(move |k| {
                        s[k].as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|c| c["image"].as_str().map(str::to_owned))
                    })
            })
        })
        .collect();
    let rows = vec![
        Row {
            cells: vec![
                "CrashLoopBackOff".into(),
                "The container starts and exits. Its previous log says why: a missing or wrong setting, a dependency it cannot reach at start, a failing migration it runs itself, a read-only path it writes to (berth mounts the root read-only; declare `writable:` paths).".into(),
            ],
            commands: per_pod_ns(&|n| vec![kc(n, &["get", "pods", "-l", &part_of, "--field-selector=status.phase!=Succeeded"])]),
        },
        Row {
            cells: vec![
                "ImagePullBackOff".into(),
                format!("The image or tag does not exist, or the registry refuses the node (a private registry needs `imagePullSecrets`). The images this environment runs: {}.", images.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", ")),
            ],
            commands: per_pod_ns(&|n| vec![kc(n, &["get", "events", "--field-selector", "reason=Failed", "--sort-by=.lastTimestamp"])]),
        },
        Row {
            cells: vec![
                "Pending pod".into(),
                "Unschedulable: not enough CPU or memory on any node for the requests, required anti-affinity or `DoNotSchedule` spreading with too few nodes or zones, or a PersistentVolumeClaim that is not bound (no default storage class, a volume in another zone). The events say which.".into(),
            ],
            commands: {
                let mut c = per_pod_ns(&|n| vec![
                    kc(n, &["get", "pods", "-l", &part_of, "--field-selector=status.phase=Pending"]),
                    kc(n, &["get", "events", "--field-selector", "reason=FailedScheduling", "--sort-by=.lastTimestamp"]),
                    kc(n, &["get", "pvc"]),
                ]);
                c.push(Cmd::new(&["kubectl", "get", "storageclass"]).outside());
                c.push(Cmd::new(&["berth", "capacity", &paths.app, "--env", &app.env]).note("what the environment needs; add --nodes COUNTxCPUcpuMEMORY to check a pool"));
                c
            },
        },
        Row {
            cells: vec![
                "Probe failures (Unhealthy)".into(),
                "Readiness failing keeps the pod out of its Service; liveness failing restarts it. The event names the probe and the response. A slow start needs a `startup` probe or a longer `delay`, not a weaker liveness probe.".into(),
            ],
            commands: per_pod_ns(&|n| vec![kc(n, &["get", "events", "--field-selector", "reason=Unhealthy", "--sort-by=.lastTimestamp"])]),
        },
        Row {
            cells: vec![
                "OOMKilled".into(),
                "The container used more memory than its limit and the kernel killed it (exit code 137, `lastState.terminated.reason: OOMKilled`). Raise `resources.memory` in berth.yaml, or find the leak; `kubectl top` shows use against the limit.".into(),
            ],
            commands: per_pod_ns(&|n| vec![
                kc(n, &["get", "pods", "-l", &part_of, "-o", "jsonpath={range .items[*]}{.metadata.name}{\"\\t\"}{.status.containerStatuses[*].lastState.terminated.reason}{\"\\n\"}{end}"]),
                kc(n, &["top", "pods", "-l", &part_of, "--containers"]),
            ]),
        },
        Row {
            cells: vec![
                "NetworkPolicy blocking".into(),
                "Every namespace is default-deny: a connection works only when the caller `uses` the callee in berth.yaml (DNS is always allowed). Symptoms: timeouts (not refusals) to another service, a database or an external host. `berth graph` draws exactly what the policies allow; add the `uses` entry, never a broader policy.".into(),
            ],
            commands: {
                let mut c = per_ns(&|n| vec![kc(n, &["get", "networkpolicy"])]);
                c.push(Cmd::new(&["berth", "graph", &paths.app, "--env", &app.env, "-o", "mermaid"]));
                c
            },
        },
    ];
    b.section(
        2,
        "Troubleshooting",
        vec![
            text("By symptom; `kubectl get pods` shows it in the STATUS column. The per-workload commands below read one workload's pods, logs and events."),
            Block::Table { columns: vec!["Symptom".into(), "Cause and fix".into(), "Commands".into()], rows },
        ],
    );
    // The symptoms' anchors, linked from the alerts: one heading each.
    for (title, what) in [
        (
            "CrashLoopBackOff",
            "Read the previous container's log (the per-workload commands below, `--previous`) and the pod's events; fix the setting, then deploy again. `kubectl rollout restart` only helps when a dependency was down and is back.",
        ),
        (
            "Pending pod",
            "`kubectl describe pod` of the pending pod: its last event names the constraint (Insufficient cpu, node(s) didn't match pod anti-affinity, unbound PersistentVolumeClaim).",
        ),
    ] {
        b.section(3, title, vec![text(what)]);
    }
    for w in services {
        let sel = w.selector.clone().unwrap_or_default();
        let mut c = vec![
            kc(&w.ns, &["get", "pods", "-l", &sel, "-o", "wide"]),
            kc(&w.ns, &["describe", "pods", "-l", &sel]),
        ];
        for container in &w.containers {
            c.push(kc(
                &w.ns,
                &["logs", &w.reference, "-c", container, "--tail=200"],
            ));
        }
        c.push(
            kc(&w.ns, &["rollout", "restart", &w.reference])
                .note("new pods, same version (picks up changed Secrets)"),
        );
        let title = if namespaces.len() > 1 {
            format!("{} {} in {}", w.kind, w.name, w.ns)
        } else {
            format!("{} {}", w.kind, w.name)
        };
        b.section(3, title, vec![cmds(c)]);
    }
}

impl Runbook {
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("json")
    }

    /// Every command of the runbook, in order.
    pub fn commands(&self) -> Vec<&Cmd> {
        let mut out = Vec::new();
        for s in &self.sections {
            for b in &s.blocks {
                match b {
                    Block::Commands { commands } => out.extend(commands),
                    Block::Table { rows, .. } => out.extend(rows.iter().flat_map(|r| &r.commands)),
                    Block::Text { .. } => {}
                }
            }
        }
        out
    }

    pub fn to_markdown(&self) -> String {
        let mut s = format!("# Runbook: {} ({})\n", self.app, self.environment);
        s.push_str("\n## Contents\n\n");
        for sec in &self.sections {
            let indent = if sec.level == 3 { "  " } else { "" };
            let _ = writeln!(s, "{indent}- [{}](#{})", sec.title, sec.id);
        }
        for sec in &self.sections {
            let _ = write!(s, "\n{} {}\n", "#".repeat(sec.level as usize), sec.title);
            for b in &sec.blocks {
                s.push('\n');
                match b {
                    Block::Text { text } => {
                        s.push_str(text);
                        s.push('\n');
                    }
                    Block::Commands { commands } => {
                        s.push_str("```sh\n");
                        for c in commands {
                            if let Some(n) = &c.comment {
                                let _ = writeln!(s, "# {n}");
                            }
                            s.push_str(&c.line());
                            s.push('\n');
                        }
                        s.push_str("```\n");
                    }
                    Block::Table { columns, rows } => {
                        let _ = writeln!(s, "| {} |", columns.join(" | "));
                        let _ = writeln!(s, "|{}", " --- |".repeat(columns.len()));
                        for r in rows {
                            let cells: Vec<String> =
                                r.cells.iter().map(|c| c.replace('|', "\\|")).collect();
                            let commands: Vec<String> = r
                                .commands
                                .iter()
                                .map(|c| format!("`{}`", c.line().replace('|', "\\|")))
                                .collect();
                            let _ = writeln!(
                                s,
                                "| {} | {} |",
                                cells.join(" | "),
                                commands.join("<br>")
                            );
                        }
                    }
                }
            }
        }
        s
    }
}
