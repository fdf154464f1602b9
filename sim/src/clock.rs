//! Simulated time. Nodes read time and set every timer only here. Nothing in `sim/` reads
//! the wall clock.
//!
//! Simulated time is turmoil's elapsed time plus a **warp**: when nothing can happen before
//! some instant (no message in flight, no timer due, no scenario step), the driver adds the
//! quiet gap to the warp instead of stepping turmoil through it (docs/architecture.md "Time"). For that
//! the driver must know every deadline: nodes sleep with [`sleep_until`] / [`sleep`] and
//! bound waits with [`timeout`], which record the deadline and the task's waker in this
//! thread's **agenda**; the driver wakes each sleeper at the first step at or after its
//! deadline ([`wake_due`]). tokio's own timers would fire on turmoil's unwarped clock.
//!
//! turmoil runs every host on the driver's thread, so the agenda is thread-local; a run
//! starts with [`reset`].

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crate::node_id::NodeId;

/// Default scenario epoch, UNIX seconds: 2026-01-05 00:00:00 UTC, a Monday, so "02:00" in a
/// timeline is 02:00 on the cluster's clock.
pub const EPOCH_S_DEFAULT: u64 = 1_767_571_200;

/// Sleepers one run may have waiting at once: a bound on the agenda (each client and server
/// task holds at most one timer).
pub const SLEEPERS_MAX: usize = 1 << 20;

#[derive(Default)]
struct Agenda {
    warp: Duration,
    /// A message sent since the driver last asked ([`note_sent`]).
    sent: bool,
    /// Writes waiting for the peer to read ([`note_write_blocked`]).
    writes_blocked: usize,
    /// (deadline, registration number) → waker; the number keeps equal deadlines apart and
    /// in registration order.
    sleepers: BTreeMap<(Duration, u64), Waker>,
    registered: u64,
    /// Per-node clock error (the `skew` step), by node name.
    skews: BTreeMap<NodeId, Skew>,
}

/// One node's clock error: an offset, and a drift that grows it from when it was set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Skew {
    pub offset_ms: i64,
    pub drift_ppm: i64,
    /// Simulated time (since the start) at which it was set.
    pub set_at: Duration,
}

impl Skew {
    /// The node's error, milliseconds, at simulated time `at`.
    pub fn error_ms(&self, at: Duration) -> i64 {
        let since_ms = at.saturating_sub(self.set_at).as_millis() as i64;
        // i128: ppm × a 91-day run in ms (~7.9e9) fits, but the product is checked anyway.
        let drift_ms = (i128::from(self.drift_ppm) * i128::from(since_ms) / 1_000_000) as i64;
        self.offset_ms.saturating_add(drift_ms)
    }
}

thread_local! {
    static AGENDA: RefCell<Agenda> = RefCell::new(Agenda::default());
}

/// Starts a run's time on this thread: no warp, no sleepers.
pub fn reset() {
    AGENDA.with(|agenda| *agenda.borrow_mut() = Agenda::default());
}

/// The quiet time skipped so far.
pub fn warp() -> Duration {
    AGENDA.with(|agenda| agenda.borrow().warp)
}

/// Skips `gap` of quiet time (the driver only, between steps).
pub fn advance_warp(gap: Duration) {
    AGENDA.with(|agenda| agenda.borrow_mut().warp += gap);
}

/// The earliest deadline any task waits for.
pub fn next_deadline() -> Option<Duration> {
    AGENDA.with(|agenda| agenda.borrow().sleepers.keys().next().map(|(deadline, _)| *deadline))
}

/// Records that a node may have sent a message: connected, accepted, wrote, shut down or
/// closed. turmoil hands a message with no latency straight to its destination's queue,
/// which `Sim::links` does not show; when the destination has already run in this step, the
/// message waits there for the next one. So a step that sent anything is never followed by a
/// jump. A read sends nothing (turmoil has no acknowledgements), so the step that only reads
/// the last answer of an exchange may be followed by one.
pub fn note_sent() {
    let _ = AGENDA.try_with(|agenda| agenda.borrow_mut().sent = true);
}

/// Records that a write found the peer's receive buffer full. The peer's next read wakes the
/// writer, which may run only in the next step (it may live on a host already run in this
/// one), so while any write waits, reads count as activity too.
pub fn note_write_blocked() {
    let _ = AGENDA.try_with(|agenda| agenda.borrow_mut().writes_blocked += 1);
}

/// A write [`note_write_blocked`] recorded has gone out, or its socket closed.
pub fn note_write_unblocked() {
    let _ = AGENDA.try_with(|agenda| {
        let mut agenda = agenda.borrow_mut();
        agenda.writes_blocked = agenda.writes_blocked.saturating_sub(1);
    });
}

/// Whether the next step may have a message to deliver that `Sim::links` does not show: a
/// message was sent since the last call, or a write waits for a read (the driver, after a
/// step).
pub fn take_network_activity() -> bool {
    AGENDA.with(|agenda| {
        let mut agenda = agenda.borrow_mut();
        std::mem::take(&mut agenda.sent) || agenda.writes_blocked > 0
    })
}

