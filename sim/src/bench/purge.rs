//! The daily purge of a large table: the real SQLite DELETE timed on this machine, and the
//! simulated time it costs the publisher (`PURGE_ROW_COST_NS` per row), unbatched and in
//! batches. The worst wait of a refresh is the longest busy period: a refresh arriving at
//! its start waits it out (the HTTP gate's test shows a request held exactly so).

use std::time::{Duration, Instant};

use crate::bench::BenchError;
use crate::node::publisher::purge::PURGE_ROW_COST_NS;
use crate::scenario::TICK_DEFAULT;
use crate::store::RefreshTokenStore;

/// Rows per batch in the batched figure: 1,000 rows cost 5 ms of simulated CPU.
pub const BENCH_BATCH_ROWS: u64 = 1_000;

/// One way of purging, measured.
pub struct PurgeFigure {
    pub rows: u64,
    pub batches: u64,
    /// Wall time of the DELETE statements.
    pub wall: Duration,
    /// Simulated time from the first batch to the last: CPU time plus a tick between batches.
    pub simulated: Duration,
    /// The longest busy period: what a refresh may wait.
    pub worst_wait: Duration,
}

/// Wall time of a revocation by user in a table of `rows` preloaded rows: the price of the
/// layout that suits the purge, which has no user index, so the revocation reads the table.
pub fn revocation(rows: u64) -> Result<Duration, BenchError> {
    let fail = |e: crate::store::StoreError| BenchError::Input(e.to_string());
    let store = RefreshTokenStore::open_in_memory().map_err(fail)?;
    store.preload_expired(rows, 1_000).map_err(fail)?;
    let started = Instant::now();
    let revoked = store.revoke("former-user-77", None).map_err(fail)?;
    let wall = started.elapsed();
    // The preload spreads its rows over 10,000 users in turn.
    let expected = rows / 10_000 + u64::from(rows % 10_000 > 77);
    if revoked.len() as u64 != expected {
        return Err(BenchError::CheckFailed(format!(
            "the revocation found {} of former-user-77's {expected} rows",
            revoked.len()
        )));
    }
    Ok(wall)
}

/// Purges `rows` expired rows from a table that also holds `live` rows still valid, in one
/// DELETE when `batch_rows` is `None`.
pub fn measure(rows: u64, live: u64, batch_rows: Option<u64>) -> Result<PurgeFigure, BenchError> {
    let fail = |e: crate::store::StoreError| BenchError::Input(e.to_string());
    let store = RefreshTokenStore::open_in_memory().map_err(fail)?;
    store.preload_expired(rows, 1_000).map_err(fail)?;
    store.preload("current", live, 10_000).map_err(fail)?;
    let limit = batch_rows.unwrap_or(u64::MAX);
    let started = Instant::now();
    let (mut deleted, mut batches, mut worst) = (0u64, 0u64, 0u64);
    // Bounded: each batch deletes `limit` rows or ends the loop.
    loop {
        let batch = store.purge_batch(2_000, limit).map_err(fail)?;
        deleted += batch;
        batches += 1;
        worst = worst.max(batch);
        if batch < limit {
            break;
        }
    }
    let wall = started.elapsed();
    let left = store.count().map_err(fail)?;
    if deleted != rows || left != live {
        return Err(BenchError::CheckFailed(format!(
            "the purge deleted {deleted} of {rows} expired rows and left {left} of {live} valid ones"
        )));
    }
    let cpu = Duration::from_nanos(rows * PURGE_ROW_COST_NS);
    let gaps = TICK_DEFAULT * u32::try_from(batches.saturating_sub(1)).unwrap_or(u32::MAX);
    Ok(PurgeFigure {
        rows,
        batches,
        wall,
        simulated: cpu + gaps,
        worst_wait: Duration::from_nanos(worst * PURGE_ROW_COST_NS),
    })
}
