//! SIP registration and the edge as the run finds them: the cluster database with the
//! scenario's mode and ports, each subscriber's `tomcat.pem` and Tomcat-trust, the CA that
//! signs Expressway-C's certificate in every Tomcat-trust when the scenario says so, and
//! the activation codes the administrator gave the phones that onboard by code.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;
use std::rc::Rc;

use authzlab_host::Plugin;
use rand_core::RngCore;

use crate::certs::authority::Authority;
use crate::certs::{CertStore, PhoneEdgeTrust};
use crate::cluster::RunError;
use crate::cluster_database::{ClusterDatabase, SipPorts};
use crate::node::authz::node_keys::NodeKeys;
use crate::node::proxy_tftp::ProxyTftp;
use crate::node::publisher::sip_admin::{PhoneEnrollment, SipAdmin};
use crate::node::subscriber::callmanager::CallManager;
use crate::node::subscriber::tftp::ClusterCerts;
use crate::node::subscriber::SubscriberSip;
use crate::node_id::NodeId;
use crate::scenario::{ClientKind, Device, DeviceTokens, Scenario, SipCluster, Site};
use crate::seeds::Seeds;
use crate::trace::Trace;

/// Every CallManager node's certificates, as the run installed them, and the enterprise CA.
#[derive(Clone, Copy)]
pub struct CallManagerCerts<'a> {
    pub publisher: &'a Rc<RefCell<CertStore>>,
    pub subscribers: &'a [Rc<RefCell<CertStore>>],
    pub authority: &'a Rc<Authority>,
}

/// The SIP pieces of one run.
pub struct SipSetUp {
    pub database: Rc<ClusterDatabase>,
    pub cluster_certs: ClusterCerts,
    pub authority: Rc<Authority>,
    pub validator: String,
    device_tokens: DeviceTokens,
    release: crate::release::Release,
    /// The cluster's phone-edge-trust, and the publisher's certificates (an upload's source).
    phone_edge: PhoneEdgeTrust,
    publisher_certs: Rc<RefCell<CertStore>>,
    /// Device → (user, activation code), for every phone.
    phones: BTreeMap<String, PhoneEnrollment>,
    /// The phones' proxy TFTP, when they have one.
    proxy_tftp: Option<crate::scenario::ProxyTftp>,
}

impl SipSetUp {
    pub fn new(
        scenario: &Scenario,
        sip: &SipCluster,
        seeds: &Seeds,
        devices: &[Device],
        certs: CallManagerCerts<'_>,
        disk: &Path,
        trace: &Trace,
    ) -> Result<SipSetUp, RunError> {
        let CallManagerCerts { publisher: publisher_certs, subscribers: subscriber_certs, authority } = certs;
        let ports = SipPorts { phone: sip.phone_oauth_port, mra: sip.mra_oauth_port };
        let subscribers = scenario.cluster.cucm_subscriber_nodes();
        let database = ClusterDatabase::open(&disk.join("ccm.sqlite"), sip.oauth, &subscribers, ports)
            .map_err(RunError::Simulation)?;
        // Tomcat-trust is the cluster's: every subscriber's tomcat.pem, and Expressway-C's CA
        // when the administrator put it there.
        let tomcats: Vec<_> = subscriber_certs
            .iter()
            .map(|store| store.borrow().identity(crate::certs::Identity::Tomcat).clone())
            .collect();
        let ca_trusted = scenario.cluster.expressway.as_ref().is_some_and(|edge| edge.ca_in_tomcat_trust);
        for store in subscriber_certs {
            let mut store = store.borrow_mut();
            for tomcat in &tomcats {
                store.trust_certificate(tomcat.clone());
            }
            if ca_trusted {
                store.trust_certificate(authority.certificate.clone());
            }
        }
        let cluster_certs: ClusterCerts = Rc::new(subscriber_certs.to_vec());
        let phone_edge = PhoneEdgeTrust::default();
        if sip.phone_edge_trust {
            for certs in std::iter::once(publisher_certs).chain(subscriber_certs) {
                phone_edge.upload(certs.borrow().identity(crate::certs::Identity::Tomcat).clone());
            }
        }
        // Phones onboard by code when the cluster requires it, and always over MRA.
        let mut codes = seeds.rng("activation-codes");
        let phones = devices
            .iter()
            .filter(|device| device.kind == ClientKind::Phone)
            .map(|device| {
                let by_code = sip.device_tokens == DeviceTokens::Explicit || device.site == Site::Remote;
                let activation_code = by_code.then(|| {
                    let mut bytes = [0u8; 8];
                    codes.fill_bytes(&mut bytes);
                    let code = hex::encode_upper(bytes);
                    trace.learn_token(&code);
                    code
                });
                let phone = PhoneEnrollment {
                    user: device.user.clone(),
                    model: device.model.clone(),
                    reset: Rc::new(tokio::sync::Notify::new()),
                    activation_code,
                };
                (device.name.clone(), phone)
            })
            .collect::<BTreeMap<String, PhoneEnrollment>>();
        // Each phone starts with the profile saved at installation, as if reset after it.
        if !scenario.cluster.release.has_phone_oauth() {
            let profile = crate::phone_security::SecurityProfile {
                phone: crate::phone_security::PhoneSecurity::BEFORE_PHONE_OAUTH,
                ..crate::phone_security::SecurityProfile::default()
            };
            database.set_security_profile(profile).map_err(RunError::Simulation)?;
        }
        for name in phones.keys() {
            database.apply_profile(name).map_err(RunError::Simulation)?;
        }
        Ok(SipSetUp {
            database: Rc::new(database),
            cluster_certs,
            authority: authority.clone(),
            validator: sip.validator.clone(),
            device_tokens: sip.device_tokens,
            release: scenario.cluster.release,
            phone_edge,
            publisher_certs: publisher_certs.clone(),
            phones,
            proxy_tftp: sip.proxy_tftp,
        })
    }

