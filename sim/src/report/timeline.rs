//! The timeline: one line in words per event shown, kept as the trace streams.

use std::collections::BTreeSet;

use crate::clock::format_elapsed;
use crate::report::TimelineMode;
use crate::scenario::Action;
use crate::trace::catalogue::{EventSpec, Role};
use crate::trace::reason::Reason;
use crate::trace::{Event, Happening, Observe};

/// Timeline lines a run keeps. Past it, the timeline says how many more it left out: the
/// full trace is `--trace FILE`'s job, and a report must not grow with the run.
pub const TIMELINE_LINES_MAX: usize = 10_000;

/// The timeline, built as the trace streams: it keeps only the lines it will print and, for
/// the story, which (event, party) pairs are currently quiet (bounded by the cluster's size).
#[derive(Clone, Debug)]
pub struct Timeline {
    mode: TimelineMode,
    lines: Vec<String>,
    /// Lines the mode would show that did not fit under [`TIMELINE_LINES_MAX`].
    omitted: u64,
    /// (kind, who) pairs shown since that party's last trouble; routine events are shown once
    /// per pair, and again after trouble, so recoveries appear and steady state does not.
    quiet: BTreeSet<(String, String)>,
}

impl Timeline {
    pub fn new(mode: TimelineMode) -> Timeline {
        Timeline { mode, lines: Vec::new(), omitted: 0, quiet: BTreeSet::new() }
    }

    /// `hh:mm:ss.mmm  node  what happened`, one per event shown.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    pub fn mode(&self) -> TimelineMode {
        self.mode
    }

    pub fn omitted(&self) -> u64 {
        self.omitted
    }

    fn shows(&mut self, event: &Event) -> bool {
        let who = event.field_text("client").unwrap_or_else(|| event.node.clone());
        match self.mode {
            TimelineMode::Full => true,
            TimelineMode::None => false,
            // How the run was set up is the trace's and the full timeline's, not the story's.
            TimelineMode::Story if EventSpec::kind_plays(&event.kind, Role::Setup) => false,
            // Cisco CallManager's restart is told by the `callmanager-started` line beside it,
            // which says what it read; "is up again" after it would say it twice.
            TimelineMode::Story
                if event.kind == "service-restarted"
                    && event.field_text("service").as_deref() == Some("callmanager") =>
            {
                false
            }
            TimelineMode::Story if EventSpec::kind_plays(&event.kind, Role::Routine) => {
                self.quiet.insert((event.kind.clone(), who))
            }
            TimelineMode::Story => {
                // Trouble at a CallManager node's AuthZ (publisher or a client's home node)
                // or a step concerns everyone; trouble elsewhere, the parties named.
                if event.node.starts_with("cucm-") || event.node == "scenario" {
                    self.quiet.clear();
                } else {
                    self.quiet.retain(|(_, party)| party != &who && party != &event.node);
                }
                true
            }
        }
    }
}

impl Observe for Timeline {
    fn observe(&mut self, event: &Event, _happening: &Happening, _line: &str) {
        if !self.shows(event) {
            return;
        }
        if self.lines.len() >= TIMELINE_LINES_MAX {
            self.omitted += 1;
            return;
        }
        self.lines.push(format!("{}  {:<11} {}", format_elapsed(event.t_ms), event.node, narrate(event)));
    }
}

/// One event in words a voice engineer reads. Checksums and token ids appear by their first
/// 8 characters, as people quote them; a refusal says why, and which key the token names
/// when that is the reason.
pub fn narrate(event: &Event) -> String {
    told(event).unwrap_or_else(|| {
        let fields: Vec<String> = event
            .fields
            .keys()
            .map(|name| format!("{name}={}", event.field_text(name).unwrap_or_default()))
            .collect();
        format!("{} {}", event.kind, fields.join(" "))
    })
}

/// The event in words, when some part of the story knows its kind (every kind of the
/// catalogue: a test holds it); otherwise [`narrate`] lists its fields.
fn told(event: &Event) -> Option<String> {
    super::sip_story::narrate(event)
        .or_else(|| step_in_words(event))
        .or_else(|| services_and_certificates_in_words(event))
        .or_else(|| keys_in_words(event))
        .or_else(|| tokens_in_words(event))
        .or_else(|| consumers_in_words(event))
}

