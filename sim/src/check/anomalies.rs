//! Token-consistency anomalies, named as Elle names the anomalies of a history: what the
//! trace shows that a reader of the documents would not expect, found from the trace alone,
//! each with its witness events and how long it lasted.
//!
//! An anomaly is not an invariant: the system may show one by design (an access token stays
//! valid after its refresh token is revoked; a consumer that fetches keys lazily keeps
//! accepting tokens of a regenerated key until it fetches again). So a scenario names the
//! anomalies it shows (`anomalies = ["stale-consumer-key"]`); one it does not name fails the
//! run, and one it names that does not occur fails it too (the scenario did not show what it
//! says it shows).
//!
//! * `accepted-after-revocation`: an access token accepted after the revocation of the refresh
//!   token it came from committed (the exposure window).
//! * `stale-consumer-key`: an access token accepted after the publisher regenerated the key it
//!   was issued under. The documents: regenerating either key invalidates every access token
//!   AuthZ has issued; a node that still accepts one holds the old key.
//! * `refused-under-stale-keys`: a token issued under the publisher's current key refused for
//!   an unknown key: the refusing node holds stale keys.
//! * `refresh-after-purge`: an access token issued for a refresh token whose row the daily
//!   purge had already deleted.

use std::collections::{BTreeMap, BTreeSet};

use crate::check::Outcome;
use crate::clock::format_elapsed;
use crate::scenario::format_duration;
use crate::trace::token_events::{AcceptedAccessToken, IssuedAccessToken, TokenRefusal};
use crate::trace::{Event, Happening};

/// Every anomaly's name, in report order. A scenario's `anomalies` may name only these.
pub const NAMES: &[&str] =
    &["accepted-after-revocation", "stale-consumer-key", "refused-under-stale-keys", "refresh-after-purge"];

/// Tokens remembered at once (issued and not yet expired, purged ids): a bound on the
/// check's memory whatever the run's length; the oldest are forgotten first.
pub const TOKENS_REMEMBERED_MAX: usize = 200_000;

/// One anomaly at one node: when it was first and last seen, how often, and its first witness.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Sighting {
    first_ms: u64,
    last_ms: u64,
    count: u64,
    /// The first offending event, described, and what it followed.
    witness: String,
}

/// What an access token was issued under.
#[derive(Clone, Debug)]
struct Issued {
    /// Key generations (signing, encryption) current at the publisher when it was issued.
    generations: (u32, u32),
    /// The refresh token it came from (none in the implicit grant).
    refresh_tid: Option<String>,
}

/// A key regeneration, for the witness of a stale acceptance.
#[derive(Clone, Debug)]
struct Regeneration {
    t_ms: u64,
    key: String,
}

/// The anomalies of one run, found online.
pub struct Anomalies {
    /// What the scenario says it shows.
    expected: Vec<String>,
    issued: BTreeMap<String, Issued>,
    /// (expiry, access tid), to forget tokens after their expiry and the leeway.
    expiries: BTreeSet<(u64, String)>,
    epoch_s: u64,
    generations: (u32, u32),
    /// The publisher's current signing and encryption checksums.
    current: (Option<String>, Option<String>),
    last_regeneration: Option<Regeneration>,
    /// Refresh token id → when its revocation committed.
    revoked: BTreeMap<String, u64>,
    /// Refresh token id → its validity (UNIX s), until purged.
    validity: BTreeMap<String, u64>,
    /// Refresh token ids the purge deleted, with when.
    purged: BTreeMap<String, u64>,
    found: BTreeMap<(&'static str, String), Sighting>,
}

impl Anomalies {
    pub fn new(epoch_s: u64, expected: &[String]) -> Anomalies {
        Anomalies {
            expected: expected.to_vec(),
            issued: BTreeMap::new(),
            expiries: BTreeSet::new(),
            epoch_s,
            generations: (0, 0),
            current: (None, None),
            last_regeneration: None,
            revoked: BTreeMap::new(),
            validity: BTreeMap::new(),
            purged: BTreeMap::new(),
            found: BTreeMap::new(),
        }
    }

    fn sight(&mut self, name: &'static str, event: &Event, witness: impl FnOnce() -> String) {
        let key = (name, event.node.clone());
        match self.found.get_mut(&key) {
            Some(sighting) => {
                sighting.last_ms = event.t_ms;
                sighting.count += 1;
            }
            None => {
                let witness = witness();
                self.found
                    .insert(key, Sighting { first_ms: event.t_ms, last_ms: event.t_ms, count: 1, witness });
            }
        }
    }

    fn remember(&mut self, tid: String, exp: u64, issued: Issued) {
        if self.issued.len() >= TOKENS_REMEMBERED_MAX {
            if let Some((_, oldest)) = self.expiries.pop_first() {
                self.issued.remove(&oldest);
            }
        }
        self.expiries.insert((exp, tid.clone()));
        self.issued.insert(tid, issued);
    }

