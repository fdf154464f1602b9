//! CallManager's SIP OAuth check: a REGISTER on the SIP Phone OAuth Port (5090) or the SIP
//! Mobile and Remote Access Port (5091) carries an AuthZ access token in place of a client
//! certificate (docs/domain.md "SIP OAuth mode").
//!
//! The checks are the SDK's. CallManager's own policy: a registration is a device's, so the
//! token must be one AuthZ granted for Unified Communications (the scope Jabber and phones
//! are given); any other grant is `denied`. A token that fails is answered
//! `SIP/2.0 403 Forbidden` by the host; which rejection it was goes to the trace only.

use authzlab_validator_sdk::{
    check_with, export, require_scope, Claims, Guest, PluginInfo, Policy, Rejection, Request, UC_SCOPE,
};

struct CallManagerSip;

impl Guest for CallManagerSip {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: env!("CARGO_PKG_NAME").into(),
            version: env!("CARGO_PKG_VERSION").into(),
            consumer: "callmanager-sip".into(),
        }
    }

    fn validate(req: Request) -> Result<Claims, Rejection> {
        check_with(&req, Policy::default(), |claims| require_scope(req.kind, claims, UC_SCOPE))
    }
}

export!(CallManagerSip);
