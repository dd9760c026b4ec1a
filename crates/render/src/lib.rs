//! Turns a resolved berth app (one environment) into Kubernetes objects.
//!
//! Everything is built from k8s-openapi's typed structs and only then serialized, so a field
//! that does not exist cannot be emitted. The output is deterministic and sorted in install order
//! (the kind table, [`berth_kinds`]).

// One module per kind; every workload kind builds its pod with [`pod::PodBuilder`].
pub mod config_map;
pub mod dapr;
pub mod data;
pub mod deployment;
mod exposure;
pub mod helm_test;
mod hpa;
mod ingress;
pub mod kafka;
mod labels;
mod namespace;
mod network_policy;
pub mod origin;
mod pdb;
pub mod pod;
pub mod redis;
pub mod secrets;
mod service;
mod service_account;
pub mod statefulset;

use berth_spec::App;
use serde_json::Value;

/// One rendered Kubernetes object.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    /// None for cluster-scoped objects (Namespace).
    pub namespace: Option<String>,
    /// The whole object, as it would be applied.
    pub body: Value,
}

impl Object {
    fn from_typed<T: k8s_openapi::Resource + serde::Serialize>(obj: &T) -> Object {
        let body = serde_json::to_value(obj).expect("k8s-openapi objects serialize");
        let meta = &body["metadata"];
        Object {
            api_version: T::API_VERSION.to_owned(),
            kind: T::KIND.to_owned(),
            name: meta["name"].as_str().unwrap_or_default().to_owned(),
            namespace: meta["namespace"].as_str().map(str::to_owned),
            body,
        }
    }

    /// `deployment-backend` — the object's file stem in an output directory.
    pub fn file_stem(&self) -> String {
        format!("{}-{}", self.kind.to_ascii_lowercase(), self.name)
    }
}

/// Something the user should know about, that is not an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The spec path it is about, e.g. `services.notifications`.
    pub path: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub env: String,
    /// The environment's namespace.
    pub namespace: String,
    /// Every namespace it deploys into (its own first, then the namespace groups').
    pub namespaces: Vec<berth_spec::NamespaceGroup>,
    /// In apply order.
    pub objects: Vec<Object>,
    pub warnings: Vec<Warning>,
}

/// Renders one environment (without recording origins: [`render_traced`] does).
pub fn render(app: &App) -> Rendered {
    origin::untraced(|| render_traced(app).0)
}

