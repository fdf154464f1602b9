//! Real TLS between nodes (docs/architecture.md "TLS and certificates"): rustls over turmoil's TCP, with
//! the nodes' rcgen certificates and their trust stores.
//!
//! Determinism: rustls draws its handshake randomness (client and server randoms, session
//! ids) from [`SeededRandom`], a per-thread ChaCha stream the run seeds, and the X25519 key
//! shares from the same stream ([`SeededX25519`]: ring's own key exchange draws from the
//! operating system and cannot be handed another source). It reads the time for certificate
//! validity from the node's own clock (`clock::node_now_ms`, skew included), never the wall
//! clock. So a replay makes the same handshakes, byte for byte.
//!
//! Only TLS 1.3, no resumption: every connection makes a full handshake, as a fresh REGISTER
//! connection or a new zone's first connection does, and costs what the note measures.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Duration;

use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use rustls::client::Resumption;
use rustls::crypto::{
    ActiveKeyExchange, CryptoProvider, GetRandomFailed, SecureRandom, SharedSecret, SupportedKxGroup,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::server::{NoServerSessionStorage, WebPkiClientVerifier};
use rustls::time_provider::TimeProvider;
use rustls::{AlertDescription, ClientConfig, NamedGroup, PeerMisbehaved, RootCertStore, ServerConfig};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use crate::certs::certificate::Certificate;
use crate::clock;
use crate::node_id::NodeId;
use crate::proto::http::REQUEST_TIMEOUT;
use crate::proto::metered::Metered;

/// A TLS connection over a simulated TCP stream, client side.
pub type ClientStream = tokio_rustls::client::TlsStream<Metered<turmoil::net::TcpStream>>;
/// A TLS connection over a simulated TCP stream, server side.
pub type ServerStream = tokio_rustls::server::TlsStream<Metered<turmoil::net::TcpStream>>;

thread_local! {
    /// One run's handshake randomness. Each run is on one thread; runs on other threads
    /// (parallel tests) have their own stream.
    static RANDOM: RefCell<ChaCha20Rng> = RefCell::new(ChaCha20Rng::seed_from_u64(0));
}

/// Seeds this thread's handshake randomness; the driver calls it when a run starts.
pub fn reseed(seed: u64) {
    RANDOM.with(|random| *random.borrow_mut() = ChaCha20Rng::seed_from_u64(seed));
}

/// rustls's random source, drawn from the run's seed.
#[derive(Debug)]
struct SeededRandom;

impl SecureRandom for SeededRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        RANDOM.with(|random| random.borrow_mut().fill_bytes(buf));
        Ok(())
    }
}

static SEEDED_RANDOM: SeededRandom = SeededRandom;

/// The X25519 key exchange with its secret drawn from the run's seed (x25519-dalek).
#[derive(Debug)]
struct SeededX25519;

static SEEDED_X25519: SeededX25519 = SeededX25519;

impl SupportedKxGroup for SeededX25519 {
    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, rustls::Error> {
        let mut secret = [0u8; 32];
        RANDOM.with(|random| random.borrow_mut().fill_bytes(&mut secret));
        let secret = x25519_dalek::StaticSecret::from(secret);
        let public = x25519_dalek::PublicKey::from(&secret);
        Ok(Box::new(X25519Share { secret, public }))
    }

    fn name(&self) -> NamedGroup {
        NamedGroup::X25519
    }
}

/// One handshake's X25519 secret and the public share sent for it.
struct X25519Share {
    secret: x25519_dalek::StaticSecret,
    public: x25519_dalek::PublicKey,
}

impl ActiveKeyExchange for X25519Share {
    fn complete(self: Box<Self>, peer: &[u8]) -> Result<SharedSecret, rustls::Error> {
        let peer: [u8; 32] = peer.try_into().map_err(|_| PeerMisbehaved::InvalidKeyShare)?;
        let shared = self.secret.diffie_hellman(&x25519_dalek::PublicKey::from(peer));
        // An all-zero result means the peer sent a low-order point (RFC 7748 §6.1).
        if !shared.was_contributory() {
            return Err(PeerMisbehaved::InvalidKeyShare.into());
        }
        Ok(SharedSecret::from(&shared.as_bytes()[..]))
    }

