//! The publisher's refresh-token table, in SQLite as on the real publisher.
//!
//! `refreshtokendetails(pkid, refreshtokenindex, userid, clientid, validity, state)`: the
//! token itself is never stored, only its SHA-256 (`refreshtokenindex`), so a copy of the
//! database cannot be replayed (docs/domain.md "Refresh-token storage").

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};

use sha2::{Digest, Sha256};

use crate::tokens::{client_id_hash, token_hash};

pub mod preloaded_image;
pub use preloaded_image::{PreloadBatches, PRELOADED_IMAGES_BYTES_MAX};

/// `state` of a revoked refresh token (kept until the purge removes it). The documents' sample
/// rows show only usable tokens, with `state` values such as `1080686546`, `569144456` and
/// `1146722445`, and do not say what they encode. Ours (assumption): a usable row holds a
/// nonzero 31-bit value ([`issued_state`]), a revoked one this marker.
pub const STATE_REVOKED: i64 = 0;

/// The `state` a newly issued refresh token's row gets: like the sample's, a large positive
/// 31-bit integer that differs from row to row. Ours (assumption): the first 31 bits of the
/// token's SHA-256, never [`STATE_REVOKED`], so it needs no random stream and a row's value
/// can be recomputed from the token alone.
pub fn issued_state(token: &str) -> i64 {
    let digest = Sha256::digest(token.as_bytes());
    let bits = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) & 0x7fff_ffff;
    i64::from(bits.max(1))
}

/// A row of `refreshtokendetails`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshTokenRow {
    /// The token's `tid`.
    pub pkid: String,
    /// SHA-256 hex of the token.
    pub refreshtokenindex: String,
    pub userid: String,
    pub clientid: String,
    /// UNIX seconds until which the token is valid.
    pub validity: u64,
    pub state: i64,
}

impl RefreshTokenRow {
    /// Not revoked (whether it has expired is the validity's business).
    pub fn is_active(&self) -> bool {
        self.state != STATE_REVOKED
    }
}

