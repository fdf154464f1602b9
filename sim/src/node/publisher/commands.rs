//! What an administrator does on the publisher's CLI and pages, carried out in the order
//! the scenario's steps give them.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use tokio::sync::mpsc;

use super::*;
use crate::certs::service::NodeRole;
use crate::certs::service::IMP_SERVICE_RESTART;
use crate::certs::{CertificateName, Identity, Service};
use crate::clock;
use crate::node::publisher::active_logs::LogName;
use crate::node::{certificate_management, checksum_field, key_checksums};
use crate::node_id::NodeId;
use crate::phone_security::ProfileChange;
use crate::scenario::{Action, SqlQuery};
use crate::tokens::{ExpiryTimer, KeyKind};
use crate::trace::Happening;

/// What an administrator does on the publisher's CLI.
#[derive(Clone, Debug)]
pub enum AdminCommand {
    /// `set key regen authz signing` / `set key regen authz encryption`.
    RegenerateKey(KeyKind),
    /// An expiry timer changed on the Enterprise Parameters page, in seconds.
    SetExpiry(ExpiryTimer, u64),
    /// "OAuth with Refresh Login Flow" set to Enabled (`true`) or Disabled.
    SetRefreshLoginFlow(bool),
    /// `utils service restart Cisco Tomcat`: AuthZ answers 503 meanwhile.
    RestartTomcat,
    /// Cisco DRF Primary restarted: it presents the `ipsec.pem` on disk from then on.
    RestartDrfPrimary,
    /// Certificate Management regenerates the publisher's `ipsec.pem` or `tomcat.pem`.
    RegenerateCertificate(Identity),
    /// `run sql ...` with one of the documents' queries.
    RunSql(SqlQuery),
    /// SSO configured again with the current Tomcat certificate (the metadata exchange).
    ReconfigureSso,
    /// `file view` or `file list` of one of the logs the documents name.
    ReadLog(LogName),
    /// `utils sipOAuth-mode enable|disable`.
    SetSipOAuthMode(bool),
    /// The CallManager page: a subscriber's SIP OAuth ports (unchecked: the page checks).
    SetSipPorts { node: NodeId, phone_port: Option<i64>, mra_port: Option<i64> },
    /// The phone security profile page.
    SetSecurityProfile(ProfileChange),
    /// Device > Expressway-C: an entry's X.509 names and domain.
    SaveExpresswayEntry { host: String, names: Vec<String>, domain: Option<String> },
    /// "Reset" on a phone's page (or every phone's).
    ResetPhone(Option<String>),
    /// Control Center: stop (`false`) or start a service.
    StopOrStartService(Service, bool),
    /// Certificate Management: delete a certificate.
    DeleteCertificate(CertificateName),
}

impl AdminCommand {
    /// The command a step routed to the publisher asks for (`None`: not the publisher's).
    pub fn of(action: &Action) -> Option<AdminCommand> {
        Some(match action {
            Action::RegenerateKey(kind) => AdminCommand::RegenerateKey(*kind),
            Action::RunSql(query) => AdminCommand::RunSql(*query),
            Action::SetExpiry { timer, value_s } => AdminCommand::SetExpiry(*timer, *value_s),
            Action::SetRefreshLoginFlow(enabled) => AdminCommand::SetRefreshLoginFlow(*enabled),
            Action::RestartService { service: Service::Tomcat, .. } => AdminCommand::RestartTomcat,
            Action::RestartService { service: Service::DrfPrimary, .. } => AdminCommand::RestartDrfPrimary,
            // Routed here only for the publisher, which the parser allows ipsec and (with
            // SSO) tomcat.
            Action::RegenerateCertificate { identity, .. } => AdminCommand::RegenerateCertificate(*identity),
            Action::ReconfigureSso => AdminCommand::ReconfigureSso,
            Action::ReadLog(log) => AdminCommand::ReadLog(*log),
            Action::SetSipOAuthMode(enabled) => AdminCommand::SetSipOAuthMode(*enabled),
            Action::StopService { service, .. } => AdminCommand::StopOrStartService(*service, false),
            Action::StartService { service, .. } => AdminCommand::StopOrStartService(*service, true),
            Action::DeleteCertificate { certificate, .. } => {
                AdminCommand::DeleteCertificate(certificate.clone())
            }
            Action::SetSipPorts { node, phone_port, mra_port } => {
                AdminCommand::SetSipPorts { node: node.clone(), phone_port: *phone_port, mra_port: *mra_port }
            }
            Action::SetSecurityProfile(change) => AdminCommand::SetSecurityProfile(*change),
            Action::SaveExpresswayEntry { host, names, domain } => AdminCommand::SaveExpresswayEntry {
                host: host.clone(),
                names: names.clone(),
                domain: domain.clone(),
            },
            Action::ResetPhone { device } => AdminCommand::ResetPhone(device.clone()),
            _ => return None,
        })
    }
}

