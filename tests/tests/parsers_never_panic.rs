//! Every parser a user's input reaches returns a value or an error for any input, and never
//! panics: durations, scenario files, vectors files, the SDK's token parser (which runs
//! inside every plugin, on tokens anyone can send), certificate names in scenario steps,
//! X.509 certificates as nodes receive them over the network, SIP messages on CallManager's
//! ports, device configuration files, edge paths and components' outlines.
//!
//! How: proptest, with a fixed number of cases, a fixed seed and no persistence, so a CI
//! run is bounded (about 1.4 million cases, ~15 s on 2 cores) and reproducible; it shrinks
//! any failure to a small input. These are the
//! in-CI counterpart of the coverage-guided `cargo fuzz` targets in `fuzz/` (README,
//! "Fuzzing"), which run the same properties for as long as one likes. Every crash either
//! finds becomes a named test at the bottom of this file.

mod common;

use std::path::Path;

use authzlab::certs::sync::{CertificateSet, WireCertificate};
use authzlab::certs::{Certificate, CertificateName, Identity};
use authzlab::proto::edge;
use authzlab::proto::sip::{self, Register};
use authzlab::proto::tftp::{self, DeviceConfig};
use authzlab::scenario::{format_duration, parse_duration, Scenario, ScenarioError};
use authzlab_host::vectors::Vectors;
use authzlab_validator_sdk::jose;
use proptest::prelude::*;

/// A fixed seed: CI explores the same inputs on every run, so a result never flickers;
/// `fuzz/` is where new inputs are searched for.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x00a7_21ab),
        ..ProptestConfig::default()
    }
}

fn shipped(name: &str) -> String {
    std::fs::read_to_string(common::repo().join(name)).expect("a shipped file")
}

/// Applies `edits` (position, byte, kind) to `original`: delete, insert or overwrite a byte.
fn mangle(original: &str, edits: &[(usize, u8, u8)]) -> Vec<u8> {
    mangle_bytes(original.as_bytes(), edits)
}

fn mangle_bytes(original: &[u8], edits: &[(usize, u8, u8)]) -> Vec<u8> {
    let mut bytes = original.to_vec();
    for &(at, byte, kind) in edits {
        if bytes.is_empty() {
            bytes.push(byte);
            continue;
        }
        let at = at % bytes.len();
        match kind % 3 {
            0 => {
                bytes.remove(at);
            }
            1 => bytes.insert(at, byte),
            _ => bytes[at] = byte,
        }
    }
    bytes
}

fn assert_located(result: Result<Scenario, ScenarioError>) {
    if let Err(ScenarioError::Invalid { line, column, field, message, .. }) = &result {
        assert!(*line >= 1 && *column >= 1, "{field}: {message}");
        assert!(!message.is_empty());
    }
}

proptest! {
    #![proptest_config(config(200_000))]

    #[test]
    fn any_text_is_a_duration_or_an_error(text in any::<String>()) {
        let _ = parse_duration(&text);
    }

    /// Text shaped like durations, with the characters that broke the parser before
    /// (non-ASCII after a number).
    #[test]
    fn duration_shaped_text_is_a_duration_or_an_error(
        text in "[0-9]{0,22}(ms|s|m|h|d|é|٣|\u{1F600}| |\\.|)[0-9]{0,3}(ms|s|m|h|d|é|)",
    ) {
        if let Ok(duration) = parse_duration(&text) {
            // What parses, prints back to a text that parses to the same duration.
            prop_assert_eq!(parse_duration(&format_duration(duration)), Ok(duration));
        }
    }

    #[test]
    fn any_text_is_a_scenario_or_a_located_error(text in any::<String>()) {
        assert_located(Scenario::parse(&text, Path::new("x.toml")));
    }

    #[test]
    fn vectors_files_of_any_bytes_are_refused_cleanly(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = Vectors::parse(&bytes, "v.json");
    }

    #[test]
    fn token_shaped_text_parses_or_is_refused(
        text in "[A-Za-z0-9_=+/-]{0,60}(\\.[A-Za-z0-9_=+/-]{0,60}){0,6}",
    ) {
        let _ = jose::parse_jws(&text);
        let _ = jose::parse_jwe(&text);
    }

    #[test]
    fn any_text_as_a_token_parses_or_is_refused(text in any::<String>()) {
        let _ = jose::parse_jws(&text);
        let _ = jose::parse_jwe(&text);
        if let Ok(bytes) = jose::decode(&text, "part") {
            let _ = jose::parse_object(&bytes, "part");
        }
    }

    #[test]
    fn any_bytes_as_a_json_part_parse_or_are_refused(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = jose::parse_object(&bytes, "part");
    }
}

