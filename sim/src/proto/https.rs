//! HTTPS on the AuthZ port for the clients whose trust the documents make matter.
//!
//! A phone gets its tokens over TLS and checks Cisco Tomcat's certificate against the
//! cluster's phone-edge-trust (docs/domain.md "Phone-edge-trust"). The other exchanges on
//! 8443 stay plain HTTP here: what they trust is not what a scenario varies, and a TLS
//! handshake per request would cost every run. So a node's 8443 reads a connection's first
//! byte: a TLS handshake record (`0x16`) is answered with TLS, presenting the certificate
//! Cisco Tomcat loaded; anything else is HTTP as before. The byte is handed back to whoever
//! reads the connection next ([`Rewound`]).

use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::ServerConfig;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use crate::clock;
use crate::proto::http::{
    serve_connection, within_request_timeout, Busy, Call, Handler, HttpResponse, NetError, REQUEST_TIMEOUT,
};
use crate::proto::metered::Metered;
use crate::proto::tls::{self, TlsFailure};

/// The first byte of every TLS connection: the content type of a handshake record.
pub const TLS_HANDSHAKE_RECORD: u8 = 0x16;

/// What a node presents to a client that starts a TLS handshake: the configuration built
/// from the certificate its Cisco Tomcat loaded, or `None` while Tomcat presents none.
pub type TlsIdentity = Rc<dyn Fn() -> Option<Arc<ServerConfig>>>;

/// A stream whose first byte was read to tell TLS from HTTP, and is read again first.
pub struct Rewound<S> {
    first: Option<u8>,
    inner: S,
}

impl<S> Rewound<S> {
    pub fn new(first: u8, inner: S) -> Rewound<S> {
        Rewound { first: Some(first), inner }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Rewound<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Some(first) = self.first.take() {
            if buf.remaining() > 0 {
                buf.put_slice(&[first]);
                return Poll::Ready(Ok(()));
            }
            self.first = Some(first);
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Rewound<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, data)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// [`crate::proto::http::serve_unless_busy`], answering with TLS a client that starts a
/// handshake, presenting what `identity` gives.
pub async fn serve_https(port: u16, handler: Handler, busy: Busy, identity: TlsIdentity) -> turmoil::Result {
    let listener = turmoil::net::TcpListener::bind(("0.0.0.0", port)).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        let (handler, busy, identity) = (handler.clone(), busy.clone(), identity.clone());
        tokio::task::spawn_local(async move {
            match accept(Metered::new(stream), &identity).await {
                Accepted::Plain(stream) => serve_connection(stream, handler, busy).await,
                Accepted::Tls(stream) => serve_connection(*stream, handler, busy).await,
                Accepted::Gone => {}
            }
        });
    }
}

/// A connection as the server reads it after its first byte.
pub enum Accepted {
    /// Plain HTTP: the stream with its first byte handed back.
    Plain(Rewound<Metered<turmoil::net::TcpStream>>),
    /// TLS, handshake made.
    Tls(Box<tokio_rustls::server::TlsStream<Rewound<Metered<turmoil::net::TcpStream>>>>),
    /// The client sent nothing, or its handshake failed (it learns why from the alert).
    Gone,
}

/// Reads the first byte (within [`REQUEST_TIMEOUT`]) and makes the TLS handshake when it
/// starts one, with what `identity` presents now.
pub async fn accept(mut stream: Metered<turmoil::net::TcpStream>, identity: &TlsIdentity) -> Accepted {
    let mut first = [0u8; 1];
    match clock::timeout(REQUEST_TIMEOUT, stream.read(&mut first)).await {
        Ok(Ok(1)) => {}
        _ => return Accepted::Gone,
    }
    let stream = Rewound::new(first[0], stream);
    if first[0] != TLS_HANDSHAKE_RECORD {
        return Accepted::Plain(stream);
    }
    let Some(config) = identity() else { return Accepted::Gone };
    let handshake = async {
        match TlsAcceptor::from(config).accept(stream).into_fallible().await {
            Ok(stream) => Accepted::Tls(Box::new(stream)),
            Err((_, stream)) => {
                tokio::task::spawn_local(tls::linger(stream));
                Accepted::Gone
            }
        }
    };
    clock::timeout(REQUEST_TIMEOUT, handshake).await.unwrap_or(Accepted::Gone)
}

impl Call<'_> {
    /// [`Call::send`] over TLS, trusting what `connector` trusts: the handshake checks the
    /// server's certificate before the request leaves.
    pub async fn send_tls(self, connector: &TlsConnector) -> Result<HttpResponse, NetError> {
        let exchange = async {
            let stream = tls::connect(connector, self.host.as_str(), self.port).await.map_err(tls_error)?;
            self.exchange_over(stream).await
        };
        within_request_timeout(exchange).await
    }
}

