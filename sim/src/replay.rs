//! `authzlab replay trace.jsonl`: runs again what a trace's header says it was made of and
//! compares, line by line as the new run writes them, with the recorded events: "identical"
//! with the certificate, or the first event that differs, both versions side by side with
//! the events before it. A scenario or plugin that no longer matches the header is refused
//! (the comparison would mean nothing), naming which.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::rc::Rc;

use authzlab_host::PluginHost;

use crate::cluster::{self, RunOptions};
use crate::report::TimelineMode;
use crate::trace::header::{plugin_stamps, ScenarioMismatch, TraceHeader, TRACE_FORMAT};
use crate::trace::recorded::TRACE_LINE_BYTES_MAX;

/// Events shown before the first difference.
pub const CONTEXT_LINES: usize = 3;

/// What a replay found.
#[derive(Debug, PartialEq, Eq)]
pub enum Replayed {
    /// Every event the same: the certificate.
    Identical { sha256: String, events: u64 },
    /// The first event (1-based, after the header) that differs, with what came before.
    Differs { event: u64, recorded: Option<String>, replayed: Option<String>, before: Vec<String> },
}

/// Reads the header, refuses a changed scenario or plugin, runs again and compares. A run
/// reseeds its plugins from its own seed, so any plugin host replays it.
pub fn replay(trace: &Path, plugins: &PluginHost) -> Result<(TraceHeader, Replayed), String> {
    let name = trace.display().to_string();
    let mut recorded = crate::trace::file::open_recorded(trace)?;
    let header = TraceHeader::read(&mut recorded, &name)?.ok_or_else(|| {
        format!("{name}: its first line is no trace header (written by `authzlab run --trace`)")
    })?;
    if header.authzlab_trace != TRACE_FORMAT {
        return Err(format!(
            "{name}: trace format {}, this authzlab reads {TRACE_FORMAT}",
            header.authzlab_trace
        ));
    }
    let mut scenario = header.scenario().map_err(|mismatch| match mismatch {
        ScenarioMismatch::Unreadable(e) => format!("{name}: the scenario it names: {e} (the header's paths are as the run was given them: replay from where it ran)"),
        ScenarioMismatch::Changed { now, recorded } => format!(
            "{name}: {} has changed since the trace was written (sha256 {}, the trace says {})",
            header.scenario,
            &now[..12],
            &recorded[..recorded.len().min(12)]
        ),
        ScenarioMismatch::Invalid(e) => e,
    })?;
    scenario.skip_idle = header.skip_idle;
    let stamps = plugin_stamps(&scenario)?;
    for stamp in &header.plugins {
        match stamps.iter().find(|now| now.name == stamp.name) {
            Some(now) if now.sha256 == stamp.sha256 => {}
            Some(now) => {
                return Err(format!(
                "{name}: plugin {} has changed since the trace was written (sha256 {}, the trace says {})",
                stamp.name,
                &now.sha256[..12],
                &stamp.sha256[..stamp.sha256.len().min(12)]
            ))
            }
            None => return Err(format!("{name}: the scenario no longer loads plugin {}", stamp.name)),
        }
    }
    let comparer = Comparer::new(recorded);
    let shared = Rc::new(RefCell::new(comparer));
    let options = RunOptions {
        sink: Some(Box::new(SharedSink(shared.clone()))),
        timeline: TimelineMode::None,
        ..RunOptions::default()
    };
    let run = cluster::run_with(&scenario, header.seed, plugins, options).map_err(|e| e.to_string())?;
    let mut comparer = shared.borrow_mut();
    comparer.finish();
    let replayed = match comparer.difference.take() {
        None => Replayed::Identical { sha256: run.trace.hash.clone(), events: run.trace.events },
        Some(difference) => difference,
    };
    Ok((header, replayed))
}

/// Compares each line the new run writes with the recorded trace's next line, keeping the
/// last few for context; stops comparing at the first difference.
struct Comparer {
    recorded: BufReader<File>,
    pending: Vec<u8>,
    compared: u64,
    before: VecDeque<String>,
    difference: Option<Replayed>,
}

impl Comparer {
    fn new(recorded: BufReader<File>) -> Comparer {
        Comparer { recorded, pending: Vec::new(), compared: 0, before: VecDeque::new(), difference: None }
    }

    fn next_recorded(&mut self) -> Option<String> {
        let mut line = Vec::new();
        let read = (&mut self.recorded).take(TRACE_LINE_BYTES_MAX + 1).read_until(b'\n', &mut line).ok()?;
        (read > 0).then(|| String::from_utf8_lossy(&line).trim_end_matches('\n').to_string())
    }

    fn compare(&mut self, replayed: String) {
        if self.difference.is_some() {
            return;
        }
        self.compared += 1;
        let recorded = self.next_recorded();
        if recorded.as_deref() == Some(replayed.as_str()) {
            self.before.push_back(replayed);
            if self.before.len() > CONTEXT_LINES {
                self.before.pop_front();
            }
            return;
        }
        self.difference = Some(Replayed::Differs {
            event: self.compared,
            recorded,
            replayed: Some(replayed),
            before: self.before.iter().cloned().collect(),
        });
    }

    /// After the run: a recorded trace that goes on differs at its next event.
    fn finish(&mut self) {
        if self.difference.is_some() {
            return;
        }
        if let Some(recorded) = self.next_recorded() {
            self.difference = Some(Replayed::Differs {
                event: self.compared + 1,
                recorded: Some(recorded),
                replayed: None,
                before: self.before.iter().cloned().collect(),
            });
        }
    }
}

struct SharedSink(Rc<RefCell<Comparer>>);

impl Write for SharedSink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut comparer = self.0.borrow_mut();
        comparer.pending.extend_from_slice(bytes);
        while let Some(end) = comparer.pending.iter().position(|byte| *byte == b'\n') {
            let line: Vec<u8> = comparer.pending.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line[..line.len() - 1]).into_owned();
            comparer.compare(line);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The report `authzlab replay` prints.
pub fn render(trace: &Path, header: &TraceHeader, replayed: &Replayed) -> String {
    let mut out = format!(
        "{}: {} --seed {} (recorded with authzlab {}, {}; replayed with {}, {})\n",
        trace.display(),
        header.scenario,
        header.seed,
        header.authzlab,
        header.toolchain,
        env!("CARGO_PKG_VERSION"),
        env!("AUTHZLAB_RUSTC_VERSION")
    );
    match replayed {
        Replayed::Identical { sha256, events } => {
            out.push_str(&format!("identical (sha256 {sha256}, {events} events)\n"));
        }
        Replayed::Differs { event, recorded, replayed, before } => {
            out.push_str(&format!("differs at event {event}; before it, both have:\n"));
            for line in before {
                out.push_str(&format!("    {line}\n"));
            }
            let none = "(nothing: the trace ends here)".to_string();
            out.push_str(&format!("  recorded  {}\n", recorded.as_ref().unwrap_or(&none)));
            out.push_str(&format!("  replayed  {}\n", replayed.as_ref().unwrap_or(&none)));
        }
    }
    out
}
