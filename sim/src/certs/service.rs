//! The services an administrator restarts, stops or starts on a node, and what each one
//! loads when it starts (docs/domain.md "IM and Presence certificates", "Signing and encryption
//! keys").

use std::fmt;
use std::time::Duration;

use crate::certs::identity::Identity;

/// A node service the scenario can restart (`restart-service`), stop or start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Service {
    /// Cisco Tomcat: the web services (AuthZ keys, `tomcat.pem`). On every CallManager and
    /// IM and Presence node.
    Tomcat,
    /// Cisco SIP Proxy (IM and Presence): presents `cup.pem`.
    SipProxy,
    /// Cisco Presence Engine (IM and Presence): presents `cup.pem`.
    PresenceEngine,
    /// Cisco XCP Router (IM and Presence): presents `cup-xmpp.pem` to Jabber and
    /// `cup-xmpp-s2s.pem` to federated servers.
    XcpRouter,
    /// Cisco XCP XMPP Federation Connection Manager: presents `cup-xmpp-s2s.pem`.
    XmppFederationConnectionManager,
    /// Cisco DRF Primary, on the IM and Presence publisher: presents `ipsec.pem` to the
    /// DRF Local agents.
    DrfPrimary,
    /// Cisco DRF Local: connects to DRF Primary when it starts, trusting IPSec-trust.
    DrfLocal,
    /// Cisco Certificate Expiry Monitor, on every node: stopped before expired trust
    /// certificates are deleted.
    CertificateExpiryMonitor,
    /// Cisco Intercluster Sync Agent (IM and Presence): stopped there before expired trust
    /// certificates are deleted.
    InterclusterSyncAgent,
    /// Cisco Certificate Change Notification (CallManager nodes): stopped there, with
    /// Certificate Expiry Monitor, before a trust certificate is deleted.
    CertificateChangeNotification,
    /// Cisco CallManager, on the CallManager subscribers where devices register: reads
    /// `ClusterSIPOAuthMode` and the SIP OAuth ports when it starts, and its OAuth ports
    /// present the `tomcat.pem` it loaded then (docs/domain.md "SIP OAuth mode").
    CallManager,
}

/// Where a service runs, and so which nodes a scenario may name for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunsOn {
    /// Every CallManager and IM and Presence node (Cisco Tomcat, Certificate Expiry Monitor).
    Everywhere,
    /// Every CallManager node, publisher and subscribers (Certificate Change Notification).
    CallManager,
    /// IM and Presence nodes only.
    Imp,
    /// CallManager subscribers only: here devices register on the subscribers, and the
    /// publisher runs no Cisco CallManager service (a common deployment; an assumption).
    CucmSubscribers,
    /// The CallManager publisher only: DRF Primary, whose `ipsec.pem` every other node's
    /// IPSec-trust must hold (the Korean certificate document).
    CucmPublisher,
}

/// What kind of node a question about services is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeRole {
    ImAndPresence,
    CucmPublisher,
    /// A CallManager subscriber; `sip`: devices register on it (`[cluster.sip]`), so Cisco
    /// CallManager runs there.
    CucmSubscriber {
        sip: bool,
    },
}

impl RunsOn {
    /// Whether a node of `role` runs the service.
    pub fn admits(self, role: NodeRole) -> bool {
        match self {
            RunsOn::Everywhere => true,
            RunsOn::CallManager => role != NodeRole::ImAndPresence,
            RunsOn::Imp => role == NodeRole::ImAndPresence,
            RunsOn::CucmSubscribers => role == NodeRole::CucmSubscriber { sip: true },
            RunsOn::CucmPublisher => role == NodeRole::CucmPublisher,
        }
    }
}

/// Assumption (the documents give no figure): how long an IM and Presence service other
/// than Tomcat takes to restart. Tomcat's is `node_keys::TOMCAT_RESTART`.
pub const IMP_SERVICE_RESTART: Duration = Duration::from_secs(20);

impl Service {
    pub const ALL: [Service; 11] = [
        Service::Tomcat,
        Service::SipProxy,
        Service::PresenceEngine,
        Service::XcpRouter,
        Service::XmppFederationConnectionManager,
        Service::DrfPrimary,
        Service::DrfLocal,
        Service::CertificateExpiryMonitor,
        Service::InterclusterSyncAgent,
        Service::CertificateChangeNotification,
        Service::CallManager,
    ];

