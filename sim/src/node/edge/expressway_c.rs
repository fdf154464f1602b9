//! The Mobile and Remote Access edge (docs/domain.md "Nodes and roles", "SIP OAuth mode").
//!
//! **Expressway-C**, with "Authorize by OAuth token with refresh" on, checks the access token
//! of every request that carries one through its validator plugin (`expressway`), with keys
//! it fetches from the publisher as Unity does, and sends the request on into the cluster.
//! Token requests (sign-in, refresh, a phone's activation code) pass unchecked, but a phone
//! asking for tokens as an "already registered device" is refused: over MRA, phones onboard
//! by activation code only. A device's SIP registration it carries itself: mutual TLS to
//! the home node's SIP MRA OAuth Port, presenting its own certificate (signed by a CA outside
//! the cluster), the device's REGISTER, and CallManager's answer back.
//!
//! Discovery and refresh of the CallManager nodes (`refresh-expressway`) push its
//! certificate's CN and SAN over AXL into `expresswaycconfiguration`, then check one
//! `CEOAuth <node>` TLS zone per subscriber with a SIP OPTIONS ping: Active, or Failed with
//! the reason (the TLS alert).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

use authzlab_host::{Keyring, Plugin};
use hyper::{Method, StatusCode};
use rand_chacha::ChaCha20Rng;

use crate::certs::authority::Authority;
use crate::certs::certificate::{Draw, IDENTITY_VALIDITY};
use crate::certs::Certificate;
use crate::clock;
use crate::node::authz::consumer::{self, Consumer, Presented};
use crate::node::authz::key_fetch::{self, KEY_FETCH_ATTEMPTS_MAX};
use crate::node::authz::refusal::Refusal;
use crate::node::handshake_failed;
use crate::node_id::NodeId;
use crate::proto::authz::{TokenRequest, TOKEN_PATH};
use crate::proto::axl::{
    DiscoveredNode, ExpresswayNames, ExpresswayNamesHeld, AXL_CALLMANAGERS_PATH, AXL_EXPRESSWAY_PATH,
};
use crate::proto::edge::{self, EdgeRegister, EdgeRegistered, EDGE_PORT, EDGE_REGISTER_PATH};
use crate::proto::http::{serve, Call, HttpRequest, HttpResponse, Pending};
use crate::proto::sip::{self, AskFailure, Register};
use crate::proto::tls;
use crate::scenario::Action;
use crate::trace::reason::Reason;
use crate::trace::{Happening, Tracer};

/// Expressway-C's state.
pub struct ExpresswayC {
    plugin: Plugin,
    /// The native verdicts beside the plugin's (`plugin check --scenarios`).
    shadow: Option<crate::conformance::shadow::Shadow>,
    keyring: Option<Arc<Keyring>>,
    last_fetch_s: Option<u64>,
    publisher: NodeId,
    /// The CA that signs Expressway-C's certificates.
    authority: Rc<Authority>,
    /// Its certificate now (CN the first name, SAN all of them).
    certificate: Certificate,
    /// The subscribers' Tomcat certificates now, which its trusted CA list holds while
    /// `trusts_callmanager`.
    trust: Rc<dyn Fn() -> Vec<Certificate>>,
    /// Whether the administrator uploaded the subscribers' Tomcat certificates (CallManager's
    /// Tomcat signer, self-signed here) to its trusted CA list.
    trusts_callmanager: bool,
    /// The zones discovery made: subscriber → its MRA port.
    zones: BTreeMap<String, u16>,
    /// "Authorize by OAuth token with refresh": off, a request with a self-describing
    /// token is refused here (the documents require it on for Jabber over MRA; what the
    /// edge does without it is ours, an assumption).
    oauth_with_refresh: bool,
    draws: ChaCha20Rng,
    epoch_s: u64,
    tracer: Tracer,
}

/// A step for Expressway-C, routed to it by the driver.
#[derive(Clone, Debug)]
pub enum EdgeCommand {
    /// Discovery again: names over AXL, then the zones.
    Refresh,
    /// A new certificate with these names (CN the first).
    Reissue(Vec<String>),
    /// "Authorize by OAuth token with refresh" on or off, the subscribers' Tomcat
    /// certificates in its trusted CA list or not; `None` leaves a setting as it is.
    Configure { oauth_with_refresh: Option<bool>, trusts_callmanager: Option<bool> },
}

