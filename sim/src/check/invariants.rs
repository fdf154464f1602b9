//! What must hold in every run, whatever the scenario. Each check is named after what it
//! forbids, reads only the trace, and reports its first offending event.

use std::collections::{BTreeMap, BTreeSet};

use crate::check::clocks::{unix_as_elapsed, NodeClocks};
use crate::check::secrets::SecretSet;
use crate::check::table_rows::{PurgeUnderWay, RowsByValidity};
use crate::check::{verdict, Check, Outcome};
use crate::clock::format_elapsed;
use crate::trace::{Event, Happening};

/// Every invariant's name, in report order: those of [`all`], then the database audit
/// ([`TableHoldsNoRawToken`]). A scenario's `violates` may name only these.
pub const NAMES: &[&str] = &[
    "no_access_token_accepted_after_expiry",
    "no_raw_token_in_trace",
    "no_key_material_in_trace",
    "no_access_token_from_revoked_refresh_token",
    "no_token_lifetime_out_of_bounds",
    "purge_deletes_exactly_the_expired_rows",
    "crash_loses_no_committed_row",
    "no_token_accepted_under_a_key_the_node_replaced",
    crate::check::keys_agree::NAME,
    crate::check::sip_edge::VALID_TOKEN,
    crate::check::sip_edge::LISTED_PEER,
    crate::check::sip_edge::PORT_RANGE,
    "table_holds_no_raw_token",
];

/// Every invariant, in a fixed order.
pub fn all(epoch_s: u64) -> Vec<Box<dyn Check>> {
    vec![
        Box::new(NoAccessTokenAcceptedAfterExpiry::new(epoch_s)),
        Box::new(NoRawTokenInTrace::default()),
        Box::new(NoKeyMaterialInTrace::default()),
        Box::new(NoAccessTokenFromRevokedRefreshToken::default()),
        Box::new(NoTokenLifetimeOutOfBounds::new(epoch_s)),
        Box::new(PurgeDeletesExactlyTheExpiredRows::default()),
        Box::new(CrashLosesNoCommittedRow::default()),
        Box::new(NoTokenAcceptedUnderAKeyTheNodeReplaced::new(epoch_s)),
        Box::new(crate::check::keys_agree::KeysAgree::default()),
        Box::new(crate::check::sip_edge::SipRegistrationCarriedAValidToken::new(epoch_s)),
        Box::new(crate::check::sip_edge::NoMtlsPeerOutsideExpresswayConfiguration::default()),
        Box::new(crate::check::sip_edge::NoSipOAuthPortOutsideItsRange::default()),
    ]
}

/// Once a node has loaded a signing key (a push it used at once, Tomcat's restart, Unity's
/// fetch), it accepts no token signed with another: a regenerated key is dead on every node
/// that loaded its successor. The signing key of each self-contained access token comes from
/// the event that issued it; the key a node uses, from the events that load keys there.
/// Opaque tokens carry no key and are not judged. It remembers each token until its expiry.
pub struct NoTokenAcceptedUnderAKeyTheNodeReplaced {
    epoch_s: u64,
    /// Access token id → the checksum of the key that signed it.
    signed_by: BTreeMap<String, String>,
    /// (expiry, token id), to forget tokens once expired.
    expiries: BTreeSet<(u64, String)>,
    /// Node → the signing key it validates with now.
    loaded: BTreeMap<String, String>,
    judged: u64,
    first: Option<String>,
}

impl NoTokenAcceptedUnderAKeyTheNodeReplaced {
    pub fn new(epoch_s: u64) -> NoTokenAcceptedUnderAKeyTheNodeReplaced {
        NoTokenAcceptedUnderAKeyTheNodeReplaced {
            epoch_s,
            signed_by: BTreeMap::new(),
            expiries: BTreeSet::new(),
            loaded: BTreeMap::new(),
            judged: 0,
            first: None,
        }
    }
}

impl Check for NoTokenAcceptedUnderAKeyTheNodeReplaced {
    fn observe(&mut self, event: &Event, happening: &Happening, _line: &str) {
        if self.first.is_some() {
            return;
        }
        // Tokens past their expiry (and the leeway) are accepted nowhere; forget them.
        let now_s = self.epoch_s + event.t_ms / 1000;
        while let Some((exp, _)) = self.expiries.first() {
            if *exp + authzlab_host::CLOCK_LEEWAY_S > now_s {
                break;
            }
            let (_, tid) = self.expiries.pop_first().expect("just looked");
            self.signed_by.remove(&tid);
        }
        if let Some(issued) = happening.issued_access_token() {
            // Opaque tokens carry no key: not judged.
            let Some(key) = issued.signing_key else { return };
            self.expiries.insert((issued.access_exp, issued.access_tid.to_string()));
            self.signed_by.insert(issued.access_tid.to_string(), key.to_string());
            return;
        }
        match happening {
            Happening::KeysSynced { .. }
            | Happening::ServiceRestarted { .. }
            | Happening::KeysFetched { .. } => {
                if let Some((signing_key, _)) = happening.key_pair() {
                    self.loaded.insert(event.node.clone(), signing_key.to_string());
                }
            }
            _ => {
                let Some(accepted) = happening.accepted_access_token() else { return };
                let tid = accepted.tid;
                let (Some(signed_by), Some(loaded)) = (self.signed_by.get(tid), self.loaded.get(&event.node))
                else {
                    return;
                };
                self.judged += 1;
                if signed_by != loaded {
                    self.first = Some(format!(
                        "{} at {} accepted token {tid} signed by key {} while it uses key {}",
                        event.node,
                        format_elapsed(event.t_ms),
                        &signed_by[..signed_by.len().min(8)],
                        &loaded[..loaded.len().min(8)]
                    ));
                }
            }
        }
    }

