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

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use authzlab_host::Keyring;
use hyper::{Method, StatusCode};
use rand_chacha::ChaCha20Rng;
use tokio::sync::{mpsc, Notify};

use crate::clock;
use crate::node::held_keys::HeldKeys;
use crate::node::opaque_tokens::OpaqueTokens;
use crate::node::sip_admin::SipAdmin;
use crate::node::{checksum_field, key_checksums, verify_refresh_token};
use crate::proto::authz::*;
use crate::proto::axl::{AXL_CALLMANAGERS_PATH, AXL_EXPRESSWAY_PATH};
use crate::proto::http::{answer_now, serve_unless_busy, Busy, Call, HttpRequest, HttpResponse};
use crate::proto::sso::AssertionKey;
use crate::scenario::{Purge, Release};
use crate::seeds::Seeds;
use crate::store::{RefreshTokenStore, STATE_ACTIVE};
use crate::tokens::{client_id_hash, uuid_v4, ExpiryTimer, KeyBundle, KeyKind, Lifetimes, TokenService};
use crate::trace::{Happening, Tracer};

/// How long an authorization code may wait for its token request.
pub const AUTHORIZATION_CODE_TTL_S: u64 = 60;
/// Codes outstanding at once; past it the oldest are dropped.
pub const AUTHORIZATION_CODES_MAX: usize = 10_000;
/// Attempts to push keys to one node before reporting it unsynced.
pub const KEY_SYNC_ATTEMPTS_MAX: u32 = 5;
pub const KEY_SYNC_RETRY: Duration = Duration::from_secs(5);
/// Admin commands waiting for the publisher: at most one per scenario step.
pub const ADMIN_QUEUE_MAX: usize = crate::scenario::STEPS_MAX;
/// Assertion ids remembered to refuse a replay; past it the expired ones are forgotten.
pub const ASSERTIONS_USED_MAX: usize = 10_000;
/// Assumption: while "OAuth with Refresh Login Flow" is enabled, the implicit grant issues
/// the new self-contained (signed and encrypted JWT) access tokens, which every node checks
/// itself; only with the flow disabled, or on an old release, are they opaque. The
/// documents say the new AuthZ issues self-contained tokens and that the expiry timer
/// applies to "both the old and the new token format", not which grant gets which.
pub const IMPLICIT_TOKENS_SELF_CONTAINED_WITH_FLOW: bool = true;
/// Assumption: while the flow is disabled, AuthZ refuses refresh grants too (its refresh
/// tokens stay in the table and work again once the flow is re-enabled); the documents do
/// not say.
pub const REFRESH_NEEDS_FLOW: bool = true;

/// How AuthZ grants tokens: the release, the enterprise parameter and single sign-on.
#[derive(Clone)]
pub struct Grants {
    pub release: Release,
    /// "OAuth with Refresh Login Flow" (never true on an old release).
    pub refresh_login_flow: bool,
    /// The key of the identity provider's assertions, when the cluster uses SSO.
    pub sso: Option<AssertionKey>,
}

impl Grants {
    /// Whether AuthZ now offers the authorization-code grant with refresh tokens.
    pub fn offers_refresh_flow(&self) -> bool {
        self.release == Release::New && self.refresh_login_flow
    }
}

/// What an administrator does on the publisher's CLI.
#[derive(Clone, Debug)]
pub enum AdminCommand {
    /// `set key regen authz signing` / `set key regen authz encryption`.
    RegenerateKey(KeyKind),
    /// An expiry timer changed on the Enterprise Parameters page, in seconds.
    SetExpiry(ExpiryTimer, u64),
    /// "OAuth with Refresh Login Flow" set to Enabled (`true`) or Disabled.
    SetRefreshLoginFlow(bool),
    /// `utils service restart Cisco Tomcat`: AuthZ answers 503 meanwhile.
    RestartTomcat,
    /// `utils sipOAuth-mode enable|disable`.
    SetSipOAuthMode(bool),
    /// The CallManager page: a subscriber's SIP OAuth ports (unchecked: the page checks).
    SetSipPorts { node: String, phone_port: Option<i64>, mra_port: Option<i64> },
    /// The phone security profile page.
    SetSecurityProfile { digest_authentication: Option<bool>, tftp_encrypted_config: Option<bool> },
}