    fn forget_expired(&mut self, t_ms: u64) {
        let now_s = self.epoch_s + t_ms / 1000;
        while let Some((exp, _)) = self.expiries.first() {
            if *exp + authzlab_host::CLOCK_LEEWAY_S > now_s {
                break;
            }
            let (_, tid) = self.expiries.pop_first().expect("just looked");
            self.issued.remove(&tid);
        }
    }

    /// The anomalies seen so far that the scenario does not name, each once.
    pub fn unexpected_seen(&self) -> impl Iterator<Item = &'static str> + '_ {
        NAMES.iter().copied().filter(|name| {
            !self.expected.iter().any(|expected| expected == name)
                && self.found.keys().any(|(kind, _)| kind == name)
        })
    }

    /// The anomalies seen, one outcome per name, judged against what the scenario expects.
    pub fn outcomes(&self) -> Vec<Outcome> {
        NAMES
            .iter()
            .map(|name| {
                let sightings: Vec<String> = self
                    .found
                    .iter()
                    .filter(|((kind, _), _)| kind == name)
                    .map(|((_, node), sighting)| describe(node, sighting))
                    .collect();
                let judged = sightings.len() as u64;
                let expected = self.expected.iter().any(|expected| expected == name);
                let name = name.to_string();
                match (sightings.is_empty(), expected) {
                    (true, false) => Outcome { name, held: true, detail: "none".to_string(), judged },
                    (true, true) => Outcome {
                        name,
                        held: false,
                        detail: "expected by the scenario (`anomalies`), but it did not occur".to_string(),
                        judged,
                    },
                    (false, true) => Outcome {
                        name,
                        held: true,
                        detail: format!("occurred, as the scenario expects: {}", sightings.join("; ")),
                        judged,
                    },
                    (false, false) => Outcome {
                        name,
                        held: false,
                        detail: format!(
                            "{} (the scenario does not name it in `anomalies`)",
                            sightings.join("; ")
                        ),
                        judged,
                    },
                }
            })
            .collect()
    }
}

/// `at unity: 7 times from 02:00:12.300 to 02:09:51.000 (9m38s); first: …`
fn describe(node: &str, sighting: &Sighting) -> String {
    let span = format_duration(std::time::Duration::from_millis(sighting.last_ms - sighting.first_ms));
    format!(
        "at {node}: {} time(s) from {} to {} ({span}); first: {}",
        sighting.count,
        format_elapsed(sighting.first_ms),
        format_elapsed(sighting.last_ms),
        sighting.witness
    )
}

impl Anomalies {
    /// One event, in trace order.
    pub fn observe(&mut self, event: &Event, happening: &Happening) {
        self.forget_expired(event.t_ms);
        if let Some((signing, encryption)) = happening.key_pair() {
            // Before any regeneration, the publisher's keys are learned from what it pushes
            // and serves (always its current ones) and from what it signs with.
            if matches!(
                happening,
                Happening::KeysSynced { .. } | Happening::KeysServed { .. } | Happening::KeysFetched { .. }
            ) {
                self.current.0.get_or_insert_with(|| signing.to_string());
                self.current.1.get_or_insert_with(|| encryption.to_string());
            }
            return;
        }
        if let Some(issued) = happening.issued_access_token() {
            self.observe_issue(event, happening, issued);
            return;
        }
        if let Some(accepted) = happening.accepted_access_token() {
            self.observe_acceptance(event, accepted);
            return;
        }
        if let Some(refusal) = happening.token_refusal() {
            self.observe_refusal(event, refusal);
            return;
        }
        match happening {
            Happening::KeyRegenerated { key, checksum, .. } => {
                match key.as_str() {
                    "signing" => {
                        self.generations.0 += 1;
                        self.current.0 = Some(checksum.clone());
                    }
                    _ => {
                        self.generations.1 += 1;
                        self.current.1 = Some(checksum.clone());
                    }
                }
                self.last_regeneration = Some(Regeneration { t_ms: event.t_ms, key: key.clone() });
            }
            Happening::TokensRevoked { refresh_tids, .. } => {
                for tid in refresh_tids.split_whitespace() {
                    self.revoked.entry(tid.to_string()).or_insert(event.t_ms);
                }
            }
            Happening::RefreshTokensPurged { cutoff, .. } => {
                let purged: Vec<String> = self
                    .validity
                    .iter()
                    .filter(|(_, validity)| *validity <= cutoff)
                    .map(|(tid, _)| tid.clone())
                    .collect();
                for tid in purged {
                    self.validity.remove(&tid);
                    self.revoked.remove(&tid);
                    if self.purged.len() < TOKENS_REMEMBERED_MAX {
                        self.purged.insert(tid, event.t_ms);
                    }
                }
            }
            _ => {}
        }
    }

