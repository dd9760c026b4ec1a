//! Proofs with the real helm (v4): the chart lints clean with every values file, renders
//! exactly what `berth render` prints (plus Helm's documented `helm.sh/chart` label), and its
//! values schema rejects a wrong type and an unknown key.

mod common;
use common::*;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn write_chart(loaded: &berth_spec::Loaded, rendered: &[berth_render::Rendered], dir: &Path) {
    let files = berth_emit::helm(&loaded.apps, rendered);
    berth_emit::write_atomic(dir, &files).unwrap();
}

/// Removes Helm's own label (documented in docs/formats.md) from top-level objects.
fn without_helm_labels(objects: Vec<Value>) -> Vec<Value> {
    objects
        .into_iter()
        .map(|mut o| {
            let labels = o["metadata"]["labels"].as_object_mut().expect("labelled");
            let chart = labels.shift_remove(berth_emit::CHART_LABEL);
            assert!(
                chart.is_some(),
                "{} has no {} label",
                o["metadata"]["name"],
                berth_emit::CHART_LABEL
            );
            o
        })
        .collect()
}

fn prove(name: &str, loaded: &berth_spec::Loaded, rendered: &[berth_render::Rendered]) {
    let helm = helm();
    let tmp = tempfile::tempdir().unwrap();
    let chart = tmp.path().join(&loaded.spec.app);
    write_chart(loaded, rendered, &chart);
    for r in rendered {
        let values = chart.join(format!("values-{}.yaml", r.env));
        for create in ["false", "true"] {
            run(Command::new(&helm)
                .args(["lint", "--strict"])
                .arg(&chart)
                .arg("-f")
                .arg(&values)
                .args(["--set", &format!("namespace.create={create}")]));
        }
        // With the Namespace (opt-in, see the_namespace_object_is_opt_in), exactly the render.
        let out = run(Command::new(&helm)
            .args(["template", "x"])
            .arg(&chart)
            .arg("-f")
            .arg(&values)
            .args(["--skip-tests", "--set", "namespace.create=true"]));
        assert_same_objects(
            &format!(
                "{name}: helm template -f values-{}.yaml --set namespace.create=true",
                r.env
            ),
            without_helm_labels(parse_stream(&out)),
            rendered_objects(r),
        );
        // Objects share a template per service; one switched off leaves no empty document.
        // (Checked on the text: YAML parsers skip empty documents.)
        let mut docs: Vec<Vec<&str>> = vec![Vec::new()];
        for line in out.lines() {
            if line == "---" {
                docs.push(Vec::new());
            } else {
                docs.last_mut().unwrap().push(line);
            }
        }
        let object_less = docs
            .iter()
            .skip(usize::from(docs[0].is_empty()))
            .filter(|d| {
                d.iter()
                    .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
            })
            .count();
        assert_eq!(
            object_less, 0,
            "{name}/{}: empty document in helm template\n{out}",
            r.env
        );
        // The helm test hooks: a hardened Pod per HTTP service calling its readiness path.
        let out = run(Command::new(&helm)
            .args(["template", "x"])
            .arg(&chart)
            .arg("-f")
            .arg(&values));
        let pods: Vec<Value> = parse_stream(&out)
            .into_iter()
            .filter(|o| o["kind"] == "Pod")
            .collect();
        for svc in &loaded.app(&r.env).unwrap().services {
            let Some(berth_spec::ProbeAction::Http {
                path,
                port: port_name,
                ..
            }) = svc.ready.as_ref().map(|p| &p.action)
            else {
                continue;
            };
            let port = svc
                .ports
                .iter()
                .find(|p| &p.name == port_name)
                .unwrap()
                .service_port;
            let pod = pods
                .iter()
                .find(|p| p["metadata"]["name"] == format!("{}-test", svc.name))
                .unwrap_or_else(|| panic!("{name}/{}: no test pod for {}", r.env, svc.name));
            assert_eq!(pod["metadata"]["annotations"]["helm.sh/hook"], "test");
            // In the namespace of the service it tests.
            assert_eq!(pod["metadata"]["namespace"], svc.namespace.as_str());
            let c = &pod["spec"]["containers"][0];
            let url = format!("http://{}:{port}{path}", svc.name);
            assert!(
                c["args"].as_array().unwrap().contains(&url.clone().into()),
                "{url}"
            );
            assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
            assert_eq!(c["securityContext"]["runAsNonRoot"], true);
            assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false);
            assert!(c["resources"]["limits"]["memory"].is_string());
        }
        // berth's own checks pass on the test hooks (nothing above info), with the release around them.
        let hooks: Vec<String> = parse_stream(&out)
            .iter()
            .filter(|o| o["metadata"]["annotations"]["helm.sh/hook"] == "test")
            .map(|o| o["metadata"]["name"].as_str().unwrap().to_owned())
            .collect();
        let report = berth_check::check(
            &[berth_check::Input::Objects {
                name: "helm".into(),
                objects: parse_stream(&out).iter().collect(),
            }],
            &berth_check::Options {
                prod: true,
                ..Default::default()
            },
        )
        .unwrap();
        let bad: Vec<String> = report
            .findings
            .iter()
            .filter(|f| f.severity > berth_check::Severity::Info)
            .filter(|f| f.object.as_ref().is_some_and(|o| hooks.contains(&o.name)))
            .map(|f| format!("{}: {} {}", f.object.as_ref().unwrap(), f.rule, f.message))
            .collect();
        assert!(bad.is_empty(), "{name}/{}: {bad:#?}", r.env);
        // Argo CD sync waves, on request.
        let out = run(Command::new(&helm)
            .args(["template", "x"])
            .arg(&chart)
            .arg("-f")
            .arg(&values)
            .args([
                "--skip-tests",
                "--set",
                "syncWaves=true,namespace.create=true",
            ]));
        for o in parse_stream(&out) {
            let kind = o["kind"].as_str().unwrap();
            let wave = o["metadata"]["annotations"][berth_kinds::WAVE_ANNOTATION]
                .as_str()
                .unwrap_or_default();
            // The data tier carries its own waves (2–19): servers before migrations before workloads.
            let own = wave.parse::<i32>().is_ok_and(|w| (2..=19).contains(&w))
                && o["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "berth";
            assert!(
                wave == berth_kinds::wave(kind).to_string() || own,
                "{kind} {}: wave {wave}",
                o["metadata"]["name"]
            );
        }
    }
}

