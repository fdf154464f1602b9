//! The CallManager publisher's `ipsec.pem` and the IPSec-trust of every other node, over the
//! network (the Korean certificate document): DRF Primary runs on the CallManager publisher
//! and presents its `ipsec.pem`; DRF Local on a node accepts it only if that node's
//! IPSec-trust holds the same certificate; the documented check compares the publisher's
//! serial with each subscriber's IPSec-trust.
//!
//! Assumption (the documents give the order, publisher first and then each subscriber, not
//! the mechanism behind it): a node takes the publisher's current `ipsec.pem` into its
//! IPSec-trust when its own `ipsec.pem` is regenerated; the publisher's regeneration reaches
//! no node by itself. So in the documented order every node ends up trusting the new one,
//! and a node regenerated before the publisher keeps the old serial.

use std::cell::RefCell;

use hyper::StatusCode;

use crate::certs::sync::{CertificateSet, WireCertificate, CERTS_PATH, DRF_PATH, DRF_PORT};
use crate::certs::{CertStore, Certificate, Identity};
use crate::node_id::NodeId;
use crate::proto::authz::HTTPS_PORT;
use crate::proto::http::{Call, HttpResponse};
use crate::trace::{Happening, Tracer};

/// The node whose `ipsec.pem` every other node must trust.
pub const IPSEC_SOURCE: NodeId = NodeId::PUBLISHER;

/// The publisher's answer to `GET CERTS_PATH/ipsec`: its own `ipsec.pem`, what a node
/// regenerating its own takes into its IPSec-trust. The path is ours (assumption).
pub fn serve_publisher_ipsec(certs: &CertStore, path: &str) -> HttpResponse {
    let wanted = path.strip_prefix(CERTS_PATH).and_then(|rest| rest.strip_prefix('/'));
    if wanted.and_then(Identity::from_name) != Some(Identity::Ipsec) {
        return HttpResponse::error(StatusCode::NOT_FOUND, "the CallManager publisher serves ipsec.pem only");
    }
    HttpResponse::json(StatusCode::OK, &CertificateSet::of([certs.identity(Identity::Ipsec)]))
}

/// DRF Primary's answer: the `ipsec.pem` it loaded, or that it is not running.
pub fn present_drf_primary(certs: &CertStore) -> HttpResponse {
    match certs.presented(crate::certs::Service::DrfPrimary, Identity::Ipsec) {
        Some(certificate) => HttpResponse::json(StatusCode::OK, &WireCertificate::of(certificate)),
        None => HttpResponse::error(StatusCode::SERVICE_UNAVAILABLE, "Cisco DRF Primary is not running"),
    }
}

/// After this node's own `ipsec.pem` was regenerated: the publisher's current one into its
/// IPSec-trust (the assumption above), recorded as `trust-synced` or `trust-sync-failed`.
pub async fn take_publisher_ipsec(certs: &RefCell<CertStore>, tracer: &Tracer) {
    let path = format!("{CERTS_PATH}/{}", Identity::Ipsec.name());
    let fetched = Call::get(&IPSEC_SOURCE, HTTPS_PORT, &path, tracer.node())
        .fetch::<CertificateSet>()
        .await
        .and_then(|set| set.read(Identity::Ipsec));
    let store = Identity::Ipsec.trust_store();
    let from = IPSEC_SOURCE.to_string();
    match fetched {
        Ok(certificates) => {
            let mut certs = certs.borrow_mut();
            for certificate in
                certificates.into_iter().filter(|certificate| certificate.host == IPSEC_SOURCE.as_str())
            {
                certs.trust_certificate(certificate);
            }
            let serials: Vec<String> = certs
                .trust_store(Identity::Ipsec)
                .map(|certificate| format!("{}={}", certificate.host, certificate.serial))
                .collect();
            tracer.emit(Happening::TrustSynced { store, from, serials: serials.join(" ") });
        }
        Err(reason) => tracer.emit(Happening::TrustSyncFailed { store, from, reason }),
    }
}

/// DRF Local opens its session with DRF Primary on the CallManager publisher and checks the
/// `ipsec.pem` it presents against this node's IPSec-trust.
pub async fn drf_session(certs: &RefCell<CertStore>, tracer: &Tracer) {
    let primary = IPSEC_SOURCE.to_string();
    let wire = Call::get(&IPSEC_SOURCE, DRF_PORT, DRF_PATH, tracer.node()).fetch::<WireCertificate>().await;
    let presented = match wire.and_then(|wire| wire.certificate()) {
        Ok(presented) => presented,
        Err(reason) => return tracer.emit(Happening::DrfConnectFailed { primary, reason }),
    };
    let trusted = certs.borrow().trusted(Identity::Ipsec, IPSEC_SOURCE.as_str()).cloned();
    match trusted {
        Some(trusted) if trusted.der() == presented.der() => {
            tracer.emit(Happening::DrfConnected { primary, serial: presented.serial })
        }
        trusted => tracer.emit(Happening::DrfTrustMismatch {
            primary,
            presented: presented.serial,
            trusted: trusted.map(|certificate| certificate.serial),
        }),
    }
}

/// The documented check on one node: the CallManager publisher's `ipsec.pem` serial against
/// the one this node's IPSec-trust holds for it.
pub fn trust_shown(publisher_ipsec: &Certificate, node: &CertStore) -> Happening {
    let trusted =
        node.trusted(Identity::Ipsec, IPSEC_SOURCE.as_str()).map(|certificate| certificate.serial.clone());
    Happening::IpsecTrustShown {
        publisher_serial: publisher_ipsec.serial.clone(),
        matches: trusted.as_deref() == Some(publisher_ipsec.serial.as_str()),
        trusted_serial: trusted,
    }
}