impl EdgeCommand {
    /// The command a step routed to Expressway-C asks for (`None`: not Expressway-C's).
    pub fn of(action: &Action) -> Option<EdgeCommand> {
        match action {
            Action::RefreshExpressway => Some(EdgeCommand::Refresh),
            Action::ReissueExpresswayCertificate { san } => Some(EdgeCommand::Reissue(san.clone())),
            Action::ConfigureExpressway { oauth_with_refresh, trusts_callmanager } => {
                Some(EdgeCommand::Configure {
                    oauth_with_refresh: *oauth_with_refresh,
                    trusts_callmanager: *trusts_callmanager,
                })
            }
            _ => None,
        }
    }
}

/// The commands waiting for Expressway-C (the scenario's queue; it outlives a crash).
pub type EdgeCommands = Rc<RefCell<tokio::sync::mpsc::Receiver<EdgeCommand>>>;

/// A certificate for Expressway-C with `names` (CN the first), drawn from `draws`.
pub fn issue_certificate(
    authority: &Authority,
    names: &[String],
    draws: &mut ChaCha20Rng,
    not_before_s: u64,
) -> Result<Certificate, String> {
    let draw = Draw::from_stream(draws);
    let (cn, sans) = names.split_first().ok_or("Expressway-C's certificate needs a name")?;
    authority.issue(cn, sans, &draw, not_before_s, IDENTITY_VALIDITY)
}

impl ExpresswayC {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        plugin: Plugin,
        publisher: &NodeId,
        authority: Rc<Authority>,
        names: &[String],
        trust: Rc<dyn Fn() -> Vec<Certificate>>,
        mut draws: ChaCha20Rng,
        epoch_s: u64,
        tracer: Tracer,
    ) -> Result<ExpresswayC, String> {
        let certificate = issue_certificate(&authority, names, &mut draws, epoch_s)?;
        Ok(ExpresswayC {
            plugin,
            shadow: None,
            keyring: None,
            last_fetch_s: None,
            publisher: publisher.clone(),
            authority,
            certificate,
            trust,
            trusts_callmanager: true,
            zones: BTreeMap::new(),
            oauth_with_refresh: true,
            draws,
            epoch_s,
            tracer,
        })
    }

    /// Checks every token natively too, keeping both verdicts in `shadow`.
    pub fn with_shadow(mut self, shadow: Option<crate::conformance::shadow::Shadow>) -> ExpresswayC {
        self.shadow = shadow;
        self
    }

    /// The certificate's CN and SAN entries.
    fn names(&self) -> Vec<String> {
        let mut names = vec![self.certificate.host.clone()];
        if let Ok(x509) = openssl::x509::X509::from_der(self.certificate.der()) {
            if let Some(sans) = x509.subject_alt_names() {
                names.extend(sans.iter().filter_map(|san| san.dnsname().map(str::to_string)));
            }
        }
        names.dedup();
        names
    }

    fn now_s(&self) -> u64 {
        clock::node_now_s(self.tracer.node(), self.epoch_s)
    }

    /// With "Authorize by OAuth token with refresh" `on` or off, and the subscribers' Tomcat
    /// certificates in its trusted CA list or not.
    pub fn with_settings(mut self, oauth_with_refresh: bool, trusts_callmanager: bool) -> ExpresswayC {
        self.oauth_with_refresh = oauth_with_refresh;
        self.trusts_callmanager = trusts_callmanager;
        self
    }

    /// The CA certificates it checks a subscriber's MRA port against.
    fn trusted(&self) -> Vec<Certificate> {
        if self.trusts_callmanager {
            (self.trust)()
        } else {
            Vec::new()
        }
    }

    /// Checks a remote device's access token; also says whether the keys should be fetched again.
    fn admit(&mut self, client: &str, token: Option<&str>) -> (Result<(), String>, bool) {
        if !self.oauth_with_refresh && token.is_some() {
            let reason = Reason::RefreshAuthorizationOff;
            self.tracer.emit(Consumer::Edge.rejected(
                client.to_string(),
                Refusal::because(reason),
                None,
                None,
            ));
            return (Err(reason.name().to_string()), false);
        }
        let now_s = self.now_s();
        let presented = Presented {
            client: client.to_string(),
            keyring: self.keyring.clone(),
            bearer: token,
            now_s,
            shadow: self.shadow.as_ref(),
        };
        match consumer::check(Consumer::Edge, presented, &mut self.plugin, &self.tracer) {
            Ok(_) => (Ok(()), false),
            Err(reason) => {
                let refetch = key_fetch::refetch_due(reason, &mut self.last_fetch_s, now_s);
                (Err(reason.to_string()), refetch)
            }
        }
    }

    fn handle(edge: &Rc<RefCell<ExpresswayC>>, request: HttpRequest) -> Pending {
        let client = request.agent.clone().unwrap_or_default();
        let ready = |response| -> Pending { Box::pin(std::future::ready(response)) };
        if (&request.method, request.path.as_str()) == (&Method::POST, EDGE_REGISTER_PATH) {
            let (admitted, refetch) = edge.borrow_mut().admit(&client, request.bearer.as_deref());
            if refetch {
                tokio::task::spawn_local(fetch_keys(edge.clone(), "unknown-key", 1));
            }
            if let Err(reason) = admitted {
                return ready(HttpResponse::error(StatusCode::UNAUTHORIZED, &reason));
            }
            return Box::pin(register(edge.clone(), client, request));
        }
        let Some((host, port, path)) = edge::target(&request.path) else {
            return ready(HttpResponse::error(StatusCode::NOT_FOUND, "not an edge path"));
        };
        let (host, path) = (host.to_string(), path.to_string());
        if path == TOKEN_PATH && matches!(request.json::<TokenRequest>(), Ok(TokenRequest::RegisteredDevice))
        {
            let reason = Reason::ActivationCodeRequired;
            let refusal = Refusal {
                detail: Some("over MRA a phone onboards by activation code only".to_string()),
                ..Refusal::because(reason)
            };
            edge.borrow().tracer.emit(Consumer::Edge.rejected(client, refusal, None, None));
            return ready(HttpResponse::error(StatusCode::FORBIDDEN, reason.name()));
        }
        if request.bearer.is_some() {
            let (admitted, refetch) = edge.borrow_mut().admit(&client, request.bearer.as_deref());
            if refetch {
                tokio::task::spawn_local(fetch_keys(edge.clone(), "unknown-key", 1));
            }
            if let Err(reason) = admitted {
                return ready(HttpResponse::error(StatusCode::UNAUTHORIZED, &reason));
            }
        }
        Box::pin(async move {
            let (host, client) = (NodeId::new(host), NodeId::new(client));
            let call = Call {
                host: &host,
                port,
                method: request.method.clone(),
                path: &path,
                bearer: request.bearer.as_deref(),
                agent: &client,
                body: request.body.clone(),
            };
            call.send().await.unwrap_or_else(|e| HttpResponse::error(StatusCode::BAD_GATEWAY, &e.to_string()))
        })
    }
}

