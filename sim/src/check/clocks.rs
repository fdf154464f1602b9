//! The nodes' clocks as the trace tells them (the `skew` steps), and one way to write a time
//! in a check's message: simulated time since the start, as the timeline writes it, never raw
//! UNIX seconds beside it.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::clock::{format_elapsed, Skew};
use crate::scenario::format_duration;
use crate::trace::Happening;

/// Each node's clock error, from the `skew` steps seen so far.
#[derive(Default)]
pub struct NodeClocks {
    skews: BTreeMap<String, Skew>,
}

impl NodeClocks {
    /// Takes note of a `skew` step at simulated time `t_ms`; every other event is ignored.
    pub fn observe(&mut self, t_ms: u64, happening: &Happening) {
        let Happening::Step { action, target: Some(node), offset_ms, drift_ppm, .. } = happening else {
            return;
        };
        if action != "skew" {
            return;
        }
        let skew = Skew {
            offset_ms: offset_ms.unwrap_or(0),
            drift_ppm: drift_ppm.unwrap_or(0),
            set_at: Duration::from_millis(t_ms),
        };
        self.skews.insert(node.clone(), skew);
    }

    /// `node`'s clock error at simulated time `t_ms`, milliseconds (0 when never skewed).
    pub fn error_ms(&self, node: &str, t_ms: u64) -> i64 {
        self.skews.get(node).map_or(0, |skew| skew.error_ms(Duration::from_millis(t_ms)))
    }

    /// `node`'s own reading at `t_ms`, UNIX seconds.
    pub fn node_now_s(&self, epoch_s: u64, node: &str, t_ms: u64) -> u64 {
        let node_ms = (epoch_s as i64 * 1000 + t_ms as i64).saturating_add(self.error_ms(node, t_ms));
        u64::try_from(node_ms / 1000).unwrap_or(0)
    }

    /// `; unity's clock reads 00:45:36.700 (20m behind)` when `node` is skewed at `t_ms`, else
    /// nothing.
    pub fn describe(&self, node: &str, t_ms: u64) -> String {
        let error_ms = self.error_ms(node, t_ms);
        if error_ms == 0 {
            return String::new();
        }
        let reading = t_ms as i64 + error_ms;
        let distance = format_duration(Duration::from_millis(error_ms.unsigned_abs()));
        let side = if error_ms < 0 { "behind" } else { "ahead" };
        format!("; {node}'s clock reads {} ({distance} {side})", elapsed_signed(reading))
    }
}

/// UNIX seconds as simulated time since the start of a run that began at `epoch_s`.
pub fn unix_as_elapsed(epoch_s: u64, unix_s: u64) -> String {
    elapsed_signed((unix_s as i64 - epoch_s as i64).saturating_mul(1000))
}

/// Milliseconds since the start, negative ones written `-00:05:00.000`.
fn elapsed_signed(ms: i64) -> String {
    match u64::try_from(ms) {
        Ok(ms) => format_elapsed(ms),
        Err(_) => format!("-{}", format_elapsed(ms.unsigned_abs())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skewed_node_reads_its_own_time_and_says_by_how_much() {
        let mut clocks = NodeClocks::default();
        let skew =
            [("action", "skew".into()), ("target", "unity".into()), ("offset_ms", (-1_200_000).into())];
        clocks.observe(0, &Happening::sketch("step", &skew));
        // Another step naming a target is not a skew.
        clocks.observe(
            0,
            &Happening::sketch("step", &[("action", "crash".into()), ("target", "cucm-pub".into())]),
        );
        assert_eq!(clocks.error_ms("unity", 3_600_000), -1_200_000);
        assert_eq!(clocks.describe("unity", 3_600_000), "; unity's clock reads 00:40:00.000 (20m behind)");
        assert_eq!(clocks.describe("cucm-pub", 3_600_000), "");
        assert_eq!(clocks.node_now_s(1000, "unity", 3_600_000), 1000 + 3600 - 1200);
        assert_eq!(unix_as_elapsed(1000, 1060), "00:01:00.000");
        assert_eq!(unix_as_elapsed(1000, 940), "-00:01:00.000");
    }
}
