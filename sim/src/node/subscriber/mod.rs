//! A CallManager subscriber: it receives the AuthZ keys from the publisher and validates
//! tokens itself (on UDS, Jabber's first call after login, and on PerfmonService, RTMT's
//! counter queries) with the native validator. An opaque token of the implicit grant it
//! cannot validate itself: it asks the publisher that issued it (proxy mode).
//!
//! Its AuthZ answers the refreshes of the clients homed on it: it checks the refresh token
//! with the keys its running Tomcat loaded, as every CallManager node's AuthZ does, and
//! refuses one it cannot verify (the documents' mismatch: Jabber homed on a node with other
//! keys fails to refresh). One it can verify goes on to the publisher, whose database holds
//! the refresh-token table and which issues the new access token. Assumption (the documents
//! do not say how the nodes' AuthZ share the table): writes go to the publisher's database,
//! modelled as forwarding the request there.

pub mod callmanager;
pub mod tftp;

use std::cell::RefCell;
use std::rc::Rc;

use hyper::{Method, StatusCode};

use crate::certs::service::NodeRole;
use crate::certs::{
    CertStore, Certificate, CertificateName, Identity, PhoneEdgeTrust, Service as NodeService,
};
use crate::clock;
use crate::cluster_database::ClusterDatabase;
use crate::node::authz::consumer::{self, Consumer, Native, Presented};
use crate::node::authz::node_keys::{pull_keys, restart_tomcat, tomcat_restarted, NodeKeys};
use crate::node::authz::opaque_tokens::is_opaque;
use crate::node::authz::proxy::answer_by_proxy;
use crate::node::authz::refresh::verify_refresh_token;
use crate::node::platform_commands::{next_command, NodeCommand, NodeCommands};
use crate::node::subscriber::callmanager::CallManager;
use crate::node::{certificate_management, ipsec_trust};
use crate::node_id::NodeId;
use crate::proto::authz::*;
use crate::proto::http::{Busy, Call, HttpRequest, HttpResponse, Pending};
use crate::proto::keep_alive::KeptConnections;
use crate::proto::tftp::{TFTP_HTTPS_PORT, TFTP_HTTP_PORT};
use crate::trace::{Happening, Tracer};
use tftp::ClusterCerts;

/// A subscriber's state: the keys last pushed to it.
pub struct Subscriber {
    /// The keys on disk (`show key authz`) and those its running Tomcat validates with.
    keys: Rc<RefCell<NodeKeys>>,
    /// `tomcat.pem`, `ipsec.pem` and their trust stores on its disk (with SIP, the same
    /// store Cisco CallManager presents from).
    certs: Rc<RefCell<CertStore>>,
    /// SIP registration, when the cluster has it.
    sip: Option<SubscriberSip>,
    /// The node that issues opaque tokens, asked about them in proxy mode.
    publisher: NodeId,
    /// Times the node has started (more than 1 after a crash).
    boots: u32,
    /// Its connection to the publisher, kept for the refreshes it carries there.
    kept: Rc<KeptConnections>,
    epoch_s: u64,
    tracer: Tracer,
}

/// What a subscriber runs for SIP: Cisco CallManager and TFTP (its certificates are the subscriber's own store).
pub struct SubscriberSip {
    pub callmanager: Rc<RefCell<CallManager>>,
    /// Every subscriber's certificates: the trust list TFTP serves, and the Tomcat-trust a
    /// regeneration updates cluster-wide.
    pub cluster: ClusterCerts,
    pub database: Rc<ClusterDatabase>,
    /// The CA that signs Expressway-C's certificate, which an administrator may upload to
    /// Tomcat-trust.
    pub edge_ca: Certificate,
    /// The cluster's phone-edge-trust (TFTP serves it; an upload here reaches every node).
    pub phone_edge: PhoneEdgeTrust,
    /// The publisher's certificates: what an upload of `phone-edge-trust/cucm-pub.pem` takes.
    pub publisher_certs: Rc<RefCell<CertStore>>,
}

