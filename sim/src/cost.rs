//! What a run will cost, known before it starts: turmoil steps every host once per step, so
//! wall time follows steps × hosts, plus the work of each event (crypto, the plugin call,
//! the trace) and each signing-key generation. Stepping through quiet time (`--no-skip`)
//! takes duration / tick steps; skipping it, a few per event. A run that would overflow the
//! trace or take longer than the caller's budget is refused up front with the estimate and
//! the way out, instead of being discovered hours (or gigabytes) later.
//!
//! The constants are measurements on the 2-core CI machine (release build, `authzlab run`,
//! see the note of the issue that set them); an estimate is a guide to within a factor of
//! about two, not a promise.

use std::fmt;
use std::time::Duration;

use crate::key_pool::SIGNING_KEY_POOL_SIZE;
use crate::scenario::{format_duration, Action, Scenario};
use crate::tokens::KeyKind;
use crate::trace::TRACE_EVENTS_MAX;

/// Wall time of one turmoil step, per host. Measured: 24 h at a 100 ms tick with the
/// publisher, one subscriber and Unity and no clients took 3.69 s (2.6 M host-steps).
pub const STEP_NS_PER_HOST: u64 = 1_400;
/// Events one client adds per simulated hour for its sign-ins and refreshes. Measured: 2
/// clients for 60 days without Unity recorded 6,915 events (2.4 per client-hour).
pub const EVENTS_PER_CLIENT_HOUR: u64 = 3;
/// Events a client adds per hour on top when the cluster has Unity Connection: a voicemail
/// login every 5 minutes. Measured: 100 clients for 24 h with Unity recorded 34,311 events
/// (14.3 per client-hour).
pub const VOICEMAIL_EVENTS_PER_CLIENT_HOUR: u64 = 12;
/// Wall time of one event's work (RSA verify, JWE decrypt, the plugin call, serialization).
/// Measured: that 24 h, 100-client run took 12.1 s, 6.1 s of it stepping.
pub const EVENT_NS: u64 = 180_000;
/// Generating one RSA-2048 signing key from the seeded RNG, paid only for keys past the
/// build's key pool (`key_pool::SIGNING_KEY_POOL_SIZE`; pool keys cost microseconds).
/// Measured: 20 generated keys in a 1 h run took 4.4 s (the primes are found by a seeded
/// search, so it varies).
pub const SIGNING_KEY_NS: u64 = 200_000_000;
/// turmoil steps a run takes per event when quiet time is skipped: the exchange behind an
/// event and the timers around it. Measured (2026-12-06, the bench's cluster): 100 clients
/// for 24 h stepped 120,728 ticks for 34,311 events (3.5: mostly voicemail polls, 4 steps
/// each); 2 clients for 60 days without Unity 55,211 for 6,976 (7.9: refreshes through a
/// subscriber, two new connections each).
pub const STEPS_PER_EVENT_SKIPPING: u64 = 8;
/// Wall time per preloaded expired row (`params.expired_refresh_tokens`) written at the
/// start. Measured: preloading 1,000,000 rows took 5.2 s (`authzlab run` of a 1-minute
/// scenario with `expired_refresh_tokens = 1000000`, whose purge does not come).
pub const PRELOADED_ROW_NS: u64 = 5_200;
/// Wall time per row a batched purge deletes (one range of the validity index and the
/// table's rows under it; the table has no other index). Measured: 1,000,000 rows in
/// batches of 1,000 took 0.81 s (`authzlab bench`; 4.0 s with a user index).
pub const PURGED_ROW_NS: u64 = 800;
/// Wall time per row of a purge in one DELETE, which empties the table whole and puts back
/// the few rows still valid (`store::RefreshTokenStore::begin_purge_batch`). Measured:
/// 1,000,000 rows took 0.11 s.
pub const PURGED_WHOLE_ROW_NS: u64 = 120;
/// Wall time of one DELETE statement of a batched purge beyond its rows' share of
/// [`PURGED_ROW_NS`] and its event's [`EVENT_NS`]: finding the batch's last key, the
/// transaction and the commit. Measured on the table alone: 200,000 rows purged in batches
/// of 10 took 0.32 s, in batches of 1,000 0.15 s (19,800 more statements, ~9 µs each).
pub const PURGE_BATCH_NS: u64 = 10_000;
/// turmoil steps each batch of a batched purge takes: its DELETE's tick and the pause
/// after it, in which waiting requests are served; neither can be skipped.
pub const STEPS_PER_PURGE_BATCH: u64 = 2;
/// Messages of an event's exchanges that may cross a slowed link (a request and its answer,
/// twice: a refresh and the voicemail login it brings). Assumption: every event crosses it,
/// which overstates a link between rarely used nodes; an estimate is a guide.
pub const LINK_MESSAGES_PER_EVENT: u64 = 4;
/// Events each scenario step adds (the step, the regeneration, a sync per subscriber).
const EVENTS_PER_STEP_AND_SUBSCRIBER: u64 = 2;

