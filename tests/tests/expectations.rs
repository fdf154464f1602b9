//! Expectations that cannot pass vacuously. Each value a run cannot produce (a node it does
//! not have, a device or user it does not run, a word outside a field's closed set, a
//! boolean that is not one) is refused when the file is parsed, with the line and column of
//! the value and the nearest real one. How: every test writes the mistake a person would make
//! in an `absent = true` expectation (which held, whatever happened, before) and reads the
//! message. Then `count`, `after` and `for_each`, each judged on a real run.

mod common;

use std::path::Path;

use authzlab::cluster;
use authzlab::scenario::{Scenario, ScenarioError};

/// One subscriber, Unity, two Jabber devices of alice and one of bob.
const CLUSTER: &str = r#"name = "expectations"
seed = 5
duration = "3h"

[cluster]
cucm_subscribers = 1
unity = { validator = "unity-connection" }

[params]
refresh_login_flow = true
access_token_expiry = "15m"

[[clients]]
kind = "jabber"
user = "alice"
count = 2

[[clients]]
kind = "jabber"
user = "bob"
count = 1

[[step]]
at = "1h"
action = "regenerate-key"
key = "signing"
"#;

fn refused(expect: &str) -> (usize, usize, String, String) {
    let text = format!("{CLUSTER}\n[[expect]]\n{expect}\n");
    match Scenario::parse(&text, Path::new("scenarios/x.toml")) {
        Err(ScenarioError::Invalid { line, column, field, message, .. }) => (line, column, field, message),
        other => panic!("expected a refusal of {expect:?}, got {other:?}"),
    }
}

/// The line of the expectation's `offset`-th line (0: its first) in the text `refused`
/// writes: the cluster, a blank line, `[[expect]]`, then the expectation.
fn expect_line(offset: usize) -> usize {
    CLUSTER.lines().count() + 3 + offset
}

#[test]
fn a_node_the_cluster_does_not_have_is_refused() {
    let (line, column, field, message) =
        refused("event = \"key-sync-failed\"\nnode = \"cucm-sub-9\"\nabsent = true");
    assert_eq!((line, column), (expect_line(1), 8));
    assert_eq!(field, "expect[0].node");
    assert!(message.contains("\"cucm-sub-9\" is not in this run"), "{message}");
    assert!(message.contains("cucm-sub-1"), "lists the real nodes: {message}");
    let (_, _, _, message) = refused("event = \"voicemail-login-rejected\"\nnode = \"unty\"\nabsent = true");
    assert!(message.contains("did you mean \"unity\"?"), "{message}");
}

#[test]
fn a_device_the_run_does_not_have_is_refused_whatever_its_case() {
    let (line, column, field, message) =
        refused("event = \"refresh-rejected\"\nclient = \"jabber-99\"\nabsent = true");
    assert_eq!((line, column), (expect_line(1), 10));
    assert_eq!(field, "expect[0].client");
    assert!(message.contains("\"jabber-99\" is not in this run"), "{message}");
    let (_, _, _, message) = refused("event = \"refresh-rejected\"\nclient = \"Jabber-1\"\nabsent = true");
    assert!(message.contains("did you mean \"jabber-1\"?"), "{message}");
}

#[test]
fn a_user_without_a_device_is_refused() {
    let (_, _, field, message) = refused("event = \"tokens-revoked\"\nuser = \"alcie\"\nabsent = true");
    assert_eq!(field, "expect[0].user");
    assert!(message.contains("did you mean \"alice\"?"), "{message}");
}

#[test]
fn a_word_outside_a_closed_set_is_refused_with_the_set() {
    let (line, column, field, message) =
        refused("event = \"key-regenerated\"\nkey = \"signng\"\nabsent = true");
    assert_eq!((line, column), (expect_line(1), 7));
    assert_eq!(field, "expect[0].key");
    assert!(message.contains("cannot occur") && message.contains("did you mean \"signing\"?"), "{message}");
    assert!(message.contains("signing, encryption"), "{message}");
    let (_, _, field, message) =
        refused("event = \"voicemail-login-rejected\"\nreason = \"unknown-signing-kye\"\nabsent = true");
    assert_eq!(field, "expect[0].reason");
    assert!(message.contains("did you mean \"unknown-signing-key\"?"), "{message}");
}

