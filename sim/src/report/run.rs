//! A finished run: what the report and the tests read once the simulation is over.

use crate::check::Report;
use crate::report::{Exposures, Logins, Purges, Timeline};
use crate::trace::{self, catalogue::EventKind};

/// A finished run: what held, the trace's certificate and the timeline. The trace itself
/// went to the sink as it happened (docs/architecture.md "Trace and checks").
pub struct Run {
    pub seed: u64,
    /// The trace's hash (the replay certificate), its size and its events per kind.
    pub trace: trace::Summary,
    pub report: Report,
    pub timeline: Timeline,
    /// Each revocation's exposure window.
    pub exposures: Exposures,
    /// The daily purges and the refreshes that waited for them.
    pub purges: Purges,
    /// How each device signed in, and what proxy mode cost.
    pub logins: Logins,
    /// turmoil steps taken: with idle skipping, far fewer than duration / tick.
    pub steps: u64,
    /// Why the trace sink failed, if it did (a full disk); the checks still saw every event.
    pub sink_error: Option<std::io::Error>,
}

impl Run {
    /// Events of kind `kind` in the trace.
    pub fn count(&self, kind: EventKind) -> u64 {
        self.trace.counts.get(kind.name()).copied().unwrap_or(0)
    }
}
