//! `authzlab shrink`: a padded failing scenario reduced to what its failure needs.

mod common;

use common::{authzlab, repo, scratch, text, write};

#[test]
fn a_padded_failing_scenario_shrinks_to_its_essential_step() {
    let out = scratch("padded.shrunk.toml");
    let output = authzlab(&["shrink", "tests/fixtures/padded-failure.toml", "--out", out.to_str().unwrap()]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}{}", text(&output.stderr));
    assert!(stdout.starts_with("no_token_lifetime_out_of_bounds still fails with seed 5"), "{stdout}");
    // What it says it removed: every padding step, the unrelated clients and the expectation.
    for padding in
        ["regenerate-key", "revoke", "set-param", "restart-service", "user = \"dave\"", "expectation 1"]
    {
        assert!(stdout.contains(padding), "{padding} not reported removed: {stdout}");
    }
    let shrunk: toml::Table = toml::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let steps = shrunk["step"].as_array().unwrap();
    assert_eq!(steps.len(), 1, "{shrunk:#?}");
    assert_eq!(steps[0]["action"].as_str(), Some("skew"), "the clock jump is the failure's one step");
    assert_eq!(shrunk["clients"].as_array().unwrap().len(), 1, "one client group");
    assert_eq!(shrunk["clients"][0]["count"].as_integer(), Some(1), "one client");
    assert!(shrunk.get("expect").is_none(), "expectations are not the failure");
    assert_eq!(shrunk["seed"].as_integer(), Some(5), "the seed it fails with is in the file");
    let duration = authzlab::scenario::parse_duration(shrunk["duration"].as_str().unwrap()).unwrap();
    assert!(duration < std::time::Duration::from_secs(3600), "simulated time cut: {duration:?}");

    // The smaller scenario fails the same way when run as any scenario is.
    let output = authzlab(&["run", out.to_str().unwrap()]);
    let report = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(report.contains("FAIL no_token_lifetime_out_of_bounds"), "{report}");
    assert!(repo().join("tests/fixtures/padded-failure.toml").exists(), "the input is left alone");
}

#[test]
fn shrink_refuses_what_does_not_fail_naming_why() {
    let out = scratch("holds.shrunk.toml");
    let output =
        authzlab(&["shrink", "scenarios/signing-key-regenerated.toml", "--out", out.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("every check held with seed 7: nothing to shrink"),
        "{}",
        text(&output.stderr)
    );
    assert!(!out.exists(), "nothing written");

    let output = authzlab(&[
        "shrink",
        "tests/fixtures/padded-failure.toml",
        "--check",
        "crash_loses_no_committed_row",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("crash_loses_no_committed_row does not fail with seed 5"), "{stderr}");
    assert!(stderr.contains("failing: no_token_lifetime_out_of_bounds"), "{stderr}");

    let scenario = write("bad.toml", "name = \"x\"\nduration = \"forever\"\n");
    let output = authzlab(&["shrink", scenario.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("bad.toml"), "{}", text(&output.stderr));
}