#[test]
fn a_boolean_field_takes_true_or_false_only() {
    let (line, column, field, message) =
        refused("event = \"login-flow-changed\"\nenabled = \"maybe\"\nabsent = true");
    assert_eq!((line, column), (expect_line(1), 11));
    assert_eq!(field, "expect[0].enabled");
    assert!(message.contains("is a boolean"), "{message}");
    refused("event = \"login-flow-changed\"\nenabled = 1\nabsent = true");
}

#[test]
fn count_after_and_for_each_are_checked_where_written() {
    let (_, _, field, message) = refused("event = \"keys-synced\"\ncount = \"5..2\"");
    assert_eq!(field, "expect[0].count");
    assert!(message.contains("empty"), "{message}");
    let (_, _, field, _) = refused("event = \"keys-synced\"\ncount = 1\nabsent = true");
    assert_eq!(field, "expect[0].count");
    let (_, _, field, message) = refused("event = \"keys-synced\"\nafter = \"nothing\"");
    assert_eq!(field, "expect[0].after");
    assert!(message.contains("no earlier expectation has label"), "{message}");
    let (_, _, field, message) = refused("event = \"logged-in\"\nnode = \"jabber-1\"\nfor_each = \"client\"");
    assert_eq!(field, "expect[0].for_each");
    assert!(message.contains("keep one"), "{message}");
    let (_, _, field, _) =
        refused("event = \"refresh-rejected\"\nfor_each = \"client\"\nof_user = \"carol\"");
    assert_eq!(field, "expect[0].of_user");
}

#[test]
fn every_value_in_the_shipped_scenarios_is_one_the_run_can_produce() {
    // The shipped library parses, so each of its expectations passed the same checks; this
    // says so explicitly for every file, beside the tests that run them.
    for path in common::scenario_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        Scenario::parse(&text, &path).unwrap_or_else(|error| panic!("{error}"));
    }
}

/// The same cluster, with expectations of the new kinds, run once.
fn run_with(expectations: &str) -> Vec<(bool, String)> {
    let text = format!("{CLUSTER}\n{expectations}");
    let scenario = Scenario::parse(&text, Path::new("scenarios/x.toml")).unwrap();
    let run = cluster::run(&scenario, scenario.seed, common::plugins()).unwrap();
    run.report.expectations.iter().map(|outcome| (outcome.held, outcome.detail.clone())).collect()
}

#[test]
fn count_after_and_for_each_judge_a_real_run() {
    let outcomes = run_with(
        r#"
# The regeneration at 1h happens once; keys reach the one subscriber at boot and after it.
[[expect]]
event = "key-regenerated"
count = 1
label = "regenerated"

[[expect]]
event = "keys-synced"
node = "cucm-sub-1"
count = "2..2"

[[expect]]
event = "keys-synced"
count = "3..9"

# Every device is refused its old refresh token after the regeneration.
[[expect]]
event = "refresh-rejected"
reason = "unknown-signing-key"
for_each = "client"
after = "regenerated"

# Only alice's devices, and nobody's before the regeneration.
[[expect]]
event = "logged-in"
for_each = "client"
of_user = "alice"
within = "1h..3h"

[[expect]]
event = "refresh-rejected"
absent = true
within = "0s..1h"
"#,
    );
    let held: Vec<bool> = outcomes.iter().map(|(held, _)| *held).collect();
    // key-regenerated, keys-synced x2, three devices refused, two of alice's sign-ins, absent.
    assert_eq!(held, [true, true, false, true, true, true, true, true, true], "{outcomes:#?}");
    assert!(outcomes[2].1.contains("2 match(es), wanted 3..9"), "{}", outcomes[2].1);
}