struct PendingCode {
    user: String,
    client_id: String,
    expires_at_s: u64,
}

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
    /// Until when Cisco Tomcat (and so AuthZ) is restarting, simulated time since the start.
    tomcat_restarting_until: Option<Duration>,
    /// One hand-off per subscriber, in subscriber order: its sync task pushes the newest keys.
    pushes: Vec<Rc<KeyPush>>,
    /// SIP OAuth administration, when the cluster registers devices over SIP.
    sip: Option<SipAdmin>,
    epoch_s: u64,
    tracer: Tracer,
}

impl Publisher {
    pub fn new(
        seeds: &Seeds,
        lifetimes: Lifetimes,
        grants: Grants,
        store: RefreshTokenStore,
        subscribers: Vec<String>,
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
            tomcat_restarting_until: None,
            sip: None,
            epoch_s,
            tracer,
        }
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

    /// What `show key authz signing` and `show key authz encryption` print here now.
    pub fn show_keys(&self) -> Happening {
        Happening::KeysShown {
            signing: self.held.show(KeyKind::Signing),
            encryption: self.held.show(KeyKind::Encryption),
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
        for (index, (validity, rows)) in batches.enumerate().filter(|(_, (_, rows))| *rows > 0) {
            self.store.preload(&format!("former-{index}"), rows, validity)?;
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
            (&Method::GET, KEYS_PATH) => {
                let (signing_key, encryption_key) = key_checksums(&self.keyring);
                self.tracer.emit(Happening::KeysServed { to: agent, signing_key, encryption_key });
                HttpResponse::json(StatusCode::OK, &self.key_bundle())
            }
            _ => HttpResponse::error(StatusCode::NOT_FOUND, "no such AuthZ endpoint"),
        }
    }

    /// The authorization endpoint. The grant asked for is checked first: a client asking for
    /// one this cluster does not offer is told so before it signs in, as the real redirect
    /// would (a new client then falls back to the implicit grant).
    fn authorize(&mut self, authorize: AuthorizeRequest) -> HttpResponse {
        let now_s = self.now_s();
        match authorize.response_type {
            ResponseType::Code if !self.grants.offers_refresh_flow() => {
                let reason = match self.grants.release {
                    Release::Old => "implicit-grant-only",
                    Release::New => "refresh-login-flow-disabled",
                };
                return oauth_error(UNSUPPORTED_RESPONSE_TYPE, reason);
            }
            ResponseType::Token if self.grants.sso.is_none() => {
                // docs/domain.md: access tokens of the implicit grant were issued only with SSO.
                return oauth_error(UNSUPPORTED_RESPONSE_TYPE, "implicit-grant-needs-sso");
            }
            _ => {}
        }
        let user = match self.signed_in_user(&authorize, now_s) {
            Ok(user) => user,
            Err(reason) => return oauth_error("access_denied", reason),
        };
        if authorize.response_type == ResponseType::Token {
            return self.implicit_grant(&user, &authorize.client_id, now_s);
        }
        self.codes.retain(|_, pending| pending.expires_at_s > now_s);
        while self.codes.len() >= AUTHORIZATION_CODES_MAX {
            self.codes.pop_first();
        }
        let code = uuid_v4(&mut self.code_rng);
        self.codes.insert(
            code.clone(),
            PendingCode {
                user,
                client_id: authorize.client_id,
                expires_at_s: now_s + AUTHORIZATION_CODE_TTL_S,
            },
        );
        HttpResponse::json(StatusCode::OK, &AuthorizeResponse { code })
    }

    /// Who signed in: with SSO, the subject of a valid, unused assertion from the identity
    /// provider; without, the user named (the password check is not modelled).
    fn signed_in_user(&mut self, authorize: &AuthorizeRequest, now_s: u64) -> Result<String, &'static str> {
        let Some(key) = &self.grants.sso else {
            return Ok(authorize.user.clone());
        };
        let assertion = authorize.assertion.as_deref().ok_or("sso-assertion-missing")?;
        let assertion = key.verify(assertion, now_s)?;
        if self.assertions_used.len() >= ASSERTIONS_USED_MAX {
            self.assertions_used.retain(|_, expires_at_s| *expires_at_s > now_s);
        }
        if self.assertions_used.len() >= ASSERTIONS_USED_MAX {
            return Err("sso-assertions-exhausted");
        }
        if self.assertions_used.insert(assertion.id, assertion.expires_at_s).is_some() {
            return Err("sso-assertion-replayed");
        }
        Ok(assertion.user)
    }

