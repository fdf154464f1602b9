//! Cisco CallManager on a subscriber: SIP registration (docs/domain.md "SIP OAuth mode").
//!
//! When it starts it reads `ClusterSIPOAuthMode` and this node's SIP OAuth ports from the
//! database and loads `tomcat.pem` and Tomcat-trust; it keeps all of that until it restarts
//! (the documents: the mode takes effect only after CallManager restarts, and after a Tomcat
//! regeneration the OAuth ports keep the old certificate until then). With SIP OAuth on it
//! listens on the SIP Phone OAuth Port (TLS) and the SIP MRA OAuth Port (mutual TLS: the peer
//! must be signed by a Tomcat-trust CA *and* named in `expresswaycconfiguration`); a
//! REGISTER must carry an access token the node's validator plugin (`callmanager-sip`)
//! accepts with the keys this node's AuthZ loaded, or it is answered `SIP/2.0 403
//! Forbidden`. It listens on the legacy ports 5060 (TCP) and 5061 (TLS) either way, for devices
//! that do not use OAuth.
//!
//! Assumption (the documents do not say): CallManager validates with the AuthZ keys the
//! node's running Tomcat loaded (`node_keys`), the keys every other service of the node uses.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use authzlab_host::Plugin;
use tokio::io::AsyncWriteExt;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::certs::{CertStore, Identity, Service};
use crate::clock;
use crate::cluster_database::{ClusterDatabase, PeerNames};
use crate::node::authz::consumer::{self, Consumer, Presented};
use crate::node::authz::node_keys::NodeKeys;
use crate::node::handshake_failed;
use crate::proto::http::REQUEST_TIMEOUT;
use crate::proto::metered::Metered;
use crate::proto::sip::{self, Answer, Incoming, Register, SIP_OAUTH_PORT_RANGE, SIP_PORT, SIP_TLS_PORT};
use crate::proto::tls;
use crate::trace::{Happening, Tracer};

/// Assumption (the documents give no figure): how long Cisco CallManager takes to restart;
/// no port is open meanwhile.
pub const CALLMANAGER_RESTART: Duration = Duration::from_secs(30);
/// Connections one port may have waiting; the turmoil backlog bounds it too.
const CONNECTIONS_PER_PORT_MAX: usize = 512;

/// What a SIP port is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// SIP Phone OAuth Port: TLS, a token in every REGISTER.
    OAuthPhone,
    /// SIP MRA OAuth Port: mutual TLS from Expressway-C, a token in every REGISTER.
    OAuthMra,
    /// Legacy SIP over TCP (SIP OAuth off).
    Legacy,
    /// Legacy SIP over TLS (SIP OAuth off).
    LegacyTls,
}

impl Purpose {
    fn name(self) -> &'static str {
        match self {
            Purpose::OAuthPhone => "sip-oauth-phone",
            Purpose::OAuthMra => "sip-oauth-mra",
            Purpose::Legacy => "sip",
            Purpose::LegacyTls => "sip-tls",
        }
    }

    fn transport(self) -> &'static str {
        match self {
            Purpose::OAuthPhone | Purpose::LegacyTls => "tls",
            Purpose::OAuthMra => "mtls",
            Purpose::Legacy => "tcp",
        }
    }

    fn oauth(self) -> bool {
        matches!(self, Purpose::OAuthPhone | Purpose::OAuthMra)
    }
}

/// The Cisco CallManager service of one subscriber.
pub struct CallManager {
    database: Rc<ClusterDatabase>,
    certs: Rc<RefCell<CertStore>>,
    keys: Rc<RefCell<NodeKeys>>,
    plugin: Plugin,
    /// The native verdicts beside the plugin's (`plugin check --scenarios`).
    shadow: Option<crate::conformance::shadow::Shadow>,
    /// The listening ports' tasks, stopped when the service stops.
    listeners: Vec<JoinHandle<()>>,
    /// The ports those tasks listen on, and what for.
    open: Vec<(u16, Purpose)>,
    epoch_s: u64,
    tracer: Tracer,
}

impl CallManager {
    pub fn new(
        database: Rc<ClusterDatabase>,
        certs: Rc<RefCell<CertStore>>,
        keys: Rc<RefCell<NodeKeys>>,
        plugin: Plugin,
        epoch_s: u64,
        tracer: Tracer,
    ) -> CallManager {
        CallManager {
            database,
            certs,
            keys,
            plugin,
            shadow: None,
            listeners: Vec::new(),
            open: Vec::new(),
            epoch_s,
            tracer,
        }
    }

