//! What a service keeps on disk: persistent volumes (`storage`, which makes it a StatefulSet),
//! how the StatefulSet behaves (`stateful`), sized scratch space (`writable`) and Secret keys
//! mounted as files (`secret-files`). Model, checks and resolution live together here.

use crate::error::SpecError;
use crate::model::{Environment, Service};
use crate::quantity::{Quantity, parse_scalar};
use crate::validate::{Ctx, is_dns_label};
use indexmap::IndexMap;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, de};
use std::borrow::Cow;
use std::fmt;

/// Size of a writable emptyDir when the list form (or a `null` size) gives none.
pub const DEFAULT_WRITABLE_SIZE: &str = "1Gi";

/// A storage size: a Kubernetes quantity of bytes greater than zero (`10Gi`, `500Mi`).
#[derive(Debug, Clone, PartialEq)]
pub struct Size(pub Quantity);

impl Size {
    pub fn parse(text: &str) -> Result<Size, String> {
        let q = Quantity::parse(text)?;
        if q.value < 1.0 {
            return Err(format!(
                "`{text}` is not a size in bytes (expected e.g. `10Gi` or `500Mi`)"
            ));
        }
        Ok(Size(q))
    }

    /// Whole mebibytes, rounded up (for summing into an ephemeral-storage limit).
    pub fn mebibytes(&self) -> u64 {
        (self.0.value / 1048576.0).ceil() as u64
    }
}

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parse_scalar(d, Size::parse)
    }
}

impl JsonSchema for Size {
    fn schema_name() -> Cow<'static, str> {
        "Size".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "a size in bytes as a Kubernetes quantity, e.g. `10Gi`, `500Mi`",
            "type": ["string", "integer"],
            "pattern": "^[0-9.]+(k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$"
        })
    }
}

/// One persistent volume: a size (`10Gi`) or the long form.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[schemars(untagged)]
pub enum Volume {
    /// The size of a `read-write-once` volume of the environment's storage class.
    Size(Size),
    Full(VolumeSpec),
}

/// A persistent volume, in full.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VolumeSpec {
    /// Requested size, e.g. `10Gi` (required).
    pub size: Size,
    /// StorageClass (default: the environment's `storage-class`, else the cluster default).
    #[serde(default)]
    pub class: Option<String>,
    /// Access mode (default `read-write-once`).
    #[serde(default)]
    pub access: Option<AccessMode>,
    /// Name of the volume claim template (default: from the path, `/var/lib/x` → `var-lib-x`).
    /// Its PersistentVolumeClaims are `NAME-SERVICE-0`, `NAME-SERVICE-1`…; set it to keep the
    /// claims of an existing StatefulSet.
    #[serde(default)]
    pub name: Option<String>,
}

impl<'de> Deserialize<'de> for Volume {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> de::Visitor<'de> for V {
            type Value = Volume;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a size such as `10Gi`, or `{ size, class, access }`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Volume, E> {
                Size::parse(v).map(Volume::Size).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Volume, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Volume, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Volume, A::Error> {
                VolumeSpec::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(Volume::Full)
            }
        }
        d.deserialize_any(V)
    }
}

/// How a persistent volume may be mounted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AccessMode {
    /// One node at a time (every block-storage class).
    #[default]
    ReadWriteOnce,
    /// One pod at a time.
    ReadWriteOncePod,
    /// Many nodes, read-only.
    ReadOnlyMany,
    /// Many nodes, read-write (NFS, CephFS, EFS…).
    ReadWriteMany,
}

impl AccessMode {
    /// The Kubernetes spelling.
    pub fn as_k8s(self) -> &'static str {
        match self {
            AccessMode::ReadWriteOnce => "ReadWriteOnce",
            AccessMode::ReadWriteOncePod => "ReadWriteOncePod",
            AccessMode::ReadOnlyMany => "ReadOnlyMany",
            AccessMode::ReadWriteMany => "ReadWriteMany",
        }
    }
    /// Mountable by one node (or pod) only: two pods on different nodes cannot share it, so a
    /// rollout must never start the new pod before the old one is gone.
    pub fn single_writer(self) -> bool {
        matches!(
            self,
            AccessMode::ReadWriteOnce | AccessMode::ReadWriteOncePod
        )
    }
}

