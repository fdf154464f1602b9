//! AuthZ's check of a refresh token on any CallManager node (the publisher with its own
//! keys, a subscriber with the keys its Tomcat loaded).

use authzlab_host::{reference, Claims, Keyring, Request, TokenKind, Verdict};

use crate::node::authz::refusal::Refusal;
use crate::proto::authz::oauth_error;
use crate::proto::http::HttpResponse;
use crate::trace::reason::Reason;
use crate::trace::{Happening, Tracer};

/// AuthZ's check of a refresh token with the keys a node uses (the publisher's, or a home
/// node's loaded ones; `None`: it has none yet): the token's claims, or the refusal, recorded
/// as `refresh-rejected`, as the OAuth error to answer.
pub fn verify_refresh_token(
    keyring: Option<&Keyring>,
    token: &str,
    now_s: u64,
    client: &str,
    tracer: &Tracer,
) -> Result<Claims, HttpResponse> {
    let request = Request {
        token: token.to_string(),
        kind: TokenKind::Refresh,
        now: now_s,
        consumer: "cucm-authz".to_string(),
    };
    let Refusal { reason, kid, detail } =
        match keyring.map(|keyring| Verdict::from(reference::validate(keyring, &request))) {
            Some(Verdict::Accepted(claims)) => return Ok(claims),
            Some(verdict) => Refusal::of(&verdict),
            None => Refusal::because(Reason::NoKeys),
        };
    let response = oauth_error("invalid_grant", &reason);
    tracer.emit(Happening::RefreshRejected {
        client: client.to_string(),
        reason,
        kid,
        detail,
        refresh_tid: None,
    });
    Err(response)
}
