//! An IM and Presence node (`imp-pub`, `imp-sub-N`): it receives the AuthZ keys from the
//! CallManager publisher, as every CallManager node does, and checks Jabber's XMPP logins
//! (BOSH over HTTPS) through its validator plugin, `imp` unless the scenario loads another.
//! An opaque token of the implicit grant it asks the publisher about (proxy mode).
//!
//! Each node also holds its five identity certificates and trust stores (`certs`), which
//! its services load when they start; `imp-pub` is the source of the cluster's trust and
//! runs DRF Primary. What the administrator does to services and certificates on the node
//! is in [`commands`](run_commands).

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use authzlab_host::Plugin;
use hyper::{Method, StatusCode};
use serde::de::IgnoredAny;

use crate::certs::service::{NodeRole, IMP_SERVICE_RESTART};
use crate::certs::sync::{CertificateSet, WireCertificate, CERTIFICATE_SET_MAX, CERTS_PATH, PRESENTED_PATH};
use crate::certs::{CertStore, Certificate, Identity, Service};
use crate::clock;
use crate::node::authz::consumer::{self, Consumer, Presented};
use crate::node::authz::node_keys::{pull_keys, restart_tomcat, tomcat_restarted, NodeKeys};
use crate::node::authz::opaque_tokens::is_opaque;
use crate::node::authz::proxy::answer_by_proxy;
use crate::node::platform_commands::{next_command, NodeCommand, NodeCommands};
use crate::node::{certificate_management, ipsec_trust};
use crate::node_id::NodeId;
use crate::proto::authz::{HTTPS_PORT, KEY_SYNC_PATH};
use crate::proto::http::{answer_now, serve, Call, HttpRequest, HttpResponse, Pending};
use crate::trace::{Happening, Tracer};

/// IM and Presence's BOSH port (XMPP over HTTPS: `https://<imp>:7335/httpbinding`).
pub const BOSH_PORT: u16 = 7335;
/// The BOSH endpoint where Jabber opens its XMPP session with a bearer token.
pub const BOSH_PATH: &str = "/httpbinding";

/// The Presence Redundancy Group of the IM and Presence nodes: its "Enable High
/// Availability" setting, which each node of the group reads when one of its services goes
/// down.
#[derive(Clone, Debug, Default)]
pub struct PresenceGroup(Rc<Cell<bool>>);

impl PresenceGroup {
    pub fn new(high_availability: bool) -> PresenceGroup {
        PresenceGroup(Rc::new(Cell::new(high_availability)))
    }

    fn high_availability(&self) -> bool {
        self.0.get()
    }

    /// The administrator turns High Availability on or off on the group's page, in effect
    /// at once; the event the change records.
    pub fn set_high_availability(&self, enabled: bool) -> Happening {
        self.0.set(enabled);
        Happening::HighAvailabilityChanged { enabled }
    }
}

/// An IM and Presence node's state.
pub struct ImpNode {
    plugin: Plugin,
    /// The native verdicts beside the plugin's (`plugin check --scenarios`).
    shadow: Option<crate::conformance::shadow::Shadow>,
    /// The keys on disk (`show key authz`) and those its running Tomcat validates with.
    keys: Rc<RefCell<NodeKeys>>,
    /// The node that issues opaque tokens, asked about them in proxy mode.
    publisher: NodeId,
    boots: u32,
    epoch_s: u64,
    tracer: Tracer,
    /// Its certificates: on disk (they survive a crash) and loaded by its services.
    certs: Rc<RefCell<CertStore>>,
    /// The IM and Presence publisher: the source of trust, and DRF Primary.
    imp_publisher: NodeId,
    /// The Presence Redundancy Group it belongs to.
    group: PresenceGroup,
    /// Services restarting now, and until when (simulated time since the start).
    restarting: BTreeMap<Service, Duration>,
}

impl ImpNode {
    pub fn new(
        plugin: Plugin,
        publisher: &NodeId,
        imp_publisher: &NodeId,
        certs: CertStore,
        group: PresenceGroup,
        epoch_s: u64,
        tracer: Tracer,
    ) -> ImpNode {
        ImpNode {
            plugin,
            shadow: None,
            keys: Rc::default(),
            publisher: publisher.clone(),
            boots: 0,
            epoch_s,
            tracer,
            certs: Rc::new(RefCell::new(certs)),
            imp_publisher: imp_publisher.clone(),
            group,
            restarting: BTreeMap::new(),
        }
    }

    /// Checks every token natively too, keeping both verdicts in `shadow`.
    pub fn with_shadow(mut self, shadow: Option<crate::conformance::shadow::Shadow>) -> ImpNode {
        self.shadow = shadow;
        self
    }