    fn observe_issue(&mut self, event: &Event, happening: &Happening, issued: IssuedAccessToken) {
        if let Some(signing_key) = issued.signing_key {
            self.current.0.get_or_insert_with(|| signing_key.to_string());
        } else {
            // Opaque tokens carry no key and live in their issuer's memory: not judged.
            return;
        }
        let refresh_tid = issued.refresh_tid.map(str::to_string);
        if let (Some(refresh), Some(validity)) = (&refresh_tid, issued.refresh_exp) {
            if self.validity.len() < TOKENS_REMEMBERED_MAX {
                self.validity.insert(refresh.clone(), validity);
            }
        }
        if let Happening::AccessTokenRefreshed { refresh_tid: refresh, .. } = happening {
            if let Some(purged_ms) = self.purged.get(refresh).copied() {
                self.sight("refresh-after-purge", event, || {
                    format!(
                        "{} for refresh token {refresh}, whose row the purge at {} deleted",
                        event.kind,
                        format_elapsed(purged_ms)
                    )
                });
            }
        }
        let generations = self.generations;
        self.remember(issued.access_tid.to_string(), issued.access_exp, Issued { generations, refresh_tid });
    }

    fn observe_acceptance(&mut self, event: &Event, accepted: AcceptedAccessToken) {
        let (kind, tid) = (&event.kind, accepted.tid);
        let Some(issued) = self.issued.get(tid).cloned() else { return };
        if let Some(revoked_ms) = issued.refresh_tid.as_ref().and_then(|refresh| self.revoked.get(refresh)) {
            let (revoked_ms, refresh) = (*revoked_ms, issued.refresh_tid.clone().unwrap_or_default());
            self.sight("accepted-after-revocation", event, || {
                format!(
                    "{kind} of token {tid} at {}, {} after its refresh token {refresh} was revoked",
                    format_elapsed(event.t_ms),
                    format_duration(std::time::Duration::from_millis(event.t_ms - revoked_ms))
                )
            });
        }
        if issued.generations != self.generations {
            let regeneration = self.last_regeneration.clone();
            self.sight("stale-consumer-key", event, || {
                let since = regeneration.map_or_else(String::new, |regeneration| {
                    format!(
                        ", {} after the {} key was regenerated",
                        format_duration(std::time::Duration::from_millis(event.t_ms - regeneration.t_ms)),
                        regeneration.key
                    )
                });
                format!(
                    "{kind} of token {tid} issued under a replaced key at {}{since}",
                    format_elapsed(event.t_ms)
                )
            });
        }
    }

