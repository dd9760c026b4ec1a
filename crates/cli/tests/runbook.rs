//! Proof for `berth runbook`: for every example and environment, every command of the generated
//! runbook is parsed by the real tool, and every object, namespace, label selector and container
//! it names exists in that environment's render. kubectl runs each command against a fake
//! kubeconfig (an address nothing listens on): a command whose flags and arguments kubectl
//! accepts gets as far as connecting, so "connection refused" is a pass and anything else (an
//! unknown flag, a wrong argument count, a missing kustomization) a failure; commands that
//! change something run with `--dry-run=client`. Helm likewise, plus `helm template` of the chart
//! and values the command names; patronictl with `--help` after the arguments (click parses them
//! first). Every alert's `runbook_url` and every internal link resolves to a heading.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tools() -> PathBuf {
    std::env::var_os("BERTH_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".tools"))
}

/// A tool under $BERTH_TOOLS/bin, else on PATH; missing fails loudly.
fn tool(names: &[&str], setup: &str) -> PathBuf {
    for name in names {
        let p = tools().join("bin").join(name);
        if p.is_file() {
            return p;
        }
    }
    for name in names {
        for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
            let p = dir.join(name);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!("none of {names:?} is installed: run scripts/test, or {setup} on its own");
}

/// Every example, and the spec that has each Redis/Valkey and Kafka mode (Strimzi among them).
fn examples() -> Vec<(String, berth_spec::Loaded)> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(repo().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("berth.yaml").exists())
        .collect();
    dirs.sort();
    dirs.push(repo().join("crates/check/tests/data-tier-modes"));
    dirs.into_iter()
        .map(|d| {
            (
                d.file_name().unwrap().to_string_lossy().into_owned(),
                berth_spec::load(&d).unwrap(),
            )
        })
        .collect()
}

fn berth(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("berth runs")
}

/// GitHub's heading anchors of a Markdown text (written here independently of berth's).
fn anchors(md: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut fence = false;
    for line in md.lines() {
        if line.starts_with("```") {
            fence = !fence;
        }
        if fence || !line.starts_with('#') {
            continue;
        }
        let title = line.trim_start_matches('#').trim();
        let slug: String = title
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == '-' || *c == '_' || *c == ' ')
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        assert!(out.insert(slug.clone()), "duplicate heading anchor #{slug}");
    }
    out
}

/// What the render has, for looking names up.
#[derive(Default)]
struct Index {
    namespaces: BTreeSet<String>,
    /// (kind, namespace, name)
    objects: BTreeSet<(String, String, String)>,
    /// (namespace, pod or workload reference) → containers
    containers: BTreeMap<(String, String), BTreeSet<String>>,
    /// namespace → pod template labels
    pod_labels: BTreeMap<String, Vec<BTreeMap<String, String>>>,
    /// ConfigMap (namespace, name) → data
    config_maps: BTreeMap<(String, String), BTreeMap<String, String>>,
}

fn canonical_kind(k: &str) -> String {
    let k = k.split('.').next().unwrap().to_ascii_lowercase();
    let k = match k.as_str() {
        "deploy" | "deployments" => "deployment",
        "sts" | "statefulsets" => "statefulset",
        "jobs" => "job",
        "cronjobs" | "cj" => "cronjob",
        "po" | "pods" => "pod",
        "pvc" | "persistentvolumeclaims" => "persistentvolumeclaim",
        "ing" | "ingresses" => "ingress",
        "hpa" | "horizontalpodautoscalers" => "horizontalpodautoscaler",
        "cm" | "configmaps" => "configmap",
        "secrets" => "secret",
        "sealedsecrets" => "sealedsecret",
        "externalsecrets" => "externalsecret",
        "clusters" => "cluster",
        "netpol" | "networkpolicies" => "networkpolicy",
        "ns" | "namespaces" => "namespace",
        other => other,
    };
    k.to_string()
}

fn labels(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect()
}

fn containers_of(spec: &Value) -> BTreeSet<String> {
    ["containers", "initContainers"]
        .iter()
        .flat_map(|k| spec[k].as_array().into_iter().flatten())
        .filter_map(|c| c["name"].as_str().map(str::to_owned))
        .collect()
}

