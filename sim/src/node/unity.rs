//! Unity Connection: a token consumer outside the cluster.
//!
//! An administrator configures an "Authz Server" entry pointing at the publisher; Unity
//! **fetches** the signing and encryption keys from it and validates every voicemail login
//! itself, through its validator plugin. Unity does not hear of a key regeneration: it keeps
//! accepting tokens signed with the old key until it fetches again, which it does when a
//! token names a key it does not hold. The login in hand is refused; the next one, once the
//! fetch has landed, is checked with the new keys.
//!
//! The documents name two things an administrator must do first: an Authz Servers entry (the
//! CallManager host, port 8443, a user with AXL access) so that Unity can fetch the keys, and
//! OAuth services enabled on Unity. Without the entry Unity holds no keys (`no-keys`); with
//! OAuth off it takes no token at all (`oauth-disabled`); Jabber's sign-in and refresh, which
//! do not involve Unity, work either way. Saving the entry fetches the keys at once
//! (assumption).
//!
//! An opaque token of the implicit grant holds nothing a plugin could check: Unity asks its
//! Authz server, which issued it (proxy mode). Assumption: the documents describe proxy mode
//! between CallManager nodes only; Unity asking its Authz server is our reading of it.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use authzlab_host::{Keyring, Plugin};

use crate::conformance::shadow::Shadow;
use crate::node_id::NodeId;
use hyper::{Method, StatusCode};

use crate::clock;
use crate::node::authz::consumer::{self, Consumer, Presented};
use crate::node::authz::key_fetch;
use crate::node::authz::opaque_tokens::is_opaque;
use crate::node::authz::proxy::answer_by_proxy;
use crate::node::authz::refusal::Refusal;
use crate::proto::authz::*;
use crate::proto::http::{serve, HttpRequest, HttpResponse, Pending};
use crate::scenario::{Action, UnitySetup};
use crate::trace::reason::Reason;
use crate::trace::{Happening, Tracer};

pub use crate::node::authz::key_fetch::{KEY_FETCH_ATTEMPTS_MAX, KEY_FETCH_RETRY, KEY_REFETCH_INTERVAL_S};

/// Unity Connection's state.
pub struct Unity {
    plugin: Plugin,
    keyring: Option<Arc<Keyring>>,
    /// The Authz Server entry: the CallManager node Unity fetches keys from.
    authz_server: NodeId,
    /// Whether that entry is configured, and OAuth services enabled.
    setup: UnitySetup,
    last_fetch_s: Option<u64>,
    /// Times the node has started (more than 1 after a crash).
    boots: u32,
    /// The native reference beside the plugin (`plugin check --scenarios`).
    shadow: Option<Shadow>,
    epoch_s: u64,
    tracer: Tracer,
}

impl Unity {
    pub fn new(
        plugin: Plugin,
        authz_server: &NodeId,
        setup: UnitySetup,
        epoch_s: u64,
        tracer: Tracer,
    ) -> Unity {
        Unity {
            plugin,
            keyring: None,
            authz_server: authz_server.clone(),
            setup,
            last_fetch_s: None,
            boots: 0,
            shadow: None,
            epoch_s,
            tracer,
        }
    }

    /// Checks every token natively too, keeping both verdicts in `shadow`.
    pub fn with_shadow(mut self, shadow: Option<Shadow>) -> Unity {
        self.shadow = shadow;
        self
    }

    fn handle(unity: &Rc<RefCell<Unity>>, request: HttpRequest) -> Pending {
        if (&request.method, request.path.as_str()) != (&Method::POST, VOICEMAIL_LOGIN_PATH) {
            return Box::pin(std::future::ready(HttpResponse::error(
                StatusCode::NOT_FOUND,
                "no such endpoint",
            )));
        }
        if !unity.borrow().setup.oauth {
            return Box::pin(std::future::ready(unity.borrow().oauth_disabled(&request)));
        }
        if request.bearer.as_deref().is_some_and(is_opaque) {
            let (server, tracer) = {
                let unity = unity.borrow();
                (unity.authz_server.clone(), unity.tracer.clone())
            };
            return Box::pin(answer_by_proxy(server, tracer, request, Consumer::Voicemail));
        }
        let (response, refetch_cause) = unity.borrow_mut().voicemail_login(&request);
        if let Some(cause) = refetch_cause {
            tokio::task::spawn_local(fetch_keys(unity.clone(), cause, 1));
        }
        Box::pin(std::future::ready(response))
    }