    /// Only refusals that name a key are judged here.
    fn observe_refusal(&mut self, event: &Event, refusal: TokenRefusal) {
        let current = match refusal.reason {
            "unknown-signing-key" => self.current.0.clone(),
            "unknown-encryption-key" => self.current.1.clone(),
            _ => return,
        };
        let (Some(kid), Some(current)) = (refusal.kid, current) else { return };
        if kid.rsplit_once(':').is_some_and(|(_, checksum)| checksum == current) {
            let kind = event.kind.clone();
            self.sight("refused-under-stale-keys", event, || {
                format!(
                    "{kind} at {}: {} though the token names the publisher's current key {}",
                    format_elapsed(event.t_ms),
                    refusal.reason,
                    &current[..current.len().min(8)]
                )
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::check::hand_made::{happening, members, recorded};

    const EPOCH: u64 = 1_000_000;

    fn event(t_ms: u64, node: &str, kind: &str, fields: serde_json::Value) -> Event {
        recorded(t_ms, node, kind, &members(&fields))
    }

    fn seen(expected: &[&str], events: &[Event]) -> Vec<Outcome> {
        let expected: Vec<String> = expected.iter().map(|name| name.to_string()).collect();
        let mut anomalies = Anomalies::new(EPOCH, &expected);
        for event in events {
            anomalies.observe(event, &happening(event));
        }
        anomalies.outcomes()
    }

    fn issued(t_ms: u64, access: &str, refresh: &str) -> Event {
        event(
            t_ms,
            "cucm-pub",
            "tokens-issued",
            json!({"access_tid": access, "access_exp": EPOCH + 3600, "refresh_tid": refresh,
                   "refresh_exp": EPOCH + 86_400, "signing_key": "s1", "user": "alice", "client": "jabber-1"}),
        )
    }

    fn accepted(t_ms: u64, tid: &str) -> Event {
        event(
            t_ms,
            "unity",
            "voicemail-login-accepted",
            json!({"tid": tid, "exp": EPOCH + 3600, "client": "jabber-1"}),
        )
    }

    fn outcome<'o>(outcomes: &'o [Outcome], name: &str) -> &'o Outcome {
        outcomes.iter().find(|outcome| outcome.name == name).unwrap()
    }

    #[test]
    fn an_acceptance_after_the_refresh_token_was_revoked_is_an_exposure_with_its_bounds() {
        let events = [
            issued(0, "a1", "r1"),
            accepted(60_000, "a1"),
            event(
                120_000,
                "cucm-pub",
                "tokens-revoked",
                json!({"user": "alice", "revoked": 1, "refresh_tids": "r1"}),
            ),
            accepted(180_000, "a1"),
            accepted(300_000, "a1"),
        ];
        let outcomes = seen(&[], &events);
        let exposure = outcome(&outcomes, "accepted-after-revocation");
        assert!(!exposure.held, "not named by the scenario: fails");
        assert!(
            exposure.detail.contains("at unity: 2 time(s) from 00:03:00.000 to 00:05:00.000 (2m)"),
            "{}",
            exposure.detail
        );
        assert!(exposure.detail.contains("1m after its refresh token r1 was revoked"), "{}", exposure.detail);
        let named = seen(&["accepted-after-revocation"], &events);
        assert!(outcome(&named, "accepted-after-revocation").held);
        // Before the revocation, nothing.
        assert!(outcome(&seen(&[], &events[..2]), "accepted-after-revocation").held);
    }

    #[test]
    fn a_token_of_a_regenerated_key_accepted_is_a_stale_consumer_and_an_unnamed_one_fails() {
        let regenerated = event(
            600_000,
            "cucm-pub",
            "key-regenerated",
            json!({"key": "encryption", "checksum": "e2", "previous": "e1"}),
        );
        let events = [issued(0, "a1", "r1"), regenerated, accepted(610_000, "a1"), accepted(700_000, "a1")];
        let outcomes = seen(&[], &events);
        let stale = outcome(&outcomes, "stale-consumer-key");
        assert!(!stale.held);
        assert!(stale.detail.contains("2 time(s)"), "{}", stale.detail);
        assert!(stale.detail.contains("10s after the encryption key was regenerated"), "{}", stale.detail);
        // Named, it holds; named but absent (no acceptance after the regeneration), it fails.
        assert!(outcome(&seen(&["stale-consumer-key"], &events), "stale-consumer-key").held);
        let missing = seen(&["stale-consumer-key"], &events[..2]);
        assert!(!outcome(&missing, "stale-consumer-key").held);
        // A token issued after the regeneration is not stale.
        let fresh =
            [events[0].clone(), events[1].clone(), issued(650_000, "a2", "r2"), accepted(660_000, "a2")];
        assert!(outcome(&seen(&[], &fresh), "stale-consumer-key").held);
    }

    #[test]
    fn a_token_of_the_current_key_refused_for_an_unknown_key_names_the_stale_node() {
        let regenerated = event(
            600_000,
            "cucm-pub",
            "key-regenerated",
            json!({"key": "signing", "checksum": "s2", "previous": "s1"}),
        );
        let refused = |kid: &str| {
            event(
                610_000,
                "cucm-sub-1",
                "uds-request-rejected",
                json!({"client": "jabber-1", "reason": "unknown-signing-key", "kid": kid}),
            )
        };
        let outcomes = seen(&[], &[regenerated.clone(), refused("cluster:s2")]);
        let stale = outcome(&outcomes, "refused-under-stale-keys");
        assert!(!stale.held);
        assert!(stale.detail.starts_with("at cucm-sub-1: 1 time(s)"), "{}", stale.detail);
        // The old key's token refused is what the documents say happens: no anomaly.
        assert!(outcome(&seen(&[], &[regenerated, refused("cluster:s1")]), "refused-under-stale-keys").held);
    }

    #[test]
    fn a_refresh_for_a_purged_row_is_named() {
        let events = [
            issued(0, "a1", "r1"),
            event(
                3_600_000,
                "cucm-pub",
                "refresh-tokens-purged",
                json!({"rows": 1, "batches": 1, "took_ms": 1, "cutoff": EPOCH + 86_400}),
            ),
            event(
                3_700_000,
                "cucm-pub",
                "access-token-refreshed",
                json!({"refresh_tid": "r1", "access_tid": "a2", "access_exp": EPOCH + 7200, "signing_key": "s1",
                       "user": "alice", "client": "jabber-1"}),
            ),
        ];
        let outcomes = seen(&[], &events);
        let purged = outcome(&outcomes, "refresh-after-purge");
        assert!(!purged.held);
        assert!(purged.detail.contains("whose row the purge at 01:00:00.000 deleted"), "{}", purged.detail);
        assert!(outcome(&seen(&[], &events[..2]), "refresh-after-purge").held);
    }
}
