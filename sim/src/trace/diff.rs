//! `authzlab diff A B`: where two runs part ways, by structure rather than bytes.
//!
//! Two seeds of one scenario differ on nearly every line (key checksums, token ids, times,
//! the interleaving of clients), so a byte diff shows nothing. Here each node's events are
//! compared as a sequence of their own: an event is its kind and its text fields, with the
//! values a seed draws (ids, checksums, serials: runs of 8 or more hexadecimal characters
//! with a digit) and the digits in log lines replaced by `#`, numbers and times left out.
//! (Numbering drawn values by first appearance was tried: one reordering renumbers every
//! later event, so two seeds then differ everywhere.) The sequences are aligned (Myers'
//! diff); events that only moved (the same signature unmatched on both sides) are counted as
//! reorderings, and for each node the first event one run has more of than the other is
//! shown with what came before it. Times of events both runs have are compared apart,
//! against a tolerance.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use similar::{capture_diff_slices, Algorithm, DiffTag};

use super::Event;
use crate::clock::format_elapsed;
use crate::scenario::format_duration;

/// Events shown before a divergence.
pub const CONTEXT_EVENTS: usize = 3;
/// Shortest run of hexadecimal characters (digits among them) read as a drawn value.
const DRAWN_CHARS_MIN: usize = 8;

/// A trace read back: its events, in order.
pub struct TraceFile {
    pub name: String,
    pub events: Vec<Event>,
}

/// Reads a JSON Lines trace whole (see [`super::recorded::each_event`] for its bounds).
pub fn read(path: &Path) -> Result<TraceFile, String> {
    let mut events = Vec::new();
    super::recorded::each_event(path, |event, _| {
        events.push(event);
        Ok(())
    })?;
    Ok(TraceFile { name: path.display().to_string(), events })
}

/// An event as compared: its kind and text fields with drawn values numbered.
fn signature(event: &Event) -> String {
    let mut out = event.kind.clone();
    for (name, value) in &event.fields {
        let text = match value {
            Value::String(text) => text,
            Value::Bool(flag) => {
                out.push_str(&format!(" {name}={flag}"));
                continue;
            }
            _ => continue,
        };
        out.push_str(&format!(" {name}={}", hide_drawn(text)));
    }
    out
}

/// `text` with each run of [`DRAWN_CHARS_MIN`]+ hexadecimal characters holding a digit (an
/// id, a checksum, a serial) replaced by `#`, and every other digit run too (times and
/// counters inside log lines, client numbers).
fn hide_drawn(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    let mut at = 0;
    while at < chars.len() {
        let hex = |c: char| c.is_ascii_hexdigit() || c == '-';
        if hex(chars[at]) {
            let end = (at..chars.len()).find(|&i| !hex(chars[i])).unwrap_or(chars.len());
            let run: String = chars[at..end].iter().collect();
            if run.len() >= DRAWN_CHARS_MIN && run.chars().any(|c| c.is_ascii_digit()) {
                out.push('#');
            } else {
                let mut digits = false;
                for c in run.chars() {
                    if c.is_ascii_digit() {
                        if !digits {
                            out.push('#');
                        }
                        digits = true;
                    } else {
                        digits = false;
                        out.push(c);
                    }
                }
            }
            at = end;
        } else {
            out.push(chars[at]);
            at += 1;
        }
    }
    out
}

/// How two traces differ.
#[derive(Debug, Default)]
pub struct Comparison {
    /// Per node that differs: its report lines.
    pub nodes: Vec<(String, Vec<String>)>,
    /// Nodes whose sequences agree.
    pub agreeing: usize,
    /// Event kinds only one run has, with how many more: (kind, in A − in B).
    pub kinds: BTreeMap<String, i64>,
    /// Events both runs have: how many, how many moved past the tolerance, the largest move.
    pub matched: usize,
    pub moved: usize,
    pub largest_move_ms: u64,
}

impl Comparison {
    pub fn same_structure(&self) -> bool {
        self.nodes.is_empty()
    }
}

/// Compares `a` and `b` node by node; `tolerance` is how far in time an event both have may
/// move before it counts as moved.
pub fn compare(a: &TraceFile, b: &TraceFile, tolerance: Duration) -> Comparison {
    let mut comparison = Comparison::default();
    let (nodes_a, nodes_b) = (by_node(a), by_node(b));
    let mut names: Vec<&str> = nodes_a.keys().chain(nodes_b.keys()).copied().collect();
    names.sort_unstable();
    names.dedup();
    let empty = Vec::new();
    for node in names {
        let events_a = nodes_a.get(node).unwrap_or(&empty);
        let events_b = nodes_b.get(node).unwrap_or(&empty);
        match compare_node(events_a, events_b, tolerance, &mut comparison) {
            Some(lines) => comparison.nodes.push((node.to_string(), lines)),
            None => comparison.agreeing += 1,
        }
    }
    comparison.kinds.retain(|_, more| *more != 0);
    comparison
}