/// Carries out the administrator's commands as they come.
pub(super) async fn obey(
    publisher: Rc<RefCell<Publisher>>,
    admin: Rc<RefCell<mpsc::Receiver<AdminCommand>>>,
) {
    // The queue outlives a crash of this task (it is the scenario's, not the node's);
    // it is borrowed only while polled.
    while let Some(command) = std::future::poll_fn(|cx| admin.borrow_mut().poll_recv(cx)).await {
        match command {
            AdminCommand::RegenerateKey(kind) => publisher.borrow_mut().regenerate(kind),
            AdminCommand::RunSql(query) => publisher.borrow().run_sql(query),
            AdminCommand::ReadLog(log) => {
                let publisher = publisher.borrow();
                publisher.tracer.emit(Happening::LogRead {
                    command: log.command().to_string(),
                    answer: publisher.logs.answer(log),
                });
            }
            AdminCommand::SetExpiry(timer, value_s) => publisher.borrow_mut().set_expiry(timer, value_s),
            AdminCommand::SetRefreshLoginFlow(enabled) => {
                publisher.borrow_mut().set_refresh_login_flow(enabled)
            }
            AdminCommand::SetSipOAuthMode(enabled) => {
                let publisher = publisher.borrow();
                // The parser admits this step only with [cluster.sip].
                if let Some(sip) = &publisher.sip {
                    sip.set_mode(enabled, publisher.grants.offers_refresh_flow(), &publisher.tracer);
                }
            }
            AdminCommand::SetSipPorts { node, phone_port, mra_port } => {
                let publisher = publisher.borrow();
                if let Some(sip) = &publisher.sip {
                    sip.set_ports(&node, phone_port, mra_port, &publisher.tracer);
                }
            }
            AdminCommand::SetSecurityProfile(change) => {
                let publisher = publisher.borrow();
                if let Some(sip) = &publisher.sip {
                    sip.set_security_profile(change, &publisher.tracer);
                }
            }
            AdminCommand::SaveExpresswayEntry { host, names, domain } => {
                let publisher = publisher.borrow();
                if let Some(sip) = &publisher.sip {
                    sip.save_expressway_entry(&host, &names, domain.as_deref(), &publisher.tracer);
                }
            }
            AdminCommand::ResetPhone(device) => {
                let publisher = publisher.borrow();
                if let Some(sip) = &publisher.sip {
                    sip.reset_phones(device.as_deref(), &publisher.tracer);
                }
            }
            AdminCommand::StopOrStartService(service, start) => {
                let publisher = publisher.borrow();
                if let Some(certs) = &publisher.certs {
                    publisher.tracer.emit(certificate_management::stop_or_start(certs, service, start));
                }
            }
            AdminCommand::DeleteCertificate(name) => {
                let publisher = publisher.borrow();
                if let Some(certs) = &publisher.certs {
                    let now_s = publisher.now_s();
                    let deleted =
                        certificate_management::delete(certs, &name, NodeRole::CucmPublisher, now_s);
                    publisher.tracer.emit(deleted);
                }
            }
            AdminCommand::RestartDrfPrimary => {
                let Some(certs) = publisher.borrow().certs.clone() else { continue };
                certs.borrow_mut().stop(Service::DrfPrimary);
                clock::sleep(IMP_SERVICE_RESTART).await;
                let presented =
                    certificate_management::presents(&certs.borrow_mut().load(Service::DrfPrimary));
                publisher.borrow().tracer.emit(Happening::ServiceRestarted {
                    service: Service::DrfPrimary.name().to_string(),
                    signing_key: None,
                    encryption_key: None,
                    certificates: presented,
                });
            }
            AdminCommand::RegenerateCertificate(identity) => {
                let publisher = publisher.borrow();
                if let Some(certs) = &publisher.certs {
                    // The old one stays where others took it: every other node's IPSec-trust
                    // until that node regenerates its own (`node::ipsec_trust`); for
                    // tomcat.pem, SSO's metadata at the identity provider until SSO is
                    // configured again (`reconfigure-sso`).
                    certificate_management::regenerate(certs, identity, &publisher.tracer, publisher.now_s());
                }
            }
            AdminCommand::ReconfigureSso => {
                let mut publisher = publisher.borrow_mut();
                if let (Some(metadata), Some(serial)) =
                    (&publisher.grants.sso_metadata, publisher.tomcat_serial())
                {
                    let previous = metadata.replace(serial.clone());
                    publisher.tracer.emit(Happening::SsoReconfigured { serial, previous });
                    publisher.logs.sso_enabled();
                }
            }
            AdminCommand::RestartTomcat => {
                let until = clock::elapsed() + crate::node::authz::node_keys::TOMCAT_RESTART;
                publisher.borrow_mut().tomcat_restarting_until = Some(until);
                clock::sleep_until(until).await;
                let publisher = publisher.borrow();
                // The publisher's keys are generated here and used at once: the
                // restart loads the same keys.
                let loaded = key_checksums(&publisher.keyring);
                // Tomcat presents the tomcat.pem on disk from now on; with SSO, whose metadata
                // names it, or SIP, whose phones check it for their tokens, the restart says which.
                let checked = publisher.grants.sso_metadata.is_some() || publisher.sip.is_some();
                let presented = publisher.certs.as_ref().and_then(|certs| {
                    let mut certs = certs.borrow_mut();
                    let presents = certificate_management::presents(&certs.load(Service::Tomcat));
                    presents.filter(|_| checked)
                });
                publisher
                    .tracer
                    .emit(crate::node::authz::node_keys::tomcat_restarted(Some(loaded), presented));
            }
        }
    }
}