    /// The node's certificates (the driver reads them to push trust to devices and for the IPSec check).
    pub fn certs(&self) -> Rc<RefCell<CertStore>> {
        self.certs.clone()
    }

    fn is_imp_publisher(&self) -> bool {
        *self.tracer.node() == self.imp_publisher
    }

    /// Whether `service` runs and is not restarting at `now`.
    fn serving(&self, service: Service, now: Duration) -> bool {
        self.certs.borrow().running(service)
            && self.restarting.get(&service).is_none_or(|until| now >= *until)
    }

    /// `GET CERTS_PATH/<identity>` on the IM and Presence publisher: its certificates of
    /// that kind, its own and its trust store's.
    fn serve_certificates(&self, path: &str) -> HttpResponse {
        let Some(identity) = path
            .strip_prefix(CERTS_PATH)
            .and_then(|rest| rest.strip_prefix('/'))
            .and_then(Identity::from_name)
        else {
            return HttpResponse::error(StatusCode::NOT_FOUND, "no such certificate kind");
        };
        let certs = self.certs.borrow();
        HttpResponse::json(StatusCode::OK, &CertificateSet::of(certs.trust_store(identity)))
    }

    /// `POST CERTS_PATH` on the IM and Presence publisher: a subscriber's new certificate
    /// into the publisher's trust store.
    fn receive_certificate(&self, request: &HttpRequest) -> HttpResponse {
        let set = match request.json::<CertificateSet>() {
            Ok(set) => set,
            Err(response) => return response,
        };
        if set.certificates.len() > CERTIFICATE_SET_MAX {
            return HttpResponse::error(StatusCode::PAYLOAD_TOO_LARGE, "too many certificates");
        }
        let mut received = Vec::new();
        for wire in &set.certificates {
            match wire.certificate() {
                Ok(certificate) => received.push(certificate),
                Err(reason) => return HttpResponse::error(StatusCode::BAD_REQUEST, &reason),
            }
        }
        let mut certs = self.certs.borrow_mut();
        for certificate in received {
            certs.trust_certificate(certificate);
        }
        HttpResponse::json(StatusCode::OK, &serde_json::json!({ "stored": true }))
    }

    /// The certificate a service presents for `identity` now, or why none.
    fn presenting(&self, service: Service, identity: Identity) -> Result<Certificate, String> {
        let now = clock::elapsed();
        self.certs
            .borrow()
            .presented(service, identity)
            .filter(|_| self.serving(service, now))
            .cloned()
            .ok_or_else(|| format!("{} is not running", service.display_name()))
    }

    /// What a service presents for `identity`, as a handshake would show it.
    fn present(&self, service: Service, identity: Identity) -> HttpResponse {
        match self.presenting(service, identity) {
            Ok(certificate) => HttpResponse::json(StatusCode::OK, &WireCertificate::of(&certificate)),
            Err(reason) => HttpResponse::error(StatusCode::SERVICE_UNAVAILABLE, &reason),
        }
    }

    /// What `show key authz signing` and `show key authz encryption` print here now.
    pub fn show_keys(&self, utc_offset_s: i64) -> Happening {
        self.keys.borrow().show(utc_offset_s)
    }

    fn install(&mut self, request: &HttpRequest) -> HttpResponse {
        let now_s = clock::node_now_s(self.tracer.node(), self.epoch_s);
        self.keys.borrow_mut().receive_push(request, &self.tracer, now_s)
    }

    /// A self-contained token, checked here by the plugin with the keys this node holds.
    fn im_login(&mut self, request: &HttpRequest) -> HttpResponse {
        let presented = Presented {
            client: request.agent.clone().unwrap_or_default(),
            keyring: self.keys.borrow().loaded().cloned(),
            bearer: request.bearer.as_deref(),
            now_s: clock::node_now_s(self.tracer.node(), self.epoch_s),
            shadow: self.shadow.as_ref(),
        };
        match consumer::check(Consumer::ImLogin, presented, &mut self.plugin, &self.tracer) {
            Ok(claims) => HttpResponse::json(StatusCode::OK, &serde_json::json!({ "user": claims.subject })),
            Err(reason) => HttpResponse::error(StatusCode::UNAUTHORIZED, reason),
        }
    }
}

