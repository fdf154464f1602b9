//! What every node's Certificate Management and Control Center do to its certificates, the
//! same on the CallManager publisher, a subscriber and an IM and Presence node: regenerate an
//! identity certificate (recorded as `certificate-regenerated`), delete a trust certificate,
//! stop and start a service, and say which certificates a restarted service now presents.

use std::cell::RefCell;

use crate::certs::service::NodeRole;
use crate::certs::{CertStore, Certificate, CertificateName, Identity, Service};
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

/// Certificate Management's Delete on a node of `role`: the deletion, or why the node
/// refused it. A deleted trust certificate names the node's services that keep its store
/// in memory (they must restart for it to take effect).
pub fn delete(certs: &RefCell<CertStore>, name: &CertificateName, role: NodeRole, now_s: u64) -> Happening {
    let outcome = certs.borrow_mut().delete(name);
    match (outcome, name) {
        (Ok(deleted), CertificateName::Trust { store, .. }) => Happening::CertificateDeleted {
            certificate: name.to_string(),
            serial: deleted.serial.clone(),
            expired: deleted.expired(now_s),
            restart: restarts(*store, role),
        },
        (Ok(_), CertificateName::Identity(_) | CertificateName::PhoneEdgeTrust { .. }) => {
            unreachable!(
                "a node's store deletes neither identity certificates nor the cluster's phone-edge-trust"
            )
        }
        (Err(refused), _) => {
            Happening::CertificateDeleteRefused { certificate: name.to_string(), reason: refused.reason() }
        }
    }
}

/// Certificate Management's Upload to a trust store of a node of `role`: recorded with the
/// services that must restart to read it.
pub fn uploaded(store: Identity, certificate: &Certificate, role: NodeRole) -> Happening {
    Happening::CertificateUploaded {
        certificate: format!("{}/{}.pem", store.trust_store(), certificate.host),
        serial: certificate.serial.clone(),
        restart: restarts(store, role),
    }
}

/// An upload to the cluster's phone-edge-trust: phones read it at their next token request,
/// so no service restarts.
pub fn uploaded_to_phone_edge_trust(certificate: &Certificate) -> Happening {
    Happening::CertificateUploaded {
        certificate: format!("{}/{}.pem", crate::certs::phone_edge_trust::PHONE_EDGE_TRUST, certificate.host),
        serial: certificate.serial.clone(),
        restart: String::new(),
    }
}

/// The services of a node of `role` that keep `store` in memory, by scenario name.
fn restarts(store: Identity, role: NodeRole) -> String {
    Service::keeping_trust_store(store, role)
        .iter()
        .map(|service| service.name())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Control Center's Stop and Start: the service unloads, or loads what is on disk.
pub fn stop_or_start(certs: &RefCell<CertStore>, service: Service, start: bool) -> Happening {
    let service_name = service.name().to_string();
    if start {
        certs.borrow_mut().load(service);
        Happening::ServiceStarted { service: service_name }
    } else {
        certs.borrow_mut().stop(service);
        Happening::ServiceStopped { service: service_name }
    }
}
