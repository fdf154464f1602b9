//! HTTP/1.1 with hyper over turmoil's simulated TCP.
//!
//! Most handlers answer at once from the node's own state ([`answer_now`]): a node that
//! needs the network for later, such as Unity fetching keys, starts that work as its own
//! task, which keeps a request's handling inside one simulation step. The exception is a
//! request that cannot be answered without another node: an opaque token validated in
//! proxy mode, where the handler's future waits for the issuing node's answer.

use std::cell::Cell;
use std::convert::Infallible;
use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, USER_AGENT};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::de::DeserializeOwned;

use crate::clock;
use crate::node_id::NodeId;
use crate::proto::metered::Metered;
use serde::Serialize;

/// How long a client waits for a whole exchange before giving up (simulated time).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Ticks one exchange may take: measured 3 on a quiet network (connect, request, response:
/// at a 3.3 s tick every request finishes within the timeout, at 3.4 s some do not, at 4 s
/// none), plus one tick of margin for a message that waits on turmoil's flow control. The
/// scenario parser derives its largest tick from it; `tests/tests/tick_limit.rs` holds both.
pub const EXCHANGE_TICKS_MAX: u32 = 4;
/// Largest body a node reads; larger ones are refused, never buffered.
pub const BODY_BYTES_MAX: usize = 1 << 20;

/// A request as a handler sees it.
#[derive(Debug)]
pub struct HttpRequest {
    pub method: Method,
    /// Path and query, e.g. `/ssosp/oauth/token`.
    pub path: String,
    /// The `Authorization: Bearer` token, if any.
    pub bearer: Option<String>,
    /// `User-Agent`: which client sent it, for the trace.
    pub agent: Option<String>,
    pub body: Bytes,
    /// How long it waited for the node to be free (a purge keeping it busy), as modelled:
    /// from its arrival to the end of the busy period, not rounded to ticks.
    pub waited: Duration,
}

impl HttpRequest {
    /// The body as JSON of type `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, HttpResponse> {
        serde_json::from_slice(&self.body)
            .map_err(|e| HttpResponse::error(StatusCode::BAD_REQUEST, &e.to_string()))
    }
}

/// A response as a handler returns it and a client receives it.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: StatusCode,
    pub body: Bytes,
}

impl HttpResponse {
    pub fn json<T: Serialize>(status: StatusCode, value: &T) -> HttpResponse {
        HttpResponse { status, body: Bytes::from(serde_json::to_vec(value).expect("messages serialize")) }
    }

    /// `{"error": message}` with `status`.
    pub fn error(status: StatusCode, message: &str) -> HttpResponse {
        HttpResponse::json(status, &serde_json::json!({ "error": message }))
    }

    /// The body as JSON of type `T`.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, NetError> {
        serde_json::from_slice(&self.body).map_err(|e| NetError::Protocol(e.to_string()))
    }
}

/// Why an exchange did not produce a response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    #[error("cannot connect to {0}")]
    Connect(String),
    #[error("no answer within {}s", REQUEST_TIMEOUT.as_secs())]
    Timeout,
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The TLS handshake failed (a phone's token request, [`crate::proto::https`]).
    #[error("TLS: {0}")]
    Tls(String),
}

/// A node's request handler: the response may wait on the network (proxy mode).
pub type Handler = Rc<dyn Fn(HttpRequest) -> Pending>;

/// A response still being worked out.
pub type Pending = std::pin::Pin<Box<dyn std::future::Future<Output = HttpResponse>>>;

/// A handler that answers from the node's own state, within the step the request arrived
/// in (a ready future adds no poll, so the trace is as if the handler were a plain function).
pub fn answer_now(handle: impl Fn(HttpRequest) -> HttpResponse + 'static) -> Handler {
    Rc::new(move |request| {
        let response = handle(request);
        Box::pin(std::future::ready(response))
    })
}

/// Until when (simulated time since the start) a node is too busy to answer: a request that
/// arrives earlier waits until then. Set by the node's own long work (the daily purge).
pub type Busy = Rc<Cell<Duration>>;

/// Accepts connections on `port` forever, answering each request with `handler`.
pub async fn serve(port: u16, handler: Handler) -> turmoil::Result {
    serve_unless_busy(port, handler, Busy::default()).await
}

/// [`serve`], holding each request while the node is [`Busy`].
pub async fn serve_unless_busy(port: u16, handler: Handler, busy: Busy) -> turmoil::Result {
    let listener = turmoil::net::TcpListener::bind(("0.0.0.0", port)).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        let (handler, busy) = (handler.clone(), busy.clone());
        tokio::task::spawn_local(serve_connection(Metered::new(stream), handler, busy));
    }
}