/// How the StatefulSet of a service with `storage` behaves.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Stateful {
    /// `ordered-ready` (default: pods start one at a time, each after the previous is ready,
    /// and stop in reverse) or `parallel` (all at once; for members that find each other).
    #[serde(rename = "pod-management", default)]
    pub pod_management: Option<PodManagement>,
    /// What happens to the volume claims when the service is deleted or scaled down:
    /// `retain` (default: the data stays) or `delete`.
    #[serde(default)]
    pub retain: Option<Retain>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PodManagement {
    #[default]
    OrderedReady,
    Parallel,
}

impl PodManagement {
    pub fn as_k8s(self) -> &'static str {
        match self {
            PodManagement::OrderedReady => "OrderedReady",
            PodManagement::Parallel => "Parallel",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Retain {
    #[default]
    Retain,
    Delete,
}

impl Retain {
    pub fn as_k8s(self) -> &'static str {
        match self {
            Retain::Retain => "Retain",
            Retain::Delete => "Delete",
        }
    }
}

/// Writable paths: a list (1Gi each) or a map of path → size.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[schemars(untagged)]
pub enum Writable {
    /// Absolute paths, each an emptyDir of 1Gi.
    List(Vec<String>),
    /// Absolute path → size of its emptyDir (`null`: 1Gi).
    Sizes(IndexMap<String, Option<Size>>),
}

impl Writable {
    /// Every path with its size as written (None: the default).
    pub fn entries(&self) -> Vec<(&str, Option<&Size>)> {
        match self {
            Writable::List(paths) => paths.iter().map(|p| (p.as_str(), None)).collect(),
            Writable::Sizes(map) => map.iter().map(|(p, s)| (p.as_str(), s.as_ref())).collect(),
        }
    }
}

impl<'de> Deserialize<'de> for Writable {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> de::Visitor<'de> for V {
            type Value = Writable;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a list of paths such as `[/cache]`, or a map such as `{ /cache: 2Gi }`",
                )
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Writable, A::Error> {
                Vec::<String>::deserialize(de::value::SeqAccessDeserializer::new(seq))
                    .map(Writable::List)
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Writable, A::Error> {
                IndexMap::<String, Option<Size>>::deserialize(
                    de::value::MapAccessDeserializer::new(map),
                )
                .map(Writable::Sizes)
            }
        }
        d.deserialize_any(V)
    }
}

/// A persistent volume of a resolved service.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedVolume {
    /// Name of the volume claim template (and the pod volume).
    pub name: String,
    pub path: String,
    pub size: Quantity,
    /// The volume's class, else the environment's `storage-class`; None: the cluster default.
    pub class: Option<String>,
    pub access: AccessMode,
}

/// The StatefulSet settings of a service with storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatefulSettings {
    pub pod_management: PodManagement,
    pub retain: Retain,
}

/// A writable emptyDir.
#[derive(Debug, Clone, PartialEq)]
pub struct WritablePath {
    pub path: String,
    pub size: Quantity,
}

/// A Secret key mounted as a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretFile {
    pub path: String,
    pub key: String,
}

/// `/var/lib/x` → `var-lib-x`; `/` alone or odd characters → `data`-based names.
pub fn volume_name(path: &str) -> String {
    let cleaned: String = path
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let mut name = String::new();
    for part in cleaned.split('-').filter(|p| !p.is_empty()) {
        if !name.is_empty() {
            name.push('-');
        }
        name.push_str(part);
    }
    if name.is_empty() {
        return "data".into();
    }
    // Pod volume names are DNS labels; claim names `NAME-SERVICE-N` must stay short too.
    name.truncate(40);
    name.trim_end_matches('-').to_owned()
}

/// Paths a service mounts something at, to find two mounts at the same place.
fn normalize(path: &str) -> String {
    let p = path.trim_end_matches('/');
    if p.is_empty() { "/".into() } else { p.into() }
}

