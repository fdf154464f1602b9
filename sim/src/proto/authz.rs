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
/// Revocation of refresh tokens by user, or by user and device (DOMAIN.md: the documents'
/// own path): `?user_id=…[&client_id=…]`, `client_id` being the table's `clientid` (`ccid`).
pub const REVOKE_PATH: &str = "/ssosp/token/revoke";
/// Unity Connection's voicemail login (VMREST) with a bearer token.
pub const VOICEMAIL_LOGIN_PATH: &str = "/vmrest/user";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AuthorizeRequest {
    pub user: String,
    pub client_id: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AuthorizeResponse {
    pub code: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "grant_type", rename_all = "snake_case")]
pub enum TokenRequest {
    AuthorizationCode { code: String },
    RefreshToken { refresh_token: String },
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

/// The publisher's answer to a revocation.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RevokeResponse {
    /// Refresh tokens revoked by this call.
    pub revoked: u64,
}