    /// Checks every token natively too, keeping both verdicts in `shadow`.
    pub fn with_shadow(mut self, shadow: Option<crate::conformance::shadow::Shadow>) -> CallManager {
        self.shadow = shadow;
        self
    }

    /// The service starts: it reads the mode and ports, loads `tomcat.pem` and Tomcat-trust,
    /// and opens its ports. A port outside the allowed range is never opened (the database
    /// holds only checked ports; this is the last guard).
    pub fn start(callmanager: &Rc<RefCell<CallManager>>) {
        let mut this = callmanager.borrow_mut();
        let node = this.tracer.node().clone();
        let read =
            this.database.sip_oauth_mode().and_then(|oauth| Ok((oauth, this.database.ports(node.as_str())?)));
        let (oauth, ports) = match read {
            Ok(read) => read,
            Err(reason) => {
                // Without its configuration the service cannot come up; the trace says why.
                this.tracer.emit(Happening::CallmanagerFailed { reason });
                return;
            }
        };
        let (certificate, trust) = {
            let mut certs = this.certs.borrow_mut();
            certs.load(Service::CallManager);
            let certificate = certs.presented(Service::CallManager, Identity::Tomcat).cloned();
            let trust: Vec<_> = certs.trust_store(Identity::Tomcat).cloned().collect();
            (certificate, trust)
        };
        let Some(certificate) = certificate else {
            let reason = "no tomcat.pem on disk".to_string();
            return this.tracer.emit(Happening::CallmanagerFailed { reason });
        };
        // The legacy ports stay open with SIP OAuth on: devices that do not use OAuth (a
        // Non Secure phone, any phone before release 14) register there as before.
        let mut plan = vec![(SIP_PORT, Purpose::Legacy), (SIP_TLS_PORT, Purpose::LegacyTls)];
        if oauth {
            plan.extend([(ports.phone, Purpose::OAuthPhone), (ports.mra, Purpose::OAuthMra)]);
        }
        let mut opened = Vec::new();
        for (port, purpose) in plan {
            if purpose.oauth() && !SIP_OAUTH_PORT_RANGE.contains(&port) {
                continue;
            }
            let acceptor = match purpose {
                Purpose::Legacy => None,
                Purpose::OAuthMra => tls::acceptor(&node, this.epoch_s, &certificate, Some(&trust)).ok(),
                Purpose::OAuthPhone | Purpose::LegacyTls => {
                    tls::acceptor(&node, this.epoch_s, &certificate, None).ok()
                }
            };
            if purpose != Purpose::Legacy && acceptor.is_none() {
                continue;
            }
            this.tracer.emit(Happening::PortOpened { port, purpose: purpose.name().to_string() });
            opened.push(format!("{port}/{}", purpose.transport()));
            let task = tokio::task::spawn_local(listen(callmanager.clone(), port, purpose, acceptor));
            this.listeners.push(task);
            this.open.push((port, purpose));
        }
        this.tracer.emit(Happening::CallmanagerStarted {
            oauth,
            ports: opened.join(" "),
            certificate: certificate.serial.clone(),
        });
    }

    /// After a crash of the node its listening tasks are gone with it: forget them.
    pub fn forget_listeners(&mut self) {
        self.listeners.clear();
        self.open.clear();
    }

    /// `show open ports regexp <port>`: whether Cisco CallManager listens there now.
    pub fn show_open_port(&self, port: u16) -> Happening {
        let purpose =
            self.open.iter().find(|(open, _)| *open == port).map(|(_, purpose)| purpose.name().to_string());
        Happening::OpenPortsShown { port, open: purpose.is_some(), purpose }
    }

    /// `utils service restart Cisco CallManager`: the ports close, and the service starts
    /// again after [`CALLMANAGER_RESTART`] with what is on disk then.
    pub async fn restart(callmanager: Rc<RefCell<CallManager>>) {
        for listener in callmanager.borrow_mut().listeners.drain(..) {
            listener.abort();
        }
        callmanager.borrow_mut().open.clear();
        clock::sleep(CALLMANAGER_RESTART).await;
        CallManager::start(&callmanager);
        let this = callmanager.borrow();
        this.tracer.emit(Happening::ServiceRestarted {
            service: Service::CallManager.name().to_string(),
            signing_key: None,
            encryption_key: None,
            certificates: this
                .certs
                .borrow()
                .presented(Service::CallManager, Identity::Tomcat)
                .map(|certificate| format!("{}={}", Identity::Tomcat.file(), certificate.serial)),
        });
    }

