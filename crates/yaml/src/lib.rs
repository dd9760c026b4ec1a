//! YAML → trees of [`Node`]s that remember where each value came from (line and column),
//! so every later error can point at the user's file. Budgets refuse alias bombs, deep nesting
//! and huge inputs before they hang the process or exhaust memory.
//!
//! Scalars resolve with the YAML 1.2 core schema (`true`/`false`, `null`/`~`, ints, floats);
//! quoted scalars are always strings.

mod node;
mod parse;

pub use node::{Key, Node, Pos, Value};
pub use parse::{Document, Limits, YamlError, parse_stream};
