//! What every node's Certificate Management and Control Center do to its certificates, the
//! same on the CallManager publisher, a subscriber and an IM and Presence node: regenerate an
//! identity certificate (recorded as `certificate-regenerated`), and say which certificates a
//! restarted service now presents.

use std::cell::RefCell;

use crate::certs::{CertStore, Certificate, Identity};
use crate::trace::{Happening, Tracer};

/// A new `identity` certificate on disk (the running services keep presenting the old one
/// until they restart), recorded with the serial it replaces. Issuing fails only for a host
/// name that is no DNS name, which no scenario makes; that is recorded as
/// `trust-sync-failed` (nothing changed on the node) and gives `None`.
pub fn regenerate(
    certs: &RefCell<CertStore>,
    identity: Identity,
    tracer: &Tracer,
    now_s: u64,
) -> Option<Certificate> {
    let previous = certs.borrow().identity(identity).serial.clone();
    let regenerated = certs.borrow_mut().regenerate(identity, now_s).cloned();
    let new = match regenerated {
        Ok(new) => new,
        Err(reason) => {
            let (store, from) = (identity.trust_store(), tracer.node().to_string());
            tracer.emit(Happening::TrustSyncFailed { store, from, reason });
            return None;
        }
    };
    tracer.emit(Happening::CertificateRegenerated {
        certificate: identity.file(),
        serial: new.serial.clone(),
        previous,
        fingerprint: new.short_fingerprint(),
    });
    Some(new)
}

/// `file=serial` of each certificate a service loaded, or nothing for a service that loads none.
pub fn presents(loaded: &[&Certificate]) -> Option<String> {
    let text: Vec<String> = loaded
        .iter()
        .map(|certificate| format!("{}={}", certificate.identity.file(), certificate.serial))
        .collect();
    (!text.is_empty()).then(|| text.join(" "))
}