/// What a scenario will cost to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Estimate {
    pub steps: u64,
    pub hosts: u64,
    pub events: u64,
    pub wall: Duration,
    /// The part of `wall` that does not follow steps or events: preloaded rows, generated
    /// signing keys, purge statements.
    fixed: Duration,
}

impl Estimate {
    pub fn of(scenario: &Scenario) -> Estimate {
        let tick_ms = scenario.tick.as_millis().max(1) as u64;
        let ticks = scenario.duration.as_millis() as u64 / tick_ms;
        let clients = u64::from(scenario.client_count());
        let subscribers = u64::from(scenario.cluster.cucm_subscribers);
        // The publisher, its subscribers, IM and Presence, Unity, the identity provider and
        // the client site.
        let imp_nodes = scenario.cluster.imp.as_ref().map_or(0, |imp| 1 + u64::from(imp.subscribers));
        let hosts = 1
            + subscribers
            + imp_nodes
            + u64::from(scenario.cluster.unity_validator.is_some())
            + u64::from(scenario.cluster.sso)
            + u64::from(clients > 0);
        let hours = scenario.duration.as_secs().div_ceil(3600);
        let step_events = scenario.steps.len() as u64 * (1 + EVENTS_PER_STEP_AND_SUBSCRIBER * subscribers);
        let per_client_hour = EVENTS_PER_CLIENT_HOUR
            + if scenario.cluster.unity_validator.is_some() { VOICEMAIL_EVENTS_PER_CLIENT_HOUR } else { 0 };
        // Each batch of a batched purge commits, and says so, on its own.
        let purge_batches =
            scenario.purge.batch_rows.map_or(0, |rows| scenario.purge.preloaded_rows().div_ceil(rows.max(1)));
        let events = clients * hours * per_client_hour + step_events + purge_batches;
        // Skipping steps only where something happens; stepping, every tick. A message in
        // flight on a slowed link keeps the network busy: no tick of its latency is skipped.
        let steps = match scenario.skip_idle {
            // `events` counts each scenario step's own events already.
            true => ticks.min(
                events
                    .saturating_mul(STEPS_PER_EVENT_SKIPPING)
                    .saturating_add(purge_batches.saturating_mul(STEPS_PER_PURGE_BATCH))
                    .saturating_add(latency_steps(scenario, events, tick_ms)),
            ),
            false => ticks,
        };
        let signing_keys = 1 + scenario
            .steps
            .iter()
            .filter(|step| step.action == Action::RegenerateKey(KeyKind::Signing))
            .count() as u64;
        let generated_keys = signing_keys.saturating_sub(SIGNING_KEY_POOL_SIZE as u64);
        let purged_row_ns = if purge_batches > 1 { PURGED_ROW_NS } else { PURGED_WHOLE_ROW_NS };
        let fixed = Duration::from_nanos(
            generated_keys
                .saturating_mul(SIGNING_KEY_NS)
                .saturating_add(
                    scenario.purge.preloaded_rows().saturating_mul(PRELOADED_ROW_NS + purged_row_ns),
                )
                .saturating_add(purge_batches.saturating_mul(PURGE_BATCH_NS)),
        );
        let mut estimate = Estimate { steps, hosts, events, wall: Duration::ZERO, fixed };
        estimate.wall = estimate.spent(steps, events);
        estimate
    }

