//! The SDK's token parser (inside every plugin, on tokens anyone can send): any text splits
//! into a JWS or JWE or is refused with a reason.
#![no_main]

use authzlab_validator_sdk::jose;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    for parsed in [jose::parse_jws(text).err(), jose::parse_jwe(text).err()] {
        if let Some(reason) = parsed {
            assert!(!reason.is_empty());
        }
    }
    if let Ok(bytes) = jose::decode(text, "part") {
        let _ = jose::parse_object(&bytes, "part");
    }
    let _ = jose::parse_object(text.as_bytes(), "part");
});
