//! The identity provider (ADFS in the documents): authenticates users for SSO and hands
//! their clients a signed assertion for AuthZ. In the implicit grant every access-token
//! expiry sends the user back here (the documents: every 1 to 8 hours, retyping credentials
//! on a phone keypad), so it counts each user's logins.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use hyper::{Method, StatusCode};
use rand_chacha::ChaCha20Rng;

use crate::clock;
use crate::proto::http::{answer_now, serve, HttpRequest, HttpResponse};
use crate::proto::sso::{
    AssertionKey, IdpLoginRequest, IdpLoginResponse, SpMetadata, IDP_LOGIN_PATH, IDP_PORT,
};
use crate::tokens::uuid_v4;
use crate::trace::{Happening, Tracer};

/// The identity provider's state.
pub struct Idp {
    key: AssertionKey,
    /// The SP metadata imported at the SSO set-up (or its last reconfiguration).
    metadata: SpMetadata,
    /// Logins per user so far; one entry per user of the scenario (at most `CLIENTS_MAX`).
    logins: BTreeMap<String, u64>,
    ids: ChaCha20Rng,
    epoch_s: u64,
    tracer: Tracer,
}

impl Idp {
    pub fn new(
        key: AssertionKey,
        metadata: SpMetadata,
        ids: ChaCha20Rng,
        epoch_s: u64,
        tracer: Tracer,
    ) -> Idp {
        tracer.learn_secrets(&key.secret_forms());
        Idp { key, metadata, logins: BTreeMap::new(), ids, epoch_s, tracer }
    }

    fn handle(&mut self, request: HttpRequest) -> HttpResponse {
        if (&request.method, request.path.as_str()) != (&Method::POST, IDP_LOGIN_PATH) {
            return HttpResponse::error(StatusCode::NOT_FOUND, "no such endpoint");
        }
        let login = match request.json::<IdpLoginRequest>() {
            Ok(login) => login,
            Err(response) => return response,
        };
        if !crate::scenario::is_user_id(&login.user) {
            return HttpResponse::error(StatusCode::BAD_REQUEST, "not a user id");
        }
        // The credentials check is not modelled: every user of the scenario knows theirs.
        let logins = self.logins.entry(login.user.clone()).or_default();
        *logins += 1;
        self.tracer.emit(Happening::SsoLogin {
            user: login.user.clone(),
            client: login.client_id,
            logins: *logins,
        });
        let id = uuid_v4(&mut self.ids);
        let now_s = clock::node_now_s(self.tracer.node(), self.epoch_s);
        let assertion = self.key.sign(&login.user, &id, now_s, &self.metadata.borrow());
        HttpResponse::json(StatusCode::OK, &IdpLoginResponse { assertion })
    }
}

/// The identity provider's program: serve logins.
pub async fn run(idp: Rc<RefCell<Idp>>) -> turmoil::Result {
    serve(IDP_PORT, answer_now(move |request| idp.borrow_mut().handle(request))).await
}