    /// What a run has cost by the estimate's own measure once it has taken `steps` steps and
    /// recorded `events` events: the same sum as the estimate, with the counts the run
    /// reached instead of the counts foreseen. Counted, never timed, so a run held to its
    /// budget this way stops at the same step on every machine.
    pub fn spent(&self, steps: u64, events: u64) -> Duration {
        let ns = steps
            .saturating_mul(self.hosts)
            .saturating_mul(STEP_NS_PER_HOST)
            .saturating_add(events.saturating_mul(EVENT_NS));
        Duration::from_nanos(ns).saturating_add(self.fixed)
    }

    /// Refuses a run that would overflow the trace or take longer than `budget`.
    pub fn check(&self, budget: Duration) -> Result<(), CostError> {
        if self.events > TRACE_EVENTS_MAX {
            return Err(CostError::TraceTooLarge { estimate: *self });
        }
        if self.wall > budget {
            return Err(CostError::OverBudget { estimate: *self, budget });
        }
        Ok(())
    }
}

/// Ticks that slowed links keep from being skipped: for each `link` step with a latency, the
/// events from then on (their share of the run's), each holding the network for its
/// messages' latency, and never more ticks than the rest of the run has.
fn latency_steps(scenario: &Scenario, events: u64, tick_ms: u64) -> u64 {
    let duration_ms = (scenario.duration.as_millis() as u64).max(1);
    scenario
        .steps
        .iter()
        .filter_map(|step| match &step.action {
            Action::Link { latency: Some(latency), .. } => Some((step.at, *latency)),
            _ => None,
        })
        .map(|(at, latency)| {
            let remaining_ms = duration_ms.saturating_sub(at.as_millis() as u64);
            let events_after = events.saturating_mul(remaining_ms) / duration_ms;
            let held_ticks =
                (latency.as_millis() as u64).div_ceil(tick_ms).saturating_mul(LINK_MESSAGES_PER_EVENT);
            events_after.saturating_mul(held_ticks).min(remaining_ms / tick_ms)
        })
        .fold(0, u64::saturating_add)
}

impl fmt::Display for Estimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "about {} of wall time ({} ticks × {} hosts, ~{} events)",
            format_duration(Duration::from_secs(self.wall.as_secs().max(1))),
            self.steps,
            self.hosts,
            self.events
        )
    }
}

