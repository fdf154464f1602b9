//! The service and certificate steps, checked: `restart-service`, `stop-service`,
//! `start-service`, `regenerate-certificate`, `delete-certificate`,
//! `set-high-availability` and `push-client-trust`.

use std::ops::Range;

use toml::Spanned;

use super::action::ActionName;
use super::file::StepFile;
use super::{Action, Cluster, ScenarioError};
use crate::certs::authority::EDGE_CA_NAME;
use crate::certs::phone_edge_trust::PHONE_EDGE_TRUST;
use crate::certs::service::RunsOn;
use crate::certs::{CertificateName, Identity, Service};
use crate::node_id::NodeId;
use crate::trace::catalogue::did_you_mean;

/// How errors name the nodes most of these steps act on.
const IMP_NODE: &str = "an IM and Presence node";

use super::error::{one_of_nodes, At};

/// One step being read: its fields, and errors that name the step's file position and field.
struct StepReader<'a> {
    step: &'a StepFile,
    index: usize,
    action: &'static str,
    action_span: Range<usize>,
    at: At<'a>,
}

impl StepReader<'_> {
    fn field(&self, name: &str) -> String {
        format!("step[{}].{name}", self.index)
    }

    /// An error at the step's `action`, naming `field`.
    fn missing(&self, field: &str, message: String) -> ScenarioError {
        (self.at)(self.action_span.clone(), &self.field(field), message)
    }

    /// The step's `node`, which must be one of `allowed` (`what` says which in words).
    fn node(&self, allowed: &[NodeId], what: &str) -> Result<NodeId, ScenarioError> {
        let Some(node) = &self.step.node else {
            return Err(self.missing("node", format!("{} needs `node = \"…\"`", self.action)));
        };
        let hint = match one_of_nodes(node.get_ref(), allowed) {
            Ok(node) => return Ok(node),
            Err(hint) => hint,
        };
        let here = if allowed.is_empty() {
            "this cluster has none (add [cluster.imp])".to_string()
        } else {
            format!("here: {}", allowed.join(", "))
        };
        Err((self.at)(
            node.span(),
            &self.field("node"),
            format!("{} acts on {what}{hint}; {here}", self.action),
        ))
    }

    fn service(&self) -> Result<Service, ScenarioError> {
        let Some(service) = &self.step.service else {
            return Err(self.missing("service", format!("{} needs `service = \"…\"`", self.action)));
        };
        Service::from_name(service.get_ref()).ok_or_else(|| {
            let names = Service::ALL.map(Service::name);
            let hint = did_you_mean(service.get_ref(), names.iter().copied())
                .map_or_else(String::new, |near| format!(" (did you mean {near:?}?)"));
            (self.at)(
                service.span(),
                &self.field("service"),
                format!("{:?} is not a service{hint}; services: {}", service.get_ref(), names.join(", ")),
            )
        })
    }

    fn certificate(&self) -> Result<&Spanned<String>, ScenarioError> {
        self.step.certificate.as_ref().ok_or_else(|| {
            self.missing("certificate", format!("{} needs `certificate = \"…\"`", self.action))
        })
    }
}

