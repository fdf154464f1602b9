//! The law of idle skipping: it changes nothing but speed. Every shipped scenario, with
//! several seeds, gives a byte-identical trace (the same SHA-256) whether quiet simulated
//! time is skipped or stepped through tick by tick, and skipping takes far fewer steps.
//!
//! How: run each scenario twice with the same seed, `skip_idle` on and off, and compare the
//! trace hashes and the turmoil steps taken.

mod common;

use authzlab::cluster;
use authzlab::scenario::Scenario;

const SEEDS: [u64; 3] = [1, 7, 99];

#[test]
fn skipping_idle_time_changes_nothing_but_speed() {
    let mut scenarios: Vec<_> = std::fs::read_dir(common::repo().join("scenarios"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    scenarios.sort();
    assert!(scenarios.len() >= 2, "{scenarios:?}");
    for path in scenarios {
        let skipping = Scenario::load(&path).unwrap();
        assert!(skipping.skip_idle, "skipping is on by default");
        let mut stepping = skipping.clone();
        stepping.skip_idle = false;
        for seed in SEEDS {
            let skipped = cluster::run(&skipping, seed, common::plugins()).unwrap();
            let stepped = cluster::run(&stepping, seed, common::plugins()).unwrap();
            let name = format!("{} seed {seed}", path.display());
            assert_eq!(skipped.events.len(), stepped.events.len(), "{name}");
            assert_eq!(skipped.trace_hash, stepped.trace_hash, "{name}: the traces differ");
            let ticks = skipping.duration.as_nanos() / skipping.tick.as_nanos();
            assert_eq!(u128::from(stepped.steps), ticks, "{name}: stepping takes every tick");
            assert!(
                skipped.steps * 10 < stepped.steps,
                "{name}: {} of {} steps",
                skipped.steps,
                stepped.steps
            );
        }
    }
}
