//! HTTP/1.1 keep-alive: a client's open connections, one per server and port, reused for
//! its next request there.
//!
//! Jabber sends its sign-in, refresh, IM and voicemail requests over connections it keeps,
//! and a subscriber keeps its connection to the publisher for the refreshes it carries
//! there. A kept connection idle for [`KEEP_ALIVE_IDLE`] is one the server has closed: the
//! client drops it and connects anew. The server's close is not sent at the idle deadline
//! but when the client next asks (or never): nothing a node records depends on that FIN, and
//! a timer per idle connection would wake the simulation for nothing (docs/architecture.md
//! "Time"). A request on a kept connection that the server dropped meanwhile (a crash: its
//! sockets close) fails at once; it is sent again once, on a new connection, within the
//! same [`REQUEST_TIMEOUT`](crate::proto::http::REQUEST_TIMEOUT). A Tomcat restart closes nothing here: a kept connection gets the
//! same 503 a new one would.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::http1::SendRequest;

use crate::clock;
use crate::proto::http::{exchange_on, within_request_timeout, Call, HttpResponse, NetError};

/// How long a server keeps an idle HTTP/1.1 connection open. Assumption: the documents do not
/// say; this is Apache Tomcat's stock `server.xml` (a `connectionTimeout` of 20 s, which its
/// `keepAliveTimeout` takes when unset). A client polling less often than this connects anew
/// each time.
pub const KEEP_ALIVE_IDLE: Duration = Duration::from_secs(20);

/// Servers one holder keeps a connection to; past it, a new server's connection is closed
/// after its answer. A Jabber client keeps four at most (publisher, home subscriber, IM and
/// Presence, Unity).
pub const KEPT_CONNECTIONS_MAX: usize = 8;

/// One open connection and the simulated time its last answer came.
struct Open {
    sender: SendRequest<Full<Bytes>>,
    idle_since: Duration,
}

/// A client's kept connections, by server and port (ordered: nothing here depends on hash
/// order).
#[derive(Default)]
pub struct KeptConnections {
    open: RefCell<BTreeMap<(String, u16), Open>>,
}

impl KeptConnections {
    /// How many connections are kept now.
    pub fn len(&self) -> usize {
        self.open.borrow().len()
    }

    pub fn is_empty(&self) -> bool {
        self.open.borrow().is_empty()
    }

    /// Drops every kept connection (the holder restarted: its sockets are gone).
    pub fn clear(&self) {
        self.open.borrow_mut().clear();
    }

    /// The kept connection to `server`, if the server still holds it open; a stale one is
    /// dropped here (its FIN leaves now).
    fn take(&self, server: &(String, u16)) -> Option<SendRequest<Full<Bytes>>> {
        let open = self.open.borrow_mut().remove(server)?;
        let fresh = clock::elapsed().saturating_sub(open.idle_since) < KEEP_ALIVE_IDLE;
        (fresh && open.sender.is_ready()).then_some(open.sender)
    }

    /// Keeps `sender` for the next request to `server`: the newest wins if one is kept
    /// already (two requests ran at once), and nothing is kept past the limit.
    fn keep(&self, server: (String, u16), sender: SendRequest<Full<Bytes>>) {
        let mut open = self.open.borrow_mut();
        if open.len() < KEPT_CONNECTIONS_MAX || open.contains_key(&server) {
            open.insert(server, Open { sender, idle_since: clock::elapsed() });
        }
    }
}

impl Call<'_> {
    /// [`Call::send`] over the connection `kept` holds to the server, or a new one that is
    /// kept afterwards; bounded by [`REQUEST_TIMEOUT`](crate::proto::http::REQUEST_TIMEOUT) in all.
    pub async fn send_kept(self, kept: &KeptConnections) -> Result<HttpResponse, NetError> {
        let server = (self.host.to_string(), self.port);
        let exchange = async {
            if let Some(mut sender) = kept.take(&server) {
                let request = self.request()?;
                // Sent before the server's close arrived, or after: either way no answer
                // comes on it, and the request goes again on a new connection.
                if let Ok(response) = exchange_on(&mut sender, request).await {
                    kept.keep(server, sender);
                    return Ok(response);
                }
            }
            let mut sender = self.connect().await?;
            let response = exchange_on(&mut sender, self.request()?).await?;
            kept.keep(server, sender);
            Ok(response)
        };
        within_request_timeout(exchange).await
    }

    /// [`Call::send_via`] for a client that keeps its connections: through the edge a new
    /// connection each time (the edge's connections are not modelled), on premises a kept one.
    pub async fn send_via_kept(
        self,
        edge: Option<&crate::node_id::NodeId>,
        kept: &KeptConnections,
    ) -> Result<HttpResponse, NetError> {
        match edge {
            Some(_) => self.send_via(edge).await,
            None => self.send_kept(kept).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;

    use hyper::StatusCode;

    use super::*;
    use crate::node_id::NodeId;
    use crate::proto::http::{answer_now, serve_connection, Busy, HttpRequest};
    use crate::proto::metered::Metered;

    /// Requests within the idle limit share one connection; one after it, or after the
    /// server restarted, gets a new one, and every request is answered.
    #[test]
    fn a_connection_is_reused_until_idle_or_gone() -> turmoil::Result {
        clock::reset();
        let mut sim = turmoil::Builder::new()
            .tick_duration(Duration::from_millis(100))
            .simulation_duration(Duration::from_secs(60))
            .build();
        let accepted = Rc::new(Cell::new(0u32));
        {
            let accepted = accepted.clone();
            sim.host("server", move || {
                let accepted = accepted.clone();
                async move {
                    let listener = turmoil::net::TcpListener::bind(("0.0.0.0", 8443)).await?;
                    let handler = answer_now(|request: HttpRequest| {
                        HttpResponse::json(StatusCode::OK, &serde_json::json!({ "path": request.path }))
                    });
                    loop {
                        let (stream, _) = listener.accept().await?;
                        accepted.set(accepted.get() + 1);
                        tokio::task::spawn_local(serve_connection(
                            Metered::new(stream),
                            handler.clone(),
                            Busy::default(),
                        ));
                    }
                }
            });
        }
        // (path, connections the server had accepted once it was answered, kept connections).
        let seen = Rc::new(RefCell::new(Vec::new()));
        {
            let (seen, accepted) = (seen.clone(), accepted.clone());
            sim.client("client", async move {
                let kept = KeptConnections::default();
                let (server, me) = (NodeId::new("server"), NodeId::new("test"));
                for (at_s, path) in
                    [(1, "/first"), (2, "/within-idle"), (30, "/after-idle"), (40, "/after-restart")]
                {
                    clock::sleep_until(Duration::from_secs(at_s)).await;
                    let answer = Call::get(&server, 8443, path, &me).send_kept(&kept).await;
                    assert_eq!(answer.map(|answer| answer.status), Ok(StatusCode::OK), "{path}");
                    seen.borrow_mut().push((path, accepted.get(), kept.len()));
                }
                Ok(())
            });
        }
        let mut bounced = false;
        for _ in 0..600 {
            let now = sim.elapsed() + clock::warp();
            if !bounced && now >= Duration::from_secs(35) {
                sim.bounce("server");
                bounced = true;
            }
            clock::wake_due(now);
            if sim.step()? {
                break;
            }
        }
        assert_eq!(
            *seen.borrow(),
            [("/first", 1, 1), ("/within-idle", 1, 1), ("/after-idle", 2, 1), ("/after-restart", 3, 1)]
        );
        Ok(())
    }
}