    /// A voicemail login while OAuth services are off: refused before any token is read.
    fn oauth_disabled(&self, request: &HttpRequest) -> HttpResponse {
        let client = request.agent.clone().unwrap_or_default();
        let reason = Reason::OauthDisabled;
        self.tracer.emit(Consumer::Voicemail.rejected(client, Refusal::because(reason), None, None));
        HttpResponse::error(StatusCode::UNAUTHORIZED, reason.name())
    }

    /// Validates a voicemail login; also says whether the verdict calls for a key fetch.
    fn voicemail_login(&mut self, request: &HttpRequest) -> (HttpResponse, Option<&'static str>) {
        let client = request.agent.clone().unwrap_or_default();
        let now_s = clock::node_now_s(self.tracer.node(), self.epoch_s);
        let presented = Presented {
            client: client.clone(),
            keyring: self.keyring.clone(),
            bearer: request.bearer.as_deref(),
            now_s,
            shadow: self.shadow.as_ref(),
        };
        match consumer::check(Consumer::Voicemail, presented, &mut self.plugin, &self.tracer) {
            Ok(claims) => {
                (HttpResponse::json(StatusCode::OK, &serde_json::json!({ "user": claims.subject })), None)
            }
            Err(reason) => {
                // Without an Authz Servers entry there is nowhere to fetch from.
                let refetch =
                    self.setup.authz_server && key_fetch::refetch_due(reason, &mut self.last_fetch_s, now_s);
                (HttpResponse::error(StatusCode::UNAUTHORIZED, reason), refetch.then_some(reason))
            }
        }
    }
}

/// What Unity Connection's administrator changes (the `configure-unity` step).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnityCommand {
    pub authz_server: Option<bool>,
    pub oauth: Option<bool>,
}

impl UnityCommand {
    pub fn of(action: &Action) -> Option<UnityCommand> {
        match action {
            Action::ConfigureUnity { authz_server, oauth } => {
                Some(UnityCommand { authz_server: *authz_server, oauth: *oauth })
            }
            _ => None,
        }
    }
}

/// Unity's administration queue; it outlives a crash of the node (it is the scenario's).
pub type UnityCommands = Rc<RefCell<tokio::sync::mpsc::Receiver<UnityCommand>>>;

/// Carries out the administrator's changes as they come; a newly added Authz Servers entry
/// fetches the keys at once.
async fn configure(unity: Rc<RefCell<Unity>>, commands: UnityCommands) {
    while let Some(command) = std::future::poll_fn(|cx| commands.borrow_mut().poll_recv(cx)).await {
        let fetch_now = {
            let mut unity = unity.borrow_mut();
            let added = command.authz_server == Some(true) && !unity.setup.authz_server;
            unity.setup.authz_server = command.authz_server.unwrap_or(unity.setup.authz_server);
            unity.setup.oauth = command.oauth.unwrap_or(unity.setup.oauth);
            let setup = unity.setup;
            unity
                .tracer
                .emit(Happening::UnityConfigured { authz_server: setup.authz_server, oauth: setup.oauth });
            added && unity.keyring.is_none()
        };
        if fetch_now {
            fetch_keys(unity.clone(), "authz-server-added", KEY_FETCH_ATTEMPTS_MAX).await;
        }
    }
}

/// Fetches the keys from the Authz server, retrying up to `attempts` times.
async fn fetch_keys(unity: Rc<RefCell<Unity>>, cause: &'static str, attempts: u32) {
    let (server, tracer) = {
        let unity = unity.borrow();
        (unity.authz_server.clone(), unity.tracer.clone())
    };
    if let Some(keyring) = key_fetch::fetch(&server, cause, attempts, &tracer).await {
        unity.borrow_mut().keyring = Some(Arc::new(keyring));
    }
}

/// Unity's program: fetch the keys, then serve voicemail logins. After a crash the fetched
/// keys are gone with the memory (assumption: Unity keeps them in memory only) and are
/// fetched again at start-up.
pub async fn run(unity: Rc<RefCell<Unity>>, commands: UnityCommands) -> turmoil::Result {
    {
        let mut unity = unity.borrow_mut();
        unity.boots += 1;
        if unity.boots > 1 {
            let forgot = unity.keyring.take().map(|_| "the fetched keys".to_string());
            unity.last_fetch_s = None;
            unity.tracer.emit(Happening::NodeRestarted { table_rows: None, revoked_rows: None, forgot });
        }
    }
    if unity.borrow().setup.authz_server {
        tokio::task::spawn_local(fetch_keys(unity.clone(), "start-up", KEY_FETCH_ATTEMPTS_MAX));
    }
    tokio::task::spawn_local(configure(unity.clone(), commands));
    let handler_state = unity.clone();
    serve(HTTPS_PORT, Rc::new(move |request| Unity::handle(&handler_state, request))).await
}
