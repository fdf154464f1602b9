//! The `--trace` destination: vetted and opened before the run, streamed into during it,
//! renamed into place after it; and a trace file opened to be read back ([`open_recorded`]).
//!
//! Opening first means a destination that cannot be written (a directory, a read-only
//! place, the scenario file itself, a device) is refused before the run spends minutes, not
//! after it, when the report would be lost. The trace goes to a temporary file beside the
//! destination and is renamed into place only once complete: a failed or interrupted run
//! never leaves half a trace under the requested name, and an existing file is replaced
//! whole or not at all.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Why a trace cannot go where it was asked to; always names the requested path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: cannot write {what} there: {reason}")]
pub struct TraceFileError {
    pub path: String,
    /// What was to be written: `the trace`, `the page`, ...
    pub what: &'static str,
    pub reason: String,
}

/// A trace file to read back (`authzlab diff`, `authzlab replay`): refused when it is a
/// FIFO, a socket or a directory, before it is opened; the errors name the file.
pub fn open_recorded(path: &Path) -> Result<std::io::BufReader<File>, String> {
    let name = path.display().to_string();
    let metadata = fs::metadata(path).map_err(|e| format!("{name}: {e}"))?;
    if let Some(what) = authzlab_host::input::never_a_file(&metadata) {
        return Err(format!("{name}: is {what}, not a trace file"));
    }
    if metadata.is_dir() {
        return Err(format!("{name}: is a directory, not a trace file"));
    }
    let file = File::open(path).map_err(|e| format!("{name}: {e}"))?;
    Ok(std::io::BufReader::new(file))
}

/// A trace destination, open and not yet written. Dropped uncommitted, it removes its
/// temporary file and leaves the destination as it was.
pub struct TraceFile {
    destination: PathBuf,
    what: &'static str,
    temporary: PathBuf,
    file: Option<File>,
}

/// Bytes of the destination's name that the temporary file's name repeats: with the dot, the
/// process id and `.tmp` it stays far below the 255-byte limit of a file name.
const TEMPORARY_PREFIX_BYTES_MAX: usize = 100;

impl TraceFile {
    /// Vets `destination` and opens a temporary file beside it. `inputs` are files the run
    /// reads (the scenario): the trace may not replace one of them.
    pub fn create(destination: &Path, inputs: &[&Path]) -> Result<TraceFile, TraceFileError> {
        TraceFile::create_as(destination, inputs, "the trace")
    }

    /// [`TraceFile::create`] for another output written whole or not at all (`what`: `the
    /// page`, ...), named so in its errors.
    pub fn create_as(
        destination: &Path,
        inputs: &[&Path],
        what: &'static str,
    ) -> Result<TraceFile, TraceFileError> {
        let refuse =
            |reason: String| TraceFileError { path: destination.display().to_string(), what, reason };
        if let Ok(metadata) = fs::metadata(destination) {
            if metadata.is_dir() {
                return Err(refuse("it is a directory; name a file, e.g. DIR/trace.jsonl".to_string()));
            }
            if !metadata.is_file() {
                return Err(refuse("it exists and is not a regular file (a device or a pipe?)".to_string()));
            }
            for input in inputs {
                if same_file::is_same_file(destination, input).unwrap_or(false) {
                    return Err(refuse(format!(
                        "it is {}, which this run reads; the trace would overwrite it",
                        input.display()
                    )));
                }
            }
        }
        let name = destination
            .file_name()
            .ok_or_else(|| refuse("it names no file".to_string()))?
            .to_string_lossy()
            .into_owned();
        let directory = match destination.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        // The temporary name keeps a readable prefix of the destination's, cut so that it stays
        // a legal name wherever the destination's is (255 bytes on common file systems).
        let mut cut = name.len().min(TEMPORARY_PREFIX_BYTES_MAX);
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        let prefix = format!(".{}.", &name[..cut]);
        sweep_dead(&directory, &prefix);
        let temporary = directory.join(format!("{prefix}{}.tmp", std::process::id()));
        let file =
            File::options().write(true).create_new(true).open(&temporary).map_err(|error| {
                refuse(format!("cannot create a file in {}: {error}", directory.display()))
            })?;
        crate::cleanup::register(&temporary);
        Ok(TraceFile { destination: destination.to_path_buf(), what, temporary, file: Some(file) })
    }

    /// Where the trace will be.
    pub fn destination(&self) -> &Path {
        &self.destination
    }

    /// Where the run streams the trace: the temporary file, through a second handle.
    pub fn sink(&self) -> Result<Box<dyn Write>, TraceFileError> {
        let refuse = |reason: String| TraceFileError {
            path: self.destination.display().to_string(),
            what: self.what,
            reason,
        };
        let file = self.file.as_ref().ok_or_else(|| refuse("already committed".to_string()))?;
        Ok(Box::new(file.try_clone().map_err(|error| refuse(error.to_string()))?))
    }

    /// Makes what was streamed into [`TraceFile::sink`] durable and renames it into place.
    /// The sink must have been flushed (the trace does so when it finishes).
    pub fn commit(mut self) -> Result<(), TraceFileError> {
        let refuse = |reason: String| TraceFileError {
            path: self.destination.display().to_string(),
            what: self.what,
            reason,
        };
        let file = self.file.take().ok_or_else(|| refuse("already committed".to_string()))?;
        file.sync_all().map_err(|error| refuse(error.to_string()))?;
        drop(file);
        fs::rename(&self.temporary, &self.destination).map_err(|error| refuse(error.to_string()))
    }
}

