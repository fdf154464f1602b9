//! Where and when each check first failed: the timeline page's failure markers.
//!
//! A check's [`Outcome`](super::Outcome) says what failed in words; a person looking at a
//! timeline wants the place. Watching the checks flip from holding to failing, event by
//! event, finds it without teaching every check to remember times. It costs a verdict per
//! check per event, so only the page (`--html`) pays for it.

use std::collections::BTreeSet;

use super::Checks;
use crate::trace::Event;

/// Offences a run keeps: one per check and anomaly at most, far fewer in practice.
pub const OFFENCES_MAX: usize = 256;

/// The event at which one check (an invariant, an expectation or an anomaly) first failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offence {
    pub check: String,
    pub t_ms: u64,
    pub node: String,
    pub kind: String,
}

/// The checks seen failing so far, and where each first did.
#[derive(Clone, Debug, Default)]
pub struct Offences {
    failed: BTreeSet<String>,
    pub found: Vec<Offence>,
}

impl Offences {
    /// Called after `checks` observed `event`: every check failing now and not before
    /// failed at `event`.
    pub fn after(&mut self, checks: &Checks, event: &Event) {
        for name in checks.failing_now() {
            if self.failed.contains(&name) || self.found.len() >= OFFENCES_MAX {
                continue;
            }
            self.failed.insert(name.clone());
            self.found.push(Offence {
                check: name,
                t_ms: event.t_ms,
                node: event.node.clone(),
                kind: event.kind.clone(),
            });
        }
    }
}

/// A fresh set of a scenario's checks watched for where each first fails, as an observer of
/// a run (the shrinker's: it needs when its failure first happens).
pub struct Watch {
    checks: Checks,
    pub offences: Offences,
}

impl Watch {
    pub fn new(checks: Checks) -> Watch {
        Watch { checks, offences: Offences::default() }
    }

    /// The checks watched, as far as the run has come.
    pub fn checks(&self) -> &Checks {
        &self.checks
    }
}

impl crate::trace::Observe for Watch {
    fn observe(&mut self, event: &Event, happening: &crate::trace::Happening, line: &str) {
        self.checks.observe(event, happening, line);
        self.offences.after(&self.checks, event);
    }

    fn learn_secrets(&mut self, forms: &[String]) {
        self.checks.learn_secrets(forms);
    }

    fn learn_token(&mut self, token: &str) {
        self.checks.learn_token(token);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::hand_made::{happening, recorded};
    use crate::scenario::Scenario;
    use crate::trace::Observe as _;

    /// A check that fails at the third event is placed there, once, whatever follows.
    #[test]
    fn a_check_is_placed_at_the_event_where_it_first_failed() {
        let scenario =
            Scenario::parse("name = \"t\"\nduration = \"1h\"\n", std::path::Path::new("t.toml")).unwrap();
        let epoch = scenario.epoch_s;
        let refreshed = |t_ms: u64, lifetime_s: u64| {
            recorded(
                t_ms,
                "cucm-pub",
                "access-token-refreshed",
                &[("access_exp", (epoch + t_ms / 1000 + lifetime_s).into())],
            )
        };
        let events = [
            refreshed(1_000, 3600),
            refreshed(2_000, 3600),
            refreshed(3_000, 90_000),
            refreshed(4_000, 90_000),
        ];
        let mut watch = Watch::new(Checks::new(&scenario));
        for event in &events {
            watch.observe(event, &happening(event), &event.to_line());
        }
        let found: Vec<_> =
            watch.offences.found.iter().map(|o| (o.check.as_str(), o.t_ms, o.node.as_str())).collect();
        assert_eq!(found, [("no_token_lifetime_out_of_bounds", 3_000, "cucm-pub")]);
    }
}