fn index(r: &berth_render::Rendered) -> Index {
    let mut ix = Index::default();
    ix.namespaces.insert(r.namespace.clone());
    for o in &r.objects {
        let ns = o.namespace.clone().unwrap_or_default();
        if o.kind == "Namespace" {
            ix.namespaces.insert(o.name.clone());
        }
        let kind = o.kind.to_ascii_lowercase();
        ix.objects
            .insert((kind.clone(), ns.clone(), o.name.clone()));
        let b = &o.body;
        // The controllers make the Secret: a SealedSecret's of its own name, an ExternalSecret's
        // of its target name.
        match o.kind.as_str() {
            "SealedSecret" => {
                ix.objects
                    .insert(("secret".into(), ns.clone(), o.name.clone()));
            }
            "ExternalSecret" => {
                let target = b
                    .pointer("/spec/target/name")
                    .and_then(Value::as_str)
                    .unwrap_or(&o.name);
                ix.objects
                    .insert(("secret".into(), ns.clone(), target.to_string()));
            }
            _ => {}
        }
        if o.kind == "ConfigMap" {
            let data = labels(&b["data"]);
            ix.config_maps.insert((ns.clone(), o.name.clone()), data);
        }
        let template = match o.kind.as_str() {
            "CronJob" => b.pointer("/spec/jobTemplate/spec/template"),
            "Deployment" | "StatefulSet" | "Job" | "Pooler" => b.pointer("/spec/template"),
            _ => None,
        };
        if let Some(t) = template {
            let cs = containers_of(&t["spec"]);
            // The operator's Deployment for a Pooler has the Pooler's name and labels its pods.
            let kind = if o.kind == "Pooler" {
                "deployment".into()
            } else {
                kind.clone()
            };
            if o.kind == "Pooler" {
                ix.objects
                    .insert(("deployment".into(), ns.clone(), o.name.clone()));
                ix.pod_labels
                    .entry(ns.clone())
                    .or_default()
                    .push(BTreeMap::from([(
                        "cnpg.io/poolerName".to_string(),
                        o.name.clone(),
                    )]));
            } else {
                ix.pod_labels
                    .entry(ns.clone())
                    .or_default()
                    .push(labels(&t["metadata"]["labels"]));
            }
            ix.containers
                .insert((ns.clone(), format!("{kind}/{}", o.name)), cs.clone());
            if o.kind == "StatefulSet" {
                let n = b
                    .pointer("/spec/replicas")
                    .and_then(Value::as_u64)
                    .unwrap_or(1);
                for i in 0..n {
                    let pod = format!("{}-{i}", o.name);
                    ix.objects.insert(("pod".into(), ns.clone(), pod.clone()));
                    ix.containers.insert((ns.clone(), pod.clone()), cs.clone());
                    ix.containers
                        .insert((ns.clone(), format!("pod/{pod}")), cs.clone());
                    for vct in b
                        .pointer("/spec/volumeClaimTemplates")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        let claim = vct
                            .pointer("/metadata/name")
                            .and_then(Value::as_str)
                            .unwrap();
                        ix.objects.insert((
                            "persistentvolumeclaim".into(),
                            ns.clone(),
                            format!("{claim}-{pod}"),
                        ));
                    }
                }
            }
        }
        if o.kind == "KafkaNodePool" {
            // Strimzi runs a pool's brokers from a StrimziPodSet named CLUSTER-POOL, its pods
            // CLUSTER-POOL-ID (node IDs from 0), the broker container `kafka`.
            let cluster = b
                .pointer("/metadata/labels/strimzi.io~1cluster")
                .and_then(Value::as_str)
                .unwrap()
                .to_string();
            let n = b
                .pointer("/spec/replicas")
                .and_then(Value::as_u64)
                .unwrap_or(1);
            let set = format!("{cluster}-{}", o.name);
            ix.objects
                .insert(("strimzipodset".into(), ns.clone(), set.clone()));
            for i in 0..n {
                let pod = format!("{set}-{i}");
                ix.objects.insert(("pod".into(), ns.clone(), pod.clone()));
                ix.containers.insert(
                    (ns.clone(), pod.clone()),
                    BTreeSet::from(["kafka".to_string()]),
                );
            }
            ix.pod_labels
                .entry(ns.clone())
                .or_default()
                .push(BTreeMap::from([(
                    "strimzi.io/cluster".to_string(),
                    cluster,
                )]));
        }
        if o.kind == "Kafka" && o.api_version.starts_with("kafka.strimzi.io/") {
            // Its entity operator: a Deployment CLUSTER-entity-operator, a container per operator.
            let cs: BTreeSet<String> = ["topicOperator", "userOperator"]
                .iter()
                .filter(|k| b.pointer(&format!("/spec/entityOperator/{k}")).is_some())
                .map(|k| k.replace("Operator", "-operator"))
                .collect();
            let d = format!("{}-entity-operator", o.name);
            ix.objects
                .insert(("deployment".into(), ns.clone(), d.clone()));
            ix.containers
                .insert((ns.clone(), format!("deployment/{d}")), cs);
        }
        if o.kind == "Cluster" && o.api_version.starts_with("postgresql.cnpg.io/") {
            // CloudNativePG names its pods CLUSTER-1…N and labels them cnpg.io/cluster.
            let n = b
                .pointer("/spec/instances")
                .and_then(Value::as_u64)
                .unwrap_or(1);
            for i in 1..=n {
                ix.objects
                    .insert(("pod".into(), ns.clone(), format!("{}-{i}", o.name)));
            }
            ix.pod_labels
                .entry(ns.clone())
                .or_default()
                .push(BTreeMap::from([(
                    "cnpg.io/cluster".to_string(),
                    o.name.clone(),
                )]));
        }
    }
    ix
}

