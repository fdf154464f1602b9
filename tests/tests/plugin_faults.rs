//! A plugin that loops forever, one that grows memory without bound, one that traps and one
//! that answers with megabytes are each stopped and reported as a plugin fault, and the host
//! then serves the next call; a component that imports what the host does not offer, or was
//! built for another contract version, is refused at load with the reason. What a plugin
//! logs or writes to stderr (a panic message) is kept, bounded, escaped and without the token.
//!
//! How: the `faulty` fixture (plugins/faulty) misbehaves on demand, chosen by the token text;
//! any other token gets `denied("well-behaved")`, which proves a live instance answered.

mod common;

use std::sync::Arc;

use authzlab_host::guest_output::{Level, GUEST_LINES_MAX};
use authzlab_host::{GuestOutput, Keyring, Limits, PluginHost, Rejection, Request, TokenKind, Verdict};

fn request(token: &str) -> Request {
    Request {
        token: token.to_string(),
        kind: TokenKind::Access,
        now: 1_767_571_200,
        consumer: "test".to_string(),
    }
}

fn well_behaved() -> Verdict {
    Verdict::Rejected(Rejection::Denied("well-behaved".to_string()))
}

fn assert_fault_then_recovery(token: &str, reason_contains: &str) {
    let mut plugin = common::load(authzlab_plugins::FAULTY);
    let keyring = Arc::new(Keyring::new("issuer"));
    assert_eq!(plugin.validate(keyring.clone(), &request("hello")), well_behaved());
    assert_eq!(plugin.instances_started(), 1);

    match plugin.validate(keyring.clone(), &request(token)) {
        Verdict::PluginFault { plugin: name, reason } => {
            assert_eq!(name, "faulty");
            assert!(reason.contains(reason_contains), "{token}: reason {reason:?} lacks {reason_contains:?}");
        }
        other => panic!("{token}: expected a plugin fault, got {other}"),
    }
    // The next call is served, by a fresh instance.
    assert_eq!(plugin.validate(keyring.clone(), &request("hello")), well_behaved());
    assert_eq!(plugin.instances_started(), 2);
    // And the instance is reused after that.
    assert_eq!(plugin.validate(keyring, &request("hello")), well_behaved());
    assert_eq!(plugin.instances_started(), 2);
}

/// A loop over the keyring spends the host's time, not the guest's fuel: each host call is
/// charged to the call's budget, so it ends as a fault too (it ran 29 s a call before).
#[test]
fn a_plugin_that_loops_over_the_keyring_spends_its_host_call_budget() {
    assert_fault_then_recovery("keyring-loop", "spent its host-call budget");
}

#[test]
fn a_plugin_that_loops_forever_runs_out_of_fuel() {
    assert_fault_then_recovery("spin", "ran out of fuel");
}

#[test]
fn a_plugin_that_grows_memory_without_bound_hits_the_cap() {
    assert_fault_then_recovery("grow", "exceeded its memory cap (33554432 bytes)");
}

#[test]
fn a_plugin_that_traps_is_a_fault() {
    assert_fault_then_recovery("trap", "trapped");
}

/// A guest `assert!` is more than "wasm `unreachable` executed": the fault quotes its message.
#[test]
fn a_panicking_plugin_is_a_fault_that_quotes_its_panic_message() {
    assert_fault_then_recovery("panic", "`unreachable` instruction executed; its stderr: thread");
    assert_fault_then_recovery("panic", "panicked at faulty/src/lib.rs:");
    assert_fault_then_recovery("panic", ": / consumer test is not served here");
    let mut plugin = common::load(authzlab_plugins::FAULTY);
    let Verdict::PluginFault { reason, .. } =
        plugin.validate(Arc::new(Keyring::new("issuer")), &request("panic"))
    else {
        panic!("a fault")
    };
    assert!(!reason.contains("RUST_BACKTRACE"), "std's advice is left out: {reason}");
    let said = plugin.take_output();
    assert!(said.lines.iter().all(|line| line.level == Level::Stderr), "{said:?}");
    assert!(said.lines.iter().any(|line| line.text.contains("not served here")), "{said:?}");
    assert_eq!(plugin.take_output(), GuestOutput::default(), "taken once");
}