impl Subscriber {
    pub fn new(
        publisher: &NodeId,
        certs: Rc<RefCell<CertStore>>,
        epoch_s: u64,
        tracer: Tracer,
    ) -> Subscriber {
        Subscriber {
            keys: Rc::default(),
            certs,
            sip: None,
            publisher: publisher.clone(),
            boots: 0,
            kept: Rc::default(),
            epoch_s,
            tracer,
        }
    }

    /// Its certificates and trust stores (the documented IPSec check reads them).
    pub fn certs(&self) -> Rc<RefCell<CertStore>> {
        self.certs.clone()
    }

    /// The node's AuthZ keys (CallManager validates with what its Tomcat loaded).
    pub fn keys(&self) -> Rc<RefCell<NodeKeys>> {
        self.keys.clone()
    }

    /// The subscriber registers devices over SIP too.
    pub fn with_sip(mut self, sip: SubscriberSip) -> Subscriber {
        self.sip = Some(sip);
        self
    }

    /// What `show key authz signing` and `show key authz encryption` print here now.
    pub fn show_keys(&self, utc_offset_s: i64) -> Happening {
        self.keys.borrow().show(utc_offset_s)
    }

    fn handle(subscriber: &Rc<RefCell<Subscriber>>, request: HttpRequest) -> Pending {
        if subscriber.borrow().keys.borrow().restarting(clock::elapsed()) {
            let response = HttpResponse::error(StatusCode::SERVICE_UNAVAILABLE, "Cisco Tomcat is restarting");
            return Box::pin(std::future::ready(response));
        }
        let service = match (&request.method, request.path.as_str()) {
            (&Method::POST, KEY_SYNC_PATH) => {
                let response = subscriber.borrow_mut().install(&request);
                return Box::pin(std::future::ready(response));
            }
            (&Method::POST, TOKEN_PATH) => return Subscriber::refresh_at_home(subscriber, request),
            (&Method::GET, UDS_PATH) => Consumer::Uds,
            (&Method::GET, PERFMON_PATH) => Consumer::Perfmon,
            _ => {
                return Box::pin(std::future::ready(HttpResponse::error(
                    StatusCode::NOT_FOUND,
                    "no such endpoint",
                )))
            }
        };
        match request.bearer.as_deref() {
            Some(token) if is_opaque(token) => {
                let (publisher, tracer) = {
                    let subscriber = subscriber.borrow();
                    (subscriber.publisher.clone(), subscriber.tracer.clone())
                };
                Box::pin(answer_by_proxy(publisher, tracer, request, service))
            }
            _ => Box::pin(std::future::ready(subscriber.borrow().validate(service, &request))),
        }
    }

    /// A refresh from a client homed here: checked with this node's loaded keys, then
    /// carried out by the publisher.
    fn refresh_at_home(subscriber: &Rc<RefCell<Subscriber>>, request: HttpRequest) -> Pending {
        let subscriber = subscriber.borrow();
        let client = request.agent.clone().unwrap_or_default();
        let refresh_token = match request.json::<TokenRequest>() {
            Ok(TokenRequest::RefreshToken { refresh_token }) => refresh_token,
            // Sign-ins (the authorization code) are the publisher's.
            Ok(_) => {
                return Box::pin(std::future::ready(oauth_error(
                    "unsupported_grant_type",
                    "sign-in-at-publisher",
                )))
            }
            Err(response) => return Box::pin(std::future::ready(response)),
        };
        let now_s = clock::node_now_s(subscriber.tracer.node(), subscriber.epoch_s);
        let keyring = subscriber.keys.borrow().loaded().cloned();
        if let Err(response) =
            verify_refresh_token(keyring.as_deref(), &refresh_token, now_s, &client, &subscriber.tracer)
        {
            return Box::pin(std::future::ready(response));
        }
        let (publisher, client, kept) =
            (subscriber.publisher.clone(), NodeId::new(client), subscriber.kept.clone());
        Box::pin(async move {
            let grant = TokenRequest::RefreshToken { refresh_token };
            match Call::post(&publisher, HTTPS_PORT, TOKEN_PATH, &client, &grant).send_kept(&kept).await {
                Ok(response) => response,
                Err(e) => HttpResponse::error(StatusCode::BAD_GATEWAY, &format!("publisher: {e}")),
            }
        })
    }