/// An administrator's step (or the network's), as the action itself says it
/// ([`Action::in_words`]); a step this build does not know is named as recorded.
fn step_in_words(event: &Event) -> Option<String> {
    if event.kind != "step" {
        return None;
    }
    Some(match Action::from_step(&event.fields) {
        Some(action) => action.in_words(),
        None => format!("scenario step {}", event.field_text("action").unwrap_or_default()),
    })
}

/// Services, certificates, trust stores and node restarts.
fn services_and_certificates_in_words(event: &Event) -> Option<String> {
    let f = |name: &str| event.field_text(name).unwrap_or_default();
    let short = |name: &str| f(name).chars().take(8).collect::<String>();
    Some(match event.kind.as_str() {
        "plugin-loaded" => format!(
            "loaded plugin {} {} (serves {}), contract {}, sha256 {}, {} fuel per call, {} MiB{}",
            f("plugin"),
            f("version"),
            f("consumer"),
            f("contract"),
            short_hash(&f("sha256")),
            f("fuel_per_call"),
            event.fields.get("memory_bytes_max").and_then(|m| m.as_u64()).unwrap_or(0) >> 20,
            event.field_text("manifest").map_or_else(String::new, |manifest| format!(", pinned by {manifest}"))
        ),
        "keys-pulled" => format!(
            "wrote the publisher's keys to disk: signing {}, encryption {}; the running Tomcat still uses the keys it loaded",
            short("signing_key"),
            short("encryption_key")
        ),
        "service-restarted" => {
            let mut said = format!("{} is up again", service_in_words(&f("service")));
            if event.field_text("signing_key").is_some() {
                said.push_str(&format!(
                    " and uses the keys on disk: signing {}, encryption {}",
                    short("signing_key"),
                    short("encryption_key")
                ));
            }
            if let Some(certificates) = event.field_text("certificates") {
                said.push_str(&format!(", presenting {}", certificates.replace('=', " serial ")));
            }
            said
        }
        "service-stopped" => format!("{} stopped", service_in_words(&f("service"))),
        "service-started" => format!("{} started", service_in_words(&f("service"))),
        "certificate-regenerated" => format!(
            "new {} on disk: serial {} (was {}); its services present the old one until they restart",
            f("certificate"),
            f("serial"),
            f("previous")
        ),
        "trust-synced" => format!(
            "synced its {} with {}; the store now holds {}",
            f("store"),
            f("from"),
            f("serials").replace('=', " serial ")
        ),
        "trust-sync-failed" => format!("could not sync {} with {}: {}", f("store"), f("from"), f("reason")),
        "drf-connected" => format!("DRF Local trusts the ipsec.pem {} presents (serial {})", f("primary"), f("serial")),
        "drf-trust-mismatch" => format!(
            "DRF Local refuses {}: it presents ipsec.pem serial {} but IPSec-trust holds {}; backups and restores fail",
            f("primary"),
            f("presented"),
            event.field_text("trusted").map_or_else(|| "none".to_string(), |serial| format!("serial {serial}"))
        ),
        "drf-connect-failed" => format!("DRF Local cannot reach DRF Primary on {}: {}", f("primary"), f("reason")),
        "untrusted-certificate" => format!(
            "Jabber shows the untrusted-certificate pop-up: {} presents {} serial {}, which the device does not trust",
            f("host"),
            f("certificate"),
            f("serial")
        ),
        "certificate-deleted" => format!(
            "deleted {} (serial {}{})",
            f("certificate"),
            f("serial"),
            if f("expired") == "true" { ", expired" } else { ", still valid" }
        ),
        "certificate-delete-refused" => format!("refused to delete {}: {}", f("certificate"), f("reason")),
        "high-availability-changed" => format!(
            "High Availability of the Presence Redundancy Group is now {}",
            if f("enabled") == "true" { "on" } else { "off" }
        ),
        "ha-failover" => format!(
            "{} went down with High Availability on: the Presence Redundancy Group fails this node's users over to its peer",
            service_in_words(&f("service"))
        ),
        "client-trust-pushed" => format!("the Jabber devices now trust {} certificate(s)", f("certificates")),
        "node-restarted" => {
            let mut said = "started again after a crash".to_string();
            if let Some(rows) = event.field_text("table_rows") {
                said.push_str(&format!("; its refresh-token table still holds {rows} row(s)"));
            }
            if let Some(revoked) = event.field_text("revoked_rows").filter(|revoked| revoked != "0") {
                said.push_str(&format!(", {revoked} of them revoked"));
            }
            if let Some(forgot) = event.field_text("forgot") {
                said.push_str(&format!("; forgot {forgot}"));
            }
            said
        }
        _ => return None,
    })
}