/// [`render`], with the origin of every field of every object ([`origin`]).
pub fn render_traced(app: &App) -> (Rendered, origin::Provenance) {
    use origin::{ObjectOrigins, Origin, docs, spec_path};
    let mut t = origin::Tracer::default();
    let rule =
        |what: &str, doc: &'static str, from: Vec<origin::SpecPath>| Origin::rule(what, doc, from);
    let mut objects = Vec::new();
    let mut warnings: Vec<Warning> = app
        .warnings
        .iter()
        .map(|w| Warning {
            path: w.path.clone(),
            message: w.message.clone(),
        })
        .collect();
    objects.extend(namespace::namespaces(app).iter().map(Object::from_typed));
    t.took(
        &objects,
        rule(
            "the environment's namespaces, Pod Security `restricted`",
            docs::RENDERS,
            vec![
                spec_path(&["environments", &app.env, "namespace"]),
                spec_path(&["environments", &app.env, "namespaces"]),
            ],
        ),
    );
    objects.extend(
        network_policy::namespace_policies(app)
            .iter()
            .map(Object::from_typed),
    );
    t.took(
        &objects,
        rule(
            "default-deny and DNS policies of each namespace",
            docs::RENDERS,
            vec![],
        ),
    );
    for dep in &app.dependencies {
        if dep.mode == berth_spec::dependency::DependencyMode::External {
            let d = |rest: &[&str]| {
                let mut p = spec_path(&["dependencies", dep.name.as_str()]);
                p.extend(rest.iter().map(|r| (*r).to_owned()));
                p
            };
            let port = || Origin::Spec {
                paths: vec![d(&["port"])],
                otherwise: Some(Box::new(rule(
                    "the dependency type's default port",
                    docs::DEPENDENCIES,
                    vec![d(&["type"])],
                ))),
            };
            // A host name: an ExternalName Service; an IP: a selector-less Service and the
            // EndpointSlice holding the address.
            for obj in service::external_objects(app, dep) {
                let slice = obj.kind == "EndpointSlice";
                let external_name = obj.body["spec"]["type"] == "ExternalName";
                objects.push(obj);
                let mut o = ObjectOrigins::default();
                o.set("/metadata/name", Origin::spec(d(&[])))
                    .set("/spec/ports/0/port", port())
                    .set("/spec/ports/0/name", Origin::spec(d(&["type"])));
                let what = if slice {
                    o.set("/endpoints/0/addresses/0", Origin::spec(d(&["host"])))
                        .set("/addressType", Origin::spec(d(&["host"])))
                        .set("/ports/0/port", port())
                        .set("/ports/0/name", Origin::spec(d(&["type"])));
                    "the address of an external dependency at an IP, as an EndpointSlice"
                } else if external_name {
                    o.set("/spec/externalName", Origin::spec(d(&["host"])));
                    "an external dependency as an ExternalName Service"
                } else {
                    o.set("/spec/ports/0/targetPort", port());
                    "an external dependency at an IP as a Service without selector"
                };
                t.took_one(&objects, o, rule(what, docs::DEPENDENCIES, vec![d(&[])]));
            }
        }
    }
    objects.extend(dapr::objects(app));
    t.took(
        &objects,
        rule(
            "Dapr Components, Configuration and Subscriptions of the services that use Dapr",
            docs::DAPR,
            vec![spec_path(&["dapr"])],
        ),
    );
    objects.extend(data::objects(app, &mut warnings));
    t.took(
        &objects,
        rule(
            "the data tier: in-cluster dependencies, poolers, backups, migrations",
            docs::DEPENDENCIES,
            vec![spec_path(&["dependencies"])],
        ),
    );
    for svc in &app.services {
        let from = || vec![spec_path(&["services", svc.name.as_str()])];
        let meta = |named: bool| {
            let mut o = ObjectOrigins::default();
            origin::service_meta(&mut o, app, svc, named);
            o
        };
        let config = config_map::config_maps(app, svc);
        for c in &config.objects {
            objects.push(Object::from_typed(c));
            let mut o = meta(false);
            config_map::trace(&mut o, svc, c);
            t.took_one(
                &objects,
                o,
                rule("the service's ConfigMaps", docs::RENDERS, from()),
            );
        }
        objects.extend(secrets::object(app, svc));
        t.took(
            &objects,
            rule(
                "the service's Secret, delivered by the environment's `secrets.mode`",
                docs::SECRETS,
                vec![
                    spec_path(&["services", svc.name.as_str(), "secrets"]),
                    spec_path(&["environments", &app.env, "secrets"]),
                ],
            ),
        );
        let mut o = meta(true);
        objects.push(Object::from_typed(&service_account::service_account(
            app, svc, &mut o,
        )));
        t.took_one(
            &objects,
            o,
            rule(
                "the service's ServiceAccount, without a token",
                docs::RENDERS,
                from(),
            ),
        );
        let mut so = meta(true);
        let service = service::service(app, svc, &mut so);
        let mut o = meta(true);
        if svc.is_stateful() {
            objects.push(Object::from_typed(&statefulset::service_stateful_set(
                app, svc, &config, &mut o,
            )));
            t.took_one(
                &objects,
                o,
                rule(
                    "a service with storage runs as a StatefulSet",
                    docs::STORAGE,
                    from(),
                ),
            );
            objects.push(Object::from_typed(&statefulset::service_headless(
                app,
                svc,
                service.as_ref(),
            )));
            t.took_one(
                &objects,
                meta(false),
                rule(
                    "the StatefulSet's headless Service, on the ports of its Service",
                    docs::STORAGE,
                    from(),
                ),
            );
        } else {
            objects.push(Object::from_typed(&deployment::deployment(
                app, svc, &config, &mut o,
            )));
            t.took_one(
                &objects,
                o,
                rule("the service's Deployment", docs::RENDERS, from()),
            );
        }
        if let Some(s) = service {
            objects.push(Object::from_typed(&s));
            t.took_one(
                &objects,
                so,
                rule(
                    "the service's ClusterIP Service, one port per declared port",
                    docs::RENDERS,
                    from(),
                ),
            );
        }
        if let Some(s) = exposure::external_service(app, svc) {
            objects.push(Object::from_typed(&s));
        }
        if let Some(c) = exposure::headers_config_map(app, svc) {
            objects.push(Object::from_typed(&c));
        }
        t.took(
            &objects,
            rule(
                "the service's exposure (`expose.type`, `security-headers`)",
                docs::EXPOSURE,
                vec![spec_path(&["services", svc.name.as_str(), "expose"])],
            ),
        );
        let mut o = meta(true);
        objects.push(Object::from_typed(&network_policy::service_policy(
            app, svc, &mut o,
        )));
        t.took_one(
            &objects,
            o,
            rule(
                "the service's NetworkPolicy: ingress from what uses it, egress to what it uses",
                docs::RENDERS,
                vec![spec_path(&["services", svc.name.as_str(), "uses"])],
            ),
        );
        let mut o = meta(true);
        if let Some(i) = ingress::ingress(app, svc, &mut o) {
            objects.push(Object::from_typed(&i));
            t.took_one(
                &objects,
                o,
                rule(
                    "the service's Ingress (`expose`)",
                    docs::EXPOSURE,
                    vec![spec_path(&["services", svc.name.as_str(), "expose"])],
                ),
            );
        }
        let mut o = meta(true);
        match pdb::pdb(app, svc, &mut o) {
            Some(p) => {
                objects.push(Object::from_typed(&p));
                t.took_one(&objects, o, rule("a PodDisruptionBudget for a service with 2 or more replicas", docs::RENDERS, from()));
            }
            // A single replica is the point of a dev environment; elsewhere it is a risk.
            None if app.tier == berth_spec::Tier::Dev => {}
            None => warnings.push(Warning {
                path: format!("services.{}", svc.name),
                message: format!(
                    "`{}` runs a single replica in {}: no PodDisruptionBudget, and a node drain takes it down",
                    svc.name, app.env
                ),
            }),
        }
        let mut o = meta(true);
        if let Some(h) = hpa::hpa(app, svc, &mut o) {
            objects.push(Object::from_typed(&h));
            t.took_one(
                &objects,
                o,
                rule(
                    "a HorizontalPodAutoscaler for a service that scales (`scale.max` above `min`)",
                    docs::RENDERS,
                    vec![spec_path(&["services", svc.name.as_str(), "scale"])],
                ),
            );
        }
        if svc.ready.is_none() && svc.live.is_none() {
            warnings.push(Warning {
                path: format!("services.{}.health", svc.name),
                message: format!(
                    "`{}` has no health checks: Kubernetes cannot tell when it is ready or stuck",
                    svc.name
                ),
            });
        }
    }
    // Anything pushed after the last record: claimed by nobody, which the walk test refuses.
    t.took(&objects, rule(origin::UNCLAIMED, docs::RENDERS, vec![]));
    sort(&mut objects);
    (
        Rendered {
            env: app.env.clone(),
            namespace: app.namespace.clone(),
            namespaces: app.namespaces.clone(),
            objects,
            warnings,
        },
        t.table,
    )
}

/// Sorts objects in install order (the kind table, [`berth_kinds`]); within a kind by
/// namespace and name.
pub fn sort(objects: &mut [Object]) {
    objects.sort_by(|a, b| {
        berth_kinds::install_key(&a.kind, a.namespace.as_deref(), &a.name).cmp(
            &berth_kinds::install_key(&b.kind, b.namespace.as_deref(), &b.name),
        )
    });
}
