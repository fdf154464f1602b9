//! The AuthZ service's API (on every CallManager node, port 8443) and the bearer-token
//! requests of its consumers. Paths follow the real system where the documents name them
//! (`/ssosp/...`); bodies are JSON.

use serde::{Deserialize, Serialize};

pub use crate::tokens::KeyBundle;

/// CallManager's and Unity Connection's HTTPS port.
pub const HTTPS_PORT: u16 = 8443;

/// Authorization-code grant, step 1: the user signs in (password or SSO) and the client
/// receives a one-time code.
pub const AUTHORIZE_PATH: &str = "/ssosp/oauth/authorize";
/// Authorization-code grant, step 2, and refresh: `grant_type` says which.
pub const TOKEN_PATH: &str = "/ssosp/oauth/token";
/// Key fetch for consumers outside the cluster (Unity's "Authz Server" entry).
pub const KEYS_PATH: &str = "/ssosp/keys";
/// Key push from the publisher to every other node.
pub const KEY_SYNC_PATH: &str = "/ssosp/keys/sync";
/// User Data Services on a CallManager node: Jabber's first call with a token.
pub const UDS_PATH: &str = "/cucm-uds/user";
/// Revocation of refresh tokens by user, or by user and device (docs/domain.md: the documents'
/// own path): `?user_id=…[&client_id=…]`, `client_id` being the table's `clientid` (`ccid`).
pub const REVOKE_PATH: &str = "/ssosp/token/revoke";
/// Unity Connection's voicemail login (VMREST) with a bearer token.
pub const VOICEMAIL_LOGIN_PATH: &str = "/vmrest/user";

/// Opaque-token validation in proxy mode: a node asks the node that issued an opaque access
/// token whether it is valid (RFC 7662's shape). Assumption: the documents say only that
/// node 2 had to ask node 1; the path and messages are ours.
pub const INTROSPECT_PATH: &str = "/ssosp/token/introspect";
/// The Real-Time Monitoring Tool's counter queries on a CallManager node (the PerfmonService
/// SOAP API), with a bearer token.
pub const PERFMON_PATH: &str = "/perfmonservice2/services/PerfmonService";

/// Authorization request (RFC 6749 §4.1.1 and §4.2.1): the user signs in (a password, or
/// with SSO the identity provider's assertion) and asks for a code or, in the implicit grant,
/// an access token at once.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AuthorizeRequest {
    pub user: String,
    pub client_id: String,
    pub response_type: ResponseType,
    /// The identity provider's signed assertion, when the cluster uses SSO.
    pub assertion: Option<String>,
}

/// What the client asks the authorization endpoint for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseType {
    /// The authorization-code grant ("OAuth with Refresh Login Flow").
    Code,
    /// The implicit grant: an access token only.
    Token,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AuthorizeResponse {
    pub code: String,
}

/// The OAuth error (RFC 6749 §4.1.2.1) AuthZ answers when it does not offer the grant asked
/// for: a new client takes it as "this cluster has no refresh login flow" and falls back.
pub const UNSUPPORTED_RESPONSE_TYPE: &str = "unsupported_response_type";

/// Proxy-mode question about an opaque access token.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IntrospectRequest {
    pub token: String,
}

/// The issuing node's answer: active with the token's claims, or why not.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IntrospectResponse {
    pub active: bool,
    pub user: Option<String>,
    pub tid: Option<String>,
    pub exp: Option<u64>,
    /// Why it is not active: `expired` or `unknown-token`.
    pub reason: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "grant_type", rename_all = "snake_case")]
pub enum TokenRequest {
    AuthorizationCode {
        code: String,
    },
    RefreshToken {
        refresh_token: String,
    },
    /// A phone onboarding with the activation code the administrator gave it ("Explicit:
    /// activation-code onboarding required"; over MRA always).
    ActivationCode {
        code: String,
    },
    /// A phone already registered asks for its tokens without onboarding ("Implicit:
    /// already registered devices"). Assumption: the device's existing registration is
    /// what vouches for it; the documents do not say how.
    RegisteredDevice,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    /// Absent on a refresh: the client keeps its refresh token.
    pub refresh_token: Option<String>,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// The access token's `tid`, so the client's trace can name it without decoding.
    pub access_tid: String,
    pub refresh_tid: Option<String>,
}

/// An OAuth error body (RFC 6749 §5.2), with the rejection reason for the trace.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OAuthError {
    pub error: String,
    pub reason: String,
}

/// An OAuth error answer (`400`, `{"error", "reason"}`).
pub fn oauth_error(error: &str, reason: &str) -> crate::proto::http::HttpResponse {
    crate::proto::http::HttpResponse::json(
        hyper::StatusCode::BAD_REQUEST,
        &OAuthError { error: error.to_string(), reason: reason.to_string() },
    )
}

/// The publisher's answer to a revocation.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RevokeResponse {
    /// Refresh tokens revoked by this call.
    pub revoked: u64,
}
