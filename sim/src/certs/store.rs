//! One IM and Presence node's certificates: its five identity certificates on disk, its
//! trust stores, and the certificates each running service loaded when it started.

use std::collections::{BTreeMap, BTreeSet};

use rand_chacha::ChaCha20Rng;

use crate::certs::certificate::{Certificate, Draw, IDENTITY_VALIDITY};
use crate::certs::identity::Identity;
use crate::certs::phone_edge_trust::PHONE_EDGE_TRUST;
use crate::certs::service::{NodeRole, Service};

/// What a certificate step names: an identity certificate (`cup.pem`), one certificate of
/// a node's trust store (`tomcat-trust/imp-sub-1.pem`), or one of the cluster's
/// phone-edge-trust (`phone-edge-trust/cucm-pub.pem`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertificateName {
    Identity(Identity),
    Trust { store: Identity, host: String },
    PhoneEdgeTrust { host: String },
}

impl CertificateName {
    /// Reads `cup.pem`, `<identity>-trust/<host>.pem` or `phone-edge-trust/<host>.pem`.
    pub fn parse(text: &str) -> Result<CertificateName, String> {
        if let Some((store, file)) = text.split_once('/') {
            let host = file
                .strip_suffix(".pem")
                .filter(|host| !host.is_empty())
                .ok_or_else(|| format!("{file:?} is not a certificate file (<host>.pem)"))?
                .to_string();
            if store == PHONE_EDGE_TRUST {
                return Ok(CertificateName::PhoneEdgeTrust { host });
            }
            let store = Identity::from_trust_store(store).ok_or_else(|| {
                format!("{store:?} is not a trust store (cup-trust, cup-xmpp-trust, cup-xmpp-s2s-trust, ipsec-trust, tomcat-trust, {PHONE_EDGE_TRUST})")
            })?;
            return Ok(CertificateName::Trust { store, host });
        }
        Identity::from_name(text).map(CertificateName::Identity).ok_or_else(|| {
            format!(
                "{text:?} is neither an identity certificate (cup.pem, cup-xmpp.pem, cup-xmpp-s2s.pem, ipsec.pem, tomcat.pem) nor <store>-trust/<host>.pem"
            )
        })
    }
}

impl std::fmt::Display for CertificateName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CertificateName::Identity(identity) => f.write_str(&identity.file()),
            CertificateName::Trust { store, host } => write!(f, "{}/{host}.pem", store.trust_store()),
            CertificateName::PhoneEdgeTrust { host } => write!(f, "{PHONE_EDGE_TRUST}/{host}.pem"),
        }
    }
}

/// Why a deletion was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refused {
    /// The five identity certificates are never deleted (the documents).
    IdentityCertificate,
    /// Assumption (the documents only say to stop them first): a trust certificate is
    /// deleted only while the services that watch the trust stores are stopped on the node
    /// (Cisco Certificate Expiry Monitor, and Cisco Intercluster Sync Agent on IM and
    /// Presence nodes or Cisco Certificate Change Notification on CallManager nodes), since
    /// they would put it back.
    ServicesRunning(Vec<Service>),
    /// The store holds no such certificate.
    NotFound,
}

impl Refused {
    pub fn reason(&self) -> String {
        match self {
            Refused::IdentityCertificate => "identity certificates are never deleted".to_string(),
            Refused::ServicesRunning(services) => format!(
                "stop {} first",
                services.iter().map(|service| service.display_name()).collect::<Vec<_>>().join(" and ")
            ),
            Refused::NotFound => "no such certificate".to_string(),
        }
    }
}

/// How long before the run a retired node's certificates expired: a day.
const RETIRED_EXPIRED_FOR_S: u64 = 86_400;

/// The host name of the retired node whose expired certificates `[cluster.imp] expired_trust`
/// leaves in the trust stores.
pub const RETIRED_HOST: &str = "imp-retired";

/// A node's certificates and which ones its services use.
pub struct CertStore {
    host: String,
    identities: BTreeMap<Identity, Certificate>,
    trust: BTreeMap<Identity, BTreeMap<String, Certificate>>,
    /// The certificates each service loaded when it last started.
    loaded: BTreeMap<Service, BTreeMap<Identity, Certificate>>,
    stopped: BTreeSet<Service>,
    /// The services that must be stopped before a trust certificate is deleted here.
    watchers: &'static [Service],
    draws: ChaCha20Rng,
}

