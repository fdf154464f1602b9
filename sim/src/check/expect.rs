//! A scenario's `[[expect]]` entries, each an online check over the trace.
//!
//! A failure says where to look: for a missing event, the nearest candidate (the event of
//! that kind that differs in the fewest fields, then the closest in time), field by field
//! (wanted / got) and how far outside the window it fell; for an `absent` that failed, the
//! offending event; for a `count`, how many there were.

use std::time::Duration;

use crate::check::{Check, Outcome};
use crate::clock::format_elapsed;
use crate::scenario::{format_duration, Expectation};
use crate::trace::{Event, Happening};

/// Held when a matching event occurs in the window (or, with `absent`, when none does; with
/// `count`, when the number of matches is in range). It keeps the first match and the
/// nearest miss, nothing else.
pub struct ExpectationCheck {
    expectation: Expectation,
    /// The first matching event, described, and when.
    first_match: Option<(String, u64)>,
    matches: u64,
    /// Matches that came before the `after` expectation first held (not counted).
    early: u64,
    /// When the `after` expectation first held (at once when there is none).
    gate_opened_ms: Option<u64>,
    /// The event of the expected kind closest to matching, when none matched.
    nearest: Option<Candidate>,
    of_kind: u64,
}

/// An event of the expected kind that did not match, and how far it was from matching.
struct Candidate {
    description: String,
    t_ms: u64,
    /// (field, wanted, got): `node` first, then the fields in name order.
    differences: Vec<(String, String, String)>,
    /// How far outside the window, and on which side (`true`: before it opens); `None`
    /// inside it.
    outside: Option<(Duration, bool)>,
}

impl Candidate {
    /// Fewer differing fields first (being outside the window counts as one), then closer.
    fn score(&self) -> (usize, Duration) {
        let distance = self.outside.map_or(Duration::ZERO, |(distance, _)| distance);
        (self.differences.len() + usize::from(self.outside.is_some()), distance)
    }
}

impl ExpectationCheck {
    pub fn new(expectation: Expectation) -> ExpectationCheck {
        ExpectationCheck {
            expectation,
            first_match: None,
            matches: 0,
            early: 0,
            gate_opened_ms: None,
            nearest: None,
            of_kind: 0,
        }
    }

    pub fn expectation(&self) -> &Expectation {
        &self.expectation
    }

    /// Whether a match has been seen (what a later `after` waits for).
    pub fn has_matched(&self) -> bool {
        self.first_match.is_some()
    }

    /// When the evidence the verdict rests on happened: the first match (what an `absent`
    /// forbids, or what a count counted) or, with none, the nearest miss.
    pub fn evidence_ms(&self) -> Option<u64> {
        self.first_match.as_ref().map(|(_, t_ms)| *t_ms).or(self.nearest.as_ref().map(|nearest| nearest.t_ms))
    }

    /// One event, with whether the expectation this one follows (`after`) has held yet.
    pub fn observe_gated(&mut self, event: &Event, gate_open: bool) {
        if gate_open && self.gate_opened_ms.is_none() {
            self.gate_opened_ms = Some(event.t_ms);
        }
        let expectation = &self.expectation;
        if event.kind != expectation.event {
            return;
        }
        self.of_kind += 1;
        let differing = self.differing(event);
        let t = Duration::from_millis(event.t_ms);
        let within = &expectation.within;
        let outside = if t < within.start {
            Some((within.start - t, true))
        } else if t >= within.end {
            Some((t - within.end, false))
        } else {
            None
        };
        if differing == 0 && outside.is_none() {
            if !gate_open {
                self.early += 1;
                return;
            }
            self.matches += 1;
            if self.first_match.is_none() {
                self.first_match = Some((describe(event), event.t_ms));
            }
            return;
        }
        // Written out only when it is the nearest so far: most events of a kind are not.
        let distance = outside.map_or(Duration::ZERO, |(distance, _)| distance);
        let score = (differing + usize::from(outside.is_some()), distance);
        if self.nearest.as_ref().is_none_or(|nearest| score < nearest.score()) {
            let differences = self
                .differences(event)
                .map(|(field, wanted, got)| (field.to_string(), wanted.to_string(), got))
                .collect();
            self.nearest =
                Some(Candidate { description: describe(event), t_ms: event.t_ms, differences, outside });
        }
    }

    /// How many ways `event` differs from the expectation (see [`Self::differences`]),
    /// without writing any of them out.
    fn differing(&self, event: &Event) -> usize {
        let expectation = &self.expectation;
        let node = usize::from(expectation.node.as_ref().is_some_and(|node| *node != event.node));
        node + expectation.fields.iter().filter(|(name, wanted)| !same(event, name, wanted)).count()
    }

