//! The publisher's refresh-token table as the trace tells it: how many rows it holds, by
//! validity. The purge and crash invariants both follow it, so that a purge batch a crash
//! cut short is accounted the same way in both.

use std::collections::BTreeMap;

/// Rows by validity (UNIX seconds): one count per distinct validity, as many entries as the
/// table has distinct expiries, never one per row.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RowsByValidity {
    counts: BTreeMap<u64, u64>,
}

impl RowsByValidity {
    pub fn add(&mut self, validity: u64, rows: u64) {
        if rows > 0 {
            *self.counts.entry(validity).or_default() += rows;
        }
    }

    /// Rows whose validity has passed at `cutoff` (`validity <= cutoff`).
    pub fn due(&self, cutoff: u64) -> u64 {
        self.counts.range(..=cutoff).map(|(_, rows)| rows).sum()
    }

    /// Removes every row due at `cutoff` and says how many there were.
    pub fn take_due(&mut self, cutoff: u64) -> u64 {
        let later = self.counts.split_off(&cutoff.saturating_add(1));
        std::mem::replace(&mut self.counts, later).values().sum()
    }

    /// Removes `rows` rows oldest first, as a purge batch deletes them (`ORDER BY validity`),
    /// and gives the validity below which no row is left: rows of earlier validities are
    /// gone for certain, rows of that one only in part.
    pub fn delete_oldest(&mut self, mut rows: u64) -> u64 {
        while rows > 0 {
            let Some(mut entry) = self.counts.first_entry() else { break };
            let taken = rows.min(*entry.get());
            *entry.get_mut() -= taken;
            rows -= taken;
            if *entry.get() == 0 {
                entry.remove();
            }
        }
        self.counts.first_key_value().map_or(u64::MAX, |(validity, _)| *validity)
    }
}

/// The purge under way, from its committed batches: which purge (its cutoff) and how many
/// rows its batches deleted. The purge's summary counts them again, and a purge a crash cut
/// short never sends one, so both table checks need to know what was already counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PurgeUnderWay {
    cutoff: u64,
    rows: u64,
}

impl PurgeUnderWay {
    /// A batch of the purge with `cutoff` committed `rows` rows; a batch of another purge
    /// starts counting afresh (the one before was cut short).
    pub fn batch_committed(&mut self, cutoff: u64, rows: u64) {
        if self.cutoff != cutoff {
            *self = PurgeUnderWay { cutoff, rows: 0 };
        }
        self.rows += rows;
    }

    /// The purge with `cutoff` finished: the rows its batches already deleted.
    pub fn finished(&mut self, cutoff: u64) -> u64 {
        match self.cutoff == cutoff {
            true => std::mem::take(self).rows,
            false => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_deletes_the_oldest_rows_first_and_says_what_is_certainly_gone() {
        let mut rows = RowsByValidity::default();
        rows.add(10, 3);
        rows.add(20, 2);
        rows.add(30, 1);
        assert_eq!(rows.due(20), 5);
        assert_eq!(rows.delete_oldest(4), 20, "validity 10 gone, one row of 20 left");
        assert_eq!(rows.due(20), 1);
        assert_eq!(rows.take_due(20), 1);
        assert_eq!(rows.due(u64::MAX), 1);
        assert_eq!(rows.delete_oldest(5), u64::MAX, "empty");
    }

    #[test]
    fn a_purge_cut_short_is_forgotten_when_the_next_one_begins() {
        let mut under_way = PurgeUnderWay::default();
        under_way.batch_committed(100, 50);
        under_way.batch_committed(100, 50);
        under_way.batch_committed(200, 7);
        assert_eq!(under_way.finished(100), 0, "that purge was cut short");
        assert_eq!(under_way.finished(200), 7);
        assert_eq!(under_way.finished(200), 0, "counted once");
    }
}
