//! The commands a CallManager subscriber or an IM and Presence node takes from its
//! administrator: its CLI (`set key regen authz`, `utils service restart`) and its Cisco
//! Unified OS Administration pages (Control Center, Certificate Management). Both kinds of
//! node run the same Unified OS platform, so they take one command type; the publisher's
//! commands are its own (`publisher::commands`), as are Expressway-C's and the console's.

use std::cell::RefCell;
use std::rc::Rc;

use tokio::sync::mpsc;

use crate::certs::{CertificateName, Identity, Service};
use crate::scenario::Action;

/// A command an administrator runs on one node; the driver routes it to that node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeCommand {
    /// `set key regen authz signing|encryption` run on this (non-publisher) node: it fetches
    /// the cluster's keys from the publisher onto its disk (keys are generated on the
    /// publisher only: docs/domain.md).
    PullKeys,
    /// `utils service restart <service>`: Cisco Tomcat on any node, Cisco CallManager on a
    /// subscriber with SIP, the IM and Presence services on IM and Presence nodes.
    RestartService(Service),
    /// Control Center: stop a service (IM and Presence).
    StopService(Service),
    /// Control Center: start a stopped service (IM and Presence).
    StartService(Service),
    /// Certificate Management: regenerate an identity certificate (IM and Presence; `tomcat`
    /// on a subscriber with SIP too).
    RegenerateCertificate(Identity),
    /// Certificate Management: delete a certificate (IM and Presence).
    DeleteCertificate(CertificateName),
    /// Certificate Management: upload a certificate to a trust store (a CallManager
    /// subscriber with SIP).
    UploadCertificate(CertificateName),
    /// `show open ports regexp <port>` (a CallManager subscriber with SIP).
    ShowOpenPorts(u16),
}

impl NodeCommand {
    /// The command a step routed to one node asks for (`None`: not a node's own command).
    pub fn of(action: &Action) -> Option<NodeCommand> {
        Some(match action {
            Action::PullKeys { .. } => NodeCommand::PullKeys,
            Action::RestartService { service, .. } => NodeCommand::RestartService(*service),
            Action::StopService { service, .. } => NodeCommand::StopService(*service),
            Action::StartService { service, .. } => NodeCommand::StartService(*service),
            Action::RegenerateCertificate { identity, .. } => NodeCommand::RegenerateCertificate(*identity),
            Action::DeleteCertificate { certificate, .. } => {
                NodeCommand::DeleteCertificate(certificate.clone())
            }
            Action::UploadCertificate { certificate, .. } => {
                NodeCommand::UploadCertificate(certificate.clone())
            }
            Action::ShowOpenPorts { port, .. } => NodeCommand::ShowOpenPorts(*port),
            _ => return None,
        })
    }
}

/// Commands waiting for one node, at most one per scenario step. The queue is the
/// scenario's and outlives a crash of the node; it is borrowed only while polled.
pub type NodeCommands = Rc<RefCell<mpsc::Receiver<NodeCommand>>>;

/// The next command for this node, when one comes.
pub async fn next_command(commands: &NodeCommands) -> Option<NodeCommand> {
    std::future::poll_fn(|cx| commands.borrow_mut().poll_recv(cx)).await
}