    fn pub_key(&self) -> &[u8] {
        self.public.as_bytes()
    }

    fn group(&self) -> NamedGroup {
        NamedGroup::X25519
    }
}

/// ring's algorithms, with the seeded random source and the seeded X25519 as the only key
/// exchange (every node here speaks TLS 1.3 with X25519).
fn provider() -> Arc<CryptoProvider> {
    let mut provider = rustls::crypto::ring::default_provider();
    provider.secure_random = &SEEDED_RANDOM;
    provider.kx_groups = vec![&SEEDED_X25519];
    Arc::new(provider)
}

/// The time a node's TLS reads: its own clock.
#[derive(Debug)]
struct NodeTime {
    node: NodeId,
    epoch_s: u64,
}

impl TimeProvider for NodeTime {
    fn current_time(&self) -> Option<UnixTime> {
        Some(UnixTime::since_unix_epoch(Duration::from_millis(clock::node_now_ms(&self.node, self.epoch_s))))
    }
}

fn node_time(node: &NodeId, epoch_s: u64) -> Arc<NodeTime> {
    Arc::new(NodeTime { node: node.clone(), epoch_s })
}

/// A certificate with its key, as rustls takes it.
fn chain_and_key(
    identity: &Certificate,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), String> {
    let key = identity.private_key().ok_or_else(|| {
        format!("{} of {} came without its private key", identity.identity.file(), identity.host)
    })?;
    let chain = vec![CertificateDer::from(identity.der().to_vec())];
    Ok((chain, PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.pkcs8_der().to_vec()))))
}

/// A trust store as rustls's root store. Every certificate in it is a trust anchor, as in
/// the platform's trust stores (a self-signed peer certificate or a CA's).
fn roots(trust: &[Certificate]) -> RootCertStore {
    let mut roots = RootCertStore::empty();
    let (_added, _unparsable) =
        roots.add_parsable_certificates(trust.iter().map(|cert| CertificateDer::from(cert.der().to_vec())));
    roots
}

/// A server end on `node` presenting `identity`; with `client_trust`, mutual TLS: the peer
/// must present a certificate that store trusts.
pub fn acceptor(
    node: &NodeId,
    epoch_s: u64,
    identity: &Certificate,
    client_trust: Option<&[Certificate]>,
) -> Result<TlsAcceptor, String> {
    server_config(node, epoch_s, identity, client_trust).map(TlsAcceptor::from)
}

/// The rustls configuration behind [`acceptor`] (also what the handshake bench drives).
pub fn server_config(
    node: &NodeId,
    epoch_s: u64,
    identity: &Certificate,
    client_trust: Option<&[Certificate]>,
) -> Result<Arc<ServerConfig>, String> {
    let provider = provider();
    let builder = ServerConfig::builder_with_details(provider.clone(), node_time(node, epoch_s))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| e.to_string())?;
    let builder = match client_trust {
        Some(trust) => {
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots(trust)), provider)
                .build()
                .map_err(|e| format!("no usable trust anchors: {e}"))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let (chain, key) = chain_and_key(identity)?;
    let mut config = builder.with_single_cert(chain, key).map_err(|e| e.to_string())?;
    config.session_storage = Arc::new(NoServerSessionStorage {});
    config.send_tls13_tickets = 0;
    Ok(Arc::new(config))
}

/// A client end on `node` trusting `trust`; with `identity`, it presents that certificate
/// when the server asks (mutual TLS).
pub fn connector(
    node: &NodeId,
    epoch_s: u64,
    trust: &[Certificate],
    identity: Option<&Certificate>,
) -> Result<TlsConnector, String> {
    client_config(node, epoch_s, trust, identity).map(TlsConnector::from)
}

