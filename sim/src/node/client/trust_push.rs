//! The administrator's push of the servers' current certificates into the Jabber devices'
//! trust stores (group policy, MDM, e-mail): once at set-up, and again at each
//! `push-client-trust` step. What the devices trust decides whether a regenerated
//! certificate breaks their logins. A self-signed certificate is pushed itself; for a
//! CA-signed one, its CA's certificate (the documents: push the root and intermediate
//! certificates).

use std::cell::RefCell;
use std::rc::Rc;

use crate::certs::device_trust::CLIENT_CHECKED;
use crate::certs::store::tomcat_anchors;
use crate::certs::DeviceTrust;
use crate::node::imp::ImpNode;
use crate::node::subscriber::tftp::ClusterCerts;
use crate::trace::Happening;

/// Where the push reads the certificates from, and the trust it fills.
pub struct TrustPush {
    pub device_trust: DeviceTrust,
    /// The IM and Presence nodes: their `cup-xmpp.pem` and `tomcat.pem`.
    pub imp: Vec<Rc<RefCell<ImpNode>>>,
    /// The CallManager subscribers' certificate stores: their `tomcat.pem` (UDS, SIP OAuth).
    pub cucm_certs: ClusterCerts,
}

impl TrustPush {
    /// The devices trust what was pushed at set-up (assumption in `certs::device_trust`).
    pub fn at_set_up(imp: Vec<Rc<RefCell<ImpNode>>>, cucm_certs: ClusterCerts) -> TrustPush {
        let trust_push = TrustPush { device_trust: DeviceTrust::default(), imp, cucm_certs };
        trust_push.push();
        trust_push
    }

    /// Pushes the certificates as the nodes hold them now; the event says how many
    /// certificates the devices trust afterwards.
    pub fn push(&self) -> Happening {
        let mut trusted = 0;
        for node in &self.imp {
            let certs = node.borrow().certs();
            let certs = certs.borrow();
            trusted =
                self.device_trust.push(CLIENT_CHECKED.map(|identity| certs.identity(identity).anchor()));
        }
        if !self.cucm_certs.is_empty() {
            trusted = self.device_trust.push(&tomcat_anchors(&self.cucm_certs));
        }
        Happening::ClientTrustPushed { certificates: trusted }
    }
}
