//! Any bytes are a vectors file or a refusal with a reason.
#![no_main]

use authzlab_host::vectors::Vectors;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Err(error) = Vectors::parse(bytes, "f.json") {
        assert!(!error.to_string().is_empty());
    }
});
