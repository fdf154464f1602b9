//! A CallManager subscriber: it receives the AuthZ keys from the publisher and validates
//! tokens itself (here on UDS, Jabber's first call after login) with the native validator.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use authzlab_host::{reference, Keyring, Request, TokenKind, Verdict};
use hyper::{Method, StatusCode};

use crate::clock;
use crate::node::held_keys::HeldKeys;
use crate::node::{key_checksums, Refusal};
use crate::proto::authz::*;
use crate::proto::http::{serve, HttpRequest, HttpResponse};
use crate::tokens::KeyKind;
use crate::trace::{Happening, Tracer};

/// A subscriber's state: the keys last pushed to it.
pub struct Subscriber {
    keyring: Option<Arc<Keyring>>,
    /// The same keys as `show key authz` reports them, with each key's sync time.
    held: HeldKeys,
    epoch_s: u64,
    tracer: Tracer,
}

impl Subscriber {
    pub fn new(epoch_s: u64, tracer: Tracer) -> Subscriber {
        Subscriber { keyring: None, held: HeldKeys::default(), epoch_s, tracer }
    }

    /// What `show key authz signing` and `show key authz encryption` print here now.
    pub fn show_keys(&self) -> Happening {
        Happening::KeysShown {
            signing: self.held.show(KeyKind::Signing),
            encryption: self.held.show(KeyKind::Encryption),
        }
    }

    fn handle(&mut self, request: HttpRequest) -> HttpResponse {
        match (&request.method, request.path.as_str()) {
            (&Method::POST, KEY_SYNC_PATH) => match request.json::<KeyBundle>() {
                Ok(bundle) => self.install(&bundle),
                Err(response) => response,
            },
            (&Method::GET, UDS_PATH) => self.uds(&request),
            _ => HttpResponse::error(StatusCode::NOT_FOUND, "no such endpoint"),
        }
    }

    fn install(&mut self, bundle: &KeyBundle) -> HttpResponse {
        let keyring = match bundle.keyring() {
            Ok(keyring) => keyring,
            Err(reason) => return HttpResponse::error(StatusCode::BAD_REQUEST, &reason),
        };
        let (signing_key, encryption_key) = key_checksums(&keyring);
        self.tracer.emit(Happening::KeysSynced { signing_key, encryption_key });
        self.held.sync(&keyring, clock::now_s(self.epoch_s));
        self.keyring = Some(Arc::new(keyring));
        HttpResponse::json(StatusCode::OK, &serde_json::json!({ "synced": true }))
    }

    fn uds(&mut self, request: &HttpRequest) -> HttpResponse {
        let client = request.agent.clone().unwrap_or_default();
        let (Some(keyring), Some(token)) = (&self.keyring, &request.bearer) else {
            let Refusal { reason, kid, detail } = Refusal::plain("no-keys-or-token");
            self.tracer.emit(Happening::UdsRequestRejected { client, reason, kid, detail });
            return HttpResponse::error(StatusCode::UNAUTHORIZED, "no-keys-or-token");
        };
        let request = Request {
            token: token.clone(),
            kind: TokenKind::Access,
            now: clock::now_s(self.epoch_s),
            consumer: "cucm-uds".to_string(),
        };
        match Verdict::from(reference::validate(keyring, &request)) {
            Verdict::Accepted(claims) => {
                self.tracer.emit(Happening::UdsRequestAccepted {
                    client,
                    user: claims.subject.clone(),
                    tid: claims.token_id.clone(),
                    exp: claims.expires_at,
                });
                HttpResponse::json(StatusCode::OK, &serde_json::json!({ "user": claims.subject }))
            }
            verdict => {
                let Refusal { reason, kid, detail } = Refusal::of(&verdict);
                self.tracer.emit(Happening::UdsRequestRejected { client, reason, kid, detail });
                HttpResponse::error(StatusCode::UNAUTHORIZED, verdict.reason().unwrap_or("unknown"))
            }
        }
    }
}

/// The subscriber's program: serve key sync and UDS.
pub async fn run(subscriber: Rc<RefCell<Subscriber>>) -> turmoil::Result {
    serve(HTTPS_PORT, Rc::new(move |request| subscriber.borrow_mut().handle(request))).await
}