/// Lines at every level and stderr come back in order, escaped, with the token taken out, and
/// the verdict is the plugin's own.
#[test]
fn what_a_plugin_logs_comes_back_in_order_escaped_and_without_the_token() {
    let token = "log eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ";
    let mut plugin = common::load(authzlab_plugins::FAULTY);
    let verdict = plugin.validate(Arc::new(Keyring::new("issuer")), &request(token));
    assert_eq!(verdict, Verdict::Rejected(Rejection::Denied("logged".to_string())));
    let said = plugin.take_output();
    let lines: Vec<(&str, &str)> =
        said.lines.iter().map(|line| (line.level.name(), line.text.as_str())).collect();
    assert_eq!(
        lines,
        [
            ("debug", "checking"),
            ("info", "presented log <token>"),
            ("warn", "bell \\u{7} and escape \\u{1b}[31m"),
            ("error", "giving up"),
            ("stderr", "to stderr: <token>"),
        ]
    );
    assert_eq!(said.dropped, 0);
    // Nothing of the kind when the plugin says nothing.
    assert_eq!(plugin.validate(Arc::new(Keyring::new("issuer")), &request("hello")), well_behaved());
    assert_eq!(plugin.take_output(), GuestOutput::default());
}

/// A thousand lines keep 32 and count the rest; the plugin is not stopped for it.
#[test]
fn a_flood_of_lines_is_cut_and_counted_not_a_fault() {
    let mut plugin = common::load(authzlab_plugins::FAULTY);
    let verdict = plugin.validate(Arc::new(Keyring::new("issuer")), &request("log-flood"));
    assert_eq!(verdict, Verdict::Rejected(Rejection::Denied("flooded".to_string())));
    let said = plugin.take_output();
    assert_eq!(said.lines.len(), GUEST_LINES_MAX);
    assert_eq!(said.lines[GUEST_LINES_MAX - 1].text, format!("line {}", GUEST_LINES_MAX - 1));
    assert_eq!(said.dropped as usize, 1_000 - GUEST_LINES_MAX);
}

#[test]
fn fuel_is_deterministic() {
    let artifact = authzlab_plugins::UNITY_CONNECTION;
    let fuel_for = || {
        let mut plugin = common::load(artifact);
        let _ = plugin.validate(Arc::new(Keyring::new("issuer")), &request("a.b.c"));
        plugin.last_fuel_used()
    };
    let first = fuel_for();
    assert!(first > 0);
    assert_eq!(first, fuel_for());
}

#[test]
fn a_tight_fuel_budget_stops_even_a_good_plugin_and_says_so() {
    let host = PluginHost::new(Limits { fuel_per_call: 10_000, ..Limits::default() }, 0).unwrap();
    let artifact = authzlab_plugins::UNITY_CONNECTION;
    // describe() at load gets the same budget; it is tiny, so loading succeeds.
    let mut plugin = host.load(artifact.name, artifact.bytes).unwrap();
    let long_token = format!("{}.{}.{}", "eyJ".repeat(5000), "e30", "AA");
    let verdict = plugin.validate(Arc::new(Keyring::new("issuer")), &request(&long_token));
    assert!(matches!(&verdict, Verdict::PluginFault { reason, .. } if reason.contains("fuel")), "{verdict}");
}

#[test]
fn bytes_that_are_not_a_component_are_refused_with_a_reason() {
    let error = common::plugins().load("junk", b"not wasm at all").err().expect("junk does not load");
    assert!(error.to_string().contains("plugin junk"), "{error}");
    // A core module is WebAssembly but not a component of our world.
    let core_module = b"\0asm\x01\0\0\0";
    let error = common::plugins().load("core", core_module).err().expect("a core module does not load");
    assert!(error.to_string().contains("plugin core"), "{error}");
}

#[test]
fn a_missing_file_names_the_path() {
    let error = common::plugins().load_file(std::path::Path::new("/nonexistent/x.wasm")).err().unwrap();
    assert!(error.to_string().contains("/nonexistent/x.wasm"), "{error}");
}

#[test]
fn the_sandbox_clock_reads_the_request_time_and_randomness_is_seeded() {
    let artifact = authzlab_plugins::FAULTY;
    let denied = |plugin: &mut authzlab_host::Plugin, token: &str, now: u64| {
        let request = Request { now, ..request(token) };
        match plugin.validate(Arc::new(Keyring::new("issuer")), &request) {
            Verdict::Rejected(Rejection::Denied(text)) => text,
            other => panic!("{token}: {other}"),
        }
    };
    let mut plugin = common::load(artifact);
    assert_eq!(denied(&mut plugin, "clock", 1_000_000_123), "clock 1000000123");
    assert_eq!(denied(&mut plugin, "clock", 42), "clock 42");
    let first = denied(&mut plugin, "random", 0);
    let mut again = common::load(artifact);
    assert_eq!(denied(&mut again, "random", 0), first, "same host seed, same randomness");
    let other_host = PluginHost::new(Limits::default(), 99).unwrap();
    let mut other = other_host.load(artifact.name, artifact.bytes).unwrap();
    let other_randomness = denied(&mut other, "random", 0);
    assert_ne!(other_randomness, first, "another seed, other randomness");
    // Reseeding makes the host's seed irrelevant: the run's seed decides.
    plugin.reseed(99);
    assert_eq!(denied(&mut plugin, "random", 0), other_randomness);
}

