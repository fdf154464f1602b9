//! Checks read only the trace: nodes never see `check/`, `check/` never sees nodes.
//!
//! Every check is an online observer (DESIGN.md "Trace and checks"): it is shown each event
//! once, as the run records it, keeps only the state it needs (a first offence, a count) and
//! gives its [`Outcome`] when the run ends. Nothing here holds the trace.
//!
//! * [`expect`]: the scenario's own expectations.
//! * [`invariants`]: what must hold in every run, named after what each forbids.
//! * [`keys_agree`]: `show key authz` agrees on every node once every node caught up.
//! * [`sip_edge`]: SIP OAuth and the edge: valid tokens, listed mTLS peers, ports in range.
//! * [`secrets`]: a growing set of secret strings searched for in every event.

pub mod expect;
pub mod invariants;
pub mod keys_agree;
pub mod secrets;
pub mod sip_edge;

use crate::scenario::Scenario;
use crate::trace::{Event, Observe};

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

    /// A negative scenario's verdict: each invariant it names (`violates`) must have been
    /// violated, which then counts as holding, with its first offending event; one that held
    /// fails, since the scenario did not show what it set out to show.
    pub fn expect_violations(&mut self, violates: &[String]) {
        for outcome in self.invariants.iter_mut().filter(|outcome| violates.contains(&outcome.name)) {
            *outcome = if outcome.held {
                Outcome {
                    name: outcome.name.clone(),
                    held: false,
                    detail: format!("expected to be violated (`violates`), but it held: {}", outcome.detail),
                }
            } else {
                Outcome {
                    name: outcome.name.clone(),
                    held: true,
                    detail: format!("violated, as the scenario expects: {}", outcome.detail),
                }
            };
        }
    }
}

/// One check as a small state machine over the trace.
pub trait Check {
    /// One event and its JSON Lines form, in trace order.
    fn observe(&mut self, event: &Event, line: &str);
    /// Secret text the run now holds (see [`Observe::learn_secrets`]).
    fn learn_secrets(&mut self, _forms: &[String]) {}
    /// A bearer token just issued that has no recognisable shape (an opaque token).
    fn learn_token(&mut self, _token: &str) {}
    /// The verdict on what was observed so far.
    fn outcome(&self) -> Outcome;
}

/// The scenario's expectations and every invariant, observing one run.
pub struct Checks {
    expectations: Vec<expect::ExpectationCheck>,
    invariants: Vec<Box<dyn Check>>,
}

impl Checks {
    pub fn new(scenario: &Scenario) -> Checks {
        Checks {
            expectations: scenario.expectations.iter().cloned().map(expect::ExpectationCheck::new).collect(),
            invariants: invariants::all(scenario.epoch_s),
        }
    }

    /// What held, once the run has ended.
    pub fn report(&self) -> Report {
        Report {
            expectations: self.expectations.iter().map(Check::outcome).collect(),
            invariants: self.invariants.iter().map(|check| check.outcome()).collect(),
        }
    }
}

impl Observe for Checks {
    fn observe(&mut self, event: &Event, line: &str) {
        for check in &mut self.expectations {
            check.observe(event, line);
        }
        for check in &mut self.invariants {
            check.observe(event, line);
        }
    }

    fn learn_secrets(&mut self, forms: &[String]) {
        for check in &mut self.invariants {
            check.learn_secrets(forms);
        }
    }

    fn learn_token(&mut self, token: &str) {
        for check in &mut self.invariants {
            check.learn_token(token);
        }
    }
}