#[derive(Debug, thiserror::Error)]
#[error("refresh-token table: {0}")]
pub struct StoreError(#[from] rusqlite::Error);

/// The table, in a SQLite database owned by the publisher: a file in the run's temporary
/// directory (its disk, which survives a crash of the node), or in memory for unit tests.
pub struct RefreshTokenStore {
    connection: Connection,
    /// The database file; `None` in memory.
    path: Option<PathBuf>,
}

/// The documents name the columns, not the layout. Ours suits the purge, which runs every
/// day over every expired row: rows are kept in `pkid` order (`WITHOUT ROWID`: no separate
/// rowid b-tree) and found by `pkid`, which a refresh token carries as its `tid`, so the
/// random `refreshtokenindex` (a SHA-256) needs no index of its own; the only index is on
/// `validity`, and a purge batch deletes one range of it. There is no user index: a
/// revocation by user (an administrator's call, rare) reads the table instead. Measured with
/// `authzlab bench`, batches of 1,000 over 1,000,000 rows: 11.5 s with a rowid table, a
/// unique index on the hash and a (userid, clientid) index; 3.8 s with this table and a
/// `userid` index, deleting by a list of keys; 0.8 s without the user index, deleting a
/// range. The revocation by user that pays for it reads 1,000,000 rows in about 0.2 s.
const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS refreshtokendetails (
         pkid TEXT PRIMARY KEY,
         refreshtokenindex TEXT NOT NULL,
         userid TEXT NOT NULL,
         clientid TEXT NOT NULL,
         validity INTEGER NOT NULL,
         state INTEGER NOT NULL
     ) WITHOUT ROWID;
     CREATE INDEX IF NOT EXISTS refreshtokendetails_validity ON refreshtokendetails (validity);";

/// SQLite's page cache for the table, KiB. The largest preloaded table (2,000,000 rows, with
/// the four indexes the table had when this was measured) was ~400 MB; a cache that held it
/// all, with the rollback journal in memory, kept a run of it at 1.42 GB resident (46 s). Measured with 256 MiB and the journal in a
/// file: 354 MB (58 s); with 64 MiB, 146 MB but 87 s (README "Limits").
pub const PAGE_CACHE_KIB: u64 = 256 << 10;

/// Preloaded rows inserted per transaction: a transaction keeps every page it changed until
/// it commits (dirty in the cache, or spilled with the journal beside them), so one
/// transaction for 2,000,000 rows would hold the whole table at once.
pub const PRELOAD_ROWS_PER_TRANSACTION: u64 = 100_000;

impl RefreshTokenStore {
    pub fn open_in_memory() -> Result<RefreshTokenStore, StoreError> {
        let connection = Connection::open_in_memory()?;
        connection.execute_batch(SCHEMA)?;
        Ok(RefreshTokenStore { connection, path: None })
    }

    /// The database file at `path`, created if missing. A crash of a simulated node is not a
    /// crash of the machine: a committed row is in the file (the OS's cache) when the call
    /// returns, and that is what a new connection after the crash must find. So no sync per
    /// commit. The rollback journal is a file beside it (`TRUNCATE`), not memory: a DELETE of
    /// 2,000,000 rows journals the whole table, which in memory cost 1 GB of this process.
    pub fn open(path: &Path) -> Result<RefreshTokenStore, StoreError> {
        let connection = Connection::open(path)?;
        // A bounded page cache (`PAGE_CACHE_KIB`): past it, pages go to the file, which the
        // OS keeps cached outside this process.
        connection.execute_batch(&format!(
            "PRAGMA journal_mode = TRUNCATE; PRAGMA synchronous = OFF; PRAGMA cache_size = -{PAGE_CACHE_KIB};"
        ))?;
        connection.execute_batch(SCHEMA)?;
        Ok(RefreshTokenStore { connection, path: Some(path.to_path_buf()) })
    }

    /// After a crash of the node: what the crashed process left uncommitted (a purge batch
    /// under way) is rolled back, as SQLite's journal does when the database is next opened,
    /// then a new connection to the same file finds only what was committed (in memory, the
    /// committed data stays: there is no disk to go back to).
    pub fn reopen(&mut self) -> Result<(), StoreError> {
        if !self.connection.is_autocommit() {
            self.connection.execute_batch("ROLLBACK")?;
        }
        if let Some(path) = self.path.clone() {
            *self = RefreshTokenStore::open(&path)?;
        }
        Ok(())
    }

    /// Rows in the table.
    pub fn count(&self) -> Result<u64, StoreError> {
        let rows: i64 =
            self.connection.query_row("SELECT COUNT(*) FROM refreshtokendetails", [], |row| row.get(0))?;
        Ok(rows as u64)
    }

    /// Rows in the table whose refresh token was revoked (and not yet purged).
    pub fn count_revoked(&self) -> Result<u64, StoreError> {
        let rows: i64 = self.connection.query_row(
            "SELECT COUNT(*) FROM refreshtokendetails WHERE state = ?1",
            params![STATE_REVOKED],
            |row| row.get(0),
        )?;
        Ok(rows as u64)
    }

    /// Records a refresh token just issued.
    pub fn insert(
        &self,
        tid: &str,
        token: &str,
        userid: &str,
        clientid: &str,
        validity: u64,
    ) -> Result<(), StoreError> {
        self.connection.execute(
            "INSERT INTO refreshtokendetails (pkid, refreshtokenindex, userid, clientid, validity, state)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![tid, token_hash(token), userid, clientid, validity as i64, issued_state(token)],
        )?;
        Ok(())
    }

    /// The row for a presented token: the row its `tid` names, if it holds the token's hash
    /// (a token with another's `tid` finds nothing).
    pub fn find(&self, tid: &str, token: &str) -> Result<Option<RefreshTokenRow>, StoreError> {
        Ok(self
            .connection
            .query_row(
                "SELECT pkid, refreshtokenindex, userid, clientid, validity, state
                 FROM refreshtokendetails WHERE pkid = ?1 AND refreshtokenindex = ?2",
                params![tid, token_hash(token)],
                read_row,
            )
            .optional()?)
    }

    /// Revokes the active rows of `userid` (only those of `clientid` when given) and gives
    /// their `pkid`s, in order. Rows stay until the purge removes them. A savepoint, not a
    /// transaction: it nests in a purge batch still open at the same instant, and commits
    /// with it.
    pub fn revoke(&self, userid: &str, clientid: Option<&str>) -> Result<Vec<String>, StoreError> {
        self.connection.execute_batch("SAVEPOINT revoke")?;
        let revoked = (|| -> Result<Vec<String>, rusqlite::Error> {
            let pkids: Vec<String> = {
                let mut statement = self.connection.prepare(
                    "SELECT pkid FROM refreshtokendetails
                     WHERE userid = ?1 AND (?2 IS NULL OR clientid = ?2) AND state <> ?3 ORDER BY pkid",
                )?;
                let rows = statement.query_map(params![userid, clientid, STATE_REVOKED], |row| row.get(0))?;
                rows.collect::<Result<_, _>>()?
            };
            self.connection.execute(
                "UPDATE refreshtokendetails SET state = ?3
                 WHERE userid = ?1 AND (?2 IS NULL OR clientid = ?2) AND state <> ?3",
                params![userid, clientid, STATE_REVOKED],
            )?;
            Ok(pkids)
        })();
        match revoked {
            Ok(pkids) => {
                self.connection.execute_batch("RELEASE revoke")?;
                Ok(pkids)
            }
            Err(error) => {
                let _ = self.connection.execute_batch("ROLLBACK TO revoke; RELEASE revoke");
                Err(error.into())
            }
        }
    }

    /// The daily purge, one batch: in a transaction it leaves open, deletes up to `limit`
    /// rows whose validity has passed at `now_s` (`validity <= now_s`: a token is expired
    /// from its `exp` on), oldest first, and says how many it deleted. The purge commits it
    /// ([`commit_purge_batch`](Self::commit_purge_batch)) once the batch's modelled time has
    /// passed; a crash before then rolls it back whole ([`reopen`](Self::reopen)), as SQLite
    /// does for a transaction its process did not commit.
    ///
    /// Which rows go never depends on how; how is chosen by cost. Deleting a row walks the
    /// table and its three indexes; emptying the table costs only its pages. So a batch that
    /// takes every expired row, when fewer rows survive than go, keeps the survivors aside,
    /// empties the table and puts them back (same rows, same `pkid` order for every query);
    /// otherwise rows are deleted oldest first, in `pkid` order among equals.
    pub fn begin_purge_batch(&self, now_s: u64, limit: u64) -> Result<u64, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.connection.execute_batch("BEGIN IMMEDIATE")?;
        self.purge_in_transaction(now_s as i64, limit).map_err(|error| {
            let _ = self.connection.execute_batch("ROLLBACK");
            error.into()
        })
    }

    fn purge_in_transaction(&self, now_s: i64, limit: i64) -> Result<u64, rusqlite::Error> {
        if limit <= 0 {
            return Ok(0);
        }
        // A batch of a large table is the first `limit` expired rows in (validity, pkid)
        // order, the validity index's own: one range of it, up to the last row's key,
        // deleted as a range (no list of keys to build and look up one by one). Each query
        // stops early, so a small batch of a large table never counts the table.
        let last: Option<(i64, String)> = self
            .connection
            .query_row(
                "SELECT validity, pkid FROM refreshtokendetails WHERE validity <= ?1
                 ORDER BY validity, pkid LIMIT 1 OFFSET ?2",
                params![now_s, limit.saturating_sub(1)],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        if let Some((validity, pkid)) = last {
            let deleted = self.connection.execute(
                "DELETE FROM refreshtokendetails WHERE (validity, pkid) <= (?1, ?2)",
                params![validity, pkid],
            )?;
            return Ok(deleted as u64);
        }
        // Fewer than `limit` expired: this batch takes them all.
        let count = |sql: &str, up_to: i64| -> Result<i64, rusqlite::Error> {
            self.connection.query_row(sql, params![now_s, up_to], |row| row.get(0))
        };
        let expired = count(
            "SELECT count(*) FROM (SELECT 1 FROM refreshtokendetails WHERE validity <= ?1 LIMIT ?2)",
            limit,
        )?;
        if expired == 0 {
            return Ok(0);
        }
        let survivors = count(
            "SELECT count(*) FROM (SELECT 1 FROM refreshtokendetails WHERE validity > ?1 LIMIT ?2)",
            expired,
        )?;
        if survivors >= expired {
            let deleted = self
                .connection
                .execute("DELETE FROM refreshtokendetails WHERE validity <= ?1", params![now_s])?;
            return Ok(deleted as u64);
        }
        self.connection.execute(
            "CREATE TEMP TABLE purge_survivors AS
             SELECT * FROM refreshtokendetails WHERE validity > ?1",
            params![now_s],
        )?;
        // No WHERE: SQLite's truncate, which frees the table's and indexes' pages whole.
        self.connection.execute_batch(
            "DELETE FROM refreshtokendetails;
             INSERT INTO refreshtokendetails (pkid, refreshtokenindex, userid, clientid, validity, state)
                 SELECT pkid, refreshtokenindex, userid, clientid, validity, state
                 FROM purge_survivors ORDER BY pkid;
             DROP TABLE temp.purge_survivors;",
        )?;
        Ok(expired as u64)
    }

    /// Commits the purge batch [`begin_purge_batch`](Self::begin_purge_batch) began.
    pub fn commit_purge_batch(&self) -> Result<(), StoreError> {
        Ok(self.connection.execute_batch("COMMIT")?)
    }

    /// One purge batch, committed at once (for tests that need no modelled time between).
    pub fn purge_batch(&self, now_s: u64, limit: u64) -> Result<u64, StoreError> {
        let deleted = self.begin_purge_batch(now_s, limit)?;
        self.commit_purge_batch()?;
        Ok(deleted)
    }

    /// Rows whose validity has passed at `now_s`.
    pub fn expired(&self, now_s: u64) -> Result<u64, StoreError> {
        let count: i64 = self.connection.query_row(
            "SELECT count(*) FROM refreshtokendetails WHERE validity <= ?1",
            params![now_s as i64],
            |row| row.get(0),
        )?;
        Ok(count as u64)
    }

    /// Fills the table with `rows` rows of former users whose tokens expired at
    /// `validity`, as a cluster that has run for years holds (the documents: a table with
    /// very many expired rows makes the purge spike the CPU). Their index is the SHA-256 of
    /// a made-up token, as for real ones.
    pub fn preload_expired(&self, rows: u64, validity: u64) -> Result<(), StoreError> {
        self.preload("former", rows, validity)
    }

    /// Fills an empty table with each batch's rows (`pkid` prefix, rows, validity), as
    /// [`preload`](Self::preload) does batch by batch. A file database whose preload this
    /// process has written before starts from a copy of that file instead (same bytes: see
    /// `preloaded_image`).
    pub fn preload_batches(&mut self, batches: &PreloadBatches) -> Result<(), StoreError> {
        let Some(path) = self.path.clone().filter(|_| self.count().ok() == Some(0)) else {
            return batches
                .iter()
                .try_for_each(|(prefix, rows, validity)| self.preload(prefix, *rows, *validity));
        };
        if let Some(image) = preloaded_image::find(batches) {
            // Close before overwriting: the new connection reads the copied file.
            self.connection = Connection::open_in_memory()?;
            if std::fs::write(&path, image.as_slice()).is_ok() {
                *self = RefreshTokenStore::open(&path)?;
                return Ok(());
            }
            // The copy failed part-way: start again from an empty file and write the rows.
            let _ = std::fs::remove_file(&path);
            *self = RefreshTokenStore::open(&path)?;
        }
        for (prefix, rows, validity) in batches {
            self.preload(prefix, *rows, *validity)?;
        }
        // Committed rows are in the file; it is read back only when it would be kept.
        let bytes = std::fs::metadata(&path).map(|meta| meta.len()).unwrap_or(u64::MAX);
        if preloaded_image::fits(bytes) {
            if let Ok(image) = std::fs::read(&path) {
                if image.len() as u64 == bytes {
                    preloaded_image::keep(batches.clone(), image);
                }
            }
        }
        Ok(())
    }

    /// Fills the table with `rows` rows of former users valid until `validity`; their
    /// `pkid`s start with `prefix` (one prefix per call, so calls never collide).
    pub fn preload(&self, prefix: &str, rows: u64, validity: u64) -> Result<(), StoreError> {
        let mut first = 0;
        while first < rows {
            let last = rows.min(first + PRELOAD_ROWS_PER_TRANSACTION);
            self.preload_range(prefix, first..last, validity)?;
            first = last;
        }
        Ok(())
    }

    /// Rows `range` of a preload, in one transaction.
    fn preload_range(
        &self,
        prefix: &str,
        range: std::ops::Range<u64>,
        validity: u64,
    ) -> Result<(), StoreError> {
        let transaction = self.connection.unchecked_transaction()?;
        {
            let mut insert = transaction.prepare(
                "INSERT INTO refreshtokendetails (pkid, refreshtokenindex, userid, clientid, validity, state)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for row in range {
                let pkid = format!("{prefix}-{row:08}");
                insert.execute(params![
                    pkid,
                    token_hash(&pkid),
                    format!("former-user-{}", row % 10_000),
                    client_id_hash(&pkid),
                    validity as i64,
                    issued_state(&pkid)
                ])?;
            }
        }
        transaction.commit()?;
        Ok(())
    }

    /// Shows every row to `each`, in `pkid` order, one at a time (the table may hold
    /// millions of rows).
    pub fn each_row(&self, mut each: impl FnMut(&RefreshTokenRow)) -> Result<(), StoreError> {
        let mut statement = self.connection.prepare(
            "SELECT pkid, refreshtokenindex, userid, clientid, validity, state
             FROM refreshtokendetails ORDER BY pkid",
        )?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            each(&read_row(row)?);
        }
        Ok(())
    }

    /// The first `limit` rows in `pkid` order (the primary key's own order: no sort), for a
    /// screenful of a table that may hold millions.
    pub fn first_rows(&self, limit: u64) -> Result<Vec<RefreshTokenRow>, StoreError> {
        let mut statement = self.connection.prepare(
            "SELECT pkid, refreshtokenindex, userid, clientid, validity, state
             FROM refreshtokendetails ORDER BY pkid LIMIT ?1",
        )?;
        let rows = statement.query_map(params![i64::try_from(limit).unwrap_or(i64::MAX)], read_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every row, in `pkid` order.
    pub fn rows(&self) -> Result<Vec<RefreshTokenRow>, StoreError> {
        let mut statement = self.connection.prepare(
            "SELECT pkid, refreshtokenindex, userid, clientid, validity, state
             FROM refreshtokendetails ORDER BY pkid",
        )?;
        let rows = statement.query_map([], read_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// Columns in the order every `SELECT` here names them.
fn read_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RefreshTokenRow> {
    Ok(RefreshTokenRow {
        pkid: row.get(0)?,
        refreshtokenindex: row.get(1)?,
        userid: row.get(2)?,
        clientid: row.get(3)?,
        validity: row.get::<_, i64>(4)? as u64,
        state: row.get(5)?,
    })
}

#[cfg(test)]
mod purge_tests {
    use super::*;

    /// The boundary: a row whose validity is the purge instant has passed (a token is
    /// expired from its `exp` on); one a second later has not.
    #[test]
    fn the_purge_deletes_rows_whose_validity_has_passed_and_no_other() {
        let store = RefreshTokenStore::open_in_memory().unwrap();
        let purge_at = 1_767_578_400;
        store.insert("at", "token-at", "alice", "C1", purge_at).unwrap();
        store.insert("after", "token-after", "alice", "C1", purge_at + 1).unwrap();
        store.insert("before", "token-before", "bob", "C2", purge_at - 86_400).unwrap();
        assert_eq!(store.expired(purge_at).unwrap(), 2);
        assert_eq!(store.purge_batch(purge_at, 1).unwrap(), 1, "a batch stops at its limit");
        assert_eq!(store.purge_batch(purge_at, 10).unwrap(), 1);
        assert_eq!(store.purge_batch(purge_at, 10).unwrap(), 0);
        let left: Vec<String> = store.rows().unwrap().into_iter().map(|row| row.pkid).collect();
        assert_eq!(left, ["after"]);
    }

    /// A batch deletes the oldest `limit` expired rows, `pkid` order among equal validities,
    /// and nothing else: held batch by batch against the same order worked out here, over
    /// rows whose validities repeat, interleave and straddle the purge instant.
    #[test]
    fn a_purge_batch_takes_the_oldest_expired_rows_in_pkid_order_among_equals() {
        let store = RefreshTokenStore::open_in_memory().unwrap();
        let now = 1_000;
        let mut rows: Vec<(u64, String)> =
            (0..200u64).map(|i| (now - 40 + (i * 37) % 60, format!("t{:03}", (i * 91) % 200))).collect();
        for (validity, pkid) in &rows {
            store.insert(pkid, &format!("token-{pkid}"), "alice", "C1", *validity).unwrap();
        }
        rows.sort();
        let expired: Vec<&String> =
            rows.iter().filter(|(validity, _)| *validity <= now).map(|(_, pkid)| pkid).collect();
        let mut gone = 0;
        for limit in [7, 1, 30, 7, 1_000] {
            let deleted = store.purge_batch(now, limit).unwrap() as usize;
            assert_eq!(deleted, (expired.len() - gone).min(limit as usize));
            gone += deleted;
            let mut left: Vec<String> = store.rows().unwrap().into_iter().map(|row| row.pkid).collect();
            let mut expected: Vec<String> = rows
                .iter()
                .map(|(_, pkid)| pkid.clone())
                .filter(|pkid| !expired[..gone].contains(&pkid))
                .collect();
            left.sort();
            expected.sort();
            assert_eq!(left, expected, "after {gone} deleted");
        }
        assert_eq!(gone, expired.len());
        assert_eq!(store.expired(now).unwrap(), 0);
    }

    /// A crash while a purge batch is under way loses neither the rows it had not yet
    /// committed nor those committed before: the batch rolls back whole, on disk and in
    /// memory alike; a committed batch stays committed.
    #[test]
    fn a_crash_before_a_purge_batch_commits_rolls_it_back_whole() {
        let directory = tempfile::tempdir().unwrap();
        let mut on_disk = RefreshTokenStore::open(&directory.path().join("pub.db")).unwrap();
        let mut in_memory = RefreshTokenStore::open_in_memory().unwrap();
        for store in [&mut on_disk, &mut in_memory] {
            store.preload_expired(3_000, 100).unwrap();
            assert_eq!(store.purge_batch(100, 1_000).unwrap(), 1_000, "committed");
            assert_eq!(store.begin_purge_batch(100, 1_000).unwrap(), 1_000);
            // A revocation at the same instant nests in the open batch.
            assert_eq!(store.revoke("nobody", None).unwrap(), Vec::<String>::new());
            assert_eq!(store.count().unwrap(), 1_000, "the connection sees its own DELETE");
            store.reopen().unwrap();
            assert_eq!(store.count().unwrap(), 2_000, "the batch under way rolled back");
            assert_eq!(store.begin_purge_batch(100, 1_000).unwrap(), 1_000);
            store.commit_purge_batch().unwrap();
            store.reopen().unwrap();
            assert_eq!(store.count().unwrap(), 1_000);
        }
    }

    /// When fewer rows survive than go, the purge empties the table and puts the survivors
    /// back: the rows left and the order a plain SELECT gives are the ones a row-by-row
    /// delete leaves; and a crash before it commits loses nothing.
    #[test]
    fn a_purge_that_keeps_survivors_aside_leaves_what_deleting_row_by_row_leaves() {
        let directory = tempfile::tempdir().unwrap();
        let fill = |store: &RefreshTokenStore| {
            store.preload_expired(3_000, 100).unwrap();
            store.insert("late", "token-late", "alice", "C1", 500).unwrap();
            store.insert("early", "token-early", "bob", "C2", 400).unwrap();
            store.preload("recent", 40, 300).unwrap();
        };
        let plain_order = |store: &RefreshTokenStore| -> Vec<(String, i64)> {
            let mut statement =
                store.connection.prepare("SELECT pkid, validity FROM refreshtokendetails").unwrap();
            let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?))).unwrap();
            rows.collect::<Result<_, _>>().unwrap()
        };
        // Row by row, as SQLite deletes with a WHERE.
        let by_rows = RefreshTokenStore::open_in_memory().unwrap();
        fill(&by_rows);
        let deleted =
            by_rows.connection.execute("DELETE FROM refreshtokendetails WHERE validity <= 200", []).unwrap();
        assert_eq!(deleted, 3_000);
        // Kept aside: one batch takes every expired row, 42 survive.
        let mut kept_aside = RefreshTokenStore::open(&directory.path().join("pub.db")).unwrap();
        fill(&kept_aside);
        let before = plain_order(&kept_aside);
        assert_eq!(kept_aside.begin_purge_batch(200, u64::MAX).unwrap(), 3_000);
        assert_eq!(kept_aside.count().unwrap(), 42);
        kept_aside.reopen().unwrap();
        assert_eq!(plain_order(&kept_aside), before, "a crash before the commit loses nothing");
        assert_eq!(kept_aside.purge_batch(200, u64::MAX).unwrap(), 3_000);
        assert_eq!(plain_order(&kept_aside), plain_order(&by_rows));
        assert_eq!(kept_aside.rows().unwrap(), by_rows.rows().unwrap());
        assert_eq!(kept_aside.find("late", "token-late").unwrap().map(|row| row.validity), Some(500));
        assert_eq!(kept_aside.find("early", "token-late").unwrap(), None, "another row's tid");
        assert_eq!(kept_aside.purge_batch(1_000, u64::MAX).unwrap(), 42, "the table may empty whole");
        assert_eq!(kept_aside.count().unwrap(), 0);
    }

    /// The premise of keeping preloaded images: the same batches into an empty table lay out
    /// the same file, byte for byte; and a table started from the kept image holds the rows a
    /// fresh preload writes.
    #[test]
    fn a_preload_written_twice_is_the_same_file_and_its_copy_holds_the_same_rows() {
        let directory = tempfile::tempdir().unwrap();
        let path = |name: &str| directory.path().join(name);
        let open = |name: &str| RefreshTokenStore::open(&path(name)).unwrap();
        let batches: PreloadBatches =
            vec![("image-test-0".into(), 2_500, 100), ("image-test-1".into(), 500, 900)];
        let (mut first, fresh) = (open("first.db"), open("fresh.db"));
        first.preload_batches(&batches).unwrap();
        for (prefix, rows, validity) in &batches {
            fresh.preload(prefix, *rows, *validity).unwrap();
        }
        let bytes = |name: &str| std::fs::read(path(name)).unwrap();
        assert!(bytes("fresh.db") == bytes("first.db"), "the same statements lay out the same file");
        assert!(preloaded_image::find(&batches).is_some(), "a small preload's image is kept");
        let mut copied = open("copied.db");
        copied.preload_batches(&batches).unwrap();
        assert_eq!(copied.count().unwrap(), 3_000);
        assert_eq!(copied.rows().unwrap(), fresh.rows().unwrap());
        assert_eq!(copied.expired(100).unwrap(), 2_500);
        copied.insert("t1", "token-1", "alice", "C1", 1_000).unwrap();
        assert_eq!(copied.count().unwrap(), 3_001, "the copy is a working database");
    }

    #[test]
    fn a_preloaded_table_holds_hashes_and_client_ids_like_real_rows() {
        let store = RefreshTokenStore::open_in_memory().unwrap();
        store.preload_expired(1_000, 100).unwrap();
        let rows = store.rows().unwrap();
        assert_eq!(rows.len(), 1_000);
        assert_eq!(rows[0].refreshtokenindex.len(), 64);
        assert!(rows[0].clientid.starts_with('C') && rows[0].clientid.len() == 65);
        assert_eq!(store.expired(100).unwrap(), 1_000);
        assert_eq!(store.purge_batch(100, u64::MAX).unwrap(), 1_000);
    }
}

#[cfg(test)]
mod revoke_tests {
    use super::*;

    #[test]
    fn revoking_by_device_leaves_the_users_other_devices_and_other_users_alone() {
        let store = RefreshTokenStore::open_in_memory().unwrap();
        store.insert("t1", "token-1", "alice", "C-laptop", 100).unwrap();
        store.insert("t2", "token-2", "alice", "C-phone", 100).unwrap();
        store.insert("t3", "token-3", "bob", "C-laptop", 100).unwrap();
        assert_eq!(store.revoke("alice", Some("C-phone")).unwrap(), ["t2"]);
        assert_eq!(store.revoke("alice", Some("C-phone")).unwrap(), Vec::<String>::new(), "already revoked");
        let state =
            |pkid: &str| store.rows().unwrap().into_iter().find(|row| row.pkid == pkid).unwrap().state;
        let issued = (issued_state("token-1"), STATE_REVOKED, issued_state("token-3"));
        assert_eq!((state("t1"), state("t2"), state("t3")), issued);
        assert_eq!(store.revoke("alice", None).unwrap(), ["t1"]);
        assert_eq!(state("t3"), issued_state("token-3"));
        assert_eq!(store.rows().unwrap().len(), 3, "revoked rows stay until the purge");
    }

    /// The documents' sample rows hold `state` values such as 1080686546, 569144456 and
    /// 1146722445: large, positive, below 2^31, different for each token of one user and
    /// client. A usable row here is the same kind of number, never the revocation marker.
    #[test]
    fn issued_rows_hold_large_distinct_states_like_the_sample() {
        let store = RefreshTokenStore::open_in_memory().unwrap();
        for index in 0..3 {
            store.insert(&format!("t{index}"), &format!("token-{index}"), "bvanturn", "C1b4b", 100).unwrap();
        }
        let states: Vec<i64> = store.rows().unwrap().iter().map(|row| row.state).collect();
        for state in &states {
            assert!((1 << 20..1 << 31).contains(state), "{state} is not a large 31-bit value");
        }
        assert!(states[0] != states[1] && states[1] != states[2] && states[0] != states[2], "{states:?}");
        assert!(store.rows().unwrap().iter().all(RefreshTokenRow::is_active));
    }
}

#[cfg(test)]
mod tests {

    /// The publisher's disk: a row committed before a crash is found by the connection made
    /// after it; in memory there is no disk and nothing to reopen.
    #[test]
    fn a_committed_row_is_found_again_after_the_node_restarts() {
        let disk = tempfile::tempdir().unwrap();
        let path = disk.path().join("table.sqlite");
        let mut store = RefreshTokenStore::open(&path).unwrap();
        store.insert("tid-1", "eyJ.token.one", "alice", "C00", 1_000).unwrap();
        assert_eq!(store.count().unwrap(), 1);
        store.reopen().unwrap();
        assert_eq!(store.count().unwrap(), 1);
        assert_eq!(store.find("tid-1", "eyJ.token.one").unwrap().unwrap().pkid, "tid-1");
        let other = RefreshTokenStore::open(&path).unwrap();
        assert_eq!(other.count().unwrap(), 1, "the file holds it, not the connection");
        let mut memory = RefreshTokenStore::open_in_memory().unwrap();
        memory.insert("tid-2", "eyJ.token.two", "bob", "C01", 1_000).unwrap();
        memory.reopen().unwrap();
        assert_eq!(memory.count().unwrap(), 1);
    }

    use super::*;

    #[test]
    fn stores_only_the_hash_and_finds_by_tid_and_token() {
        let store = RefreshTokenStore::open_in_memory().unwrap();
        store.insert("tid-1", "eyJ.secret.token", "alice", "jabber-1", 100).unwrap();
        let row = store.find("tid-1", "eyJ.secret.token").unwrap().expect("inserted");
        assert_eq!(row.userid, "alice");
        assert_eq!(row.refreshtokenindex, token_hash("eyJ.secret.token"));
        assert!(store.find("tid-1", "eyJ.other.token").unwrap().is_none(), "another token");
        assert!(store.find("tid-2", "eyJ.secret.token").unwrap().is_none(), "another tid");
        for row in store.rows().unwrap() {
            assert!(!row.refreshtokenindex.contains("secret"));
            assert_eq!(row.refreshtokenindex.len(), 64);
        }
    }
}
