//! IM and Presence's validator: a Jabber XMPP (BOSH) login presents a CallManager AuthZ
//! access token.
//!
//! IM and Presence nodes receive the signing and encryption keys from the CallManager
//! publisher, as CallManager nodes do, and check each login's token themselves. The checks
//! are the SDK's; IM and Presence's own policy is that an instant-messaging session needs an
//! access token whose scope covers Unified Communications: a token granted for anything else
//! is `denied`, not merely malformed. (A refresh token carries no scope; asked about one, the
//! plugin gives the SDK's verdict, as the contract requires of every validator.)

use authzlab_validator_sdk::{
    check_with, export, require_scope, Claims, Guest, PluginInfo, Policy, Rejection, Request, UC_SCOPE,
};

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
        check_with(&req, Policy::default(), |claims| require_scope(req.kind, claims, UC_SCOPE))
    }
}

export!(ImAndPresence);
