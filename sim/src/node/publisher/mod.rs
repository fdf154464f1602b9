//! The CallManager publisher's AuthZ service.
//!
//! The only node that generates the signing and encryption keys; it pushes them to every
//! other node, issues tokens, keeps the refresh-token table and serves the keys to consumers
//! outside the cluster.
//!
//! Grants: the authorization-code grant with refresh tokens while "OAuth with Refresh Login
//! Flow" is enabled (Disabled by default), and the implicit grant, kept for old clients and
//! RTMT, which issues an access token only and only with SSO. With the flow disabled (or on
//! an old release) implicit tokens are opaque and live in this node's memory; other nodes
//! ask it about them (proxy mode, [`INTROSPECT_PATH`]).

pub mod active_logs;
pub mod commands;
pub mod grants;
pub mod key_push;
pub mod purge;
pub mod revoke;
pub mod run_sql;
pub mod sip_admin;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use authzlab_host::Keyring;
use hyper::{Method, StatusCode};
use rand_chacha::ChaCha20Rng;
use tokio::sync::mpsc;

use crate::certs::sync::{CERTS_PATH, DRF_PATH, DRF_PORT};
use crate::certs::CertStore;
use crate::clock;
use crate::node::authz::held_keys::HeldKeys;
use crate::node::authz::opaque_tokens::OpaqueTokens;
use crate::node::ipsec_trust;
use crate::node::key_checksums;
use crate::node::publisher::sip_admin::SipAdmin;
use crate::node_id::NodeId;
use crate::proto::authz::*;
use crate::proto::axl::{AXL_CALLMANAGERS_PATH, AXL_EXPRESSWAY_PATH};
use crate::proto::http::{answer_now, serve, serve_unless_busy, Busy, HttpRequest, HttpResponse};
use crate::proto::https::serve_https;
use crate::proto::sso::{AssertionKey, SpMetadata};
use crate::scenario::Purge;
use crate::seeds::Seeds;
use crate::store::RefreshTokenStore;
use crate::tokens::{KeyBundle, KeyKind, Lifetimes, TokenService};
use crate::trace::{Happening, Tracer};

pub use commands::AdminCommand;
pub use grants::Grants;
use grants::PendingCode;
use key_push::{sync_keys, KeyPush};
use purge::purge_daily;

/// Admin commands waiting for the publisher: at most one per scenario step.
pub const ADMIN_QUEUE_MAX: usize = crate::scenario::STEPS_MAX;

/// The publisher's state, shared by its request handler and its admin task.
pub struct Publisher {
    tokens: TokenService,
    /// The keys as a validator holds them, rebuilt when a key is regenerated.
    keyring: Arc<Keyring>,
    /// The keys as `show key authz` reports them here: synced when generated.
    held: HeldKeys,
    store: RefreshTokenStore,
    codes: BTreeMap<String, PendingCode>,
    code_rng: ChaCha20Rng,
    grants: Grants,
    /// The implicit grant's opaque tokens, in this node's memory only.
    opaque: OpaqueTokens,
    /// Assertion ids already used, with their expiry, so that none is used twice.
    assertions_used: BTreeMap<String, u64>,
    /// Times the node has started (1 at boot; more after crashes).
    boots: u32,
    /// ssoApp.log, the ssosp logs and the certMgmt logs (on disk: a crash keeps them).
    logs: active_logs::ActiveLogs,
    /// Until when Cisco Tomcat (and so AuthZ) is restarting, simulated time since the start.
    tomcat_restarting_until: Option<Duration>,
    /// One hand-off per subscriber, in subscriber order: its sync task pushes the newest keys.
    pushes: Vec<Rc<KeyPush>>,
    /// SIP OAuth administration, when the cluster registers devices over SIP.
    sip: Option<SipAdmin>,
    /// `tomcat.pem`, `ipsec.pem` (which DRF Primary presents and every other node's
    /// IPSec-trust must hold) and their trust stores; every cluster the run builds has them.
    certs: Option<Rc<RefCell<CertStore>>>,
    epoch_s: u64,
    tracer: Tracer,
}

impl Publisher {
    pub fn new(
        seeds: &Seeds,
        lifetimes: Lifetimes,
        grants: Grants,
        store: RefreshTokenStore,
        subscribers: Vec<NodeId>,
        epoch_s: u64,
        tracer: Tracer,
    ) -> Publisher {
        let tokens = TokenService::new(seeds, lifetimes);
        let keyring = Arc::new(tokens.keys.keyring());
        tracer.learn_secrets(&tokens.keys.secret_forms());
        if let Some(key) = &grants.sso {
            tracer.learn_secrets(&key.secret_forms());
        }
        // The keys at boot are news to every subscriber.
        let boot_keys = KeyBundle::from_keys(&tokens.keys);
        let pushes = subscribers.iter().map(|node| KeyPush::new(node, boot_keys.clone())).collect();
        let mut held = HeldKeys::default();
        held.sync(&keyring, epoch_s);
        let logs = active_logs::ActiveLogs::new(grants.sso.is_some());
        Publisher {
            pushes,
            tokens,
            keyring,
            held,
            store,
            codes: BTreeMap::new(),
            code_rng: seeds.rng("authorization-codes"),
            grants,
            opaque: OpaqueTokens::new(seeds.rng("opaque-tokens")),
            assertions_used: BTreeMap::new(),
            boots: 0,
            logs,
            tomcat_restarting_until: None,
            sip: None,
            certs: None,
            epoch_s,
            tracer,
        }
    }