/// A device's registration: mutual TLS to its home node's MRA port, the REGISTER, the answer.
async fn register(edge: Rc<RefCell<ExpresswayC>>, client: String, request: HttpRequest) -> HttpResponse {
    let body = match request.json::<EdgeRegister>() {
        Ok(body) => body,
        Err(response) => return response,
    };
    let (port, connector, tracer) = {
        let this = edge.borrow();
        let Some(port) = this.zones.get(&body.home).copied() else {
            let outcome = EdgeRegistered {
                reason: Some(format!("no zone CEOAuth {}", body.home)),
                ..Default::default()
            };
            return HttpResponse::json(StatusCode::OK, &outcome);
        };
        let connector =
            tls::connector(&NodeId::EXPRESSWAY_C, this.epoch_s, &this.trusted(), Some(&this.certificate));
        (port, connector, this.tracer.clone())
    };
    let connector = match connector {
        Ok(connector) => connector,
        Err(reason) => {
            return HttpResponse::json(
                StatusCode::OK,
                &EdgeRegistered { reason: Some(reason), ..Default::default() },
            )
        }
    };
    let register = Register::new(
        &client,
        &body.user,
        request.bearer.as_deref(),
        NodeId::EXPRESSWAY_C.as_str(),
        5061,
        clock::elapsed().as_millis() as u64,
    );
    let outcome = async {
        let bytes = register.to_bytes(&body.home, port).map_err(AskFailure::Other)?;
        sip::ask_over_tls(&connector, &body.home, port, &bytes).await
    };
    let outcome = match outcome.await {
        Ok((status, line)) => {
            EdgeRegistered { status: Some(status), port: Some(port), line: Some(line), ..Default::default() }
        }
        Err(AskFailure::Tls(failure)) => {
            handshake_failed(&tracer, Some(&body.home), port, &failure);
            EdgeRegistered {
                port: Some(port),
                alert: failure.alert().map(str::to_string),
                reason: Some(failure.to_string()),
                ..Default::default()
            }
        }
        Err(AskFailure::Other(reason)) => {
            EdgeRegistered { port: Some(port), reason: Some(reason), ..Default::default() }
        }
    };
    HttpResponse::json(StatusCode::OK, &outcome)
}