    fn outcome(&self) -> Outcome {
        verdict(
            "no_token_accepted_under_a_key_the_node_replaced",
            self.first.clone(),
            self.judged,
            "acceptances of a token whose signing key and the node's are both known",
        )
    }
}

/// A crash of the publisher loses nothing it committed: when it starts again, its
/// refresh-token table (a file on its disk) holds exactly the rows the trace says were
/// committed (preloaded, plus every refresh token issued, less every row purged: by a whole
/// purge, or by the committed batches of one a crash cut short), and exactly the revoked
/// rows the trace says were revoked and not yet purged. A purge the crash interrupted
/// before it committed deleted nothing.
#[derive(Default)]
pub struct CrashLosesNoCommittedRow {
    committed: u64,
    /// The table's rows by validity: which a batch deleted (the oldest).
    rows: RowsByValidity,
    /// The purge under way: the rows its committed batches deleted.
    batched: PurgeUnderWay,
    /// Refresh token id → its validity, for tokens issued and not yet purged.
    validity: BTreeMap<String, u64>,
    /// (validity, token id) of revoked rows not yet purged.
    revoked: BTreeSet<(u64, String)>,
    restarts: u64,
    first: Option<String>,
}

impl Check for CrashLosesNoCommittedRow {
    fn observe(&mut self, event: &Event, happening: &Happening, _line: &str) {
        match happening {
            Happening::TablePreloaded { rows, validity } => {
                self.committed += rows;
                self.rows.add(*validity, *rows);
            }
            Happening::TokensIssued { refresh_tid, refresh_exp, .. } => {
                self.committed += 1;
                self.rows.add(*refresh_exp, 1);
                self.validity.insert(refresh_tid.clone(), *refresh_exp);
            }
            Happening::PurgeBatchCommitted { rows, cutoff } => {
                self.batched.batch_committed(*cutoff, *rows);
                self.committed = self.committed.saturating_sub(*rows);
                // Rows older than what is left are gone; of that validity itself, some may be
                // (which ones, SQLite chose): those tokens are kept, a bound on the check.
                let gone_below = self.rows.delete_oldest(*rows);
                self.validity.retain(|_, exp| *exp >= gone_below);
                while self.revoked.first().is_some_and(|(exp, _)| *exp < gone_below) {
                    self.revoked.pop_first();
                }
            }
            Happening::TokensRevoked { refresh_tids, .. } => {
                for tid in refresh_tids.split_whitespace() {
                    if let Some(exp) = self.validity.get(tid) {
                        self.revoked.insert((*exp, tid.to_string()));
                    }
                }
            }
            Happening::RefreshTokensPurged { rows, cutoff, .. } => {
                // Its committed batches were counted as they came.
                let batched = self.batched.finished(*cutoff);
                self.committed = self.committed.saturating_sub(rows.saturating_sub(batched));
                self.rows.take_due(*cutoff);
                self.validity.retain(|_, exp| *exp > *cutoff);
                while self.revoked.first().is_some_and(|(exp, _)| exp <= cutoff) {
                    self.revoked.pop_first();
                }
            }
            Happening::NodeRestarted { table_rows: Some(rows), revoked_rows: revoked, .. } => {
                let (rows, revoked) = (*rows, *revoked);
                self.restarts += 1;
                if self.first.is_none() && rows != self.committed {
                    self.first = Some(format!(
                        "{} at {} started again with {rows} row(s) in its table; {} were committed",
                        event.node,
                        format_elapsed(event.t_ms),
                        self.committed
                    ));
                } else if self.first.is_none() && revoked != Some(self.revoked.len() as u64) {
                    self.first = Some(format!(
                        "{} at {} started again with {} revoked row(s); {} revocation(s) were committed",
                        event.node,
                        format_elapsed(event.t_ms),
                        revoked.map_or_else(|| "no count of".to_string(), |n| n.to_string()),
                        self.revoked.len()
                    ));
                }
            }
            _ => {}
        }
    }

    fn outcome(&self) -> Outcome {
        verdict(
            "crash_loses_no_committed_row",
            self.first.clone(),
            self.restarts,
            "restarts of the publisher",
        )
    }
}

