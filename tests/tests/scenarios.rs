//! Every scenario in `scenarios/` runs as a test and must pass; runs replay byte for byte.
//!
//! How: each scenario runs with its own seed; its story timeline is an insta snapshot (read
//! and checked by hand when accepted), and its expectations and invariants must all hold.
//! Determinism: the same seed twice gives the same trace hash, other seeds give others.

mod common;

use std::path::Path;

use authzlab::cluster::{self, Run};
use authzlab::report::{timeline, TimelineMode};
use authzlab::scenario::Scenario;

/// Every scenario file and the test that runs it. A file missing here fails
/// `every_scenario_file_is_run`.
const SCENARIOS: &[&str] = &["encryption-key-regenerated.toml", "signing-key-regenerated.toml"];

fn load(name: &str) -> Scenario {
    let path = common::repo().join("scenarios").join(name);
    // Paths in reports are relative to the repository, as a user types them.
    let text = std::fs::read_to_string(&path).unwrap();
    Scenario::parse(&text, &Path::new("scenarios").join(name)).unwrap()
}

fn run(scenario: &Scenario, seed: u64) -> Run {
    cluster::run(scenario, seed, common::plugins()).unwrap()
}

fn assert_passed(run: &Run) {
    let failures: Vec<String> = run.report.failures().map(|f| format!("{}: {}", f.name, f.detail)).collect();
    assert!(failures.is_empty(), "seed {}: {}", run.seed, failures.join("\n"));
}

/// Runs a scenario with its own seed: every check holds, the key-material check was not
/// vacuous, and the story matches its snapshot.
fn story(name: &str) -> String {
    let scenario = load(name);
    let run = run(&scenario, scenario.seed);
    assert_passed(&run);
    assert!(run.report.expectations.len() >= 8, "{name} says what must hold");
    assert_every_key_was_searched(name, &run);
    timeline(&run.events, TimelineMode::Story).join("\n")
}

/// Three secret keys over each shipped run (signing private key, encryption key, the
/// regenerated one), each at least as hex and as base64 (base64 and base64url coincide when
/// the text has no `+` or `/`, so the exact count depends on the key).
fn assert_every_key_was_searched(name: &str, run: &Run) {
    let check = run.report.invariants.iter().find(|i| i.name == "no_key_material_in_trace").unwrap();
    let searched: usize = check
        .detail
        .strip_prefix("held (")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("{name}: {}", check.detail));
    assert!((6..=9).contains(&searched), "{name}: {}", check.detail);
}

#[test]
fn signing_key_regenerated() {
    insta::assert_snapshot!(story("signing-key-regenerated.toml"));
}

#[test]
fn encryption_key_regenerated() {
    insta::assert_snapshot!(story("encryption-key-regenerated.toml"));
}

#[test]
fn signing_key_regenerated_holds_for_other_seeds() {
    let scenario = load("signing-key-regenerated.toml");
    for seed in [1, 2, 3] {
        assert_passed(&run(&scenario, seed));
    }
}

#[test]
fn same_seed_same_trace_other_seed_other_trace() {
    let scenario = load("signing-key-regenerated.toml");
    let first = run(&scenario, 11);
    let second = run(&scenario, 11);
    assert_eq!(first.trace_hash, second.trace_hash);
    assert_eq!(first.jsonl, second.jsonl);
    let other = run(&scenario, 12);
    assert_ne!(first.trace_hash, other.trace_hash, "the seed reaches the trace");
}

#[test]
fn every_scenario_file_is_run() {
    let mut files: Vec<String> = std::fs::read_dir(common::repo().join("scenarios"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".toml"))
        .collect();
    files.sort();
    let mut known: Vec<String> = SCENARIOS.iter().map(|name| name.to_string()).collect();
    known.sort();
    assert_eq!(files, known, "add a test for each scenario file and list it in SCENARIOS");
}

#[test]
fn a_failed_expectation_fails_the_run_and_says_what_came_closest() {
    let mut scenario = load("signing-key-regenerated.toml");
    // The regeneration happens at 2h, so nothing before it may refuse a refresh token.
    let expectation = scenario
        .expectations
        .iter_mut()
        .find(|e| e.event == "refresh-rejected")
        .expect("the scenario expects refused refreshes");
    expectation.within = std::time::Duration::ZERO..std::time::Duration::from_secs(3600);
    let run = run(&scenario, scenario.seed);
    assert!(!run.report.passed());
    let failure = run.report.failures().next().unwrap();
    assert!(failure.detail.contains("no match") && failure.detail.contains("02:"), "{}", failure.detail);
}
