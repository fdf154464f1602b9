//! Preloaded tables kept as database-file images, so that a process running one scenario
//! many times (a seed sweep, the test suite) writes a 200,000-row table once, not once a run.
//!
//! A preload is a pure function of its batches (`pkid` prefix, rows, validity): the same
//! batches into an empty table give the same file, byte for byte, as SQLite lays out the
//! same statements the same way. So a later run with the same batches starts from a copy of
//! the file the first one wrote, and its trace cannot tell the difference (the tests'
//! trace-hash comparisons hold across runs in one process).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

/// One preload: each batch's `pkid` prefix, rows and validity (UNIX seconds), in order.
pub type PreloadBatches = Vec<(String, u64, u64)>;

/// The most bytes of images this process keeps. A 200,000-row table's file is ~45 MB; the
/// bench's 1,000,000-row tables (~220 MB each) are measured fresh, never kept.
pub const PRELOADED_IMAGES_BYTES_MAX: u64 = 128 << 20;

fn images() -> &'static Mutex<BTreeMap<PreloadBatches, Arc<Vec<u8>>>> {
    static IMAGES: OnceLock<Mutex<BTreeMap<PreloadBatches, Arc<Vec<u8>>>>> = OnceLock::new();
    IMAGES.get_or_init(|| Mutex::new(BTreeMap::new()))
}

/// The image of a database file holding exactly `batches`, if this process kept one.
pub fn find(batches: &PreloadBatches) -> Option<Arc<Vec<u8>>> {
    images().lock().ok()?.get(batches).cloned()
}

/// Whether an image of `bytes` bytes would fit beside those kept.
pub fn fits(bytes: u64) -> bool {
    let Ok(kept) = images().lock() else { return false };
    let used: u64 = kept.values().map(|image| image.len() as u64).sum();
    used.saturating_add(bytes) <= PRELOADED_IMAGES_BYTES_MAX
}

/// Keeps `image` as the file that `batches` give (when it fits).
pub fn keep(batches: PreloadBatches, image: Vec<u8>) {
    if !fits(image.len() as u64) {
        return;
    }
    if let Ok(mut kept) = images().lock() {
        kept.entry(batches).or_insert_with(|| Arc::new(image));
    }
}

/// Forgets every kept image: `authzlab bench` measures each scenario as a fresh process
/// would run it, writing its table.
pub fn forget_all() {
    if let Ok(mut kept) = images().lock() {
        kept.clear();
    }
}