    fn install(&mut self, request: &HttpRequest) -> HttpResponse {
        let now_s = clock::node_now_s(self.tracer.node(), self.epoch_s);
        self.keys.borrow_mut().receive_push(request, &self.tracer, now_s)
    }

    /// A self-contained token, checked here with the keys this node holds.
    fn validate(&self, service: Consumer, request: &HttpRequest) -> HttpResponse {
        let presented = Presented {
            client: request.agent.clone().unwrap_or_default(),
            keyring: self.keys.borrow().loaded().cloned(),
            bearer: request.bearer.as_deref(),
            now_s: clock::node_now_s(self.tracer.node(), self.epoch_s),
            shadow: None,
        };
        match consumer::check(service, presented, &mut Native, &self.tracer) {
            Ok(claims) => HttpResponse::json(StatusCode::OK, &serde_json::json!({ "user": claims.subject })),
            Err(reason) => HttpResponse::error(StatusCode::UNAUTHORIZED, reason),
        }
    }
}

/// The subscriber's program: serve key sync, UDS and PerfmonService, and carry out its CLI
/// commands. The keys it was pushed are on its disk and survive a crash.
pub async fn run(subscriber: Rc<RefCell<Subscriber>>, commands: NodeCommands) -> turmoil::Result {
    let tls = {
        let mut node = subscriber.borrow_mut();
        node.boots += 1;
        // Memory is lost with the node: no connection survives its restart.
        node.kept.clear();
        if node.boots > 1 {
            node.tracer.emit(Happening::NodeRestarted { table_rows: None, revoked_rows: None, forgot: None });
        }
        let (keys, certs, publisher, epoch_s, tracer) = (
            node.keys.clone(),
            node.certs.clone(),
            node.publisher.clone(),
            node.epoch_s,
            node.tracer.clone(),
        );
        let targets = node.sip.as_ref().map(|sip| SipCommandTargets {
            callmanager: sip.callmanager.clone(),
            cluster: sip.cluster.clone(),
            edge_ca: sip.edge_ca.clone(),
            phone_edge: sip.phone_edge.clone(),
            publisher_certs: sip.publisher_certs.clone(),
        });
        if let Some(sip) = &node.sip {
            // A restart of the node starts its services again from what is on disk.
            sip.callmanager.borrow_mut().forget_listeners();
            certs.borrow_mut().load(NodeService::Tomcat);
            CallManager::start(&sip.callmanager);
            let node_name = tracer.node().clone();
            for port in [TFTP_HTTP_PORT, TFTP_HTTPS_PORT] {
                let files = tftp::Files {
                    database: sip.database.clone(),
                    cluster: sip.cluster.clone(),
                    phone_edge: sip.phone_edge.clone(),
                };
                tokio::task::spawn_local(tftp::run(node_name.clone(), port, files));
            }
        }
        let tls = crate::node::tomcat_tls::tomcat_identity(certs.clone(), tracer.node().clone(), epoch_s);
        let on = CommandsOn { keys, certs, targets, publisher, epoch_s, tracer };
        tokio::task::spawn_local(run_commands(commands, on));
        tls
    };
    let handler: crate::proto::http::Handler =
        Rc::new(move |request| Subscriber::handle(&subscriber, request));
    crate::proto::https::serve_https(HTTPS_PORT, handler, Busy::default(), tls).await
}

/// What a subscriber's SIP commands act on.
struct SipCommandTargets {
    callmanager: Rc<RefCell<CallManager>>,
    cluster: ClusterCerts,
    edge_ca: Certificate,
    phone_edge: PhoneEdgeTrust,
    publisher_certs: Rc<RefCell<CertStore>>,
}

impl SipCommandTargets {
    /// The certificate an upload names: the edge CA, or a CallManager node's current one of
    /// that kind (the parser admits no other).
    fn source(&self, name: &CertificateName) -> Option<Certificate> {
        let (store, host) = match name {
            CertificateName::Trust { store, host } => (*store, host),
            CertificateName::PhoneEdgeTrust { host } => (Identity::Tomcat, host),
            CertificateName::Identity(_) => return None,
        };
        if *host == self.edge_ca.host {
            return Some(self.edge_ca.clone());
        }
        tftp::current_anchor(&self.publisher_certs, &self.cluster, host, store)
    }
}

