//! The grants AuthZ offers: the authorization-code grant with refresh tokens (while "OAuth
//! with Refresh Login Flow" is enabled), the implicit grant (old clients, RTMT; with SSO
//! only), phones' tokens for SIP OAuth, the refresh grant, and proxy mode's introspection.

use std::time::Duration;

use hyper::StatusCode;

use super::*;
use crate::node::authz::refresh::verify_refresh_token;
use crate::node::checksum_field;
use crate::proto::authz::*;
use crate::proto::http::HttpResponse;
use crate::scenario::Release;
use crate::tokens::{client_id_hash, uuid_v4, KeyKind};
use crate::trace::Happening;

/// How long an authorization code may wait for its token request.
pub const AUTHORIZATION_CODE_TTL_S: u64 = 60;

/// Codes outstanding at once; past it the oldest are dropped.
pub const AUTHORIZATION_CODES_MAX: usize = 10_000;

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
    /// The SP metadata the identity provider holds (`reconfigure-sso` renews it).
    pub sso_metadata: Option<SpMetadata>,
}

impl Grants {
    /// Whether AuthZ now offers the authorization-code grant with refresh tokens.
    pub fn offers_refresh_flow(&self) -> bool {
        self.release.has_refresh_login_flow() && self.refresh_login_flow
    }
}

pub(super) struct PendingCode {
    user: String,
    client_id: String,
    expires_at_s: u64,
}

impl Publisher {
    /// The authorization endpoint. The grant asked for is checked first: a client asking for
    /// one this cluster does not offer is told so before it signs in, as the real redirect
    /// would (a new client then falls back to the implicit grant).
    pub(super) fn authorize(&mut self, authorize: AuthorizeRequest) -> HttpResponse {
        let now_s = self.now_s();
        match authorize.response_type {
            ResponseType::Code if !self.grants.offers_refresh_flow() => {
                let reason = if self.grants.release.has_refresh_login_flow() {
                    "refresh-login-flow-disabled"
                } else {
                    "implicit-grant-only"
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
        let presented = self.tomcat_serial().unwrap_or_default();
        let assertion = key.verify(assertion, now_s, &presented)?;
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
    pub(super) fn introspect(&self, token: &str) -> HttpResponse {
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

    pub(super) fn exchange_code(&mut self, code: &str) -> HttpResponse {
        let now_s = self.now_s();
        let Some(pending) = self.codes.remove(code).filter(|pending| pending.expires_at_s > now_s) else {
            return oauth_error("invalid_grant", "unknown-or-expired-code");
        };
        self.issue_pair(pending, now_s)
    }

    /// A phone's tokens, by activation code or as an already registered device: an access
    /// and a refresh token, as the authorization-code grant gives (SIP OAuth requires the
    /// refresh login flow).
    pub(super) fn phone_grant(&mut self, user: Result<String, &'static str>, device: &str) -> HttpResponse {
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
    pub(super) fn refresh(&mut self, refresh_token: &str, agent: &str, waited: Duration) -> HttpResponse {
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
        let row = match self.store.find(&claims.token_id, refresh_token) {
            Ok(Some(row)) if row.is_active() && row.validity > now_s => row,
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    use crate::scenario::Release;
    use crate::seeds::Seeds;
    use crate::store::RefreshTokenStore;
    use crate::tokens::{client_id_hash, Lifetimes};
    use crate::trace::Trace;

    /// docs/domain.md "Token formats": the sample rows of `refreshtokendetails` hold `C`-prefixed
    /// client ids of the refresh token's `ccid` shape, and the token only as a hash.
    #[test]
    fn the_table_holds_the_refresh_tokens_ccid_and_only_a_hash_of_it() {
        let trace = Trace::new();
        let grants =
            Grants { release: Release::NEWEST, refresh_login_flow: true, sso: None, sso_metadata: None };
        let mut publisher = Publisher::new(
            &Seeds::new(3),
            Lifetimes::defaults(),
            grants,
            RefreshTokenStore::open_in_memory().unwrap(),
            Vec::new(),
            1_767_571_200,
            trace.node(&NodeId::PUBLISHER),
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
        let tid = claims["tid"].as_str().unwrap();
        assert_eq!(publisher.store.find(tid, refresh_token).unwrap().unwrap().pkid, rows[0].pkid);
    }
}
