//! The law of idle skipping: it changes nothing but speed. Every shipped scenario, with
//! several seeds, gives a byte-identical trace (the same SHA-256) whether quiet simulated
//! time is skipped or stepped through tick by tick, and skipping takes far fewer steps.
//!
//! How: run each scenario twice with the same seed, `skip_idle` on and off, and compare the
//! trace hashes and the turmoil steps taken.

mod common;

use authzlab::cluster;
use authzlab::scenario::Scenario;

/// One test per seed, so that the test harness runs them on every core at once (each runs
/// every scenario twice; together they are the suite's longest test).
#[test]
fn skipping_idle_time_changes_nothing_but_speed_seed_1() {
    skipping_changes_nothing_but_speed(1);
}

#[test]
fn skipping_idle_time_changes_nothing_but_speed_seed_7() {
    skipping_changes_nothing_but_speed(7);
}

#[test]
fn skipping_idle_time_changes_nothing_but_speed_seed_99() {
    skipping_changes_nothing_but_speed(99);
}

fn skipping_changes_nothing_but_speed(seed: u64) {
    let scenarios = common::scenario_files();
    assert!(scenarios.len() >= 2, "{scenarios:?}");
    for path in scenarios {
        let skipping = Scenario::load(&path).unwrap();
        assert!(skipping.skip_idle, "skipping is on by default");
        let mut stepping = skipping.clone();
        stepping.skip_idle = false;
        let skipped = cluster::run(&skipping, seed, common::plugins()).unwrap();
        let stepped = cluster::run(&stepping, seed, common::plugins()).unwrap();
        let name = format!("{} seed {seed}", path.display());
        assert_eq!(skipped.trace.events, stepped.trace.events, "{name}");
        assert_eq!(skipped.trace.hash, stepped.trace.hash, "{name}: the traces differ");
        let ticks = skipping.duration.as_nanos() / skipping.tick.as_nanos();
        assert_eq!(u128::from(stepped.steps), ticks, "{name}: stepping takes every tick");
        // A guard against skipping silently turned off, not a speed target (those are in
        // `authzlab bench`): the busiest shipped scenario, a batched purge in a 30-minute run,
        // is busy for about 11 % of its ticks.
        assert!(skipped.steps * 5 < stepped.steps, "{name}: {} of {} steps", skipped.steps, stepped.steps);
    }
}

/// The law beyond the shipped scenarios: a crowded cluster whose keys change twice, with
/// short-lived tokens (many refreshes, refusals and refetches), at both ends of the tick
/// range. Skipping must still change nothing but the steps taken.
#[test]
fn skipping_changes_nothing_in_a_crowded_cluster_at_either_end_of_the_tick_range() {
    let largest = format!("{}ms", authzlab::scenario::TICK_MAX.as_millis());
    for (tick, duration) in [("1ms", "20m"), ("100ms", "2h"), (largest.as_str(), "2h")] {
        let text = format!(
            "name = \"crowd\"\nduration = \"{duration}\"\ntick = \"{tick}\"\n\
             [cluster]\ncucm_subscribers = 3\nunity = {{ validator = \"unity-connection\" }}\n\
             [params]\nrefresh_login_flow = true\naccess_token_expiry = \"5m\"\n\
             [[clients]]\nkind = \"jabber\"\ncount = 20\n\
             [[step]]\nat = \"10m\"\naction = \"regenerate-key\"\nkey = \"signing\"\n\
             [[step]]\nat = \"15m\"\naction = \"regenerate-key\"\nkey = \"encryption\"\n"
        );
        let skipping = Scenario::parse(&text, std::path::Path::new("crowd.toml")).unwrap();
        let mut stepping = skipping.clone();
        stepping.skip_idle = false;
        let skipped = cluster::run(&skipping, 11, common::plugins()).unwrap();
        let stepped = cluster::run(&stepping, 11, common::plugins()).unwrap();
        assert!(
            skipped.trace.events > 100,
            "tick {tick}: the cluster is busy ({} events)",
            skipped.trace.events
        );
        assert_eq!(skipped.trace.hash, stepped.trace.hash, "tick {tick}: the traces differ");
        assert!(skipped.steps < stepped.steps, "tick {tick}: {} of {} steps", skipped.steps, stepped.steps);
    }
}