/// The node's program: key sync (and, on `imp-pub`, the cluster's certificates) on the
/// AuthZ port, XMPP logins on the BOSH port, DRF Primary on `imp-pub`. The keys it was
/// pushed and its certificates are on its disk and survive a crash; its services start
/// again with what is on disk.
pub async fn run(node: Rc<RefCell<ImpNode>>, commands: NodeCommands) -> turmoil::Result {
    {
        let mut state = node.borrow_mut();
        state.boots += 1;
        if state.boots > 1 {
            state.tracer.emit(Happening::NodeRestarted {
                table_rows: None,
                revoked_rows: None,
                forgot: None,
            });
            state.restarting.clear();
            let certs = state.certs.clone();
            for service in Service::ALL {
                certs.borrow_mut().load(service);
            }
        }
        tokio::task::spawn_local(run_commands(node.clone(), commands));
    }
    let restarting = {
        let keys = node.borrow().keys.clone();
        move || keys.borrow().restarting(clock::elapsed())
    };
    let restarting = Rc::new(restarting);
    let sync = node.clone();
    let tomcat_down = restarting.clone();
    tokio::task::spawn_local(serve(
        HTTPS_PORT,
        answer_now(move |request: HttpRequest| {
            if tomcat_down() {
                return HttpResponse::error(StatusCode::SERVICE_UNAVAILABLE, "Cisco Tomcat is restarting");
            }
            if (&request.method, request.path.as_str()) == (&Method::POST, KEY_SYNC_PATH) {
                return sync.borrow_mut().install(&request);
            }
            let node = sync.borrow();
            if !node.is_imp_publisher() || !request.path.starts_with(CERTS_PATH) {
                return HttpResponse::error(StatusCode::NOT_FOUND, "no such endpoint");
            }
            match request.method {
                Method::GET => node.serve_certificates(&request.path),
                Method::POST => node.receive_certificate(&request),
                _ => HttpResponse::error(StatusCode::METHOD_NOT_ALLOWED, "GET or POST"),
            }
        }),
    ));
    serve(
        BOSH_PORT,
        Rc::new(move |request: HttpRequest| -> Pending {
            if restarting() {
                let response =
                    HttpResponse::error(StatusCode::SERVICE_UNAVAILABLE, "Cisco Tomcat is restarting");
                return Box::pin(std::future::ready(response));
            }
            if (&request.method, request.path.as_str()) == (&Method::GET, PRESENTED_PATH) {
                let response = node.borrow().present(Service::XcpRouter, Identity::CupXmpp);
                return Box::pin(std::future::ready(response));
            }
            if (&request.method, request.path.as_str()) != (&Method::POST, BOSH_PATH) {
                return Box::pin(std::future::ready(HttpResponse::error(
                    StatusCode::NOT_FOUND,
                    "no such endpoint",
                )));
            }
            if !node.borrow().serving(Service::XcpRouter, clock::elapsed()) {
                let response =
                    HttpResponse::error(StatusCode::SERVICE_UNAVAILABLE, "Cisco XCP Router is not running");
                return Box::pin(std::future::ready(response));
            }
            if request.bearer.as_deref().is_some_and(is_opaque) {
                let (publisher, tracer) = {
                    let node = node.borrow();
                    (node.publisher.clone(), node.tracer.clone())
                };
                return Box::pin(answer_by_proxy(publisher, tracer, request, Consumer::ImLogin));
            }
            let response = node.borrow_mut().im_login(&request);
            Box::pin(std::future::ready(response))
        }),
    )
    .await
}

/// Carries out the administrator's commands on this node, one at a time, for as long as
/// the node runs.
async fn run_commands(node: Rc<RefCell<ImpNode>>, commands: NodeCommands) {
    while let Some(command) = next_command(&commands).await {
        let (keys, certs, publisher, epoch_s, tracer) = {
            let node = node.borrow();
            (node.keys.clone(), node.certs.clone(), node.publisher.clone(), node.epoch_s, node.tracer.clone())
        };
        match command {
            NodeCommand::PullKeys => pull_keys(&keys, &publisher, epoch_s, &tracer).await,
            NodeCommand::RestartService(service) => {
                fail_over_if_high_availability(&node, service);
                let loaded = if service == Service::Tomcat {
                    Some(restart_tomcat(&keys).await)
                } else {
                    let until = clock::elapsed() + IMP_SERVICE_RESTART;
                    node.borrow_mut().restarting.insert(service, until);
                    clock::sleep_until(until).await;
                    node.borrow_mut().restarting.remove(&service);
                    None
                };
                let presented = certificate_management::presents(&certs.borrow_mut().load(service));
                tracer.emit(match loaded {
                    Some(keys) => tomcat_restarted(keys, presented),
                    None => Happening::ServiceRestarted {
                        service: service.name().to_string(),
                        signing_key: None,
                        encryption_key: None,
                        certificates: presented,
                    },
                });
                if service == Service::DrfLocal {
                    drf_session(&node).await;
                }
            }
            NodeCommand::StopService(service) => {
                fail_over_if_high_availability(&node, service);
                tracer.emit(certificate_management::stop_or_start(&certs, service, false));
            }
            NodeCommand::StartService(service) => {
                tracer.emit(certificate_management::stop_or_start(&certs, service, true));
                if service == Service::DrfLocal {
                    drf_session(&node).await;
                }
            }
            NodeCommand::RegenerateCertificate(identity) => regenerate(&node, identity).await,
            // No Cisco CallManager runs here (the parser sends this to subscribers only).
            NodeCommand::ShowOpenPorts(port) => {
                tracer.emit(Happening::OpenPortsShown { port, open: false, purpose: None })
            }
            // The parser sends uploads to CallManager subscribers only.
            NodeCommand::UploadCertificate(name) => {
                unreachable!("no upload of {name} on an IM and Presence node")
            }
            NodeCommand::DeleteCertificate(name) => {
                let now_s = clock::node_now_s(tracer.node(), epoch_s);
                tracer.emit(certificate_management::delete(&certs, &name, NodeRole::ImAndPresence, now_s));
            }
        }
    }
}

