//! The assumptions a run relied on (docs/architecture.md "Assumptions are visible"): what the documents
//! do not say and we chose, each kept in a named constant or setting whose doc says so. The
//! report lists those the scenario's cluster, clients and steps reach, so an architect knows
//! which verdicts are the documents' and which are ours.

use authzlab_host::CLOCK_LEEWAY_S;

use crate::certs::certificate::IDENTITY_VALIDITY;
use crate::certs::service::IMP_SERVICE_RESTART;
use crate::certs::{CertificateName, Identity, Service};
use crate::node::authz::key_fetch::KEY_REFETCH_INTERVAL_S;
use crate::node::authz::node_keys::TOMCAT_RESTART;
use crate::node::client::jabber::VOICEMAIL_POLL_INTERVAL;
use crate::node::client::login::{REFRESH_WHEN_LEFT_DIVISOR, RETRY_DELAY};
use crate::node::publisher::key_push::{KEY_SYNC_ATTEMPTS_MAX, KEY_SYNC_RETRY};
use crate::node::publisher::purge::PURGE_ROW_COST_NS;
use crate::node::subscriber::callmanager::CALLMANAGER_RESTART;
use crate::node_id::NodeId;
use crate::proto::keep_alive::KEEP_ALIVE_IDLE;
use crate::proto::sso::ASSERTION_TTL_S;
use crate::scenario::{Action, ClientKind, Scenario};

/// One of our assumptions: what we chose (in words built from the constants that hold it, so
/// the report cannot drift from the code), where the code keeps it, and when a run relies on it.
pub struct Assumption {
    pub what: fn() -> String,
    pub lives_in: &'static str,
    relied_on: fn(&Scenario) -> bool,
}

fn steps(scenario: &Scenario, matches: impl Fn(&Action) -> bool) -> bool {
    scenario.steps.iter().any(|step| matches(&step.action))
}

fn refreshes(scenario: &Scenario) -> bool {
    scenario.clients.iter().any(|group| matches!(group.kind, ClientKind::Jabber | ClientKind::Phone))
        && (scenario.refresh_login_flow
            || steps(scenario, |a| matches!(a, Action::SetRefreshLoginFlow(true))))
}

fn phones(scenario: &Scenario) -> bool {
    scenario.clients.iter().any(|group| group.kind == ClientKind::Phone)
}

fn registers(scenario: &Scenario) -> bool {
    scenario.cluster.sip.is_some() && scenario.clients.iter().any(|group| group.kind != ClientKind::Rtmt)
}

fn implicit_grant(scenario: &Scenario) -> bool {
    scenario.cluster.sso
        && (!scenario.refresh_login_flow
            || scenario.clients.iter().any(|group| group.kind != ClientKind::Jabber))
}