/// The rustls configuration behind [`connector`] (also what the handshake bench drives).
pub fn client_config(
    node: &NodeId,
    epoch_s: u64,
    trust: &[Certificate],
    identity: Option<&Certificate>,
) -> Result<Arc<ClientConfig>, String> {
    let builder = client_builder(provider(), node, epoch_s)?.with_root_certificates(roots(trust));
    let config = match identity {
        Some(identity) => {
            let (chain, key) = chain_and_key(identity)?;
            builder.with_client_auth_cert(chain, key).map_err(|e| e.to_string())?
        }
        None => builder.with_no_client_auth(),
    };
    Ok(without_resumption(config))
}

/// What every client end shares: the seeded provider, the node's clock, TLS 1.3 only.
fn client_builder(
    provider: Arc<CryptoProvider>,
    node: &NodeId,
    epoch_s: u64,
) -> Result<rustls::ConfigBuilder<ClientConfig, rustls::WantsVerifier>, String> {
    ClientConfig::builder_with_details(provider, node_time(node, epoch_s))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| e.to_string())
}

/// No resumption: every connection makes a full handshake (the module's doc says why).
fn without_resumption(mut config: ClientConfig) -> Arc<ClientConfig> {
    config.resumption = Resumption::disabled();
    Arc::new(config)
}

/// The certificate a server presented to a connector made by [`recording_connector`], and
/// whether the client accepted it: what a client shows in its untrusted-certificate pop-up.
#[derive(Clone, Default, Debug)]
pub struct Presented(Arc<std::sync::Mutex<Option<Seen>>>);

/// A presented certificate (DER) and whether the client accepted it.
type Seen = (Vec<u8>, bool);

impl Presented {
    /// The certificate of the last handshake, when the client refused it.
    pub fn refused(&self) -> Option<Vec<u8>> {
        let seen = self.0.lock().ok()?.clone();
        seen.filter(|(_, accepted)| !accepted).map(|(der, _)| der)
    }
}

/// Web PKI's verdict on the server's certificate, kept with the certificate (the client's
/// own view of its handshake, never the server's state).
#[derive(Debug)]
struct RecordingVerifier {
    web_pki: Arc<rustls::client::WebPkiServerVerifier>,
    presented: Presented,
}

impl rustls::client::danger::ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        let verdict =
            self.web_pki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now);
        if let Ok(mut seen) = self.presented.0.lock() {
            *seen = Some((end_entity.to_vec(), verdict.is_ok()));
        }
        verdict
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.web_pki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.web_pki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.web_pki.supported_verify_schemes()
    }
}

/// A client end on `node` trusting `trust` that also records what the server presented
/// (Jabber's web and UDS connections, which show a refused certificate in a pop-up).
pub fn recording_connector(
    node: &NodeId,
    epoch_s: u64,
    trust: &[Certificate],
) -> Result<(TlsConnector, Presented), String> {
    let provider = provider();
    let web_pki =
        rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots(trust)), provider.clone())
            .build()
            .map_err(|e| format!("no usable trust anchors: {e}"))?;
    let presented = Presented::default();
    let verifier = Arc::new(RecordingVerifier { web_pki, presented: presented.clone() });
    let config = client_builder(provider, node, epoch_s)?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok((TlsConnector::from(without_resumption(config)), presented))
}

/// Why a TLS connection was not made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TlsFailure {
    #[error("cannot connect to {0}")]
    Connect(String),
    #[error("no handshake within {}s", REQUEST_TIMEOUT.as_secs())]
    Timeout,
    /// The handshake failed; `alert` is the TLS alert rustls sent or received, by its name
    /// (`UnknownCA`), and `sent` says which.
    #[error("{} alert {alert}: {detail}", if *sent { "sent" } else { "received" })]
    Alert { alert: String, sent: bool, detail: String },
    /// The connection ended without an alert (the peer closed it, a reset).
    #[error("handshake failed: {0}")]
    Broken(String),
}

