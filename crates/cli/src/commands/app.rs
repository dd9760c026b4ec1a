//! Loading an app for the commands that take one, with errors mapped to exit codes.

use crate::failure::Failure;
use berth_spec::{LoadError, LoadOptions, Loaded, load_with};
use std::path::Path;

pub fn load_app(path: &Path) -> Result<Loaded, Failure> {
    load_app_with(path, &LoadOptions::default())
}

pub fn load_app_with(path: &Path, options: &LoadOptions) -> Result<Loaded, Failure> {
    load_with(path, options).map_err(|e| {
        if let LoadError::Invalid(errors) = &e
            && errors.errors.len() == 1
        {
            // One error reads best on its own, without the "has 1 error" wrapper.
            return Failure::bad_input(errors.errors[0].clone());
        }
        if e.is_bad_input() {
            Failure::bad_input(e)
        } else {
            Failure::failed(e)
        }
    })
}