/// Flags of kubectl that take a value (as the runbook may use them without `=`).
const VALUE_FLAGS: &[&str] = &[
    "-n",
    "--namespace",
    "-l",
    "--selector",
    "-c",
    "--container",
    "-o",
    "--output",
    "-f",
    "--filename",
    "-k",
    "--kustomize",
    "-L",
    "--label-columns",
    "--field-selector",
    "--sort-by",
    "--tail",
    "--timeout",
    "--for",
    "--from",
    "--since",
    "--grace-period",
];

struct Parsed {
    ns: Option<String>,
    selector: Option<String>,
    container: Option<String>,
    positionals: Vec<String>,
    flags: BTreeMap<String, String>,
}

fn parse_kubectl(argv: &[String]) -> Parsed {
    let mut p = Parsed {
        ns: None,
        selector: None,
        container: None,
        positionals: vec![],
        flags: BTreeMap::new(),
    };
    let mut i = 1;
    while i < argv.len() {
        let a = &argv[i];
        if a == "--" {
            break;
        }
        if a.starts_with('-') {
            let (flag, value) = match a.split_once('=') {
                Some((f, v)) => (f.to_string(), Some(v.to_string())),
                None if VALUE_FLAGS.contains(&a.as_str()) => {
                    i += 1;
                    (a.clone(), argv.get(i).cloned())
                }
                None => (a.clone(), None),
            };
            let value = value.unwrap_or_default();
            match flag.as_str() {
                "-n" | "--namespace" => p.ns = Some(value.clone()),
                "-l" | "--selector" => p.selector = Some(value.clone()),
                "-c" | "--container" => p.container = Some(value.clone()),
                _ => {}
            }
            p.flags.insert(flag, value);
        } else {
            p.positionals.push(a.clone());
        }
        i += 1;
    }
    p
}

/// The commands that change something: run with --dry-run=client (`rollout restart` has no such
/// flag; against the fake server it changes nothing either).
fn mutates(verb: &str, positionals: &[String]) -> bool {
    matches!(
        verb,
        "apply" | "delete" | "create" | "label" | "annotate" | "patch"
    ) || (verb == "rollout" && matches!(positionals.get(1).map(String::as_str), Some("undo")))
}

struct Checker<'a> {
    what: String,
    ix: &'a Index,
    kubectl: PathBuf,
    helm: PathBuf,
    kubeconfig: PathBuf,
    out_dir: PathBuf,
    /// Objects an earlier command of the runbook creates (kind, ns, name).
    created: BTreeSet<(String, String, String)>,
    argo_apps: BTreeSet<String>,
    ran: BTreeSet<String>,
}