/// Every assumption the report may name, in the order it names them.
pub const ASSUMPTIONS: &[Assumption] = &[
    Assumption {
        what: || {
            format!(
                "client timing: Jabber renews at {}/{} of its access token's life, polls voicemail every {} minutes, retries every {} s",
                REFRESH_WHEN_LEFT_DIVISOR - 1,
                REFRESH_WHEN_LEFT_DIVISOR,
                VOICEMAIL_POLL_INTERVAL.as_secs() / 60,
                RETRY_DELAY.as_secs()
            )
        },
        lives_in:
            "REFRESH_WHEN_LEFT_DIVISOR, VOICEMAIL_POLL_INTERVAL, RETRY_DELAY (node/client/login.rs, node/client/jabber.rs)",
        relied_on: |s| !s.clients.is_empty(),
    },
    Assumption {
        what: || {
            format!(
                "HTTP keep-alive: Jabber keeps its on-premises connections and a subscriber its connection to the publisher; a server closes one idle for {} s (Apache Tomcat's stock timeout)",
                KEEP_ALIVE_IDLE.as_secs()
            )
        },
        lives_in: "KEEP_ALIVE_IDLE (proto/keep_alive.rs)",
        relied_on: |s| s.clients.iter().any(|group| group.kind == ClientKind::Jabber),
    },
    Assumption {
        what: || {
            "the access token's JWE holds a nested JWT: header {\"alg\":\"RS256\",\"typ\":\"JWT\"} without a kid, signed with the same key as the outer JWS".to_string()
        },
        lives_in: "INNER_HEADER (tokens.rs)",
        relied_on: |s| !s.clients.is_empty(),
    },
    Assumption {
        what: || "every sign-in happens at the publisher (clients ask its authorize and token endpoints)".to_string(),
        lives_in: "node/client/login.rs",
        relied_on: |s| !s.clients.is_empty(),
    },
    Assumption {
        what: || {
            "a refresh token's ccid is C and the SHA-256 of the client's id; a usable refresh-token row's state is the first 31 bits of the token's SHA-256, a revoked row's 0, and revoked rows stay until the purge".to_string()
        },
        lives_in: "client_id_hash (tokens.rs), issued_state, STATE_REVOKED (store/mod.rs)",
        relied_on: refreshes,
    },
    Assumption {
        what: || {
            "the revoke API is a POST whose client_id is the refresh token's ccid (C and 64 hex digits): the documents' client_id=abc is read as a placeholder and refused with that reason".to_string()
        },
        lives_in: "revoke_query (node/publisher/revoke.rs)",
        relied_on: |s| steps(s, |a| matches!(a, Action::Revoke { .. })),
    },
    Assumption {
        what: || {
            "a refresh is checked by the AuthZ of the client's home node with the keys it loaded, then carried out by the publisher, whose database holds the table".to_string()
        },
        lives_in: "node/subscriber/mod.rs",
        relied_on: refreshes,
    },
    Assumption {
        what: || "Jabber re-authenticates its XMPP session with each new access token".to_string(),
        lives_in: "node/client/jabber.rs",
        relied_on: |s| s.cluster.imp.is_some() && !s.clients.is_empty(),
    },
    Assumption {
        what: || {
            format!(
                "the publisher retries a key push {} times, {} s apart, then gives up",
                KEY_SYNC_ATTEMPTS_MAX,
                KEY_SYNC_RETRY.as_secs()
            )
        },
        lives_in: "KEY_SYNC_ATTEMPTS_MAX, KEY_SYNC_RETRY (node/publisher/key_push.rs)",
        relied_on: |s| {
            steps(s, |a| matches!(a, Action::Partition { .. } | Action::Link { .. } | Action::Crash(_)))
        },
    },
    Assumption {
        what: || "a publisher started again after a crash pushes its keys to every node".to_string(),
        lives_in: "node/publisher/mod.rs (Publisher::boot)",
        relied_on: |s| steps(s, |a| matches!(a, Action::Restart(node) if *node == NodeId::PUBLISHER)),
    },
    Assumption {
        what: || {
            format!(
                "Unity Connection fetches the keys at start-up and on a token naming an unknown key (at most once every {KEY_REFETCH_INTERVAL_S} s); nobody tells it of a regeneration"
            )
        },
        lives_in: "KEY_REFETCH_INTERVAL_S (node/authz/key_fetch.rs)",
        relied_on: |s| {
            s.cluster.unity_validator.is_some() && steps(s, |a| matches!(a, Action::RegenerateKey(_)))
        },
    },
    Assumption {
        what: || {
            "each AuthZ key regeneration's new certMgmt*.log is numbered in order from certMgmt00001.log".to_string()
        },
        lives_in: "ActiveLogs::certificate_log_started (node/publisher/active_logs.rs)",
        relied_on: |s| steps(s, |a| matches!(a, Action::RegenerateKey(_))),
    },
    Assumption {
        what: || {
            "the publisher's ssosp00001.log exists from installation; an OAuth operation (written to the current ssosp file) is one request to AuthZ's authorize, token, revoke or introspect endpoint; an SSO app operation (an ssoApp.log entry, and a new ssosp file) is SSO set up or configured again; the CLI shows files and entry counts, the documents quoting no line".to_string()
        },
        lives_in: "ActiveLogs (node/publisher/active_logs.rs)",
        relied_on: |s| steps(s, |a| matches!(a, Action::ReadLog(_))),
    },
    Assumption {
        what: || "`show key authz` prints the first 128 bits of a labelled SHA-256 of the key".to_string(),
        lives_in: "SHOW_CHECKSUM_LABEL (host/src/keyring/mod.rs)",
        relied_on: |s| steps(s, |a| matches!(a, Action::ShowKeys)),
    },
    Assumption {
        what: || {
            format!(
                "keys pushed to a node are used at once; keys its own regeneration command put on disk only after Cisco Tomcat restarts, which takes {} s",
                TOMCAT_RESTART.as_secs()
            )
        },
        lives_in: "TOMCAT_RESTART (node/authz/node_keys.rs)",
        relied_on: |s| {
            steps(s, |a| {
                matches!(a, Action::PullKeys { .. } | Action::RestartService { service: Service::Tomcat, .. })
            })
        },
    },
    Assumption {
        what: || {
            "Unity Connection fetches the keys as soon as its Authz Servers entry is saved; with OAuth services off it refuses every token unread".to_string()
        },
        lives_in: "node/unity.rs",
        relied_on: |s| {
            s.cluster.unity_setup != crate::scenario::UnitySetup { authz_server: true, oauth: true }
                || steps(s, |a| matches!(a, Action::ConfigureUnity { .. }))
        },
    },
    Assumption {
        what: || {
            "with \"Authorize by OAuth token with refresh\" off, Expressway-C refuses every request carrying a self-describing token (token requests still pass)".to_string()
        },
        lives_in: "node/edge/expressway_c.rs",
        relied_on: |s| {
            s.cluster.expressway.as_ref().is_some_and(|edge| !edge.oauth_with_refresh)
                || steps(s, |a| matches!(a, Action::ConfigureExpressway { oauth_with_refresh: Some(_), .. }))
        },
    },
    Assumption {
        what: || {
            "Expressway-C's trusted CA list, changed mid-run, is used from its next connection (no restart)".to_string()
        },
        lives_in: "node/edge/expressway_c.rs",
        relied_on: |s| steps(s, |a| matches!(a, Action::ConfigureExpressway { trusts_callmanager: Some(_), .. })),
    },
    Assumption {
        what: || "the CLI prints times (show key authz's last sync) in the cluster's local time".to_string(),
        lives_in: "node/authz/held_keys.rs",
        relied_on: |s| s.purge.utc_offset_s != 0 && steps(s, |a| matches!(a, Action::ShowKeys)),
    },
    Assumption {
        what: || format!("the clock leeway validators allow is {CLOCK_LEEWAY_S} s"),
        lives_in: "CLOCK_LEEWAY_S (host/src/lib.rs)",
        relied_on: |s| steps(s, |a| matches!(a, Action::Skew { .. })),
    },
    Assumption {
        what: || {
            format!(
                "the purge costs {} us of the publisher's CPU per row (calibrated on SQLite here) and deletes the rows whose validity is at or before its time (<=)",
                PURGE_ROW_COST_NS / 1000
            )
        },
        lives_in: "PURGE_ROW_COST_NS (node/publisher/purge.rs), begin_purge_batch (store/mod.rs)",
        relied_on: |s| s.purge.preloaded_rows() > 0,
    },
    Assumption {
        what: || {
            format!(
                "an SSO assertion is a JWS (HS256) standing in for SAML, valid {} minutes, used once",
                ASSERTION_TTL_S / 60
            )
        },
        lives_in: "ASSERTION_TTL_S (proto/sso.rs)",
        relied_on: |s| s.cluster.sso,
    },
    Assumption {
        what: || {
            "an SSO assertion names the SP (publisher Tomcat) certificate of the identity provider's metadata; AuthZ refuses it once Tomcat presents another, until SSO is configured again".to_string()
        },
        lives_in: "proto/sso.rs (sign, verify), node/publisher/mod.rs (tomcat_serial)",
        relied_on: |s| {
            s.cluster.sso
                && steps(s, |a| {
                    matches!(a, Action::ReconfigureSso)
                        || matches!(a, Action::RegenerateCertificate { node, identity: Identity::Tomcat } if *node == NodeId::PUBLISHER)
                })
        },
    },
    Assumption {
        what: || {
            "nodes ask the issuer about an opaque token over /ssosp/token/introspect (proxy mode)".to_string()
        },
        lives_in: "proto/authz.rs, node/authz/proxy.rs",
        relied_on: implicit_grant,
    },
    Assumption {
        what: || {
            format!(
                "IM and Presence identity certificates are self-signed with Ed25519 keys drawn from the seed, valid {} years",
                IDENTITY_VALIDITY.as_secs() / (365 * 86_400)
            )
        },
        lives_in: "IDENTITY_VALIDITY (certs/certificate.rs)",
        relied_on: |s| s.cluster.imp.is_some(),
    },
    Assumption {
        what: || {
            "Jabber devices trust every IM and Presence node's cup-xmpp.pem and tomcat.pem and every CallManager subscriber's tomcat.pem from the start; one push reaches every device; Jabber checks Tomcat on UDS on premises, not through the edge".to_string()
        },
        lives_in: "certs/device_trust.rs, node/client/jabber.rs",
        relied_on: |s| s.clients.iter().any(|group| group.kind == ClientKind::Jabber),
    },
    Assumption {
        what: || {
            format!(
                "the CA-signed multi-SAN tomcat.pem uploaded on the CallManager publisher reaches every node at once; its key and serial come from the seed; the CA signs for {} years",
                IDENTITY_VALIDITY.as_secs() / (365 * 86_400)
            )
        },
        lives_in: "MultiSanTomcat (node/multi_san_tomcat.rs), IDENTITY_VALIDITY (certs/certificate.rs)",
        relied_on: |s| steps(s, |a| matches!(a, Action::InstallCaSignedTomcat)),
    },
    Assumption {
        what: || {
            "a subscriber's regeneration uploads its certificate to the IM and Presence publisher and takes the publisher's; the publisher's own reaches nobody (why the order matters)".to_string()
        },
        lives_in: "certs/sync.rs",
        relied_on: |s| {
            steps(s, |a| matches!(a, Action::RegenerateCertificate { identity, .. } if *identity != Identity::Ipsec))
        },
    },
    Assumption {
        what: || {
            "a node takes the CallManager publisher's current ipsec.pem into its IPSec-trust when its own ipsec.pem is regenerated; the publisher's regeneration reaches nobody by itself (why the order matters)".to_string()
        },
        lives_in: "node/ipsec_trust.rs",
        relied_on: |s| {
            steps(s, |a| matches!(a, Action::RegenerateCertificate { identity: Identity::Ipsec, .. }))
        },
    },
    Assumption {
        what: || {
            format!(
                "an IM and Presence service other than Tomcat, or DRF Primary on the CallManager publisher, restarts in {} s",
                IMP_SERVICE_RESTART.as_secs()
            )
        },
        lives_in: "IMP_SERVICE_RESTART (certs/service.rs)",
        relied_on: |s| {
            steps(s, |a| {
                matches!(a, Action::RestartService { service, .. }
                    if !matches!(service, Service::Tomcat | Service::CallManager))
            })
        },
    },
    Assumption {
        what: || {
            "a service that serves users going down with High Availability on fails the node's users over to its peer".to_string()
        },
        lives_in: "node/imp.rs",
        relied_on: |s| {
            s.cluster.imp.as_ref().is_some_and(|imp| imp.high_availability)
                || steps(s, |a| matches!(a, Action::SetHighAvailability(true)))
        },
    },
    Assumption {
        what: || {
            "a trust certificate is deleted only while Certificate Expiry Monitor and Intercluster Sync Agent (IM and Presence) or Certificate Change Notification (CallManager) are stopped".to_string()
        },
        lives_in: "certs/store.rs",
        relied_on: |s| steps(s, |a| matches!(a, Action::DeleteCertificate { .. })),
    },
    Assumption {
        what: || {
            "a certificate uploaded to a subscriber's Tomcat-trust reaches that node only (the documents say deletions are made on each node; of uploads they say nothing)".to_string()
        },
        lives_in: "node/subscriber/mod.rs",
        relied_on: |s| steps(s, |a| matches!(a, Action::UploadCertificate { .. })),
    },
    Assumption {
        what: || {
            "Cisco CallManager reads Tomcat-trust when it starts, so a deletion there reaches its MRA port only when it restarts".to_string()
        },
        lives_in: "Service::reads_trust (certs/service.rs)",
        relied_on: |s| {
            s.cluster.sip.is_some()
                && steps(s, |a| {
                    matches!(a, Action::DeleteCertificate {
                        node,
                        certificate: CertificateName::Trust { store: Identity::Tomcat, .. },
                    } if *node != NodeId::PUBLISHER && !s.cluster.imp_nodes().contains(node))
                })
        },
    },
    Assumption {
        what: || {
            format!(
                "Cisco CallManager runs on the subscribers only, restarts in {} s, and validates REGISTER tokens with the AuthZ keys its node's Tomcat loaded",
                CALLMANAGER_RESTART.as_secs()
            )
        },
        lives_in: "CALLMANAGER_RESTART (node/subscriber/callmanager.rs), RunsOn (certs/service.rs)",
        relied_on: |s| s.cluster.sip.is_some(),
    },
    Assumption {
        what: || {
            "every node reads the cluster database (processconfig, SIP ports, expresswaycconfiguration) as if replication were instant".to_string()
        },
        lives_in: "cluster_database.rs",
        relied_on: |s| s.cluster.sip.is_some(),
    },
    Assumption {
        what: || {
            "devices register at sign-in, at every token renewal and when a phone is reset, one REGISTER per TLS connection; a device's configuration file is written from the database at each request".to_string()
        },
        lives_in: "node/client/registration.rs, proto/sip.rs, node/subscriber/tftp.rs",
        relied_on: registers,
    },
    Assumption {
        what: || {
            "phones trust the subscribers' current tomcat.pem (the trust list they read at each registration); Tomcat-trust is replicated to every subscriber".to_string()
        },
        lives_in: "node/client/registration.rs, node/subscriber/mod.rs",
        relied_on: |s| s.cluster.sip.is_some() && phones(s),
    },
    Assumption {
        what: || {
            "an already registered phone gets its tokens for asking (implicit); phones that onboard by code were given one before the run".to_string()
        },
        lives_in: "proto/authz.rs (TokenRequest::RegisteredDevice), cluster/sip_setup.rs",
        relied_on: phones,
    },
    Assumption {
        what: || {
            "Expressway-E forwards every request to Expressway-C; the edge's paths; Expressway-C fetches the keys as Unity does and checks zones with SIP OPTIONS".to_string()
        },
        lives_in: "node/edge/expressway_c.rs, proto/edge.rs",
        relied_on: |s| s.cluster.expressway.is_some(),
    },
    Assumption {
        what: || {
            "expresswaycconfiguration keeps the names of Expressway-C's earlier certificates; its certificate's CN is its first name".to_string()
        },
        lives_in: "cluster_database.rs, node/edge/expressway_c.rs",
        relied_on: |s| {
            steps(s, |a| matches!(a, Action::ReissueExpresswayCertificate { .. } | Action::RefreshExpressway))
        },
    },
    Assumption {
        what: || {
            "one phone security profile for every phone; enabling SIP OAuth is refused while it has digest authentication or TFTP encrypted config on".to_string()
        },
        lives_in: "SecurityProfile (phone_security.rs), node/publisher/sip_admin.rs",
        relied_on: |s| steps(s, |a| matches!(a, Action::SetSecurityProfile { .. })),
    },
    Assumption {
        what: || {
            format!(
                "phones start reset with the profile SIP OAuth needs (encrypted, tls, OAuth authentication); a phone without a model is a Cisco {}; the page refuses OAuth authentication without encrypted and tls; a secure phone without OAuth cannot register (no CAPF here)",
                crate::phone_security::PHONE_MODEL_DEFAULT
            )
        },
        lives_in: "PhoneSecurity::FOR_SIP_OAUTH, PHONE_MODEL_DEFAULT (phone_security.rs)",
        relied_on: |s| {
            registers(s)
                && phones(s)
                && (steps(s, |a| matches!(a, Action::SetSecurityProfile(_) | Action::ResetPhone { .. }))
                    || s.clients.iter().any(|group| group.model.is_some()))
        },
    },
    Assumption {
        what: || {
            "before release 14 phones ask AuthZ for no token: they start Non Secure over TCP (no CAPF here) and register on 5060 at the start and at each reset".to_string()
        },
        lives_in: "PhoneSecurity::BEFORE_PHONE_OAUTH (phone_security.rs), node/client/phone.rs",
        relied_on: |s| phones(s) && !s.cluster.release.has_phone_oauth(),
    },
    Assumption {
        what: || {
            "phones on premises get their tokens over TLS, checking Tomcat against the cluster's one phone-edge-trust, read from TFTP at each request; it starts with every CallManager node's self-signed tomcat.pem unless the scenario says not; other exchanges on 8443 are plain HTTP".to_string()
        },
        lives_in: "PhoneEdgeTrust (certs/phone_edge_trust.rs), proto/https.rs",
        relied_on: |s| phones(s) && s.cluster.release.has_phone_oauth(),
    },
    Assumption {
        what: || {
            "with proxy TFTP (refused before 14SU1: the guide dates the rule, not the feature), phones on premises read their files from proxy-tftp, another cluster's TFTP, which serves its own phone-edge-trust and hands every other file request to cucm-sub-1's TFTP; its own cluster's roots are left out; a copy into it is served from the next request on".to_string()
        },
        lives_in: "ProxyTftp (node/proxy_tftp.rs)",
        relied_on: |s| phones(s) && s.cluster.sip.as_ref().is_some_and(|sip| sip.proxy_tftp.is_some()),
    },
    Assumption {
        what: || {
            "CallManager keeps listening on 5060 and 5061 with SIP OAuth on, for devices that do not use OAuth".to_string()
        },
        lives_in: "node/subscriber/callmanager.rs",
        relied_on: |s| {
            registers(s)
                && (s.cluster.sip.as_ref().is_some_and(|sip| sip.oauth)
                    || steps(s, |a| matches!(a, Action::SetSipOAuthMode(true))))
        },
    },
    Assumption {
        what: || {
            "an Expressway-C entry saved on Device > Expressway-C holds exactly the names typed; Expressway-C's pushes add to the entry of its certificate's CN".to_string()
        },
        lives_in: "ClusterDatabase::save_expressway_entry (cluster_database.rs)",
        relied_on: |s| steps(s, |a| matches!(a, Action::SaveExpresswayEntry { .. })),
    },
    Assumption {
        what: || {
            format!(
                "the cluster's DNS domain is {}; on the MRA port CallManager accepts a listed Expressway-C name in another domain only when its entry holds that domain (Device > Expressway-C); the documents say only that the domain must be added",
                crate::dns_domain::CLUSTER_DOMAIN
            )
        },
        lives_in: "CLUSTER_DOMAIN (dns_domain.rs), ClusterDatabase::expressway_peer (cluster_database.rs)",
        relied_on: |s| {
            s.cluster.expressway.as_ref().is_some_and(|edge| !edge.san.iter().all(|name| crate::dns_domain::in_cluster_domain(name)))
                || steps(s, |a| match a {
                    Action::SaveExpresswayEntry { names, domain, .. } => {
                        domain.is_some() || !names.iter().all(|name| crate::dns_domain::in_cluster_domain(name))
                    }
                    Action::ReissueExpresswayCertificate { san } => {
                        !san.iter().all(|name| crate::dns_domain::in_cluster_domain(name))
                    }
                    _ => false,
                })
        },
    },
    Assumption {
        what: || {
            "a port change on the CallManager page is refused whole when one port is out of range, and refused when the two OAuth ports are equal".to_string()
        },
        lives_in: "node/publisher/sip_admin.rs",
        relied_on: |s| steps(s, |a| matches!(a, Action::SetSipPorts { .. })),
    },
    Assumption {
        what: || {
            "utils sipOAuth-mode enable is refused while OAuth with Refresh Login Flow is off (the documents: SIP OAuth requires it)".to_string()
        },
        lives_in: "SipAdmin::set_mode (node/publisher/sip_admin.rs)",
        relied_on: |s| steps(s, |a| matches!(a, Action::SetSipOAuthMode(_))),
    },
];