    /// The publisher's certificates (DRF Primary, the source of every IPSec-trust).
    pub fn with_certs(mut self, certs: Rc<RefCell<CertStore>>) -> Publisher {
        self.certs = Some(certs);
        self
    }

    /// Its certificates, when it has them (the documented IPSec check reads them).
    pub fn certs(&self) -> Option<Rc<RefCell<CertStore>>> {
        self.certs.clone()
    }

    /// The serial of the `tomcat.pem` Cisco Tomcat presents now (what SSO's metadata must
    /// name): the one it loaded when it last started.
    fn tomcat_serial(&self) -> Option<String> {
        use crate::certs::{Identity, Service};
        let certs = self.certs.as_ref()?.borrow();
        let presented = certs.presented(Service::Tomcat, Identity::Tomcat);
        Some(presented.unwrap_or_else(|| certs.identity(Identity::Tomcat)).serial.clone())
    }

    /// The publisher administers SIP OAuth too.
    pub fn with_sip(mut self, sip: SipAdmin) -> Publisher {
        self.sip = Some(sip);
        self
    }

    /// Starts the node: at boot, nothing to do; after a crash, what was in memory is gone
    /// (authorization codes, opaque tokens, used assertion ids, pushes under way), the
    /// refresh-token table is read again from its file, and the current keys are pushed to
    /// every node again. Assumption: the documents do not say what a publisher does at
    /// start; pushing its keys, as at first boot, is ours.
    fn boot(&mut self) {
        self.boots += 1;
        if self.boots == 1 {
            return;
        }
        let forgot = format!(
            "{} authorization code(s), {} opaque token(s), {} assertion id(s)",
            self.codes.len(),
            self.opaque.len(),
            self.assertions_used.len()
        );
        self.codes.clear();
        self.opaque.forget_all();
        self.assertions_used.clear();
        let reopened = self.store.reopen();
        let table_rows = reopened.as_ref().ok().and_then(|()| self.store.count().ok());
        let revoked_rows = reopened.ok().and_then(|()| self.store.count_revoked().ok());
        let bundle = self.key_bundle();
        for push in &self.pushes {
            push.offer(bundle.clone());
        }
        self.tracer.emit(Happening::NodeRestarted { table_rows, revoked_rows, forgot: Some(forgot) });
    }

    pub fn cluster_id(&self) -> &str {
        self.tokens.keys.cluster_id()
    }

    /// What `show key authz signing` and `show key authz encryption` print here now, times in
    /// the cluster's local time.
    pub fn show_keys(&self, utc_offset_s: i64) -> Happening {
        Happening::KeysShown {
            signing: self.held.show(KeyKind::Signing, utc_offset_s),
            encryption: self.held.show(KeyKind::Encryption, utc_offset_s),
        }
    }

    /// Fills the table with the scenario's rows of former users: `expired` rows that expired
    /// a day before the run starts, and each `(valid_for, rows)` valid until that long after
    /// the start.
    pub fn preload(
        &mut self,
        expired: u64,
        valid: &[(Duration, u64)],
    ) -> Result<(), crate::store::StoreError> {
        let expired_at = self.epoch_s.saturating_sub(86_400);
        let batches = std::iter::once((expired_at, expired))
            .chain(valid.iter().map(|(valid_for, rows)| (self.epoch_s + valid_for.as_secs(), *rows)));
        let batches: crate::store::PreloadBatches = batches
            .enumerate()
            .filter(|(_, (_, rows))| *rows > 0)
            .map(|(index, (validity, rows))| (format!("former-{index}"), rows, validity))
            .collect();
        self.store.preload_batches(&batches)?;
        for (_, rows, validity) in batches {
            self.tracer.emit(Happening::TablePreloaded { rows, validity });
        }
        Ok(())
    }

    /// Shows each row of the refresh-token table to `each` (for the checks that read the
    /// database itself).
    pub fn each_table_row(
        &self,
        each: impl FnMut(&crate::store::RefreshTokenRow),
    ) -> Result<(), crate::store::StoreError> {
        self.store.each_row(each)
    }

    /// The current keys in wire form (secrets: for the network and invariant checks only).
    pub fn key_bundle(&self) -> KeyBundle {
        KeyBundle::from_keys(&self.tokens.keys)
    }

    fn now_s(&self) -> u64 {
        clock::node_now_s(self.tracer.node(), self.epoch_s)
    }

