//! IM and Presence's validator: a Jabber XMPP (BOSH) login presents a CallManager AuthZ
//! access token.
//!
//! IM and Presence nodes receive the signing and encryption keys from the CallManager
//! publisher, as CallManager nodes do, and check each login's token themselves. The checks
//! are the SDK's; IM and Presence's own policy is that an instant-messaging session needs an
//! access token whose scope covers Unified Communications: a token granted for anything else
//! is `denied`, not merely malformed. (A refresh token carries no scope; asked about one, the
//! plugin gives the SDK's verdict, as the contract requires of every validator.)

use authzlab_validator_sdk::{check, export, Claims, Guest, PluginInfo, Policy, Rejection, Request, TokenKind};

/// The scope AuthZ grants Jabber for its Unified Communications services (IM included).
const UC_SCOPE: &str = "UnifiedCommunications:readwrite";

struct ImAndPresence;

impl Guest for ImAndPresence {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: env!("CARGO_PKG_NAME").into(),
            version: env!("CARGO_PKG_VERSION").into(),
            consumer: "imp".into(),
        }
    }

    fn validate(req: Request) -> Result<Claims, Rejection> {
        let claims = check(&req, Policy::default())?;
        if req.kind == TokenKind::Access && !claims.scope.iter().any(|scope| scope == UC_SCOPE) {
            return Err(Rejection::Denied(format!("scope lacks {UC_SCOPE}")));
        }
        Ok(claims)
    }
}

export!(ImAndPresence);