proptest! {
    #![proptest_config(config(20_000))]

    /// The SDK's reading of an access token's payload without the JSON parser: whatever it
    /// finds, a JSON parser finds too (one member, `private`, that text), for payloads near
    /// the minted shape with bytes deleted, inserted or overwritten. (Inside a component the
    /// check runs sixteen bytes at a time; `tests/tests/conformance.rs` holds that one to
    /// the parser's verdicts.)
    #[test]
    fn the_payload_read_without_a_parser_is_what_a_parser_reads(
        text in "[A-Za-z0-9_.-]{0,40}",
        edits in prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 0..3),
    ) {
        let payload = mangle(&format!(r#"{{"private":"{text}"}}"#), &edits);
        if let Some(found) = jose::sole_compact_member(&payload, "private") {
            let parsed: serde_json::Value = serde_json::from_slice(&payload).expect("JSON");
            let object = parsed.as_object().expect("an object");
            prop_assert_eq!(object.len(), 1);
            prop_assert_eq!(object["private"].as_str(), Some(found));
            let ours = jose::parse_object(&payload, "payload").expect("the SDK's parser reads it");
            prop_assert_eq!(jose::string(&ours, "private", "payload").ok(), Some(found));
        }
    }
}

proptest! {
    #![proptest_config(config(4_000))]

    /// Edits of the shipped scenario: every one parses or gives a located error.
    #[test]
    fn edited_scenarios_parse_or_give_a_located_error(
        edits in prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..6),
    ) {
        let original = shipped("scenarios/signing-key-regenerated.toml");
        let bytes = mangle(&original, &edits);
        if let Ok(text) = std::str::from_utf8(&bytes) {
            assert_located(Scenario::parse(text, Path::new("x.toml")));
        }
    }

    /// Edits of a real component: its outline (read before anything is compiled) fits or
    /// gives a reason, never a panic, and never reads past the input.
    #[test]
    fn edited_components_fit_or_give_a_reason(
        edits in prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..6),
    ) {
        let bytes = mangle_bytes(authzlab_plugins::UNITY_CONNECTION.bytes, &edits);
        if let Some(reason) = authzlab_host::component_shape::misfit(&bytes) {
            prop_assert!(!reason.is_empty());
        }
    }

    /// Edits of a plugin manifest: every one loads or is refused with the file, line and
    /// column, never a panic (a key's offset is found in text that may be any shape).
    #[test]
    fn edited_manifests_load_or_are_refused_with_a_place(
        edits in prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..6),
    ) {
        let original = format!(
            "# pinned by the author\n[plugin]\nsha256 = \"{}\"\ncontract = \"0.3.0\"\n[limits]\nfuel_per_call = 5000000\n",
            "ab".repeat(32)
        );
        let bytes = mangle(&original, &edits);
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("x.manifest.toml");
        std::fs::write(&path, &bytes).unwrap();
        if let Err(error) = authzlab_host::manifest::Manifest::load(&path) {
            let message = error.to_string();
            prop_assert!(message.starts_with(&path.display().to_string()), "{}", message);
        }
    }

    /// Edits of the shipped vectors file: every one loads or is refused with a reason.
    #[test]
    fn edited_vectors_files_load_or_are_refused(
        edits in prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..6),
    ) {
        let original = shipped("tests/vectors/unity-connection.json");
        let bytes = mangle(&original, &edits);
        if let Err(error) = Vectors::parse(&bytes, "v.json") {
            prop_assert!(!error.to_string().is_empty());
        }
    }
}

fn a_certificate() -> Certificate {
    let draw = authzlab::certs::certificate::Draw { serial: [3; 8], key_seed: [4; 32] };
    Certificate::issue(
        Identity::Ipsec,
        "imp-pub",
        &draw,
        1_767_571_200,
        authzlab::certs::certificate::IDENTITY_VALIDITY,
    )
    .expect("a valid certificate")
}

proptest! {
    #![proptest_config(config(20_000))]

    /// `delete-certificate`'s name: what parses prints back to itself.
    #[test]
    fn any_text_is_a_certificate_name_or_a_reason(text in any::<String>()) {
        match CertificateName::parse(&text) {
            Ok(name) => prop_assert_eq!(CertificateName::parse(&name.to_string()), Ok(name)),
            Err(reason) => prop_assert!(!reason.is_empty()),
        }
    }

    #[test]
    fn any_bytes_as_a_certificate_are_read_or_refused(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = Certificate::from_der(Identity::Tomcat, &bytes);
        if let Ok(set) = serde_json::from_slice::<CertificateSet>(&bytes) {
            let _ = set.read(Identity::Tomcat);
        }
    }

    /// A real certificate damaged on the way: read (and then fingerprinted as received) or
    /// refused with a reason.
    #[test]
    fn edited_certificates_are_read_or_refused(
        edits in prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..6),
    ) {
        let certificate = a_certificate();
        let der = mangle_bytes(certificate.der(), &edits);
        let wire = WireCertificate { identity: "ipsec".to_string(), der: base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &der) };
        match wire.certificate() {
            Ok(read) => prop_assert_eq!(read.fingerprint == certificate.fingerprint, der == certificate.der()),
            Err(reason) => prop_assert!(!reason.is_empty()),
        }
    }

    /// Edits of a shipped certificate scenario reach the service and certificate steps.
    #[test]
    fn edited_certificate_scenarios_parse_or_give_a_located_error(
        edits in prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..6),
    ) {
        let original = shipped("scenarios/imp-certificates-out-of-order.toml");
        let bytes = mangle(&original, &edits);
        if let Ok(text) = std::str::from_utf8(&bytes) {
            assert_located(Scenario::parse(text, Path::new("x.toml")));
        }
    }
}

