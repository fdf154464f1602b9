//! Pinned plugin manifests: a small TOML file beside a component (`x.wasm` →
//! `x.manifest.toml`) that pins the component's SHA-256 and contract version and may set its
//! limits. A component whose bytes or contract differ from its manifest is refused with both
//! values shown; a scenario may require every component it loads to have one.
//!
//! ```toml
//! [plugin]
//! sha256 = "b8083d02bde9bd1c1b47fcd9c41d147aac4ba31426b328197c9d3f9712e69309"
//! contract = "0.3.0"
//!
//! [limits]            # optional; the host's defaults otherwise
//! fuel_per_call = 50000000
//! memory_bytes_max = 8388608
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::input::{read_bounded, InputKind, ReadError};
use crate::limits::Limits;

/// Fuel and memory a manifest may set: from enough for a real validation to the host's
/// defaults' order of magnitude (a manifest tightens limits; it cannot lift them past this).
pub const FUEL_PER_CALL_RANGE: std::ops::RangeInclusive<u64> = 1_000_000..=2_000_000_000;
pub const MEMORY_BYTES_RANGE: std::ops::RangeInclusive<usize> = (1 << 20)..=(256 << 20);

/// A checked manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// Where it was read from.
    pub path: PathBuf,
    /// The component's SHA-256, lower-case hex.
    pub sha256: String,
    /// The contract version the component is built for.
    pub contract: String,
    /// Limits for this plugin, if the manifest sets them.
    pub limits: Option<Limits>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestFile {
    plugin: PluginSection,
    #[serde(default)]
    limits: Option<LimitsSection>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PluginSection {
    sha256: String,
    contract: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsSection {
    fuel_per_call: Option<u64>,
    memory_bytes_max: Option<usize>,
}

/// Why a manifest could not be used: the file and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("{file}:{line}:{column}: {message}")]
    Invalid { file: String, line: usize, column: usize, message: String },
}

/// The manifest that goes with a component file: `x.wasm` → `x.manifest.toml`.
pub fn path_for(component: &Path) -> PathBuf {
    component.with_extension("manifest.toml")
}

/// Where `key = …` is written: the first line whose text starts with the key and an `=`
/// (a comment or another key that mentions the name is passed over); the start of the text
/// when there is none.
fn key_offset(text: &str, key: &str) -> usize {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let is_key = trimmed.strip_prefix(key).is_some_and(|rest| rest.trim_start().starts_with('='));
        if is_key {
            return offset + (line.len() - trimmed.len());
        }
        offset += line.len();
    }
    0
}

