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

/// Renders one environment.
pub fn render(app: &App) -> Rendered {
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
    objects.extend(
        network_policy::namespace_policies(app)
            .iter()
            .map(Object::from_typed),
    );
    for dep in &app.dependencies {
        if dep.mode == berth_spec::dependency::DependencyMode::External {
            objects.push(Object::from_typed(&service::external_service(app, dep)));
        }
    }
    objects.extend(dapr::objects(app));
    objects.extend(data::objects(app, &mut warnings));
    for svc in &app.services {
        let config = config_map::config_maps(app, svc);
        objects.extend(config.objects.iter().map(Object::from_typed));
        objects.extend(secrets::object(app, svc));
        objects.push(Object::from_typed(&service_account::service_account(
            app, svc,
        )));
        let service = service::service(app, svc);
        if svc.is_stateful() {
            objects.push(Object::from_typed(&statefulset::service_stateful_set(
                app, svc, &config,
            )));
            objects.push(Object::from_typed(&statefulset::service_headless(
                app,
                svc,
                service.as_ref(),
            )));
        } else {
            objects.push(Object::from_typed(&deployment::deployment(
                app, svc, &config,
            )));
        }
        if let Some(s) = service {
            objects.push(Object::from_typed(&s));
        }
        if let Some(s) = exposure::external_service(app, svc) {
            objects.push(Object::from_typed(&s));
        }
        if let Some(c) = exposure::headers_config_map(app, svc) {
            objects.push(Object::from_typed(&c));
        }
        objects.push(Object::from_typed(&network_policy::service_policy(
            app, svc,
        )));
        if let Some(i) = ingress::ingress(app, svc) {
            objects.push(Object::from_typed(&i));
        }
        match pdb::pdb(app, svc) {
            Some(p) => objects.push(Object::from_typed(&p)),
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
        if let Some(h) = hpa::hpa(app, svc) {
            objects.push(Object::from_typed(&h));
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
    sort(&mut objects);
    Rendered {
        env: app.env.clone(),
        namespace: app.namespace.clone(),
        namespaces: app.namespaces.clone(),
        objects,
        warnings,
    }
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