/// A REGISTER as a device sends it, with an access-token-shaped bearer.
fn a_register() -> Vec<u8> {
    Register::new("jabber-1", "alice", Some("eyJhbGciOiJSUzI1NiJ9.e30.c2ln"), "site-campus", 50347, 0x5163)
        .to_bytes("cucm-sub-1", 5090)
        .expect("a REGISTER")
}

proptest! {
    #![proptest_config(config(20_000))]

    /// What arrives on a SIP port, from anyone: a REGISTER, an OPTIONS ping or a reason.
    #[test]
    fn any_bytes_on_a_sip_port_are_a_request_or_a_reason(bytes in prop::collection::vec(any::<u8>(), 0..1024)) {
        if let Err(reason) = sip::incoming(&bytes) {
            prop_assert!(!reason.is_empty());
        }
        let _ = sip::Answer::parse(&bytes);
    }

    /// A REGISTER damaged on the way: parsed (then answered) or refused with a reason.
    #[test]
    fn edited_registers_parse_or_are_refused(
        edits in prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..8),
    ) {
        let bytes = mangle_bytes(&a_register(), &edits);
        match sip::incoming(&bytes) {
            Ok(sip::Incoming::Register(register)) => {
                let answer = sip::Answer::Forbidden.to_bytes(&register.via);
                prop_assert!(sip::Answer::parse(&answer).is_ok());
            }
            Ok(sip::Incoming::Options { .. }) => {}
            Err(reason) => prop_assert!(!reason.is_empty()),
        }
    }

    /// A device's configuration file and an edge path, from anywhere: read or refused.
    #[test]
    fn any_text_is_a_device_config_or_an_edge_path_or_a_reason(text in any::<String>()) {
        if let Err(reason) = DeviceConfig::from_xml(&text) {
            prop_assert!(!reason.is_empty());
        }
        let _ = edge::target(&text);
        let _ = tftp::device_of(&text);
    }

    /// A configuration file damaged on the way: read or refused with the element's name.
    #[test]
    fn edited_device_configs_are_read_or_refused(
        edits in prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..6),
    ) {
        let config = DeviceConfig {
            sip_oauth_mode: true,
            sip_oauth_port: 5090,
            sip_mra_oauth_port: 5091,
            device_security_mode: Some(authzlab::phone_security::DeviceSecurityMode::Encrypted),
        };
        let bytes = mangle(&config.to_xml("phone-1"), &edits);
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let _ = DeviceConfig::from_xml(text);
        }
    }

    /// Edits of a shipped edge scenario reach `[cluster.sip]`, `[cluster.expressway]` and the
    /// SIP steps.
    #[test]
    fn edited_edge_scenarios_parse_or_give_a_located_error(
        edits in prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..6),
    ) {
        let original = shipped("scenarios/expressway-reissued-san.toml");
        let bytes = mangle(&original, &edits);
        if let Ok(text) = std::str::from_utf8(&bytes) {
            assert_located(Scenario::parse(text, Path::new("x.toml")));
        }
    }
}

// ---- what fuzzing found --------------------------------------------------------------------

/// The first crash the duration property found on the landed code: a non-ASCII character
/// right after a number sliced it in half (issue "Nothing a user feeds it crashes it").
#[test]
fn found_non_ascii_after_a_number() {
    assert!(parse_duration("5é").is_err());
    assert!(parse_duration("0\u{1F600}").is_err());
}

/// The edited-scenario property found this: a NUL inside a comment, which toml refuses with
/// a position but an empty message.
#[test]
fn found_a_control_character_in_a_comment_gets_words() {
    match Scenario::parse("#\0The\nname = \"x\"\nduration = \"1h\"\n", Path::new("x.toml")) {
        Err(ScenarioError::Invalid { line, column, message, .. }) => {
            assert_eq!((line, column), (1, 2));
            assert_eq!(message, "a control character (U+0000) is not allowed here, not even in a comment");
        }
        other => panic!("expected a located error, got {other:?}"),
    }
}
