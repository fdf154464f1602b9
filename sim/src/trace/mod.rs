//! The trace: what happened, in order, with simulated time. It is the simulation's only
//! output; checks, timelines and the replay certificate (its SHA-256) all read it.
//!
//! The trace streams: each event is serialized once, hashed into a running SHA-256, written
//! to the sink (`--trace`) and shown to the observers (checks, the timeline) as it happens,
//! then dropped. Nothing keeps the whole trace, so a run's memory follows the cluster's state,
//! not the run's length (docs/architecture.md "Trace and checks").
//!
//! Fields hold ids, checksums and verdicts, never keys or raw tokens: tokens appear as their
//! `tid`, keys as their [`KeyChecksum`](authzlab_host::KeyChecksum).
//!
//! * [`catalogue`]: every event kind with its typed fields ([`Happening`]), in one place.
//! * [`file`](mod@file): the `--trace` destination, vetted before the run and renamed into place after.
//! * [`diff`]: two traces compared by structure (`authzlab diff`).
//! * [`header`]: the trace file's first line, what a run was made of (`authzlab replay`).
//! * [`recorded`]: a trace file read back, event by event.
//! * [`sentence`]: each event in words, for the story.

pub mod catalogue;
pub mod diff;
pub mod domain;
pub mod file;
pub mod header;
pub mod reason;
pub mod recorded;
pub mod sentence;
pub mod token_events;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::{self, BufWriter, Write};
use std::rc::Rc;

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

pub use catalogue::Happening;

use crate::clock;
use crate::node_id::NodeId;

/// Events one run may record; a run that reaches it stops with an error rather than
/// growing without bound. A 60-day run of a 20-client cluster records ~10^5.
pub const TRACE_EVENTS_MAX: u64 = 2_000_000;

/// One thing that happened on one node.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Event {
    /// Simulated milliseconds since the start of the run.
    pub t_ms: u64,
    pub node: String,
    /// What happened, in kebab-case: `key-regenerated`, `voicemail-login-rejected`, ...
    pub kind: String,
    /// Details, in key order so that the serialization is stable.
    #[serde(flatten)]
    pub fields: BTreeMap<String, Value>,
}

impl Event {
    /// A field as text, as scenario expectations compare it.
    pub fn field_text(&self, name: &str) -> Option<String> {
        self.fields.get(name).map(|value| match value {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        })
    }

    /// The event as one JSON Lines line, without its newline: fields in key order.
    pub fn to_line(&self) -> String {
        // Serializing a struct of strings, integers and JSON values cannot fail.
        serde_json::to_string(self).expect("events serialize")
    }
}

/// Every event recorded, kept in memory: what a node's unit tests read back.
#[cfg(test)]
#[derive(Clone, Default)]
pub(crate) struct Seen(pub Rc<RefCell<Vec<Event>>>);

#[cfg(test)]
impl Observe for Seen {
    fn observe(&mut self, event: &Event, _happening: &Happening, _line: &str) {
        self.0.borrow_mut().push(event.clone());
    }
}

/// Something that reads the trace as it is written: a check or the timeline. It sees each
/// event once, in order, as recorded (`event`), as the node said it (`happening`, typed: what
/// checks read, so that a renamed field breaks the build) and as its JSON Lines form, and
/// keeps only what it needs.
pub trait Observe {
    fn observe(&mut self, event: &Event, happening: &Happening, line: &str);

    /// Text that must never reach the trace (a key the run now holds, in its text forms).
    /// It is told before any event could carry it, and is written nowhere.
    fn learn_secrets(&mut self, _forms: &[String]) {}

    /// A bearer token with no recognisable shape (an opaque token), told when it is issued.
    fn learn_token(&mut self, _token: &str) {}
}

/// A shared observer: the run keeps one handle to read the result, the trace the other.
impl<T: Observe> Observe for Rc<RefCell<T>> {
    fn observe(&mut self, event: &Event, happening: &Happening, line: &str) {
        self.borrow_mut().observe(event, happening, line);
    }

    fn learn_secrets(&mut self, forms: &[String]) {
        self.borrow_mut().learn_secrets(forms);
    }

    fn learn_token(&mut self, token: &str) {
        self.borrow_mut().learn_token(token);
    }
}

/// The shared, append-only stream of a run. Cloning shares it. Single-threaded, as turmoil
/// runs every host on the caller's thread.
#[derive(Clone)]
pub struct Trace {
    inner: Rc<RefCell<Stream>>,
}

struct Stream {
    hasher: Sha256,
    events: u64,
    counts: BTreeMap<String, u64>,
    sink: Option<BufWriter<Box<dyn Write>>>,
    /// The first write error; later events are still hashed and checked, not written.
    sink_error: Option<io::Error>,
    observers: Vec<Box<dyn Observe>>,
    overflowed: bool,
    /// What the run is made of, when known: debug builds assert that every event stays
    /// inside the domains the catalogue declares (what the scenario parser promised).
    names: Option<domain::Names>,
}