impl Publisher {
    /// New tokens get the new lifetime; tokens already issued keep their `exp`.
    pub(super) fn set_expiry(&mut self, timer: ExpiryTimer, value_s: u64) {
        let before = self.tokens.lifetimes;
        // The parser checked the value against the bounds; a value out of them would be
        // refused by the page, leaving the timer as it was.
        let Ok(after) = before.with(timer, value_s) else { return };
        self.tokens.lifetimes = after;
        let previous_s = match timer {
            ExpiryTimer::AccessTokenExpiry => before.access_s,
            ExpiryTimer::RefreshTokenExpiry => before.refresh_s,
        };
        self.tracer.emit(Happening::ExpiryChanged { param: timer.to_string(), value_s, previous_s });
    }

    pub(super) fn set_refresh_login_flow(&mut self, enabled: bool) {
        // The parser refuses this step on an old release, which has no such parameter.
        let previous = self.grants.refresh_login_flow;
        self.grants.refresh_login_flow = enabled;
        self.tracer.emit(Happening::LoginFlowChanged { enabled, previous });
    }

    pub(super) fn regenerate(&mut self, kind: KeyKind) {
        let old = self.tokens.keys.checksum(kind);
        self.tokens.regenerate(kind);
        self.keyring = Arc::new(self.tokens.keys.keyring());
        self.held.sync(&self.keyring, self.now_s());
        // Told before any event could carry it: the checks search every later event for it.
        self.tracer.learn_secrets(&self.tokens.keys.secret_forms());
        let bundle = self.key_bundle();
        for push in &self.pushes {
            push.offer(bundle.clone());
        }
        self.tracer.emit(Happening::KeyRegenerated {
            key: kind.to_string(),
            checksum: checksum_field(self.tokens.keys.checksum(kind)),
            previous: checksum_field(old),
        });
        // The documents: each AuthZ regeneration gets a new certMgmt*.log (`active_logs`).
        let file = self.logs.certificate_log_started();
        self.tracer.emit(Happening::CertificateLogStarted { file, key: kind.to_string() });
    }
}