    /// The implicit grant: an access token only. Opaque and kept here unless the refresh
    /// login flow is enabled ([`IMPLICIT_TOKENS_SELF_CONTAINED_WITH_FLOW`]).
    fn implicit_grant(&mut self, user: &str, client: &str, now_s: u64) -> HttpResponse {
        let self_contained = IMPLICIT_TOKENS_SELF_CONTAINED_WITH_FLOW && self.grants.offers_refresh_flow();
        let (token, tid, exp) = if self_contained {
            let access = self.tokens.mint_access(user, client, now_s);
            (access.token, access.tid, access.exp)
        } else {
            let exp = now_s + self.tokens.lifetimes.access_s;
            let issued = self.opaque.issue(user, client, now_s, exp);
            self.tracer.learn_token(&issued.token);
            (issued.token, issued.grant.tid, exp)
        };
        self.tracer.emit(Happening::AccessTokenIssued {
            user: user.to_string(),
            client: client.to_string(),
            access_tid: tid.clone(),
            access_exp: exp,
            format: if self_contained { "jwt" } else { "opaque" }.to_string(),
            signing_key: self_contained.then(|| checksum_field(self.tokens.keys.checksum(KeyKind::Signing))),
        });
        HttpResponse::json(
            StatusCode::OK,
            &TokenResponse {
                access_token: token,
                refresh_token: None,
                expires_in: exp - now_s,
                access_tid: tid,
                refresh_tid: None,
            },
        )
    }

    /// Proxy mode: whether an opaque token this node issued is valid now.
    fn introspect(&self, token: &str) -> HttpResponse {
        let answer = match self.opaque.introspect(token, self.now_s()) {
            Ok(grant) => IntrospectResponse {
                active: true,
                user: Some(grant.user.clone()),
                tid: Some(grant.tid.clone()),
                exp: Some(grant.exp),
                reason: None,
            },
            Err(not_active) => IntrospectResponse {
                active: false,
                user: None,
                tid: None,
                exp: None,
                reason: Some(not_active.reason().to_string()),
            },
        };
        HttpResponse::json(StatusCode::OK, &answer)
    }

    fn set_refresh_login_flow(&mut self, enabled: bool) {
        // The parser refuses this step on an old release, which has no such parameter.
        let previous = self.grants.refresh_login_flow;
        self.grants.refresh_login_flow = enabled;
        self.tracer.emit(Happening::LoginFlowChanged { enabled, previous });
    }

    fn exchange_code(&mut self, code: &str) -> HttpResponse {
        let now_s = self.now_s();
        let Some(pending) = self.codes.remove(code).filter(|pending| pending.expires_at_s > now_s) else {
            return oauth_error("invalid_grant", "unknown-or-expired-code");
        };
        self.issue_pair(pending, now_s)
    }

