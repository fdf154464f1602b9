//! The invariants of SIP OAuth and the edge (docs/domain.md "SIP OAuth mode"), read from the trace:
//!
//! * `sip_registration_carried_a_valid_token`: every accepted SIP OAuth REGISTER carried an
//!   access token AuthZ issued, unexpired on the registering node's own clock (its skew
//!   included) at that moment.
//! * `no_mtls_peer_outside_expresswaycconfiguration`: no registration through the MRA port is
//!   accepted from a peer none of whose names is in the table, in the cluster's domain or in
//!   the domain its entry holds ([`crate::dns_domain`]).
//! * `no_sip_oauth_port_outside_its_range`: no SIP OAuth port outside 1024-49151 is opened.

use std::collections::{BTreeMap, BTreeSet};

use crate::check::clocks::{unix_as_elapsed, NodeClocks};
use crate::check::{verdict, Check, Outcome};
use crate::clock::format_elapsed;
use crate::dns_domain::{domain_of, in_cluster_domain};
use crate::proto::sip::SIP_OAUTH_PORT_RANGE;
use crate::trace::{Event, Happening};

pub const VALID_TOKEN: &str = "sip_registration_carried_a_valid_token";
pub const LISTED_PEER: &str = "no_mtls_peer_outside_expresswaycconfiguration";
pub const PORT_RANGE: &str = "no_sip_oauth_port_outside_its_range";

/// Access tokens remembered at once; past it the earliest-expiring are forgotten (and a
/// registration with one would be reported as never issued, never silently accepted).
const TOKENS_REMEMBERED_MAX: usize = 1 << 20;

/// Every accepted SIP OAuth REGISTER carried a token AuthZ issued and that had not expired
/// on the node's clock, leeway included.
pub struct SipRegistrationCarriedAValidToken {
    epoch_s: u64,
    /// Access token id → its expiry, UNIX seconds.
    issued: BTreeMap<String, u64>,
    /// (expiry, token id), to forget the earliest-expiring first when full.
    by_expiry: BTreeSet<(u64, String)>,
    /// The nodes' clock errors, from the `skew` steps.
    clocks: NodeClocks,
    judged: u64,
    first: Option<String>,
}

impl SipRegistrationCarriedAValidToken {
    pub fn new(epoch_s: u64) -> Self {
        SipRegistrationCarriedAValidToken {
            epoch_s,
            issued: BTreeMap::new(),
            by_expiry: BTreeSet::new(),
            clocks: NodeClocks::default(),
            judged: 0,
            first: None,
        }
    }
}

impl Check for SipRegistrationCarriedAValidToken {
    fn observe(&mut self, event: &Event, happening: &Happening, _line: &str) {
        if self.first.is_some() {
            return;
        }
        self.clocks.observe(event.t_ms, happening);
        if let Some(issued) = happening.issued_access_token() {
            if self.issued.len() >= TOKENS_REMEMBERED_MAX {
                if let Some((_, earliest)) = self.by_expiry.pop_first() {
                    self.issued.remove(&earliest);
                }
            }
            let (tid, exp) = (issued.access_tid.to_string(), issued.access_exp);
            self.by_expiry.insert((exp, tid.clone()));
            self.issued.insert(tid, exp);
            return;
        }
        let Happening::SipRegistered { tid, client, .. } = happening else { return };
        self.judged += 1;
        let at = format_elapsed(event.t_ms);
        let Some(exp) = self.issued.get(tid) else {
            self.first =
                Some(format!("{} at {at} registered with token {tid}, which AuthZ never issued", event.node));
            return;
        };
        let node_s = self.clocks.node_now_s(self.epoch_s, &event.node, event.t_ms);
        if node_s >= exp + authzlab_host::CLOCK_LEEWAY_S {
            self.first = Some(format!(
                "{} at {at} registered {client} with token {tid}, which expired at {} (leeway {} s){}",
                event.node,
                unix_as_elapsed(self.epoch_s, *exp),
                authzlab_host::CLOCK_LEEWAY_S,
                self.clocks.describe(&event.node, event.t_ms)
            ));
        }
    }

