//! The trace file's first line: what a run was made of, so that it can be replayed
//! (`authzlab replay`) or refused when what it was made of has changed.
//!
//! The header is not an event and is not hashed: the replay certificate is the SHA-256 of
//! the event lines after it, so two builds that record the same events certify the same
//! trace, and the header says which builds they were.

use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use authzlab_host::input::{read_bounded, InputKind};

use crate::scenario::{Scenario, ValidatorSource};

/// The header's format; a reader refuses one it does not know.
pub const TRACE_FORMAT: u32 = 1;

/// Longest header line read back (a header names a handful of plugins).
pub const HEADER_BYTES_MAX: u64 = 64 << 10;

/// One validator a run loads, by the name the scenario gives it, and its bytes' SHA-256.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginStamp {
    pub name: String,
    pub sha256: String,
}

/// The first line of a `--trace` file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceHeader {
    /// [`TRACE_FORMAT`]; its key also tells a header from an event.
    pub authzlab_trace: u32,
    pub authzlab: String,
    pub toolchain: String,
    /// The scenario file as the command named it, and the SHA-256 of its bytes.
    pub scenario: String,
    pub scenario_sha256: String,
    pub seed: u64,
    pub tick_ms: u64,
    pub skip_idle: bool,
    /// Every validator the scenario names, in its order, once each.
    pub plugins: Vec<PluginStamp>,
}

impl TraceHeader {
    /// The header of a run of `scenario` (read from `path`, whose bytes are `text`) with `seed`.
    pub fn of(path: &Path, text: &[u8], scenario: &Scenario, seed: u64) -> Result<TraceHeader, String> {
        Ok(TraceHeader {
            authzlab_trace: TRACE_FORMAT,
            authzlab: env!("CARGO_PKG_VERSION").to_string(),
            toolchain: env!("AUTHZLAB_RUSTC_VERSION").to_string(),
            scenario: path.display().to_string(),
            scenario_sha256: hex::encode(Sha256::digest(text)),
            seed,
            tick_ms: scenario.tick.as_millis() as u64,
            skip_idle: scenario.skip_idle,
            plugins: plugin_stamps(scenario)?,
        })
    }

    /// The header as one line, without its newline.
    pub fn to_line(&self) -> String {
        // A struct of strings, integers and a list serializes.
        serde_json::to_string(self).expect("a header serializes")
    }

    /// The header a trace line holds, if it is one. Bytes, not text: a line that is not UTF-8
    /// is no header, and the reader's error for it then names the line.
    pub fn parse(line: &[u8]) -> Option<TraceHeader> {
        if !line.starts_with(b"{\"authzlab_trace\":") {
            return None;
        }
        serde_json::from_slice(line).ok()
    }
}

/// Why the scenario a header names cannot be used to judge or replay its trace.
#[derive(Debug)]
pub enum ScenarioMismatch {
    /// It cannot be read (gone, moved, a directory ...).
    Unreadable(String),
    /// Its bytes are not the ones the run read: (their SHA-256 now, the header's).
    Changed { now: String, recorded: String },
    /// It reads, unchanged, yet no longer parses (a newer authzlab's rules).
    Invalid(String),
}

impl TraceHeader {
    /// The first line of `recorded` as a header, if it is one (read bounded by
    /// [`HEADER_BYTES_MAX`]); the reader is left at the next line.
    pub fn read(recorded: &mut impl std::io::BufRead, name: &str) -> Result<Option<TraceHeader>, String> {
        use std::io::{BufRead as _, Read as _};
        let mut first = Vec::new();
        recorded
            .by_ref()
            .take(HEADER_BYTES_MAX)
            .read_until(b'\n', &mut first)
            .map_err(|e| format!("{name}: {e}"))?;
        Ok(TraceHeader::parse(&first))
    }

    /// The scenario the header names, loaded, if its bytes are still the ones the run read.
    pub fn scenario(&self) -> Result<Scenario, ScenarioMismatch> {
        let path = Path::new(&self.scenario);
        let text = read_bounded(path, InputKind::Scenario)
            .map_err(|e| ScenarioMismatch::Unreadable(e.to_string()))?;
        let now = hex::encode(Sha256::digest(&text));
        if now != self.scenario_sha256 {
            return Err(ScenarioMismatch::Changed { now, recorded: self.scenario_sha256.clone() });
        }
        Scenario::load(path).map_err(|e| ScenarioMismatch::Invalid(e.to_string()))
    }
}

/// The validators `scenario` names, each with its bytes' SHA-256: a built-in plugin's
/// embedded bytes, or the component file beside the scenario.
pub fn plugin_stamps(scenario: &Scenario) -> Result<Vec<PluginStamp>, String> {
    scenario
        .validator_names()
        .into_iter()
        .map(|name| {
            let sha256 = match scenario.validator_source(name) {
                Some(ValidatorSource::BuiltIn(artifact)) => hex::encode(Sha256::digest(artifact.bytes)),
                Some(ValidatorSource::File(path)) => {
                    let bytes = read_bounded(&path, InputKind::Component).map_err(|e| e.to_string())?;
                    hex::encode(Sha256::digest(bytes))
                }
                // The run refuses it by name, with the built-ins it could have been.
                None => String::new(),
            };
            Ok(PluginStamp { name: name.to_string(), sha256 })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> TraceHeader {
        TraceHeader {
            authzlab_trace: TRACE_FORMAT,
            authzlab: "0.1.0".to_string(),
            toolchain: "rustc".to_string(),
            scenario: "scenarios/cafe.toml".to_string(),
            scenario_sha256: "00".repeat(32),
            seed: 7,
            tick_ms: 100,
            skip_idle: true,
            plugins: Vec::new(),
        }
    }

    /// A header line with its newline reads back; one with a byte that is not UTF-8 is no
    /// header (read as text with the byte replaced, it would pass for one naming another file).
    #[test]
    fn only_a_whole_utf8_line_is_a_header() {
        let line = header().to_line() + "\n";
        assert_eq!(TraceHeader::parse(line.as_bytes()), Some(header()));
        let mut damaged = line.clone().into_bytes();
        damaged[line.find("cafe").unwrap() + 3] = 0xe9;
        assert_eq!(TraceHeader::parse(&damaged), None);
        assert_eq!(TraceHeader::parse(b"{\"t_ms\":0,\"node\":\"a\",\"kind\":\"step\"}"), None);
    }
}