/// Fetches the keys from the publisher.
async fn fetch_keys(edge: Rc<RefCell<ExpresswayC>>, cause: &'static str, attempts: u32) {
    let (server, tracer) = {
        let this = edge.borrow();
        (this.publisher.clone(), this.tracer.clone())
    };
    if let Some(keyring) = key_fetch::fetch(&server, cause, attempts, &tracer).await {
        edge.borrow_mut().keyring = Some(Arc::new(keyring));
    }
}

/// Discovery or refresh: the names over AXL into `expresswaycconfiguration`, then one zone
/// per subscriber, each checked with a SIP OPTIONS ping over mutual TLS.
async fn refresh(edge: &Rc<RefCell<ExpresswayC>>) {
    let (publisher, names, tracer) = {
        let this = edge.borrow();
        (this.publisher.clone(), this.names(), this.tracer.clone())
    };
    let pushed = Call::post(
        &publisher,
        crate::proto::authz::HTTPS_PORT,
        AXL_EXPRESSWAY_PATH,
        &NodeId::EXPRESSWAY_C,
        &ExpresswayNames { names: names.clone() },
    )
    .fetch::<ExpresswayNamesHeld>()
    .await;
    let (held, reason) = match pushed {
        Ok(held) => (held.held, None),
        Err(reason) => (0, Some(reason)),
    };
    tracer.emit(Happening::ExpresswayNamesPushed { names: names.join(" "), held, reason });
    let nodes =
        Call::get(&publisher, crate::proto::authz::HTTPS_PORT, AXL_CALLMANAGERS_PATH, &NodeId::EXPRESSWAY_C)
            .fetch::<Vec<DiscoveredNode>>()
            .await;
    let nodes = match nodes {
        Ok(nodes) => nodes,
        Err(reason) => {
            return tracer.emit(Happening::ZoneStatus {
                zone: "CEOAuth *".to_string(),
                status: "Failed".to_string(),
                reason: Some(reason),
            })
        }
    };
    for node in nodes.into_iter().take(crate::scenario::CUCM_SUBSCRIBERS_MAX as usize) {
        edge.borrow_mut().zones.insert(node.name.clone(), node.mra_port);
        let reason = ping(edge, &node).await.err();
        tracer.emit(Happening::ZoneStatus {
            zone: format!("CEOAuth {}", node.name),
            status: if reason.is_none() { "Active" } else { "Failed" }.to_string(),
            reason,
        });
    }
}

/// A SIP OPTIONS ping over the zone's mutual TLS.
async fn ping(edge: &Rc<RefCell<ExpresswayC>>, node: &DiscoveredNode) -> Result<(), String> {
    let (connector, tracer) = {
        let this = edge.borrow();
        (
            tls::connector(&NodeId::EXPRESSWAY_C, this.epoch_s, &this.trusted(), Some(&this.certificate))?,
            this.tracer.clone(),
        )
    };
    let outcome = async {
        let ping = sip::options_bytes(
            NodeId::EXPRESSWAY_C.as_str(),
            &node.name,
            node.mra_port,
            clock::elapsed().as_millis() as u64,
        )
        .map_err(AskFailure::Other)?;
        sip::ask_over_tls(&connector, &node.name, node.mra_port, &ping).await
    };
    match outcome.await {
        Ok((200, _)) => Ok(()),
        Ok((status, line)) => Err(format!("SIP {status}: {line}")),
        Err(AskFailure::Tls(failure)) => {
            handshake_failed(&tracer, Some(&node.name), node.mra_port, &failure);
            Err(failure.alert().map_or_else(|| failure.to_string(), |alert| format!("TLS alert {alert}")))
        }
        Err(AskFailure::Other(reason)) => Err(reason),
    }
}