/// The AuthZ keys: regenerated, pushed, fetched, shown.
fn keys_in_words(event: &Event) -> Option<String> {
    let f = |name: &str| event.field_text(name).unwrap_or_default();
    let short = |name: &str| f(name).chars().take(8).collect::<String>();
    Some(match event.kind.as_str() {
        "key-regenerated" => format!(
            "{} key regenerated: checksum {} (was {}); every self-contained access token issued so far is now invalid",
            f("key"),
            short("checksum"),
            short("previous")
        ),
        "keys-shown" => format!("{}; {}", f("signing"), f("encryption")),
        "keys-synced" => format!(
            "received the keys from the publisher: signing {}, encryption {}",
            short("signing_key"),
            short("encryption_key")
        ),
        "keys-fetched" => format!(
            "fetched the keys from its Authz server {} ({}): signing {}, encryption {}",
            f("from"),
            f("cause"),
            short("signing_key"),
            short("encryption_key")
        ),
        "keys-served" => format!("served the keys to {}", f("to")),
        "key-sync-failed" => {
            format!("could not push the keys to {} after {} attempts", f("to"), f("attempts"))
        }
        "key-fetch-failed" => format!("could not fetch the keys from {}: {}", f("from"), f("reason")),
        _ => return None,
    })
}

/// Tokens issued, refreshed, refused, revoked and purged; sign-ins.
fn tokens_in_words(event: &Event) -> Option<String> {
    let f = |name: &str| event.field_text(name).unwrap_or_default();
    let short = |name: &str| f(name).chars().take(8).collect::<String>();
    let refusal = || format!("{}{}", explain(&f("reason")), names_key(event));
    Some(match event.kind.as_str() {
        "tokens-revoked" => format!(
            "revoked {} refresh token(s) of {}{}; access tokens already issued stay valid until they expire",
            f("revoked"),
            f("user"),
            event
                .field_text("ccid")
                .map_or_else(String::new, |ccid| format!(" on client {}", &ccid[..ccid.len().min(9)]))
        ),
        "expiry-changed" => format!(
            "now issues tokens with {} = {} (was {}); tokens already issued keep theirs",
            f("param"),
            seconds_in_words(&f("value_s")),
            seconds_in_words(&f("previous_s"))
        ),
        "login-flow-changed" => {
            if f("enabled") == "true" {
                "refresh login flow enabled: new sign-ins may use the authorization-code grant".to_string()
            } else {
                "refresh login flow disabled: only the implicit grant from now on".to_string()
            }
        }
        "access-token-issued" => format!(
            "implicit grant for {} on {}: {} access token {}, no refresh token",
            f("user"),
            f("client"),
            f("format"),
            short("access_tid")
        ),
        "sso-login" => {
            format!("{} authenticated on {} (login #{} of this user)", f("user"), f("client"), f("logins"))
        }
        "login-flow-fallback" => format!(
            "the refresh login flow is not offered ({}); falls back to the implicit grant",
            f("reason")
        ),
        "purge-batch-committed" => {
            format!("daily purge: a batch of {} expired refresh token(s) deleted and committed", f("rows"))
        }
        "refresh-tokens-purged" => format!(
            "daily purge: deleted {} expired refresh token(s) in {} DELETE(s), {} ms of CPU",
            f("rows"),
            f("batches"),
            f("took_ms")
        ),
        "table-preloaded" => {
            format!(
                "the refresh-token table holds {} row(s) of former users, validity {}",
                f("rows"),
                f("validity")
            )
        }
        "admin-call-failed" => format!("the administrator's {} call failed: {}", f("action"), f("reason")),
        "tokens-issued" => format!(
            "signed in {} on {}: access token {}, refresh token {}",
            f("user"),
            f("client"),
            short("access_tid"),
            short("refresh_tid")
        ),
        "access-token-refreshed" => format!(
            "new access token {} for {} on {} (refresh token {}){}",
            short("access_tid"),
            f("user"),
            f("client"),
            short("refresh_tid"),
            event
                .field_text("waited_ms")
                .map_or_else(String::new, |ms| format!(" after waiting {ms} ms for the purge"))
        ),
        "refresh-rejected" => format!("refused the refresh token of {}: {}", f("client"), refusal()),
        "logged-in" => match event.field_text("grant") {
            Some(grant) => {
                format!("signed in as {} ({grant} grant, access token {})", f("user"), short("access_tid"))
            }
            None => format!("signed in as {} (access token {})", f("user"), short("access_tid")),
        },
        "login-failed" => format!("sign-in failed: {}", f("reason")),
        "token-refreshed" => format!("refreshed its access token (now {})", short("access_tid")),
        "refresh-failed" => format!("logs \"{}\" ({})", f("message"), f("reason")),
        _ => return None,
    })
}

