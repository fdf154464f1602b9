//! The CA-signed multi-SAN Tomcat certificate (docs/domain.md "CA-signed Tomcat
//! certificates"). The Korean certificate document: the multi-SAN Tomcat CSR is generated on
//! the CallManager publisher and distributed to every CallManager and IM and Presence node of
//! the cluster; Jabber validates the CallManager and IM and Presence Tomcat certificates, and
//! when the root that signed them is not in the device's trust store it shows the
//! untrusted-certificate pop-up until the administrator pushes the root to the devices.
//!
//! One step does what the administrator does on Certificate Management: generate the CSR on
//! the publisher (CN the publisher, a SAN per other node), have the CA sign it, upload the
//! result on the publisher. Each node then holds it as `tomcat.pem` on disk, with the CA's
//! certificate in its Tomcat-trust; each node's Cisco Tomcat presents it once restarted (and
//! a subscriber's Cisco CallManager on the SIP OAuth ports once that restarts).
//!
//! Assumptions (the documents name the procedure, not its mechanics): the upload on the
//! publisher reaches every node at once ([`MultiSanTomcat::install`]); the CSR's key and the
//! CA's serial are drawn from the seed; the CA signs for `IDENTITY_VALIDITY`, as long as a
//! regenerated self-signed certificate lasts; the CA is the run's "Enterprise Root CA",
//! which also signs Expressway-C's certificate.

use std::cell::RefCell;
use std::rc::Rc;

use rand_chacha::ChaCha20Rng;

use crate::certs::authority::Authority;
use crate::certs::certificate::{Draw, IDENTITY_VALIDITY};
use crate::certs::signing_request::SigningRequest;
use crate::certs::{CertStore, Identity};
use crate::node_id::NodeId;
use crate::trace::Happening;

/// The CA and the nodes the certificate goes to.
pub struct MultiSanTomcat {
    authority: Rc<Authority>,
    /// The CallManager publisher (where the CSR is made, its CN), then every other
    /// CallManager and IM and Presence node (its SANs), each with its certificate store.
    nodes: Vec<(NodeId, Rc<RefCell<CertStore>>)>,
    draws: ChaCha20Rng,
    epoch_s: u64,
}

impl MultiSanTomcat {
    /// `publisher` first, then `others`; `draws` is the CSR's own seeded stream.
    pub fn new(
        authority: Rc<Authority>,
        publisher: Rc<RefCell<CertStore>>,
        others: Vec<(NodeId, Rc<RefCell<CertStore>>)>,
        draws: ChaCha20Rng,
        epoch_s: u64,
    ) -> MultiSanTomcat {
        let nodes = std::iter::once((NodeId::PUBLISHER, publisher)).chain(others).collect();
        MultiSanTomcat { authority, nodes, draws, epoch_s }
    }

    /// The step at `t_ms` (simulated time since the start): what each node records, the
    /// publisher first (the CSR signed), then each node's new `tomcat.pem`. Fails only if
    /// rcgen cannot make or sign the request, which no host name of a run makes it do.
    pub fn install(&mut self, t_ms: u64) -> Result<Vec<(NodeId, Happening)>, String> {
        let now_s = self.epoch_s + t_ms / 1000;
        let sans: Vec<String> = self.nodes.iter().skip(1).map(|(node, _)| node.to_string()).collect();
        let draw = Draw::from_stream(&mut self.draws);
        let (request, key) = SigningRequest::new(Identity::Tomcat, NodeId::PUBLISHER.as_str(), &sans, &draw)?;
        let signed = self.authority.sign(&request, key, draw.serial, now_s, IDENTITY_VALIDITY)?;
        let signer = self.authority.name().to_string();
        let mut recorded = vec![(
            NodeId::PUBLISHER,
            Happening::TomcatCsrSigned {
                names: request.names().join(" "),
                signer: signer.clone(),
                serial: signed.serial.clone(),
            },
        )];
        for (node, certs) in &self.nodes {
            let previous = certs.borrow_mut().install(signed.clone());
            recorded.push((
                node.clone(),
                Happening::CertificateInstalled {
                    certificate: Identity::Tomcat.file(),
                    serial: signed.serial.clone(),
                    previous: previous.map(|certificate| certificate.serial).unwrap_or_default(),
                    signer: signer.clone(),
                },
            ));
        }
        Ok(recorded)
    }
}
