//! Any bytes are a component's outline that fits the validator world or a reason why not:
//! what the host reads before it compiles anything.
#![no_main]

use authzlab_host::component_shape::misfit;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Some(reason) = misfit(bytes) {
        assert!(!reason.is_empty());
    }
});
