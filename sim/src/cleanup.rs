//! What a run leaves on disk while it goes (the trace's temporary file, the publisher's
//! database directory) is removed however the run ends: when it finishes (their owners' `Drop`),
//! when it is interrupted (SIGINT, SIGTERM, SIGHUP: [`on_signals`] removes what is registered
//! here, then exits 2), and when it was killed outright (SIGKILL, a power cut): the next run
//! sweeps what a dead process left ([`is_dead`], used by the owners' sweeps).
//!
//! Nothing here reaches the trace; it is the command line's business, not the simulation's.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Paths to remove if a signal ends the process. At most a few per run.
static LEFT_BEHIND: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Paths one process may register at once: runs in one process are a handful (tests run a few
/// in parallel), each registering two.
pub const REGISTERED_MAX: usize = 4096;

/// Removes `path` (a file or a directory) if a signal ends the process before [`forget`].
pub fn register(path: &Path) {
    let mut paths = LEFT_BEHIND.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if paths.len() < REGISTERED_MAX {
        paths.push(path.to_path_buf());
    }
}

/// `path` is gone or kept on purpose: a signal leaves it alone.
pub fn forget(path: &Path) {
    let mut paths = LEFT_BEHIND.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    paths.retain(|registered| registered != path);
}

/// Removes everything registered. Called with the process about to exit.
fn remove_all() -> usize {
    let paths = std::mem::take(&mut *LEFT_BEHIND.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
    remove(&paths)
}

fn remove(paths: &[PathBuf]) -> usize {
    for path in paths {
        let _ = match std::fs::symlink_metadata(path) {
            Ok(metadata) if metadata.is_dir() => std::fs::remove_dir_all(path),
            _ => std::fs::remove_file(path),
        };
    }
    paths.len()
}

/// From now on SIGINT, SIGTERM and SIGHUP remove what is registered and end the process with
/// exit code 2 (the run did not complete: like bad input, it gave no verdict), saying why on
/// stderr. A process that cannot install the handler runs without it.
pub fn on_signals() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else { return };
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            let removed = remove_all();
            let name = match signal {
                SIGINT => "SIGINT",
                SIGTERM => "SIGTERM",
                _ => "SIGHUP",
            };
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr().lock(),
                "interrupted by {name}: no verdict; {removed} temporary file(s) or directories removed"
            );
            std::process::exit(2);
        }
    });
}

/// Whether process `pid` no longer exists (Linux: no `/proc/<pid>`). Used to sweep what a
/// killed run left; a live process's files are never touched.
pub fn is_dead(pid: u32) -> bool {
    pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists()
}

/// The directory prefix of a run's temporary directory: `authzlab-run-<pid>-`.
pub fn run_dir_prefix() -> String {
    format!("{RUN_DIR_PREFIX}{}-", std::process::id())
}

const RUN_DIR_PREFIX: &str = "authzlab-run-";

/// Removes run directories that dead processes left in `dir` (the system's temporary
/// directory); returns how many. At most [`SWEPT_ENTRIES_MAX`] entries are looked at.
pub fn sweep_run_dirs(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    let mut removed = 0;
    for entry in entries.flatten().take(SWEPT_ENTRIES_MAX) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(RUN_DIR_PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if is_dead(pid) && std::fs::remove_dir_all(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Entries of a directory one sweep looks at: a bound on its time in a crowded `/tmp`.
pub const SWEPT_ENTRIES_MAX: usize = 100_000;

#[cfg(test)]
mod tests {
    use super::*;

    fn registered(path: &Path) -> bool {
        LEFT_BEHIND
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .iter()
            .any(|registered| registered == path)
    }

    #[test]
    fn a_dead_processs_run_directory_is_swept_and_a_live_ones_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        // pid 4194305 is above Linux's pid_max (2^22): no process can have it.
        let dead = dir.path().join("authzlab-run-4194305-abc");
        let live = dir.path().join(format!("authzlab-run-{}-abc", std::process::id()));
        let other = dir.path().join("authzlab-run-notapid");
        for path in [&dead, &live, &other] {
            std::fs::create_dir_all(path.join("inner")).unwrap();
        }
        assert_eq!(sweep_run_dirs(dir.path()), 1);
        assert!(!dead.exists() && live.exists() && other.exists());
        assert!(is_dead(4_194_305) && !is_dead(std::process::id()));
    }

    #[test]
    fn registered_paths_are_removed_and_forgotten_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (file, kept) = (dir.path().join("a.tmp"), dir.path().join("b.tmp"));
        std::fs::write(&file, "x").unwrap();
        std::fs::write(&kept, "x").unwrap();
        register(&file);
        register(&kept);
        forget(&kept);
        assert!(registered(&file) && !registered(&kept));
        // Other tests of this binary may have runs registered: remove only this one's.
        forget(&file);
        assert_eq!(remove(std::slice::from_ref(&file)), 1);
        assert!(!file.exists() && kept.exists());
    }
}
