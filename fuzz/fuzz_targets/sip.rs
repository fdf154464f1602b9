//! Any bytes on a CallManager SIP port are a REGISTER, an OPTIONS ping or a reason; a parsed
//! REGISTER can always be answered, and the answer parses. Device configuration files and
//! edge paths from anywhere are read or refused.
#![no_main]

use authzlab::proto::sip::{self, Answer, Incoming};
use authzlab::proto::{edge, tftp};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(Incoming::Register(register)) = sip::incoming(bytes) {
        assert!(Answer::parse(&Answer::Forbidden.to_bytes(&register.via)).is_ok());
    }
    let _ = Answer::parse(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = tftp::DeviceConfig::from_xml(text);
        let _ = edge::target(text);
    }
});
