//! What every token consumer in the cluster shares: the keys a node holds and how it gets
//! them, the implicit grant's opaque tokens and proxy mode.
//!
//! * [`node_keys`]: a node's keys on disk and in its running Tomcat; its CLI commands.
//! * [`held_keys`]: the keys a CallManager node holds, as `show key authz` prints them.
//! * [`key_fetch`]: consumers outside the cluster fetch the keys (Unity, Expressway-C).
//! * [`opaque_tokens`]: the implicit grant's opaque tokens, in the issuer's memory.
//! * [`proxy`]: proxy mode: asking the issuer about an opaque token.
//! * [`consumer`]: the one path a bearer token takes through a consumer, and its events.
//! * [`refusal`]: what a refusal records.
//! * [`refresh`]: AuthZ's check of a refresh token on any CallManager node.

pub mod consumer;
pub mod held_keys;
pub mod key_fetch;
pub mod node_keys;
pub mod opaque_tokens;
pub mod proxy;
pub mod refresh;
pub mod refusal;
