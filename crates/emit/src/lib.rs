//! Rendered objects → files. Every format is produced from the same rendered objects, in
//! memory, and written in one atomic step ([`write_atomic`]).

mod files;
mod manifests;
mod yaml;

pub use files::{FileSet, write_atomic};
pub use manifests::{manifests, stream};
pub use yaml::to_yaml;
