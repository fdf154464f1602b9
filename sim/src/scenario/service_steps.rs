//! The service and certificate steps, checked: `restart-service`, `stop-service`,
//! `start-service`, `regenerate-certificate`, `delete-certificate`,
//! `set-high-availability` and `push-client-trust`.

use std::ops::Range;

use toml::Spanned;

use super::file::{ActionName, StepFile};
use super::{Action, Cluster, ScenarioError, PUBLISHER};
use crate::certs::service::RunsOn;
use crate::certs::{CertificateName, Identity, Service};
use crate::trace::catalogue::did_you_mean;

/// How errors name the nodes most of these steps act on.
const IMP_NODE: &str = "an IM and Presence node";

type At<'a> = &'a dyn Fn(Range<usize>, &str, String) -> ScenarioError;

/// The action of a service or certificate step (`name` is one of them).
pub(super) fn service_action(
    name: ActionName,
    step: &StepFile,
    index: usize,
    cluster: &Cluster,
    action_span: Range<usize>,
    at: At<'_>,
) -> Result<Action, ScenarioError> {
    let field = |name: &str| format!("step[{index}].{name}");
    let imp_nodes = cluster.imp_nodes();
    let mut cucm_nodes = vec![PUBLISHER.to_string()];
    cucm_nodes.extend(cluster.cucm_subscriber_nodes());
    let action = name_of(name);
    // Every step here acts on IM and Presence, except a Tomcat restart on CallManager.
    let node = |allowed: &[String], what: &str| -> Result<String, ScenarioError> {
        let Some(node) = &step.node else {
            return Err(at(action_span.clone(), &field("node"), format!("{action} needs `node = \"…\"`")));
        };
        if allowed.contains(node.get_ref()) {
            return Ok(node.get_ref().clone());
        }
        let hint = did_you_mean(node.get_ref(), allowed.iter().map(String::as_str))
            .map_or_else(String::new, |near| format!(" (did you mean {near:?}?)"));
        let here = if allowed.is_empty() {
            "this cluster has none (add [cluster.imp])".to_string()
        } else {
            format!("here: {}", allowed.join(", "))
        };
        Err(at(node.span(), &field("node"), format!("{action} acts on {what}{hint}; {here}")))
    };
    let service = || -> Result<Service, ScenarioError> {
        let Some(service) = &step.service else {
            return Err(at(
                action_span.clone(),
                &field("service"),
                format!("{action} needs `service = \"…\"`"),
            ));
        };
        Service::from_name(service.get_ref()).ok_or_else(|| {
            let names = Service::ALL.map(Service::name);
            let hint = did_you_mean(service.get_ref(), names.iter().copied())
                .map_or_else(String::new, |near| format!(" (did you mean {near:?}?)"));
            at(
                service.span(),
                &field("service"),
                format!("{:?} is not a service{hint}; services: {}", service.get_ref(), names.join(", ")),
            )
        })
    };
    let certificate = || -> Result<&Spanned<String>, ScenarioError> {
        step.certificate.as_ref().ok_or_else(|| {
            at(action_span.clone(), &field("certificate"), format!("{action} needs `certificate = \"…\"`"))
        })
    };
    // The Presence Redundancy Group and the devices' trust exist only with IM and Presence.
    if matches!(name, ActionName::SetHighAvailability | ActionName::PushClientTrust) && imp_nodes.is_empty() {
        return Err(at(
            action_span,
            &field("action"),
            format!("{action} needs IM and Presence nodes ([cluster.imp])"),
        ));
    }
    Ok(match name {
        ActionName::RestartService => {
            let service = service()?;
            let node = match service.runs_on() {
                RunsOn::Imp => node(&imp_nodes, IMP_NODE)?,
                RunsOn::Everywhere => {
                    node(&[cucm_nodes, imp_nodes.clone()].concat(), "a CallManager or IM and Presence node")?
                }
                RunsOn::CucmSubscribers if cluster.sip.is_none() => {
                    return Err(at(
                        action_span,
                        &field("service"),
                        "Cisco CallManager registers devices over SIP: add [cluster.sip]".to_string(),
                    ))
                }
                RunsOn::CucmSubscribers => {
                    node(&cluster.cucm_subscriber_nodes(), "a CallManager subscriber")?
                }
            };
            Action::RestartService { node, service }
        }
        ActionName::StopService | ActionName::StartService => {
            let service = service()?;
            if service.runs_on() != RunsOn::Imp {
                let span = step.service.as_ref().map_or(action_span.clone(), Spanned::span);
                return Err(at(span, &field("service"), format!("{action} takes IM and Presence services; Cisco Tomcat is restarted, not stopped (restart-service)")));
            }
            let node = node(&imp_nodes, IMP_NODE)?;
            if matches!(name, ActionName::StopService) {
                Action::StopService { node, service }
            } else {
                Action::StartService { node, service }
            }
        }
        ActionName::RegenerateCertificate => {
            let certificate = certificate()?;
            let identity = Identity::from_name(certificate.get_ref()).ok_or_else(|| {
                at(
                    certificate.span(),
                    &field("certificate"),
                    format!(
                        "{:?} is not an identity certificate: cup, cup-xmpp, cup-xmpp-s2s, ipsec, tomcat",
                        certificate.get_ref()
                    ),
                )
            })?;
            // A subscriber's `tomcat.pem` too, with SIP: its OAuth ports present it.
            let allowed = if identity == Identity::Tomcat && cluster.sip.is_some() {
                [cluster.cucm_subscriber_nodes(), imp_nodes.clone()].concat()
            } else {
                imp_nodes.clone()
            };
            let what = if allowed.len() > imp_nodes.len() {
                "an IM and Presence node or (tomcat) a CallManager subscriber"
            } else {
                IMP_NODE
            };
            Action::RegenerateCertificate { node: node(&allowed, what)?, identity }
        }
        ActionName::DeleteCertificate => {
            let certificate = certificate()?;
            let name = CertificateName::parse(certificate.get_ref())
                .map_err(|message| at(certificate.span(), &field("certificate"), message))?;
            Action::DeleteCertificate { node: node(&imp_nodes, IMP_NODE)?, certificate: name }
        }
        ActionName::SetHighAvailability => {
            match step.value.as_ref().map(|value| (value.get_ref().as_bool(), value.span())) {
                Some((Some(enabled), _)) => Action::SetHighAvailability(enabled),
                Some((None, span)) => return Err(at(span, &field("value"), "is true or false".to_string())),
                None => {
                    return Err(at(
                        action_span,
                        &field("value"),
                        "set-high-availability needs `value = true` or `value = false`".to_string(),
                    ))
                }
            }
        }
        ActionName::PushClientTrust => Action::PushClientTrust,
        other => unreachable!("{} is not a service or certificate step", name_of(other)),
    })
}

/// The fields each of these steps takes.
pub(super) fn fields(name: ActionName) -> &'static [&'static str] {
    match name {
        ActionName::RestartService | ActionName::StopService | ActionName::StartService => {
            &["node", "service"]
        }
        ActionName::RegenerateCertificate | ActionName::DeleteCertificate => &["node", "certificate"],
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
        ActionName::SetHighAvailability => "set-high-availability",
        ActionName::PushClientTrust => "push-client-trust",
        _ => "this step",
    }
}
