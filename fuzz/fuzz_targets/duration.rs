//! Any text is a duration or an error; what parses prints back to the same duration.
#![no_main]

use authzlab::scenario::{format_duration, parse_duration, parse_window};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(duration) = parse_duration(text) {
        assert_eq!(parse_duration(&format_duration(duration)), Ok(duration));
    }
    let _ = parse_window(text);
});
