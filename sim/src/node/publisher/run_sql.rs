//! `run sql ...` on the publisher's CLI: the queries the documents quote, answered from the
//! publisher's own tables, one `sql-row` per row as the CLI prints it and a closing
//! `sql-answered`. The refresh-token table shows each token's hash and `state`, never a token.

use super::*;
use crate::scenario::SqlQuery;

/// Rows one answer prints, as the CLI's pager would show a screenful; the count says how many
/// there were in all (a table of a cluster that has run for years holds millions).
pub const RUN_SQL_ROWS_SHOWN: u64 = 20;

impl Publisher {
    pub(super) fn run_sql(&self, query: SqlQuery) {
        let (rows, shown) = match query {
            SqlQuery::RefreshTokenDetails => self.show_refresh_tokens(),
            SqlQuery::ClusterSipOauthMode => {
                // Without SIP the parameter keeps its default, 0 (disabled).
                let mode = self.sip.as_ref().map_or(Ok(false), |sip| sip.mode());
                match mode {
                    Ok(mode) => {
                        self.tracer
                            .emit(Happening::SqlRow { row: format!("paramvalue\t{}", u8::from(mode)) });
                        (1, 1)
                    }
                    Err(reason) => {
                        self.tracer.emit(Happening::SqlRow { row: format!("error: {reason}") });
                        (0, 0)
                    }
                }
            }
        };
        self.tracer.emit(Happening::SqlAnswered { query: query.name().to_string(), rows, shown });
    }

    /// `pkid refreshtokenindex userid clientid validity state`, validity in UTC as
    /// `dbinfo('utc_to_datetime', validity)` prints it; the first [`RUN_SQL_ROWS_SHOWN`] rows
    /// read, the rest only counted.
    fn show_refresh_tokens(&self) -> (u64, u64) {
        let listed =
            self.store.count().and_then(|rows| Ok((rows, self.store.first_rows(RUN_SQL_ROWS_SHOWN)?)));
        let (rows, first) = match listed {
            Ok(listed) => listed,
            Err(error) => {
                self.tracer.emit(Happening::SqlRow { row: format!("error: {error}") });
                return (0, 0);
            }
        };
        for row in &first {
            self.tracer.emit(Happening::SqlRow {
                row: format!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    row.pkid,
                    row.refreshtokenindex,
                    row.userid,
                    row.clientid,
                    utc_datetime(row.validity),
                    row.state
                ),
            });
        }
        (rows, first.len() as u64)
    }
}

/// `YYYY-MM-DD HH:MM:SS` in UTC, as `dbinfo('utc_to_datetime', ...)` prints it.
fn utc_datetime(unix_s: u64) -> String {
    let Some(at) = crate::clock::calendar(unix_s) else { return format!("@{unix_s}") };
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_reads_as_the_documents_sample_prints_it() {
        assert_eq!(utc_datetime(1_546_697_506), "2019-01-05 14:11:46");
        assert_eq!(utc_datetime(u64::MAX), format!("@{}", u64::MAX));
    }
}