/// Wakes every sleeper whose deadline is at or before `now` (the driver, before a step).
pub fn wake_due(now: Duration) {
    let due: Vec<Waker> = AGENDA.with(|agenda| {
        let mut agenda = agenda.borrow_mut();
        let later = agenda.sleepers.split_off(&(now, u64::MAX));
        std::mem::replace(&mut agenda.sleepers, later).into_values().collect()
    });
    due.into_iter().for_each(Waker::wake);
}

/// Sets `node`'s clock error from now on: `offset_ms` at once, plus `drift_ppm` parts per
/// million of the time that passes (the `skew` step). Replaces any earlier skew of `node`.
pub fn set_skew(node: &NodeId, offset_ms: i64, drift_ppm: i64) {
    let set_at = elapsed();
    AGENDA.with(|agenda| {
        agenda.borrow_mut().skews.insert(node.clone(), Skew { offset_ms, drift_ppm, set_at });
    });
}

/// `node`'s clock error now, milliseconds (zero unless a `skew` step set one).
pub fn skew_ms(node: &NodeId) -> i64 {
    let now = elapsed();
    AGENDA.with(|agenda| agenda.borrow().skews.get(node).map_or(0, |skew| skew.error_ms(now)))
}

/// UNIX seconds on `node`'s own clock: the true simulated time plus its skew. Every decision
/// a node makes with its clock (token expiry, issue times, validators' `now`) reads this,
/// so a skewed node decides as a real one with a wrong clock would; the trace's `t_ms` stays
/// true time.
/// `unix_s` as a UTC calendar date and time, for what a node prints (the CLI, its tables);
/// `None` outside `time`'s range (scenario epochs end in the year 9999, well inside it).
pub fn calendar(unix_s: u64) -> Option<time::OffsetDateTime> {
    i64::try_from(unix_s).ok().and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
}

pub fn node_now_s(node: &NodeId, epoch_s: u64) -> u64 {
    node_now_ms(node, epoch_s) / 1000
}

/// [`node_now_s`] in milliseconds, for what a node writes with its clock (log lines).
pub fn node_now_ms(node: &NodeId, epoch_s: u64) -> u64 {
    let true_ms = epoch_s.saturating_mul(1000).saturating_add(elapsed().as_millis() as u64);
    (true_ms as i64).saturating_add(skew_ms(node)).max(0) as u64
}

/// Simulated time since the start of the run (turmoil's elapsed time plus the warp); zero
/// outside a simulation.
pub fn elapsed() -> Duration {
    turmoil::sim_elapsed().map_or(Duration::ZERO, |elapsed| elapsed + warp())
}

/// Completes at the first step at or after `deadline` (simulated time since the start).
pub fn sleep_until(deadline: Duration) -> Sleep {
    Sleep { deadline, entry: None }
}

/// Completes `duration` from now.
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(elapsed() + duration)
}

/// A timer in the agenda. Dropped early (a timeout whose future finished first), it leaves
/// the agenda, so the driver never stops a jump at a deadline nobody waits for.
pub struct Sleep {
    deadline: Duration,
    entry: Option<(Duration, u64)>,
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<()> {
        if elapsed() >= self.deadline {
            return Poll::Ready(());
        }
        let deadline = self.deadline;
        let entry = self.entry;
        self.entry = AGENDA.with(|agenda| {
            let mut agenda = agenda.borrow_mut();
            // Still waiting since the last poll: keep the entry, with the newest waker.
            if let Some(waker) = entry.and_then(|key| agenda.sleepers.get_mut(&key)) {
                waker.clone_from(context.waker());
                return entry;
            }
            if agenda.sleepers.len() >= SLEEPERS_MAX {
                return None;
            }
            agenda.registered += 1;
            let key = (deadline, agenda.registered);
            agenda.sleepers.insert(key, context.waker().clone());
            Some(key)
        });
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(key) = self.entry {
            // `try_with`: a task dropped while the thread's storage is torn down has no agenda.
            let _ = AGENDA.try_with(|agenda| agenda.borrow_mut().sleepers.remove(&key));
        }
    }
}

/// `future`, or `Err(Elapsed)` if it has not finished `duration` from now.
pub async fn timeout<F: Future>(duration: Duration, future: F) -> Result<F::Output, Elapsed> {
    let deadline = sleep(duration);
    tokio::select! {
        biased;
        output = future => Ok(output),
        () = deadline => Err(Elapsed),
    }
}

/// A [`timeout`] ran out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Elapsed;

/// `hh:mm:ss.mmm` since the start of the run (days prefixed as `Nd `), for timelines.
pub fn format_elapsed(t_ms: u64) -> String {
    let days = t_ms / 86_400_000;
    let rest = t_ms % 86_400_000;
    let clock = format!(
        "{:02}:{:02}:{:02}.{:03}",
        rest / 3_600_000,
        rest / 60_000 % 60,
        rest / 1000 % 60,
        rest % 1000
    );
    if days > 0 {
        format!("{days}d {clock}")
    } else {
        clock
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_hours_and_days() {
        assert_eq!(format_elapsed(7_230_500), "02:00:30.500");
        assert_eq!(format_elapsed(86_400_000 + 1000), "1d 00:00:01.000");
        assert_eq!(format_elapsed(0), "00:00:00.000");
    }
}