fn tls_error(failure: TlsFailure) -> NetError {
    match failure {
        TlsFailure::Connect(to) => NetError::Connect(to),
        TlsFailure::Timeout => NetError::Timeout,
        other => NetError::Tls(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use hyper::StatusCode;

    use super::*;
    use crate::certs::certificate::{Draw, IDENTITY_VALIDITY};
    use crate::certs::{Certificate, Identity};
    use crate::node_id::NodeId;
    use crate::proto::http::{answer_now, HttpRequest};

    const AT: u64 = 1_767_571_200;

    fn tomcat(host: &str, n: u8) -> Certificate {
        let draw = Draw { serial: [n; 8], key_seed: [n; 32] };
        Certificate::issue(Identity::Tomcat, host, &draw, AT, IDENTITY_VALIDITY).unwrap()
    }

    /// One port answers plain HTTP and TLS alike; a TLS client that does not trust the
    /// certificate presented gets no answer and learns why (UnknownCA); a node presenting
    /// nothing refuses TLS and still answers plain HTTP.
    #[test]
    fn one_port_answers_plain_http_and_tls_and_a_client_checks_the_certificate() {
        clock::reset();
        tls::reseed(3);
        let server_cert = tomcat("server", 1);
        let stranger = tomcat("elsewhere", 2);
        let presenting = Rc::new(RefCell::new(true));
        let outcomes: Rc<RefCell<Vec<Result<String, NetError>>>> = Rc::default();
        let mut sim = turmoil::Builder::new().build();
        {
            let (server_cert, presenting) = (server_cert.clone(), presenting.clone());
            sim.host("server", move || {
                let (server_cert, presenting) = (server_cert.clone(), presenting.clone());
                async move {
                    let identity: TlsIdentity = Rc::new(move || {
                        presenting
                            .borrow()
                            .then(|| tls::server_config(&NodeId::new("server"), AT, &server_cert, None).ok())
                            .flatten()
                    });
                    let handler = answer_now(|request: HttpRequest| {
                        HttpResponse::json(StatusCode::OK, &serde_json::json!({ "path": request.path }))
                    });
                    serve_https(8443, handler, Busy::default(), identity).await
                }
            });
        }
        let seen = outcomes.clone();
        sim.client("client", async move {
            let (server, me) = (NodeId::new("server"), NodeId::new("client"));
            let trusting = tls::connector(&me, AT, std::slice::from_ref(&server_cert), None).unwrap();
            let wary = tls::connector(&me, AT, &[stranger], None).unwrap();
            let path = |response: Result<HttpResponse, NetError>| {
                response.map(|r| String::from_utf8_lossy(&r.body).into_owned())
            };
            let outcome = path(Call::get(&server, 8443, "/plain", &me).send().await);
            seen.borrow_mut().push(outcome);
            let outcome = path(Call::get(&server, 8443, "/tls", &me).send_tls(&trusting).await);
            seen.borrow_mut().push(outcome);
            let outcome = path(Call::get(&server, 8443, "/refused", &me).send_tls(&wary).await);
            seen.borrow_mut().push(outcome);
            *presenting.borrow_mut() = false;
            let outcome = path(Call::get(&server, 8443, "/stopped", &me).send_tls(&trusting).await);
            seen.borrow_mut().push(outcome);
            let outcome = path(Call::get(&server, 8443, "/plain-again", &me).send().await);
            seen.borrow_mut().push(outcome);
            Ok(())
        });
        for _ in 0..2_000 {
            clock::wake_due(sim.elapsed() + clock::warp());
            if sim.step().unwrap() {
                break;
            }
        }
        let outcomes = outcomes.borrow();
        assert_eq!(outcomes.len(), 5, "{outcomes:?}");
        assert_eq!(outcomes[0].as_ref().unwrap(), r#"{"path":"/plain"}"#);
        assert_eq!(outcomes[1].as_ref().unwrap(), r#"{"path":"/tls"}"#);
        match &outcomes[2] {
            Err(NetError::Tls(reason)) => assert!(reason.contains("UnknownCA"), "{reason}"),
            other => panic!("an untrusted certificate must fail the handshake: {other:?}"),
        }
        assert!(outcomes[3].is_err(), "no certificate presented: no TLS");
        assert_eq!(outcomes[4].as_ref().unwrap(), r#"{"path":"/plain-again"}"#);
    }

    /// The byte read to tell TLS from HTTP is read again first, whatever the buffer size.
    #[test]
    fn the_first_byte_is_handed_back() {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(async {
            let mut stream = Rewound::new(b'G', &b"ET / HTTP/1.1"[..]);
            let mut one = [0u8; 1];
            stream.read_exact(&mut one).await.unwrap();
            let mut rest = Vec::new();
            stream.read_to_end(&mut rest).await.unwrap();
            assert_eq!([&one[..], &rest[..]].concat(), b"GET / HTTP/1.1");
        });
    }
}