    /// A phone's tokens, by activation code or as an already registered device: an access
    /// and a refresh token, as the authorization-code grant gives (SIP OAuth requires the
    /// refresh login flow).
    fn phone_grant(&mut self, user: Result<String, &'static str>, device: &str) -> HttpResponse {
        if !self.grants.offers_refresh_flow() {
            return oauth_error("unsupported_grant_type", "refresh-login-flow-disabled");
        }
        match user {
            Ok(user) => {
                let now_s = self.now_s();
                let pending = PendingCode { user, client_id: device.to_string(), expires_at_s: now_s };
                self.issue_pair(pending, now_s)
            }
            Err(reason) => oauth_error("invalid_grant", reason),
        }
    }

    /// An access and a refresh token for the user and device of `pending`; the refresh
    /// token's row is committed to the table first.
    fn issue_pair(&mut self, pending: PendingCode, now_s: u64) -> HttpResponse {
        let access = self.tokens.mint_access(&pending.user, &pending.client_id, now_s);
        let refresh = self.tokens.mint_refresh(&pending.client_id, now_s);
        // The table's `clientid` is the refresh token's `ccid` (docs/domain.md: the sample rows
        // hold `C`-prefixed ids of that shape), not the device's name.
        let ccid = client_id_hash(&pending.client_id);
        if let Err(e) = self.store.insert(&refresh.tid, &refresh.token, &pending.user, &ccid, refresh.exp) {
            return HttpResponse::error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string());
        }
        self.tracer.emit(Happening::TokensIssued {
            user: pending.user.clone(),
            client: pending.client_id.clone(),
            access_tid: access.tid.clone(),
            access_exp: access.exp,
            refresh_tid: refresh.tid.clone(),
            refresh_exp: refresh.exp,
            signing_key: checksum_field(self.tokens.keys.checksum(KeyKind::Signing)),
        });
        HttpResponse::json(
            StatusCode::OK,
            &TokenResponse {
                access_token: access.token,
                refresh_token: Some(refresh.token),
                expires_in: access.exp - now_s,
                access_tid: access.tid,
                refresh_tid: Some(refresh.tid),
            },
        )
    }

    /// The refresh grant: the token must verify with the current keys *and* be in the table,
    /// active and unexpired.
    fn refresh(&mut self, refresh_token: &str, agent: &str, waited: Duration) -> HttpResponse {
        let now_s = self.now_s();
        if REFRESH_NEEDS_FLOW && !self.grants.offers_refresh_flow() {
            self.tracer.emit(Happening::RefreshRejected {
                client: agent.to_string(),
                reason: "refresh-login-flow-disabled".to_string(),
                kid: None,
                detail: None,
                refresh_tid: None,
            });
            return oauth_error("unsupported_grant_type", "refresh-login-flow-disabled");
        }
        let claims =
            match verify_refresh_token(Some(&self.keyring), refresh_token, now_s, agent, &self.tracer) {
                Ok(claims) => claims,
                Err(response) => return response,
            };
        let row = match self.store.find(refresh_token) {
            Ok(Some(row)) if row.state == STATE_ACTIVE && row.validity > now_s => row,
            Ok(found) => {
                let reason = if found.is_some() { "revoked" } else { "not-in-table" };
                self.tracer.emit(Happening::RefreshRejected {
                    client: agent.to_string(),
                    reason: reason.to_string(),
                    kid: None,
                    detail: None,
                    refresh_tid: Some(claims.token_id.clone()),
                });
                return oauth_error("invalid_grant", reason);
            }
            Err(e) => return HttpResponse::error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
        };
        // The row knows the client only by its `ccid`; the new access token names the device
        // that presented the refresh token, as the first one named the device that signed in.
        let access = self.tokens.mint_access(&row.userid, agent, now_s);
        self.tracer.emit(Happening::AccessTokenRefreshed {
            user: row.userid.clone(),
            client: agent.to_string(),
            refresh_tid: row.pkid.clone(),
            access_tid: access.tid.clone(),
            access_exp: access.exp,
            waited_ms: (!waited.is_zero()).then_some(waited.as_millis() as u64),
            signing_key: checksum_field(self.tokens.keys.checksum(KeyKind::Signing)),
        });
        HttpResponse::json(
            StatusCode::OK,
            &TokenResponse {
                access_token: access.token,
                refresh_token: None,
                expires_in: access.exp - now_s,
                access_tid: access.tid,
                refresh_tid: None,
            },
        )
    }

    /// `POST /ssosp/token/revoke?user_id=…[&client_id=…]`: revokes the user's refresh
    /// tokens, or one device's. Access tokens already issued stay valid until their `exp`.
    fn revoke(&mut self, path: &str) -> HttpResponse {
        let query = path.split_once('?').map_or("", |(_, query)| query);
        let (mut user, mut client) = (None, None);
        for pair in query.split('&').take(REVOKE_PARAMETERS_MAX) {
            match pair.split_once('=') {
                Some(("user_id", value)) if crate::scenario::is_user_id(value) => user = Some(value),
                Some(("client_id", value)) if is_ccid(value) => client = Some(value),
                _ => {
                    return HttpResponse::error(StatusCode::BAD_REQUEST, "expected user_id=…[&client_id=C…]")
                }
            }
        }
        let Some(user) = user else {
            return HttpResponse::error(StatusCode::BAD_REQUEST, "user_id is required");
        };
        let revoked = match self.store.revoke(user, client) {
            Ok(pkids) => pkids,
            Err(e) => return HttpResponse::error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
        };
        self.tracer.emit(Happening::TokensRevoked {
            user: user.to_string(),
            ccid: client.map(str::to_string),
            revoked: revoked.len() as u64,
            refresh_tids: revoked.join(" "),
        });
        HttpResponse::json(StatusCode::OK, &RevokeResponse { revoked: revoked.len() as u64 })
    }

    /// New tokens get the new lifetime; tokens already issued keep their `exp`.
    fn set_expiry(&mut self, timer: ExpiryTimer, value_s: u64) {
        let before = self.tokens.lifetimes;
        // The parser checked the value against the bounds; a value out of them would be
        // refused by the page, leaving the timer as it was.
        let Ok(after) = before.with(timer, value_s) else { return };
        self.tokens.lifetimes = after;
        let previous_s = match timer {
            ExpiryTimer::AccessTokenExpiry => before.access_s,
            ExpiryTimer::RefreshTokenExpiry => before.refresh_s,
        };
        self.tracer.emit(Happening::ExpiryChanged { param: timer.to_string(), value_s, previous_s });
    }

    fn regenerate(&mut self, kind: KeyKind) {
        let old = self.tokens.keys.checksum(kind);
        self.tokens.regenerate(kind);
        self.keyring = Arc::new(self.tokens.keys.keyring());
        self.held.sync(&self.keyring, self.now_s());
        // Told before any event could carry it: the checks search every later event for it.
        self.tracer.learn_secrets(&self.tokens.keys.secret_forms());
        let bundle = self.key_bundle();
        for push in &self.pushes {
            push.offer(bundle.clone());
        }
        self.tracer.emit(Happening::KeyRegenerated {
            key: kind.to_string(),
            checksum: checksum_field(self.tokens.keys.checksum(kind)),
            previous: checksum_field(old),
        });
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
    {
        let publisher = publisher.clone();
        tokio::task::spawn_local(async move {
            // The queue outlives a crash of this task (it is the scenario's, not the node's);
            // it is borrowed only while polled.
            while let Some(command) = std::future::poll_fn(|cx| admin.borrow_mut().poll_recv(cx)).await {
                match command {
                    AdminCommand::RegenerateKey(kind) => publisher.borrow_mut().regenerate(kind),
                    AdminCommand::SetExpiry(timer, value_s) => {
                        publisher.borrow_mut().set_expiry(timer, value_s)
                    }
                    AdminCommand::SetRefreshLoginFlow(enabled) => {
                        publisher.borrow_mut().set_refresh_login_flow(enabled)
                    }
                    AdminCommand::SetSipOAuthMode(enabled) => {
                        let publisher = publisher.borrow();
                        // The parser admits this step only with [cluster.sip].
                        if let Some(sip) = &publisher.sip {
                            sip.set_mode(enabled, publisher.grants.offers_refresh_flow(), &publisher.tracer);
                        }
                    }
                    AdminCommand::SetSipPorts { node, phone_port, mra_port } => {
                        let publisher = publisher.borrow();
                        if let Some(sip) = &publisher.sip {
                            sip.set_ports(&node, phone_port, mra_port, &publisher.tracer);
                        }
                    }
                    AdminCommand::SetSecurityProfile { digest_authentication, tftp_encrypted_config } => {
                        let publisher = publisher.borrow();
                        if let Some(sip) = &publisher.sip {
                            sip.set_security_profile(
                                digest_authentication,
                                tftp_encrypted_config,
                                &publisher.tracer,
                            );
                        }
                    }
                    AdminCommand::RestartTomcat => {
                        let until = clock::elapsed() + crate::node::node_keys::TOMCAT_RESTART;
                        publisher.borrow_mut().tomcat_restarting_until = Some(until);
                        clock::sleep_until(until).await;
                        let publisher = publisher.borrow();
                        // The publisher's keys are generated here and used at once: the
                        // restart loads the same keys.
                        let loaded = key_checksums(&publisher.keyring);
                        publisher.tracer.emit(crate::node::node_keys::tomcat_restarted(Some(loaded), None));
                    }
                }
            }
        });
    }
    {
        let publisher = publisher.borrow();
        for push in &publisher.pushes {
            tokio::task::spawn_local(sync_keys(push.clone(), publisher.tracer.clone()));
        }
    }
    let handler_state = publisher.clone();
    serve_unless_busy(HTTPS_PORT, answer_now(move |request| handler_state.borrow_mut().handle(request)), busy)
        .await
}

