//! Services, certificates, trust stores and node restarts in words.

use super::service_in_words;
use crate::trace::Event;

/// Services, certificates, trust stores and node restarts.
pub(super) fn in_words(event: &Event) -> Option<String> {
    let f = |name: &str| event.field_text(name).unwrap_or_default();
    let short = |name: &str| f(name).chars().take(8).collect::<String>();
    Some(match event.kind.as_str() {
        "sso-reconfigured" => format!(
            "SSO configured again: the identity provider's metadata now names tomcat.pem serial {} (was {})",
            f("serial"),
            f("previous")
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
        "ipsec-trust-shown" => {
            let trusted =
                event.field_text("trusted_serial").map_or_else(|| "no certificate".to_string(), |s| format!("serial {s}"));
            let verdict = match event.fields.get("matches").and_then(|m| m.as_bool()) {
                Some(true) => "they match",
                _ => "they differ: DRF Local here refuses the publisher's ipsec.pem",
            };
            format!(
                "IPSec-trust holds {trusted} for the CallManager publisher, whose ipsec.pem is serial {}: {verdict}",
                f("publisher_serial")
            )
        }
        "drf-connect-failed" => format!("DRF Local cannot reach DRF Primary on {}: {}", f("primary"), f("reason")),
        "untrusted-certificate" => format!(
            "Jabber shows the untrusted-certificate pop-up: {} presents {} serial {}, which the device does not trust",
            f("host"),
            f("certificate"),
            f("serial")
        ),
        "certificate-deleted" => format!(
            "deleted {} (serial {}{}); {} keep{} it in memory until restarted",
            f("certificate"),
            f("serial"),
            if f("expired") == "true" { ", expired" } else { ", still valid" },
            display_names(&f("restart")),
            if f("restart").contains(' ') { "" } else { "s" }
        ),
        "certificate-uploaded" if f("restart").is_empty() => format!(
            "uploaded {} (serial {}); no service needs a restart for it",
            f("certificate"),
            f("serial")
        ),
        "certificate-uploaded" => format!(
            "uploaded {} (serial {}); {} read{} it only when restarted",
            f("certificate"),
            f("serial"),
            display_names(&f("restart")),
            if f("restart").contains(' ') { "" } else { "s" }
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

/// `tomcat callmanager` as "Cisco Tomcat and Cisco CallManager".
fn display_names(names: &str) -> String {
    let shown: Vec<String> = names.split_whitespace().map(service_in_words).collect();
    match shown.split_last() {
        None => "no service".to_string(),
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}