#[test]
fn every_example_chart_lints_and_renders_what_berth_renders() {
    for name in EXAMPLES {
        let (loaded, rendered) = example(name);
        prove(name, &loaded, &rendered);
    }
}

#[test]
fn the_chart_carries_every_kind_of_difference() {
    let (loaded, rendered) = spec(VARIED);
    prove("varied", &loaded, &rendered);
    let (shapes, shapes_rendered) = spec(SHAPES);
    prove("shapes", &shapes, &shapes_rendered);
}

#[test]
fn the_values_schema_rejects_wrong_types_and_unknown_keys() {
    let helm = helm();
    let (loaded, rendered) = example("todo");
    let tmp = tempfile::tempdir().unwrap();
    let chart = tmp.path().join("todo");
    write_chart(&loaded, &rendered, &chart);
    let lint = |values: &str| {
        let file = tmp.path().join("bad-values.yaml");
        std::fs::write(&file, values).unwrap();
        Command::new(&helm)
            .args(["lint", "--strict"])
            .arg(&chart)
            .arg("-f")
            .arg(&file)
            .output()
            .unwrap()
    };
    let ok = lint("namespace: { name: todo-x, create: true }\n");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    for bad in [
        "namespace: 5\n",
        "namespace: { create: \"yes\" }\n",
        "syncWaves: \"yes\"\n",
        "deployment:\n  backend:\n    spec:\n      replicas: three\n",
        "namespcae: todo\n",
        "deployment:\n  backend:\n    spec:\n      replicas: 2\n      paused: true\n",
    ] {
        let out = lint(bad);
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "helm lint accepted {bad:?}:\n{text}");
        assert!(
            text.contains("schema"),
            "not a schema error for {bad:?}:\n{text}"
        );
    }
}

