//! Lines for the plugin's author, through the contract's `log` import: the host records them
//! beside the verdict (the trace's `plugin-said` events) and `authzlab plugin check` prints them
//! under each case. Per call the host keeps 32 lines of up to 512 bytes, escapes control
//! characters and replaces the presented token's text by `<token>`; logging never fails.
//! What the plugin writes to stderr (`eprintln!`, a panic message) is kept the same way.
//!
//! ```ignore
//! authzlab_validator_sdk::log::info(&format!("scope {:?}", claims.scope));
//! ```

use crate::bindings::authzlab::validator::log::{log, Level};

/// Detail for the author while developing.
pub fn debug(message: &str) {
    log(Level::Debug, message);
}

/// What the plugin decided, and why.
pub fn info(message: &str) {
    log(Level::Info, message);
}

/// Something the administrator should look at.
pub fn warn(message: &str) {
    log(Level::Warn, message);
}

/// Something is wrong with the plugin or its input.
pub fn error(message: &str) {
    log(Level::Error, message);
}
