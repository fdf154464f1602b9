//! A `--trace` file read back, event by event: its header, then each event in order, never
//! the whole file at once (`authzlab diff` keeps what it reads, `authzlab report` does not).

use std::io::{BufRead, Read};
use std::path::Path;

use serde_json::Value;

use super::header::TraceHeader;
use super::{Event, TRACE_EVENTS_MAX};

/// Longest trace line read; an event is a few hundred bytes.
pub const TRACE_LINE_BYTES_MAX: u64 = 64 << 10;

/// Reads the JSON Lines trace at `path`, calling `each` with every event (`t_ms`, `node`,
/// `kind` and fields) and its line number: at most [`TRACE_EVENTS_MAX`] lines of at most
/// [`TRACE_LINE_BYTES_MAX`] bytes. Returns the header, if the first line is one. Errors name
/// the file and line.
pub fn each_event(
    path: &Path,
    mut each: impl FnMut(Event, usize) -> Result<(), String>,
) -> Result<Option<TraceHeader>, String> {
    let name = path.display().to_string();
    let mut reader = super::file::open_recorded(path)?;
    let mut header = None;
    let mut events = 0u64;
    let mut line = Vec::new();
    for number in 1.. {
        line.clear();
        let read = (&mut reader)
            .take(TRACE_LINE_BYTES_MAX + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| format!("{name}: {e}"))?;
        if read == 0 {
            break;
        }
        if line.len() as u64 > TRACE_LINE_BYTES_MAX {
            return Err(format!(
                "{name}:{number}: a line over {TRACE_LINE_BYTES_MAX} bytes (TRACE_LINE_BYTES_MAX)"
            ));
        }
        if number == 1 {
            header = TraceHeader::parse(&line);
            if header.is_some() {
                continue;
            }
        }
        events += 1;
        if events > TRACE_EVENTS_MAX {
            return Err(format!("{name}: more than {TRACE_EVENTS_MAX} events (TRACE_EVENTS_MAX)"));
        }
        let event = parse_line(&line).map_err(|reason| format!("{name}:{number}: {reason}"))?;
        each(event, number).map_err(|reason| format!("{name}:{number}: {reason}"))?;
    }
    Ok(header)
}

/// One trace line as an event.
pub fn parse_line(line: &[u8]) -> Result<Event, String> {
    let value: Value = serde_json::from_slice(line).map_err(|e| format!("not a trace event: {e}"))?;
    let Value::Object(mut fields) = value else { return Err("not a JSON object".to_string()) };
    let t_ms = fields.remove("t_ms").and_then(|t| t.as_u64()).ok_or("no `t_ms`")?;
    let text = |value: Option<Value>, what: &str| match value {
        Some(Value::String(text)) => Ok(text),
        _ => Err(format!("no `{what}`")),
    };
    let node = text(fields.remove("node"), "node")?;
    let kind = text(fields.remove("kind"), "kind")?;
    Ok(Event { t_ms, node, kind, fields: fields.into_iter().collect() })
}
