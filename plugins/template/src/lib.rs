//! The starter for a validator plugin. Copy this crate (`authzlab plugin new NAME` does),
//! build it with one command from `plugins/`:
//!
//! ```sh
//! cargo build --release --target wasm32-wasip2 -p template
//! ```
//!
//! and check the component before anyone loads it:
//!
//! ```sh
//! authzlab plugin check plugins/target/wasm32-wasip2/release/template.wasm
//! ```
//!
//! As it is, it passes the built-in suite: every check of the contract comes from the SDK
//! (`check_with`), and the policy below only refuses what a real consumer would. Change the
//! policy for your consumer; keep the SDK's checks.

use authzlab_validator_sdk::{
    check_with, export, require_scope, Claims, Guest, PluginInfo, Policy, Rejection, Request, UC_SCOPE,
};

struct Template;

impl Guest for Template {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: env!("CARGO_PKG_NAME").into(),
            version: env!("CARGO_PKG_VERSION").into(),
            // The consumer this plugin serves: change it to yours.
            consumer: "template".into(),
        }
    }

    fn validate(req: Request) -> Result<Claims, Rejection> {
        // The native reference's leeway; another makes `plugin check` report the difference.
        let policy = Policy::default();
        check_with(&req, policy, |claims| {
            // Your consumer's policy, after every check of the contract: here, that an access
            // token was granted for Unified Communications (refresh tokens carry no scope).
            require_scope(req.kind, claims, UC_SCOPE)?;
            Ok(())
        })
    }
}

export!(Template);
