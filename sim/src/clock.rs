//! Simulated time. Nodes read time only here: the scenario's epoch plus turmoil's elapsed
//! simulated time. Nothing in `sim/` reads the wall clock.

use std::time::Duration;

/// Default scenario epoch, UNIX seconds: 2026-01-05 00:00:00 UTC, a Monday, so "02:00" in a
/// timeline is 02:00 on the cluster's clock.
pub const EPOCH_S_DEFAULT: u64 = 1_767_571_200;

/// Simulated time since the start of the run; zero outside a simulation.
pub fn elapsed() -> Duration {
    turmoil::sim_elapsed().unwrap_or_default()
}

/// Simulated UNIX time in seconds, for a node whose clock is set to `epoch_s` at start.
pub fn now_s(epoch_s: u64) -> u64 {
    epoch_s + elapsed().as_secs()
}

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