impl TlsFailure {
    /// The failure of a handshake (or of the first read after it, where a TLS 1.3 client
    /// learns that the server refused its certificate) as rustls reported it.
    pub fn of(error: &std::io::Error) -> TlsFailure {
        let Some(rustls_error) = error.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>())
        else {
            return TlsFailure::Broken(error.to_string());
        };
        let detail = rustls_error.to_string();
        match rustls_error {
            rustls::Error::AlertReceived(alert) => {
                TlsFailure::Alert { alert: format!("{alert:?}"), sent: false, detail }
            }
            rustls::Error::InvalidCertificate(reason) => {
                let alert = AlertDescription::from(reason.clone());
                TlsFailure::Alert { alert: format!("{alert:?}"), sent: true, detail }
            }
            _ => TlsFailure::Broken(detail),
        }
    }

    /// The alert's name, if the handshake ended with one.
    pub fn alert(&self) -> Option<&str> {
        match self {
            TlsFailure::Alert { alert, .. } => Some(alert),
            _ => None,
        }
    }
}

/// Connects to `host:port` and makes the handshake, expecting the server to be `host`;
/// bounded by [`REQUEST_TIMEOUT`].
pub async fn connect(connector: &TlsConnector, host: &str, port: u16) -> Result<ClientStream, TlsFailure> {
    let handshake = async {
        clock::note_sent();
        let stream = turmoil::net::TcpStream::connect((host, port))
            .await
            .map_err(|_| TlsFailure::Connect(format!("{host}:{port}")))?;
        let name = ServerName::try_from(host.to_string()).map_err(|e| TlsFailure::Broken(e.to_string()))?;
        connector.connect(name, Metered::new(stream)).await.map_err(|e| TlsFailure::of(&e))
    };
    clock::timeout(REQUEST_TIMEOUT, handshake).await.unwrap_or(Err(TlsFailure::Timeout))
}

/// The server's side of the handshake on an accepted connection, bounded by [`REQUEST_TIMEOUT`].
pub async fn accept(
    acceptor: &TlsAcceptor,
    stream: Metered<turmoil::net::TcpStream>,
) -> Result<ServerStream, TlsFailure> {
    let handshake = async {
        match acceptor.accept(stream).into_fallible().await {
            Ok(stream) => Ok(stream),
            Err((error, stream)) => {
                tokio::task::spawn_local(linger(stream));
                Err(TlsFailure::of(&error))
            }
        }
    };
    clock::timeout(REQUEST_TIMEOUT, handshake).await.unwrap_or(Err(TlsFailure::Timeout))
}

/// How long a server keeps a connection whose handshake failed, so that its alert reaches
/// the client before the close: dropping a socket with unread data resets it, and a TLS 1.3
/// client that already sent its request would see "connection reset" instead of the alert.
pub const FAILED_HANDSHAKE_LINGER: Duration = Duration::from_secs(2);
/// Bytes a lingering connection reads and discards at most.
const LINGER_BYTES_MAX: usize = 64 * 1024;

/// Reads and discards until the peer closes, [`FAILED_HANDSHAKE_LINGER`] passes or
/// [`LINGER_BYTES_MAX`] arrive.
pub(crate) async fn linger<S: tokio::io::AsyncRead + Unpin>(mut stream: S) {
    use tokio::io::AsyncReadExt;
    let drain = async {
        let mut discarded = 0;
        let mut buf = [0u8; 4096];
        while discarded < LINGER_BYTES_MAX {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => discarded += n,
            }
        }
    };
    let _ = clock::timeout(FAILED_HANDSHAKE_LINGER, drain).await;
}

