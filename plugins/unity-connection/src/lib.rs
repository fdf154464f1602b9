//! Unity Connection's validator: a voicemail login presents a CallManager AuthZ access token.
//!
//! Unity Connection is a token consumer outside the CallManager cluster: it fetches the
//! signing and encryption keys from its configured Authz server and checks each token itself.
//! The checks are the SDK's; Unity's own policy is that a voicemail login needs an access
//! token (a refresh token is never a login credential).

use authzlab_validator_sdk::{check, export, Claims, Guest, PluginInfo, Policy, Rejection, Request};

struct UnityConnection;

impl Guest for UnityConnection {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: env!("CARGO_PKG_NAME").into(),
            version: env!("CARGO_PKG_VERSION").into(),
            consumer: "unity-connection".into(),
        }
    }

    fn validate(req: Request) -> Result<Claims, Rejection> {
        check(&req, Policy::default())
    }
}

export!(UnityConnection);
