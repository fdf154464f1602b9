//! The daily purges and what they cost the clients: each purge's rows and CPU time, and how
//! long refreshes waited for a publisher kept busy by one (docs/domain.md: a large table makes
//! the purge spike the CPU).

use crate::clock::format_elapsed;
use crate::trace::{Event, Happening, Observe};

/// Purges a report lists; a run lasts at most 91 days, one purge a day.
pub const PURGES_LISTED_MAX: usize = 100;

/// One purge as the report shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PurgeSeen {
    pub t_ms: u64,
    pub rows: u64,
    pub batches: u64,
    pub took_ms: u64,
}

/// Every purge of a run and the refreshes that waited.
#[derive(Clone, Debug, Default)]
pub struct Purges {
    pub purges: Vec<PurgeSeen>,
    /// Refreshes that waited for a busy publisher, and the longest wait.
    pub waited: u64,
    pub longest_wait_ms: u64,
}

impl Purges {
    /// The report's lines; none when no purge deleted anything and no refresh waited.
    pub fn lines(&self) -> Vec<String> {
        if self.purges.iter().all(|purge| purge.rows == 0) && self.waited == 0 {
            return Vec::new();
        }
        let mut lines: Vec<String> = self
            .purges
            .iter()
            .filter(|purge| purge.rows > 0)
            .map(|purge| {
                format!(
                    "{}  deleted {} expired row(s) in {} DELETE(s), {} ms of publisher CPU",
                    format_elapsed(purge.t_ms),
                    purge.rows,
                    purge.batches,
                    purge.took_ms
                )
            })
            .collect();
        lines.push(match self.waited {
            0 => "no refresh waited for a purge".to_string(),
            n => format!("{n} refresh(es) waited for a purge, the longest {} ms", self.longest_wait_ms),
        });
        lines
    }
}

impl Observe for Purges {
    fn observe(&mut self, event: &Event, happening: &Happening, _line: &str) {
        match happening {
            Happening::RefreshTokensPurged { rows, batches, took_ms, .. }
                if self.purges.len() < PURGES_LISTED_MAX =>
            {
                self.purges.push(PurgeSeen {
                    t_ms: event.t_ms,
                    rows: *rows,
                    batches: *batches,
                    took_ms: *took_ms,
                })
            }
            Happening::AccessTokenRefreshed { waited_ms: Some(waited_ms), .. } => {
                self.waited += 1;
                self.longest_wait_ms = self.longest_wait_ms.max(*waited_ms);
            }
            _ => {}
        }
    }
}