/// The subject CN and DNS SANs of the certificate the peer presented, for checks above TLS
/// (CallManager matching Expressway-C against `expresswaycconfiguration`).
pub fn peer_names(stream: &ServerStream) -> Vec<String> {
    let Some(der) = stream.get_ref().1.peer_certificates().and_then(|chain| chain.first()) else {
        return Vec::new();
    };
    let Ok(x509) = openssl::x509::X509::from_der(der) else { return Vec::new() };
    let mut names: Vec<String> = x509
        .subject_name()
        .entries_by_nid(openssl::nid::Nid::COMMONNAME)
        .filter_map(|cn| cn.data().to_string().ok().map(|s| s.to_string()))
        .collect();
    if let Some(sans) = x509.subject_alt_names() {
        for san in sans.iter().filter_map(|san| san.dnsname().map(str::to_string)) {
            if !names.contains(&san) {
                names.push(san);
            }
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;
    use crate::certs::authority::Authority;
    use crate::certs::certificate::{Draw, IDENTITY_VALIDITY};
    use crate::certs::Identity;

    const AT: u64 = 1_767_571_200;

    fn draw(n: u8) -> Draw {
        Draw { serial: [n; 8], key_seed: [n; 32] }
    }

    fn tomcat(host: &str, n: u8) -> Certificate {
        Certificate::issue(Identity::Tomcat, host, &draw(n), AT, IDENTITY_VALIDITY).unwrap()
    }

    /// What each side saw: the server's accept and the client's exchange (`Ok` = the echo came back).
    type Outcome = (Option<Result<(), TlsFailure>>, Option<Result<(), TlsFailure>>);

    /// One connection from `client` to `server`: the server presents `server_cert` and, with
    /// `client_trust`, asks for a client certificate; the client trusts `client_roots` and
    /// presents `client_cert`. The client writes a line and reads the echo.
    fn handshake(
        server_cert: Certificate,
        client_trust: Option<Vec<Certificate>>,
        client_roots: Vec<Certificate>,
        client_cert: Option<Certificate>,
    ) -> Outcome {
        let connector = connector(&NodeId::new("client"), AT, &client_roots, client_cert.as_ref()).unwrap();
        handshake_with(server_cert, client_trust, connector)
    }

    /// [`handshake`] with the client's connector made by the caller.
    fn handshake_with(
        server_cert: Certificate,
        client_trust: Option<Vec<Certificate>>,
        connector: TlsConnector,
    ) -> Outcome {
        clock::reset();
        reseed(7);
        let outcome: Rc<RefCell<Outcome>> = Rc::default();
        let mut sim = turmoil::Builder::new().build();
        let seen = outcome.clone();
        sim.host("server", move || {
            let (seen, server_cert, client_trust) = (seen.clone(), server_cert.clone(), client_trust.clone());
            async move {
                let acceptor =
                    acceptor(&NodeId::new("server"), AT, &server_cert, client_trust.as_deref()).unwrap();
                let listener = turmoil::net::TcpListener::bind(("0.0.0.0", 5091)).await?;
                let (stream, _) = listener.accept().await?;
                let result = match accept(&acceptor, Metered::new(stream)).await {
                    Ok(mut stream) => {
                        let mut line = [0u8; 5];
                        stream.read_exact(&mut line).await?;
                        stream.write_all(&line).await?;
                        stream.flush().await?;
                        Ok(())
                    }
                    Err(failure) => Err(failure),
                };
                seen.borrow_mut().0 = Some(result);
                std::future::pending::<()>().await;
                Ok(())
            }
        });
        let seen = outcome.clone();
        sim.client("client", async move {
            let result = async {
                let mut stream = connect(&connector, "server", 5091).await?;
                stream.write_all(b"hello").await.map_err(|e| TlsFailure::of(&e))?;
                let mut echo = [0u8; 5];
                stream.read_exact(&mut echo).await.map_err(|e| TlsFailure::of(&e))?;
                assert_eq!(&echo, b"hello");
                Ok(())
            }
            .await;
            seen.borrow_mut().1 = Some(result);
            Ok(())
        });
        for _ in 0..2_000 {
            clock::wake_due(sim.elapsed() + clock::warp());
            sim.step().unwrap();
            if matches!(&*outcome.borrow(), (Some(_), Some(_))) {
                break;
            }
        }
        outcome.take()
    }

    /// Every byte of a handshake, both ways, with both ends in memory.
    fn handshake_bytes(seed: u64, server_cert: &Certificate) -> Vec<u8> {
        reseed(seed);
        let client =
            client_config(&NodeId::new("client"), AT, std::slice::from_ref(server_cert), None).unwrap();
        let server = server_config(&NodeId::new("server"), AT, server_cert, None).unwrap();
        let name = ServerName::try_from("server").unwrap();
        let mut client = rustls::ClientConnection::new(client, name).unwrap();
        let mut server = rustls::ServerConnection::new(server).unwrap();
        let mut seen = Vec::new();
        for _ in 0..8 {
            let mut flight = Vec::new();
            while client.wants_write() {
                client.write_tls(&mut flight).unwrap();
            }
            server.read_tls(&mut flight.as_slice()).unwrap();
            server.process_new_packets().unwrap();
            seen.extend_from_slice(&flight);
            let mut flight = Vec::new();
            while server.wants_write() {
                server.write_tls(&mut flight).unwrap();
            }
            client.read_tls(&mut flight.as_slice()).unwrap();
            client.process_new_packets().unwrap();
            seen.extend_from_slice(&flight);
        }
        assert!(!client.is_handshaking() && !server.is_handshaking());
        seen
    }

    /// A replay makes the same handshake byte for byte (randoms and X25519 key shares both
    /// come from the run's seed); another seed makes another.
    #[test]
    fn the_same_seed_makes_the_same_handshake_bytes() {
        let server = tomcat("server", 1);
        let first = handshake_bytes(7, &server);
        assert!(first.len() > 500, "a whole handshake: {} bytes", first.len());
        assert_eq!(handshake_bytes(7, &server), first);
        assert_ne!(handshake_bytes(8, &server), first);
    }

    #[test]
    fn a_client_that_trusts_the_server_certificate_completes_the_handshake() {
        let server = tomcat("server", 1);
        let (server_side, client_side) = handshake(server.clone(), None, vec![server], None);
        assert_eq!(server_side, Some(Ok(())));
        assert_eq!(client_side, Some(Ok(())));
    }

    /// "unknown CA" is rustls's own alert: the client that does not trust the server's
    /// certificate sends it, and the server receives it.
    #[test]
    fn an_untrusted_server_certificate_ends_in_unknown_ca_both_sides_see() {
        let (server_side, client_side) = handshake(tomcat("server", 1), None, vec![tomcat("other", 2)], None);
        let client = client_side.unwrap().unwrap_err();
        assert_eq!((client.alert(), &client), (Some("UnknownCA"), &client));
        assert!(matches!(client, TlsFailure::Alert { sent: true, .. }), "{client}");
        assert!(client.to_string().contains("UnknownIssuer"), "{client}");
        let server = server_side.unwrap().unwrap_err();
        assert_eq!(
            server,
            TlsFailure::Alert {
                alert: "UnknownCA".into(),
                sent: false,
                detail: "received fatal alert: UnknownCA".into()
            }
        );
    }

    /// A trust store that holds another certificate with the same name (the server's
    /// regenerated one, while the server still presents the old): the issuer is found but its
    /// key does not verify the signature, and rustls sends "decrypt error".
    #[test]
    fn a_certificate_replaced_in_the_trust_store_fails_on_its_signature() {
        let (server_side, client_side) =
            handshake(tomcat("server", 1), None, vec![tomcat("server", 2)], None);
        let client = client_side.unwrap().unwrap_err();
        assert_eq!(client.alert(), Some("DecryptError"), "{client}");
        assert!(client.to_string().contains("BadSignature"), "{client}");
        assert_eq!(server_side.unwrap().unwrap_err().alert(), Some("DecryptError"));
    }

    /// Mutual TLS: a client certificate signed by a CA the server trusts is accepted; one
    /// whose signer the server's store lacks is refused with "unknown CA", which the client
    /// learns on its first read (TLS 1.3 finishes the client's side first).
    #[test]
    fn mutual_tls_admits_a_client_signed_by_a_trusted_ca_only() {
        let ca = Authority::new("Enterprise CA", &draw(9), AT - 86_400).unwrap();
        let other_ca = Authority::new("Other CA", &draw(10), AT - 86_400).unwrap();
        let client = ca.issue("expc", &["expc.example.com".into()], &draw(3), AT, IDENTITY_VALIDITY).unwrap();
        let server = tomcat("server", 1);
        let trusted = handshake(
            server.clone(),
            Some(vec![server.clone(), ca.certificate.clone()]),
            vec![server.clone()],
            Some(client.clone()),
        );
        assert_eq!(trusted, (Some(Ok(())), Some(Ok(()))));
        let (server_side, client_side) = handshake(
            server.clone(),
            Some(vec![server.clone(), other_ca.certificate.clone()]),
            vec![server],
            Some(client),
        );
        let server_side = server_side.unwrap().unwrap_err();
        assert_eq!(server_side.alert(), Some("UnknownCA"), "{server_side}");
        assert!(matches!(server_side, TlsFailure::Alert { sent: true, .. }));
        let client_side = client_side.unwrap().unwrap_err();
        assert_eq!(client_side.alert(), Some("UnknownCA"), "{client_side}");
        assert!(matches!(client_side, TlsFailure::Alert { sent: false, .. }));
    }

    #[test]
    fn a_client_certificate_names_its_host_and_sans() {
        let ca = Authority::new("Enterprise CA", &draw(9), AT).unwrap();
        let cert = ca.issue("expc", &["expc.example.com".into()], &draw(3), AT, IDENTITY_VALIDITY).unwrap();
        let x509 = openssl::x509::X509::from_der(cert.der()).unwrap();
        assert!(x509
            .verify(&openssl::x509::X509::from_der(ca.certificate.der()).unwrap().public_key().unwrap())
            .unwrap());
        assert_eq!(ca.name(), "Enterprise CA");
    }

    /// A CA-signed multi-SAN certificate (CN another node, the server's name a SAN) verifies
    /// for a client that trusts the CA, not for one that trusts only the certificate itself;
    /// a recording client keeps what it refused, for its pop-up.
    #[test]
    fn a_multi_san_certificate_verifies_through_its_ca_and_a_refusal_is_recorded() {
        use crate::certs::signing_request::SigningRequest;
        let ca = Authority::new("Enterprise Root CA", &draw(9), AT - 86_400).unwrap();
        let sans = vec!["server".to_string(), "imp-pub".to_string()];
        let (request, key) = SigningRequest::new(Identity::Tomcat, "cucm-pub", &sans, &draw(4)).unwrap();
        let signed = ca.sign(&request, key, [5; 8], AT - 60, IDENTITY_VALIDITY).unwrap();
        let client = NodeId::new("client");

        let (trusting_ca, presented) =
            recording_connector(&client, AT, std::slice::from_ref(&ca.certificate)).unwrap();
        assert_eq!(handshake_with(signed.clone(), None, trusting_ca).1, Some(Ok(())));
        assert_eq!(presented.refused(), None, "accepted, so nothing to show");

        let (trusting_leaf, presented) =
            recording_connector(&client, AT, std::slice::from_ref(&signed)).unwrap();
        let refused = handshake_with(signed.clone(), None, trusting_leaf).1.unwrap().unwrap_err();
        assert_eq!(refused.alert(), Some("UnknownCA"), "{refused}");
        assert_eq!(presented.refused().as_deref(), Some(signed.der()));

        let elsewhere = vec!["imp-pub".to_string()];
        let (request, key) = SigningRequest::new(Identity::Tomcat, "cucm-pub", &elsewhere, &draw(6)).unwrap();
        let not_for_server = ca.sign(&request, key, [7; 8], AT - 60, IDENTITY_VALIDITY).unwrap();
        let wrong_name =
            handshake(not_for_server, None, vec![ca.certificate.clone()], None).1.unwrap().unwrap_err();
        assert_eq!(wrong_name.alert(), Some("BadCertificate"), "{wrong_name}");
        assert!(wrong_name.to_string().contains("not valid for name \"server\""), "{wrong_name}");
    }
}
