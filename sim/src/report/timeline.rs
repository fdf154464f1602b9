//! The timeline: which events a reader is shown, one line each in the event's own words
//! ([`Event::sentence`]), kept as the trace streams.

use std::collections::BTreeSet;

use crate::clock::format_elapsed;
use crate::report::TimelineMode;
use crate::trace::catalogue::{EventSpec, Role};
use crate::trace::{Event, Happening, Observe};

/// Timeline lines a run keeps. Past it, the timeline says how many more it left out: the
/// full trace is `--trace FILE`'s job, and a report must not grow with the run.
pub const TIMELINE_LINES_MAX: usize = 10_000;

/// The timeline, built as the trace streams: it keeps only the lines it will print and, for
/// the story, which (event, party) pairs are currently quiet (bounded by the cluster's size).
#[derive(Clone, Debug)]
pub struct Timeline {
    mode: TimelineMode,
    lines: Vec<String>,
    /// Lines the mode would show that did not fit under [`TIMELINE_LINES_MAX`].
    omitted: u64,
    /// (kind, who) pairs shown since that party's last trouble; routine events are shown once
    /// per pair, and again after trouble, so recoveries appear and steady state does not.
    quiet: BTreeSet<(String, String)>,
}

impl Timeline {
    pub fn new(mode: TimelineMode) -> Timeline {
        Timeline { mode, lines: Vec::new(), omitted: 0, quiet: BTreeSet::new() }
    }

    /// `hh:mm:ss.mmm  node  what happened`, one per event shown.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    pub fn mode(&self) -> TimelineMode {
        self.mode
    }

    pub fn omitted(&self) -> u64 {
        self.omitted
    }

    fn shows(&mut self, event: &Event) -> bool {
        let who = event.field_text("client").unwrap_or_else(|| event.node.clone());
        match self.mode {
            TimelineMode::Full => true,
            TimelineMode::None => false,
            // How the run was set up is the trace's and the full timeline's, not the story's.
            TimelineMode::Story if EventSpec::kind_plays(&event.kind, Role::Setup) => false,
            // Cisco CallManager's restart is told by the `callmanager-started` line beside it,
            // which says what it read; "is up again" after it would say it twice.
            TimelineMode::Story
                if event.kind == "service-restarted"
                    && event.field_text("service").as_deref() == Some("callmanager") =>
            {
                false
            }
            TimelineMode::Story if EventSpec::kind_plays(&event.kind, Role::Routine) => {
                self.quiet.insert((event.kind.clone(), who))
            }
            TimelineMode::Story => {
                // Trouble at a CallManager node's AuthZ (publisher or a client's home node)
                // or a step concerns everyone; trouble elsewhere, the parties named.
                if event.node.starts_with("cucm-") || event.node == "scenario" {
                    self.quiet.clear();
                } else {
                    self.quiet.retain(|(_, party)| party != &who && party != &event.node);
                }
                true
            }
        }
    }
}

impl Observe for Timeline {
    fn observe(&mut self, event: &Event, _happening: &Happening, _line: &str) {
        if !self.shows(event) {
            return;
        }
        if self.lines.len() >= TIMELINE_LINES_MAX {
            self.omitted += 1;
            return;
        }
        self.lines.push(format!("{}  {:<11} {}", format_elapsed(event.t_ms), event.node, event.sentence()));
    }
}