impl Manifest {
    /// Reads (at most [`MANIFEST_BYTES_MAX`](crate::input::MANIFEST_BYTES_MAX)) and checks a manifest.
    pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
        let bytes = read_bounded(path, InputKind::Manifest)?;
        let file = path.display().to_string();
        let invalid = |offset: usize, message: String| {
            let text = String::from_utf8_lossy(&bytes);
            let before = &text[..offset.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |tail| tail.chars().count()) + 1;
            ManifestError::Invalid { file: file.clone(), line, column, message }
        };
        let text = std::str::from_utf8(&bytes)
            .map_err(|e| invalid(e.valid_up_to(), "not UTF-8 text".to_string()))?;
        let parsed: ManifestFile = toml::from_str(text).map_err(|e| {
            let offset = e.span().map_or(0, |span| span.start);
            invalid(offset, e.message().to_string())
        })?;
        let field =
            |name: &str, message: String| invalid(key_offset(text, name), format!("{name}: {message}"));
        let sha256 = parsed.plugin.sha256.to_ascii_lowercase();
        if sha256.len() != 64 || !sha256.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(field(
                "sha256",
                "is 64 hex digits (`sha256sum x.wasm`, or `authzlab plugin check x.wasm`)".into(),
            ));
        }
        if crate::contract::Version::parse(&parsed.plugin.contract).is_none() {
            return Err(field(
                "contract",
                format!("{:?} is not a version like \"0.1.0\"", parsed.plugin.contract),
            ));
        }
        let limits = match parsed.limits {
            None => None,
            Some(section) => {
                let defaults = Limits::default();
                let fuel_per_call = section.fuel_per_call.unwrap_or(defaults.fuel_per_call);
                if !FUEL_PER_CALL_RANGE.contains(&fuel_per_call) {
                    return Err(field(
                        "fuel_per_call",
                        format!("is {} to {}", FUEL_PER_CALL_RANGE.start(), FUEL_PER_CALL_RANGE.end()),
                    ));
                }
                let memory_bytes_max = section.memory_bytes_max.unwrap_or(defaults.memory_bytes_max);
                if !MEMORY_BYTES_RANGE.contains(&memory_bytes_max) {
                    return Err(field(
                        "memory_bytes_max",
                        format!("is {} to {}", MEMORY_BYTES_RANGE.start(), MEMORY_BYTES_RANGE.end()),
                    ));
                }
                Some(Limits { fuel_per_call, memory_bytes_max })
            }
        };
        Ok(Manifest { path: path.to_path_buf(), sha256, contract: parsed.plugin.contract, limits })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.manifest.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    const SHA: &str = "24496f71f5e29ffad49541121b1c80ebe3c65b17761c03a9876d29ab24244c8b";

    #[test]
    fn a_manifest_pins_hash_and_contract_and_may_set_limits() {
        let (_dir, path) = write(&format!(
            "[plugin]\nsha256 = \"{}\"\ncontract = \"0.1.0\"\n\n[limits]\nfuel_per_call = 5000000\n",
            SHA.to_uppercase()
        ));
        let manifest = Manifest::load(&path).unwrap();
        assert_eq!(manifest.sha256, SHA, "lower-cased");
        assert_eq!(manifest.limits, Some(Limits { fuel_per_call: 5_000_000, ..Limits::default() }));
        assert_eq!(path_for(Path::new("a/b.wasm")), Path::new("a/b.manifest.toml"));
    }

    #[test]
    fn a_bad_field_is_located_at_its_key_not_at_a_comment_naming_it() {
        let (_dir, path) =
            write("# pin the sha256 below\n[plugin]\n  sha256 = \"abc\"\ncontract = \"0.1.0\"\n");
        let error = Manifest::load(&path).unwrap_err().to_string();
        assert!(error.contains("x.manifest.toml:3:3: sha256: is 64 hex digits"), "{error}");
    }

    #[test]
    fn a_bad_manifest_names_the_file_line_and_field() {
        let (_dir, path) = write("[plugin]\nsha256 = \"abc\"\ncontract = \"0.1.0\"\n");
        let error = Manifest::load(&path).unwrap_err().to_string();
        assert!(error.contains("x.manifest.toml:2:1: sha256: is 64 hex digits"), "{error}");
        let (_dir, path) = write(&format!(
            "[plugin]\nsha256 = \"{SHA}\"\ncontract = \"0.1.0\"\n[limits]\nfuel_per_call = 1\n"
        ));
        let error = Manifest::load(&path).unwrap_err().to_string();
        assert!(error.contains(":5:1: fuel_per_call: is 1000000 to"), "{error}");
        let (_dir, path) = write(&format!("[plugin]\nsha256 = \"{SHA}\"\ncontract = \"0.1.0\"\nextra = 1\n"));
        let error = Manifest::load(&path).unwrap_err().to_string();
        assert!(error.contains(":4:1:") && error.contains("unknown field `extra`"), "{error}");
        let (_dir, path) = write("[plugin]\ncontract = \"one\"\nsha256 = \"x\"");
        assert!(Manifest::load(&path).is_err());
        assert!(Manifest::load(Path::new("/nonexistent/x.manifest.toml"))
            .unwrap_err()
            .to_string()
            .contains("/nonexistent"));
    }
}
