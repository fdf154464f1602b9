//! The daily purge of expired refresh tokens from `refreshtokendetails`.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use super::*;
use crate::clock;
use crate::proto::http::Busy;
use crate::scenario::Purge;
use crate::trace::Happening;

/// Assumption: the publisher's CPU time per purged row, in simulated time. The documents say
/// only that a table with very many expired rows makes the purge spike the CPU. Calibrated
/// on SQLite's delete rate measured on our 2-core machine with a table of four indexes, as
/// a real publisher's may be (4 to 7 µs a row); authzlab's own table, laid out for the
/// purge, deletes faster in wall time (`authzlab bench`), which does not change the model:
/// 1,000,000 rows keep the publisher busy for 5 s, in which refreshes wait.
pub const PURGE_ROW_COST_NS: u64 = 5_000;

/// The daily purge: at the configured local time, delete the rows whose validity has
/// passed, in one DELETE or in batches with the publisher free between them. While a
/// batch runs the publisher is busy: requests wait (`Busy`). Each DELETE is a transaction
/// that commits when its modelled time is over, so a crash in between rolls it back; each
/// committed batch of a batched purge is in the trace, so that the checks know what a purge
/// cut short by a crash had deleted.
pub(super) async fn purge_daily(publisher: Rc<RefCell<Publisher>>, busy: Busy, purge: Purge, tick: Duration) {
    let (epoch_s, node) = {
        let publisher = publisher.borrow();
        (publisher.epoch_s, publisher.tracer.node().clone())
    };
    // One iteration a simulated day (each purge is at least a day after the one before);
    // the run's duration (DURATION_MAX) bounds the days.
    let mut earliest_s = clock::node_now_s(&node, epoch_s);
    loop {
        let next_s = next_purge_s(earliest_s, &purge);
        earliest_s = next_s + 1;
        clock::sleep_until(Duration::from_secs(next_s.saturating_sub(epoch_s))).await;
        let cutoff = clock::node_now_s(&node, epoch_s);
        let limit = purge.batch_rows.unwrap_or(u64::MAX);
        let (mut rows, mut batches, mut took_ns) = (0u64, 0u64, 0u64);
        loop {
            let deleted = match publisher.borrow().store.begin_purge_batch(cutoff, limit) {
                Ok(deleted) => deleted,
                // An in-memory database fails only when out of memory; this purge ends.
                Err(_) => break,
            };
            let cost_ns = deleted.saturating_mul(PURGE_ROW_COST_NS);
            let end = clock::elapsed() + Duration::from_nanos(cost_ns);
            busy.set(end);
            clock::sleep_until(end).await;
            {
                let publisher = publisher.borrow();
                if publisher.store.commit_purge_batch().is_err() {
                    break;
                }
                if purge.batch_rows.is_some() && deleted > 0 {
                    publisher.tracer.emit(Happening::PurgeBatchCommitted { rows: deleted, cutoff });
                }
            }
            rows += deleted;
            batches += 1;
            took_ns = took_ns.saturating_add(cost_ns);
            if deleted < limit {
                break;
            }
            // A tick for the requests that waited on this batch, before the next one.
            clock::sleep_until(end + tick).await;
        }
        publisher.borrow().tracer.emit(Happening::RefreshTokensPurged {
            rows,
            batches,
            took_ms: took_ns / 1_000_000,
            cutoff,
        });
    }
}

/// The next purge instant at or after `now_s`, UNIX seconds: today's local purge time, or
/// tomorrow's once it has passed.
pub fn next_purge_s(now_s: u64, purge: &Purge) -> u64 {
    let local = now_s as i64 + purge.utc_offset_s;
    let mut at = local.div_euclid(86_400) * 86_400 + purge.at_s_of_day as i64;
    if at < local {
        at += 86_400;
    }
    // Scenario epochs start in 1970 or later plus a day's margin of offsets.
    (at - purge.utc_offset_s).max(0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 02:00 local is 01:00 UTC at +01:00 and 04:30 UTC at -02:30; a purge due now runs now,
    /// one that has passed runs tomorrow.
    #[test]
    fn the_purge_runs_at_its_local_time_of_day() {
        let midnight_utc = 1_767_571_200; // 2026-01-05 00:00:00 UTC
        let at = |offset_h: f64| Purge { utc_offset_s: (offset_h * 3600.0) as i64, ..Purge::default() };
        assert_eq!(next_purge_s(midnight_utc, &at(0.0)), midnight_utc + 2 * 3600);
        assert_eq!(next_purge_s(midnight_utc, &at(1.0)), midnight_utc + 3600);
        assert_eq!(next_purge_s(midnight_utc, &at(-2.5)), midnight_utc + 4 * 3600 + 1800);
        assert_eq!(next_purge_s(midnight_utc + 7200, &at(0.0)), midnight_utc + 7200, "due now");
        assert_eq!(next_purge_s(midnight_utc + 7201, &at(0.0)), midnight_utc + 7200 + 86_400, "tomorrow");
        // +14:00: 02:00 local on the 5th is 12:00 UTC on the 4th, passed; next is the 5th.
        assert_eq!(next_purge_s(midnight_utc, &at(14.0)), midnight_utc + 12 * 3600);
    }
}
