//! Checks read only the trace: nodes never see `check/`, `check/` never sees nodes.
//!
//! * [`expect`]: the scenario's own expectations.
//! * [`invariants`]: what must hold in every run, named after what each forbids.

pub mod expect;
pub mod invariants;

use crate::scenario::Scenario;
use crate::trace::Event;

/// Whether one expectation or invariant held, and why (or why not).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub name: String,
    pub held: bool,
    pub detail: String,
}

/// Every check of one run.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub expectations: Vec<Outcome>,
    pub invariants: Vec<Outcome>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.expectations.iter().chain(&self.invariants).all(|outcome| outcome.held)
    }

    pub fn failures(&self) -> impl Iterator<Item = &Outcome> {
        self.expectations.iter().chain(&self.invariants).filter(|outcome| !outcome.held)
    }
}

/// Runs the scenario's expectations and every invariant. `jsonl` is `events` as JSON Lines;
/// `secrets` are the text forms of the keys the run used, which must not appear in it.
pub fn check(scenario: &Scenario, events: &[Event], jsonl: &str, secrets: &[String]) -> Report {
    Report {
        expectations: scenario
            .expectations
            .iter()
            .map(|expectation| expect::evaluate(expectation, events))
            .collect(),
        invariants: invariants::all(events, jsonl, scenario.epoch_s, secrets),
    }
}
