//! An IM and Presence node (`imp-pub`, `imp-sub-N`): it receives the AuthZ keys from the
//! CallManager publisher, as every CallManager node does, and checks Jabber's XMPP logins
//! (BOSH over HTTPS) through its validator plugin, `imp` unless the scenario loads another.
//! An opaque token of the implicit grant it asks the publisher about (proxy mode).

use std::cell::RefCell;
use std::rc::Rc;

use authzlab_host::{Plugin, Request, TokenKind, Verdict};
use hyper::{Method, StatusCode};

use crate::clock;
use crate::node::node_keys::{run_commands, NodeCommands, NodeKeys};
use crate::node::opaque_tokens::is_opaque;
use crate::node::proxy::{answer_by_proxy, Vouched};
use crate::node::Refusal;
use crate::proto::authz::{HTTPS_PORT, KEY_SYNC_PATH};
use crate::proto::http::{serve, HttpRequest, HttpResponse, Pending};
use crate::trace::{Happening, Tracer};

/// IM and Presence's BOSH port (XMPP over HTTPS: `https://<imp>:7335/httpbinding`).
pub const BOSH_PORT: u16 = 7335;
/// The BOSH endpoint where Jabber opens its XMPP session with a bearer token.
pub const BOSH_PATH: &str = "/httpbinding";

/// An IM and Presence node's state.
pub struct ImpNode {
    plugin: Plugin,
    /// The keys on disk (`show key authz`) and those its running Tomcat validates with.
    keys: Rc<RefCell<NodeKeys>>,
    /// The node that issues opaque tokens, asked about them in proxy mode.
    publisher: String,
    boots: u32,
    epoch_s: u64,
    tracer: Tracer,
}

impl ImpNode {
    pub fn new(plugin: Plugin, publisher: &str, epoch_s: u64, tracer: Tracer) -> ImpNode {
        ImpNode { plugin, keys: Rc::default(), publisher: publisher.to_string(), boots: 0, epoch_s, tracer }
    }

    /// What `show key authz signing` and `show key authz encryption` print here now.
    pub fn show_keys(&self) -> Happening {
        self.keys.borrow().show()
    }

    fn install(&mut self, request: &HttpRequest) -> HttpResponse {
        let now_s = clock::node_now_s(self.tracer.node(), self.epoch_s);
        self.keys.borrow_mut().receive_push(request, &self.tracer, now_s)
    }

    /// A self-contained token, checked here by the plugin with the keys this node holds.
    fn im_login(&mut self, request: &HttpRequest) -> HttpResponse {
        let client = request.agent.clone().unwrap_or_default();
        let keyring = self.keys.borrow().loaded().cloned();
        let (Some(keyring), Some(token)) = (keyring, &request.bearer) else {
            let Refusal { reason, kid, detail } = Refusal::plain("no-keys-or-token");
            self.tracer.emit(Happening::ImLoginRejected { client, reason, kid, detail, proxy_ms: None });
            return HttpResponse::error(StatusCode::UNAUTHORIZED, "no-keys-or-token");
        };
        let validation = Request {
            token: token.clone(),
            kind: TokenKind::Access,
            now: clock::node_now_s(self.tracer.node(), self.epoch_s),
            consumer: "imp".to_string(),
        };
        match self.plugin.validate(keyring, &validation) {
            Verdict::Accepted(claims) => {
                let user = claims.subject.clone();
                self.tracer.emit(Happening::ImLoginAccepted {
                    client,
                    user: claims.subject,
                    tid: claims.token_id,
                    exp: claims.expires_at,
                    proxy_ms: None,
                });
                HttpResponse::json(StatusCode::OK, &serde_json::json!({ "user": user }))
            }
            verdict => {
                let Refusal { reason, kid, detail } = Refusal::of(&verdict);
                self.tracer.emit(Happening::ImLoginRejected { client, reason, kid, detail, proxy_ms: None });
                HttpResponse::error(StatusCode::UNAUTHORIZED, verdict.reason().unwrap_or("unknown"))
            }
        }
    }
}

/// The node's program: key sync on the AuthZ port, XMPP logins on the BOSH port. The keys it
/// was pushed are on its disk and survive a crash.
pub async fn run(node: Rc<RefCell<ImpNode>>, commands: NodeCommands) -> turmoil::Result {
    {
        let mut state = node.borrow_mut();
        state.boots += 1;
        if state.boots > 1 {
            state.tracer.emit(Happening::NodeRestarted { table_rows: None, forgot: None });
        }
        let (keys, publisher, epoch_s, tracer) =
            (state.keys.clone(), state.publisher.clone(), state.epoch_s, state.tracer.clone());
        tokio::task::spawn_local(run_commands(commands, keys, publisher, epoch_s, tracer));
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
        Rc::new(move |request: HttpRequest| -> Pending {
            let response = if tomcat_down() {
                HttpResponse::error(StatusCode::SERVICE_UNAVAILABLE, "Cisco Tomcat is restarting")
            } else if (&request.method, request.path.as_str()) == (&Method::POST, KEY_SYNC_PATH) {
                sync.borrow_mut().install(&request)
            } else {
                HttpResponse::error(StatusCode::NOT_FOUND, "no such endpoint")
            };
            Box::pin(std::future::ready(response))
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
            if (&request.method, request.path.as_str()) != (&Method::POST, BOSH_PATH) {
                return Box::pin(std::future::ready(HttpResponse::error(
                    StatusCode::NOT_FOUND,
                    "no such endpoint",
                )));
            }
            if request.bearer.as_deref().is_some_and(is_opaque) {
                let (publisher, tracer) = {
                    let node = node.borrow();
                    (node.publisher.clone(), node.tracer.clone())
                };
                return Box::pin(answer_by_proxy(
                    publisher,
                    tracer,
                    request,
                    |client, Vouched { user, tid, exp }, proxy_ms| Happening::ImLoginAccepted {
                        client,
                        user,
                        tid,
                        exp,
                        proxy_ms,
                    },
                    |client, Refusal { reason, kid, detail }, proxy_ms| Happening::ImLoginRejected {
                        client,
                        reason,
                        kid,
                        detail,
                        proxy_ms,
                    },
                ));
            }
            let response = node.borrow_mut().im_login(&request);
            Box::pin(std::future::ready(response))
        }),
    )
    .await
}
