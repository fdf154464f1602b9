//! Any text is a scenario or an error that names a line and column from 1.
#![no_main]

use std::path::Path;

use authzlab::scenario::{Scenario, ScenarioError};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Err(ScenarioError::Invalid { line, column, .. }) = Scenario::parse(text, Path::new("f.toml")) {
        assert!(line >= 1 && column >= 1);
    }
});