/// Each purge deletes every row whose validity has passed at its cutoff and no other: the
/// number it reports equals the rows the trace says were due (preloaded rows, and the
/// refresh tokens issued, by their `refresh_exp`). Too many means it deleted live tokens;
/// too few, that it left expired ones behind. A batched purge's batches are counted as they
/// commit (each may delete only due rows), so that one a crash cut short leaves the next
/// day's purge exactly the rest. It keeps a count per expiry second, as many as the table
/// has distinct expiries.
#[derive(Default)]
pub struct PurgeDeletesExactlyTheExpiredRows {
    rows: RowsByValidity,
    /// The purge under way: the rows its committed batches deleted.
    batched: PurgeUnderWay,
    judged: u64,
    first: Option<String>,
}

impl Check for PurgeDeletesExactlyTheExpiredRows {
    fn observe(&mut self, event: &Event, happening: &Happening, _line: &str) {
        match happening {
            Happening::TablePreloaded { rows, validity } => self.rows.add(*validity, *rows),
            Happening::TokensIssued { refresh_exp, .. } => self.rows.add(*refresh_exp, 1),
            Happening::PurgeBatchCommitted { rows, cutoff } => {
                let due = self.rows.due(*cutoff);
                if *rows > due && self.first.is_none() {
                    self.first = Some(format!(
                        "a purge batch at {} deleted {} row(s) still valid ({rows} deleted, {due} due by {cutoff})",
                        format_elapsed(event.t_ms),
                        rows - due
                    ));
                }
                self.rows.delete_oldest(*rows);
                self.batched.batch_committed(*cutoff, *rows);
            }
            Happening::RefreshTokensPurged { rows, cutoff, .. } => {
                let (rows, cutoff) = (*rows, *cutoff);
                let batched = self.batched.finished(cutoff);
                let expected = self.rows.take_due(cutoff) + batched;
                self.judged += 1;
                if rows != expected && self.first.is_none() {
                    let what = if rows > expected {
                        format!("deleted {} row(s) still valid", rows - expected)
                    } else {
                        format!("left {} expired row(s) behind", expected - rows)
                    };
                    self.first = Some(format!(
                        "the purge at {} {what} ({rows} deleted, {expected} due by {cutoff})",
                        format_elapsed(event.t_ms)
                    ));
                }
            }
            _ => {}
        }
    }

    fn outcome(&self) -> Outcome {
        verdict("purge_deletes_exactly_the_expired_rows", self.first.clone(), self.judged, "purges")
    }
}

/// The refresh-token table holds no raw token, read from the database itself at the end of
/// the run (not from the trace): every `refreshtokenindex` is a SHA-256 in hex, and no
/// column holds a compact JWS (`eyJ…`) or anything with its dots. Rows are shown one at a
/// time, so a table of millions is audited without being held.
#[derive(Default)]
pub struct TableHoldsNoRawToken {
    rows: u64,
    first: Option<String>,
}

impl TableHoldsNoRawToken {
    pub fn observe(&mut self, row: &crate::store::RefreshTokenRow) {
        self.rows += 1;
        if self.first.is_some() {
            return;
        }
        let hashed =
            row.refreshtokenindex.len() == 64 && row.refreshtokenindex.chars().all(|c| c.is_ascii_hexdigit());
        let columns = [&row.pkid, &row.refreshtokenindex, &row.userid, &row.clientid];
        if !hashed || columns.iter().any(|column| column.contains("eyJ") || column.matches('.').count() >= 2)
        {
            self.first = Some(format!("row {} holds a token in clear", row.pkid));
        }
    }

    pub fn outcome(&self) -> Outcome {
        verdict("table_holds_no_raw_token", self.first.clone(), self.rows, "rows read from the database")
    }
}

/// Every token AuthZ issues lives within its expiry timer's documented bounds: access
/// tokens 1 to 1440 minutes, refresh tokens 1 to 90 days (docs/domain.md "Lifetimes"), whatever
/// the timers were set to and whenever they changed. Read from each issuing event's `exp`
/// and time.
pub struct NoTokenLifetimeOutOfBounds {
    epoch_s: u64,
    /// The issuer's clock: named in a violation, since a skewed one is the usual cause.
    clocks: NodeClocks,
    judged: u64,
    first: Option<String>,
}

impl NoTokenLifetimeOutOfBounds {
    pub fn new(epoch_s: u64) -> NoTokenLifetimeOutOfBounds {
        NoTokenLifetimeOutOfBounds { epoch_s, clocks: NodeClocks::default(), judged: 0, first: None }
    }
}

