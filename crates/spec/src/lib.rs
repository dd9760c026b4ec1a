//! The berth.yaml model.
//!
//! Loading goes: text → position-carrying YAML nodes (`berth-yaml`) → typed [`Spec`] (through a
//! deserializer that tracks the spec path and position of every value) → per environment, the
//! overrides deep-merged onto the base → validation → a fully resolved [`App`] per environment
//! that the renderer turns into Kubernetes objects without any further decisions about input.

// Errors carry their source snippet for display; they are built once per failure, not on a hot path.
#![allow(clippy::result_large_err)]

mod connect;
mod containers;
pub mod dapr;
mod de;
pub mod dependency;
mod error;
mod expose;
mod images;
mod load;
mod merge;
mod metrics;
mod model;
pub mod observe;
mod placement;
mod podmeta;
mod ports;
mod probes;
pub mod quantity;
mod resolve;
mod secrets;
mod storage;
pub mod sync;
mod validate;

pub use connect::{dependency_vars, resolved_dependency_vars};
pub use containers::{ExtraContainer, RESERVED_CONTAINER_NAMES, ResolvedContainer};
pub use error::{SpecError, SpecErrors};
pub use expose::{DEFAULT_HSTS_SECONDS, Exposure, IngressControls, ResolvedCors};
pub use images::{OFFICIAL_IMAGES, resolve_image};
pub use load::{
    Layer, LoadError, Loaded, Located, SPEC_FILE, find_spec, load, load_env_with, load_str,
    load_str_with, load_with,
};
pub use metrics::{CustomMetric, MetricSource, MetricTarget};
pub use model::*;
pub use placement::{Adopt, NamespaceGroup, group_namespace, service_host};
pub use podmeta::PodMeta;
pub use ports::{DEFAULT_PORT_NAME, ResolvedPort, is_port_name};
pub use probes::{ProbeAction, ResolvedProbe};
pub use resolve::*;
pub use secrets::{
    DEFAULT_REFRESH, ExternalSecrets, LoadOptions, PlainSecrets, SealedSecrets, SecretDelivery,
    SecretValue, is_sealed_value, parse_dotenv,
};
pub use storage::{
    AccessMode, DEFAULT_WRITABLE_SIZE, PodManagement, ResolvedVolume, Retain, SecretFile, Size,
    Stateful, StatefulSettings, Volume, VolumeSpec, Writable, WritablePath, volume_name,
};

/// The JSON Schema of berth.yaml, generated from the same types the loader decodes into.
pub fn json_schema() -> serde_json::Value {
    let schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<Spec>();
    let mut value = serde_json::to_value(schema).expect("schema serializes");
    if let Some(obj) = value.as_object_mut() {
        obj.insert(
            "$id".into(),
            "https://berth.dev/schema/berth.schema.json".into(),
        );
    }
    value
}
