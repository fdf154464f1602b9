//! A scenario's `[[expect]]` entries, each an online check over the trace.

use crate::check::{Check, Outcome};
use crate::clock::format_elapsed;
use crate::scenario::Expectation;
use crate::trace::Event;

/// Held when a matching event occurs in the window (or, with `absent`, when none does). It
/// remembers the first match, or the first event of the right kind that did not match, so
/// that a failure says where to look; nothing else.
pub struct ExpectationCheck {
    expectation: Expectation,
    /// The first matching event, described, and when.
    first_match: Option<(String, u64)>,
    matches: u64,
    /// The first event of the expected kind (and node), matching or not.
    first_of_kind: Option<(String, u64)>,
    of_kind: u64,
}

impl ExpectationCheck {
    pub fn new(expectation: Expectation) -> ExpectationCheck {
        ExpectationCheck { expectation, first_match: None, matches: 0, first_of_kind: None, of_kind: 0 }
    }

    fn fields_match(&self, event: &Event) -> bool {
        self.expectation
            .fields
            .iter()
            .all(|(name, value)| event.field_text(name).as_deref() == Some(value.as_str()))
    }
}

impl Check for ExpectationCheck {
    fn observe(&mut self, event: &Event, _line: &str) {
        let expectation = &self.expectation;
        if event.kind != expectation.event
            || expectation.node.as_ref().is_some_and(|node| &event.node != node)
        {
            return;
        }
        self.of_kind += 1;
        if self.first_of_kind.is_none() {
            self.first_of_kind = Some((describe(event), event.t_ms));
        }
        let t = std::time::Duration::from_millis(event.t_ms);
        if expectation.within.contains(&t) && self.fields_match(event) {
            self.matches += 1;
            if self.first_match.is_none() {
                self.first_match = Some((describe(event), event.t_ms));
            }
        }
    }

    fn outcome(&self) -> Outcome {
        let expectation = &self.expectation;
        let name = format!("line {}: {expectation}", expectation.line);
        match (expectation.absent, &self.first_match) {
            (false, Some((first, t_ms))) => Outcome {
                name,
                held: true,
                detail: format!("{first} at {} ({} in all)", format_elapsed(*t_ms), self.matches),
            },
            (true, None) => Outcome { name, held: true, detail: "none occurred".to_string() },
            (true, Some((first, t_ms))) => Outcome {
                name,
                held: false,
                detail: format!("{first} occurred at {} ({} in all)", format_elapsed(*t_ms), self.matches),
            },
            (false, None) => Outcome {
                name,
                held: false,
                detail: match &self.first_of_kind {
                    Some((nearest, t_ms)) => format!(
                        "no match; {} `{}` events elsewhere, first: {nearest} at {}",
                        self.of_kind,
                        expectation.event,
                        format_elapsed(*t_ms)
                    ),
                    None => format!("no `{}` event at all", expectation.event),
                },
            },
        }
    }
}

fn describe(event: &Event) -> String {
    let fields: Vec<String> = event
        .fields
        .iter()
        .filter(|(name, _)| !name.ends_with("_key") && !name.ends_with("checksum"))
        .map(|(name, _)| format!("{name}={}", event.field_text(name).unwrap_or_default()))
        .collect();
    format!("{} at {} [{}]", event.kind, event.node, fields.join(" "))
}
