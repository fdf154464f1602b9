//! Pinned manifests: a component beside its `x.manifest.toml` loads only if its SHA-256 and
//! contract version are the pinned ones, runs under the manifest's limits, and the trace
//! names it; a scenario that requires manifests refuses a component without one.
//!
//! How: the reference `unity-connection` component is copied next to a scenario in a
//! temporary directory, with a manifest written each way.

mod common;

use std::path::Path;

use authzlab::cluster;
use authzlab::scenario::Scenario;

const SCENARIO: &str = r#"name = "pinned unity"
duration = "1h"

[cluster]
unity = { validator = "unity.wasm" }

[params]
refresh_login_flow = true

[[clients]]
kind = "jabber"
count = 1
"#;

fn set_up(manifest: Option<String>, scenario: &str) -> (tempfile::TempDir, Scenario) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("unity.wasm"), authzlab_plugins::UNITY_CONNECTION.bytes).unwrap();
    if let Some(manifest) = manifest {
        std::fs::write(dir.path().join("unity.manifest.toml"), manifest).unwrap();
    }
    let path = dir.path().join("pinned.toml");
    std::fs::write(&path, scenario).unwrap();
    let scenario = Scenario::load(&path).unwrap();
    (dir, scenario)
}

fn sha256() -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(authzlab_plugins::UNITY_CONNECTION.bytes))
}

fn manifest(sha256: &str, contract: &str, limits: &str) -> String {
    format!("[plugin]\nsha256 = \"{sha256}\"\ncontract = \"{contract}\"\n{limits}")
}

#[test]
fn a_pinned_component_loads_under_its_limits_and_the_trace_names_it() {
    let (_dir, scenario) =
        set_up(Some(manifest(&sha256(), "0.3.0", "[limits]\nfuel_per_call = 50000000\n")), SCENARIO);
    let sink = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let options = cluster::RunOptions { sink: Some(Box::new(Shared(sink.clone()))), ..Default::default() };
    let run = cluster::run_with(&scenario, 1, common::plugins(), options).unwrap();
    assert_eq!(run.report.failures().count(), 0);
    let trace = String::from_utf8(sink.borrow().clone()).unwrap();
    let loaded: serde_json::Value = trace
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .find(|event| event["kind"] == "plugin-loaded")
        .expect("the trace names the plugin");
    assert_eq!(loaded["node"], "unity");
    assert_eq!(loaded["sha256"], sha256());
    assert_eq!(loaded["contract"], "0.3.0");
    assert_eq!(loaded["fuel_per_call"], 50_000_000);
    assert!(loaded["manifest"].as_str().unwrap().ends_with("unity.manifest.toml"));
    // Voicemail logins carry the fuel each validation spent, under the pinned budget.
    let fuel = trace
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .find(|event| event["kind"] == "voicemail-login-accepted")
        .map(|event| event["fuel"].as_u64().unwrap())
        .expect("a voicemail login was checked by the plugin");
    assert!(fuel > 1_000 && fuel < 50_000_000, "{fuel}");
}

#[test]
fn a_mismatch_refuses_to_load_with_both_values_shown() {
    let wrong = "0".repeat(64);
    let (_dir, scenario) = set_up(Some(manifest(&wrong, "0.3.0", "")), SCENARIO);
    let error = cluster::run(&scenario, 1, common::plugins()).err().expect("refused").to_string();
    assert!(error.contains(&sha256()) && error.contains(&wrong), "{error}");
    assert!(error.contains("unity.manifest.toml"), "{error}");
    let (_dir, scenario) = set_up(Some(manifest(&sha256(), "0.4.0", "")), SCENARIO);
    let error = cluster::run(&scenario, 1, common::plugins()).err().expect("refused").to_string();
    assert!(error.contains("built for contract 0.3.0") && error.contains("pins 0.4.0"), "{error}");
}

#[test]
fn a_scenario_that_requires_manifests_refuses_a_component_without_one() {
    let requiring = SCENARIO.replace("[cluster]\n", "[cluster]\nrequire_manifests = true\n");
    let (_dir, scenario) = set_up(None, &requiring);
    let error = cluster::run(&scenario, 1, common::plugins()).err().expect("refused").to_string();
    assert!(error.contains("no manifest at") && error.contains("unity.manifest.toml"), "{error}");
    let (_dir, scenario) = set_up(Some(manifest(&sha256(), "0.3.0", "")), &requiring);
    assert!(cluster::run(&scenario, 1, common::plugins()).is_ok());
    // Without the requirement a bare component loads as before.
    let (_dir, scenario) = set_up(None, SCENARIO);
    assert!(cluster::run(&scenario, 1, common::plugins()).is_ok());
    assert!(Path::new(&scenario.path).exists());
}

/// A trace sink the test can read back.
struct Shared(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl std::io::Write for Shared {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