    fn outcome(&self) -> Outcome {
        verdict(VALID_TOKEN, self.first.clone(), self.judged, "SIP OAuth registrations")
    }
}

/// No registration on the MRA port from a peer whose names are not in the table.
#[derive(Default)]
pub struct NoMtlsPeerOutsideExpresswayConfiguration {
    /// What `expresswaycconfiguration` holds, entry by entry (host → X.509 names): from
    /// Expressway-C's successful pushes (its entry is its first name) and the entries saved
    /// on Device > Expressway-C (which replace their host's names).
    listed: BTreeMap<String, BTreeSet<String>>,
    /// The domain an entry was given by hand (host → domain).
    domains: BTreeMap<String, String>,
    judged: u64,
    first: Option<String>,
}

impl NoMtlsPeerOutsideExpresswayConfiguration {
    /// Whether a listed `name` counts: in the cluster's domain, or in the domain one of the
    /// entries listing it holds.
    fn in_domain(&self, name: &str) -> bool {
        let domain = domain_of(name).unwrap_or_default().to_ascii_lowercase();
        in_cluster_domain(name)
            || self.listed.iter().any(|(host, names)| {
                names.contains(name) && self.domains.get(host).is_some_and(|held| *held == domain)
            })
    }
}

impl Check for NoMtlsPeerOutsideExpresswayConfiguration {
    fn observe(&mut self, event: &Event, happening: &Happening, _line: &str) {
        if self.first.is_some() {
            return;
        }
        match happening {
            Happening::ExpresswayNamesPushed { names, reason: None, .. } => {
                let host = names.split_whitespace().next().unwrap_or_default().to_string();
                self.listed.entry(host).or_default().extend(names.split_whitespace().map(str::to_string));
            }
            Happening::ExpresswayCEntrySaved { host, names, domain, reason: None, .. } => {
                self.listed.insert(host.clone(), names.split_whitespace().map(str::to_string).collect());
                match domain.as_ref().filter(|_| !names.trim().is_empty()) {
                    Some(domain) => self.domains.insert(host.clone(), domain.to_ascii_lowercase()),
                    None => self.domains.remove(host),
                };
            }
            Happening::SipRegistered { peer: Some(peer), .. } => {
                self.judged += 1;
                let listed = |name: &str| self.listed.values().any(|names| names.contains(name));
                let at = format_elapsed(event.t_ms);
                if !peer.split_whitespace().any(listed) {
                    self.first = Some(format!(
                        "{} at {at} accepted the mutual-TLS peer {peer}, not in expresswaycconfiguration",
                        event.node
                    ));
                } else if !peer
                    .split_whitespace()
                    .filter(|name| listed(name))
                    .any(|name| self.in_domain(name))
                {
                    self.first = Some(format!(
                        "{} at {at} accepted the mutual-TLS peer {peer}, whose listed names are in a domain neither the cluster's nor added to their Expressway-C entry",
                        event.node
                    ));
                }
            }
            _ => {}
        }
    }

    fn outcome(&self) -> Outcome {
        verdict(LISTED_PEER, self.first.clone(), self.judged, "registrations through the MRA port")
    }
}

/// No SIP OAuth port outside the documents' range is opened.
#[derive(Default)]
pub struct NoSipOAuthPortOutsideItsRange {
    judged: u64,
    first: Option<String>,
}

impl Check for NoSipOAuthPortOutsideItsRange {
    fn observe(&mut self, event: &Event, happening: &Happening, _line: &str) {
        let Happening::PortOpened { port, purpose } = happening else { return };
        if self.first.is_some() || !purpose.starts_with("sip-oauth") {
            return;
        }
        let in_range = SIP_OAUTH_PORT_RANGE.contains(port);
        self.judged += 1;
        if !in_range {
            self.first = Some(format!(
                "{} at {} opened {purpose} port {port}",
                event.node,
                format_elapsed(event.t_ms)
            ));
        }
    }