/// What a finished trace leaves: its certificate and its size, never its events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// SHA-256 of the JSON Lines trace: the replay certificate.
    pub hash: String,
    pub events: u64,
    /// Events per kind, in name order.
    pub counts: BTreeMap<String, u64>,
}

impl Default for Trace {
    fn default() -> Trace {
        Trace::new()
    }
}

impl Trace {
    pub fn new() -> Trace {
        Trace {
            inner: Rc::new(RefCell::new(Stream {
                hasher: Sha256::new(),
                events: 0,
                counts: BTreeMap::new(),
                sink: None,
                sink_error: None,
                observers: Vec::new(),
                overflowed: false,
                names: None,
            })),
        }
    }

    /// Writes the trace as JSON Lines to `sink` as events happen.
    pub fn stream_to(&self, sink: Box<dyn Write>) {
        self.inner.borrow_mut().sink = Some(BufWriter::new(sink));
    }

    /// The nodes, devices and users this run is made of (see [`domain::Names`]).
    pub fn expect_names(&self, names: domain::Names) {
        self.inner.borrow_mut().names = Some(names);
    }

    /// Shows every event from now on to `observer`.
    pub fn observe(&self, observer: Box<dyn Observe>) {
        self.inner.borrow_mut().observers.push(observer);
    }

    /// A recorder for one node.
    pub fn node(&self, node: &NodeId) -> Tracer {
        Tracer { node: node.clone(), trace: self.clone() }
    }

    /// Appends what happened on `node` at simulated time `t_ms`: hashed, written, observed.
    pub fn record(&self, t_ms: u64, node: &NodeId, happening: Happening) {
        let mut stream = self.inner.borrow_mut();
        if stream.events >= TRACE_EVENTS_MAX {
            stream.overflowed = true;
            return;
        }
        let kind = happening.kind();
        let event = Event {
            t_ms,
            node: node.as_str().to_owned(),
            kind: kind.to_string(),
            fields: happening.fields(),
        };
        #[cfg(debug_assertions)]
        if let Some(names) = &stream.names {
            assert_in_domains(&event, names);
        }
        let mut line = event.to_line();
        for observer in &mut stream.observers {
            observer.observe(&event, &happening, &line);
        }
        line.push('\n');
        stream.hasher.update(line.as_bytes());
        stream.events += 1;
        match stream.counts.get_mut(kind) {
            Some(count) => *count += 1,
            None => {
                stream.counts.insert(kind.to_string(), 1);
            }
        }
        let Stream { sink, sink_error, .. } = &mut *stream;
        if let (Some(writer), None) = (sink.as_mut(), sink_error.as_ref()) {
            if let Err(error) = writer.write_all(line.as_bytes()) {
                *sink_error = Some(error);
            }
        }
    }

    /// Tells the observers about secret text the run now holds (see [`Observe::learn_secrets`]).
    pub fn learn_secrets(&self, forms: &[String]) {
        for observer in &mut self.inner.borrow_mut().observers {
            observer.learn_secrets(forms);
        }
    }

    /// Tells the observers about an opaque token just issued (see [`Observe::learn_token`]).
    pub fn learn_token(&self, token: &str) {
        for observer in &mut self.inner.borrow_mut().observers {
            observer.learn_token(token);
        }
    }

    /// True once an event was dropped because the trace was full.
    /// Events recorded so far.
    pub fn events(&self) -> u64 {
        self.inner.borrow().events
    }

    pub fn overflowed(&self) -> bool {
        self.inner.borrow().overflowed
    }

    /// Ends the stream: flushes the sink and gives the certificate. A sink that failed at
    /// any point is an error here (the events were still hashed and checked).
    pub fn finish(&self) -> (Summary, Result<(), io::Error>) {
        let mut stream = self.inner.borrow_mut();
        let written = match (stream.sink_error.take(), stream.sink.take()) {
            (Some(error), _) => Err(error),
            (None, Some(mut writer)) => writer.flush(),
            (None, None) => Ok(()),
        };
        stream.observers.clear();
        let hash = hex::encode(std::mem::take(&mut stream.hasher).finalize());
        (Summary { hash, events: stream.events, counts: std::mem::take(&mut stream.counts) }, written)
    }
}

/// Records events for one node at the current simulated time.
#[derive(Clone)]
pub struct Tracer {
    node: NodeId,
    trace: Trace,
}

impl Tracer {
    pub fn node(&self) -> &NodeId {
        &self.node
    }

    /// Records what happened on this node now.
    pub fn emit(&self, happening: Happening) {
        self.trace.record(clock::elapsed().as_millis() as u64, &self.node, happening);
    }

    /// Secret text this node now holds, for the checks that make sure it never leaks.
    pub fn learn_secrets(&self, forms: &[String]) {
        self.trace.learn_secrets(forms);
    }

    /// An opaque token this node just issued, for the check that keeps tokens out of the trace.
    pub fn learn_token(&self, token: &str) {
        self.trace.learn_token(token);
    }
}