/// One node's events in both runs, aligned: timing and kinds go into `comparison`; the
/// report lines, when the node's runs differ.
fn compare_node(
    events_a: &[&Event],
    events_b: &[&Event],
    tolerance: Duration,
    comparison: &mut Comparison,
) -> Option<Vec<String>> {
    let signatures = |events: &[&Event]| events.iter().map(|event| signature(event)).collect::<Vec<_>>();
    let (sig_a, sig_b) = (signatures(events_a), signatures(events_b));
    // Signature → how many more A has unmatched than B: zero for one that only moved.
    let mut net: BTreeMap<&str, i64> = BTreeMap::new();
    // (time, in A, index) of every unmatched event.
    let mut unmatched = Vec::new();
    for op in capture_diff_slices(Algorithm::Myers, &sig_a, &sig_b) {
        let (tag, old, new) = op.as_tag_tuple();
        if tag == DiffTag::Equal {
            for (old, new) in old.zip(new) {
                let moved = events_a[old].t_ms.abs_diff(events_b[new].t_ms);
                comparison.matched += 1;
                comparison.largest_move_ms = comparison.largest_move_ms.max(moved);
                comparison.moved += usize::from(moved > tolerance.as_millis() as u64);
            }
            continue;
        }
        // A delete has no new side, an insert no old one, a replace both.
        let sides = old.map(|at| (true, at, events_a[at], sig_a[at].as_str()));
        for (in_a, at, event, sig) in sides.chain(new.map(|at| (false, at, events_b[at], sig_b[at].as_str())))
        {
            let sign = if in_a { 1 } else { -1 };
            *net.entry(sig).or_default() += sign;
            *comparison.kinds.entry(event.kind.clone()).or_default() += sign;
            unmatched.push((event.t_ms, in_a, at));
        }
    }
    if unmatched.is_empty() {
        return None;
    }
    unmatched.sort_unstable();
    let sig_of = |in_a: bool, at: usize| if in_a { sig_a[at].as_str() } else { sig_b[at].as_str() };
    let reordered = unmatched.iter().filter(|(_, in_a, at)| net.get(sig_of(*in_a, *at)) == Some(&0)).count();
    let mut lines = vec![format!("{reordered} event(s) in another order")];
    // The earliest event one run has more of: what the runs really differ by.
    let extra = unmatched.iter().find(|(_, in_a, at)| {
        net.get(sig_of(*in_a, *at)).is_some_and(|more| (*more > 0) == *in_a && *more != 0)
    });
    if let Some(&(t_ms, in_a, at)) = extra {
        let (run, events, other) = if in_a { ("A", events_a, events_b) } else { ("B", events_b, events_a) };
        lines.push(format!("  first event only {run} has, with what both had before it:"));
        // Each node's events are in time order.
        let end = other.partition_point(|event| event.t_ms <= t_ms);
        for event in &other[end.saturating_sub(CONTEXT_EVENTS)..end] {
            lines.push(format!("    before  {}", show(event)));
        }
        lines.push(format!("    only {run}  {}", show(events[at])));
    }
    Some(lines)
}

/// Each node's events, in order.
fn by_node(trace: &TraceFile) -> BTreeMap<&str, Vec<&Event>> {
    let mut nodes: BTreeMap<&str, Vec<&Event>> = BTreeMap::new();
    for event in &trace.events {
        nodes.entry(event.node.as_str()).or_default().push(event);
    }
    nodes
}

/// An event as the diff shows it: time, kind and fields (keys and checksums cut to 8).
fn show(event: &Event) -> String {
    let fields: Vec<String> = event
        .fields
        .iter()
        .map(|(name, value)| {
            let text = match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            let shown: String = text.chars().take(24).collect();
            format!("{name}={shown}{}", if text.chars().count() > 24 { "…" } else { "" })
        })
        .collect();
    format!("{}  {} {}", format_elapsed(event.t_ms), event.kind, fields.join(" "))
}

/// The report `authzlab diff` prints.
pub fn render(
    a: &TraceFile,
    b: &TraceFile,
    comparison: &Comparison,
    tolerance: Duration,
    ignore_time: bool,
) -> String {
    let mut out =
        format!("A: {} ({} events)\nB: {} ({} events)\n\n", a.name, a.events.len(), b.name, b.events.len());
    if comparison.same_structure() {
        out.push_str(&format!(
            "Structure: the same on every node ({} node(s), {} events)\n",
            comparison.agreeing, comparison.matched
        ));
    } else {
        out.push_str(&format!(
            "Structure: {} node(s) differ, {} agree\n",
            comparison.nodes.len(),
            comparison.agreeing
        ));
        for (node, lines) in &comparison.nodes {
            out.push_str(&format!("\n{node}: {}\n", lines.join("\n")));
        }
        let side = |sign: i64| {
            let kinds: Vec<String> = comparison
                .kinds
                .iter()
                .filter(|(_, more)| more.signum() == sign)
                .map(|(kind, more)| format!("{kind} x{}", more.abs()))
                .collect();
            if kinds.is_empty() {
                "nothing".to_string()
            } else {
                kinds.join(", ")
            }
        };
        out.push_str(&format!("\nOnly in A: {}\nOnly in B: {}\n", side(1), side(-1)));
    }
    if !ignore_time {
        out.push_str(&format!(
            "\nTiming: {} of {} events both runs have moved by more than {}; the largest move {}\n",
            comparison.moved,
            comparison.matched,
            format_duration(tolerance),
            format_duration(Duration::from_millis(comparison.largest_move_ms))
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawn_values_and_digits_are_hidden_and_words_kept() {
        assert_eq!(hide_drawn("signing:20d883ba92b8 then 20d883ba92b8"), "signing:# then #");
        assert_eq!(hide_drawn("c0688826-411c-43cd"), "#");
        assert_eq!(hide_drawn("jabber-12 at 00:20:43,900"), "jabber-# at #:#:#,#");
        assert_eq!(hide_drawn("deadbeef"), "deadbeef", "no digit: a word");
    }
}