#[test]
fn a_missing_event_shows_its_nearest_candidate_field_by_field() {
    let outcomes = run_with(
        r#"
[[expect]]
event = "refresh-rejected"
client = "jabber-3"
reason = "revoked"
within = "0s..30m"
"#,
    );
    let (held, detail) = &outcomes[0];
    assert!(!held);
    // bob's device is refused after 1h for the key, never as revoked: the nearest candidate
    // is jabber-3's own refusal, with the reason and the time it missed by.
    assert!(detail.contains("nearest of"), "{detail}");
    assert!(detail.contains("client=jabber-3"), "{detail}");
    assert!(detail.contains("reason: wanted revoked, got unknown-signing-key"), "{detail}");
    assert!(detail.contains("after the window closes"), "{detail}");
}

#[test]
fn after_an_expectation_that_never_held_fails_rather_than_holding_vacuously() {
    let outcomes = run_with(
        r#"
[[expect]]
event = "tokens-revoked"
within = "0s..3h"
label = "revoked"

[[expect]]
event = "access-token-refreshed"
absent = true
after = "revoked"
"#,
    );
    assert!(!outcomes[0].0);
    let (held, detail) = &outcomes[1];
    assert!(!held, "{detail}");
    assert!(detail.contains("[revoked], never held"), "{detail}");
}

#[test]
fn a_pinned_seed_needs_its_reason_and_the_report_says_so() {
    let pinned =
        |above: &str| CLUSTER.replace("seed = 5\n", &format!("seed = 5\n{above}seeds = \"pinned\"\n"));
    let refusal = Scenario::parse(&pinned(""), Path::new("scenarios/x.toml")).unwrap_err().to_string();
    assert!(refusal.starts_with("scenarios/x.toml:3:9: seeds:"), "{refusal}");
    assert!(refusal.contains("needs a comment on the line above"), "{refusal}");
    let text = pinned("# Only seed 5 puts the refresh inside the outage.\n");
    let scenario = Scenario::parse(&text, Path::new("scenarios/x.toml")).unwrap();
    assert!(scenario.seeds_pinned);
    let run = cluster::run(&scenario, scenario.seed, common::plugins()).unwrap();
    let report = authzlab::report::render(&scenario, &run);
    assert!(report.contains("this verdict is claimed for seed 5 alone"), "{report}");
    let other = CLUSTER.replace("seed = 5\n", "seed = 5\nseeds = \"some\"\n");
    assert!(Scenario::parse(&other, Path::new("x.toml")).unwrap_err().to_string().contains("\"pinned\""));
}

#[test]
fn an_anomaly_that_does_not_exist_is_refused() {
    let text = CLUSTER.replace("seed = 5\n", "seed = 5\nanomalies = [\"stale-consumer-keys\"]\n");
    let refusal = Scenario::parse(&text, Path::new("scenarios/x.toml")).unwrap_err().to_string();
    assert!(
        refusal
            .contains("anomalies: no anomaly \"stale-consumer-keys\"; did you mean \"stale-consumer-key\"?"),
        "{refusal}"
    );
}

#[test]
fn the_signing_key_regeneration_shows_unity_as_a_stale_consumer_until_it_refetches() {
    // The shipped scenario names the anomaly; without the name the same run fails on it.
    let path = common::repo().join("scenarios/signing-key-regenerated.toml");
    let text = std::fs::read_to_string(path).unwrap();
    let scenario = Scenario::parse(&text, Path::new("scenarios/signing-key-regenerated.toml")).unwrap();
    let run = cluster::run(&scenario, scenario.seed, common::plugins()).unwrap();
    let stale = run.report.anomalies.iter().find(|outcome| outcome.name == "stale-consumer-key").unwrap();
    assert!(
        stale.held && stale.detail.starts_with("occurred, as the scenario expects: at unity:"),
        "{}",
        stale.detail
    );
    let unnamed = text.replace("anomalies = [\"stale-consumer-key\", \"refused-under-stale-keys\"]", "");
    let unnamed = Scenario::parse(&unnamed, Path::new("x.toml")).unwrap();
    let run = cluster::run(&unnamed, unnamed.seed, common::plugins()).unwrap();
    let failed: Vec<&str> = run.report.failures().map(|outcome| outcome.name.as_str()).collect();
    assert_eq!(failed, ["stale-consumer-key", "refused-under-stale-keys"]);
}