/// A node that records a value its catalogue entry does not admit breaks the promise the
/// scenario parser made (it refused expectations for values that "cannot occur"). Debug
/// builds (every test) stop there; the catalogue or the node is wrong, not the user's input.
#[cfg(debug_assertions)]
fn assert_in_domains(event: &Event, names: &domain::Names) {
    assert!(
        names.nodes.contains(&event.node),
        "event {} at node {:?}, not a node of the run",
        event.kind,
        event.node
    );
    let spec = catalogue::EventSpec::find(&event.kind).expect("every event kind is in the catalogue");
    for field in spec.fields {
        if let Some(text) = event.field_text(field.name) {
            assert!(
                field.domain.admits(&text, names),
                "{}.{} = {text:?} is outside its catalogue domain ({})",
                event.kind,
                field.name,
                field.domain.describe()
            );
        }
    }
}

/// Events as JSON Lines, for tests and benchmarks that build traces by hand.
pub fn to_jsonl(events: &[Event]) -> String {
    events.iter().map(|event| event.to_line() + "\n").collect()
}

/// The replay certificate of a JSON Lines text: what [`Trace::finish`] computes as it goes.
pub fn hash(jsonl: &str) -> String {
    hex::encode(Sha256::digest(jsonl.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Collects what it is shown, to see what observers see.
    #[derive(Default)]
    struct Seen {
        lines: Vec<String>,
        secrets: Vec<String>,
    }

    impl Observe for Seen {
        fn observe(&mut self, event: &Event, happening: &Happening, line: &str) {
            assert_eq!(event.to_line(), line);
            assert_eq!(
                Happening::from_fields(&event.kind, &event.fields).as_ref(),
                Ok(happening),
                "read back"
            );
            self.lines.push(line.to_string());
        }
        fn learn_secrets(&mut self, forms: &[String]) {
            self.secrets.extend_from_slice(forms);
        }
    }

    /// A sink the test can read after the trace is done with it.
    #[derive(Clone, Default)]
    struct Shared(Rc<RefCell<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn happening(n: u32) -> Happening {
        Happening::KeySyncFailed { to: format!("cucm-sub-{n}"), attempts: n }
    }

    #[test]
    fn the_stream_hash_is_the_hash_of_the_written_lines_and_observers_see_each_once() {
        let trace = Trace::new();
        let sink = Shared::default();
        trace.stream_to(Box::new(sink.clone()));
        let seen = Rc::new(RefCell::new(Seen::default()));
        trace.observe(Box::new(seen.clone()));
        trace.learn_secrets(&["not-in-any-line".to_string()]);
        for n in 0..3 {
            trace.record(u64::from(n) * 100, &NodeId::PUBLISHER, happening(n));
        }
        let (summary, written) = trace.finish();
        written.unwrap();
        let bytes = String::from_utf8(sink.0.borrow().clone()).unwrap();
        assert_eq!(bytes.lines().count(), 3);
        assert_eq!(summary.hash, hash(&bytes));
        assert_eq!(summary.events, 3);
        assert_eq!(summary.counts, BTreeMap::from([("key-sync-failed".to_string(), 3)]));
        assert_eq!(seen.borrow().lines, bytes.lines().collect::<Vec<_>>());
        assert_eq!(seen.borrow().secrets, ["not-in-any-line"]);
        assert!(!bytes.contains("not-in-any-line"), "secrets are never written");
        assert_eq!(
            bytes.lines().next().unwrap(),
            r#"{"t_ms":0,"node":"cucm-pub","kind":"key-sync-failed","attempts":0,"to":"cucm-sub-0"}"#
        );
    }

    /// A sink that fails after its first write, like a full disk.
    struct Failing(u32);

    impl Write for Failing {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0 += 1;
            if self.0 > 1 {
                return Err(io::Error::other("disk full"));
            }
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_failing_sink_is_reported_at_the_end_and_the_hash_is_unchanged() {
        let reference = Trace::new();
        let failing = Trace::new();
        // BufWriter passes writes larger than its buffer straight through.
        failing.stream_to(Box::new(Failing(0)));
        let long = "x".repeat(10_000);
        for trace in [&reference, &failing] {
            for n in 0..3 {
                trace.record(
                    n,
                    &NodeId::PUBLISHER,
                    Happening::KeyFetchFailed { from: long.clone(), reason: "r".into() },
                );
            }
        }
        let (expected, _) = reference.finish();
        let (summary, written) = failing.finish();
        assert_eq!(written.unwrap_err().to_string(), "disk full");
        assert_eq!(summary, expected);
    }

    #[test]
    fn a_full_trace_stops_recording_and_says_so() {
        let trace = Trace::new();
        trace.inner.borrow_mut().events = TRACE_EVENTS_MAX - 1;
        trace.record(0, &NodeId::PUBLISHER, happening(1));
        assert!(!trace.overflowed());
        trace.record(1, &NodeId::PUBLISHER, happening(2));
        assert!(trace.overflowed());
        assert_eq!(trace.finish().0.events, TRACE_EVENTS_MAX);
    }
}