impl CertStore {
    /// The node's five identity certificates, issued at `now_s`, each trusted by the node
    /// itself and loaded by every service. `draws` is the node's own seeded stream.
    pub fn new(host: &str, draws: ChaCha20Rng, now_s: u64) -> Result<CertStore, String> {
        CertStore::with_identities(host, &Identity::ALL, NodeRole::ImAndPresence, draws, now_s)
    }

    /// A CallManager node's certificates as far as the token story needs them: `tomcat.pem`
    /// (which the SIP OAuth ports present) and `ipsec.pem` (DRF), with their trust stores.
    /// Tomcat first: its draw stays what it was before CallManager nodes held `ipsec.pem`.
    pub fn callmanager(host: &str, draws: ChaCha20Rng, now_s: u64) -> Result<CertStore, String> {
        // Publisher and subscribers stop the same services before a trust deletion.
        let role = NodeRole::CucmPublisher;
        CertStore::with_identities(host, &[Identity::Tomcat, Identity::Ipsec], role, draws, now_s)
    }

    fn with_identities(
        host: &str,
        held: &[Identity],
        role: NodeRole,
        mut draws: ChaCha20Rng,
        now_s: u64,
    ) -> Result<CertStore, String> {
        let mut identities = BTreeMap::new();
        for &identity in held {
            identities.insert(
                identity,
                Certificate::issue(identity, host, &Draw::from_stream(&mut draws), now_s, IDENTITY_VALIDITY)?,
            );
        }
        let mut store = CertStore {
            host: host.to_string(),
            identities,
            trust: BTreeMap::new(),
            loaded: BTreeMap::new(),
            stopped: BTreeSet::new(),
            watchers: Service::trust_watchers(role),
            draws,
        };
        for identity in held {
            let own = store.identities[identity].clone();
            store.trust_certificate(own);
        }
        for service in Service::ALL {
            store.load(service);
        }
        Ok(store)
    }