/// The newest keys not yet pushed to one subscriber, and the signal that they changed.
///
/// Not `tokio::sync::watch`: its receivers are spread over eight `Notify`s chosen by tokio's
/// unseeded thread RNG, so the order in which subscribers' tasks wake after a regeneration,
/// and with it the order of their connections and of turmoil's latency draws, differed from
/// one process to the next. One `Notify` per subscriber, notified in subscriber order, wakes
/// the tasks in the same order every time.
pub struct KeyPush {
    node: String,
    newest: RefCell<Option<KeyBundle>>,
    changed: Notify,
}

impl KeyPush {
    fn new(node: &str, keys: KeyBundle) -> Rc<KeyPush> {
        let push = KeyPush { node: node.to_string(), newest: RefCell::new(None), changed: Notify::new() };
        push.offer(keys);
        Rc::new(push)
    }

    /// Replaces what is waiting to be pushed; the sync task wakes (or finds the permit).
    fn offer(&self, keys: KeyBundle) {
        *self.newest.borrow_mut() = Some(keys);
        self.changed.notify_one();
    }

    fn take(&self) -> Option<KeyBundle> {
        self.newest.borrow_mut().take()
    }

    fn pending(&self) -> bool {
        self.newest.borrow().is_some()
    }
}

/// Pushes the newest keys to one subscriber whenever they change, with bounded retries. One
/// task per subscriber, one push at a time: keys regenerated while a push is under way are
/// pushed next (the newest only, as the node only ever needs the current keys), so however
/// many regenerations a scenario makes at one instant, a subscriber sees one connection.
async fn sync_keys(push: Rc<KeyPush>, tracer: Tracer) {
    loop {
        push.changed.notified().await;
        let Some(bundle) = push.take() else { continue };
        let mut delivered = false;
        for _ in 0..KEY_SYNC_ATTEMPTS_MAX {
            let call = Call::post(&push.node, HTTPS_PORT, KEY_SYNC_PATH, "cucm-pub", &bundle);
            if let Ok(response) = call.send().await {
                if response.status.is_success() {
                    delivered = true;
                    break;
                }
            }
            clock::sleep(KEY_SYNC_RETRY).await;
            if push.pending() {
                // Newer keys supersede these; the permit `offer` left wakes the loop at once.
                delivered = true;
                break;
            }
        }
        if !delivered {
            tracer.emit(Happening::KeySyncFailed { to: push.node.clone(), attempts: KEY_SYNC_ATTEMPTS_MAX });
        }
    }
}

