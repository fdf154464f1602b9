//! The cluster's phone-edge-trust: the roots a phone checks Cisco Tomcat's certificate
//! against when it gets its tokens (docs/domain.md "Phone-edge-trust").
//!
//! The Korean SIP OAuth guide's first step uploads "the root certificate of the Tomcat
//! signer" there, for phones only (Jabber trusts what its administrator pushed). authzlab's
//! Tomcat certificates are self-signed, so each is its own root: the store holds the
//! `tomcat.pem` of each CallManager node whose Tomcat a phone asks for tokens (the
//! publisher, and its home subscriber for refreshes).
//!
//! Assumptions: one store for the cluster (an upload on any CallManager node reaches every
//! node, as Certificate Management replicates trust uploads); phones read it from TFTP at
//! each token request, as they read the Identity Trust List at each registration; a run's
//! cluster starts with the step done unless `[cluster.sip] phone_edge_trust = false`.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use crate::certs::certificate::Certificate;

/// The store's name on the Certificate Management page and in `<store>/<host>.pem`.
pub const PHONE_EDGE_TRUST: &str = "phone-edge-trust";

/// The cluster's one phone-edge-trust, by host (an upload replaces that host's certificate;
/// hosts are the cluster's CallManager nodes, so the store is bounded by the cluster).
#[derive(Clone, Default)]
pub struct PhoneEdgeTrust(Rc<RefCell<BTreeMap<String, Certificate>>>);

impl PhoneEdgeTrust {
    /// Uploads `certificate` as `phone-edge-trust/<host>.pem`.
    pub fn upload(&self, certificate: Certificate) {
        self.0.borrow_mut().insert(certificate.host.clone(), certificate);
    }

    /// Every certificate it holds, by host.
    pub fn certificates(&self) -> Vec<Certificate> {
        self.0.borrow().values().cloned().collect()
    }
}