/// What the token consumers (UDS, RTMT's counters, IM and Presence, voicemail) made of a token.
fn consumers_in_words(event: &Event) -> Option<String> {
    let f = |name: &str| event.field_text(name).unwrap_or_default();
    let refusal = || format!("{}{}", explain(&f("reason")), names_key(event));
    Some(match event.kind.as_str() {
        "uds-request-accepted" => {
            format!("accepted the token of {} ({}) on UDS{}", f("client"), f("user"), by_proxy(event))
        }
        "uds-request-rejected" => {
            format!("refused the token of {} on UDS: {}{}", f("client"), refusal(), by_proxy(event))
        }
        "perfmon-request-accepted" => {
            format!("answered RTMT's counter query from {} ({}){}", f("client"), f("user"), by_proxy(event))
        }
        "perfmon-request-rejected" => {
            format!("refused RTMT's token from {}: {}{}", f("client"), refusal(), by_proxy(event))
        }
        "perfmon-failed" => format!("the counter query was refused: {}", f("reason")),
        "im-login-accepted" => {
            format!("XMPP login of {} on {} accepted{}", f("user"), f("client"), by_proxy(event))
        }
        "im-login-rejected" => {
            format!("XMPP login from {} refused: {}{}", f("client"), refusal(), by_proxy(event))
        }
        "im-login-failed" => format!("IM and Presence refused its XMPP login: {}", f("reason")),
        "uds-failed" => format!("UDS refused its token: {}", f("reason")),
        "voicemail-login-accepted" => {
            format!("voicemail login of {} on {} accepted{}", f("user"), f("client"), by_proxy(event))
        }
        "voicemail-login-rejected" => {
            format!("voicemail login from {} refused: {}{}", f("client"), refusal(), by_proxy(event))
        }
        "voicemail-login-failed" => {
            format!("voicemail refused its token (attempt {}): {}", f("attempt"), f("reason"))
        }
        "voicemail-unreachable" => format!("cannot reach voicemail: {}", f("reason")),
        _ => return None,
    })
}

/// A SHA-256 by its first 16 hex digits.
fn short_hash(hash: &str) -> &str {
    &hash[..hash.len().min(16)]
}

/// `xcp-router` as "Cisco XCP Router", as Control Center names it.
fn service_in_words(name: &str) -> String {
    crate::certs::Service::from_name(name)
        .map_or_else(|| name.to_string(), |service| service.display_name().to_string())
}

/// `900` as `15m`, `86400` as `1d`: the units the administration page uses.
fn seconds_in_words(seconds: &str) -> String {
    match seconds.parse::<u64>() {
        Ok(s) => crate::scenario::format_duration(std::time::Duration::from_secs(s)),
        Err(_) => seconds.to_string(),
    }
}

/// ` (opaque token: asked its issuer, 300 ms)` when the verdict came by proxy mode.
fn by_proxy(event: &Event) -> String {
    match event.field_text("proxy_ms") {
        Some(ms) => format!(" (opaque token: asked its issuer, {ms} ms)"),
        None => String::new(),
    }
}

/// `; the token names key 12548676` when a refusal carries the token's `kid`.
fn names_key(event: &Event) -> String {
    match event.field_text("kid").as_deref().and_then(|kid| kid.rsplit_once(':')) {
        Some((_, checksum)) => format!("; the token names key {}", &checksum[..checksum.len().min(8)]),
        None => String::new(),
    }
}

/// A rejection reason, with what it means for the people involved.
fn explain(reason: &str) -> String {
    match Reason::named(reason) {
        Some(known) => format!("{reason} ({})", known.meaning()),
        None => reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::hand_made::recorded;
    use crate::trace::catalogue::CATALOGUE;

    /// Every kind of event is told in words: none falls back to a list of its fields.
    #[test]
    fn every_event_kind_has_its_sentence() {
        let untold: Vec<&str> = CATALOGUE
            .iter()
            .filter(|spec| told(&recorded(0, "cucm-pub", spec.kind, &[])).is_none())
            .map(|spec| spec.kind)
            .collect();
        assert!(untold.is_empty(), "told only as fields: {untold:?}");
    }
}
