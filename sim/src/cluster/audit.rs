//! The end of a run: the trace finished, the one check that reads the database rather than
//! the trace, the scenario's expected violations applied, and the [`Run`] handed back.

use std::cell::RefCell;
use std::rc::Rc;

use super::build::Built;
use super::{Run, RunError};
use crate::check::{self, Checks};
use crate::report::{Exposures, Logins, Purges, Timeline};
use crate::scenario::Scenario;
use crate::trace::Trace;

/// The observers a run reads its result from.
pub(super) struct Readers {
    pub checks: Rc<RefCell<Checks>>,
    pub timeline: Rc<RefCell<Timeline>>,
    pub exposures: Rc<RefCell<Exposures>>,
    pub purges: Rc<RefCell<Purges>>,
    pub logins: Rc<RefCell<Logins>>,
}

/// The run's result, once `built` has run its course in `steps` turmoil steps.
pub(super) fn audit(
    built: Built<'_>,
    scenario: &Scenario,
    seed: u64,
    trace: Trace,
    readers: Readers,
    steps: u64,
) -> Result<Run, RunError> {
    // The hosts go first; the publisher's state and its disk stay for the audit.
    let Built { sim, publisher, disk, registered, .. } = built;
    drop(sim);
    if trace.overflowed() {
        return Err(RunError::TraceFull { at_ms: scenario.duration.as_millis() as u64 });
    }
    let (summary, written) = trace.finish();
    let mut report = readers.checks.borrow().report();
    // One check reads the database itself rather than the trace.
    let mut audit = check::invariants::TableHoldsNoRawToken::default();
    publisher
        .borrow()
        .each_table_row(|row| audit.observe(row))
        .map_err(|e| RunError::Simulation(e.to_string()))?;
    report.invariants.push(audit.outcome());
    report.expect_violations(&scenario.violates);
    drop((publisher, registered, disk));
    Ok(Run {
        seed,
        trace: summary,
        report,
        timeline: readers.timeline.borrow().clone(),
        exposures: readers.exposures.borrow().clone(),
        purges: readers.purges.borrow().clone(),
        logins: readers.logins.borrow().clone(),
        steps,
        sink_error: written.err(),
    })
}
