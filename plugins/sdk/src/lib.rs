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
//! * [`log`]: lines for the plugin's author, recorded beside the verdict.
//!
//! The host's native reference validator implements the same order independently; the
//! conformance suite (`authzlab plugin check`) holds the two to the same verdicts.
//!
//! # A worked example
//!
//! A voicemail consumer that takes only Unified Communications tokens, allows its clock to be
//! a minute off, and refuses a user on a blocklist. `check_with` runs every check of the
//! contract first, then the policy hook on the accepted claims:
//!
//! ```ignore
//! use authzlab_validator_sdk::{check_with, export, Claims, Guest, PluginInfo, Policy, Rejection, Request};
//!
//! struct Voicemail;
//!
//! impl Guest for Voicemail {
//!     fn describe() -> PluginInfo {
//!         PluginInfo { name: "voicemail".into(), version: "1.0.0".into(), consumer: "unity-connection".into() }
//!     }
//!
//!     fn validate(req: Request) -> Result<Claims, Rejection> {
//!         let policy = Policy { clock_leeway_s: 60, ..Policy::default() };
//!         check_with(&req, policy, |claims| {
//!             if !claims.scope.iter().any(|scope| scope == "UnifiedCommunications:readwrite") {
//!                 return Err(Rejection::Denied("not a Unified Communications token".into()));
//!             }
//!             if claims.subject == "mallory" {
//!                 authzlab_validator_sdk::log::info("mallory is on the blocklist");
//!                 return Err(Rejection::Denied("blocked user".into()));
//!             }
//!             Ok(())
//!         })
//!     }
//! }
//!
//! export!(Voicemail);
//! ```
//!
//! A leeway other than [`CLOCK_LEEWAY_S`] makes the plugin differ from the native reference
//! on tokens within that margin, which `authzlab plugin check` then reports: that is the
//! point of the setting, not a fault. `plugins/template` is this example as a crate that
//! builds with one command and passes `authzlab plugin check` as it is.

pub mod b64;
mod checks;
pub mod jose;
pub mod log;

/// Bindings for `authzlab:validator@0.3.0`, generated from `wit/` at the repository's top.
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
pub use checks::{check, check_with, require_scope, Policy, CLOCK_LEEWAY_S, TOKEN_BYTES_MAX, UC_SCOPE};
