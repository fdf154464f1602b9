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

use authzlab_validator_sdk::{check_with, export, Claims, Guest, PluginInfo, Policy, Rejection, Request, TokenKind};

/// The scope CallManager AuthZ grants for Unified Communications services.
const UC_SCOPE: &str = "UnifiedCommunications:readwrite";

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
            // Your consumer's policy, after every check of the contract. Refresh tokens carry
            // no scope, so only access tokens are held to it.
            if req.kind == TokenKind::Access && !claims.scope.iter().any(|scope| scope == UC_SCOPE) {
                return Err(Rejection::Denied(format!("scope lacks {UC_SCOPE}")));
            }
            Ok(())
        })
    }
}

export!(Template);