    /// The name in scenario files and the trace.
    pub fn name(self) -> &'static str {
        match self {
            Service::Tomcat => "tomcat",
            Service::SipProxy => "sip-proxy",
            Service::PresenceEngine => "presence-engine",
            Service::XcpRouter => "xcp-router",
            Service::XmppFederationConnectionManager => "xmpp-federation-connection-manager",
            Service::DrfPrimary => "drf-primary",
            Service::DrfLocal => "drf-local",
            Service::CertificateExpiryMonitor => "certificate-expiry-monitor",
            Service::InterclusterSyncAgent => "intercluster-sync-agent",
            Service::CertificateChangeNotification => "certificate-change-notification",
            Service::CallManager => "callmanager",
        }
    }

    /// The name on Cisco Unified Serviceability's Control Center.
    pub fn display_name(self) -> &'static str {
        match self {
            Service::Tomcat => "Cisco Tomcat",
            Service::SipProxy => "Cisco SIP Proxy",
            Service::PresenceEngine => "Cisco Presence Engine",
            Service::XcpRouter => "Cisco XCP Router",
            Service::XmppFederationConnectionManager => "Cisco XCP XMPP Federation Connection Manager",
            Service::DrfPrimary => "Cisco DRF Primary",
            Service::DrfLocal => "Cisco DRF Local",
            Service::CertificateExpiryMonitor => "Cisco Certificate Expiry Monitor",
            Service::InterclusterSyncAgent => "Cisco Intercluster Sync Agent",
            Service::CertificateChangeNotification => "Cisco Certificate Change Notification",
            Service::CallManager => "Cisco CallManager",
        }
    }

    pub fn from_name(name: &str) -> Option<Service> {
        Service::ALL.into_iter().find(|service| service.name() == name)
    }

    /// The services to restart once `identity` is regenerated on every node, in the
    /// documented order (each on the publisher first, then on each subscriber). DRF Primary
    /// runs on the publisher only.
    pub fn restarted_after(identity: Identity) -> &'static [Service] {
        match identity {
            Identity::Cup => &[Service::SipProxy, Service::PresenceEngine],
            Identity::CupXmpp => &[Service::XcpRouter],
            Identity::CupXmppS2s => &[Service::XcpRouter, Service::XmppFederationConnectionManager],
            Identity::Ipsec => &[Service::DrfPrimary, Service::DrfLocal],
            Identity::Tomcat => &[Service::Tomcat],
        }
    }

    /// The trust stores the service reads when it starts and keeps in memory until it
    /// restarts, so a deletion in one of them takes effect for the service only then. The
    /// Korean certificate document's list of what to restart after a deletion (CUP-trust:
    /// SIP Proxy and Presence Engine; CUP-XMPP-trust: XCP Router; CUP-XMPP-S2S-trust: XCP
    /// Router and XMPP Federation Connection Manager; IPSec-trust: "DRF Source" (DRF
    /// Primary) and DRF Local; Tomcat-trust: Tomcat), and Cisco CallManager for Tomcat-trust,
    /// which the French SIP OAuth guide says checks Expressway-C's certificate on the MRA
    /// port against (assumption: it reads it when it starts, as it reads `tomcat.pem`).
    pub fn reads_trust(self) -> &'static [Identity] {
        match self {
            Service::SipProxy | Service::PresenceEngine => &[Identity::Cup],
            Service::XcpRouter => &[Identity::CupXmpp, Identity::CupXmppS2s],
            Service::XmppFederationConnectionManager => &[Identity::CupXmppS2s],
            Service::DrfPrimary | Service::DrfLocal => &[Identity::Ipsec],
            Service::Tomcat | Service::CallManager => &[Identity::Tomcat],
            Service::CertificateExpiryMonitor
            | Service::InterclusterSyncAgent
            | Service::CertificateChangeNotification => &[],
        }
    }

    /// The services of a node of `role` that keep `store` in memory: those to restart after
    /// a certificate was deleted from it or uploaded to it.
    pub fn keeping_trust_store(store: Identity, role: NodeRole) -> Vec<Service> {
        Service::ALL
            .into_iter()
            .filter(|service| service.runs_on().admits(role) && service.reads_trust().contains(&store))
            .collect()
    }

    /// The services the documents stop on a node of `role` before a trust certificate is
    /// deleted there: Certificate Expiry Monitor everywhere, with Intercluster Sync Agent on
    /// IM and Presence nodes and Certificate Change Notification on CallManager nodes.
    pub fn trust_watchers(role: NodeRole) -> &'static [Service] {
        match role {
            NodeRole::ImAndPresence => &[Service::CertificateExpiryMonitor, Service::InterclusterSyncAgent],
            NodeRole::CucmPublisher | NodeRole::CucmSubscriber { .. } => {
                &[Service::CertificateExpiryMonitor, Service::CertificateChangeNotification]
            }
        }
    }

    /// Whether an administrator stops and starts it on Control Center (`stop-service`,
    /// `start-service`); Tomcat and CallManager are restarted from the CLI instead.
    pub fn stoppable(self) -> bool {
        !matches!(self, Service::Tomcat | Service::CallManager)
    }

    /// The identity certificates the service reads when it starts and presents until it
    /// restarts (a regenerated certificate is on disk at once, in use only after a restart).
    pub fn loads(self) -> &'static [Identity] {
        match self {
            Service::Tomcat | Service::CallManager => &[Identity::Tomcat],
            Service::SipProxy | Service::PresenceEngine => &[Identity::Cup],
            Service::XcpRouter => &[Identity::CupXmpp, Identity::CupXmppS2s],
            Service::XmppFederationConnectionManager => &[Identity::CupXmppS2s],
            Service::DrfPrimary | Service::DrfLocal => &[Identity::Ipsec],
            Service::CertificateExpiryMonitor
            | Service::InterclusterSyncAgent
            | Service::CertificateChangeNotification => &[],
        }
    }

    /// Which nodes run it.
    pub fn runs_on(self) -> RunsOn {
        match self {
            Service::Tomcat | Service::CertificateExpiryMonitor => RunsOn::Everywhere,
            Service::CertificateChangeNotification => RunsOn::CallManager,
            Service::CallManager => RunsOn::CucmSubscribers,
            Service::DrfPrimary => RunsOn::CucmPublisher,
            _ => RunsOn::Imp,
        }
    }

    /// Whether restarting it interrupts IM and Presence for users, which the Presence
    /// Redundancy Group notices (turn High Availability off first, the documents say).
    pub fn serves_users(self) -> bool {
        matches!(self, Service::SipProxy | Service::PresenceEngine | Service::XcpRouter)
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for service in Service::ALL {
            assert_eq!(Service::from_name(service.name()), Some(service));
        }
        assert_eq!(Service::from_name("Cisco Tomcat"), None);
    }

    /// The Korean document's restarts after a trust deletion, on the nodes that run them,
    /// and CallManager's for Tomcat-trust on a subscriber where devices register.
    #[test]
    fn a_trust_deletion_names_the_node_s_own_services_to_restart() {
        let restarts = |store, role| Service::keeping_trust_store(store, role);
        assert_eq!(restarts(Identity::Tomcat, NodeRole::ImAndPresence), [Service::Tomcat]);
        assert_eq!(restarts(Identity::Tomcat, NodeRole::CucmPublisher), [Service::Tomcat]);
        assert_eq!(restarts(Identity::Tomcat, NodeRole::CucmSubscriber { sip: false }), [Service::Tomcat]);
        assert_eq!(
            restarts(Identity::Tomcat, NodeRole::CucmSubscriber { sip: true }),
            [Service::Tomcat, Service::CallManager]
        );
        assert_eq!(restarts(Identity::Ipsec, NodeRole::CucmPublisher), [Service::DrfPrimary]);
        assert_eq!(restarts(Identity::Ipsec, NodeRole::ImAndPresence), [Service::DrfLocal]);
        assert_eq!(
            restarts(Identity::Cup, NodeRole::ImAndPresence),
            [Service::SipProxy, Service::PresenceEngine]
        );
        assert_eq!(
            restarts(Identity::CupXmppS2s, NodeRole::ImAndPresence),
            [Service::XcpRouter, Service::XmppFederationConnectionManager]
        );
        assert!(restarts(Identity::Cup, NodeRole::CucmPublisher).is_empty());
    }

    /// Every dependent service presents (loads) the certificate it is restarted for.
    #[test]
    fn each_dependent_service_loads_its_certificate() {
        for identity in Identity::ALL {
            for service in Service::restarted_after(identity) {
                assert!(service.loads().contains(&identity), "{service} for {identity}");
            }
        }
    }
}