impl Drop for TraceFile {
    fn drop(&mut self) {
        // After a successful commit the temporary name no longer exists; otherwise the
        // partial file goes, and the destination is untouched.
        let _ = fs::remove_file(&self.temporary);
        crate::cleanup::forget(&self.temporary);
    }
}

/// Removes the temporary traces (`<prefix><pid>.tmp`) that killed runs of dead processes left
/// in `directory` for the same destination. A live process's file is never touched.
fn sweep_dead(directory: &Path, prefix: &str) {
    let Ok(entries) = fs::read_dir(directory) else { return };
    for entry in entries.flatten().take(crate::cleanup::SWEPT_ENTRIES_MAX) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let pid = name
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(".tmp"))
            .and_then(|pid| pid.parse().ok());
        if pid.is_some_and(crate::cleanup::is_dead) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("authzlab-trace-file-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn listing(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_destination_name_near_the_file_system_limit_still_gets_its_trace() {
        let dir = scratch("long-name");
        for length in [241, 255] {
            let name = format!("{}.jsonl", "t".repeat(length - 6));
            let destination = dir.join(&name);
            let trace = TraceFile::create(&destination, &[]).unwrap();
            trace.sink().unwrap().write_all(b"line\n").unwrap();
            trace.commit().unwrap();
            assert_eq!(fs::read_to_string(&destination).unwrap(), "line\n", "{length} bytes");
        }
        // Multi-byte characters are cut at a character boundary.
        let destination = dir.join("é".repeat(120));
        TraceFile::create(&destination, &[]).unwrap().commit().unwrap();
        assert!(destination.exists());
    }

    #[test]
    fn a_temporary_trace_a_killed_run_left_is_swept_by_the_next() {
        let dir = scratch("stale");
        // pid 4194305 is above Linux's pid_max: that process is dead.
        let stale = dir.join(".trace.jsonl.4194305.tmp");
        let other = dir.join(".other.jsonl.4194305.tmp");
        fs::write(&stale, "partial").unwrap();
        fs::write(&other, "partial").unwrap();
        let trace = TraceFile::create(&dir.join("trace.jsonl"), &[]).unwrap();
        assert!(!stale.exists(), "swept");
        assert!(other.exists(), "another destination's is left to its own runs");
        trace.commit().unwrap();
    }

    #[test]
    fn a_committed_trace_replaces_the_file_whole() {
        let dir = scratch("commit");
        let destination = dir.join("trace.jsonl");
        fs::write(&destination, "old\n").unwrap();
        let trace = TraceFile::create(&destination, &[]).unwrap();
        let mut sink = trace.sink().unwrap();
        sink.write_all(b"new\n").unwrap();
        sink.flush().unwrap();
        assert_eq!(fs::read_to_string(&destination).unwrap(), "old\n", "untouched until commit");
        trace.commit().unwrap();
        assert_eq!(fs::read_to_string(&destination).unwrap(), "new\n");
        assert_eq!(listing(&dir), ["trace.jsonl"], "no temporary file left");
    }

    #[test]
    fn an_abandoned_trace_leaves_nothing_behind() {
        let dir = scratch("abandon");
        let destination = dir.join("trace.jsonl");
        fs::write(&destination, "old\n").unwrap();
        let trace = TraceFile::create(&destination, &[]).unwrap();
        trace.sink().unwrap().write_all(b"half a tr").unwrap();
        drop(trace);
        assert_eq!(fs::read_to_string(&destination).unwrap(), "old\n");
        assert_eq!(listing(&dir), ["trace.jsonl"]);
    }

    #[test]
    fn destinations_that_cannot_hold_a_trace_are_refused_by_their_own_name() {
        let dir = scratch("refuse");
        let error = TraceFile::create(&dir, &[]).err().unwrap();
        assert!(error
            .to_string()
            .starts_with(&format!("{}: cannot write the trace there: it is a directory", dir.display())));

        let scenario = dir.join("s.toml");
        fs::write(&scenario, "name = \"x\"\n").unwrap();
        let error = TraceFile::create(&scenario, &[&scenario]).err().unwrap();
        assert!(error.reason.contains("which this run reads"), "{error}");
        let linked = dir.join("link.toml");
        std::os::unix::fs::symlink(&scenario, &linked).unwrap();
        assert!(TraceFile::create(&linked, &[&scenario]).is_err(), "a link to the scenario is the scenario");
        assert_eq!(fs::read_to_string(&scenario).unwrap(), "name = \"x\"\n");

        let error = TraceFile::create(Path::new("/dev/null"), &[]).err().unwrap();
        assert!(error.reason.contains("not a regular file"), "{error}");

        let error = TraceFile::create(Path::new("/proc/version"), &[]).err().unwrap();
        assert!(
            error
                .to_string()
                .starts_with("/proc/version: cannot write the trace there: cannot create a file in /proc"),
            "{error}"
        );
        assert!(
            !error.to_string().contains(".tmp"),
            "names the requested path, not the temporary one: {error}"
        );
    }
}
