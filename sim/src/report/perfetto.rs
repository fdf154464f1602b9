//! `--perfetto FILE`: the trace in the Chrome trace-event format, which Perfetto
//! (ui.perfetto.dev, offline too) and chrome://tracing open.
//!
//! Each node is a thread of one process, each event a zero-length slice on it named by its
//! kind with its fields as arguments; an event that names another node (`from`, `client`,
//! `to`, ...) is also a flow arrow from that node's thread to the event's. Key epochs are
//! slices on their own threads, from one regeneration to the next. Written as the trace
//! streams: nothing is kept but the node numbering and the open epochs.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde_json::{json, Value};

use crate::trace::{Event, Happening, Observe};

/// Threads (nodes and key tracks) a file numbers; past it, events of new nodes go on one
/// shared `other` thread.
pub const PERFETTO_THREADS_MAX: u32 = 1024;

/// The process all threads belong to.
const PID: u32 = 1;
/// Thread numbers of the key-epoch tracks (nodes count from 10).
const SIGNING_TID: u32 = 1;
const ENCRYPTION_TID: u32 = 2;
const OTHER_TID: u32 = 3;
const FIRST_NODE_TID: u32 = 10;

/// A Chrome trace-event file being written.
pub struct PerfettoTrace {
    out: Box<dyn Write>,
    tids: BTreeMap<String, u32>,
    next_tid: u32,
    /// The flows drawn so far (their ids).
    flows: u64,
    /// Each key's current epoch: since when, its short checksum.
    epochs: BTreeMap<String, (u64, String)>,
    last_ms: u64,
    /// The first write error; later writes are skipped and [`Self::finish`] returns it.
    error: Option<io::Error>,
}

impl PerfettoTrace {
    pub fn new(mut out: Box<dyn Write>, title: &str) -> PerfettoTrace {
        let mut error = None;
        let head = json!({"ph": "M", "name": "process_name", "pid": PID, "tid": 0, "args": {"name": title}});
        let tracks =
            [(SIGNING_TID, "signing key"), (ENCRYPTION_TID, "encryption key"), (OTHER_TID, "other nodes")]
                .map(|(tid, name)| thread_name(tid, name).to_string())
                .join(",\n");
        if let Err(e) = write!(out, "{{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n{head},\n{tracks}") {
            error = Some(e);
        }
        PerfettoTrace {
            out,
            tids: BTreeMap::new(),
            next_tid: FIRST_NODE_TID,
            flows: 0,
            epochs: BTreeMap::new(),
            last_ms: 0,
            error,
        }
    }

    fn emit(&mut self, record: &Value) {
        if self.error.is_none() {
            if let Err(e) = write!(self.out, ",\n{record}") {
                self.error = Some(e);
            }
        }
    }

    fn tid(&mut self, node: &str) -> u32 {
        if let Some(tid) = self.tids.get(node) {
            return *tid;
        }
        if self.next_tid >= FIRST_NODE_TID + PERFETTO_THREADS_MAX {
            return OTHER_TID;
        }
        let tid = self.next_tid;
        self.next_tid += 1;
        self.tids.insert(node.to_string(), tid);
        self.emit(&thread_name(tid, node));
        // Threads sorted as they first appeared: Perfetto otherwise sorts by name.
        self.emit(&json!({"ph": "M", "name": "thread_sort_index", "pid": PID, "tid": tid, "args": {"sort_index": tid}}));
        tid
    }

    fn close_epoch(&mut self, key: &str, until_ms: u64) {
        if let Some((since, label)) = self.epochs.remove(key) {
            let tid = if key == "signing" { SIGNING_TID } else { ENCRYPTION_TID };
            self.emit(&json!({
                "ph": "X", "name": format!("{key} {label}"), "cat": "key", "pid": PID, "tid": tid,
                "ts": since * 1000, "dur": (until_ms - since) * 1000,
            }));
        }
    }

    /// Closes the open key epochs at the run's end and the JSON; returns the first write error.
    /// Called once, when the run is over.
    pub fn finish(&mut self) -> io::Result<()> {
        let last = self.last_ms;
        for key in self.epochs.keys().cloned().collect::<Vec<_>>() {
            self.close_epoch(&key, last);
        }
        if self.error.is_none() {
            if let Err(e) = write!(self.out, "\n]}}\n").and_then(|_| self.out.flush()) {
                self.error = Some(e);
            }
        }
        self.error.take().map_or(Ok(()), Err)
    }
}

fn thread_name(tid: u32, name: &str) -> Value {
    json!({"ph": "M", "name": "thread_name", "pid": PID, "tid": tid, "args": {"name": name}})
}

impl Observe for PerfettoTrace {
    fn observe(&mut self, event: &Event, _happening: &Happening, _line: &str) {
        self.last_ms = self.last_ms.max(event.t_ms);
        let tid = self.tid(&event.node);
        let ts = event.t_ms * 1000;
        if event.kind == "key-regenerated" {
            if let (Some(key), Some(checksum)) = (event.field_text("key"), event.field_text("checksum")) {
                self.close_epoch(&key, event.t_ms);
                self.epochs.insert(key, (event.t_ms, checksum.chars().take(8).collect()));
            }
        }
        let args: serde_json::Map<String, Value> =
            event.fields.iter().map(|(name, value)| (name.clone(), value.clone())).collect();
        self.emit(&json!({"ph": "X", "name": event.kind, "cat": "event", "pid": PID, "tid": tid, "ts": ts, "dur": 0, "args": args}));
        let peer = super::page::peer_of(event);
        if let Some((peer, towards_this)) = peer {
            let other = self.tid(&peer);
            let (from, to) = if towards_this { (other, tid) } else { (tid, other) };
            self.flows += 1;
            let id = self.flows;
            // A flow binds to a slice on each end: the sending side gets one of its own.
            if towards_this {
                self.emit(&json!({"ph": "X", "name": format!("→ {}", event.kind), "cat": "event", "pid": PID, "tid": from, "ts": ts, "dur": 0}));
            } else {
                self.emit(&json!({"ph": "X", "name": format!("← {}", event.kind), "cat": "event", "pid": PID, "tid": to, "ts": ts, "dur": 0}));
            }
            self.emit(&json!({"ph": "s", "id": id, "name": event.kind, "cat": "message", "pid": PID, "tid": from, "ts": ts}));
            self.emit(&json!({"ph": "f", "bp": "e", "id": id, "name": event.kind, "cat": "message", "pid": PID, "tid": to, "ts": ts}));
        }
    }
}
