//! `authzlab sweep`: a thousand seeds of a short scenario whose verdict depends on the seed,
//! failures grouped by cause with the smallest failing seed, and three shards merged into
//! exactly the unsharded summary.

mod common;

use std::path::PathBuf;

use authzlab::cluster;
use authzlab::scenario::Scenario;
use authzlab::sweep::{self, Shard, Summary};

/// Alice signs in 25 to 70 s into the run depending on the seed; the scenario expects it
/// within 50 s, so some seeds fail, all in the same way.
const FLAKY: &str = r#"
name = "alice signs in within 50 seconds (only some seeds do)"
duration = "10m"
[params]
refresh_login_flow = true
[[clients]]
kind = "jabber"
count = 1
[[expect]]
within = "0s..50s"
event = "logged-in"
user = "alice"
"#;

fn flaky(directory: &std::path::Path) -> PathBuf {
    let path = directory.join("flaky.toml");
    std::fs::write(&path, FLAKY).unwrap();
    path
}

fn swept(files: &[PathBuf], shard: Shard) -> Summary {
    sweep::sweep(files, (1, 1_000), shard, 2, common::plugins(), &|| {}).unwrap()
}

#[test]
fn a_thousand_seeds_group_by_cause_and_shards_merge_into_the_whole() {
    let directory = tempfile::tempdir().unwrap();
    let files = [flaky(directory.path())];
    let whole = swept(&files, Shard::WHOLE);
    assert_eq!(whole.runs, 1_000);
    assert!(whole.held > 100 && whole.failed() > 100, "{} held of {}", whole.held, whole.runs);
    assert_eq!(whole.causes.len(), 1, "one way of failing: {:?}", whole.causes);
    let cause = &whole.causes[0];
    assert_eq!(cause.count, whole.failed());
    assert_eq!(cause.check, "line 9: logged-in user=alice within 0s..50s");
    // The smallest failing seed fails, and every seed below it holds.
    let scenario = Scenario::load(&files[0]).unwrap();
    let holds = |seed| cluster::run(&scenario, seed, common::plugins()).unwrap().report.passed();
    assert!(!holds(cause.smallest_seed));
    assert!((1..cause.smallest_seed).all(holds));
    let report = sweep::render(&whole);
    assert!(report.contains(&format!(
        "replay: authzlab run {} --seed {}",
        files[0].display(),
        cause.smallest_seed
    )));

    let mut merged: Option<Summary> = None;
    for index in [2, 0, 1] {
        let shard = swept(&files, Shard { index, count: 3 });
        let round_trip: Summary = serde_json::from_str(&serde_json::to_string(&shard).unwrap()).unwrap();
        match merged.as_mut() {
            None => merged = Some(round_trip),
            Some(merged) => merged.merge(&round_trip).unwrap(),
        }
    }
    let mut merged = merged.unwrap();
    assert_eq!((merged.shards.clone(), merged.shard_count), (vec![0, 1, 2], 3));
    (merged.shards, merged.shard_count) = (vec![0], 1);
    assert_eq!(merged, whole, "three shards merged are the whole sweep");
}
