//! `authzlab diff`: two traces compared by structure. Seeds 7 and 8 of the signing-key
//! scenario differ on almost every line, yet by one Unity key refetch (and the publisher's
//! serving of it) in substance; a trace compared with itself has the same structure; one
//! missing an event is reported at that event.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use authzlab::cluster::{self, RunOptions};
use authzlab::scenario::Scenario;
use authzlab::trace::diff;

/// Runs the signing-key scenario with `seed`, its trace written to `directory`.
fn traced(directory: &Path, seed: u64) -> PathBuf {
    let path = common::repo().join("scenarios/signing-key-regenerated.toml");
    let scenario = Scenario::parse(&std::fs::read_to_string(&path).unwrap(), &path).unwrap();
    let destination = directory.join(format!("seed-{seed}.jsonl"));
    let sink = std::fs::File::create(&destination).unwrap();
    let options = RunOptions { sink: Some(Box::new(sink)), ..RunOptions::default() };
    cluster::run_with(&scenario, seed, common::plugins(), options).unwrap();
    destination
}

#[test]
fn seeds_7_and_8_differ_by_the_extra_unity_refetch() {
    let directory = tempfile::tempdir().unwrap();
    let (a, b) = (
        diff::read(&traced(directory.path(), 7)).unwrap(),
        diff::read(&traced(directory.path(), 8)).unwrap(),
    );
    let comparison = diff::compare(&a, &b, Duration::from_secs(1));
    assert!(!comparison.same_structure());
    let kinds: Vec<(&str, i64)> =
        comparison.kinds.iter().map(|(kind, more)| (kind.as_str(), *more)).collect();
    assert_eq!(kinds, [("keys-fetched", -1), ("keys-served", -1)], "B has one more of each, nothing else");
    let (node, lines) = comparison.nodes.iter().find(|(node, _)| node == "unity").expect("unity differs");
    assert_eq!(node, "unity");
    let only =
        lines.iter().find(|line| line.trim_start().starts_with("only B")).expect("names B's extra event");
    assert!(only.contains("keys-fetched cause=unknown-signing-key"), "{only}");
    let report = diff::render(&a, &b, &comparison, Duration::from_secs(1), false);
    assert!(report.contains("Only in B: keys-fetched x1, keys-served x1"), "{report}");
    assert!(report.contains("Timing: "), "{report}");
    assert!(!diff::render(&a, &b, &comparison, Duration::from_secs(1), true).contains("Timing: "));
}

#[test]
fn a_trace_is_the_same_as_itself_and_one_missing_an_event_is_caught_there() {
    let directory = tempfile::tempdir().unwrap();
    let path = traced(directory.path(), 7);
    let a = diff::read(&path).unwrap();
    let same = diff::compare(&a, &diff::read(&path).unwrap(), Duration::ZERO);
    assert!(same.same_structure());
    assert_eq!((same.moved, same.largest_move_ms, same.matched), (0, 0, a.events.len()));
    // The same trace without its first `keys-fetched` event.
    let text = std::fs::read_to_string(&path).unwrap();
    let lost = text.lines().position(|line| line.contains("\"kind\":\"keys-fetched\"")).unwrap();
    let perturbed: Vec<&str> =
        text.lines().enumerate().filter(|(at, _)| *at != lost).map(|(_, line)| line).collect();
    let perturbed_path = directory.path().join("perturbed.jsonl");
    std::fs::write(&perturbed_path, perturbed.join("\n") + "\n").unwrap();
    let comparison = diff::compare(&a, &diff::read(&perturbed_path).unwrap(), Duration::ZERO);
    let kinds: Vec<(&str, i64)> =
        comparison.kinds.iter().map(|(kind, more)| (kind.as_str(), *more)).collect();
    assert_eq!(kinds, [("keys-fetched", 1)]);
    let (node, lines) = &comparison.nodes[0];
    assert_eq!((node.as_str(), comparison.nodes.len()), ("unity", 1));
    assert!(
        lines.iter().any(|line| line.trim_start().starts_with("only A") && line.contains("keys-fetched")),
        "{lines:?}"
    );
}

#[test]
fn what_is_not_a_trace_is_refused_with_the_line() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("bad.jsonl");
    std::fs::write(&path, "{\"t_ms\":0,\"node\":\"a\",\"kind\":\"step\"}\nnot json\n").unwrap();
    let error = diff::read(&path).err().expect("refused");
    assert!(error.ends_with("bad.jsonl:2: not a trace event: expected ident at line 1 column 2"), "{error}");
    let error = diff::read(directory.path()).err().expect("a directory");
    assert!(error.contains("is a directory"), "{error}");
}
