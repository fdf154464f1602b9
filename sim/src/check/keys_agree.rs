//! `keys_agree_once_every_node_holds_and_uses_the_current_keys`: the documents' check
//! ("`show key authz` on all nodes; if they differ, regenerate, distribute, restart Tomcat")
//! turned around. Once a distribution reached every node that holds keys and every node's
//! running Tomcat uses what is on its disk, `show key authz` must print the same checksums on
//! every node. A node whose disk or running service lags is exactly what the check must not
//! be fooled by, so it judges only the moments when the trace says all caught up.

use std::collections::BTreeMap;

use crate::check::{verdict, Check, Outcome};
use crate::clock::format_elapsed;
use crate::trace::{Event, Happening};

/// The signing and encryption key checksums (as the sync events write them).
type Pair = (String, String);

#[derive(Default)]
pub struct KeysAgree {
    /// The publisher's keys now: from its regenerations, or the first push before any.
    current: Option<Pair>,
    /// Node → the keys on its disk.
    disk: BTreeMap<String, Pair>,
    /// Node → the keys its running service uses.
    loaded: BTreeMap<String, Pair>,
    /// The `show key authz` answers of the show-keys step under way: its time, and the first
    /// node's two checksums.
    shown: Option<(u64, String, Pair)>,
    /// Show-keys answers judged (all caught up at the time).
    judged: u64,
    first: Option<String>,
}

pub const NAME: &str = "keys_agree_once_every_node_holds_and_uses_the_current_keys";

impl KeysAgree {
    fn caught_up(&self) -> bool {
        let Some(current) = &self.current else { return false };
        !self.disk.is_empty()
            && self.disk.values().all(|pair| pair == current)
            && self.disk.keys().all(|node| self.loaded.get(node) == Some(current))
    }
}

/// The checksum a `show key authz` line prints, if any key is synced.
fn shown_checksum(line: &str) -> Option<String> {
    line.split_once("checksum: ").and_then(|(_, rest)| rest.split_whitespace().next()).map(str::to_string)
}

impl Check for KeysAgree {
    fn observe(&mut self, event: &Event, happening: &Happening, _line: &str) {
        if self.first.is_some() {
            return;
        }
        let pair = || {
            happening.key_pair().map(|(signing, encryption)| (signing.to_string(), encryption.to_string()))
        };
        match happening {
            Happening::KeyRegenerated { key, checksum, .. } => {
                let Some(current) = self.current.as_mut() else { return };
                match key.as_str() {
                    "signing" => current.0 = checksum.clone(),
                    _ => current.1 = checksum.clone(),
                }
            }
            Happening::KeysSynced { .. } => {
                let Some(pair) = pair() else { return };
                self.current.get_or_insert_with(|| pair.clone());
                self.disk.insert(event.node.clone(), pair.clone());
                self.loaded.insert(event.node.clone(), pair);
            }
            Happening::KeysPulled { .. } => {
                if let Some(pair) = pair() {
                    self.disk.insert(event.node.clone(), pair);
                }
            }
            Happening::ServiceRestarted { .. } if self.disk.contains_key(&event.node) => {
                if let Some(pair) = pair() {
                    self.loaded.insert(event.node.clone(), pair);
                }
            }
            Happening::KeysShown { signing, encryption } if self.disk.contains_key(&event.node) => {
                let (Some(signing), Some(encryption)) = (shown_checksum(signing), shown_checksum(encryption))
                else {
                    return;
                };
                let this = (signing, encryption);
                match &self.shown {
                    Some((t_ms, _, _)) if *t_ms == event.t_ms => {}
                    _ => self.shown = Some((event.t_ms, event.node.clone(), this.clone())),
                }
                if !self.caught_up() {
                    return;
                }
                self.judged += 1;
                let (_, first_node, first) = self.shown.as_ref().expect("set just above");
                if first != &this {
                    self.first = Some(format!(
                        "at {} {} shows signing {} encryption {} but {} shows signing {} encryption {}, \
                         though every node holds and uses the publisher's current keys",
                        format_elapsed(event.t_ms),
                        event.node,
                        this.0,
                        this.1,
                        first_node,
                        first.0,
                        first.1
                    ));
                }
            }
            _ => {}
        }
    }