/// `component` with every contract import renamed from `@0.3.0` to `@version` (same length,
/// so the binary stays well formed): a plugin built against another contract version.
fn built_for(version: &str) -> Vec<u8> {
    assert_eq!(version.len(), "0.3.0".len());
    let mut bytes = authzlab_plugins::UNITY_CONNECTION.bytes.to_vec();
    let (old, new) = ("authzlab:validator/".as_bytes(), version.as_bytes());
    let mut renamed = 0;
    let mut at = 0;
    while let Some(found) = bytes[at..].windows(old.len()).position(|window| window == old) {
        let start = at + found + old.len();
        let Some(sign) = bytes[start..].iter().take(32).position(|byte| *byte == b'@') else { break };
        let version_at = start + sign + 1;
        if bytes[version_at..].starts_with(b"0.3.0") {
            bytes[version_at..version_at + 5].copy_from_slice(new);
            renamed += 1;
        }
        at = version_at;
    }
    assert!(renamed > 0, "the component imports the contract by versioned name");
    bytes
}

/// A component built for another contract version is refused at load with both versions and
/// what to do; one built for another patch of the same version loads.
#[test]
fn a_component_for_another_contract_version_is_refused_with_both_versions() {
    let newer = common::plugins().load("unity-next", &built_for("0.4.0")).err().expect("0.4 is refused");
    let message = newer.to_string();
    assert!(message.contains("built for authzlab:validator@0.4.0"), "{message}");
    assert!(message.contains("this host speaks authzlab:validator@0.3.0"), "{message}");
    assert!(message.contains("newer authzlab"), "{message}");
    let older = common::plugins().load("unity-old", &built_for("0.0.9")).err().expect("0.0 is refused");
    assert!(older.to_string().contains("rebuild it against"), "{older}");
    // 0.1 read the JWE's plaintext as bare claims; it would refuse every real token now.
    let before_nesting =
        common::plugins().load("unity-0.1", &built_for("0.1.0")).err().expect("0.1 is refused");
    assert!(before_nesting.to_string().contains("rebuild it against"), "{before_nesting}");
    // 0.2 had no `log` import; the rule refuses it as written.
    let before_log = common::plugins().load("unity-0.2", &built_for("0.2.0")).err().expect("0.2 is refused");
    assert!(before_log.to_string().contains("rebuild it against"), "{before_log}");
    let patch = common::plugins().load("unity-patch", &built_for("0.3.4"));
    assert!(patch.is_ok(), "a patch of the same contract loads: {:?}", patch.err().map(|e| e.to_string()));
}

#[test]
fn a_plugin_that_answers_with_megabytes_is_a_fault() {
    assert_fault_then_recovery("huge", "answered with 4194304 bytes, over 65536");
}

/// A component importing an interface the host does not offer is refused at load, and the
/// message names the import.
#[test]
fn a_component_that_imports_what_the_host_does_not_offer_is_refused_naming_it() {
    let mut bytes = authzlab_plugins::UNITY_CONNECTION.bytes.to_vec();
    let (from, to) = (b"authzlab:validator/keyring@", b"authzlab:validatoz/keyring@");
    let mut renamed = 0;
    while let Some(at) = bytes.windows(from.len()).position(|window| window == from) {
        bytes[at..at + to.len()].copy_from_slice(to);
        renamed += 1;
    }
    assert!(renamed > 0);
    let error = common::plugins().load("unity-odd", &bytes).err().expect("refused").to_string();
    assert!(error.contains("authzlab:validatoz/keyring"), "{error}");
    assert!(error.contains("does not fit the authzlab:validator@0.3.0 world"), "{error}");
}

/// A plugin's `describe` answer is printed in reports and recorded in the trace: control
/// characters come out escaped (here a terminal colour sequence patched into the fixture's
/// `consumer`, same length), and a field longer than the cap is refused with its length.
#[test]
fn a_describe_answer_is_escaped_and_capped() {
    let artifact = authzlab_plugins::FAULTY;
    let at = artifact
        .bytes
        .windows(12)
        .position(|window| window == b"test-fixture")
        .expect("the fixture's consumer");
    let mut patched = artifact.bytes.to_vec();
    patched[at..at + 12].copy_from_slice(b"\x1b[31mfixture");
    let plugin = common::plugins().load("painted", &patched).unwrap();
    assert_eq!(plugin.info().consumer, "\\u{1b}[31mfixture");
    assert!(!plugin.info().consumer.contains('\u{1b}'));

    let long = authzlab_host::PluginInfo {
        name: "n".repeat(authzlab_host::plugin::DESCRIBE_FIELD_CHARS_MAX + 1),
        version: "1".into(),
        consumer: "c".into(),
    };
    let refusal = authzlab_host::plugin::printable_info(long).unwrap_err();
    assert!(refusal.contains("`name` is 129 characters, over 128"), "{refusal}");
}