/// Assumption: the publisher's CPU time per purged row, in simulated time. The documents say
/// only that a table with very many expired rows makes the purge spike the CPU. Calibrated
/// on SQLite's delete rate measured on our 2-core machine with this table's four indexes
/// (4 to 7 µs a row; `authzlab bench` prints it): 1,000,000 rows keep the publisher busy
/// for 5 s, in which refreshes wait.
pub const PURGE_ROW_COST_NS: u64 = 5_000;

/// The daily purge: at the configured local time, delete the rows whose validity has
/// passed, in one DELETE or in batches with the publisher free between them. While a
/// batch runs the publisher is busy: requests wait (`Busy`). Each DELETE is a transaction
/// that commits when its modelled time is over, so a crash in between rolls it back; each
/// committed batch of a batched purge is in the trace, so that the checks know what a purge
/// cut short by a crash had deleted.
async fn purge_daily(publisher: Rc<RefCell<Publisher>>, busy: Busy, purge: Purge, tick: Duration) {
    let (epoch_s, node) = {
        let publisher = publisher.borrow();
        (publisher.epoch_s, publisher.tracer.node().to_string())
    };
    // One iteration a simulated day (each purge is at least a day after the one before);
    // the run's duration (DURATION_MAX) bounds the days.
    let mut earliest_s = clock::node_now_s(&node, epoch_s);
    loop {
        let next_s = next_purge_s(earliest_s, &purge);
        earliest_s = next_s + 1;
        clock::sleep_until(Duration::from_secs(next_s.saturating_sub(epoch_s))).await;
        let cutoff = clock::node_now_s(&node, epoch_s);
        let limit = purge.batch_rows.unwrap_or(u64::MAX);
        let (mut rows, mut batches, mut took_ns) = (0u64, 0u64, 0u64);
        loop {
            let deleted = match publisher.borrow().store.begin_purge_batch(cutoff, limit) {
                Ok(deleted) => deleted,
                // An in-memory database fails only when out of memory; this purge ends.
                Err(_) => break,
            };
            let cost_ns = deleted.saturating_mul(PURGE_ROW_COST_NS);
            let end = clock::elapsed() + Duration::from_nanos(cost_ns);
            busy.set(end);
            clock::sleep_until(end).await;
            {
                let publisher = publisher.borrow();
                if publisher.store.commit_purge_batch().is_err() {
                    break;
                }
                if purge.batch_rows.is_some() && deleted > 0 {
                    publisher.tracer.emit(Happening::PurgeBatchCommitted { rows: deleted, cutoff });
                }
            }
            rows += deleted;
            batches += 1;
            took_ns = took_ns.saturating_add(cost_ns);
            if deleted < limit {
                break;
            }
            // A tick for the requests that waited on this batch, before the next one.
            clock::sleep_until(end + tick).await;
        }
        publisher.borrow().tracer.emit(Happening::RefreshTokensPurged {
            rows,
            batches,
            took_ms: took_ns / 1_000_000,
            cutoff,
        });
    }
}