impl Check for NoTokenLifetimeOutOfBounds {
    fn observe(&mut self, event: &Event, happening: &Happening, _line: &str) {
        use crate::tokens::{
            ACCESS_EXPIRY_MINUTES_MAX, ACCESS_EXPIRY_MINUTES_MIN, REFRESH_EXPIRY_DAYS_MAX,
            REFRESH_EXPIRY_DAYS_MIN,
        };
        self.clocks.observe(event.t_ms, happening);
        if self.first.is_some() {
            return;
        }
        let Some(issued) = happening.issued_access_token() else { return };
        let access = Some((
            "access_exp",
            issued.access_exp,
            ACCESS_EXPIRY_MINUTES_MIN * 60,
            ACCESS_EXPIRY_MINUTES_MAX * 60,
        ));
        let refresh = issued.refresh_exp.map(|exp| {
            ("refresh_exp", exp, REFRESH_EXPIRY_DAYS_MIN * 86_400, REFRESH_EXPIRY_DAYS_MAX * 86_400)
        });
        self.judged += 1;
        let now_s = self.epoch_s + event.t_ms / 1000;
        for (field, exp, min_s, max_s) in access.into_iter().chain(refresh) {
            let lifetime_s = exp.saturating_sub(now_s);
            if !(min_s..=max_s).contains(&lifetime_s) {
                let of = match issued.client {
                    "" => String::new(),
                    client => format!(" for {client}"),
                };
                self.first = Some(format!(
                    "{} at {} issued a token{of} with {field} {lifetime_s} s after issue (bounds {min_s} to {max_s} s){}",
                    event.node,
                    format_elapsed(event.t_ms),
                    self.clocks.describe(&event.node, event.t_ms)
                ));
                return;
            }
        }
    }

    fn outcome(&self) -> Outcome {
        verdict("no_token_lifetime_out_of_bounds", self.first.clone(), self.judged, "tokens issued")
    }
}

/// Once a revocation has committed (`tokens-revoked`), none of the refresh tokens it names
/// may yield another access token (`access-token-refreshed` with that `refresh_tid`). It
/// remembers the revoked ids: as many as the table held, not as long as the run.
#[derive(Default)]
pub struct NoAccessTokenFromRevokedRefreshToken {
    revoked: BTreeSet<String>,
    /// Refreshes made once some refresh token was revoked (before, there is nothing to judge).
    judged: u64,
    first: Option<String>,
}

impl Check for NoAccessTokenFromRevokedRefreshToken {
    fn observe(&mut self, event: &Event, happening: &Happening, _line: &str) {
        match happening {
            Happening::TokensRevoked { refresh_tids, .. } => {
                self.revoked.extend(refresh_tids.split_whitespace().map(str::to_string));
            }
            Happening::AccessTokenRefreshed { refresh_tid: tid, .. }
                if self.first.is_none() && !self.revoked.is_empty() =>
            {
                self.judged += 1;
                if self.revoked.contains(tid) {
                    self.first = Some(format!(
                        "{} at {} issued an access token for revoked refresh token {tid}",
                        event.node,
                        format_elapsed(event.t_ms)
                    ));
                }
            }
            _ => {}
        }
    }

    fn outcome(&self) -> Outcome {
        verdict(
            "no_access_token_from_revoked_refresh_token",
            self.first.clone(),
            self.judged,
            "refreshes after a revocation",
        )
    }
}

/// A consumer must not accept an access token at or after `exp` plus the clock leeway.
/// Acceptances are the events whose catalogue entry plays
/// [`Role::AcceptsAccessToken`](crate::trace::catalogue::Role::AcceptsAccessToken).
pub struct NoAccessTokenAcceptedAfterExpiry {
    epoch_s: u64,
    /// The consumers' clocks: named in a violation, since a skewed one is the usual cause.
    clocks: NodeClocks,
    judged: u64,
    first: Option<String>,
}

impl NoAccessTokenAcceptedAfterExpiry {
    pub fn new(epoch_s: u64) -> NoAccessTokenAcceptedAfterExpiry {
        NoAccessTokenAcceptedAfterExpiry { epoch_s, clocks: NodeClocks::default(), judged: 0, first: None }
    }
}

impl Check for NoAccessTokenAcceptedAfterExpiry {
    fn observe(&mut self, event: &Event, happening: &Happening, _line: &str) {
        self.clocks.observe(event.t_ms, happening);
        if self.first.is_some() {
            return;
        }
        let Some(accepted) = happening.accepted_access_token() else { return };
        self.judged += 1;
        let now_s = self.epoch_s + event.t_ms / 1000;
        let exp = accepted.exp;
        if now_s >= exp + authzlab_host::CLOCK_LEEWAY_S {
            let token = match accepted.tid {
                "" => "a token".to_string(),
                tid => format!("token {tid}"),
            };
            let of = match accepted.client {
                "" => String::new(),
                client => format!(" of {client}"),
            };
            self.first = Some(format!(
                "{} at {} accepted {token}{of}, which expired at {} (leeway {} s){}",
                event.node,
                format_elapsed(event.t_ms),
                unix_as_elapsed(self.epoch_s, exp),
                authzlab_host::CLOCK_LEEWAY_S,
                self.clocks.describe(&event.node, event.t_ms)
            ));
        }
    }

    fn outcome(&self) -> Outcome {
        verdict(
            "no_access_token_accepted_after_expiry",
            self.first.clone(),
            self.judged,
            "access-token acceptances",
        )
    }
}

/// Tokens appear in the trace only as ids: a compact JWS or JWE starts with `eyJ` (base64url
/// of `{"`), which no id, checksum or verdict does; an opaque token has no such shape, so
/// each is searched for by its text, learned when it is issued.
#[derive(Default)]
pub struct NoRawTokenInTrace {
    opaque: SecretSet,
    judged: u64,
    first: Option<String>,
}