    fn outcome(&self) -> Outcome {
        verdict(NAME, self.first.clone(), self.judged, "show key authz answers, every node caught up")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(t_ms: u64, node: &str, kind: &str, fields: &[(&str, &str)]) -> Event {
        let fields: Vec<(&str, serde_json::Value)> = fields.iter().map(|(k, v)| (*k, (*v).into())).collect();
        crate::check::hand_made::recorded(t_ms, node, kind, &fields)
    }

    fn synced(t_ms: u64, node: &str, s: &str, e: &str) -> Event {
        event(t_ms, node, "keys-synced", &[("signing_key", s), ("encryption_key", e)])
    }

    fn shown(t_ms: u64, node: &str, s: &str, e: &str) -> Event {
        let line = |kind: &str, c: &str| {
            format!("authz {kind} key with checksum: {c} last synced on: 01/05/2026 00:00:00")
        };
        event(
            t_ms,
            node,
            "keys-shown",
            &[("signing", &line("signing", s)), ("encryption", &line("encryption", e))],
        )
    }

    fn run(events: &[Event]) -> Outcome {
        crate::check::hand_made::run(&mut KeysAgree::default(), events)
    }

    #[test]
    fn differing_answers_once_all_caught_up_are_a_violation() {
        let boot = [synced(1, "cucm-sub-1", "S1", "E1"), synced(1, "imp-pub", "S1", "E1")];
        let agree = [
            boot[0].clone(),
            boot[1].clone(),
            shown(5, "cucm-sub-1", "a", "b"),
            shown(5, "imp-pub", "a", "b"),
        ];
        let outcome = run(&agree);
        assert!(outcome.held && outcome.judged == 2, "{outcome:?}");
        let differ = [
            boot[0].clone(),
            boot[1].clone(),
            shown(5, "cucm-sub-1", "a", "b"),
            shown(5, "imp-pub", "a", "c"),
        ];
        let outcome = run(&differ);
        assert!(
            !outcome.held && outcome.detail.contains("imp-pub shows signing a encryption c"),
            "{outcome:?}"
        );
    }

    /// A node that missed the regeneration, or pulled the keys without restarting Tomcat,
    /// may show other checksums: the check does not judge until everyone caught up.
    #[test]
    fn lagging_nodes_are_not_judged_until_they_catch_up() {
        let regenerated = event(10, "cucm-pub", "key-regenerated", &[("key", "signing"), ("checksum", "S2")]);
        let missed = [
            synced(1, "cucm-sub-1", "S1", "E1"),
            synced(1, "imp-sub-1", "S1", "E1"),
            regenerated.clone(),
            synced(11, "cucm-sub-1", "S2", "E1"),
            shown(20, "cucm-sub-1", "new", "b"),
            shown(20, "imp-sub-1", "old", "b"),
        ];
        let outcome = run(&missed);
        assert!(outcome.held && outcome.judged == 0, "{outcome:?}");
        let pulled_not_restarted = [
            &missed[..4],
            &[event(30, "imp-sub-1", "keys-pulled", &[("signing_key", "S2"), ("encryption_key", "E1")])],
            &[shown(40, "cucm-sub-1", "new", "b"), shown(40, "imp-sub-1", "new", "b")],
        ]
        .concat();
        assert!(run(&pulled_not_restarted).judged == 0);
        let restarted = [
            &pulled_not_restarted[..5],
            &[event(
                50,
                "imp-sub-1",
                "service-restarted",
                &[("signing_key", "S2"), ("encryption_key", "E1")],
            )],
            &[shown(60, "cucm-sub-1", "new", "b"), shown(60, "imp-sub-1", "other", "b")],
        ]
        .concat();
        let outcome = run(&restarted);
        assert!(!outcome.held && outcome.detail.starts_with("at 00:00:00.060 imp-sub-1"), "{outcome:?}");
    }
}