/// HTTP/1.1 on one connection until it closes; a broken connection ends that exchange only.
pub(crate) async fn serve_connection<S>(stream: S, handler: Handler, busy: Busy)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + 'static,
{
    let service = service_fn(move |request: Request<Incoming>| {
        let handler = handler.clone();
        let busy = busy.clone();
        async move { Ok::<_, Infallible>(answer(&handler, &busy, request).await) }
    });
    let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
}

async fn answer(handler: &Handler, busy: &Busy, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let header =
        |name| parts.headers.get(name).and_then(|value: &hyper::header::HeaderValue| value.to_str().ok());
    let bearer = header(AUTHORIZATION).and_then(|value| value.strip_prefix("Bearer ")).map(str::to_string);
    let agent = header(USER_AGENT).map(str::to_string);
    let body = http_body_util::Limited::new(body, BODY_BYTES_MAX).collect().await;
    // Each busy period the request meets adds its remainder; a node busy in batches lets
    // waiting requests through between them. Bounded: each wait ends a busy period.
    let mut waited = Duration::ZERO;
    loop {
        let (now, until) = (clock::elapsed(), busy.get());
        if until <= now {
            break;
        }
        waited += until - now;
        clock::sleep_until(until).await;
    }
    let response = match body {
        Ok(body) => {
            handler(HttpRequest {
                waited,
                method: parts.method,
                path: parts
                    .uri
                    .path_and_query()
                    .map_or_else(|| parts.uri.path().to_string(), |pq| pq.to_string()),
                bearer,
                agent,
                body: body.to_bytes(),
            })
            .await
        }
        Err(_) => HttpResponse::error(StatusCode::PAYLOAD_TOO_LARGE, "body too large"),
    };
    let mut out = Response::new(Full::new(response.body));
    *out.status_mut() = response.status;
    out.headers_mut().insert(CONTENT_TYPE, hyper::header::HeaderValue::from_static("application/json"));
    out
}

/// What a client sends.
pub struct Call<'a> {
    pub host: &'a NodeId,
    pub port: u16,
    pub method: Method,
    pub path: &'a str,
    pub bearer: Option<&'a str>,
    /// Who asks: a node, or the device a node asks for.
    pub agent: &'a NodeId,
    /// Shared, not copied, when the request is built again (a relay, a second try).
    pub body: Bytes,
}

impl<'a> Call<'a> {
    pub fn get(host: &'a NodeId, port: u16, path: &'a str, agent: &'a NodeId) -> Call<'a> {
        Call { host, port, method: Method::GET, path, bearer: None, agent, body: Bytes::new() }
    }

    pub fn post<T: Serialize>(
        host: &'a NodeId,
        port: u16,
        path: &'a str,
        agent: &'a NodeId,
        body: &T,
    ) -> Call<'a> {
        let body = Bytes::from(serde_json::to_vec(body).expect("messages serialize"));
        Call { host, port, method: Method::POST, path, bearer: None, agent, body }
    }

    pub fn bearer(mut self, token: &'a str) -> Call<'a> {
        self.bearer = Some(token);
        self
    }

    /// The answer's JSON body as `T`, or why there is none, in words for the trace: the
    /// network's error, `HTTP <status>` for an error status, or the body's decoding error.
    pub async fn fetch<T: DeserializeOwned>(self) -> Result<T, String> {
        let response = self.send().await.map_err(|e| e.to_string())?;
        if !response.status.is_success() {
            return Err(format!("HTTP {}", response.status.as_u16()));
        }
        response.decode::<T>().map_err(|e| e.to_string())
    }

    /// [`Call::send`], through the edge when `edge` names Expressway-E (a remote device):
    /// the request goes there, its target in the path ([`crate::proto::edge`]).
    pub async fn send_via(self, edge: Option<&NodeId>) -> Result<HttpResponse, NetError> {
        let Some(edge) = edge else { return self.send().await };
        let path = crate::proto::edge::edge_path(self.host.as_str(), self.port, self.path);
        Call { host: edge, port: crate::proto::edge::EDGE_PORT, path: &path, ..self }.send().await
    }

    /// One request on a fresh connection, bounded by [`REQUEST_TIMEOUT`].
    pub async fn send(self) -> Result<HttpResponse, NetError> {
        within_request_timeout(self.exchange()).await
    }

    async fn exchange(self) -> Result<HttpResponse, NetError> {
        let mut sender = self.connect().await?;
        exchange_on(&mut sender, self.request()?).await
    }

    /// A new plain connection to the server, its HTTP/1.1 side running as a task of its own.
    pub(crate) async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, NetError> {
        // Connecting sends a SYN: network activity even if the connection is refused.
        clock::note_sent();
        let stream = turmoil::net::TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|_| NetError::Connect(format!("{}:{}", self.host, self.port)))?;
        handshake(Metered::new(stream)).await
    }

