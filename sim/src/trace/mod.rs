//! The trace: what happened, in order, with simulated time. It is the simulation's only
//! output; checks, timelines and the replay certificate (its SHA-256) all read it.
//!
//! Fields hold ids, checksums and verdicts, never keys or raw tokens: tokens appear as their
//! `tid`, keys as their [`KeyChecksum`](authzlab_host::KeyChecksum).
//!
//! * [`catalogue`]: every event kind with its typed fields ([`Happening`]), in one place.
//! * [`file`]: the `--trace` destination, vetted before the run and written whole.

pub mod catalogue;
pub mod file;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

pub use catalogue::Happening;

use crate::clock;

/// Events one run may record; a run that reaches it stops with an error rather than
/// growing without bound. A 60-day run of a 20-client cluster records ~10^5.
pub const TRACE_EVENTS_MAX: usize = 2_000_000;

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
}

/// The shared, append-only record of a run. Cloning shares it.
#[derive(Clone, Default)]
pub struct Trace {
    inner: Arc<Mutex<TraceInner>>,
}

#[derive(Default)]
struct TraceInner {
    events: Vec<Event>,
    overflowed: bool,
}

impl Trace {
    pub fn new() -> Trace {
        Trace::default()
    }

    /// A recorder for one node.
    pub fn node(&self, node: &str) -> Tracer {
        Tracer { node: node.to_string(), trace: self.clone() }
    }

    /// Appends what happened on `node` at simulated time `t_ms`.
    pub fn record(&self, t_ms: u64, node: &str, happening: Happening) {
        let mut inner = self.inner.lock().unwrap_or_else(|poison| poison.into_inner());
        if inner.events.len() >= TRACE_EVENTS_MAX {
            inner.overflowed = true;
            return;
        }
        let kind = happening.kind().to_string();
        inner.events.push(Event { t_ms, node: node.to_string(), kind, fields: happening.into_fields() });
    }

    /// True once an event was dropped because the trace was full.
    pub fn overflowed(&self) -> bool {
        self.inner.lock().unwrap_or_else(|poison| poison.into_inner()).overflowed
    }

    pub fn events(&self) -> Vec<Event> {
        self.inner.lock().unwrap_or_else(|poison| poison.into_inner()).events.clone()
    }
}

/// Records events for one node at the current simulated time.
#[derive(Clone)]
pub struct Tracer {
    node: String,
    trace: Trace,
}

impl Tracer {
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Records what happened on this node now.
    pub fn emit(&self, happening: Happening) {
        self.trace.record(clock::elapsed().as_millis() as u64, &self.node, happening);
    }
}

/// The trace as JSON Lines: one event per line, fields in key order.
pub fn to_jsonl(events: &[Event]) -> String {
    let mut out = String::new();
    for event in events {
        // Serializing a struct of strings, integers and JSON values cannot fail.
        out.push_str(&serde_json::to_string(event).expect("events serialize"));
        out.push('\n');
    }
    out
}

/// The replay certificate: SHA-256 of the JSON Lines trace ([`to_jsonl`]). Same scenario,
/// seed and build give the same hash.
pub fn hash(jsonl: &str) -> String {
    hex::encode(Sha256::digest(jsonl.as_bytes()))
}