/// Checks `storage`, `stateful`, `writable` and `secret-files` of one service.
pub(crate) fn validate(ctx: &Ctx, name: &str, svc: &Service, errors: &mut Vec<SpecError>) {
    let err = |rest: &[&str], msg: String, help: Option<String>| {
        let mut p = vec!["services", name];
        p.extend_from_slice(rest);
        ctx.err(&p, msg, help)
    };
    // About a path that is a mapping key: at the key.
    let key_err = |rest: &[&str], msg: String, help: Option<String>| {
        let mut p = vec!["services", name];
        p.extend_from_slice(rest);
        ctx.key_at(&p, msg, help)
    };
    // Every mount point, with what puts it there, so two things never mount at one path.
    let mut mounts: Vec<(String, String)> = vec![("/tmp".into(), "the /tmp scratch space".into())];
    if let Some(m) = svc.config.as_ref().and_then(|c| c.mount.as_ref()) {
        mounts.push((normalize(m), "`config.mount`".into()));
    } else if svc.config.is_some() {
        mounts.push((crate::DEFAULT_CONFIG_MOUNT.into(), "`config.mount`".into()));
    }
    let mut claim: Vec<(String, String)> = Vec::new();
    let mut check_path = |field: &str, key: &str, path: &str, errors: &mut Vec<SpecError>| {
        let is_key = key == path;
        let err = |rest: &[&str], msg: String, help: Option<String>| {
            if is_key {
                key_err(rest, msg, help)
            } else {
                err(rest, msg, help)
            }
        };
        if !path.starts_with('/') {
            errors.push(err(
                &[field, key],
                format!("{field} path `{path}` must be absolute"),
                Some(format!("did you mean `/{path}`?")),
            ));
            return;
        }
        if normalize(path) == "/" {
            errors.push(err(
                &[field, key],
                format!("`{field}` cannot mount over `/`"),
                Some("name the directory the application writes, e.g. `/data`".into()),
            ));
            return;
        }
        let norm = normalize(path);
        if let Some((_, what)) = mounts.iter().find(|(p, _)| *p == norm) {
            errors.push(err(
                &[field, key],
                format!("`{path}` is already mounted by {what}"),
                Some("mount each path once".into()),
            ));
            return;
        }
        mounts.push((norm, format!("`{field}`")));
    };

    for (path, volume) in svc.storage.iter().flatten() {
        check_path("storage", path, path, errors);
        let (volume_name_set, class) = match volume {
            Volume::Size(_) => (None, None),
            Volume::Full(v) => (v.name.as_deref(), v.class.as_deref()),
        };
        let vname = volume_name_set
            .map(str::to_owned)
            .unwrap_or_else(|| volume_name(path));
        if let Some(n) = volume_name_set
            && !(is_dns_label(n) && n.len() <= 40)
        {
            errors.push(err(
                &["storage", path, "name"],
                format!("volume name `{n}` is not a DNS-1123 label of at most 40 characters"),
                Some("use lowercase letters, digits and `-`, e.g. `data`".into()),
            ));
        }
        if let Some(c) = class
            && !is_dns_subdomain(c)
        {
            errors.push(err(
                &["storage", path, "class"],
                format!("storage class `{c}` is not a valid object name"),
                Some(
                    "use the name of a StorageClass, e.g. `gp3` (`kubectl get storageclass`)"
                        .into(),
                ),
            ));
        }
        if let Some((_, other)) = claim.iter().find(|(n, _)| *n == vname) {
            errors.push(key_err(
                &["storage", path],
                format!("`{path}` and `{other}` both get the volume name `{vname}`"),
                Some("give one of them `name:` in the long form `{ size, name }`".into()),
            ));
        }
        claim.push((vname, path.clone()));
    }
    if svc.stateful.is_some() && svc.storage.as_ref().is_none_or(|s| s.is_empty()) {
        errors.push(err(
            &["stateful"],
            "`stateful` only applies to a service with `storage`".into(),
            Some("add `storage: { /data: 10Gi }`, or remove `stateful`".into()),
        ));
    }

    match &svc.writable {
        Some(Writable::List(paths)) => {
            for (i, path) in paths.iter().enumerate() {
                check_path("writable", &i.to_string(), path, errors);
            }
        }
        Some(Writable::Sizes(map)) => {
            for path in map.keys() {
                check_path("writable", path, path, errors);
            }
        }
        None => {}
    }

    for (path, key) in svc.secret_files.iter().flatten() {
        if path.ends_with('/') {
            errors.push(key_err(
                &["secret-files", path],
                format!("`{path}` is a directory; a secret file needs a file name"),
                Some(format!("e.g. `{path}{}`", key.to_ascii_lowercase())),
            ));
            continue;
        }
        check_path("secret-files", path, path, errors);
        if !crate::validate::is_env_name(key) {
            errors.push(key_err(
                &["secret-files", path],
                format!("`{key}` is not a valid secret name"),
                Some("secret names are environment variable names: letters, digits and `_`, not starting with a digit".into()),
            ));
        }
        if svc.env.as_ref().is_some_and(|e| e.contains_key(key)) {
            errors.push(key_err(
                &["secret-files", path],
                format!("`{key}` is also a plain value in `env`"),
                Some("keep it only as a secret; its value must not live in the spec".into()),
            ));
        }
    }
}