impl Check for NoRawTokenInTrace {
    fn learn_token(&mut self, token: &str) {
        self.opaque.learn(&[token.to_string()]);
    }

    fn observe(&mut self, event: &Event, _happening: &Happening, line: &str) {
        self.judged += 1;
        if self.first.is_none() && (line.contains("eyJ") || self.opaque.find(line).is_some()) {
            self.first = Some(format!("{} at {} holds a token", event.kind, format_elapsed(event.t_ms)));
        }
    }

    fn outcome(&self) -> Outcome {
        verdict("no_raw_token_in_trace", self.first.clone(), self.judged, "events searched")
    }
}

/// No key the run held appears in the trace in any text form. Each event is searched for
/// every form of every key held by then ([`SecretSet`]: one pass per automaton, O(log n)
/// automata for n keys learned over the run).
#[derive(Default)]
pub struct NoKeyMaterialInTrace {
    keys: SecretSet,
    judged: u64,
    found: Option<String>,
}

impl NoKeyMaterialInTrace {
    /// Forms searched so far.
    pub fn searched(&self) -> usize {
        self.keys.len()
    }
}

impl Check for NoKeyMaterialInTrace {
    fn learn_secrets(&mut self, forms: &[String]) {
        self.keys.learn(forms);
    }

    fn observe(&mut self, event: &Event, _happening: &Happening, line: &str) {
        if self.found.is_some() {
            return;
        }
        self.judged += 1;
        if let Some(index) = self.keys.find(line) {
            self.found = Some(format!(
                "key material #{index} appears in {} at {} on {}",
                event.kind,
                format_elapsed(event.t_ms),
                event.node
            ));
        }
    }