    fn outcome(&self) -> Outcome {
        verdict(PORT_RANGE, self.first.clone(), self.judged, "SIP OAuth ports opened")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::check::hand_made::{members, recorded, run};

    fn event(t_ms: u64, node: &str, kind: &str, fields: serde_json::Value) -> Event {
        recorded(t_ms, node, kind, &members(&fields))
    }

    const EPOCH: u64 = 1_000_000;

    #[test]
    fn a_registration_needs_an_issued_token_unexpired_on_the_nodes_own_clock() {
        let issued =
            event(0, "cucm-pub", "tokens-issued", json!({"access_tid": "a", "access_exp": EPOCH + 3600}));
        let registered = |t_ms, tid: &str| {
            event(t_ms, "cucm-sub-1", "sip-registered", json!({"tid": tid, "exp": EPOCH + 3600}))
        };
        let fine = [issued.clone(), registered(60_000, "a")];
        assert!(run(&mut SipRegistrationCarriedAValidToken::new(EPOCH), &fine).held);
        let forged = [issued.clone(), registered(60_000, "b")];
        let outcome = run(&mut SipRegistrationCarriedAValidToken::new(EPOCH), &forged);
        assert_eq!(
            outcome.detail,
            "cucm-sub-1 at 00:01:00.000 registered with token b, which AuthZ never issued"
        );
        // Two hours ahead on cucm-sub-1's clock: the token is long expired there.
        let skew = event(
            30_000,
            "scenario",
            "step",
            json!({"action": "skew", "target": "cucm-sub-1", "offset_ms": 7_200_000}),
        );
        let skewed = [issued.clone(), skew.clone(), registered(60_000, "a")];
        let outcome = run(&mut SipRegistrationCarriedAValidToken::new(EPOCH), &skewed);
        assert!(
            !outcome.held
                && outcome.detail.ends_with(
                    "which expired at 01:00:00.000 (leeway 30 s); cucm-sub-1's clock reads 02:01:00.000 (2h ahead)"
                ),
            "{}",
            outcome.detail
        );
        let elsewhere = [issued, skew, event(60_000, "cucm-sub-2", "sip-registered", json!({"tid": "a"}))];
        assert!(
            run(&mut SipRegistrationCarriedAValidToken::new(EPOCH), &elsewhere).held,
            "another node's skew"
        );
    }

    #[test]
    fn an_mra_peer_must_be_listed_by_a_successful_push() {
        let pushed = |names: &str, reason: Option<&str>| {
            let mut fields = json!({"names": names, "held": 1});
            if let Some(reason) = reason {
                fields["reason"] = json!(reason);
            }
            event(0, "expressway-c", "expressway-names-pushed", fields)
        };
        let registered =
            event(5_000, "cucm-sub-1", "sip-registered", json!({"tid": "a", "peer": "expc2.example.com"}));
        let direct = event(5_000, "cucm-sub-1", "sip-registered", json!({"tid": "a"}));
        assert!(
            run(
                &mut NoMtlsPeerOutsideExpresswayConfiguration::default(),
                &[pushed("a.example expc2.example.com", None), registered.clone()]
            )
            .held
        );
        let outcome = run(
            &mut NoMtlsPeerOutsideExpresswayConfiguration::default(),
            &[pushed("a.example", None), registered.clone()],
        );
        assert_eq!(outcome.detail, "cucm-sub-1 at 00:00:05.000 accepted the mutual-TLS peer expc2.example.com, not in expresswaycconfiguration");
        let failed = [pushed("expc2.example.com", Some("HTTP 503")), registered];
        assert!(
            !run(&mut NoMtlsPeerOutsideExpresswayConfiguration::default(), &failed).held,
            "a failed push lists nothing"
        );
        assert!(
            run(&mut NoMtlsPeerOutsideExpresswayConfiguration::default(), &[direct]).held,
            "5090 has no peer"
        );
    }

    /// Device > Expressway-C: a saved entry lists its names, and an edit takes back what
    /// the entry held before (the pushed entry of another host stays).
    #[test]
    fn an_entry_saved_by_hand_lists_its_names_and_an_edit_replaces_them() {
        let saved = |t_ms: u64, host: &str, names: &str| {
            event(
                t_ms,
                "cucm-pub",
                "expressway-c-entry-saved",
                json!({"host": host, "names": names, "held": 1}),
            )
        };
        let pushed =
            event(0, "expressway-c", "expressway-names-pushed", json!({"names": "a.example.com", "held": 1}));
        let registered =
            |peer: &str| event(9_000, "cucm-sub-1", "sip-registered", json!({"tid": "a", "peer": peer}));
        let by_hand = [
            pushed.clone(),
            saved(1_000, "expc2.example.com", "expc2.example.com"),
            registered("expc2.example.com"),
        ];
        assert!(run(&mut NoMtlsPeerOutsideExpresswayConfiguration::default(), &by_hand).held);
        let edited = [
            pushed.clone(),
            saved(1_000, "expc2.example.com", "expc2.example.com"),
            saved(2_000, "expc2.example.com", "expc2.example.org"),
            registered("expc2.example.com"),
        ];
        assert!(!run(&mut NoMtlsPeerOutsideExpresswayConfiguration::default(), &edited).held, "edited away");
        let other_host =
            [pushed, saved(1_000, "b.example.com", "b.example.com"), registered("a.example.com")];
        assert!(run(&mut NoMtlsPeerOutsideExpresswayConfiguration::default(), &other_host).held);
    }

    /// An entry in another domain than the cluster's lets its names in only while it holds
    /// that domain; a later save without it takes it back.
    #[test]
    fn a_peer_in_another_domain_needs_its_domain_on_the_entry() {
        let host = "expc.edge.example.net";
        let saved = |t_ms: u64, domain: Option<&str>| {
            let mut fields = json!({"host": host, "names": host, "held": 1});
            if let Some(domain) = domain {
                fields["domain"] = json!(domain);
            }
            event(t_ms, "cucm-pub", "expressway-c-entry-saved", fields)
        };
        let pushed = event(0, "expressway-c", "expressway-names-pushed", json!({"names": host, "held": 1}));
        let registered = event(9_000, "cucm-sub-1", "sip-registered", json!({"tid": "a", "peer": host}));
        let outcome = run(
            &mut NoMtlsPeerOutsideExpresswayConfiguration::default(),
            &[pushed.clone(), registered.clone()],
        );
        assert_eq!(
            outcome.detail,
            "cucm-sub-1 at 00:00:09.000 accepted the mutual-TLS peer expc.edge.example.net, whose listed names are in a domain neither the cluster's nor added to their Expressway-C entry"
        );
        let added = [pushed.clone(), saved(1_000, Some("Edge.Example.Net")), registered.clone()];
        assert!(run(&mut NoMtlsPeerOutsideExpresswayConfiguration::default(), &added).held);
        let other = [pushed.clone(), saved(1_000, Some("example.net")), registered.clone()];
        assert!(!run(&mut NoMtlsPeerOutsideExpresswayConfiguration::default(), &other).held);
        let taken_back = [pushed, saved(1_000, Some("edge.example.net")), saved(2_000, None), registered];
        assert!(!run(&mut NoMtlsPeerOutsideExpresswayConfiguration::default(), &taken_back).held);
    }

    #[test]
    fn an_oauth_port_outside_the_range_is_caught_and_legacy_ports_are_not_judged() {
        let opened = |port: u64, purpose: &str| {
            event(0, "cucm-sub-1", "port-opened", json!({"port": port, "purpose": purpose}))
        };
        assert!(
            run(
                &mut NoSipOAuthPortOutsideItsRange::default(),
                &[
                    opened(5090, "sip-oauth-phone"),
                    opened(49151, "sip-oauth-mra"),
                    opened(1024, "sip-oauth-phone")
                ]
            )
            .held
        );
        assert!(run(&mut NoSipOAuthPortOutsideItsRange::default(), &[opened(5060, "sip")]).held);
        let outcome = run(&mut NoSipOAuthPortOutsideItsRange::default(), &[opened(80, "sip-oauth-phone")]);
        assert_eq!(outcome.detail, "cucm-sub-1 at 00:00:00.000 opened sip-oauth-phone port 80");
        assert!(!run(&mut NoSipOAuthPortOutsideItsRange::default(), &[opened(49152, "sip-oauth-mra")]).held);
    }
}
