//! Each event's sentence for the story: one line a voice engineer reads, by subject. The
//! timeline and the page only choose which events to show; what an event says is its own
//! ([`Event::sentence`]), so every reader of a trace tells it the same way. Checksums and
//! token ids appear by their first 8 characters, as people quote them; a refusal says why,
//! and which key the token names when that is the reason.
//!
//! * [`step`]: the scenario's steps, as the action says itself.
//! * [`services`]: services, certificates, trust stores, node restarts.
//! * [`ca_signed`]: the CA-signed multi-SAN Tomcat certificate.
//! * [`plugins`]: validator plugins loaded, and what they said.
//! * [`keys`]: the AuthZ keys.
//! * [`tokens`]: grants, refreshes, revocations, the purge.
//! * [`consumers`]: UDS, RTMT, IM and Presence and voicemail verdicts.
//! * [`sip`]: SIP OAuth registration and the edge.
//! * [`settings`]: Unity Connection's and Expressway-C's OAuth settings.
//! * [`cli`]: what `run sql` and `show open ports` printed.

mod ca_signed;
mod cli;
mod consumers;
mod keys;
mod plugins;
mod services;
mod settings;
mod sip;
mod step;
mod tokens;

use crate::trace::reason::Reason;
use crate::trace::Event;

impl Event {
    /// The event in words. A kind this build does not know (a trace from another version)
    /// is told as its fields; every kind of the catalogue has its sentence (a test holds it).
    pub fn sentence(&self) -> String {
        told(self).unwrap_or_else(|| {
            let fields: Vec<String> = self
                .fields
                .keys()
                .map(|name| format!("{name}={}", self.field_text(name).unwrap_or_default()))
                .collect();
            format!("{} {}", self.kind, fields.join(" "))
        })
    }
}

/// The event in words, when one subject knows its kind.
fn told(event: &Event) -> Option<String> {
    sip::in_words(event)
        .or_else(|| step::in_words(event))
        .or_else(|| services::in_words(event))
        .or_else(|| ca_signed::in_words(event))
        .or_else(|| plugins::in_words(event))
        .or_else(|| keys::in_words(event))
        .or_else(|| tokens::in_words(event))
        .or_else(|| consumers::in_words(event))
        .or_else(|| settings::in_words(event))
        .or_else(|| cli::in_words(event))
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