    fn outcome(&self) -> Outcome {
        // Saying how many forms were searched shows the check was not vacuous.
        let what = format!("events searched for {} key encodings", self.searched());
        verdict("no_key_material_in_trace", self.found.clone(), self.judged, &what)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::hand_made::{happening, run};

    fn event(t_ms: u64, kind: &str, fields: &[(&str, serde_json::Value)]) -> Event {
        crate::check::hand_made::recorded(t_ms, "unity", kind, fields)
    }

    #[test]
    fn late_acceptance_is_caught_and_timely_is_not() {
        let epoch = 1_000_000;
        let timely = [event(10_000, "voicemail-login-accepted", &[("exp", (epoch + 60).into())])];
        assert!(run(&mut NoAccessTokenAcceptedAfterExpiry::new(epoch), &timely).held);
        let late = [
            event(10_000, "voicemail-login-accepted", &[("exp", (epoch + 60).into())]),
            event(100_000, "uds-request-accepted", &[("exp", (epoch + 60).into())]),
            event(200_000, "voicemail-login-accepted", &[("exp", (epoch + 60).into())]),
        ];
        let outcome = run(&mut NoAccessTokenAcceptedAfterExpiry::new(epoch), &late);
        assert!(!outcome.held);
        assert_eq!(
            outcome.detail,
            "unity at 00:01:40.000 accepted a token, which expired at 00:01:00.000 (leeway 30 s)",
            "the first"
        );
        let refused = [event(100_000, "voicemail-login-rejected", &[("reason", "expired".into())])];
        assert!(run(&mut NoAccessTokenAcceptedAfterExpiry::new(epoch), &refused).held, "not an acceptance");
    }

    /// A deliberately wrong publisher, as a hand-made trace: it revokes a token and then
    /// refreshes with it anyway. Before the revocation the same refresh is fine.
    #[test]
    fn a_refresh_with_a_revoked_token_is_caught_and_one_before_the_revocation_is_not() {
        let refreshed = |t_ms| event(t_ms, "access-token-refreshed", &[("refresh_tid", "t-2".into())]);
        let revoked = event(
            1_000,
            "tokens-revoked",
            &[("user", "alice".into()), ("revoked", 2.into()), ("refresh_tids", "t-1 t-2".into())],
        );
        let held =
            run(&mut NoAccessTokenFromRevokedRefreshToken::default(), &[refreshed(500), revoked.clone()]);
        assert!(held.held, "{}", held.detail);
        let broken = run(&mut NoAccessTokenFromRevokedRefreshToken::default(), &[revoked, refreshed(2_000)]);
        assert!(!broken.held);
        assert_eq!(
            broken.detail,
            "unity at 00:00:02.000 issued an access token for revoked refresh token t-2"
        );
    }

    /// A publisher that ignored the timer's bounds, as a hand-made trace: a 2-minute token is
    /// fine, a 25-hour one (over 1440 minutes) and a 91-day refresh token are not.
    #[test]
    fn lifetimes_outside_the_documented_bounds_are_caught() {
        let epoch = 1_000_000;
        let refreshed = |lifetime_s: u64| {
            event(10_000, "access-token-refreshed", &[("access_exp", (epoch + 10 + lifetime_s).into())])
        };
        assert!(run(&mut NoTokenLifetimeOutOfBounds::new(epoch), &[refreshed(120)]).held);
        let long = run(&mut NoTokenLifetimeOutOfBounds::new(epoch), &[refreshed(25 * 3600)]);
        assert!(!long.held);
        assert!(
            long.detail.contains("access_exp 90000 s after issue (bounds 60 to 86400 s)"),
            "{}",
            long.detail
        );
        let issued = event(
            0,
            "tokens-issued",
            &[("access_exp", (epoch + 3600).into()), ("refresh_exp", (epoch + 91 * 86_400).into())],
        );
        let refresh = run(&mut NoTokenLifetimeOutOfBounds::new(epoch), &[issued]);
        assert!(refresh.detail.contains("refresh_exp"), "{}", refresh.detail);
    }

    /// Deliberately wrong purges, as hand-made traces: one that leaves a due row behind and
    /// one that deletes a row a second before it is due.
    #[test]
    fn a_purge_that_misses_or_overreaches_is_caught() {
        let issued = |exp: u64| event(0, "tokens-issued", &[("refresh_exp", exp.into())]);
        let purged = |rows: u64| {
            event(7_200_000, "refresh-tokens-purged", &[("rows", rows.into()), ("cutoff", 1_000.into())])
        };
        let preloaded = event(0, "table-preloaded", &[("rows", 5.into()), ("validity", 10.into())]);
        let trace = |rows| vec![preloaded.clone(), issued(1_000), issued(1_001), purged(rows)];
        assert!(
            run(&mut PurgeDeletesExactlyTheExpiredRows::default(), &trace(6)).held,
            "5 preloaded + 1 due"
        );
        let missed = run(&mut PurgeDeletesExactlyTheExpiredRows::default(), &trace(5));
        assert!(missed.detail.contains("left 1 expired row(s) behind"), "{}", missed.detail);
        let over = run(&mut PurgeDeletesExactlyTheExpiredRows::default(), &trace(7));
        assert!(over.detail.contains("deleted 1 row(s) still valid"), "{}", over.detail);
        // The next day the row due at 1001 is due; it is counted once.
        let mut next_day = trace(6);
        next_day.push(event(
            90_000_000,
            "refresh-tokens-purged",
            &[("rows", 1.into()), ("cutoff", 90_000.into())],
        ));
        assert!(run(&mut PurgeDeletesExactlyTheExpiredRows::default(), &next_day).held);
    }

    #[test]
    fn a_raw_token_in_the_table_is_caught() {
        let row = |index: &str| crate::store::RefreshTokenRow {
            pkid: "t1".into(),
            refreshtokenindex: index.into(),
            userid: "alice".into(),
            clientid: "C1".into(),
            validity: 0,
            state: 1,
        };
        let audit = |rows: &[crate::store::RefreshTokenRow]| {
            let mut check = TableHoldsNoRawToken::default();
            rows.iter().for_each(|row| check.observe(row));
            check.outcome()
        };
        let held = audit(&[row(&"ab".repeat(32)), row(&"cd".repeat(32))]);
        assert!(held.held);
        assert_eq!(held.detail, "held (judged 2: rows read from the database)");
        assert!(!audit(&[row(&"ab".repeat(32)), row("eyJhbGciOi.eyJleHAi.c2ln")]).held);
    }

    #[test]
    fn raw_tokens_and_keys_are_caught() {
        let secret = ["c2VjcmV0LWtleS1ieXRlcw".to_string()];
        let clean = [event(0, "keys-synced", &[("signing_key", "ab12".into())])];
        assert!(run(&mut NoRawTokenInTrace::default(), &clean).held);
        let mut keys = NoKeyMaterialInTrace::default();
        keys.learn_secrets(&secret);
        assert!(run(&mut keys, &clean).held);
        let token = [
            event(0, "keys-synced", &[("signing_key", "ab12".into())]),
            event(5_000, "admin-call-failed", &[("reason", "eyJhbGciOi.x.y".into())]),
        ];
        let leak = run(&mut NoRawTokenInTrace::default(), &token);
        assert!(!leak.held);
        assert!(
            leak.detail.starts_with("admin-call-failed at 00:00:05"),
            "names the leaking event: {}",
            leak.detail
        );
        let key = [event(7_000, "admin-call-failed", &[("reason", "c2VjcmV0LWtleS1ieXRlcw".into())])];
        let leak = run(&mut keys, &key);
        assert!(!leak.held);
        assert_eq!(leak.detail, "key material #0 appears in admin-call-failed at 00:00:07.000 on unity");
    }

    #[test]
    fn a_restart_that_lost_a_committed_row_is_caught() {
        let restart = |t_ms, rows: u64| {
            event(t_ms, "node-restarted", &[("table_rows", rows.into()), ("revoked_rows", 0.into())])
        };
        let history = |rows_after: u64| {
            vec![
                event(0, "table-preloaded", &[("rows", 3.into()), ("validity", 0.into())]),
                event(1_000, "tokens-issued", &[]),
                event(2_000, "tokens-issued", &[]),
                event(3_000, "refresh-tokens-purged", &[("rows", 3.into())]),
                restart(4_000, rows_after),
            ]
        };
        assert!(run(&mut CrashLosesNoCommittedRow::default(), &history(2)).held);
        let lost = run(&mut CrashLosesNoCommittedRow::default(), &history(1));
        assert!(!lost.held);
        assert!(lost.detail.contains("with 1 row(s) in its table; 2 were committed"), "{}", lost.detail);
        let extra = run(&mut CrashLosesNoCommittedRow::default(), &history(3));
        assert!(!extra.held, "a row nobody committed is as wrong");
    }

    /// A crash during a batched purge: the committed batches are gone for good, the batch
    /// under way is not (its DELETE rolled back), and the next day's purge is due exactly
    /// the rest. Both invariants follow the committed batches.
    #[test]
    fn committed_batches_of_a_purge_cut_short_count_and_the_rest_is_due_next_day() {
        let preloaded = event(0, "table-preloaded", &[("rows", 1_000.into()), ("validity", 10.into())]);
        let batch =
            |t_ms| event(t_ms, "purge-batch-committed", &[("rows", 50.into()), ("cutoff", 100.into())]);
        let restart = |rows: u64| {
            event(5_000, "node-restarted", &[("table_rows", rows.into()), ("revoked_rows", 0.into())])
        };
        let cut_short = |rows_after| vec![preloaded.clone(), batch(1_000), batch(2_000), restart(rows_after)];
        assert!(run(&mut CrashLosesNoCommittedRow::default(), &cut_short(900)).held);
        let lost = run(&mut CrashLosesNoCommittedRow::default(), &cut_short(850));
        assert!(lost.detail.contains("with 850 row(s) in its table; 900 were committed"), "{}", lost.detail);
        let rolled_back_too = run(&mut CrashLosesNoCommittedRow::default(), &cut_short(1_000));
        assert!(!rolled_back_too.held, "committed batches do not come back");
        let next_day = |rows: u64| {
            let mut trace = cut_short(900);
            trace.push(event(
                90_000_000,
                "refresh-tokens-purged",
                &[("rows", rows.into()), ("batches", 18.into()), ("cutoff", 86_500.into())],
            ));
            trace
        };
        assert!(run(&mut PurgeDeletesExactlyTheExpiredRows::default(), &next_day(900)).held);
        let twice = run(&mut PurgeDeletesExactlyTheExpiredRows::default(), &next_day(1_000));
        assert!(twice.detail.contains("deleted 100 row(s) still valid"), "{}", twice.detail);
        // A whole purge's own batches are counted once, with its summary.
        let whole = vec![
            preloaded.clone(),
            batch(1_000),
            event(2_000, "purge-batch-committed", &[("rows", 950.into()), ("cutoff", 100.into())]),
            event(3_000, "refresh-tokens-purged", &[("rows", 1_000.into()), ("cutoff", 100.into())]),
            restart(0),
        ];
        assert!(run(&mut PurgeDeletesExactlyTheExpiredRows::default(), &whole).held);
        assert!(run(&mut CrashLosesNoCommittedRow::default(), &whole).held);
        // A batch may delete only due rows.
        let early =
            vec![event(0, "table-preloaded", &[("rows", 10.into()), ("validity", 500.into())]), batch(1_000)];
        let outcome = run(&mut PurgeDeletesExactlyTheExpiredRows::default(), &early);
        assert!(
            outcome.detail.contains("a purge batch at 00:00:01.000 deleted 50 row(s) still valid"),
            "{}",
            outcome.detail
        );
    }

    /// Revocations survive too: the revoked rows found are those revoked and not purged.
    #[test]
    fn a_restart_that_lost_a_revocation_is_caught() {
        let issued = |t_ms, tid: &str, exp: u64| {
            event(t_ms, "tokens-issued", &[("refresh_tid", tid.into()), ("refresh_exp", exp.into())])
        };
        let restart = |t_ms, revoked: u64| {
            event(t_ms, "node-restarted", &[("table_rows", 3.into()), ("revoked_rows", revoked.into())])
        };
        let history = vec![
            issued(1_000, "r1", 100),
            issued(2_000, "r2", 500),
            issued(3_000, "r3", 500),
            event(4_000, "tokens-revoked", &[("refresh_tids", "r1 r2".into())]),
        ];
        let with = |tail: Vec<Event>| [history.clone(), tail].concat();
        assert!(run(&mut CrashLosesNoCommittedRow::default(), &with(vec![restart(5_000, 2)])).held);
        let lost = run(&mut CrashLosesNoCommittedRow::default(), &with(vec![restart(5_000, 1)]));
        assert!(!lost.held && lost.detail.contains("1 revoked row(s); 2 revocation(s)"), "{}", lost.detail);
        // The purge removes r1 (valid until 100): one revoked row is left of two rows.
        let purged = vec![
            event(6_000, "refresh-tokens-purged", &[("rows", 1.into()), ("cutoff", 100.into())]),
            event(7_000, "node-restarted", &[("table_rows", 2.into()), ("revoked_rows", 1.into())]),
        ];
        let outcome = run(&mut CrashLosesNoCommittedRow::default(), &with(purged));
        assert!(outcome.held, "{}", outcome.detail);
    }

    #[test]
    fn a_token_under_a_replaced_key_is_caught_and_one_under_the_loaded_key_is_not() {
        let issued = |t_ms, tid: &str, key: &str| {
            event(
                t_ms,
                "tokens-issued",
                &[("access_tid", tid.into()), ("signing_key", key.into()), ("access_exp", 10_000.into())],
            )
        };
        let synced = |t_ms, key: &str| {
            let mut e =
                event(t_ms, "keys-synced", &[("signing_key", key.into()), ("encryption_key", "e".into())]);
            e.node = "cucm-sub-1".to_string();
            e
        };
        let accepted = |t_ms, tid: &str| {
            let mut e = event(t_ms, "uds-request-accepted", &[("tid", tid.into()), ("exp", 10_000.into())]);
            e.node = "cucm-sub-1".to_string();
            e
        };
        let history = vec![synced(0, "old-key"), issued(1_000, "t1", "old-key"), accepted(2_000, "t1")];
        let mut check = NoTokenAcceptedUnderAKeyTheNodeReplaced::new(0);
        assert!(run(&mut check, &history).held);
        let mut late = history.clone();
        late.push(synced(3_000, "new-key"));
        late.push(accepted(4_000, "t1"));
        let outcome = run(&mut NoTokenAcceptedUnderAKeyTheNodeReplaced::new(0), &late);
        assert!(!outcome.held);
        assert!(
            outcome.detail.contains("cucm-sub-1 at 00:00:04.000 accepted token t1 signed by key old-key"),
            "{}",
            outcome.detail
        );
    }

    #[test]
    fn every_invariant_is_named_once_in_report_order() {
        let names: Vec<String> = all(0).iter().map(|check| check.outcome().name).collect();
        let audit = TableHoldsNoRawToken::default().outcome().name;
        let mut expected: Vec<&str> = names.iter().map(String::as_str).collect();
        expected.push(&audit);
        assert_eq!(expected, NAMES);
    }

    #[test]
    fn an_opaque_token_is_caught_once_learned() {
        let token = "q0Zb9Xw2mJ7s1VvYp3kTn8LrHc6dEfGa4uBiOyWz5x0";
        let leak = [event(1_000, "admin-call-failed", &[("reason", token.into())])];
        let mut check = NoRawTokenInTrace::default();
        assert!(run(&mut check, &leak).held, "not known as a token yet");
        let mut check = NoRawTokenInTrace::default();
        check.learn_token(token);
        let outcome = run(&mut check, &leak);
        assert!(!outcome.held);
        assert!(outcome.detail.starts_with("admin-call-failed at 00:00:01"), "{}", outcome.detail);
    }

    #[test]
    fn every_key_of_many_learned_one_at_a_time_is_found_and_named() {
        let mut check = NoKeyMaterialInTrace::default();
        for n in 0..10_000 {
            // Three forms per key, as the publisher tells them, and one repeated.
            check.learn_secrets(&[
                format!("secret-key-number-{n:08}"),
                format!("secret-key-base64-{n:08}"),
                format!("secret-key-base32-{n:08}"),
                "secret-key-number-00000000".to_string(),
            ]);
        }
        assert!(check.keys.levels() <= 15, "{} levels", check.keys.levels());
        let clean = [event(0, "keys-synced", &[("signing_key", "ab12".into())])];
        let held = run(&mut check, &clean);
        assert!(held.held);
        assert_eq!(held.detail, "held (judged 1: events searched for 30000 key encodings)");
        for n in [0, 4_321, 9_999] {
            let mut fresh = NoKeyMaterialInTrace::default();
            for m in 0..10_000 {
                fresh.learn_secrets(&[format!("secret-key-number-{m:08}")]);
            }
            let leak = [event(
                0,
                "admin-call-failed",
                &[("reason", format!("..secret-key-number-{n:08}..").into())],
            )];
            let outcome = run(&mut fresh, &leak);
            assert!(!outcome.held);
            assert!(outcome.detail.starts_with(&format!("key material #{n} appears")), "{}", outcome.detail);
        }
    }

    #[test]
    fn short_forms_are_not_searched_and_a_key_learned_late_still_counts() {
        let mut check = NoKeyMaterialInTrace::default();
        check.learn_secrets(&["0123456789abcde".to_string()]);
        assert_eq!(check.searched(), 0, "15 characters match by chance");
        let early = event(0, "admin-call-failed", &[("reason", "fedcba9876543210fedcba".into())]);
        check.observe(&early, &happening(&early), &early.to_line());
        assert!(check.outcome().held, "unknown when it was recorded");
        check.learn_secrets(&["fedcba9876543210fedcba".to_string()]);
        let late = event(1_000, "admin-call-failed", &[("reason", "fedcba9876543210fedcba".into())]);
        check.observe(&late, &happening(&late), &late.to_line());
        assert!(!check.outcome().held);
    }
}
