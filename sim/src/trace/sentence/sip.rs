//! SIP OAuth and the edge in words: registrations, ports, TLS alerts, Expressway-C's zones
//! and names (docs/domain.md "SIP OAuth mode").

use crate::trace::Event;

/// The event in words, if it is one of SIP's or the edge's.
pub(super) fn in_words(event: &Event) -> Option<String> {
    let f = |name: &str| event.field_text(name).unwrap_or_default();
    let flag = |name: &str| event.fields.get(name).and_then(|value| value.as_bool());
    let said = match event.kind.as_str() {
        "sip-oauth-mode-set" => format!(
            "ClusterSIPOAuthMode is {} in processconfig (was {}){}; each CallManager takes it up when it restarts",
            u8::from(flag("enabled") == Some(true)),
            u8::from(flag("previous") == Some(true)),
            if flag("parameter_shown") == Some(true) {
                if flag("enabled") == Some(true) {
                    "; the read-only enterprise parameter Cluster SIPOAuth Mode shows Enabled"
                } else {
                    "; the read-only enterprise parameter Cluster SIPOAuth Mode shows Disabled"
                }
            } else {
                ""
            }
        ),
        "sip-oauth-mode-refused" => format!("refused to change the SIP OAuth mode: {}", f("reason")),
        "sip-ports-set" => format!(
            "saved {}'s SIP OAuth ports: phone {}, MRA {} (in use once its CallManager restarts)",
            f("target"),
            f("phone_port"),
            f("mra_port")
        ),
        "security-profile-set" => format!(
            "saved the phone security profile: digest authentication {}, TFTP encrypted config {}, device security mode {}, transport {}, OAuth authentication {} (phones take it when reset)",
            on_off(flag("digest_authentication")),
            on_off(flag("tftp_encrypted_config")),
            f("device_security_mode"),
            f("transport"),
            on_off(flag("oauth_authentication"))
        ),
        "phone-reset" => format!(
            "reset {} (Cisco {}): device security mode {}, {}",
            f("device"),
            f("model"),
            f("device_security_mode"),
            match (flag("oauth_authentication"), crate::phone_security::oauth_capable(&f("model"))) {
                (Some(true), true) => "registers with its token",
                (Some(true), false) => "an OAuth profile, which this model cannot use",
                _ => "no OAuth",
            }
        ),
        "security-profile-refused" => format!("refused the phone security profile change: {}", f("reason")),
        "sip-port-refused" => format!("refused port {} for {}: {}", f("port"), f("target"), f("reason")),
        "callmanager-started" => match flag("oauth") {
            Some(true) => format!(
                "Cisco CallManager started with SIP OAuth on: listening on {}, presenting tomcat.pem serial {}",
                f("ports"),
                f("certificate")
            ),
            _ => format!("Cisco CallManager started with SIP OAuth off: listening on {}", f("ports")),
        },
        "callmanager-failed" => format!("Cisco CallManager cannot start: {}", f("reason")),
        "port-opened" => format!("opened port {} ({})", f("port"), f("purpose")),
        "tls-handshake-failed" => {
            let with = event.field_text("peer").map_or_else(String::new, |peer| format!(" with {peer}"));
            let how = if flag("sent") == Some(true) { "sent" } else { "received" };
            format!("TLS handshake{with} on port {} failed: {how} alert {} ({})", f("port"), f("alert"), f("detail"))
        }
        "mtls-peer-refused" => match event.field_text("domain") {
            Some(domain) => format!(
                "refused the mutual-TLS peer on port {}: {} is in expresswaycconfiguration, but in domain {domain}, which is not the cluster's and not added to its Expressway-C entry",
                f("port"),
                f("names")
            ),
            None => format!(
                "refused the mutual-TLS peer on port {}: none of {} is in expresswaycconfiguration",
                f("port"),
                f("names")
            ),
        },
        "sip-registered" => format!(
            "registered {} ({}) on port {} with access token {}",
            f("client"),
            f("user"),
            f("port"),
            f("tid").chars().take(8).collect::<String>()
        ),
        "sip-register-rejected" => format!("answered {}'s REGISTER `{}` ({})", f("client"), f("line"), f("reason")),
        "sip-registered-legacy" => format!("registered {} on legacy port {} (no token)", f("client"), f("port")),
        "registered" => match f("via").as_str() {
            "edge" => format!("registered on port {} through the edge", f("port")),
            _ => format!("registered on port {}", f("port")),
        },
        "registration-failed" => {
            let port = event.field_text("port").map_or_else(String::new, |port| format!(" on port {port}"));
            let detail = event
                .field_text("line")
                .or_else(|| event.field_text("alert").map(|alert| format!("TLS alert {alert}")))
                .unwrap_or_else(|| f("reason"));
            let via = if f("via") == "edge" { " through the edge" } else { "" };
            format!("registration{port}{via} failed: {detail}")
        }
        "zone-status" => match event.field_text("reason") {
            Some(reason) => format!("zone {} is {}: {reason}", f("zone"), f("status")),
            None => format!("zone {} is {}", f("zone"), f("status")),
        },
        "expressway-names-pushed" => match event.field_text("reason") {
            Some(reason) => format!("could not push {} over AXL: {reason}", f("names")),
            None => format!("pushed {} over AXL; expresswaycconfiguration holds {} name(s)", f("names"), f("held")),
        },
        "expressway-c-entry-saved" => match event.field_text("reason") {
            Some(reason) => format!("refused to save the Expressway-C entry {}: {reason}", f("host")),
            None => format!(
                "saved the Expressway-C entry {} with X.509 names {}{}; expresswaycconfiguration holds {} name(s)",
                f("host"),
                f("names"),
                event.field_text("domain").map_or_else(String::new, |domain| format!(" and domain {domain}")),
                f("held")
            ),
        },
        "expressway-certificate-reissued" => format!("new certificate for {} (serial {})", f("names"), f("serial")),
        "edge-request-accepted" => format!("admitted {} ({}) with access token {}", f("client"), f("user"), f("tid").chars().take(8).collect::<String>()),
        "edge-request-rejected" => format!("refused {} at the edge: {}", f("client"), f("reason")),
        _ => return None,
    };
    Some(said)
}

fn on_off(flag: Option<bool>) -> &'static str {
    if flag == Some(true) {
        "on"
    } else {
        "off"
    }
}