/// A service that serves users going down with High Availability on makes the Presence
/// Redundancy Group move the node's users to its peer (assumption: the documents only say
/// to turn High Availability off before restarting).
fn fail_over_if_high_availability(node: &RefCell<ImpNode>, service: Service) {
    let node = node.borrow();
    if service.serves_users() && node.group.high_availability() {
        node.tracer.emit(Happening::HaFailover { service: service.name().to_string() });
    }
}

/// Regenerates an identity certificate here; on a subscriber, then uploads it to the IM
/// and Presence publisher and takes the publisher's certificates of that kind into its
/// trust store (the assumption in [`crate::certs::sync`]). For `ipsec.pem`, every IM and
/// Presence node takes the CallManager publisher's instead ([`ipsec_trust`]).
async fn regenerate(node: &Rc<RefCell<ImpNode>>, identity: Identity) {
    let (certs, imp_publisher, tracer, epoch_s, on_publisher) = {
        let node = node.borrow();
        (
            node.certs.clone(),
            node.imp_publisher.clone(),
            node.tracer.clone(),
            node.epoch_s,
            node.is_imp_publisher(),
        )
    };
    let now_s = clock::node_now_s(tracer.node(), epoch_s);
    let Some(new) = certificate_management::regenerate(&certs, identity, &tracer, now_s) else { return };
    // Every node's IPSec-trust holds the CallManager publisher's ipsec.pem, and a node's
    // own is in nobody's (the Korean document): it is not uploaded.
    if identity == Identity::Ipsec {
        return ipsec_trust::take_publisher_ipsec(&certs, &tracer).await;
    }
    if on_publisher {
        return;
    }
    let synced = match upload_certificate(&imp_publisher, &new, tracer.node()).await {
        Ok(()) => fetch_trust(&imp_publisher, identity, tracer.node()).await,
        Err(reason) => Err(reason),
    };
    match synced {
        Ok(certificates) => {
            let mut store = certs.borrow_mut();
            for certificate in
                certificates.into_iter().filter(|certificate| certificate.host != *tracer.node())
            {
                store.trust_certificate(certificate);
            }
            let serials: Vec<String> = store
                .trust_store(identity)
                .map(|certificate| format!("{}={}", certificate.host, certificate.serial))
                .collect();
            tracer.emit(Happening::TrustSynced {
                store: identity.trust_store(),
                from: imp_publisher.to_string(),
                serials: serials.join(" "),
            });
        }
        Err(reason) => tracer.emit(Happening::TrustSyncFailed {
            store: identity.trust_store(),
            from: imp_publisher.to_string(),
            reason,
        }),
    }
}

/// Sends a new certificate to the IM and Presence publisher's trust store.
async fn upload_certificate(
    imp_publisher: &NodeId,
    certificate: &Certificate,
    agent: &NodeId,
) -> Result<(), String> {
    let upload = CertificateSet::of([certificate]);
    Call::post(imp_publisher, HTTPS_PORT, CERTS_PATH, agent, &upload).fetch::<IgnoredAny>().await.map(|_| ())
}

/// The IM and Presence publisher's certificates of one kind.
async fn fetch_trust(
    imp_publisher: &NodeId,
    identity: Identity,
    agent: &NodeId,
) -> Result<Vec<Certificate>, String> {
    let path = format!("{CERTS_PATH}/{}", identity.name());
    Call::get(imp_publisher, HTTPS_PORT, &path, agent).fetch::<CertificateSet>().await?.read(identity)
}

/// DRF Local opens its session with DRF Primary (on the CallManager publisher).
async fn drf_session(node: &Rc<RefCell<ImpNode>>) {
    let (certs, tracer) = {
        let node = node.borrow();
        (node.certs.clone(), node.tracer.clone())
    };
    ipsec_trust::drf_session(&certs, &tracer).await;
}