/// The action of a service or certificate step (`name` is one of them).
pub(super) fn service_action(
    name: ActionName,
    step: &StepFile,
    index: usize,
    cluster: &Cluster,
    action_span: Range<usize>,
    at: At<'_>,
) -> Result<Action, ScenarioError> {
    let read = StepReader { step, index, action: name_of(name), action_span, at };
    // The Presence Redundancy Group exists only with IM and Presence. The devices' trust
    // holds the subscribers' tomcat.pem too, so its push needs no IM and Presence node.
    if matches!(name, ActionName::SetHighAvailability) && cluster.imp_nodes().is_empty() {
        return Err(
            read.missing("action", format!("{} needs IM and Presence nodes ([cluster.imp])", read.action))
        );
    }
    Ok(match name {
        ActionName::RestartService => restart_service(&read, cluster)?,
        ActionName::StopService | ActionName::StartService => {
            let service = read.service()?;
            if !service.stoppable() {
                let span = step.service.as_ref().map_or(read.action_span.clone(), Spanned::span);
                return Err(at(
                    span,
                    &read.field("service"),
                    format!("{} is restarted, not stopped (restart-service)", service.display_name()),
                ));
            }
            let node = service_node(&read, cluster, service)?;
            if matches!(name, ActionName::StopService) {
                Action::StopService { node, service }
            } else {
                Action::StartService { node, service }
            }
        }
        ActionName::RegenerateCertificate => regenerate_certificate(&read, cluster)?,
        ActionName::DeleteCertificate => {
            let certificate = read.certificate()?;
            let name = CertificateName::parse(certificate.get_ref())
                .map_err(|message| at(certificate.span(), &read.field("certificate"), message))?;
            if matches!(name, CertificateName::PhoneEdgeTrust { .. }) {
                return Err(at(
                    certificate.span(),
                    &read.field("certificate"),
                    "authzlab uploads to phone-edge-trust but does not delete from it (start without it: [cluster.sip] phone_edge_trust = false)".to_string(),
                ));
            }
            let nodes = [cucm_nodes(cluster), cluster.imp_nodes()].concat();
            let node = read.node(&nodes, "a CallManager or IM and Presence node")?;
            Action::DeleteCertificate { node, certificate: name }
        }
        ActionName::UploadCertificate => upload_certificate(&read, cluster)?,
        ActionName::SetHighAvailability => {
            match step.value.as_ref().map(|value| (value.get_ref().as_bool(), value.span())) {
                Some((Some(enabled), _)) => Action::SetHighAvailability(enabled),
                Some((None, span)) => {
                    return Err(at(span, &read.field("value"), "is true or false".to_string()))
                }
                None => {
                    return Err(read.missing(
                        "value",
                        "set-high-availability needs `value = true` or `value = false`".to_string(),
                    ))
                }
            }
        }
        ActionName::PushClientTrust => Action::PushClientTrust,
        ActionName::ShowIpsecTrust => Action::ShowIpsecTrust,
        ActionName::InstallCaSignedTomcat => Action::InstallCaSignedTomcat,
        other => unreachable!("{} is not a service or certificate step", name_of(other)),
    })
}

/// `restart-service`: where the service runs decides which nodes may be named.
fn restart_service(read: &StepReader<'_>, cluster: &Cluster) -> Result<Action, ScenarioError> {
    let service = read.service()?;
    Ok(Action::RestartService { node: service_node(read, cluster, service)?, service })
}

/// The CallManager publisher, then its subscribers.
fn cucm_nodes(cluster: &Cluster) -> Vec<NodeId> {
    [vec![NodeId::PUBLISHER], cluster.cucm_subscriber_nodes()].concat()
}

/// The node a service step names, among those that run `service`.
fn service_node(read: &StepReader<'_>, cluster: &Cluster, service: Service) -> Result<NodeId, ScenarioError> {
    let imp_nodes = cluster.imp_nodes();
    Ok(match service.runs_on() {
        RunsOn::Imp => read.node(&imp_nodes, IMP_NODE)?,
        RunsOn::Everywhere => {
            read.node(&[cucm_nodes(cluster), imp_nodes].concat(), "a CallManager or IM and Presence node")?
        }
        RunsOn::CallManager => read.node(&cucm_nodes(cluster), "a CallManager node")?,
        RunsOn::CucmSubscribers if cluster.sip.is_none() => {
            return Err(read.missing(
                "service",
                "Cisco CallManager registers devices over SIP: add [cluster.sip]".to_string(),
            ))
        }
        RunsOn::CucmSubscribers => read.node(&cluster.cucm_subscriber_nodes(), "a CallManager subscriber")?,
        RunsOn::CucmPublisher => read.node(&[NodeId::PUBLISHER], "the CallManager publisher")?,
    })
}

/// `regenerate-certificate`: an IM and Presence identity certificate, or (with SIP) a
/// subscriber's `tomcat.pem`, which its OAuth ports present.
fn regenerate_certificate(read: &StepReader<'_>, cluster: &Cluster) -> Result<Action, ScenarioError> {
    let certificate = read.certificate()?;
    let identity = Identity::from_name(certificate.get_ref()).ok_or_else(|| {
        (read.at)(
            certificate.span(),
            &read.field("certificate"),
            format!(
                "{:?} is not an identity certificate: cup, cup-xmpp, cup-xmpp-s2s, ipsec, tomcat",
                certificate.get_ref()
            ),
        )
    })?;
    let imp_nodes = cluster.imp_nodes();
    // Every CallManager node holds ipsec.pem; subscribers' tomcat.pem matters with SIP only.
    let (allowed, what) = match identity {
        Identity::Ipsec => (
            [vec![NodeId::PUBLISHER], cluster.cucm_subscriber_nodes(), imp_nodes].concat(),
            "a CallManager or IM and Presence node",
        ),
        // The publisher's tomcat.pem matters to SSO, whose metadata names it.
        Identity::Tomcat if cluster.sip.is_some() || cluster.sso => (
            [
                if cluster.sso { vec![NodeId::PUBLISHER] } else { vec![] },
                if cluster.sip.is_some() { cluster.cucm_subscriber_nodes() } else { vec![] },
                imp_nodes,
            ]
            .concat(),
            "an IM and Presence node or (tomcat) the CallManager publisher with SSO or a subscriber with SIP",
        ),
        _ => (imp_nodes, IMP_NODE),
    };
    Ok(Action::RegenerateCertificate { node: read.node(&allowed, what)?, identity })
}

