//! Wire protocols between nodes: one file per protocol.
//!
//! * [`http`]: HTTP/1.1 (hyper) over turmoil TCP, the transport of every API here.
//! * [`https`]: TLS on the AuthZ port for clients that start a handshake (phones' tokens).
//! * [`keep_alive`]: a client's open HTTP/1.1 connections, reused for its next request.
//! * [`metered`]: a stream that tells `clock` it was touched, so idle skipping never jumps
//!   past a message turmoil has queued but not yet delivered.
//! * [`authz`]: the AuthZ service's messages: login, refresh, key fetch and key sync, the
//!   UDS and voicemail requests that carry a bearer token, opaque-token introspection.
//! * [`axl`]: what Expressway-C asks of the publisher (discovery, `expresswaycconfiguration`).
//! * [`edge`]: requests through Expressway-E and Expressway-C (MRA), and SIP registration there.
//! * [`tftp`]: a device's configuration file (`<device>.cnf.xml`) and the trust list.
//! * [`sso`]: single sign-on: the identity provider's login and its signed assertion.
//! * [`sip`]: SIP REGISTER with a bearer token and CallManager's answer (rsip), bounded.
//! * [`tls`]: real TLS (rustls) over turmoil TCP, seeded, on the nodes' own clocks.

pub mod authz;
pub mod axl;
pub mod edge;
pub mod http;
pub mod https;
pub mod keep_alive;
pub mod metered;
pub mod sip;
pub mod sso;
pub mod tftp;
pub mod tls;