    /// A REGISTER on an OAuth port (from `peer`, Expressway-C's names, on the MRA port): its
    /// token decides.
    fn answer(&mut self, register: &Register, port: u16, peer: Option<String>) -> Answer {
        let presented = Presented {
            client: register.device.clone(),
            keyring: self.keys.borrow().loaded().cloned(),
            bearer: register.bearer.as_deref(),
            now_s: clock::node_now_s(self.tracer.node(), self.epoch_s),
            shadow: self.shadow.as_ref(),
        };
        let line = Answer::Forbidden.line(&register.via);
        let consumer = Consumer::SipRegister { port, peer, line };
        match consumer::check(consumer, presented, &mut self.plugin, &self.tracer) {
            Ok(_) => Answer::Ok,
            Err(_) => Answer::Forbidden,
        }
    }
}

/// One port's accept loop.
async fn listen(
    callmanager: Rc<RefCell<CallManager>>,
    port: u16,
    purpose: Purpose,
    acceptor: Option<TlsAcceptor>,
) {
    let Ok(listener) = turmoil::net::TcpListener::bind(("0.0.0.0", port)).await else { return };
    let open = Rc::new(std::cell::Cell::new(0usize));
    loop {
        let Ok((stream, _)) = listener.accept().await else { return };
        // Metered at once: accepting answered the SYN, and a refused stream's drop sends a FIN.
        let stream = Metered::new(stream);
        if open.get() >= CONNECTIONS_PER_PORT_MAX {
            continue;
        }
        open.set(open.get() + 1);
        let (callmanager, acceptor, open) = (callmanager.clone(), acceptor.clone(), open.clone());
        tokio::task::spawn_local(async move {
            serve_connection(&callmanager, stream, port, purpose, acceptor.as_ref()).await;
            open.set(open.get() - 1);
        });
    }
}

/// One connection: the handshake (mutual on the MRA port, then the peer's names), one
/// REGISTER and its answer. An error ends this connection only.
async fn serve_connection(
    callmanager: &Rc<RefCell<CallManager>>,
    mut stream: Metered<turmoil::net::TcpStream>,
    port: u16,
    purpose: Purpose,
    acceptor: Option<&TlsAcceptor>,
) {
    let tracer = callmanager.borrow().tracer.clone();
    let Some(acceptor) = acceptor else {
        // Legacy SIP over TCP: no token, no TLS.
        if let Some(Incoming::Register(register)) = read_request(&mut stream).await {
            tracer.emit(Happening::SipRegisteredLegacy { client: register.device.clone(), port });
            let _ = stream.write_all(&Answer::Ok.to_bytes(&register.via)).await;
            let _ = stream.shutdown().await;
        }
        return;
    };
    let mut stream = match tls::accept(acceptor, stream).await {
        Ok(stream) => stream,
        Err(failure) => return handshake_failed(&tracer, None, port, &failure),
    };
    let mut peer = None;
    if purpose == Purpose::OAuthMra {
        let names = tls::peer_names(&stream);
        let verdict = callmanager.borrow().database.expressway_peer(&names).unwrap_or(PeerNames::NotListed);
        if verdict != PeerNames::Accepted {
            let domain = match verdict {
                PeerNames::DomainNotAdded(domain) => Some(domain),
                _ => None,
            };
            tracer.emit(Happening::MtlsPeerRefused { port, names: names.join(" "), domain });
            let _ = stream.shutdown().await;
            return;
        }
        peer = Some(names.join(" "));
    }
    let (answer, via) = match read_request(&mut stream).await {
        Some(Incoming::Options { via }) => (Answer::Ok, via),
        Some(Incoming::Register(register)) if purpose.oauth() => {
            (callmanager.borrow_mut().answer(&register, port, peer), register.via)
        }
        Some(Incoming::Register(register)) => {
            tracer.emit(Happening::SipRegisteredLegacy { client: register.device.clone(), port });
            (Answer::Ok, register.via)
        }
        None => return,
    };
    let _ = stream.write_all(&answer.to_bytes(&via)).await;
    let _ = stream.shutdown().await;
}

/// A REGISTER or OPTIONS off the connection within [`REQUEST_TIMEOUT`]; anything else ends it.
async fn read_request<S: tokio::io::AsyncRead + Unpin>(stream: &mut S) -> Option<Incoming> {
    let message = clock::timeout(REQUEST_TIMEOUT, sip::read_message(stream)).await.ok()?.ok()?;
    sip::incoming(&message).ok()
}
