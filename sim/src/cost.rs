//! What a run will cost, known before it starts: turmoil steps every host once per tick, so
//! wall time follows (duration / tick) × hosts, plus the work of each event (crypto, the
//! plugin call, the trace) and each signing-key generation. A run that would overflow the
//! trace or take longer than the caller's budget is refused up front with the estimate and
//! the way out, instead of being discovered hours (or gigabytes) later.
//!
//! The constants are measurements on the 2-core CI machine (release build, `authzlab run`,
//! see the note of the issue that set them); an estimate is a guide to within a factor of
//! about two, not a promise.

use std::fmt;
use std::time::Duration;

use crate::scenario::{format_duration, Action, Scenario};
use crate::tokens::KeyKind;
use crate::trace::TRACE_EVENTS_MAX;

/// Wall time of one turmoil step, per host. Measured: 24 h at a 100 ms tick, publisher,
/// one subscriber and Unity, no clients.
pub const STEP_NS_PER_HOST: u64 = 1_300;
/// Events one client adds per simulated hour: a voicemail poll every 5 minutes (an
/// acceptance at Unity), refreshes and their UDS calls. Measured on the shipped scenarios.
pub const EVENTS_PER_CLIENT_HOUR: u64 = 16;
/// Wall time of one event's work (RSA verify, JWE decrypt, the plugin call, serialization).
pub const EVENT_NS: u64 = 130_000;
/// Generating one RSA-2048 signing key from the seeded RNG: 50 to 150 ms.
pub const SIGNING_KEY_NS: u64 = 150_000_000;
/// Events each scenario step adds (the step, the regeneration, a sync per subscriber).
const EVENTS_PER_STEP_AND_SUBSCRIBER: u64 = 2;

/// What a scenario will cost to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Estimate {
    pub steps: u64,
    pub hosts: u64,
    pub events: u64,
    pub wall: Duration,
}

impl Estimate {
    pub fn of(scenario: &Scenario) -> Estimate {
        let tick_ms = scenario.tick.as_millis().max(1) as u64;
        let steps = scenario.duration.as_millis() as u64 / tick_ms;
        let clients = u64::from(scenario.client_count());
        let subscribers = u64::from(scenario.cluster.cucm_subscribers);
        let hosts =
            1 + subscribers + u64::from(scenario.cluster.unity_validator.is_some()) + u64::from(clients > 0);
        let hours = scenario.duration.as_secs().div_ceil(3600);
        let step_events = scenario.steps.len() as u64 * (1 + EVENTS_PER_STEP_AND_SUBSCRIBER * subscribers);
        let events = clients * hours * EVENTS_PER_CLIENT_HOUR + step_events;
        let signing_keys = 1 + scenario
            .steps
            .iter()
            .filter(|step| step.action == Action::RegenerateKey(KeyKind::Signing))
            .count() as u64;
        let wall_ns = steps
            .saturating_mul(hosts)
            .saturating_mul(STEP_NS_PER_HOST)
            .saturating_add(events.saturating_mul(EVENT_NS))
            .saturating_add(signing_keys.saturating_mul(SIGNING_KEY_NS));
        Estimate { steps, hosts, events, wall: Duration::from_nanos(wall_ns) }
    }

    /// Refuses a run that would overflow the trace or take longer than `budget`.
    pub fn check(&self, budget: Duration) -> Result<(), CostError> {
        if self.events > TRACE_EVENTS_MAX as u64 {
            return Err(CostError::TraceTooLarge { estimate: *self });
        }
        if self.wall > budget {
            return Err(CostError::OverBudget { estimate: *self, budget });
        }
        Ok(())
    }
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
        "the run would record {estimate}, more than the trace holds ({TRACE_EVENTS_MAX} events, \
         TRACE_EVENTS_MAX); shorten the duration or lower the client count"
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