    fn handle(&mut self, request: HttpRequest) -> HttpResponse {
        if self.tomcat_restarting_until.is_some_and(|until| clock::elapsed() < until) {
            return HttpResponse::error(StatusCode::SERVICE_UNAVAILABLE, "Cisco Tomcat is restarting");
        }
        let agent = request.agent.clone().unwrap_or_default();
        let endpoint = request.path.split('?').next().unwrap_or_default();
        if [AUTHORIZE_PATH, TOKEN_PATH, REVOKE_PATH, INTROSPECT_PATH].contains(&endpoint) {
            self.logs.oauth_operation();
        }
        match (&request.method, request.path.as_str()) {
            (&Method::POST, AUTHORIZE_PATH) => match request.json::<AuthorizeRequest>() {
                Ok(authorize) => self.authorize(authorize),
                Err(response) => response,
            },
            (&Method::POST, TOKEN_PATH) => match request.json::<TokenRequest>() {
                Ok(TokenRequest::AuthorizationCode { code }) => self.exchange_code(&code),
                Ok(TokenRequest::RefreshToken { refresh_token }) => {
                    self.refresh(&refresh_token, &agent, request.waited)
                }
                Ok(TokenRequest::ActivationCode { code }) => {
                    let user = match self.sip.as_mut() {
                        Some(sip) => sip.activate(&agent, &code),
                        None => Err("no-sip-oauth"),
                    };
                    self.phone_grant(user, &agent)
                }
                Ok(TokenRequest::RegisteredDevice) => {
                    let user =
                        self.sip.as_ref().map_or(Err("no-sip-oauth"), |sip| sip.registered_device(&agent));
                    self.phone_grant(user, &agent)
                }
                Err(response) => response,
            },
            (&Method::GET, AXL_CALLMANAGERS_PATH) => match &self.sip {
                Some(sip) => sip.discovery(),
                None => HttpResponse::error(StatusCode::NOT_FOUND, "no SIP in this cluster"),
            },
            (&Method::POST, AXL_EXPRESSWAY_PATH) => match &self.sip {
                Some(sip) => sip.take_expressway_names(&request),
                None => HttpResponse::error(StatusCode::NOT_FOUND, "no SIP in this cluster"),
            },
            (&Method::POST, path) if path.split('?').next() == Some(REVOKE_PATH) => self.revoke(path),
            (&Method::POST, INTROSPECT_PATH) => match request.json::<IntrospectRequest>() {
                Ok(question) => self.introspect(&question.token),
                Err(response) => response,
            },
            (&Method::GET, path) if path.starts_with(CERTS_PATH) => match &self.certs {
                Some(certs) => ipsec_trust::serve_publisher_ipsec(&certs.borrow(), path),
                None => HttpResponse::error(StatusCode::NOT_FOUND, "no certificates here"),
            },
            (&Method::GET, KEYS_PATH) => {
                let (signing_key, encryption_key) = key_checksums(&self.keyring);
                self.tracer.emit(Happening::KeysServed { to: agent, signing_key, encryption_key });
                HttpResponse::json(StatusCode::OK, &self.key_bundle())
            }
            _ => HttpResponse::error(StatusCode::NOT_FOUND, "no such AuthZ endpoint"),
        }
    }
}

/// The publisher's program: distribute keys at boot, then serve AuthZ, obey the admin and
/// purge daily. `tick` is the pause a batched purge leaves between batches.
pub async fn run(
    publisher: Rc<RefCell<Publisher>>,
    admin: Rc<RefCell<mpsc::Receiver<AdminCommand>>>,
    purge: Purge,
    tick: Duration,
) -> turmoil::Result {
    publisher.borrow_mut().boot();
    let busy = Busy::default();
    tokio::task::spawn_local(purge_daily(publisher.clone(), busy.clone(), purge, tick));
    tokio::task::spawn_local(commands::obey(publisher.clone(), admin));
    {
        let publisher = publisher.borrow();
        for push in &publisher.pushes {
            tokio::task::spawn_local(sync_keys(push.clone(), publisher.tracer.clone()));
        }
    }
    if let Some(certs) = publisher.borrow().certs.clone() {
        // DRF Primary: what DRF Local on every other node checks against its IPSec-trust.
        tokio::task::spawn_local(serve(
            DRF_PORT,
            answer_now(move |request: HttpRequest| {
                if (&request.method, request.path.as_str()) == (&Method::GET, DRF_PATH) {
                    ipsec_trust::present_drf_primary(&certs.borrow())
                } else {
                    HttpResponse::error(StatusCode::NOT_FOUND, "no such endpoint")
                }
            }),
        ));
    }
    let handler_state = publisher.clone();
    let handler = answer_now(move |request| handler_state.borrow_mut().handle(request));
    let tls = {
        let publisher = publisher.borrow();
        publisher.certs.clone().map(|certs| {
            crate::node::tomcat_tls::tomcat_identity(certs, NodeId::PUBLISHER, publisher.epoch_s)
        })
    };
    match tls {
        Some(tls) => serve_https(HTTPS_PORT, handler, busy, tls).await,
        None => serve_unless_busy(HTTPS_PORT, handler, busy).await,
    }
}
