//! `berth import`: a Docker Compose project, resolved as `docker compose config` resolves it
//! ([`compose`]), mapped to a berth.yaml written for people plus a report of everything that
//! changed or was dropped ([`mapping`]). No IO beyond reading the project's files through
//! [`compose::Files`].

pub mod catalogue;
pub mod compose;
pub mod features;
pub mod mapping;
pub mod report;
pub mod yamlout;

pub use features::Features;
pub use mapping::{FileSource, Imported, OutFile, import, scaffold};
pub use report::{Item, Kind, Report};
