//! Containers beside the service's own: a one-shot `init` command in the service's image,
//! named `init-containers`, and `sidecars` (native sidecars: init containers with
//! `restartPolicy: Always`). Every one is hardened like the main container by the renderer.

use crate::error::SpecError;
use crate::model::{Resources, Service};
use crate::quantity::ResourcePair;
use crate::resolve::{ImageRef, image_ref};
use crate::validate::{Ctx, is_dns_label, is_env_name};
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

/// Names berth gives containers of its own; a user's container may not take them.
pub const RESERVED_CONTAINER_NAMES: &[&str] = &["init", "config-sync"];

/// A named init container or sidecar.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtraContainer {
    /// Image, taken as written (never prefixed with `registry`): `busybox:1.36`,
    /// `envoyproxy/envoy:v1.31`, `ghcr.io/acme/tool@sha256:…` (required). Outside dev it
    /// needs a tag other than `latest`, or a digest.
    #[serde(default)]
    pub image: Option<String>,
    /// Command (replaces the image's entrypoint).
    #[serde(default)]
    pub command: Option<Vec<String>>,
    /// Arguments.
    #[serde(default)]
    pub args: Option<Vec<String>>,
    /// Plain environment variables, set on this container only.
    #[serde(default)]
    pub env: Option<IndexMap<String, Option<String>>>,
    /// CPU and memory as `request/limit` (default `50m/200m`, `64Mi/128Mi`).
    #[serde(default)]
    pub resources: Option<Resources>,
    /// Sidecars only: container ports by name (`admin: 9901`). They are not added to the
    /// service's Service and no NetworkPolicy opens them.
    #[serde(default)]
    pub ports: Option<IndexMap<String, u16>>,
    /// Paths of the service's `storage` and `writable` this container mounts too (it always
    /// gets `/tmp`).
    #[serde(default)]
    pub mounts: Option<Vec<String>>,
}

/// A resolved extra container.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedContainer {
    pub name: String,
    pub image: ImageRef,
    pub command: Option<Vec<String>>,
    pub args: Option<Vec<String>>,
    pub env: Vec<(String, String)>,
    pub cpu: ResourcePair,
    pub memory: ResourcePair,
    pub ports: Vec<(String, u16)>,
    /// Paths of the service's volumes it mounts.
    pub mounts: Vec<String>,
}

fn resources(r: &Option<Resources>) -> (ResourcePair, ResourcePair) {
    let r = r.clone().unwrap_or_default();
    (
        r.cpu
            .unwrap_or_else(|| ResourcePair::parse("50m/200m").expect("valid default")),
        r.memory
            .unwrap_or_else(|| ResourcePair::parse("64Mi/128Mi").expect("valid default")),
    )
}

pub(crate) fn resolve_all(
    map: &Option<IndexMap<String, ExtraContainer>>,
) -> Vec<ResolvedContainer> {
    map.iter()
        .flatten()
        .map(|(name, c)| {
            let (cpu, memory) = resources(&c.resources);
            ResolvedContainer {
                name: name.clone(),
                image: image_ref(c.image.as_deref().unwrap_or_default(), None, None),
                command: c.command.clone(),
                args: c.args.clone(),
                env: c
                    .env
                    .iter()
                    .flatten()
                    .filter_map(|(k, v)| Some((k.clone(), v.clone()?)))
                    .collect(),
                cpu,
                memory,
                ports: c
                    .ports
                    .iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), *v))
                    .collect(),
                mounts: c.mounts.clone().unwrap_or_default(),
            }
        })
        .collect()
}