    /// The request and its answer over a connection already made (plain or TLS).
    pub(crate) async fn exchange_over<S>(self, stream: S) -> Result<HttpResponse, NetError>
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + 'static,
    {
        let mut sender = handshake(stream).await?;
        exchange_on(&mut sender, self.request()?).await
    }

    /// The request as hyper sends it; built again when it is sent a second time.
    pub(crate) fn request(&self) -> Result<Request<Full<Bytes>>, NetError> {
        let mut request = Request::builder()
            .method(self.method.clone())
            .uri(self.path)
            .header(HOST, self.host.as_str())
            .header(USER_AGENT, self.agent.as_str())
            .header(CONTENT_TYPE, "application/json");
        if let Some(token) = self.bearer {
            request = request.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        request.body(Full::new(self.body.clone())).map_err(|e| NetError::Protocol(e.to_string()))
    }
}

/// One request and its whole answer on an open connection.
pub(crate) async fn exchange_on(
    sender: &mut SendRequest<Full<Bytes>>,
    request: Request<Full<Bytes>>,
) -> Result<HttpResponse, NetError> {
    let response = sender.send_request(request).await.map_err(|e| NetError::Protocol(e.to_string()))?;
    let status = response.status();
    let body = http_body_util::Limited::new(response.into_body(), BODY_BYTES_MAX)
        .collect()
        .await
        .map_err(|e| NetError::Protocol(e.to_string()))?
        .to_bytes();
    Ok(HttpResponse { status, body })
}

/// `exchange`, or [`NetError::Timeout`] if it has not finished within [`REQUEST_TIMEOUT`].
pub(crate) async fn within_request_timeout(
    exchange: impl std::future::Future<Output = Result<HttpResponse, NetError>>,
) -> Result<HttpResponse, NetError> {
    clock::timeout(REQUEST_TIMEOUT, exchange).await.unwrap_or(Err(NetError::Timeout))
}

/// HTTP/1.1 over `stream`; the connection's side runs as a task until either end closes it.
async fn handshake<S>(stream: S) -> Result<SendRequest<Full<Bytes>>, NetError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + 'static,
{
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| NetError::Protocol(e.to_string()))?;
    tokio::task::spawn_local(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    /// A request that arrives while the node is busy waits until the busy period ends, and
    /// is told how long it waited; one that arrives after is not held at all.
    #[test]
    fn a_busy_node_holds_requests_until_it_is_free() -> turmoil::Result {
        clock::reset();
        let mut sim = turmoil::Builder::new().tick_duration(Duration::from_millis(100)).build();
        let waits = Rc::new(RefCell::new(Vec::new()));
        let busy = Busy::default();
        {
            let (waits, busy) = (waits.clone(), busy.clone());
            sim.host("server", move || {
                let (waits, busy) = (waits.clone(), busy.clone());
                async move {
                    // Busy from 1 s to 3 s of simulated time, as a purge would be.
                    let gate = busy.clone();
                    tokio::task::spawn_local(async move {
                        clock::sleep_until(Duration::from_secs(1)).await;
                        gate.set(Duration::from_secs(3));
                    });
                    let handler = answer_now(move |request: HttpRequest| {
                        waits.borrow_mut().push((request.path.clone(), request.waited, clock::elapsed()));
                        HttpResponse::json(StatusCode::OK, &serde_json::json!({}))
                    });
                    serve_unless_busy(8443, handler, busy).await
                }
            });
        }
        sim.client("client", async move {
            clock::sleep_until(Duration::from_millis(1500)).await;
            Call::get(&NodeId::new("server"), 8443, "/during", &NodeId::new("test"))
                .send()
                .await
                .expect("answered after the wait");
            clock::sleep_until(Duration::from_secs(5)).await;
            Call::get(&NodeId::new("server"), 8443, "/after", &NodeId::new("test"))
                .send()
                .await
                .expect("answered");
            Ok(())
        });
        for _ in 0..200 {
            clock::wake_due(sim.elapsed() + clock::warp());
            if sim.step()? {
                break;
            }
        }
        let waits = waits.borrow();
        assert_eq!(waits.len(), 2, "{waits:?}");
        let (path, waited, answered_at) = &waits[0];
        assert_eq!(path, "/during");
        // Sent at 1.5 s, it arrives a few ticks later and waits out the rest until 3 s.
        assert!(
            *waited >= Duration::from_millis(1200) && *waited < Duration::from_millis(1500),
            "{waited:?}"
        );
        assert!(*answered_at >= Duration::from_secs(3), "held until the node was free: {answered_at:?}");
        assert_eq!((waits[1].0.as_str(), waits[1].1), ("/after", Duration::ZERO));
        Ok(())
    }
}
