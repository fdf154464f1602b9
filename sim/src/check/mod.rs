//! Checks read only the trace: nodes never see `check/`, `check/` never sees nodes.
//!
//! Every check is an online observer (docs/architecture.md "Trace and checks"): it is shown each event
//! once, as the run records it, keeps only the state it needs (a first offence, a count) and
//! gives its [`Outcome`] when the run ends. Nothing here holds the trace.
//!
//! * [`anomalies`]: token-consistency anomalies, each named by the scenario or failing it.
//! * [`clocks`]: the nodes' skewed clocks, and times written as the timeline writes them.
//! * [`expect`]: the scenario's own expectations.
//! * [`invariants`]: what must hold in every run, named after what each forbids.
//! * [`keys_agree`]: `show key authz` agrees on every node once every node caught up.
//! * [`offences`]: where and when each check first failed (the timeline page's markers).
//! * [`sip_edge`]: SIP OAuth and the edge: valid tokens, listed mTLS peers, ports in range.
//! * [`secrets`]: a growing set of secret strings searched for in every event.
//! * [`table_rows`]: the refresh-token table's rows by validity, as the trace tells them.

pub mod anomalies;
pub mod clocks;
pub mod expect;
pub mod invariants;
pub mod keys_agree;
pub mod offences;
pub mod secrets;
pub mod sip_edge;
pub mod table_rows;

use crate::scenario::Scenario;
use crate::trace::{Event, Happening, Observe};

/// Whether one expectation or invariant held, and why (or why not).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub name: String,
    pub held: bool,
    pub detail: String,
    /// Events the check judged (for an expectation: events of its kind). An invariant that
    /// judged nothing held vacuously; the library test requires each to judge something in
    /// some scenario, so a renamed event or field cannot make one hold unseen.
    pub judged: u64,
}

/// An invariant's outcome: its first offence, or that it held and what it judged
/// (`held (judged 12: access-token acceptances)`).
pub fn verdict(name: &str, violation: Option<String>, judged: u64, what: &str) -> Outcome {
    match violation {
        None => Outcome {
            name: name.to_string(),
            held: true,
            detail: format!("held (judged {judged}: {what})"),
            judged,
        },
        Some(detail) => Outcome { name: name.to_string(), held: false, detail, judged },
    }
}

/// Every check of one run.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub expectations: Vec<Outcome>,
    pub invariants: Vec<Outcome>,
    /// One outcome per anomaly name ([`anomalies::NAMES`]).
    pub anomalies: Vec<Outcome>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.expectations.iter().chain(&self.invariants).chain(&self.anomalies).all(|outcome| outcome.held)
    }

    pub fn failures(&self) -> impl Iterator<Item = &Outcome> {
        self.expectations
            .iter()
            .chain(&self.invariants)
            .chain(&self.anomalies)
            .filter(|outcome| !outcome.held)
    }

    /// A negative scenario's verdict: each invariant it names (`violates`) must have been
    /// violated, which then counts as holding, with its first offending event; one that held
    /// fails, since the scenario did not show what it set out to show.
    pub fn expect_violations(&mut self, violates: &[String]) {
        for outcome in self.invariants.iter_mut().filter(|outcome| violates.contains(&outcome.name)) {
            let (held, detail) = if outcome.held {
                // `held (judged 3: purges)` reads `… but it held (judged 3: purges)`.
                let what = outcome.detail.strip_prefix("held").unwrap_or(&outcome.detail).trim_start();
                (
                    false,
                    format!("expected to be violated (`violates`), but it held {what}")
                        .trim_end()
                        .to_string(),
                )
            } else {
                (true, format!("violated, as the scenario expects: {}", outcome.detail))
            };
            outcome.held = held;
            outcome.detail = detail;
        }
    }
}

/// One check as a small state machine over the trace.
pub trait Check {
    /// One event, in trace order: where and when (`event`), what (`happening`, typed: checks
    /// read fields from it, never by name) and its JSON Lines form (for text searches).
    fn observe(&mut self, event: &Event, happening: &Happening, line: &str);
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
    anomalies: anomalies::Anomalies,
}

impl Checks {
    pub fn new(scenario: &Scenario) -> Checks {
        Checks {
            expectations: scenario.expectations.iter().cloned().map(expect::ExpectationCheck::new).collect(),
            invariants: invariants::all(scenario.epoch_s),
            anomalies: anomalies::Anomalies::new(scenario.epoch_s, &scenario.anomalies),
        }
    }

    /// What held, once the run has ended.
    pub fn report(&self) -> Report {
        Report {
            expectations: self.expectations.iter().map(Check::outcome).collect(),
            invariants: self.invariants.iter().map(|check| check.outcome()).collect(),
            anomalies: self.anomalies.outcomes(),
        }
    }

    /// The invariants failing so far, and the anomalies seen that the scenario does not name
    /// (one it names but has not yet seen is not failing yet: it may come). Asked after every
    /// event by [`offences`], so anomalies are read from what was found, not written out.
    pub fn failing_now(&self) -> impl Iterator<Item = String> + '_ {
        let invariants =
            self.invariants.iter().map(|check| check.outcome()).filter(|o| !o.held).map(|o| o.name);
        invariants.chain(self.anomalies.unexpected_seen().map(str::to_string))
    }

    /// Each expectation's outcome with when its evidence happened, if anything did.
    pub fn expectation_evidence(&self) -> impl Iterator<Item = (Outcome, Option<u64>)> + '_ {
        self.expectations.iter().map(|check| (check.outcome(), check.evidence_ms()))
    }
}

impl Observe for Checks {
    fn observe(&mut self, event: &Event, happening: &Happening, line: &str) {
        // In file order: an `after` names an earlier expectation, which has seen this event
        // already, so a match of both on one event counts as "not before".
        for index in 0..self.expectations.len() {
            let gate_open = match &self.expectations[index].expectation().after {
                Some(after) => self.expectations[after.index].has_matched(),
                None => true,
            };
            self.expectations[index].observe_gated(event, gate_open);
        }
        for check in &mut self.invariants {
            check.observe(event, happening, line);
        }
        self.anomalies.observe(event, happening);
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

/// Hand-made traces for the checks' tests: events as a node would record them.
#[cfg(test)]
pub(crate) mod hand_made {
    use serde_json::Value;

    use super::{Check, Outcome};
    use crate::trace::{Event, Happening};

    /// An event of `kind` with `fields` set and every other field at its default (what
    /// [`Happening::sketch`] fills in), so that it reads back as a [`Happening`].
    pub fn recorded(t_ms: u64, node: &str, kind: &str, fields: &[(&str, Value)]) -> Event {
        let fields = Happening::sketch(kind, fields).fields();
        Event { t_ms, node: node.to_string(), kind: kind.to_string(), fields }
    }

    /// The typed form of a recorded event.
    pub fn happening(event: &Event) -> Happening {
        Happening::from_fields(&event.kind, &event.fields).unwrap_or_else(|error| panic!("{error}"))
    }

    /// Shows `events` to `check` in order, as the trace would.
    pub fn run(check: &mut dyn Check, events: &[Event]) -> Outcome {
        for event in events {
            check.observe(event, &happening(event), &event.to_line());
        }
        check.outcome()
    }

    /// A JSON object's members as `recorded` takes them.
    pub fn members(object: &Value) -> Vec<(&str, Value)> {
        object
            .as_object()
            .expect("an object")
            .iter()
            .map(|(name, value)| (name.as_str(), value.clone()))
            .collect()
    }
}