    /// (field, wanted, got) for each way `event` differs from the expectation: `node` first,
    /// then the fields in name order.
    fn differences<'e>(&'e self, event: &'e Event) -> impl Iterator<Item = (&'e str, &'e str, String)> + 'e {
        let expectation = &self.expectation;
        let node = expectation
            .node
            .as_deref()
            .filter(|node| *node != event.node)
            .map(|node| ("node", node, event.node.clone()));
        let fields = expectation.fields.iter().filter(move |(name, wanted)| !same(event, name, wanted)).map(
            move |(name, wanted)| {
                let got = event.field_text(name).unwrap_or_else(|| "(none)".to_string());
                (name.as_str(), wanted.as_str(), got)
            },
        );
        node.into_iter().chain(fields)
    }

    fn missing(&self) -> String {
        let expectation = &self.expectation;
        let mut detail = match &self.nearest {
            Some(nearest) => {
                let mut parts: Vec<String> = nearest
                    .differences
                    .iter()
                    .map(|(field, wanted, got)| format!("{field}: wanted {wanted}, got {got}"))
                    .collect();
                match nearest.outside {
                    Some((distance, true)) => {
                        parts.push(format!("{} before the window opens", format_duration(distance)))
                    }
                    Some((distance, false)) => {
                        parts.push(format!("{} after the window closes", format_duration(distance)))
                    }
                    None => {}
                }
                format!(
                    "no match; nearest of {} `{}` event(s): {} at {} ({})",
                    self.of_kind,
                    expectation.event,
                    nearest.description,
                    format_elapsed(nearest.t_ms),
                    parts.join("; ")
                )
            }
            None if self.early > 0 => "no match".to_string(),
            None => format!("no `{}` event at all", expectation.event),
        };
        if let Some(after) = &expectation.after {
            match self.gate_opened_ms {
                None => {
                    detail.push_str(&format!("; the expectation it follows, [{}], never held", after.label))
                }
                Some(t_ms) if self.early > 0 => detail.push_str(&format!(
                    "; {} match(es) came before [{}] first held at {}",
                    self.early,
                    after.label,
                    format_elapsed(t_ms)
                )),
                Some(_) => {}
            }
        }
        detail
    }
}

impl Check for ExpectationCheck {
    /// Expectations name fields as the scenario file does, checked against the catalogue
    /// when it is parsed; they read the recorded fields by those names.
    fn observe(&mut self, event: &Event, _happening: &Happening, _line: &str) {
        self.observe_gated(event, true);
    }

    fn outcome(&self) -> Outcome {
        let expectation = &self.expectation;
        let name = format!("line {}: {expectation}", expectation.line);
        let judged = self.of_kind;
        let first = self
            .first_match
            .as_ref()
            .map(|(first, t_ms)| format!("{first} at {} ({} in all)", format_elapsed(*t_ms), self.matches));
        if expectation.absent {
            // An `absent … after [x]` whose `x` never held judged nothing: it fails.
            if let (Some(after), None) = (&expectation.after, self.gate_opened_ms) {
                return Outcome {
                    name,
                    held: false,
                    detail: format!("the expectation it follows, [{}], never held", after.label),
                    judged,
                };
            }
            return match first {
                None => Outcome { name, held: true, detail: "none occurred".to_string(), judged },
                Some(first) => Outcome { name, held: false, detail: format!("{first} occurred"), judged },
            };
        }
        match (&expectation.count, first) {
            (Some(count), first) => {
                // A count (even of 0) after an expectation that never held judged nothing.
                let held = count.contains(&self.matches)
                    && (expectation.after.is_none() || self.gate_opened_ms.is_some());
                let wanted = match count.start() == count.end() {
                    true => count.start().to_string(),
                    false => format!("{}..{}", count.start(), count.end()),
                };
                let detail = match first {
                    Some(first) => format!("{} match(es), wanted {wanted}; first: {first}", self.matches),
                    None if held => format!("0 matches, as wanted ({wanted})"),
                    None => format!("0 matches, wanted {wanted}: {}", self.missing()),
                };
                Outcome { name, held, detail, judged }
            }
            (None, Some(first)) => Outcome { name, held: true, detail: first, judged },
            (None, None) => Outcome { name, held: false, detail: self.missing(), judged },
        }
    }
}

/// Whether `event`'s field `name` reads `wanted` (compared as text, as the file wrote it).
fn same(event: &Event, name: &str, wanted: &str) -> bool {
    match event.fields.get(name) {
        Some(serde_json::Value::String(text)) => text == wanted,
        // Numbers and booleans, as the trace writes them (`Value`'s own `==` compares strings only).
        Some(other) => {
            let text = other.to_string();
            text == wanted
        }
        None => false,
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
