//! The publisher's refresh-token table, in SQLite as on the real publisher.
//!
//! `refreshtokendetails(pkid, refreshtokenindex, userid, clientid, validity, state)`: the
//! token itself is never stored, only its SHA-256 (`refreshtokenindex`), so a copy of the
//! database cannot be replayed (DOMAIN.md "Refresh-token storage").

use rusqlite::{params, Connection, OptionalExtension};

use crate::tokens::token_hash;

/// `state` of a usable refresh token.
pub const STATE_ACTIVE: i64 = 1;
/// `state` of a revoked one (kept until the purge removes it).
pub const STATE_REVOKED: i64 = 0;

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

#[derive(Debug, thiserror::Error)]
#[error("refresh-token table: {0}")]
pub struct StoreError(#[from] rusqlite::Error);

/// The table, in an in-memory SQLite database owned by the publisher.
pub struct RefreshTokenStore {
    connection: Connection,
}

impl RefreshTokenStore {
    pub fn open_in_memory() -> Result<RefreshTokenStore, StoreError> {
        let connection = Connection::open_in_memory()?;
        connection.execute_batch(
            "CREATE TABLE refreshtokendetails (
                 pkid TEXT PRIMARY KEY,
                 refreshtokenindex TEXT NOT NULL UNIQUE,
                 userid TEXT NOT NULL,
                 clientid TEXT NOT NULL,
                 validity INTEGER NOT NULL,
                 state INTEGER NOT NULL
             );
             CREATE INDEX refreshtokendetails_user ON refreshtokendetails (userid, clientid);",
        )?;
        Ok(RefreshTokenStore { connection })
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
            params![tid, token_hash(token), userid, clientid, validity as i64, STATE_ACTIVE],
        )?;
        Ok(())
    }

    /// The row for a presented token, found by its hash.
    pub fn find(&self, token: &str) -> Result<Option<RefreshTokenRow>, StoreError> {
        Ok(self
            .connection
            .query_row(
                "SELECT pkid, refreshtokenindex, userid, clientid, validity, state
                 FROM refreshtokendetails WHERE refreshtokenindex = ?1",
                params![token_hash(token)],
                read_row,
            )
            .optional()?)
    }

    /// Revokes the active rows of `userid` (only those of `clientid` when given) and gives
    /// their `pkid`s, in order. Rows stay until the purge removes them.
    pub fn revoke(&self, userid: &str, clientid: Option<&str>) -> Result<Vec<String>, StoreError> {
        let transaction = self.connection.unchecked_transaction()?;
        let pkids: Vec<String> = {
            let mut statement = transaction.prepare(
                "SELECT pkid FROM refreshtokendetails
                 WHERE userid = ?1 AND (?2 IS NULL OR clientid = ?2) AND state = ?3 ORDER BY pkid",
            )?;
            let rows = statement.query_map(params![userid, clientid, STATE_ACTIVE], |row| row.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        transaction.execute(
            "UPDATE refreshtokendetails SET state = ?4
             WHERE userid = ?1 AND (?2 IS NULL OR clientid = ?2) AND state = ?3",
            params![userid, clientid, STATE_ACTIVE, STATE_REVOKED],
        )?;
        transaction.commit()?;
        Ok(pkids)
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
        assert_eq!((state("t1"), state("t2"), state("t3")), (STATE_ACTIVE, STATE_REVOKED, STATE_ACTIVE));
        assert_eq!(store.revoke("alice", None).unwrap(), ["t1"]);
        assert_eq!(state("t3"), STATE_ACTIVE);
        assert_eq!(store.rows().unwrap().len(), 3, "revoked rows stay until the purge");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_only_the_hash_and_finds_by_token() {
        let store = RefreshTokenStore::open_in_memory().unwrap();
        store.insert("tid-1", "eyJ.secret.token", "alice", "jabber-1", 100).unwrap();
        let row = store.find("eyJ.secret.token").unwrap().expect("inserted");
        assert_eq!(row.userid, "alice");
        assert_eq!(row.refreshtokenindex, token_hash("eyJ.secret.token"));
        assert!(store.find("eyJ.other.token").unwrap().is_none());
        for row in store.rows().unwrap() {
            assert!(!row.refreshtokenindex.contains("secret"));
            assert_eq!(row.refreshtokenindex.len(), 64);
        }
    }
}
