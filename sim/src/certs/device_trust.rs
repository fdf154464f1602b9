//! The certificates Jabber devices trust. The documents: a self-signed `cup-xmpp.pem` or
//! `tomcat.pem` that is not in the device's trust store makes Jabber show an
//! untrusted-certificate pop-up; the administrator pushes certificates to the devices by
//! group policy, MDM or e-mail. Identity certificates here are self-signed, so a device
//! trusts exactly what was pushed to it.
//!
//! Assumption: at the start every device trusts every IM and Presence node's
//! `cup-xmpp.pem` and `tomcat.pem` and every CallManager subscriber's `tomcat.pem` (they were
//! pushed when the cluster was set up), and one push reaches every device at once.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use crate::certs::certificate::Certificate;
use crate::certs::identity::Identity;

/// The identity certificates Jabber checks.
pub const CLIENT_CHECKED: [Identity; 2] = [Identity::CupXmpp, Identity::Tomcat];

/// The certificates the devices trust, by fingerprint, shared by every device of the run.
#[derive(Clone, Default, Debug)]
pub struct DeviceTrust(Rc<RefCell<BTreeMap<String, Certificate>>>);

impl DeviceTrust {
    /// Adds certificates (devices keep what they trusted before); returns how many they trust now.
    pub fn push<'a>(&self, certificates: impl IntoIterator<Item = &'a Certificate>) -> u32 {
        let mut trusted = self.0.borrow_mut();
        for certificate in certificates {
            trusted.insert(certificate.fingerprint.clone(), certificate.clone());
        }
        u32::try_from(trusted.len()).unwrap_or(u32::MAX)
    }

    /// Whether the device trusts `certificate` itself or, for a CA-signed one, its CA.
    pub fn trusts(&self, certificate: &Certificate) -> bool {
        let trusted = self.0.borrow();
        trusted.contains_key(&certificate.fingerprint)
            || trusted.contains_key(&certificate.anchor().fingerprint)
    }

    /// Every trusted certificate, as TLS trust anchors (Jabber's SIP OAuth connection).
    pub fn roots(&self) -> Vec<Certificate> {
        self.0.borrow().values().cloned().collect()
    }
}