    /// The certificates of a node removed from the cluster long ago, expired a day before
    /// `now_s`, as they linger in trust stores. Drawn from `draws` (the same for every node).
    pub fn retired_node(host: &str, mut draws: ChaCha20Rng, now_s: u64) -> Result<Vec<Certificate>, String> {
        let not_before_s = now_s.saturating_sub(IDENTITY_VALIDITY.as_secs() + RETIRED_EXPIRED_FOR_S);
        Identity::ALL
            .into_iter()
            .map(|identity| {
                Certificate::issue(
                    identity,
                    host,
                    &Draw::from_stream(&mut draws),
                    not_before_s,
                    IDENTITY_VALIDITY,
                )
            })
            .collect()
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    /// The identity certificate on disk. Every node holds `tomcat.pem` and `ipsec.pem`; only
    /// IM and Presence nodes hold the other three, and only their code asks for them.
    pub fn identity(&self, identity: Identity) -> &Certificate {
        &self.identities[&identity]
    }

    /// A new identity certificate on disk (and in the node's own trust store); running
    /// services keep presenting the old one until they restart.
    pub fn regenerate(&mut self, identity: Identity, now_s: u64) -> Result<&Certificate, String> {
        let draw = Draw::from_stream(&mut self.draws);
        let certificate = Certificate::issue(identity, &self.host, &draw, now_s, IDENTITY_VALIDITY)?;
        self.trust_certificate(certificate.clone());
        self.identities.insert(identity, certificate);
        Ok(&self.identities[&identity])
    }

    /// A certificate made elsewhere (the CA-signed multi-SAN `tomcat.pem`) on disk as this
    /// node's identity certificate, its CA in the node's trust store; running services keep
    /// presenting the old one until they restart. Returns the one it replaces, if the node
    /// held one.
    pub fn install(&mut self, certificate: Certificate) -> Option<Certificate> {
        self.trust_certificate(certificate.anchor().clone());
        self.identities.insert(certificate.identity, certificate)
    }

    /// Puts `certificate` into its trust store as `<host>.pem`, replacing what was there.
    pub fn trust_certificate(&mut self, certificate: Certificate) {
        self.trust.entry(certificate.identity).or_default().insert(certificate.host.clone(), certificate);
    }

    /// The certificate the trust store holds for `host`.
    pub fn trusted(&self, store: Identity, host: &str) -> Option<&Certificate> {
        self.trust.get(&store).and_then(|certs| certs.get(host))
    }

    /// Every certificate of one trust store, by host.
    pub fn trust_store(&self, store: Identity) -> impl Iterator<Item = &Certificate> {
        self.trust.get(&store).into_iter().flat_map(|certs| certs.values())
    }

    /// What `service` presents for `identity` now: what it loaded, or nothing while stopped.
    pub fn presented(&self, service: Service, identity: Identity) -> Option<&Certificate> {
        if self.stopped.contains(&service) {
            return None;
        }
        self.loaded.get(&service).and_then(|loaded| loaded.get(&identity))
    }

    /// The service (re)starts and loads the identity certificates on disk.
    pub fn load(&mut self, service: Service) -> Vec<&Certificate> {
        self.stopped.remove(&service);
        let loaded: BTreeMap<Identity, Certificate> = service
            .loads()
            .iter()
            .filter_map(|identity| Some((*identity, self.identities.get(identity)?.clone())))
            .collect();
        self.loaded.insert(service, loaded);
        self.loaded[&service].values().collect()
    }

    pub fn stop(&mut self, service: Service) {
        self.stopped.insert(service);
    }

    pub fn running(&self, service: Service) -> bool {
        !self.stopped.contains(&service)
    }

    /// Deletes a trust certificate, if the node lets it.
    pub fn delete(&mut self, name: &CertificateName) -> Result<Certificate, Refused> {
        let (store, host) = match name {
            CertificateName::Identity(_) => return Err(Refused::IdentityCertificate),
            // The cluster's phone-edge-trust is not a node's store.
            CertificateName::PhoneEdgeTrust { .. } => return Err(Refused::NotFound),
            CertificateName::Trust { store, host } => (store, host),
        };
        let running: Vec<Service> =
            self.watchers.iter().copied().filter(|service| self.running(*service)).collect();
        if !running.is_empty() {
            return Err(Refused::ServicesRunning(running));
        }
        self.trust.get_mut(store).and_then(|certs| certs.remove(host)).ok_or(Refused::NotFound)
    }
}

/// What trusts the cluster's Tomcat takes from `stores`: each node's `tomcat.pem` as its
/// anchor (itself if self-signed, its CA once CA-signed), in the stores' order.
pub fn tomcat_anchors(stores: &[std::rc::Rc<std::cell::RefCell<CertStore>>]) -> Vec<Certificate> {
    stores.iter().map(|store| store.borrow().identity(Identity::Tomcat).anchor().clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seeds::Seeds;

    const AT: u64 = 1_767_571_200;

    fn store(host: &str) -> CertStore {
        CertStore::new(host, Seeds::new(5).rng(&format!("certs:{host}")), AT).unwrap()
    }

    /// The documents' rule, on disk versus in use: a regenerated certificate is on disk and
    /// in the node's own trust store at once; a service presents it only after it restarts.
    #[test]
    fn a_service_presents_the_new_certificate_only_after_it_restarts() {
        let mut node = store("imp-pub");
        let old = node.identity(Identity::Ipsec).clone();
        assert_eq!(node.presented(Service::DrfPrimary, Identity::Ipsec), Some(&old));
        let new = node.regenerate(Identity::Ipsec, AT + 60).unwrap().clone();
        assert_ne!(new.serial, old.serial);
        assert_eq!(node.trusted(Identity::Ipsec, "imp-pub"), Some(&new));
        assert_eq!(node.presented(Service::DrfPrimary, Identity::Ipsec), Some(&old), "still the loaded one");
        node.load(Service::DrfPrimary);
        assert_eq!(node.presented(Service::DrfPrimary, Identity::Ipsec), Some(&new));
        assert_eq!(
            node.presented(Service::XcpRouter, Identity::Ipsec),
            None,
            "XCP Router loads no ipsec.pem"
        );
        node.stop(Service::DrfPrimary);
        assert_eq!(node.presented(Service::DrfPrimary, Identity::Ipsec), None);
    }

    #[test]
    fn identity_certificates_are_never_deleted_and_trust_only_with_the_services_stopped() {
        let mut node = store("imp-sub-1");
        let peer = store("imp-pub");
        node.trust_certificate(peer.identity(Identity::Tomcat).clone());
        let identity = CertificateName::parse("tomcat.pem").unwrap();
        assert_eq!(node.delete(&identity), Err(Refused::IdentityCertificate));
        let trust = CertificateName::parse("tomcat-trust/imp-pub.pem").unwrap();
        assert_eq!(
            node.delete(&trust),
            Err(Refused::ServicesRunning(vec![
                Service::CertificateExpiryMonitor,
                Service::InterclusterSyncAgent
            ]))
        );
        node.stop(Service::CertificateExpiryMonitor);
        node.stop(Service::InterclusterSyncAgent);
        assert_eq!(node.delete(&trust).unwrap().host, "imp-pub");
        assert_eq!(node.delete(&trust), Err(Refused::NotFound));
        assert!(node.trusted(Identity::Tomcat, "imp-sub-1").is_some(), "its own stays");
    }

    /// The Korean document: on CallManager nodes, Certificate Expiry Monitor and Certificate
    /// Change Notification are stopped before a trust deletion (Intercluster Sync Agent is
    /// the IM and Presence nodes').
    #[test]
    fn a_callmanager_node_deletes_trust_only_with_its_own_watchers_stopped() {
        let mut node =
            CertStore::callmanager("cucm-sub-1", Seeds::new(5).rng("certs:cucm-sub-1"), AT).unwrap();
        let peer = store("imp-pub");
        node.trust_certificate(peer.identity(Identity::Tomcat).clone());
        let trust = CertificateName::parse("tomcat-trust/imp-pub.pem").unwrap();
        node.stop(Service::InterclusterSyncAgent);
        assert_eq!(
            node.delete(&trust),
            Err(Refused::ServicesRunning(vec![
                Service::CertificateExpiryMonitor,
                Service::CertificateChangeNotification
            ]))
        );
        node.stop(Service::CertificateExpiryMonitor);
        assert_eq!(
            node.delete(&trust).unwrap_err().reason(),
            "stop Cisco Certificate Change Notification first"
        );
        node.stop(Service::CertificateChangeNotification);
        assert_eq!(node.delete(&trust).unwrap().host, "imp-pub");
    }

    /// A CA-signed certificate installed from elsewhere: on disk at once with its CA in the
    /// node's trust store, presented only once the service restarts.
    #[test]
    fn an_installed_certificate_brings_its_ca_and_waits_for_a_restart() {
        use crate::certs::authority::Authority;
        let mut node =
            CertStore::callmanager("cucm-sub-1", Seeds::new(5).rng("certs:cucm-sub-1"), AT).unwrap();
        let draw = Draw { serial: [1; 8], key_seed: [2; 32] };
        let ca = Authority::new("Enterprise Root CA", &draw, AT - 86_400).unwrap();
        let signed = ca.issue("cucm-pub", &["cucm-sub-1".to_string()], &draw, AT, IDENTITY_VALIDITY).unwrap();
        let old = node.identity(Identity::Tomcat).clone();
        assert_eq!(node.install(signed.clone()), Some(old.clone()));
        assert_eq!(node.identity(Identity::Tomcat), &signed);
        assert_eq!(node.trusted(Identity::Tomcat, "Enterprise Root CA"), Some(&ca.certificate));
        assert_eq!(node.presented(Service::Tomcat, Identity::Tomcat), Some(&old), "until Tomcat restarts");
        node.load(Service::Tomcat);
        assert_eq!(node.presented(Service::Tomcat, Identity::Tomcat), Some(&signed));
    }

    #[test]
    fn certificate_names_parse_or_say_what_is_wrong() {
        assert_eq!(
            CertificateName::parse("ipsec-trust/imp-pub.pem").unwrap(),
            CertificateName::Trust { store: Identity::Ipsec, host: "imp-pub".to_string() }
        );
        assert_eq!(
            CertificateName::parse("cup-xmpp-s2s.pem").unwrap(),
            CertificateName::Identity(Identity::CupXmppS2s)
        );
        assert!(CertificateName::parse("ipsec-trust/").unwrap_err().contains("<host>.pem"));
        assert!(CertificateName::parse("authz-trust/x.pem").unwrap_err().contains("not a trust store"));
        assert!(CertificateName::parse("authz.pem").unwrap_err().contains("neither"));
        for name in ["cup.pem", "tomcat-trust/imp-sub-2.pem"] {
            assert_eq!(CertificateName::parse(name).unwrap().to_string(), name);
        }
    }

    #[test]
    fn a_retired_node_s_certificates_expired_before_the_run() {
        let retired =
            CertStore::retired_node(RETIRED_HOST, Seeds::new(5).rng("certs:imp-retired"), AT).unwrap();
        assert_eq!(retired.len(), 5);
        for certificate in &retired {
            assert!(certificate.expired(AT) && !certificate.expired(AT - 2 * 86_400), "{certificate:?}");
            assert_eq!(certificate.host, RETIRED_HOST);
        }
    }

    #[test]
    fn nodes_draw_different_certificates_and_the_same_seed_the_same() {
        assert_ne!(
            store("imp-pub").identity(Identity::Cup).serial,
            store("imp-sub-1").identity(Identity::Cup).serial
        );
        assert_eq!(store("imp-pub").identity(Identity::Cup), store("imp-pub").identity(Identity::Cup));
    }
}