/// A run refused before it starts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CostError {
    #[error(
        "the run would record ~{} events, more than the trace holds ({TRACE_EVENTS_MAX} events, \
         TRACE_EVENTS_MAX); shorten the duration or lower the client count (estimate: {estimate})",
        estimate.events
    )]
    TraceTooLarge { estimate: Estimate },
    #[error(
        "the run would take {estimate}, over the budget of {}; raise the tick, shorten the \
         duration or lower the client count, or allow it with --budget {}",
        format_duration(*budget),
        format_duration(Duration::from_secs((estimate.wall.as_secs() + 60) / 60 * 60))
    )]
    OverBudget { estimate: Estimate, budget: Duration },
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// A scenario stepped tick by tick, the mode whose cost follows simulated time.
    fn scenario(text: &str) -> Scenario {
        let mut scenario = Scenario::parse(text, Path::new("cost.toml")).unwrap();
        scenario.skip_idle = false;
        scenario
    }

    #[test]
    fn skipping_quiet_time_costs_steps_per_event_not_per_tick() {
        let text = "name=\"x\"\nduration=\"60d\"\n[[clients]]\nkind=\"jabber\"\ncount=2\n";
        let skipping = Estimate::of(&Scenario::parse(text, Path::new("cost.toml")).unwrap());
        let stepping = Estimate::of(&scenario(text));
        assert_eq!(stepping.steps, 60 * 864_000);
        assert_eq!(skipping.events, stepping.events);
        assert_eq!(skipping.steps, skipping.events * STEPS_PER_EVENT_SKIPPING);
        assert!(skipping.wall * 10 < stepping.wall, "{skipping} vs {stepping}");
        let idle = Estimate::of(
            &Scenario::parse("name=\"x\"\nduration=\"91d\"\ntick=\"1ms\"\n", Path::new("c.toml")).unwrap(),
        );
        assert_eq!(idle.steps, 0, "a cluster with nothing to do costs no steps");
    }

    #[test]
    fn cost_follows_ticks_hosts_events_and_signing_keys() {
        let idle = Estimate::of(&scenario(
            "name=\"x\"\nduration=\"24h\"\n[cluster]\nunity={validator=\"unity-connection\"}\n",
        ));
        assert_eq!((idle.steps, idle.hosts, idle.events), (864_000, 3, 0));
        assert_eq!(
            idle.wall,
            Duration::from_nanos(864_000 * 3 * STEP_NS_PER_HOST),
            "the boot key is a pool key"
        );

        let coarse = Estimate::of(&scenario(
            "name=\"x\"\nduration=\"24h\"\ntick=\"1s\"\n[cluster]\nunity={validator=\"unity-connection\"}\n",
        ));
        assert_eq!(coarse.steps * 10, idle.steps, "ten times the tick, a tenth of the steps");

        let busy = Estimate::of(&scenario(
            "name=\"x\"\nduration=\"24h\"\n[cluster]\ncucm_subscribers=2\n[[clients]]\nkind=\"jabber\"\ncount=100\n",
        ));
        assert_eq!((busy.hosts, busy.events), (4, 100 * 24 * EVENTS_PER_CLIENT_HOUR));
        let polled = Estimate::of(&scenario(
            "name=\"x\"\nduration=\"24h\"\n[cluster]\nunity={validator=\"unity-connection\"}\n[[clients]]\nkind=\"jabber\"\ncount=100\n",
        ));
        assert_eq!(polled.events, 100 * 24 * (EVENTS_PER_CLIENT_HOUR + VOICEMAIL_EVENTS_PER_CLIENT_HOUR));

        let mut regenerations = String::from("name=\"x\"\nduration=\"1h\"\n");
        for minute in 1..=SIGNING_KEY_POOL_SIZE + 20 {
            regenerations.push_str(&format!(
                "[[step]]\nat=\"{minute}m\"\naction=\"regenerate-key\"\nkey=\"signing\"\n"
            ));
        }
        let keys = Estimate::of(&scenario(&regenerations));
        let preloaded = Estimate::of(&scenario(
            "name=\"x\"\nduration=\"1m\"\ntick=\"1s\"\n[params]\nexpired_refresh_tokens=1000000\n",
        ));
        assert!(preloaded.wall >= Duration::from_millis(5_300), "{preloaded}");
        assert!(preloaded.wall < Duration::from_millis(6_000), "one DELETE empties the table: {preloaded}");
        let batched = Estimate::of(&scenario(
            "name=\"x\"\nduration=\"1m\"\ntick=\"1s\"\n[params]\nexpired_refresh_tokens=1000000\npurge_batch_rows=1000\n",
        ));
        assert!(
            batched.wall >= Duration::from_nanos(1_000_000 * (PRELOADED_ROW_NS + PURGED_ROW_NS)),
            "a range a batch: {batched}"
        );
        assert!(batched.wall > preloaded.wall, "batches cost more than emptying the table: {batched}");

        // The boot key and the first 31 regenerations come from the pool; 21 are generated.
        assert!(keys.wall >= Duration::from_nanos(21 * SIGNING_KEY_NS), "{keys}");
        assert!(keys.wall < Duration::from_nanos(22 * SIGNING_KEY_NS), "{keys}");
    }

    #[test]
    fn a_run_over_the_budget_or_the_trace_is_refused_and_one_within_is_not() {
        let hour = Estimate::of(&scenario("name=\"x\"\nduration=\"1h\"\n"));
        assert_eq!(hour.check(Duration::from_secs(600)), Ok(()));
        let error = hour.check(Duration::from_millis(1)).unwrap_err();
        assert!(matches!(error, CostError::OverBudget { .. }));
        assert!(error.to_string().contains("allow it with --budget 1m"), "{error}");

        let crowd = Estimate::of(&scenario(
            "name=\"x\"\nduration=\"91d\"\ntick=\"1s\"\n[[clients]]\nkind=\"jabber\"\ncount=500\n",
        ));
        assert!(crowd.events > TRACE_EVENTS_MAX);
        assert!(matches!(crowd.check(Duration::MAX), Err(CostError::TraceTooLarge { .. })));
    }

    /// A run is held to its budget by what it has spent by the estimate's measure: at the
    /// foreseen counts that is the estimate itself; more steps or events than foreseen cost
    /// more, in the same units, whatever the machine.
    #[test]
    fn spending_is_the_estimate_at_the_foreseen_counts_and_grows_past_them() {
        let estimate = Estimate::of(&scenario(
            "name=\"x\"\nduration=\"1h\"\n[params]\nexpired_refresh_tokens=100000\n[[clients]]\nkind=\"jabber\"\ncount=5\n",
        ));
        assert_eq!(estimate.spent(estimate.steps, estimate.events), estimate.wall);
        let fixed = estimate.spent(0, 0);
        assert_eq!(
            fixed,
            Duration::from_nanos(100_000 * (PRELOADED_ROW_NS + PURGED_WHOLE_ROW_NS)),
            "only the preload, purged in one DELETE"
        );
        let more = estimate.spent(estimate.steps * 10, estimate.events);
        assert_eq!(
            more - estimate.wall,
            Duration::from_nanos(9 * estimate.steps * estimate.hosts * STEP_NS_PER_HOST)
        );
        assert!(estimate.spent(estimate.steps, estimate.events + 1) > estimate.wall);
    }

    /// A slowed link keeps the network busy while messages cross it: a 30-day latency
    /// from the first minute holds (nearly) every tick after it; no link, none.
    #[test]
    fn a_slow_link_keeps_its_ticks_from_being_skipped() {
        let text = |link: &str| {
            format!(
                "name=\"x\"\nduration=\"60d\"\ntick=\"1s\"\n[[clients]]\nkind=\"jabber\"\ncount=2\n{link}"
            )
        };
        let skipping = |text: &str| {
            let mut skipping = scenario(text);
            skipping.skip_idle = true;
            Estimate::of(&skipping)
        };
        let plain = skipping(&text(""));
        let slow = skipping(&text(
            "[[step]]\nat=\"1m\"\naction=\"link\"\nbetween=[\"cucm-pub\",\"site-campus\"]\nlatency=\"30d\"\n",
        ));
        let ticks = 60 * 86_400;
        assert!(plain.steps < ticks / 10, "{plain}");
        assert!(slow.steps >= ticks - 60, "{slow}");
        assert!(slow.wall > plain.wall * 5, "{slow} against {plain}");
    }

    /// A batched purge costs per batch: a DELETE, two unskippable steps and an event each.
    /// 2,000,000 rows one at a time would overflow the trace: refused before the run.
    #[test]
    fn batched_purges_cost_per_batch_and_one_row_batches_of_millions_are_refused() {
        let purge = |batch: &str| {
            Estimate::of(&scenario(&format!(
                "name=\"x\"\nduration=\"1h\"\n[params]\nexpired_refresh_tokens=2000000\n{batch}"
            )))
        };
        let whole = purge("");
        let thousands = purge("purge_batch_rows=1000\n");
        assert_eq!(thousands.events, whole.events + 2_000);
        assert!(thousands.wall - whole.wall >= Duration::from_nanos(2_000 * PURGE_BATCH_NS), "{thousands}");
        let singles = purge("purge_batch_rows=1\n[[clients]]\nkind=\"jabber\"\ncount=1\n");
        assert!(matches!(singles.check(Duration::MAX), Err(CostError::TraceTooLarge { .. })), "{singles}");
    }
}