/// `upload-certificate`: into a CallManager subscriber's Tomcat-trust (with SIP, where Cisco
/// CallManager checks Expressway-C against it), one of the certificates the run has: the CA
/// that signs Expressway-C's certificate, or a subscriber's current `tomcat.pem`; or a
/// CallManager node's Tomcat root into phone-edge-trust, a subscriber's or, with a proxy
/// TFTP, the proxy's (`proxy-tftp`).
fn upload_certificate(read: &StepReader<'_>, cluster: &Cluster) -> Result<Action, ScenarioError> {
    let certificate = read.certificate()?;
    let field = read.field("certificate");
    let refuse = |message: String| (read.at)(certificate.span(), &field, message);
    let name = CertificateName::parse(certificate.get_ref()).map_err(&refuse)?;
    let subscribers = cluster.cucm_subscriber_nodes();
    let mut sources: Vec<String> = subscribers.iter().map(|node| node.as_str().to_string()).collect();
    if cluster.expressway.is_some() {
        sources.insert(0, EDGE_CA_NAME.to_string());
    }
    // phone-edge-trust takes a CallManager node's Tomcat certificate (its own root here).
    let callmanagers: Vec<String> =
        cucm_nodes(cluster).iter().map(|node| node.as_str().to_string()).collect();
    match &name {
        CertificateName::Trust { store: Identity::Tomcat, host } if sources.contains(host) => {}
        CertificateName::PhoneEdgeTrust { host } if callmanagers.contains(host) => {}
        _ => {
            let shown: Vec<String> = sources
                .iter()
                .map(|host| format!("tomcat-trust/{host}.pem"))
                .chain(callmanagers.iter().map(|host| format!("{PHONE_EDGE_TRUST}/{host}.pem")))
                .collect();
            return Err(refuse(format!("can upload only {}", shown.join(", "))));
        }
    }
    if cluster.sip.is_none() {
        return Err(read.missing("action", "upload-certificate needs [cluster.sip]".to_string()));
    }
    // With a proxy TFTP, its phone-edge-trust takes a copy of this cluster's Tomcat roots.
    let proxy = cluster.sip.as_ref().is_some_and(|sip| sip.proxy_tftp.is_some())
        && matches!(name, CertificateName::PhoneEdgeTrust { .. });
    let (allowed, what) = if proxy {
        ([subscribers, vec![NodeId::PROXY_TFTP]].concat(), "a CallManager subscriber or the proxy TFTP")
    } else {
        (subscribers, "a CallManager subscriber")
    };
    Ok(Action::UploadCertificate { node: read.node(&allowed, what)?, certificate: name })
}

/// The fields each of these steps takes.
pub(super) fn fields(name: ActionName) -> &'static [&'static str] {
    match name {
        ActionName::RestartService | ActionName::StopService | ActionName::StartService => {
            &["node", "service"]
        }
        ActionName::RegenerateCertificate | ActionName::DeleteCertificate | ActionName::UploadCertificate => {
            &["node", "certificate"]
        }
        ActionName::SetHighAvailability => &["value"],
        _ => &[],
    }
}

fn name_of(name: ActionName) -> &'static str {
    match name {
        ActionName::RestartService => "restart-service",
        ActionName::StopService => "stop-service",
        ActionName::StartService => "start-service",
        ActionName::RegenerateCertificate => "regenerate-certificate",
        ActionName::DeleteCertificate => "delete-certificate",
        ActionName::UploadCertificate => "upload-certificate",
        ActionName::SetHighAvailability => "set-high-availability",
        ActionName::PushClientTrust => "push-client-trust",
        ActionName::ShowIpsecTrust => "show-ipsec-trust",
        ActionName::InstallCaSignedTomcat => "install-ca-signed-tomcat",
        _ => "this step",
    }
}