/// The next purge instant at or after `now_s`, UNIX seconds: today's local purge time, or
/// tomorrow's once it has passed.
pub fn next_purge_s(now_s: u64, purge: &Purge) -> u64 {
    let local = now_s as i64 + purge.utc_offset_s;
    let mut at = local.div_euclid(86_400) * 86_400 + purge.at_s_of_day as i64;
    if at < local {
        at += 86_400;
    }
    // Scenario epochs start in 1970 or later plus a day's margin of offsets.
    (at - purge.utc_offset_s).max(0) as u64
}

/// Query parameters the revoke API reads; more is a malformed request.
const REVOKE_PARAMETERS_MAX: usize = 2;

/// A `ccid`: `C` and 64 hex digits.
fn is_ccid(value: &str) -> bool {
    value.len() == 65 && value.starts_with('C') && value[1..].chars().all(|c| c.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    use crate::trace::Trace;

    /// 02:00 local is 01:00 UTC at +01:00 and 04:30 UTC at -02:30; a purge due now runs now,
    /// one that has passed runs tomorrow.
    #[test]
    fn the_purge_runs_at_its_local_time_of_day() {
        let midnight_utc = 1_767_571_200; // 2026-01-05 00:00:00 UTC
        let at = |offset_h: f64| Purge { utc_offset_s: (offset_h * 3600.0) as i64, ..Purge::default() };
        assert_eq!(next_purge_s(midnight_utc, &at(0.0)), midnight_utc + 2 * 3600);
        assert_eq!(next_purge_s(midnight_utc, &at(1.0)), midnight_utc + 3600);
        assert_eq!(next_purge_s(midnight_utc, &at(-2.5)), midnight_utc + 4 * 3600 + 1800);
        assert_eq!(next_purge_s(midnight_utc + 7200, &at(0.0)), midnight_utc + 7200, "due now");
        assert_eq!(next_purge_s(midnight_utc + 7201, &at(0.0)), midnight_utc + 7200 + 86_400, "tomorrow");
        // +14:00: 02:00 local on the 5th is 12:00 UTC on the 4th, passed; next is the 5th.
        assert_eq!(next_purge_s(midnight_utc, &at(14.0)), midnight_utc + 12 * 3600);
    }

    /// docs/domain.md "Token formats": the sample rows of `refreshtokendetails` hold `C`-prefixed
    /// client ids of the refresh token's `ccid` shape, and the token only as a hash.
    #[test]
    fn the_table_holds_the_refresh_tokens_ccid_and_only_a_hash_of_it() {
        let trace = Trace::new();
        let grants = Grants { release: Release::New, refresh_login_flow: true, sso: None };
        let mut publisher = Publisher::new(
            &Seeds::new(3),
            Lifetimes::defaults(),
            grants,
            RefreshTokenStore::open_in_memory().unwrap(),
            Vec::new(),
            1_767_571_200,
            trace.node("cucm-pub"),
        );
        let authorized = publisher.authorize(AuthorizeRequest {
            user: "alice".to_string(),
            client_id: "jabber-1".to_string(),
            response_type: ResponseType::Code,
            assertion: None,
        });
        assert_eq!(authorized.status, StatusCode::OK);
        let code = publisher.codes.keys().next().expect("a code was issued").clone();
        let issued = publisher.exchange_code(&code);
        let body: serde_json::Value = serde_json::from_slice(&issued.body).unwrap();
        let refresh_token = body["refresh_token"].as_str().unwrap();

        let rows = publisher.store.rows().unwrap();
        assert_eq!(rows.len(), 1);
        let ccid = client_id_hash("jabber-1");
        assert_eq!(rows[0].clientid, ccid);
        assert!(
            ccid.starts_with('C') && ccid.len() == 65 && ccid[1..].chars().all(|c| c.is_ascii_hexdigit())
        );
        assert_eq!(rows[0].userid, "alice");
        assert_ne!(rows[0].refreshtokenindex, refresh_token, "never the token itself");
        let payload = refresh_token.split('.').nth(1).unwrap();
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        assert_eq!(claims["ccid"], ccid.as_str(), "the row and the token name the client alike");
        assert_eq!(publisher.store.find(refresh_token).unwrap().unwrap().pkid, rows[0].pkid);
    }
}
