//! Guest-side SDK for authzlab validator plugins.
//!
//! A plugin is a `cdylib` that implements [`Guest`] and calls [`export!`]. Most plugins are a
//! few lines: [`check`] runs the checks every CallManager AuthZ token needs (structure, pinned
//! algorithms, signature and decryption through the host's keyring, `ctyp`, `iss`, `iat`, `exp`),
//! and the plugin adds its consumer's policy on the returned [`Claims`].
//!
//! * [`b64`]: strict base64url (no padding, canonical trailing bits), as RFC 7515 requires.
//! * [`jose`]: splitting compact JWS and JWE and reading their JSON parts.
//! * [`check`]: the verdict, in the order the WIT contract documents.
//!
//! The host's native reference validator implements the same order independently; the
//! conformance vectors (`authzlab plugin check`) hold the two to the same verdicts.

pub mod b64;
mod checks;
pub mod jose;

/// Bindings for `authzlab:validator@0.1.0`, generated from `wit/` at the repository's top.
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "validator",
        pub_export_macro: true,
        export_macro_name: "export",
        default_bindings_module: "authzlab_validator_sdk::bindings",
    });
}

pub use bindings::authzlab::validator::keyring::KeyError;
pub use bindings::authzlab::validator::types::{Claims, PluginInfo, Rejection, Request, TokenKind};
pub use bindings::{export, Guest};
pub use checks::{check, Policy, CLOCK_LEEWAY_S};