/// What a subscriber's commands act on.
struct CommandsOn {
    keys: Rc<RefCell<NodeKeys>>,
    certs: Rc<RefCell<CertStore>>,
    targets: Option<SipCommandTargets>,
    publisher: NodeId,
    epoch_s: u64,
    tracer: Tracer,
}

/// A subscriber's commands, one at a time, for as long as the node runs: key pulls, Tomcat
/// restarts and `ipsec.pem` regenerations; with SIP (`targets`), Cisco CallManager restarts
/// and `tomcat.pem` regenerations too. The parser routes nothing else to a subscriber.
async fn run_commands(commands: NodeCommands, on: CommandsOn) {
    let CommandsOn { keys, certs, targets, publisher, epoch_s, tracer } = on;
    while let Some(command) = next_command(&commands).await {
        match (command, &targets) {
            (NodeCommand::PullKeys, _) => pull_keys(&keys, &publisher, epoch_s, &tracer).await,
            (NodeCommand::RestartService(NodeService::Tomcat), _) => {
                let loaded = restart_tomcat(&keys).await;
                // 8443 (UDS, tokens) presents what Tomcat loads now: the restart says which.
                let presented =
                    certificate_management::presents(&certs.borrow_mut().load(NodeService::Tomcat));
                tracer.emit(tomcat_restarted(loaded, presented));
            }
            (NodeCommand::ShowOpenPorts(port), Some(targets)) => {
                tracer.emit(targets.callmanager.borrow().show_open_port(port))
            }
            (NodeCommand::RestartService(NodeService::CallManager), Some(targets)) => {
                CallManager::restart(targets.callmanager.clone()).await
            }
            (NodeCommand::RegenerateCertificate(Identity::Ipsec), _) => {
                let now_s = clock::node_now_s(tracer.node(), epoch_s);
                if certificate_management::regenerate(&certs, Identity::Ipsec, &tracer, now_s).is_some() {
                    ipsec_trust::take_publisher_ipsec(&certs, &tracer).await;
                }
            }
            (NodeCommand::RegenerateCertificate(Identity::Tomcat), Some(targets)) => {
                let now_s = clock::node_now_s(tracer.node(), epoch_s);
                // Tomcat-trust is the cluster's: every subscriber holds the new one
                // (assumption: the platform replicates it; the documents do not say).
                if let Some(certificate) =
                    certificate_management::regenerate(&certs, Identity::Tomcat, &tracer, now_s)
                {
                    for other in targets.cluster.iter().filter(|other| !Rc::ptr_eq(other, &certs)) {
                        other.borrow_mut().trust_certificate(certificate.clone());
                    }
                }
            }
            (NodeCommand::StopService(service), _) => {
                tracer.emit(certificate_management::stop_or_start(&certs, service, false))
            }
            (NodeCommand::StartService(service), _) => {
                tracer.emit(certificate_management::stop_or_start(&certs, service, true))
            }
            (NodeCommand::DeleteCertificate(name), targets) => {
                let now_s = clock::node_now_s(tracer.node(), epoch_s);
                let role = NodeRole::CucmSubscriber { sip: targets.is_some() };
                tracer.emit(certificate_management::delete(&certs, &name, role, now_s));
            }
            (
                NodeCommand::UploadCertificate(name @ CertificateName::PhoneEdgeTrust { .. }),
                Some(targets),
            ) => {
                if let Some(certificate) = targets.source(&name) {
                    tracer.emit(certificate_management::uploaded_to_phone_edge_trust(&certificate));
                    targets.phone_edge.upload(certificate);
                }
            }
            (NodeCommand::UploadCertificate(name), Some(targets)) => {
                if let Some(certificate) = targets.source(&name) {
                    let role = NodeRole::CucmSubscriber { sip: true };
                    tracer.emit(certificate_management::uploaded(certificate.identity, &certificate, role));
                    certs.borrow_mut().trust_certificate(certificate);
                }
            }
            (other, _) => unreachable!("the parser gives this CallManager subscriber no {other:?}"),
        }
    }
}
