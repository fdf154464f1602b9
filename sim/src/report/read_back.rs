//! `authzlab report TRACE`: a trace someone sent, read back without running anything. The
//! story and the checks come from the events alone; the scenario the header names supplies
//! the expectations when it is still there, unchanged.

use std::fmt::Write as _;
use std::path::Path;

use crate::check::{Checks, Report};
use crate::report::page::PageTitle;
use crate::report::page_files::PageFiles;
use crate::report::{Timeline, TimelineMode};
use crate::scenario::Scenario;
use crate::trace::header::{ScenarioMismatch, TraceHeader};
use crate::trace::{Happening, Observe};

/// What `authzlab report` prints and whether a check failed.
pub struct ReadBack {
    pub text: String,
    pub failed: bool,
}

/// The scenario a header names, if it is still there as it was; otherwise why not.
fn scenario_of(header: &TraceHeader) -> Result<Scenario, String> {
    header.scenario().map_err(|mismatch| match mismatch {
        ScenarioMismatch::Unreadable(e) => {
            format!("checks not evaluated: the scenario the trace names cannot be read ({e})")
        }
        ScenarioMismatch::Changed { .. } => format!(
            "checks not evaluated: {} changed since the trace was recorded (its SHA-256 differs from the header's)",
            header.scenario
        ),
        ScenarioMismatch::Invalid(e) => format!("checks not evaluated: {e}"),
    })
}

/// Reads `trace` once, feeding the story, the checks and the files asked for.
pub fn read_back(trace: &Path, html: Option<&Path>, perfetto: Option<&Path>) -> Result<ReadBack, String> {
    let name = trace.display().to_string();
    let header = TraceHeader::read(&mut crate::trace::file::open_recorded(trace)?, &name)?;
    let scenario = match &header {
        Some(header) => scenario_of(header),
        None => Err("checks not evaluated: the trace has no header naming its scenario".to_string()),
    };
    let (name, seed) = match (&scenario, &header) {
        (Ok(scenario), Some(header)) => (scenario.name.clone(), header.seed),
        (Err(_), Some(header)) => (header.scenario.clone(), header.seed),
        (_, None) => (trace.display().to_string(), 0),
    };
    let checks = || scenario.as_ref().ok().map(Checks::new);
    let files = PageFiles::open(html, perfetto, &[trace], checks(), &format!("{name} · seed {seed}"))?;
    let mut observers = files.observers();
    let mut story = Timeline::new(TimelineMode::Story);
    // The page watches the checks itself (to place its markers); without a page, they are
    // watched here. Either way once.
    let mut own_checks = if html.is_some() { None } else { checks() };
    let mut events = 0u64;
    crate::trace::recorded::each_event(trace, |event, _| {
        let happening = Happening::from_fields(&event.kind, &event.fields)?;
        let line = event.to_line();
        story.observe(&event, &happening, &line);
        if let Some(checks) = own_checks.as_mut() {
            checks.observe(&event, &happening, &line);
        }
        for observer in observers.iter_mut() {
            observer.observe(&event, &happening, &line);
        }
        events += 1;
        Ok(())
    })?;
    drop(observers);
    let watched = own_checks.map(|checks| checks.report()).or_else(|| files.report());
    let report: Option<(Report, Vec<String>)> = match (&scenario, watched) {
        (Ok(scenario), Some(mut report)) => {
            report.expect_violations(&scenario.violates);
            Some((report, scenario.violates.iter().chain(&scenario.anomalies).cloned().collect()))
        }
        _ => None,
    };
    let mut text = String::new();
    let _ = writeln!(text, "authzlab report: {} ({events} events)", trace.display());
    if let Some(header) = &header {
        let _ = writeln!(
            text,
            "  scenario {} · seed {} · authzlab {} · replay: authzlab replay {}",
            header.scenario,
            header.seed,
            header.authzlab,
            crate::report::shell_word(trace)
        );
    }
    let _ = writeln!(text, "\nstory:");
    for line in story.lines() {
        let _ = writeln!(text, "  {line}");
    }
    if story.omitted() > 0 {
        let _ = writeln!(text, "  ... {} more line(s) left out", story.omitted());
    }
    // The table audit and the secret search need the run itself (its database, its keys).
    let note = "checks re-read from the trace alone: the table audit and the search for secrets need the run";
    let checks_note = match &scenario {
        Ok(_) => note.to_string(),
        Err(reason) => reason.clone(),
    };
    let _ = writeln!(text, "\nchecks ({checks_note}):");
    let failed = match &report {
        Some((report, _)) => {
            for outcome in report.expectations.iter().chain(&report.invariants).chain(&report.anomalies) {
                let _ = writeln!(
                    text,
                    "  {} {}: {}",
                    if outcome.held { "held  " } else { "FAILED" },
                    outcome.name,
                    outcome.detail
                );
            }
            !report.passed()
        }
        None => false,
    };
    let title = PageTitle {
        scenario: header.as_ref().map_or_else(String::new, |h| h.scenario.clone()),
        name,
        seed,
        sha256: None,
    };
    let written =
        files.commit(&title, report.as_ref().map(|(r, e)| (r, e.as_slice())), Some(&checks_note))?;
    for name in written {
        let _ = writeln!(text, "wrote {name}");
    }
    Ok(ReadBack { text, failed })
}