/// Every plaintext secret value of the environments that deliver them plainly (`mode: plain`,
/// dev), as written and as the Secret's base64.
fn plain_secret_values(loaded: &berth_spec::Loaded) -> Vec<(String, String)> {
    use base64::Engine;
    let mut values = Vec::new();
    for app in &loaded.apps {
        if let berth_spec::SecretDelivery::Plain(plain) = &app.secrets {
            for (_, keys) in &plain.services {
                for (_, v) in keys {
                    let v = v.as_ref().expect("dev values exist");
                    let text = String::from_utf8(v.expose().to_vec()).unwrap();
                    let b64 = base64::engine::general_purpose::STANDARD.encode(v.expose());
                    values.push((text, b64));
                }
            }
        }
    }
    values
}

/// The chart embedded the dev environment's plaintext secret values in templates (and
/// values.yaml, README.md) that every environment's release carries. They now live only in
/// values-dev.yaml: no template, no other values file, and no other environment's release
/// holds them.
#[test]
fn dev_secret_values_stay_in_the_dev_values_file() {
    let helm = helm();
    let (loaded, rendered) = example("todo");
    let values = plain_secret_values(&loaded);
    assert!(!values.is_empty(), "examples/todo has plain dev secrets");
    let tmp = tempfile::tempdir().unwrap();
    let chart = tmp.path().join("todo");
    write_chart(&loaded, &rendered, &chart);
    let holds = |text: &str| {
        values
            .iter()
            .any(|(plain, b64)| text.contains(plain.as_str()) || text.contains(b64.as_str()))
    };
    let mut stack = vec![chart.clone()];
    let mut holders = Vec::new();
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if holds(&std::fs::read_to_string(&p).unwrap()) {
                holders.push(p.strip_prefix(&chart).unwrap().display().to_string());
            }
        }
    }
    assert_eq!(
        holders,
        vec!["values-dev.yaml".to_string()],
        "files holding a dev secret value"
    );
    for r in rendered.iter().filter(|r| r.env != "dev") {
        let out = run(Command::new(&helm)
            .args(["template", "x"])
            .arg(&chart)
            .arg("-f")
            .arg(chart.join(format!("values-{}.yaml", r.env))));
        assert!(
            !holds(&out),
            "helm template -f values-{}.yaml holds a dev secret",
            r.env
        );
        // Without any values file (values.yaml alone) neither.
    }
    let bare = run(Command::new(&helm).args(["template", "x"]).arg(&chart));
    assert!(
        !holds(&bare),
        "helm template with values.yaml alone holds a dev secret"
    );
}