    /// The phones' proxy TFTP, when they have one: it proxies the first subscriber's TFTP,
    /// and its phone-edge-trust starts with every CallManager node's Tomcat root when the
    /// scenario has them copied.
    pub fn proxy_tftp(&self, tracer: crate::trace::Tracer) -> Option<ProxyTftp> {
        let copied = self.proxy_tftp?.roots_copied;
        let proxy = ProxyTftp {
            remote: NodeId::cucm_subscriber(1),
            phone_edge: PhoneEdgeTrust::default(),
            publisher_certs: self.publisher_certs.clone(),
            cluster: self.cluster_certs.clone(),
            tracer,
        };
        if copied {
            for certs in std::iter::once(&self.publisher_certs).chain(self.cluster_certs.iter()) {
                proxy
                    .phone_edge
                    .upload(certs.borrow().identity(crate::certs::Identity::Tomcat).anchor().clone());
            }
        }
        Some(proxy)
    }

    /// The publisher's part.
    pub fn admin(&self, subscribers: &[NodeId]) -> SipAdmin {
        SipAdmin::new(
            self.database.clone(),
            subscribers.to_vec(),
            self.device_tokens,
            self.release,
            self.phones.clone(),
        )
    }

    /// Subscriber number `index`'s part.
    pub fn subscriber(
        &self,
        index: usize,
        keys: Rc<RefCell<NodeKeys>>,
        plugin: Plugin,
        shadow: Option<crate::conformance::shadow::Shadow>,
        epoch_s: u64,
        tracer: crate::trace::Tracer,
    ) -> SubscriberSip {
        let certs = self.cluster_certs[index].clone();
        let callmanager =
            CallManager::new(self.database.clone(), certs, keys, plugin, epoch_s, tracer).with_shadow(shadow);
        SubscriberSip {
            callmanager: Rc::new(RefCell::new(callmanager)),
            cluster: self.cluster_certs.clone(),
            database: self.database.clone(),
            edge_ca: self.authority.certificate.clone(),
            phone_edge: self.phone_edge.clone(),
            publisher_certs: self.publisher_certs.clone(),
        }
    }

    /// What wakes phone `device` when the administrator resets it.
    pub fn reset_signal(&self, device: &str) -> Option<Rc<tokio::sync::Notify>> {
        self.phones.get(device).map(|phone| phone.reset.clone())
    }

    /// The activation code a device was given, if it onboards by code.
    pub fn activation_code(&self, device: &str) -> Option<String> {
        self.phones.get(device).and_then(|phone| phone.activation_code.clone())
    }
}