/// Expressway-C's program: fetch the keys, discover the CallManager nodes, serve the edge,
/// and carry out its steps.
pub async fn run(edge: Rc<RefCell<ExpresswayC>>, commands: EdgeCommands) -> turmoil::Result {
    tokio::task::spawn_local(fetch_keys(edge.clone(), "start-up", KEY_FETCH_ATTEMPTS_MAX));
    {
        let edge = edge.clone();
        tokio::task::spawn_local(async move {
            refresh(&edge).await;
            while let Some(command) = std::future::poll_fn(|cx| commands.borrow_mut().poll_recv(cx)).await {
                match command {
                    EdgeCommand::Refresh => refresh(&edge).await,
                    EdgeCommand::Configure { oauth_with_refresh, trusts_callmanager } => {
                        let mut this = edge.borrow_mut();
                        this.oauth_with_refresh = oauth_with_refresh.unwrap_or(this.oauth_with_refresh);
                        this.trusts_callmanager = trusts_callmanager.unwrap_or(this.trusts_callmanager);
                        this.tracer.emit(Happening::ExpresswayConfigured {
                            oauth_with_refresh: this.oauth_with_refresh,
                            trusts_callmanager: this.trusts_callmanager,
                        });
                    }
                    EdgeCommand::Reissue(names) => {
                        let mut this = edge.borrow_mut();
                        let now_s = this.now_s();
                        let authority = this.authority.clone();
                        match issue_certificate(&authority, &names, &mut this.draws, now_s) {
                            Ok(certificate) => {
                                this.certificate = certificate;
                                let names = this.names().join(" ");
                                let serial = this.certificate.serial.clone();
                                this.tracer.emit(Happening::ExpresswayCertificateReissued { names, serial });
                            }
                            Err(reason) => this.tracer.emit(Happening::ExpresswayNamesPushed {
                                names: names.join(" "),
                                held: 0,
                                reason: Some(reason),
                            }),
                        }
                    }
                }
            }
        });
    }
    serve(EDGE_PORT, Rc::new(move |request| ExpresswayC::handle(&edge, request))).await
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::time::Duration;

    use authzlab_host::{Limits, PluginHost};

    use super::*;
    use crate::seeds::Seeds;
    use crate::trace::{Seen, Trace};

    /// Over MRA a phone onboards by activation code only: asking the edge for tokens as an
    /// "already registered device" is refused there, before it reaches the cluster, and the
    /// trace says why.
    #[test]
    fn over_mra_a_phone_asking_as_a_registered_device_is_refused_at_the_edge() {
        let host = PluginHost::new(Limits::default(), 0).unwrap();
        let artifact = authzlab_plugins::EXPRESSWAY;
        let plugin = host.load(artifact.name, artifact.bytes).unwrap();
        let trace = Trace::new();
        let seen = Seen::default();
        trace.observe(Box::new(seen.clone()));
        let seeds = Seeds::new(1);
        let draw = Draw { serial: [1; 8], key_seed: [2; 32] };
        let authority = Rc::new(Authority::new("Enterprise Root CA", &draw, 1_767_484_800).unwrap());
        let edge = ExpresswayC::new(
            plugin,
            &NodeId::PUBLISHER,
            authority,
            &["expressway-c.example.com".to_string()],
            Rc::new(Vec::new),
            seeds.rng("edge"),
            1_767_571_200,
            trace.node(&NodeId::EXPRESSWAY_C),
        )
        .unwrap();
        let edge = Rc::new(RefCell::new(edge));
        let ask = |grant: &TokenRequest| HttpRequest {
            method: Method::POST,
            path: edge::edge_path("cucm-pub", crate::proto::authz::HTTPS_PORT, TOKEN_PATH),
            bearer: None,
            agent: Some("phone-1".to_string()),
            body: serde_json::to_vec(grant).unwrap().into(),
            waited: Duration::ZERO,
        };
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let response = runtime.block_on(ExpresswayC::handle(&edge, ask(&TokenRequest::RegisteredDevice)));
        assert_eq!(response.status, StatusCode::FORBIDDEN);
        let events = seen.0.borrow();
        let refused =
            events.iter().find(|event| event.kind == "edge-request-rejected").expect("the refusal is traced");
        assert_eq!(refused.field_text("reason").as_deref(), Some("activation-code-required"));
        assert_eq!(refused.field_text("client").as_deref(), Some("phone-1"));
        // A request with a token the edge cannot check (it has no keys yet) is refused too.
        drop(events);
        let uds = HttpRequest {
            bearer: Some("eyJhbGciOiJSUzI1NiJ9.e30.c2ln".to_string()),
            ..ask(&TokenRequest::RegisteredDevice)
        };
        let uds = HttpRequest {
            path: edge::edge_path("cucm-sub-1", 8443, "/cucm-uds/user"),
            body: Default::default(),
            ..uds
        };
        let response = runtime.block_on(ExpresswayC::handle(&edge, uds));
        assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    }
}
