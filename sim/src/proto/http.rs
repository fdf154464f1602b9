//! HTTP/1.1 with hyper over turmoil's simulated TCP.
//!
//! Handlers are synchronous functions from request to response: every node answers from its
//! own state without waiting on another node (a node that needs the network, such as Unity
//! fetching keys, starts that work as its own task). This keeps a request's handling inside
//! one simulation step and the trace's order independent of scheduling.

use std::convert::Infallible;
use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, USER_AGENT};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::de::DeserializeOwned;

use crate::clock;
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
}

/// A node's request handler.
pub type Handler = Rc<dyn Fn(HttpRequest) -> HttpResponse>;

/// Accepts connections on `port` forever, answering each request with `handler`.
pub async fn serve(port: u16, handler: Handler) -> turmoil::Result {
    let listener = turmoil::net::TcpListener::bind(("0.0.0.0", port)).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        let handler = handler.clone();
        tokio::task::spawn_local(async move {
            let service = service_fn(move |request: Request<Incoming>| {
                let handler = handler.clone();
                async move { Ok::<_, Infallible>(answer(&handler, request).await) }
            });
            // A broken connection ends that exchange only; the listener goes on.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(Metered::new(stream)), service)
                .await;
        });
    }
}

async fn answer(handler: &Handler, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let header =
        |name| parts.headers.get(name).and_then(|value: &hyper::header::HeaderValue| value.to_str().ok());
    let bearer = header(AUTHORIZATION).and_then(|value| value.strip_prefix("Bearer ")).map(str::to_string);
    let agent = header(USER_AGENT).map(str::to_string);
    let response = match http_body_util::Limited::new(body, BODY_BYTES_MAX).collect().await {
        Ok(body) => handler(HttpRequest {
            method: parts.method,
            path: parts
                .uri
                .path_and_query()
                .map_or_else(|| parts.uri.path().to_string(), |pq| pq.to_string()),
            bearer,
            agent,
            body: body.to_bytes(),
        }),
        Err(_) => HttpResponse::error(StatusCode::PAYLOAD_TOO_LARGE, "body too large"),
    };
    let mut out = Response::new(Full::new(response.body));
    *out.status_mut() = response.status;
    out.headers_mut().insert(CONTENT_TYPE, hyper::header::HeaderValue::from_static("application/json"));
    out
}

/// What a client sends.
pub struct Call<'a> {
    pub host: &'a str,
    pub port: u16,
    pub method: Method,
    pub path: &'a str,
    pub bearer: Option<&'a str>,
    pub agent: &'a str,
    pub body: Vec<u8>,
}

impl<'a> Call<'a> {
    pub fn get(host: &'a str, port: u16, path: &'a str, agent: &'a str) -> Call<'a> {
        Call { host, port, method: Method::GET, path, bearer: None, agent, body: Vec::new() }
    }

    pub fn post<T: Serialize>(host: &'a str, port: u16, path: &'a str, agent: &'a str, body: &T) -> Call<'a> {
        let body = serde_json::to_vec(body).expect("messages serialize");
        Call { host, port, method: Method::POST, path, bearer: None, agent, body }
    }

    pub fn bearer(mut self, token: &'a str) -> Call<'a> {
        self.bearer = Some(token);
        self
    }

    /// One request on a fresh connection, bounded by [`REQUEST_TIMEOUT`].
    pub async fn send(self) -> Result<HttpResponse, NetError> {
        match clock::timeout(REQUEST_TIMEOUT, self.exchange()).await {
            Ok(result) => result,
            Err(_) => Err(NetError::Timeout),
        }
    }

    async fn exchange(self) -> Result<HttpResponse, NetError> {
        // Connecting sends a SYN: network activity even if the connection is refused.
        clock::note_network_activity();
        let stream = turmoil::net::TcpStream::connect((self.host, self.port))
            .await
            .map_err(|_| NetError::Connect(format!("{}:{}", self.host, self.port)))?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(Metered::new(stream)))
                .await
                .map_err(|e| NetError::Protocol(e.to_string()))?;
        tokio::task::spawn_local(async move {
            let _ = connection.await;
        });
        let mut request = Request::builder()
            .method(self.method)
            .uri(self.path)
            .header(HOST, self.host)
            .header(USER_AGENT, self.agent)
            .header(CONTENT_TYPE, "application/json");
        if let Some(token) = self.bearer {
            request = request.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        let request =
            request.body(Full::new(Bytes::from(self.body))).map_err(|e| NetError::Protocol(e.to_string()))?;
        let response = sender.send_request(request).await.map_err(|e| NetError::Protocol(e.to_string()))?;
        let status = response.status();
        let body = http_body_util::Limited::new(response.into_body(), BODY_BYTES_MAX)
            .collect()
            .await
            .map_err(|e| NetError::Protocol(e.to_string()))?
            .to_bytes();
        Ok(HttpResponse { status, body })
    }
}
