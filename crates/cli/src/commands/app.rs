//! Loading an app for the commands that take one, with errors mapped to exit codes.

use crate::failure::Failure;
use berth_spec::{Loaded, load};
use std::path::Path;

pub fn load_app(path: &Path) -> Result<Loaded, Failure> {
    load(path).map_err(|e| {
        if e.is_bad_input() {
            Failure::bad_input(e)
        } else {
            Failure::failed(e)
        }
    })
}
