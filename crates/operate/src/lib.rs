//! What the people who run a rendered app need: how much cluster it takes ([`capacity`]), what
//! may talk to what ([`graph`]), and (later modules) alerts, runbooks and environment diffs.
//!
//! Everything here reads the rendered objects (`berth_render::Rendered`), not the spec, so it
//! stays true to what is applied whatever the renderer decides; the resolved spec
//! (`berth_spec::App`) is read only for intent the objects cannot carry (what `uses` declared).
//! Pure: no IO.

pub mod capacity;
pub mod graph;
pub mod k8s;
pub mod monitoring;
pub mod runbook;
