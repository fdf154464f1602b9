//! Expressway-C's edge check: with "Authorize by OAuth token with refresh" on, every Mobile
//! and Remote Access request from outside (Jabber, phones) carries a CallManager AuthZ
//! access token, which Expressway-C checks with the keys it holds before proxying the
//! request into the cluster (docs/domain.md "Nodes and roles", "SIP OAuth mode").
//!
//! The checks are the SDK's. The edge's own policy: only a token granted for Unified
//! Communications passes the edge (`denied` otherwise); a refresh token is never presented
//! as a credential here (the SDK refuses it as the wrong type when asked for an access token).

use authzlab_validator_sdk::{
    check_with, export, require_scope, Claims, Guest, PluginInfo, Policy, Rejection, Request, UC_SCOPE,
};

struct Expressway;

impl Guest for Expressway {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: env!("CARGO_PKG_NAME").into(),
            version: env!("CARGO_PKG_VERSION").into(),
            consumer: "expressway".into(),
        }
    }

    fn validate(req: Request) -> Result<Claims, Rejection> {
        check_with(&req, Policy::default(), |claims| require_scope(req.kind, claims, UC_SCOPE))
    }
}

export!(Expressway);
