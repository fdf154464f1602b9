//! A subscriber's TFTP service over HTTP (6970, and 6971 for phones): each device's
//! configuration file, written from the database *now* (so it says what the publisher set,
//! whether or not this node's CallManager has restarted to take it up; for a phone's security,
//! the profile as it was when the phone was last reset), and the Identity
//! Trust List: the subscribers' current `tomcat.pem`, which phones trust for the OAuth ports.

use std::cell::RefCell;
use std::rc::Rc;

use bytes::Bytes;
use hyper::{Method, StatusCode};

use crate::certs::store::tomcat_anchors;
use crate::certs::sync::CertificateSet;
use crate::certs::{CertStore, Certificate, Identity, PhoneEdgeTrust};
use crate::cluster_database::ClusterDatabase;
use crate::node_id::NodeId;
use crate::proto::http::{answer_now, serve, HttpRequest, HttpResponse};
use crate::proto::tftp::{device_of, DeviceConfig, ITL_PATH, PHONE_EDGE_TRUST_PATH};

/// The cluster's subscribers' certificates, for the trust list.
pub type ClusterCerts = Rc<Vec<Rc<RefCell<CertStore>>>>;

/// What a trust store takes of CallManager node `host`'s current `identity` certificate: the
/// certificate itself when self-signed, else its CA's. `host` is the publisher (`publisher`'s
/// store) or a subscriber in `cluster`.
pub fn current_anchor(
    publisher: &Rc<RefCell<CertStore>>,
    cluster: &ClusterCerts,
    host: &str,
    identity: Identity,
) -> Option<Certificate> {
    let store =
        std::iter::once(publisher).chain(cluster.iter()).find(|certs| certs.borrow().host() == host)?;
    let anchor = store.borrow().identity(identity).anchor().clone();
    Some(anchor)
}

/// What a subscriber's TFTP serves files from.
pub struct Files {
    pub database: Rc<ClusterDatabase>,
    pub cluster: ClusterCerts,
    pub phone_edge: PhoneEdgeTrust,
}

/// Serves configuration files and the trust lists on `port` for the node `node`.
pub async fn run(node: NodeId, port: u16, files: Files) -> turmoil::Result {
    serve(port, answer_now(move |request| answer(node.as_str(), &files, &request))).await
}

fn answer(node: &str, files: &Files, request: &HttpRequest) -> HttpResponse {
    let (database, cluster) = (&files.database, &files.cluster);
    if request.method != Method::GET {
        return HttpResponse::error(StatusCode::METHOD_NOT_ALLOWED, "TFTP serves files");
    }
    if request.path == PHONE_EDGE_TRUST_PATH {
        return HttpResponse::json(StatusCode::OK, &CertificateSet::of(&files.phone_edge.certificates()));
    }
    if request.path == ITL_PATH {
        return HttpResponse::json(StatusCode::OK, &CertificateSet::of(&tomcat_anchors(cluster)));
    }
    let Some(device) = device_of(&request.path) else {
        return HttpResponse::error(StatusCode::NOT_FOUND, "no such file");
    };
    // A phone registers with its token only when its last reset gave it a profile for SIP
    // OAuth; while SIP OAuth is on, its file also says the mode it was reset with
    // (`phone_security`). With SIP OAuth off the mode is left out: how a secure phone
    // registers without OAuth (CAPF) is not modelled, and phones take the legacy port.
    let config = database.sip_oauth_mode().and_then(|mode| {
        let ports = database.ports(node)?;
        let applied = database.applied_profile(device)?;
        Ok(DeviceConfig {
            sip_oauth_mode: mode && applied.is_none_or(|security| security.uses_oauth()),
            sip_oauth_port: ports.phone,
            sip_mra_oauth_port: ports.mra,
            device_security_mode: applied.filter(|_| mode).map(|security| security.mode),
        })
    });
    match config {
        Ok(config) => HttpResponse { status: StatusCode::OK, body: Bytes::from(config.to_xml(device)) },
        Err(reason) => HttpResponse::error(StatusCode::INTERNAL_SERVER_ERROR, &reason),
    }
}