impl Checker<'_> {
    fn fail(&self, cmd: &str, why: String) -> ! {
        panic!("{}: `{cmd}`: {why}", self.what)
    }

    fn exists(&self, kind: &str, ns: &str, name: &str) -> bool {
        let k = (kind.to_string(), ns.to_string(), name.to_string());
        self.ix.objects.contains(&k) || self.created.contains(&k)
    }

    fn check_ref(&self, line: &str, kind: &str, ns: &str, name: &str) {
        let kind = canonical_kind(kind);
        let ns = if kind == "namespace" || kind == "clustersecretstore" {
            ""
        } else {
            ns
        };
        if kind == "namespace" {
            assert!(
                self.ix.namespaces.contains(name),
                "{}: `{line}`: namespace {name} is not the app's",
                self.what
            );
            return;
        }
        if kind == "clustersecretstore" {
            // Referenced (not owned) by the app: it must be the store an ExternalSecret names.
            return;
        }
        if !self.exists(&kind, ns, name) {
            self.fail(
                line,
                format!("no {kind} {name} in namespace {ns} of the render"),
            );
        }
    }

    fn check_selector(&self, line: &str, ns: &str, sel: &str) {
        let pairs: Vec<(&str, &str)> = sel
            .split(',')
            .map(|kv| kv.split_once('=').unwrap_or((kv, "")))
            .collect();
        let ok = self.ix.pod_labels.get(ns).into_iter().flatten().any(|l| {
            pairs
                .iter()
                .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
        });
        if !ok {
            self.fail(
                line,
                format!("no pod template in {ns} carries the labels {sel}"),
            );
        }
    }

    fn kubectl(
        &mut self,
        cmd: &runbook::Cmd,
        stage: usize,
        stdin: Option<String>,
    ) -> Option<String> {
        let line = cmd.line();
        let argv = &cmd.pipeline[stage];
        let p = parse_kubectl(argv);
        let verb = p.positionals.first().cloned().unwrap_or_default();
        if verb == "cnpg" {
            return self.cnpg(&line, &p);
        }
        let ns = p.ns.clone().unwrap_or_default();
        if !cmd.outside_app {
            if let Some(n) = &p.ns {
                assert!(
                    self.ix.namespaces.contains(n),
                    "{}: `{line}`: namespace {n} is not one of the render's {:?}",
                    self.what,
                    self.ix.namespaces
                );
            }
            if let Some(sel) = &p.selector {
                self.check_selector(&line, &ns, sel);
            }
            let mut reference: Option<String> = None;
            let args = &p.positionals[1..];
            match verb.as_str() {
                "get" | "describe" | "delete" => {
                    if let Some(first) = args.first() {
                        if let Some((k, n)) = first.split_once('/') {
                            self.check_ref(&line, k, &ns, n);
                        } else {
                            for name in &args[1..] {
                                self.check_ref(&line, first, &ns, name);
                            }
                        }
                    }
                }
                "logs" | "exec" if p.selector.is_some() && args.is_empty() => {}
                "logs" | "exec" => {
                    let target = args
                        .first()
                        .unwrap_or_else(|| self.fail(&line, "no pod".into()));
                    match target.split_once('/') {
                        Some((k, n)) => {
                            self.check_ref(&line, k, &ns, n);
                            reference = Some(format!("{}/{n}", canonical_kind(k)));
                        }
                        None => {
                            self.check_ref(&line, "pod", &ns, target);
                            reference = Some(target.clone());
                        }
                    }
                }
                "rollout" => {
                    let (k, n) = args[1]
                        .split_once('/')
                        .unwrap_or_else(|| self.fail(&line, "rollout wants KIND/NAME".into()));
                    self.check_ref(&line, k, &ns, n);
                }
                "wait" => {
                    let (k, n) = args[0].split_once('/').unwrap();
                    self.check_ref(&line, k, &ns, n);
                }
                "create" => {
                    assert_eq!(args[0], "job", "{line}");
                    let from = p
                        .flags
                        .get("--from")
                        .unwrap_or_else(|| self.fail(&line, "create job without --from".into()));
                    let (k, n) = from.split_once('/').unwrap();
                    self.check_ref(&line, k, &ns, n);
                    self.created
                        .insert(("job".into(), ns.clone(), args[1].clone()));
                }
                "annotate" => {
                    self.check_ref(&line, &args[0], &ns, &args[1]);
                    if canonical_kind(&args[0]) == "pod" {
                        reference = Some(args[1].clone());
                    }
                }
                "label" => {
                    assert_eq!(canonical_kind(&args[0]), "namespace", "{line}");
                    self.check_ref(&line, "namespace", "", &args[1]);
                }
                "apply" | "diff" => {
                    if let Some(dir) = p.flags.get("-k") {
                        assert!(
                            Path::new(dir).join("kustomization.yaml").is_file(),
                            "{}: `{line}`: {dir} is not a kustomization",
                            self.what
                        );
                    }
                    if let Some(f) = p.flags.get("-f") {
                        if f == "-" {
                            // Objects it creates from the previous stage's output.
                            let doc: Value =
                                serde_json::from_str(stdin.as_deref().unwrap_or("null"))
                                    .unwrap_or_else(|e| {
                                        self.fail(&line, format!("stdin is not the manifest: {e}"))
                                    });
                            let kind = doc["kind"].as_str().unwrap().to_ascii_lowercase();
                            let dns = doc["metadata"]["namespace"]
                                .as_str()
                                .unwrap_or(&ns)
                                .to_string();
                            assert!(
                                self.ix.namespaces.contains(&dns),
                                "{line}: creates into {dns}"
                            );
                            self.created.insert((
                                kind,
                                dns,
                                doc["metadata"]["name"].as_str().unwrap().to_string(),
                            ));
                        } else {
                            assert!(
                                Path::new(f).is_file(),
                                "{}: `{line}`: no file {f}",
                                self.what
                            );
                        }
                    }
                }
                "top" => assert!(matches!(args[0].as_str(), "pods" | "pod"), "{line}"),
                other => self.fail(
                    &line,
                    format!("a kubectl verb this test does not know: {other}"),
                ),
            }
            if let (Some(c), Some(r)) = (&p.container, &reference) {
                let cs = self
                    .ix
                    .containers
                    .get(&(ns.clone(), r.clone()))
                    .unwrap_or_else(|| self.fail(&line, format!("no pod template for {r}")));
                if !cs.contains(c) {
                    self.fail(&line, format!("{r} has no container {c} (it has {cs:?})"));
                }
            }
        }
        // The real kubectl parses it: it must get as far as connecting to the (absent) server.
        // (The same line twice in one runbook is run once.)
        if self.ran.insert(argv.join(" ")) {
            self.run_kubectl(&line, argv, &verb, &p, stdin.clone());
        }
        // What a `get … -o jsonpath={.data.KEY}` prints, from the render, for the next stage.
        if verb == "get"
            && p.positionals.get(1).map(|k| canonical_kind(k)) == Some("configmap".into())
            && let Some(path) = p
                .flags
                .get("-o")
                .and_then(|o| o.strip_prefix("jsonpath={.data."))
                .and_then(|r| r.strip_suffix('}'))
        {
            let key = path.replace("\\.", ".");
            let cm = self
                .ix
                .config_maps
                .get(&(ns.clone(), p.positionals[2].clone()))
                .unwrap();
            return Some(
                cm.get(&key)
                    .unwrap_or_else(|| self.fail(&line, format!("the ConfigMap has no key {key}")))
                    .clone(),
            );
        }
        None
    }

    fn run_kubectl(
        &self,
        line: &str,
        argv: &[String],
        verb: &str,
        p: &Parsed,
        stdin: Option<String>,
    ) {
        let mut args: Vec<String> = argv[1..].to_vec();
        if mutates(verb, &p.positionals) && !args.iter().any(|a| a.starts_with("--dry-run")) {
            let at = args.iter().position(|a| a == "--").unwrap_or(args.len());
            args.insert(at, "--dry-run=client".into());
        }
        let at = args.iter().position(|a| a == "--").unwrap_or(args.len());
        args.insert(at, format!("--kubeconfig={}", self.kubeconfig.display()));
        args.insert(at, "--request-timeout=2s".into());
        let mut child = Command::new(&self.kubectl)
            .args(&args)
            .current_dir(repo())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        {
            use std::io::Write;
            let mut input = child.stdin.take().unwrap();
            input
                .write_all(stdin.unwrap_or_default().as_bytes())
                .unwrap();
        }
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        if !(err.contains("connection refused") || err.contains("was refused")) {
            self.fail(
                line,
                format!(
                    "kubectl did not accept it:\n{err}{}",
                    String::from_utf8_lossy(&out.stdout)
                ),
            );
        }
    }

    /// The CloudNativePG kubectl plugin is not installable here: its names are checked, and its
    /// arguments against the plugin's documented synopsis.
    fn cnpg(&self, line: &str, p: &Parsed) -> Option<String> {
        let ns =
            p.ns.clone()
                .unwrap_or_else(|| self.fail(line, "no -n".into()));
        let args = &p.positionals[1..];
        let cluster = &args[1];
        self.check_ref(line, "cluster", &ns, cluster);
        match args[0].as_str() {
            "status" => assert_eq!(args.len(), 2, "{line}"),
            "promote" => {
                assert_eq!(args.len(), 3, "{line}");
                self.check_ref(line, "pod", &ns, &args[2]);
            }
            "backup" => {
                let allowed: BTreeSet<&str> = ["-n", "--method", "--plugin-name"].into();
                for f in p.flags.keys() {
                    assert!(allowed.contains(f.as_str()), "{line}: unknown flag {f}");
                }
            }
            other => self.fail(line, format!("unknown cnpg subcommand {other}")),
        }
        None
    }

    fn helm(&self, cmd: &runbook::Cmd) {
        let line = cmd.line();
        let argv = &cmd.pipeline[0];
        let ns = argv
            .iter()
            .position(|a| a == "-n")
            .map(|i| argv[i + 1].clone())
            .unwrap_or_else(|| self.fail(&line, "no -n".into()));
        assert!(
            self.ix.namespaces.contains(&ns),
            "{}: `{line}`: namespace {ns}",
            self.what
        );
        let mut args: Vec<String> = argv[1..].to_vec();
        args.push(format!("--kubeconfig={}", self.kubeconfig.display()));
        let out = Command::new(&self.helm)
            .args(&args)
            .current_dir(repo())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        if !err.contains("connection refused") {
            self.fail(&line, format!("helm did not accept it:\n{err}"));
        }
        if argv[1] == "upgrade" {
            // The chart and values it names render, for the release and namespace it names.
            let release = &argv[3];
            let chart = &argv[4];
            let values = argv
                .iter()
                .position(|a| a == "-f")
                .map(|i| argv[i + 1].clone())
                .unwrap();
            assert!(
                chart.ends_with("/helm") && chart.starts_with(self.out_dir.to_str().unwrap()),
                "{line}"
            );
            let out = Command::new(&self.helm)
                .args(["template", release, chart, "-n", &ns, "-f", &values])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}: helm template for `{line}`: {}",
                self.what,
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    /// argocd's CLI is not installed here: the Application must be the one `berth build` wrote,
    /// and the flags those of its documented commands.
    fn argocd(&self, cmd: &runbook::Cmd) {
        let line = cmd.line();
        let argv = &cmd.pipeline[0];
        assert_eq!(argv[1], "app", "{line}");
        let sub = argv[2].as_str();
        let app = &argv[3];
        assert!(
            self.argo_apps.contains(app),
            "{}: `{line}`: no Application {app} in argocd/apps ({:?})",
            self.what,
            self.argo_apps
        );
        let allowed: &[&str] = match sub {
            "sync" | "diff" | "history" | "get" => &[],
            "rollback" => &[],
            "wait" => &["--health", "--timeout"],
            "set" => &["--sync-policy", "--auto-prune", "--self-heal"],
            other => self.fail(&line, format!("argocd app {other} is not checked here")),
        };
        for a in &argv[4..] {
            if a.starts_with("--") {
                assert!(allowed.contains(&a.as_str()), "{line}: {a}");
            }
        }
    }

    fn patronictl(&self, line: &str, ns: &str, pod: &str, inner: &[String]) {
        // -c CONF: the config the pod reads, written from the rendered ConfigMap it mounts.
        let conf_path = &inner[2];
        let file_name = Path::new(conf_path).file_name().unwrap().to_str().unwrap();
        let text = self
            .ix
            .config_maps
            .iter()
            .filter(|((n, _), _)| n == ns)
            .find_map(|(_, d)| d.get(file_name))
            .unwrap_or_else(|| {
                self.fail(
                    line,
                    format!("no ConfigMap in {ns} holds {file_name} for {pod}"),
                )
            });
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join(file_name);
        std::fs::write(&conf, text).unwrap();
        let patronictl = tool(&["patronictl"], "scripts/setup.d/50-data.sh");
        let mut args: Vec<String> = vec!["-c".into(), conf.display().to_string()];
        args.extend(inner[3..].iter().cloned());
        args.push("--help".into());
        let out = Command::new(patronictl).args(&args).output().unwrap();
        assert!(
            out.status.success(),
            "{}: `{line}`: patronictl refuses: {}",
            self.what,
            String::from_utf8_lossy(&out.stderr)
        );
        // The cluster (scope) and members it names.
        if inner[3] == "reinit" {
            let scope = &inner[4];
            assert!(
                text.contains(&format!("\"scope\": \"{scope}\"")),
                "{line}: scope {scope}"
            );
        }
        if let Some(i) = inner.iter().position(|a| a == "--candidate") {
            assert!(
                self.exists("pod", ns, &inner[i + 1]),
                "{line}: no member {}",
                inner[i + 1]
            );
        }
    }

    fn check(&mut self, cmd: &runbook::Cmd) {
        let line = cmd.line();
        let mut stdin = None;
        for (i, argv) in cmd.pipeline.iter().enumerate() {
            match argv[0].as_str() {
                "kubectl" => {
                    stdin = self.kubectl(cmd, i, stdin.take());
                    if let Some(at) = argv.iter().position(|a| a == "--") {
                        let p = parse_kubectl(argv);
                        let inner = &argv[at + 1..];
                        if inner[0] == "patronictl" {
                            self.patronictl(
                                &line,
                                p.ns.as_deref().unwrap(),
                                &p.positionals[1],
                                inner,
                            );
                        }
                    }
                }
                "helm" => self.helm(cmd),
                "argocd" => self.argocd(cmd),
                "berth" => {
                    let mut args: Vec<&str> = argv[1..].iter().map(String::as_str).collect();
                    let tmp = tempfile::tempdir().unwrap();
                    let t = tmp.path().display().to_string();
                    if args[0] == "build" {
                        args.extend(["--out-dir", &t, "--argocd-path", "deploy"]);
                    }
                    let out = berth(&args);
                    assert!(
                        out.status.success(),
                        "{}: `{line}`: {}",
                        self.what,
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
                other => self.fail(&line, format!("a tool this test does not check: {other}")),
            }
        }
    }
}

mod runbook {
    #[derive(serde::Deserialize, Debug)]
    pub(crate) struct Cmd {
        pub(crate) pipeline: Vec<Vec<String>>,
        #[serde(default, rename = "outside_app")]
        pub(crate) outside_app: bool,
    }
    impl Cmd {
        pub(crate) fn line(&self) -> String {
            self.pipeline
                .iter()
                .map(|a| a.join(" "))
                .collect::<Vec<_>>()
                .join(" | ")
        }
    }
}

fn commands(doc: &Value) -> Vec<runbook::Cmd> {
    let mut out = Vec::new();
    for s in doc["sections"].as_array().unwrap() {
        for b in s["blocks"].as_array().unwrap() {
            let list: Vec<&Value> = match b["type"].as_str().unwrap() {
                "commands" => b["commands"].as_array().unwrap().iter().collect(),
                "table" => b["rows"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .flat_map(|r| r["commands"].as_array().unwrap())
                    .collect(),
                _ => vec![],
            };
            out.extend(
                list.into_iter()
                    .map(|c| serde_json::from_value(c.clone()).unwrap()),
            );
        }
    }
    out
}

#[test]
fn every_runbook_command_parses_and_names_only_rendered_objects() {
    let kubectl = tool(&["kubectl-1.35", "kubectl"], "scripts/setup.d/20-helm.sh");
    let helm = tool(&["helm"], "scripts/setup.d/20-helm.sh");
    let tmp = tempfile::tempdir().unwrap();
    let kubeconfig = tmp.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\nclusters: [{name: fake, cluster: {server: 'https://127.0.0.1:9'}}]\nusers: [{name: fake, user: {token: fake}}]\ncontexts: [{name: fake, context: {cluster: fake, user: fake}}]\ncurrent-context: fake\n",
    )
    .unwrap();
    let mut seen_tools = BTreeSet::new();
    for (name, loaded) in examples() {
        let app_dir = if name == "data-tier-modes" {
            "crates/check/tests/data-tier-modes".to_string()
        } else {
            format!("examples/{name}")
        };
        let out_dir = tmp.path().join(&name);
        let o = out_dir.display().to_string();
        let built = berth(&[
            "build",
            &app_dir,
            "--out-dir",
            &o,
            "--argocd-path",
            "deploy",
        ]);
        assert!(
            built.status.success(),
            "{name}: build: {}",
            String::from_utf8_lossy(&built.stderr)
        );
        assert!(
            String::from_utf8_lossy(&built.stdout).contains("runbook"),
            "the build summary lists the runbooks"
        );
        let argo_apps: BTreeSet<String> = loaded
            .apps
            .iter()
            .map(|a| {
                let text =
                    std::fs::read_to_string(out_dir.join(format!("argocd/apps/{}.yaml", a.env)))
                        .unwrap();
                metadata_name(&text)
            })
            .collect();
        for app in &loaded.apps {
            let what = format!("{name}/{}", app.env);
            let r = berth_render::render(app);
            let ix = index(&r);
            let md_built =
                std::fs::read_to_string(out_dir.join(format!("runbook/{}.md", app.env))).unwrap();
            let out = berth(&["runbook", &app_dir, "--env", &app.env, "--out-dir", &o]);
            assert!(
                out.status.success(),
                "{what}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                md_built,
                "{what}: berth runbook prints what build writes"
            );
            let out = berth(&[
                "runbook",
                &app_dir,
                "--env",
                &app.env,
                "--out-dir",
                &o,
                "-o",
                "json",
            ]);
            let doc: Value = serde_json::from_slice(&out.stdout).unwrap();

            // Every alert's runbook_url and every internal link resolves to a heading.
            let heads = anchors(&md_built);
            for rule in berth_operate::monitoring::rule_groups(app, &r)
                .iter()
                .flat_map(|g| g["rules"].as_array().unwrap().clone())
            {
                let Some(url) = rule["annotations"]["runbook_url"].as_str() else {
                    continue;
                };
                let (file, anchor) = url.split_once('#').unwrap();
                assert_eq!(file, format!("runbook/{}.md", app.env), "{what}");
                assert!(out_dir.join(file).is_file());
                assert!(
                    heads.contains(anchor),
                    "{what}: {url} has no heading in the runbook"
                );
            }
            for link in md_built.split("](#").skip(1) {
                let anchor = link.split(')').next().unwrap();
                assert!(
                    heads.contains(anchor),
                    "{what}: link #{anchor} has no heading"
                );
            }
            for needle in [
                "## Deploy",
                "## Roll back",
                "## Troubleshooting",
                "CrashLoopBackOff",
                "ImagePullBackOff",
                "Pending",
                "OOMKilled",
                "NetworkPolicy",
                "Unhealthy",
            ] {
                assert!(md_built.contains(needle), "{what}: no {needle}");
            }

            let mut checker = Checker {
                what: what.clone(),
                ix: &ix,
                kubectl: kubectl.clone(),
                helm: helm.clone(),
                kubeconfig: kubeconfig.clone(),
                out_dir: out_dir.clone(),
                created: BTreeSet::new(),
                argo_apps: argo_apps.clone(),
                ran: BTreeSet::new(),
            };
            let cmds = commands(&doc);
            assert!(cmds.len() > 20, "{what}: only {} commands", cmds.len());
            // Many kubectl runs: in parallel would be faster, but the machine is shared.
            for c in &cmds {
                seen_tools.insert(c.pipeline[0][0].clone());
                checker.check(c);
            }
        }
    }
    for t in ["kubectl", "helm", "argocd", "berth"] {
        assert!(seen_tools.contains(t), "no {t} command was checked");
    }
}

/// `metadata.name` of a one-object YAML file berth wrote (block style, two-space indent).
fn metadata_name(text: &str) -> String {
    let mut in_meta = false;
    for line in text.lines() {
        if line == "metadata:" {
            in_meta = true;
        } else if in_meta && let Some(n) = line.strip_prefix("  name: ") {
            return n.trim_matches('\'').trim_matches('"').to_string();
        } else if !line.starts_with(' ') {
            in_meta = false;
        }
    }
    panic!("no metadata.name in {text}")
}