/// The assumptions this scenario relies on, in [`ASSUMPTIONS`] order.
pub fn relied_on(scenario: &Scenario) -> Vec<&'static Assumption> {
    ASSUMPTIONS.iter().filter(|assumption| (assumption.relied_on)(scenario)).collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn names(text: &str) -> Vec<&'static str> {
        let scenario = Scenario::parse(text, Path::new("a.toml")).unwrap();
        relied_on(&scenario).into_iter().map(|assumption| assumption.lives_in).collect()
    }

    /// Every place an assumption says it lives: each file named exists, and each constant,
    /// type or function named is declared in one of them.
    #[test]
    fn each_assumption_lives_where_it_says() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        for assumption in ASSUMPTIONS {
            let words: Vec<&str> = assumption
                .lives_in
                .split([',', '(', ')'])
                .map(str::trim)
                .filter(|word| !word.is_empty())
                .collect();
            let (files, names): (Vec<&str>, Vec<&str>) =
                words.into_iter().partition(|word| word.ends_with(".rs"));
            assert!(!files.is_empty(), "{}: names no file", assumption.lives_in);
            let mut sources = String::new();
            for file in files {
                let path = match file.starts_with("host/") {
                    true => repo.join(file),
                    false => repo.join("sim/src").join(file),
                };
                sources.push_str(
                    &std::fs::read_to_string(&path)
                        .unwrap_or_else(|e| panic!("{}: {} ({e})", assumption.lives_in, path.display())),
                );
            }
            let declared = |name: &str| {
                ["const", "struct", "enum", "fn", "impl"]
                    .iter()
                    .any(|what| sources.contains(&format!("{what} {name}")))
            };
            for name in names {
                // `Type::member`: the type declared there, and the member in it.
                let holds = match name.split_once("::") {
                    Some((owner, member)) => declared(owner) && sources.contains(member),
                    None => declared(name),
                };
                assert!(holds, "{}: {name} is not declared in its files", assumption.lives_in);
            }
            assert!(!(assumption.what)().is_empty());
        }
    }

    #[test]
    fn an_empty_cluster_relies_on_nothing_and_each_feature_on_its_own() {
        assert!(names("name = \"x\"\nduration = \"1h\"\n").is_empty());
        let certificates = names(
            "name = \"x\"\nduration = \"1h\"\n[cluster]\nimp = { subscribers = 1 }\n[[step]]\nat = \"10m\"\n\
             action = \"regenerate-certificate\"\nnode = \"imp-sub-1\"\ncertificate = \"ipsec\"\n[[step]]\n\
             at = \"20m\"\naction = \"restart-service\"\nnode = \"imp-sub-1\"\nservice = \"drf-local\"\n",
        );
        assert_eq!(
            certificates,
            [
                "IDENTITY_VALIDITY (certs/certificate.rs)",
                "node/ipsec_trust.rs",
                "IMP_SERVICE_RESTART (certs/service.rs)"
            ]
        );
        let refreshing = names(
            "name = \"x\"\nduration = \"1h\"\n[params]\nrefresh_login_flow = true\n[[clients]]\nkind = \"jabber\"\ncount = 1\n",
        );
        assert!(refreshing.contains(&"node/subscriber/mod.rs"), "{refreshing:?}");
        let implicit = names(
            "name = \"x\"\nduration = \"1h\"\n[cluster]\nsso = true\n[[clients]]\nkind = \"jabber\"\ncount = 1\n",
        );
        assert!(
            !implicit.contains(&"node/subscriber/mod.rs")
                && implicit.contains(&"proto/authz.rs, node/authz/proxy.rs")
        );
    }
}