/// `my-class.example` and other object names (DNS-1123 subdomains).
pub(crate) fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_dns_label)
}

/// Checks the environment's `storage-class`.
pub(crate) fn validate_env(ctx: &Ctx, env: &Environment, errors: &mut Vec<SpecError>) {
    if let Some(c) = &env.storage_class
        && !is_dns_subdomain(c)
    {
        errors.push(ctx.env_err(
            "storage-class",
            format!("storage class `{c}` is not a valid object name"),
            Some("use the name of a StorageClass, e.g. `gp3` (`kubectl get storageclass`)".into()),
        ));
    }
}

/// The resolved storage, StatefulSet settings, writable paths and secret files of a service.
pub(crate) struct Resolved {
    pub storage: Vec<ResolvedVolume>,
    pub stateful: Option<StatefulSettings>,
    pub writable: Vec<WritablePath>,
    pub secret_files: Vec<SecretFile>,
}

pub(crate) fn resolve(svc: &Service, env: &Environment) -> Resolved {
    let storage: Vec<ResolvedVolume> = svc
        .storage
        .iter()
        .flatten()
        .map(|(path, v)| match v {
            Volume::Size(size) => ResolvedVolume {
                name: volume_name(path),
                path: path.clone(),
                size: size.0.clone(),
                class: env.storage_class.clone(),
                access: AccessMode::default(),
            },
            Volume::Full(v) => ResolvedVolume {
                name: v.name.clone().unwrap_or_else(|| volume_name(path)),
                path: path.clone(),
                size: v.size.0.clone(),
                class: v.class.clone().or_else(|| env.storage_class.clone()),
                access: v.access.unwrap_or_default(),
            },
        })
        .collect();
    let stateful = (!storage.is_empty()).then(|| {
        let s = svc.stateful.clone().unwrap_or_default();
        StatefulSettings {
            pod_management: s.pod_management.unwrap_or_default(),
            retain: s.retain.unwrap_or_default(),
        }
    });
    let default_size = Quantity::parse(DEFAULT_WRITABLE_SIZE).expect("valid default");
    let writable = svc
        .writable
        .as_ref()
        .map(|w| {
            w.entries()
                .into_iter()
                .map(|(path, size)| WritablePath {
                    path: path.to_owned(),
                    size: size.map_or_else(|| default_size.clone(), |s| s.0.clone()),
                })
                .collect()
        })
        .unwrap_or_default();
    let secret_files = svc
        .secret_files
        .iter()
        .flatten()
        .map(|(path, key)| SecretFile {
            path: path.clone(),
            key: key.clone(),
        })
        .collect();
    Resolved {
        storage,
        stateful,
        writable,
        secret_files,
    }
}

impl Service {
    /// Every key of the service's Secret: its `secrets` (environment variables), then the keys
    /// only `secret-files` reads.
    pub fn secret_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.secrets.clone().unwrap_or_default();
        for key in self.secret_files.iter().flatten().map(|(_, k)| k) {
            if !keys.contains(key) {
                keys.push(key.clone());
            }
        }
        keys
    }
}
