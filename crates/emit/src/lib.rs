//! Rendered objects → files. Every format is produced from the same rendered objects, in
//! memory, and written in one atomic step ([`write_atomic`]).

mod argocd;
mod compose;
mod files;
mod helm;
mod jsonpatch;
mod kustomize;
mod manifests;
mod variants;
mod yaml;

pub use argocd::{ARGOCD_NAMESPACE, ArgoCdOptions, ArgoCdSource, argocd};
pub use compose::{compose, local_env};
pub use files::{FileSet, write_atomic};
pub use helm::{CHART_LABEL, TEST_IMAGE, helm, helm_with_graphs};
pub use kustomize::{SYNC_WAVES_COMPONENT, kustomize};
pub use manifests::{manifests, stream};
pub use yaml::to_yaml;
