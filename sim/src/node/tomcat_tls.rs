//! What Cisco Tomcat presents on 8443 to a client that starts a TLS handshake (a phone
//! asking for tokens, `proto::https`), on the publisher and on each subscriber.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use rustls::ServerConfig;

use crate::certs::{CertStore, Identity, Service};
use crate::node_id::NodeId;
use crate::proto::https::TlsIdentity;

/// The `tomcat.pem` Cisco Tomcat loaded when it last started (a regeneration reaches
/// clients only after Tomcat restarts), read at each handshake; none while it is stopped.
/// The rustls configuration is built once per certificate, not once per handshake.
pub fn tomcat_identity(certs: Rc<RefCell<CertStore>>, node: NodeId, epoch_s: u64) -> TlsIdentity {
    let built: RefCell<Option<(String, Arc<ServerConfig>)>> = RefCell::default();
    Rc::new(move || {
        let certs = certs.borrow();
        let certificate = certs.presented(Service::Tomcat, Identity::Tomcat)?;
        let mut built = built.borrow_mut();
        match &*built {
            Some((fingerprint, config)) if *fingerprint == certificate.fingerprint => Some(config.clone()),
            _ => {
                let config = crate::proto::tls::server_config(&node, epoch_s, certificate, None).ok()?;
                *built = Some((certificate.fingerprint.clone(), config.clone()));
                Some(config)
            }
        }
    })
}
