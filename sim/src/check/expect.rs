//! A scenario's `[[expect]]` entries, evaluated on the trace.

use crate::check::Outcome;
use crate::clock::format_elapsed;
use crate::scenario::Expectation;
use crate::trace::Event;

/// Held when a matching event occurs in the window (or, with `absent`, when none does). The
/// detail names the first match, or what came closest, so a failure says where to look.
pub fn evaluate(expectation: &Expectation, events: &[Event]) -> Outcome {
    let in_window = |event: &&Event| {
        let t = std::time::Duration::from_millis(event.t_ms);
        expectation.within.contains(&t)
    };
    let same_kind: Vec<&Event> = events
        .iter()
        .filter(|event| event.kind == expectation.event)
        .filter(|event| expectation.node.as_ref().is_none_or(|node| &event.node == node))
        .collect();
    let matching: Vec<&Event> = same_kind
        .iter()
        .copied()
        .filter(in_window)
        .filter(|event| fields_match(expectation, event))
        .collect();
    let name = format!("line {}: {expectation}", expectation.line);
    match (expectation.absent, matching.first()) {
        (false, Some(first)) => Outcome {
            name,
            held: true,
            detail: format!(
                "{} at {} ({} in all)",
                describe(first),
                format_elapsed(first.t_ms),
                matching.len()
            ),
        },
        (true, None) => Outcome { name, held: true, detail: "none occurred".to_string() },
        (true, Some(first)) => Outcome {
            name,
            held: false,
            detail: format!(
                "{} occurred at {} ({} in all)",
                describe(first),
                format_elapsed(first.t_ms),
                matching.len()
            ),
        },
        (false, None) => Outcome {
            name,
            held: false,
            detail: match same_kind.first() {
                Some(nearest) => format!(
                    "no match; {} `{}` events elsewhere, first: {} at {}",
                    same_kind.len(),
                    expectation.event,
                    describe(nearest),
                    format_elapsed(nearest.t_ms)
                ),
                None => format!("no `{}` event at all", expectation.event),
            },
        },
    }
}

fn fields_match(expectation: &Expectation, event: &Event) -> bool {
    expectation.fields.iter().all(|(name, value)| event.field_text(name).as_deref() == Some(value.as_str()))
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