/// The chart created its own Namespace, which fails the way teams install charts
/// (`helm upgrade --install -n NS --create-namespace`: the namespace already exists and is not
/// the release's). It is off by default, `namespace.create: true` turns it on, and the Pod
/// Security labels it would carry are one `kubectl label` away (NOTES.txt and README say how).
#[test]
fn the_namespace_object_is_opt_in() {
    let helm = helm();
    let (loaded, rendered) = example("todo");
    let tmp = tempfile::tempdir().unwrap();
    let chart = tmp.path().join("todo");
    write_chart(&loaded, &rendered, &chart);
    for r in &rendered {
        let values = chart.join(format!("values-{}.yaml", r.env));
        let template = |extra: &[&str]| {
            parse_stream(&run(Command::new(&helm)
                .args(["template", "x"])
                .arg(&chart)
                .arg("-f")
                .arg(&values)
                .args(["--skip-tests", "--namespace", &r.namespace])
                .args(extra)))
        };
        let namespaces = |objs: &[Value]| {
            objs.iter()
                .filter(|o| o["kind"] == "Namespace")
                .cloned()
                .collect::<Vec<_>>()
        };
        let default = template(&[]);
        assert!(
            namespaces(&default).is_empty(),
            "{}: a Namespace by default",
            r.env
        );
        assert!(default.iter().all(
            |o| o["kind"] == "Namespace" || o["metadata"]["namespace"] == r.namespace.as_str()
        ));
        let created = namespaces(&template(&["--set", "namespace.create=true"]));
        assert_eq!(created.len(), 1, "{}", r.env);
        let labels = &created[0]["metadata"]["labels"];
        assert_eq!(labels["pod-security.kubernetes.io/enforce"], "restricted");
        // Without it, the labels are one command away.
        let notes = std::fs::read_to_string(chart.join("templates/NOTES.txt")).unwrap();
        let readme = std::fs::read_to_string(chart.join("README.md")).unwrap();
        for text in [&notes, &readme] {
            assert!(
                text.contains("kubectl label namespace")
                    && text.contains("pod-security.kubernetes.io/enforce=restricted"),
                "{text}"
            );
        }
        assert!(readme.contains("--create-namespace"), "{readme}");
    }
}

/// An app over several namespaces (examples/notes: `gateway`, `services` and its own): every
/// object lands in its group's namespace (`helm template` equals `berth render` for each
/// environment, above), each group's namespace is a value of its own in each environment's
/// values file, and overriding one moves exactly that group's objects.
#[test]
fn an_app_over_several_namespaces_charts_each_group_into_its_namespace() {
    let (loaded, rendered) = example("notes");
    let prod = rendered.iter().find(|r| r.env == "prod").unwrap();
    assert!(prod.namespaces.len() == 3, "{:?}", prod.namespaces);
    let tmp = tempfile::tempdir().unwrap();
    let chart = tmp.path().join("notes");
    write_chart(&loaded, &rendered, &chart);
    let values = std::fs::read_to_string(chart.join("values-prod.yaml")).unwrap()
        + &std::fs::read_to_string(chart.join("values.yaml")).unwrap();
    assert!(values.contains("notes-services"), "{values}");
    let out = run(Command::new(helm())
        .args(["template", "x"])
        .arg(&chart)
        .arg("-f")
        .arg(chart.join("values-prod.yaml"))
        .args([
            "--skip-tests",
            "--set",
            "namespace.create=true,groups.services.namespace=elsewhere",
        ]));
    let objects = parse_stream(&out);
    let want: Vec<(String, String, String)> = rendered_objects(prod)
        .iter()
        .map(|o| {
            let ns = if o["kind"] == "Namespace" {
                o["metadata"]["name"].as_str().unwrap()
            } else {
                o["metadata"]["namespace"].as_str().unwrap()
            };
            let ns = if ns == "notes-services" {
                "elsewhere"
            } else {
                ns
            };
            (
                o["kind"].as_str().unwrap().to_owned(),
                o["metadata"]["name"]
                    .as_str()
                    .unwrap()
                    .replace("notes-services", "elsewhere"),
                ns.to_owned(),
            )
        })
        .collect();
    let mut got: Vec<(String, String, String)> = objects
        .iter()
        .map(|o| {
            let ns = if o["kind"] == "Namespace" {
                o["metadata"]["name"].as_str().unwrap()
            } else {
                o["metadata"]["namespace"].as_str().unwrap()
            };
            (
                o["kind"].as_str().unwrap().to_owned(),
                o["metadata"]["name"].as_str().unwrap().to_owned(),
                ns.to_owned(),
            )
        })
        .collect();
    let mut want = want;
    got.sort();
    want.sort();
    assert_eq!(got, want);
    assert!(
        got.iter()
            .any(|(k, n, ns)| k == "Deployment" && n == "api" && ns == "elsewhere")
    );
    assert!(
        got.iter()
            .any(|(k, n, ns)| k == "Deployment" && n == "web" && ns == "notes-gateway")
    );
}