/// Checks `init`, `init-containers` and `sidecars` of one service.
pub(crate) fn validate(
    ctx: &Ctx,
    name: &str,
    svc: &Service,
    dev: bool,
    errors: &mut Vec<SpecError>,
) {
    let err = |rest: &[&str], msg: String, help: Option<String>| {
        let mut p = vec!["services", name];
        p.extend_from_slice(rest);
        ctx.err(&p, msg, help)
    };
    let key_err = |rest: &[&str], msg: String, help: Option<String>| {
        let mut p = vec!["services", name];
        p.extend_from_slice(rest);
        ctx.key_at(&p, msg, help)
    };
    if let Some(init) = &svc.init
        && init.is_empty()
    {
        errors.push(err(
            &["init"],
            "`init` needs at least one word".into(),
            Some("e.g. `init: [/app/migrate, --once]`, or remove it".into()),
        ));
    }
    // Paths other containers may share.
    let mut shareable: Vec<String> = svc
        .storage
        .iter()
        .flatten()
        .map(|(p, _)| p.clone())
        .collect();
    if let Some(w) = &svc.writable {
        shareable.extend(w.entries().into_iter().map(|(p, _)| p.to_owned()));
    }
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for (field, map) in [
        ("init-containers", &svc.init_containers),
        ("sidecars", &svc.sidecars),
    ] {
        for (cname, c) in map.iter().flatten() {
            if !is_dns_label(cname) {
                errors.push(key_err(
                    &[field, cname],
                    format!("container name `{cname}` is not a DNS-1123 label"),
                    Some("use lowercase letters, digits and `-`, e.g. `wait-db`".into()),
                ));
            }
            if cname == name || RESERVED_CONTAINER_NAMES.contains(&cname.as_str()) {
                errors.push(key_err(
                    &[field, cname],
                    format!(
                        "the container name `{cname}` is taken (by the service's own containers)"
                    ),
                    Some("pick another name".into()),
                ));
            }
            if let Some((_, other)) = seen.iter().find(|(n, _)| n == cname) {
                errors.push(key_err(
                    &[field, cname],
                    format!("`{cname}` is also a container under `{other}`"),
                    Some("container names must be unique in a pod".into()),
                ));
            }
            seen.push((cname, field));
            match &c.image {
                None => errors.push(err(
                    &[field, cname],
                    "missing required key `image`".into(),
                    Some("e.g. `image: busybox:1.36`".into()),
                )),
                Some(image) if image.trim().is_empty() || image.contains(char::is_whitespace) => {
                    errors.push(err(
                        &[field, cname, "image"],
                        format!("`{image}` is not an image reference"),
                        None,
                    ))
                }
                Some(image) => {
                    let r = image_ref(image, None, None);
                    if !dev && r.digest.is_none() && r.tag.as_deref().is_none_or(|t| t == "latest")
                    {
                        errors.push(err(
                            &[field, cname, "image"],
                            format!(
                                "image `{image}` has no pinned tag (environment `{}` is not dev)",
                                ctx.env
                            ),
                            Some("pin a version tag or a digest, e.g. `busybox:1.36`".into()),
                        ));
                    }
                }
            }
            if field == "init-containers" && c.ports.is_some() {
                errors.push(err(
                    &[field, cname, "ports"],
                    "an init container runs to completion; it has no ports".into(),
                    Some("move it to `sidecars` if it keeps running beside the service".into()),
                ));
            }
            for (port_name, port) in c.ports.iter().flatten() {
                if !is_dns_label(port_name) || port_name.len() > 15 {
                    errors.push(key_err(
                        &[field, cname, "ports", port_name],
                        format!(
                            "port name `{port_name}` is not a DNS label of at most 15 characters"
                        ),
                        None,
                    ));
                }
                if *port == 0 {
                    errors.push(err(
                        &[field, cname, "ports", port_name],
                        "port must be between 1 and 65535".into(),
                        None,
                    ));
                }
            }
            for (key, _) in c.env.iter().flatten() {
                if !is_env_name(key) {
                    errors.push(key_err(
                        &[field, cname, "env", key],
                        format!("`{key}` is not a valid environment variable name"),
                        Some("use letters, digits and `_`, not starting with a digit".into()),
                    ));
                }
            }
            for (i, m) in c.mounts.iter().flatten().enumerate() {
                if !shareable.contains(m) {
                    errors.push(err(
                        &[field, cname, "mounts", &i.to_string()],
                        format!("`{m}` is not one of `{name}`'s `storage` or `writable` paths"),
                        Some(if shareable.is_empty() {
                            format!(
                                "declare it under `services.{name}.writable` (or `storage`) first"
                            )
                        } else {
                            crate::de::suggest(
                                m,
                                &shareable.iter().map(String::as_str).collect::<Vec<_>>(),
                            )
                        }),
                    ));
                }
            }
        }
    }
}
